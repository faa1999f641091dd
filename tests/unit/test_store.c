/*
 * test_store: the SQLite alert store on real files in a temporary
 * directory — creation and mode, migrations applied once, idempotent
 * batched inserts, evidence rows, reopening, refusing newer or foreign
 * files, and error messages; schema v2: migration of a v1 file, engine
 * state and input position checkpoints inside transactions; schema v4: a
 * v3 store's retained access events survive the migration (which drops
 * the ts_ms index) and new ones are added beside them.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "store.h"

static char dir[] = "/tmp/custos-test-store-XXXXXX";

static const char *path_in(const char *name)
{
	static char p[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static char *tags[] = {"custos.insider"};

static struct rule test_rule(void)
{
	struct rule r;

	memset(&r, 0, sizeof(r));
	r.id = "r-1";
	r.title = "Bulk view";
	r.level = LEVEL_HIGH;
	r.tags = tags;
	r.n_tags = 1;
	return r;
}

/* An alert whose fields borrow literals: never alert_clear()ed. */
static struct alert test_alert(const struct rule *r, uint64_t line)
{
	static char *evidence[] = {"{\"n\":1}", "{\"n\":2}"};
	static struct alert_kv group[] = {{"agent", "a1"}};
	struct alert a;

	memset(&a, 0, sizeof(a));
	a.rule = r;
	a.ts_ms = 1746100800123LL;
	a.group = group;
	a.n_group = 1;
	a.value = 201;
	a.event_json = "{\"ts\":\"2025-05-01T12:00:00.123Z\",\"agent\":\"a1\","
		       "\"customer\":[\"c9\",\"c10\"]}";
	a.source_input = "replay";
	a.source_line = line;
	a.source_offset = 100 * line;
	a.evidence_json = evidence;
	a.n_evidence = 2;
	a.n_evidence_total = 201;
	alert_compute_id(&a);
	return a;
}

static int mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

/* Runs one query on the file with plain SQLite and returns column 0 as
 * text (static buffer), "" when no row. */
