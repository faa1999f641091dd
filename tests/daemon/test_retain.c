/*
 * retain: copies of access events outlive the event, are written to the
 * store inside the caller's transaction, forgotten only once committed,
 * and bounded.
 */
#include "check.h"
#include "retain.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* An event with agent and customer set (others absent). */
static void make_event(struct event *ev, struct event_field *f, int32_t *slot,
		       const char *agent, const char *customer, int64_t ts)
{
	memset(ev, 0, sizeof(*ev));
	for (int i = 0; i < N_CANONICAL_FIELDS; i++)
		slot[i] = -1;
	f[0] = (struct event_field){
	    "agent",	  agent,       (uint32_t)strlen(agent),
	    VALUE_STRING, FIELD_AGENT, -1};
	f[1] = (struct event_field){
	    "customer",	  customer,	  (uint32_t)strlen(customer),
	    VALUE_STRING, FIELD_CUSTOMER, -1};
	slot[FIELD_AGENT] = 0;
	slot[FIELD_CUSTOMER] = 1;
	*ev = (struct event){.ts_ms = ts,
			     .fields = f,
			     .n_fields = 2,
			     .slot = slot,
			     .n_slots = N_CANONICAL_FIELDS,
			     .source = {"crm", "/x.json", 7, 0}};
}

static int64_t count(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	sqlite3_prepare_v2(store_sqlite(s), sql, -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_write_commit(void)
{
	char err[256], agent[8] = "a1", cust[8] = "c-9";
	struct store *s = store_open(":memory:", err, sizeof(err));
	struct retain *r = retain_new();
	struct event_field f[2];
	int32_t slot[N_CANONICAL_FIELDS];
	struct event ev;
	struct retain_stats st;

	CHECK(s != NULL && r != NULL);
	make_event(&ev, f, slot, agent, cust, 1000);
	CHECK_INT(retain_add(r, &ev), 0);
	strcpy(agent, "zz"); /* the copy must not see the event's buffer */
	strcpy(cust, "zz");
	CHECK_INT(store_begin(s), 0);
	CHECK_INT(retain_write(r, s), 0);
	CHECK_INT(store_rollback(s), 0);
	retain_stats(r, &st);
	CHECK_INT(st.n_waiting, 1); /* not committed: kept */
	CHECK_INT(store_begin(s), 0);
	CHECK_INT(retain_write(r, s), 0);
	CHECK_INT(store_commit(s), 0);
	retain_committed(r);
	retain_stats(r, &st);
	CHECK_INT(st.n_waiting, 0);
	CHECK_INT(st.n_written, 1);
	CHECK_INT(count(s, "SELECT count(*) FROM access_events WHERE agent ="
			   " 'a1' AND customer = 'c-9' AND ts_ms = 1000 AND"
			   " source = 'crm:/x.json:7' AND ticket IS NULL"),
		  1);
	CHECK_INT(count(s, "SELECT count(*) FROM access_events"), 1);
	retain_free(r);
	store_close(s);
}

static void test_bound(void)
{
	struct retain *r = retain_new();
	struct event_field f[2];
	int32_t slot[N_CANONICAL_FIELDS];
	struct event ev;
	struct retain_stats st;

	make_event(&ev, f, slot, "a", "c", 1);
	for (int i = 0; i < RETAIN_MAX_EVENTS; i++)
		retain_add(r, &ev);
	CHECK(retain_need_flush(r));
	CHECK_INT(retain_add(r, &ev), -1);
	retain_stats(r, &st);
	CHECK_INT(st.n_dropped, 1);
	CHECK_INT(st.n_waiting, RETAIN_MAX_EVENTS);
	retain_free(r);
	retain_free(NULL);
}

/* Sources are interned per checkpoint: each copy keeps its own file and
 * line, the table of distinct sources is bounded, and forgotten at commit. */
static void test_sources(void)
{
	char err[256], path[32];
	struct store *s = store_open(":memory:", err, sizeof(err));
	struct retain *r = retain_new();
	struct event_field f[2];
	int32_t slot[N_CANONICAL_FIELDS];
	struct event ev;
	struct retain_stats st;

	CHECK(s != NULL && r != NULL);
	make_event(&ev, f, slot, "a", "c", 5);
	for (int i = 0; i < RETAIN_MAX_SOURCES; i++) {
		snprintf(path, sizeof(path), "/f%d", i);
		ev.source.path = path;
		ev.source.line = (uint64_t)i + 1;
		CHECK_INT(retain_add(r, &ev), 0);
	}
	ev.source.path = "/one-too-many";
	CHECK_INT(retain_add(r, &ev), -1);
	ev.source.path = "/f3"; /* known: still taken */
	ev.source.line = 99;
	CHECK_INT(retain_add(r, &ev), 0);
	ev.source = (struct event_source){0};
	CHECK_INT(retain_add(r, &ev), 0); /* no source at all */
	CHECK_INT(store_begin(s), 0);
	CHECK_INT(retain_write(r, s), 0);
	CHECK_INT(store_commit(s), 0);
	retain_committed(r);
	retain_stats(r, &st);
	CHECK_INT(st.n_dropped, 1);
	CHECK_INT(st.n_written, RETAIN_MAX_SOURCES + 2);
	CHECK_INT(count(s, "SELECT count(*) FROM access_events WHERE source ="
			   " 'crm:/f7:8'"),
		  1);
	CHECK_INT(count(s, "SELECT count(*) FROM access_events WHERE source ="
			   " 'crm:/f3:99'"),
		  1);
	CHECK_INT(count(s, "SELECT count(*) FROM access_events WHERE source ="
			   " '::0'"),
		  1);
	/* the table was forgotten: a new source fits again */
	ev.source = (struct event_source){"crm", "/one-too-many", 1, 0};
	CHECK_INT(retain_add(r, &ev), 0);
	retain_free(r);
	store_close(s);
}

int main(void)
{
	test_write_commit();
	test_bound();
	test_sources();
	return check_done();
}
