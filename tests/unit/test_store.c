/*
 * test_store: the SQLite alert store on real files in a temporary
 * directory — creation and mode, migrations applied once, idempotent
 * batched inserts, evidence rows, reopening, refusing newer or foreign
 * files, and error messages.
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
	CHECK_INT(store_n_migrated(s), 1);
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
	CHECK_STR(peek(p, "PRAGMA user_version"), "1");
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
	CHECK_INT(store_n_migrated(s), 1);
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

static void cleanup(void)
{
	static const char *names[] = {
	    "alerts.db",     "alerts.db-wal", "alerts.db-shm", "kept.db",
	    "kept.db-wal",   "kept.db-shm",   "future.db",     "future.db-wal",
	    "future.db-shm", "other.db",      "text.db",
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
	cleanup();
	return check_done();
}