static const char *peek(const char *path, const char *sql)
{
	static char out[512];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	out[0] = '\0';
	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, sizeof(out), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

static void test_create_insert_reopen(void)
{
	const char *p = path_in("alerts.db");
	char err[512];
	struct rule r = test_rule();
	struct alert a = test_alert(&r, 7), b = test_alert(&r, 8);

	mode_t old = umask(077); /* the mode must not depend on it */
	struct store *s = store_open(p, err, sizeof(err));
	umask(old);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_STR(err, "");
	CHECK_INT(mode_of(p), 0640);
	CHECK_INT(store_schema_version(s), 0);
	CHECK_INT(store_n_migrated(s), STORE_SCHEMA_VERSION);
	CHECK_INT(store_count_alerts(s), 0);

	CHECK_INT(store_begin(s), 0);
	CHECK_INT(store_add_alert(s, &a, 1000), 1);
	CHECK_INT(store_add_alert(s, &a, 2000), 0); /* same id */
	CHECK_INT(store_add_alert(s, &b, 2000), 1);
	CHECK_INT(store_commit(s), 0);
	CHECK_INT(store_count_alerts(s), 2);
	/* WAL files exist while open and share the store's mode */
	CHECK_INT(mode_of(path_in("alerts.db-wal")), 0640);

	/* a rolled-back batch leaves nothing */
	struct alert c = test_alert(&r, 9);
	CHECK_INT(store_begin(s), 0);
	CHECK_INT(store_add_alert(s, &c, 3000), 1);
	CHECK_INT(store_rollback(s), 0);
	CHECK_INT(store_count_alerts(s), 2);
	/* outside a transaction (autocommit) */
	CHECK_INT(store_add_alert(s, &c, 3000), 1);
	CHECK_INT(store_count_alerts(s), 3);
	store_close(s);

	/* the columns as written */
	char q[256];
	snprintf(q, sizeof(q),
		 "SELECT rule_id||'|'||level||'|'||level_num||'|'||ts||'|'||"
		 "group_json||'|'||value||'|'||tags_json||'|'||agent||'|'||"
		 "customer||'|'||status||'|'||created_ms||'|'||source_line "
		 "FROM alerts WHERE id='%s'",
		 a.id);
	CHECK_STR(peek(p, q), "r-1|high|3|2025-05-01T12:00:00.123Z|"
			      "{\"agent\":\"a1\"}|201.0|[\"custos.insider\"]|"
			      "a1|c9|open|1000|7");
	snprintf(q, sizeof(q),
		 "SELECT group_concat(seq||':'||event_json, ' ') FROM "
		 "(SELECT * FROM evidence WHERE alert_id='%s' ORDER BY seq)",
		 a.id);
	CHECK_STR(peek(p, q), "0:{\"n\":1} 1:{\"n\":2}");
	CHECK_STR(peek(p, "PRAGMA journal_mode"), "wal");

	/* reopen: nothing migrated again, data kept, duplicates still found */
	s = store_open(p, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(store_schema_version(s), STORE_SCHEMA_VERSION);
	CHECK_INT(store_n_migrated(s), 0);
	CHECK_INT(store_count_alerts(s), 3);
	CHECK_INT(store_add_alert(s, &b, 4000), 0);
	CHECK_INT(store_count_alerts(s), 3);
	store_close(s);
	CHECK_STR(peek(p, "PRAGMA user_version"), "5");
	CHECK_STR(peek(p, "SELECT count(*) FROM evidence"), "6");
}

static void test_existing_mode_kept(void)
{
	const char *p = path_in("kept.db");
	char err[512];

	FILE *f = fopen(p, "w");
	CHECK(f != NULL);
	if (f != NULL)
		fclose(f);
	chmod(p, 0600);
	struct store *s = store_open(p, err, sizeof(err));
	CHECK(s != NULL);
	CHECK_INT(mode_of(p), 0600);
	CHECK_INT(store_n_migrated(s), STORE_SCHEMA_VERSION);
	store_close(s);
}

static void set_user_version(const char *p, const char *sql)
{
	sqlite3 *db = NULL;

	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

static void test_refusals(void)
{
	char err[512];
	const char *p;

	/* a store from a newer custos */
	p = path_in("future.db");
	struct store *s = store_open(p, err, sizeof(err));
	store_close(s);
	set_user_version(p, "PRAGMA user_version = 99");
	s = store_open(p, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "schema version 99 is newer") != NULL);
	CHECK(strstr(err, p) != NULL);
	store_close(s);

	/* some other application's SQLite file */
	p = path_in("other.db");
	set_user_version(p, "CREATE TABLE t(x)");
	s = store_open(p, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "not a custos store") != NULL);
	set_user_version(p, "PRAGMA application_id = 42");
	store_close(store_open(p, err, sizeof(err)));
	CHECK(strstr(err, "application_id 42") != NULL);

	/* not SQLite at all */
	p = path_in("text.db");
	FILE *f = fopen(p, "w");
	if (f != NULL) {
		fputs("this is not a database, just some words in a file\n", f);
		fclose(f);
	}
	s = store_open(p, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "not a database") != NULL);

	/* the parent directory is not created */
	p = path_in("missing/alerts.db");
	s = store_open(p, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "cannot create store") != NULL);
	CHECK(strstr(err, "missing/alerts.db") != NULL);
	CHECK(strstr(err, "No such file or directory") != NULL);
}

static void test_bad_alert(void)
{
	char err[512];
	struct rule r = test_rule();
	struct alert a = test_alert(&r, 1);
	struct store *s = store_open(":memory:", err, sizeof(err));

	CHECK(s != NULL);
	if (s == NULL)
		return;
	a.id[0] = '\0';
	CHECK_INT(store_add_alert(s, &a, 1), -1);
	CHECK(strstr(store_errmsg(s), "no id") != NULL);
	/* no rule at all: level defaults to medium, rule_id NULL */
	a = test_alert(NULL, 2);
	CHECK_INT(store_add_alert(s, &a, 1), 1);
	CHECK_INT(store_count_alerts(s), 1);
	/* commit without begin is an error with a message */
	CHECK_INT(store_commit(s), -1);
	CHECK(strstr(store_errmsg(s), "no transaction") != NULL);
	store_close(s);
	store_close(NULL);
}

/* The v1 schema as shipped, written by hand so the test does not depend
 * on the code under test. */
