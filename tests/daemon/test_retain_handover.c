/*
 * retain's hand-over to the checkpoint writer (retain_take/retain_done):
 * a failed commit puts the batch's copies back in front of the newer ones,
 * in order, with their sources; a committed one counts them written.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "retain.h"
#include "store.h"

/* Retains one event of agent `agent` at ts from (input, path). */
static void add(struct retain *r, const char *agent, int64_t ts,
		const char *path)
{
	struct event_field f = {.name = canonical_field_names[FIELD_AGENT],
				.value = agent,
				.value_len = strlen(agent),
				.kind = VALUE_STRING,
				.id = FIELD_AGENT,
				.next_same = -1};
	int32_t slot[N_CANONICAL_FIELDS];
	struct event ev = {.ts_ms = ts,
			   .fields = &f,
			   .n_fields = 1,
			   .slot = slot,
			   .n_slots = N_CANONICAL_FIELDS};

	for (size_t i = 0; i < N_CANONICAL_FIELDS; i++)
		slot[i] = -1;
	slot[FIELD_AGENT] = 0;
	ev.source.input = "crm";
	ev.source.path = path;
	ev.source.line = (uint64_t)ts;
	CHECK(retain_add(r, &ev) == 0);
}

/* The stored agents in insertion order, joined by ',' into buf. */
static void stored(struct store *s, char *buf, size_t size)
{
	sqlite3_stmt *st;
	size_t len = 0;

	buf[0] = '\0';
	CHECK(sqlite3_prepare_v2(store_sqlite(s),
				 "select agent, source from access_events "
				 "order by rowid",
				 -1, &st, NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && len < size)
		len += (size_t)snprintf(
		    buf + len, size - len, "%s%s@%s", len ? "," : "",
		    sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
}

int main(void)
{
	char err[256], got[512];
	struct store *s = store_open(":memory:", err, sizeof(err));
	struct retain *r = retain_new(), *batch = retain_new();
	struct retain_stats st;

	CHECK(s != NULL && r != NULL && batch != NULL);
	add(r, "a1", 1, "/x");
	add(r, "a2", 2, "/y");
	retain_take(r, batch); /* in flight: a1, a2 */
	retain_stats(r, &st);
	CHECK_INT(st.n_waiting, 0);
	add(r, "a3", 3, "/y"); /* retained meanwhile */
	add(r, "a4", 4, "/z");
	retain_done(r, batch, false); /* the commit failed */
	retain_stats(r, &st);
	CHECK_INT(st.n_waiting, 4);
	CHECK_INT(st.n_written, 0);
	CHECK_INT(st.n_dropped, 0);

	retain_take(r, batch); /* the next commit: all four, in order */
	add(r, "a5", 5, "/x");
	CHECK(store_begin(s) == 0);
	CHECK(retain_write(batch, s) == 0);
	CHECK(store_commit(s) == 0);
	retain_done(r, batch, true);
	retain_stats(r, &st);
	CHECK_INT(st.n_written, 4);
	CHECK_INT(st.n_waiting, 1);
	stored(s, got, sizeof(got));
	CHECK_STR(got, "a1@crm:/x:1,a2@crm:/y:2,a3@crm:/y:3,a4@crm:/z:4");

	retain_free(r);
	retain_free(batch);
	store_close(s);
	return check_done();
}