static const char v1_sql[] =
    "PRAGMA application_id = 1668641652;"
    "CREATE TABLE alerts (id TEXT PRIMARY KEY NOT NULL, rule_id TEXT,"
    " rule_title TEXT, level TEXT NOT NULL, level_num INTEGER NOT NULL,"
    " ts_ms INTEGER NOT NULL, ts TEXT NOT NULL, group_json TEXT NOT NULL,"
    " value REAL, event_json TEXT, source_input TEXT, source_path TEXT,"
    " source_line INTEGER, source_offset INTEGER, tags_json TEXT NOT NULL,"
    " evidence_count INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
    " agent TEXT, customer TEXT, status TEXT NOT NULL DEFAULT 'open');"
    "CREATE TABLE evidence (alert_id TEXT NOT NULL REFERENCES alerts(id)"
    " ON DELETE CASCADE, seq INTEGER NOT NULL, event_json TEXT NOT NULL,"
    " PRIMARY KEY (alert_id, seq));"
    "INSERT INTO alerts (id, level, level_num, ts_ms, ts, group_json,"
    " tags_json, evidence_count, created_ms) VALUES ('0123', 'high', 3,"
    " 1000, '1970-01-01T00:00:01.000Z', '{}', '[]', 0, 5);"
    "PRAGMA user_version = 1;";

static void test_migrate_v1(void)
{
	const char *p = path_in("v1.db");
	char err[512];

	set_user_version(p, v1_sql);
	struct store *s = store_open(p, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(store_schema_version(s), 1);
	CHECK_INT(store_n_migrated(s), 4);
	CHECK_INT(store_count_alerts(s), 1);
	store_close(s);
	CHECK_STR(peek(p, "PRAGMA user_version"), "5");
	CHECK_STR(peek(p, "SELECT count(*) FROM sqlite_master WHERE name IN"
			  " ('engine_state', 'input_position')"),
		  "2");
	CHECK_STR(peek(p, "SELECT id FROM alerts"), "0123");
	CHECK_STR(peek(p, "SELECT chain_seq FROM alerts"), "1"); /* adopted */
	s = store_open(p, err, sizeof(err));
	CHECK(s != NULL && store_n_migrated(s) == 0);
	store_close(s);
}

/* A v3 store: the v4 schema plus the ts_ms index, user_version 3, with
 * retained events as a v3 custosd wrote them. */
static const char v3_events_sql[] =
    "DROP TABLE access_events_pending;"
    "CREATE INDEX access_events_ts ON access_events(ts_ms);"
    "INSERT INTO access_events (ts_ms, agent, customer, action, object,"
    " ticket, team, source) VALUES"
    " (3000, 'a1', 'c1', 'view', 'profile', NULL, 't1', 'in:/f:3'),"
    " (1000, 'a2', 'c1', 'view', 'balance', 'T1', 't2', 'in:/f:1'),"
    " (2000, 'a1', NULL, 'search', NULL, NULL, 't1', 'in:/f:2');"
    "PRAGMA user_version = 3;";

/* One retained event of agent/customer at ts_ms from line of input:path. */
static int add_event(struct store *s, int64_t ts_ms, const char *agent,
		     const char *customer, const char *input, const char *path,
		     uint64_t line)
{
	struct event_field f[2] = {
	    {.value = agent, .value_len = (uint32_t)strlen(agent)},
	    {.value = customer, .value_len = (uint32_t)strlen(customer)}};
	int32_t slot[N_CANONICAL_FIELDS];
	struct event ev = {
	    .ts_ms = ts_ms,
	    .fields = f,
	    .n_fields = 2,
	    .slot = slot,
	    .n_slots = N_CANONICAL_FIELDS,
	    .source = {.input = input, .path = path, .line = line}};

	for (size_t i = 0; i < N_CANONICAL_FIELDS; i++)
		slot[i] = -1;
	slot[FIELD_AGENT] = 0;
	slot[FIELD_CUSTOMER] = 1;
	f[0].kind = f[1].kind = VALUE_STRING;
	return store_add_access_event(s, &ev);
}

static void test_migrate_v3_events(void)
{
	const char *p = path_in("v3.db");
	char err[512];
	struct store *s = store_open(p, err, sizeof(err));

	CHECK(s != NULL);
	store_close(s);
	set_user_version(p, v3_events_sql);
	CHECK_STR(peek(p, "SELECT count(*) FROM sqlite_master WHERE name ="
			  " 'access_events_ts'"),
		  "1");
	s = store_open(p, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(store_schema_version(s), 3);
	CHECK_INT(store_n_migrated(s), 2);
	CHECK_INT(store_begin(s), 0);
	CHECK_INT(add_event(s, 4000, "a3", "c1", "tail", "/var/log/x", 12345),
		  0);
	CHECK_INT(add_event(s, 500, "a1", "c2", NULL, NULL, 0), 0);
	CHECK_INT(store_commit(s), 0);
	store_close(s);
	CHECK_STR(peek(p, "PRAGMA user_version"), "5");
	CHECK_STR(peek(p, "SELECT group_concat(name) FROM (SELECT name FROM"
			  " sqlite_master WHERE type = 'index' AND tbl_name ="
			  " 'access_events' ORDER BY name)"),
		  "access_events_agent,access_events_customer");
	/* the customer view's and the agent timeline's lookups, old rows and
	 * new together */
	CHECK_STR(
	    peek(p, "SELECT group_concat(ts_ms || ' ' || agent || ' ' ||"
		    " source, ', ') FROM (SELECT * FROM access_events"
		    " WHERE customer = 'c1' ORDER BY ts_ms, id)"),
	    "1000 a2 in:/f:1, 3000 a1 in:/f:3, 4000 a3 tail:/var/log/x:12345");
	CHECK_STR(peek(p, "SELECT group_concat(ts_ms || ' ' || ifnull(customer,"
			  " '-') || ' ' || source, ', ') FROM (SELECT * FROM"
			  " access_events WHERE agent = 'a1' ORDER BY ts_ms,"
			  " id)"),
		  "500 c2 ::0, 2000 - in:/f:2, 3000 c1 in:/f:3");
	CHECK_STR(peek(p, "SELECT count(*) FROM access_events WHERE ts_ms <"
			  " 2500"),
		  "3");
	/* keeping the newest 3 by (ts_ms, id) removes the two oldest */
	struct store_purge pu = {
	    .cutoff_ms = 0, .now_ms = 9000, .max_events = 3, .user = "t"};
	struct store_purge_counts pc;
	s = store_open(p, err, sizeof(err));
	CHECK(s != NULL && store_n_migrated(s) == 0);
	if (s == NULL)
		return;
	CHECK_INT(store_purge(s, &pu, &pc), 0);
	CHECK_INT(pc.n_events, 2);
	pu.max_events = 5; /* fewer than that: nothing to remove */
	CHECK_INT(store_purge(s, &pu, &pc), 0);
	CHECK_INT(pc.n_events, 0);
	store_close(s);
	CHECK_STR(peek(p, "SELECT group_concat(ts_ms) FROM (SELECT ts_ms FROM"
			  " access_events ORDER BY ts_ms)"),
		  "2000,3000,4000");
}

/* Events i of test_add_events: agent a<i%5>, customer c<i> except every
 * 4th (none), from line i+1 of in:/f at ts 1000+i. */
struct ev_fixture {
	char agent[8], customer[8];
	struct event_field f[2];
	int32_t slot[N_CANONICAL_FIELDS];
	struct event ev;
};

static void fixture(struct ev_fixture *x, size_t i)
{
	snprintf(x->agent, sizeof(x->agent), "a%zu", i % 5);
	snprintf(x->customer, sizeof(x->customer), "c%zu", i);
	x->f[0] = (struct event_field){.value = x->agent,
				       .value_len = (uint32_t)strlen(x->agent),
				       .kind = VALUE_STRING};
	x->f[1] = (struct event_field){
	    .value = x->customer,
	    .value_len = i % 4 ? (uint32_t)strlen(x->customer) : 0,
	    .kind = VALUE_STRING};
	for (size_t k = 0; k < N_CANONICAL_FIELDS; k++)
		x->slot[k] = -1;
	x->slot[FIELD_AGENT] = 0;
	x->slot[FIELD_CUSTOMER] = 1;
	x->ev = (struct event){
	    .ts_ms = 1000 + (int64_t)i,
	    .fields = x->f,
	    .n_fields = 2,
	    .slot = x->slot,
	    .n_slots = N_CANONICAL_FIELDS,
	    .source = {.input = "in", .path = "/f", .line = i + 1}};
}

/* Many rows per INSERT: the same rows as one at a time, in order, with a
 * remainder smaller than a statement. */
static void test_add_events(void)
{
	enum { N = 2 * STORE_EVENTS_PER_INSERT + 5 };
	_Static_assert(N == 37, "the queries below name rows 1..37");
	static struct ev_fixture x[N];
	const struct event *ev[N];
	const char *p = path_in("batch.db");
	char err[512], want[64];
	struct store *s = store_open(p, err, sizeof(err));

	CHECK(s != NULL);
	if (s == NULL)
		return;
	for (size_t i = 0; i < N; i++) {
		fixture(&x[i], i);
		ev[i] = &x[i].ev;
	}
	CHECK_INT(store_begin(s), 0);
	CHECK_INT(store_add_access_events(s, ev, N), 0);
	for (size_t i = 0; i < N; i++)
		CHECK_INT(store_add_access_event(s, ev[i]), 0);
	CHECK_INT(store_add_access_events(s, ev, 0), 0);
	CHECK_INT(store_commit(s), 0);
	store_close(s);
	snprintf(want, sizeof(want), "%d", 2 * N);
	CHECK_STR(peek(p, "SELECT count(*) FROM access_events"), want);
	snprintf(want, sizeof(want), "%d", N);
	CHECK_STR(peek(p, "SELECT count(*) FROM access_events a JOIN"
			  " access_events b ON b.id = a.id + 37 WHERE"
			  " a.ts_ms = b.ts_ms AND a.agent IS b.agent AND"
			  " a.customer IS b.customer AND a.action IS b.action"
			  " AND a.source = b.source"),
		  want);
	CHECK_STR(peek(p, "SELECT group_concat(ts_ms || ' ' || agent || ' ' ||"
			  " ifnull(customer, '-') || ' ' || source, ', ') FROM"
			  " (SELECT * FROM access_events WHERE id IN (1, 16,"
			  " 17, 37) ORDER BY id)"),
		  "1000 a0 - in:/f:1, 1015 a0 c15 in:/f:16, "
		  "1016 a1 - in:/f:17, 1036 a1 - in:/f:37");
}

/* A v4 store with retained events becomes v5 (the table of unfinished
 * chunks added, rows kept); rows of a chunk marked and never cleared are
 * undone, those of cleared chunks and earlier rows stay. */
static void test_migrate_v4_pending(void)
{
	static struct ev_fixture x[40];
	const struct event *ev[40];
	const char *p = path_in("v4.db");
	char err[512];
	uint64_t n_undone = 9;
	struct store *s = store_open(p, err, sizeof(err));

	CHECK(s != NULL);
	store_close(s);
	set_user_version(p, "DROP TABLE access_events_pending;"
			    "INSERT INTO access_events (ts_ms, agent, source)"
			    " VALUES (1, 'old', 'in:/f:1');"
			    "PRAGMA user_version = 4;");
	s = store_open(p, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(store_schema_version(s), 4);
	CHECK_INT(store_n_migrated(s), 1);
	for (size_t i = 0; i < 40; i++) {
		fixture(&x[i], i);
		ev[i] = &x[i].ev;
	}
	/* a checkpoint: two chunks, then its last transaction clears */
	for (int k = 0; k < 2; k++) {
		CHECK_INT(store_begin(s), 0);
		CHECK_INT(store_events_pending_begin_chunk(s), 0);
		CHECK_INT(store_add_access_events(s, ev + 10 * k, 10), 0);
		CHECK_INT(store_events_pending_mark(s), 0);
		CHECK_INT(store_commit(s), 0);
	}
	CHECK_STR(peek(p, "SELECT group_concat(first_id || '-' || last_id)"
			  " FROM access_events_pending"),
		  "2-11,12-21");
	CHECK_INT(store_begin(s), 0);
	CHECK_INT(store_events_pending_clear(s), 0);
	CHECK_INT(store_commit(s), 0);
	/* the next one writes a chunk and stops (a crash) */
	CHECK_INT(store_begin(s), 0);
	CHECK_INT(store_events_pending_begin_chunk(s), 0);
	CHECK_INT(store_add_access_events(s, ev + 20, 20), 0);
	CHECK_INT(store_events_pending_mark(s), 0);
	CHECK_INT(store_commit(s), 0);
	CHECK_STR(peek(p, "SELECT count(*) FROM access_events"), "41");
	CHECK_INT(store_begin(s), 0);
	CHECK_INT(store_events_pending_undo(s, &n_undone), 0);
	CHECK_INT(store_commit(s), 0);
	CHECK_INT(n_undone, 20);
	store_close(s);
	CHECK_STR(peek(p, "PRAGMA user_version"), "5");
	CHECK_STR(peek(p, "SELECT count(*) || ' ' || min(ts_ms) || ' ' ||"
			  " max(ts_ms) FROM access_events"),
		  "21 1 1019");
	CHECK_STR(peek(p, "SELECT count(*) FROM access_events_pending"), "0");
}

struct seen {
	char rows[8][64];
	int n;
	int stop_after;
};

static int on_row(void *arg, const char *rk, const void *gk, size_t gl,
		  const void *blob, size_t bl)
{
	struct seen *z = arg;

	if (z->n < 8)
		snprintf(z->rows[z->n], 64, "%s|%.*s|%.*s", rk, (int)gl,
			 (const char *)gk, (int)bl, (const char *)blob);
	z->n++;
	return z->n == z->stop_after ? 1 : 0;
}

static void test_state_rows(void)
{
	char err[512];
	struct store *s = store_open(path_in("ck.db"), err, sizeof(err));
	struct seen z = {.n = 0};

	CHECK(s != NULL);
	if (s == NULL)
		return;
	/* writes need the caller's transaction */
	CHECK_INT(store_state_put(s, "r:1", "k", 1, "b", 1), -1);
	CHECK(strstr(store_errmsg(s), "outside a transaction") != NULL);
	CHECK_INT(store_position_put(s, "in", "x", 1), -1);
	CHECK_INT(store_begin(s), 0);
	CHECK_INT(store_state_put(s, "r:1", "k2", 2, "old", 3), 0);
	CHECK_INT(store_state_put(s, "r:1", "k2", 2, "new", 3), 0);
	CHECK_INT(store_state_put(s, "r:1", "k1", 2, "one", 3), 0);
	CHECK_INT(store_state_put(s, "r:2", "k1", 2, "two", 3), 0);
	CHECK_INT(store_state_put(s, "", "", 0, "sc", 2), 0);
	CHECK_INT(store_position_put(s, "tail", "off=10", 6), 0);
	CHECK_INT(store_commit(s), 0);
	/* a rolled-back transaction leaves nothing */
	CHECK_INT(store_begin(s), 0);
	CHECK_INT(store_state_put(s, "r:3", "x", 1, "gone", 4), 0);
	CHECK_INT(store_position_put(s, "tail", "off=99", 6), 0);
	CHECK_INT(store_rollback(s), 0);
	CHECK_INT(store_state_load(s, on_row, &z), 0);
	CHECK_INT(z.n, 4);
	CHECK_STR(z.rows[0], "||sc");
	CHECK_STR(z.rows[1], "r:1|k1|one");
	CHECK_STR(z.rows[2], "r:1|k2|new");
	CHECK_STR(z.rows[3], "r:2|k1|two");
	z = (struct seen){.n = 0, .stop_after = 2};
	CHECK_INT(store_state_load(s, on_row, &z), 0);
	CHECK_INT(z.n, 2);
	void *blob = NULL;
	size_t len = 0;
	CHECK_INT(store_position_get(s, "tail", &blob, &len), 1);
	CHECK(len == 6 && memcmp(blob, "off=10", 6) == 0);
	free(blob);
	CHECK_INT(store_position_get(s, "none", &blob, &len), 0);
	CHECK(blob == NULL && len == 0);
	/* delete one group, drop a rule */
	CHECK_INT(store_begin(s), 0);
	CHECK_INT(store_state_put(s, "r:1", "k2", 2, NULL, 0), 0);
	CHECK_INT(store_state_drop_rule(s, "r:2"), 0);
	CHECK_INT(store_commit(s), 0);
	z = (struct seen){.n = 0};
	CHECK_INT(store_state_load(s, on_row, &z), 0);
	CHECK_INT(z.n, 2);
	CHECK_STR(z.rows[1], "r:1|k1|one");
	store_close(s);
}

static void cleanup(void)
{
	static const char *names[] = {
	    "alerts.db",     "alerts.db-wal", "alerts.db-shm", "kept.db",
	    "kept.db-wal",   "kept.db-shm",   "future.db",     "future.db-wal",
	    "future.db-shm", "other.db",      "text.db",       "v1.db",
	    "v1.db-wal",     "v1.db-shm",     "ck.db",	       "ck.db-wal",
	    "ck.db-shm",     "v3.db",	      "v3.db-wal",     "v3.db-shm",
	    "batch.db",	     "batch.db-wal",  "batch.db-shm",  "v4.db",
	    "v4.db-wal",     "v4.db-shm",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(path_in(names[i]));
	CHECK_INT(rmdir(dir), 0);
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_create_insert_reopen();
	test_existing_mode_kept();
	test_refusals();
	test_bad_alert();
	test_migrate_v1();
	test_migrate_v3_events();
	test_add_events();
	test_migrate_v4_pending();
	test_state_rows();
	cleanup();
	return check_done();
}
