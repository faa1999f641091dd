/*
 * store_schema: the store's schema as an ordered table of migrations, and
 * applying them at store_open() (store_int_migrate).
 *
 * Each step is (version, SQL).  store_open() applies each step whose
 * version is above the file's user_version, in its own BEGIN IMMEDIATE
 * transaction that re-reads the version first (so two processes opening a
 * new store at once apply each step exactly once), and sets user_version
 * in the same transaction.  To change the schema, append a step; never
 * edit a shipped one.  Files that are SQLite but not a custos store, or of
 * a newer schema, are refused.  No clock, no state of its own.
 */
#include "store_int.h"

#include <stdio.h>

#include "chain.h"

struct migration {
	int version;
	const char *sql;
};

/* Version 1: see store.h for the meaning of every column. */
static const char schema_v1[] =
    "PRAGMA application_id = 1668641652;"
    "CREATE TABLE alerts ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " rule_id TEXT,"
    " rule_title TEXT,"
    " level TEXT NOT NULL,"
    " level_num INTEGER NOT NULL,"
    " ts_ms INTEGER NOT NULL,"
    " ts TEXT NOT NULL,"
    " group_json TEXT NOT NULL,"
    " value REAL,"
    " event_json TEXT,"
    " source_input TEXT,"
    " source_path TEXT,"
    " source_line INTEGER,"
    " source_offset INTEGER,"
    " tags_json TEXT NOT NULL,"
    " evidence_count INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " agent TEXT,"
    " customer TEXT,"
    " status TEXT NOT NULL DEFAULT 'open');"
    "CREATE INDEX alerts_ts ON alerts(ts_ms);"
    "CREATE INDEX alerts_rule ON alerts(rule_id, ts_ms);"
    "CREATE INDEX alerts_agent ON alerts(agent, ts_ms);"
    "CREATE INDEX alerts_level ON alerts(level_num, ts_ms);"
    "CREATE INDEX alerts_status ON alerts(status, ts_ms);"
    "CREATE TABLE evidence ("
    " alert_id TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL,"
    " event_json TEXT NOT NULL,"
    " PRIMARY KEY (alert_id, seq));";

/* Version 2: daemon checkpoints (see store.h). */
static const char schema_v2[] =
    "CREATE TABLE engine_state ("
    " rule_key TEXT NOT NULL,"
    " group_key BLOB NOT NULL,"
    " blob BLOB NOT NULL,"
    " PRIMARY KEY (rule_key, group_key)) WITHOUT ROWID;"
    "CREATE TABLE input_position ("
    " input TEXT PRIMARY KEY NOT NULL,"
    " blob BLOB NOT NULL);";

/* Version 3: triage, suppressions, retained access events, the hash chain
 * (chain.h), seals and purges (see store.h). */
static const char schema_v3[] =
    "ALTER TABLE alerts ADD COLUMN assignee TEXT;"
    "ALTER TABLE alerts ADD COLUMN chain_seq INTEGER;"
    "ALTER TABLE alerts ADD COLUMN chain TEXT;"
    "CREATE TABLE triage ("
    " id INTEGER PRIMARY KEY,"
    " alert_id TEXT NOT NULL,"
    " ts_ms INTEGER NOT NULL,"
    " user TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " value TEXT,"
    " note TEXT,"
    " chain_seq INTEGER,"
    " chain TEXT);"
    "CREATE INDEX triage_alert ON triage(alert_id, id);"
    "CREATE TABLE suppressions ("
    " id INTEGER PRIMARY KEY,"
    " rule_id TEXT NOT NULL,"
    " agent TEXT NOT NULL,"
    " from_ms INTEGER NOT NULL,"
    " until_ms INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " user TEXT NOT NULL,"
    " alert_id TEXT,"
    " note TEXT);"
    "CREATE INDEX suppressions_key ON suppressions(rule_id, agent, until_ms);"
    "CREATE TABLE access_events ("
    " id INTEGER PRIMARY KEY,"
    " ts_ms INTEGER NOT NULL,"
    " agent TEXT,"
    " customer TEXT,"
    " action TEXT,"
    " object TEXT,"
    " ticket TEXT,"
    " team TEXT,"
    " source TEXT);"
    "CREATE INDEX access_events_ts ON access_events(ts_ms);"
    "CREATE INDEX access_events_agent ON access_events(agent, ts_ms);"
    "CREATE INDEX access_events_customer ON access_events(customer, ts_ms);"
    "CREATE TABLE chain_head ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " seq INTEGER NOT NULL,"
    " chain TEXT NOT NULL);"
    "INSERT INTO chain_head VALUES (1, 0, "
    "'0000000000000000000000000000000000000000000000000000000000000000');"
    "CREATE TABLE chain_purged ("
    " seq INTEGER PRIMARY KEY,"
    " kind TEXT NOT NULL,"
    " ref TEXT NOT NULL,"
    " row_hash TEXT NOT NULL,"
    " chain TEXT NOT NULL,"
    " purge_seq INTEGER NOT NULL);"
    "CREATE TABLE purges ("
    " id INTEGER PRIMARY KEY,"
    " ts_ms INTEGER NOT NULL,"
    " cutoff_ms INTEGER NOT NULL,"
    " user TEXT NOT NULL,"
    " n_alerts INTEGER NOT NULL,"
    " n_triage INTEGER NOT NULL,"
    " n_events INTEGER NOT NULL,"
    " list_hash TEXT NOT NULL,"
    " chain_seq INTEGER,"
    " chain TEXT);"
    "CREATE TABLE seals ("
    " id INTEGER PRIMARY KEY,"
    " ts_ms INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " head TEXT NOT NULL);";

/* Version 4: access_events loses its ts_ms index.  Every retained event
 * paid an insert into it (~10% of the row's SQLite instructions), and only
 * a purge and the report's team median used it alone; those now scan the
 * table (once per purge, not once per event).  The agent and customer
 * indexes, which the CLI's lookups use, stay. */
static const char schema_v4[] = "DROP INDEX IF EXISTS access_events_ts;";

/* Version 5: the checkpoint writes retained events in chunks of their own
 * transactions ahead of the one that commits the input positions (so that
 * alerts-only commits can run between chunks).  Each chunk records the
 * rowid range it added here, and the checkpoint's last transaction
 * deletes the records: a range still recorded belongs to a checkpoint
 * that never completed (a crash, a failure), whose events will be read
 * and retained again, so its rows are deleted (store_events_pending_undo)
 * before the next checkpoint writes. */
static const char schema_v5[] = "CREATE TABLE access_events_pending ("
				" first_id INTEGER NOT NULL,"
				" last_id INTEGER NOT NULL);";

static const struct migration migrations[] = {
    {1, schema_v1}, {2, schema_v2}, {3, schema_v3},
    {4, schema_v4}, {5, schema_v5},
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

_Static_assert(STORE_APPLICATION_ID == 1668641652, "application_id in SQL");

/* Refuses files that are SQLite but not (or not yet understood as) a
 * custos store. */
static int check_identity(struct store *s, int64_t version)
{
	int64_t app_id = 0, n_tables = 0;

	if (store_int_query_int(s, "PRAGMA application_id", &app_id) < 0 ||
	    store_int_query_int(s, "SELECT count(*) FROM sqlite_master",
				&n_tables) < 0)
		return -1;
	if (app_id != 0 && app_id != STORE_APPLICATION_ID) {
		snprintf(s->err, sizeof(s->err),
			 "store %s: not a custos store (application_id %lld)",
			 s->path, (long long)app_id);
		return -1;
	}
	if (version == 0 && n_tables > 0) {
		snprintf(s->err, sizeof(s->err),
			 "store %s: not a custos store (tables but no schema "
			 "version)",
			 s->path);
		return -1;
	}
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(s->err, sizeof(s->err),
			 "store %s: schema version %lld is newer than this "
			 "custos supports (%d); upgrade custos",
			 s->path, (long long)version, STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

/* Applies one step if the store (read under the write lock) needs it. */
static int apply_step(struct store *s, const struct migration *m)
{
	char sql[64];
	int64_t version = 0;

	if (store_int_exec(s, "BEGIN IMMEDIATE", "begin migration") < 0)
		return -1;
	if (store_int_query_int(s, "PRAGMA user_version", &version) < 0)
		goto fail;
	if (version >= m->version)
		return store_int_exec(s, "COMMIT", "commit migration");
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", m->version);
	if (store_int_exec(s, m->sql, "migration") < 0 ||
	    store_int_exec(s, sql, "set schema version") < 0 ||
	    store_int_exec(s, "COMMIT", "commit migration") < 0)
		goto fail;
	s->n_migrated++;
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Chains the alerts of a store written before schema v3, once. */
static int adopt_legacy(struct store *s)
{
	if (store_int_exec(s, "BEGIN IMMEDIATE", "begin chain adoption") < 0)
		return -1;
	if (chain_adopt(s->db, s->err, sizeof(s->err)) < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return store_int_exec(s, "COMMIT", "commit chain adoption");
}

int store_int_migrate(struct store *s)
{
	int64_t version = 0;

	if (store_int_query_int(s, "PRAGMA user_version", &version) < 0 ||
	    check_identity(s, version) < 0)
		return -1;
	s->found_version = (int)version;
	for (size_t i = 0; i < N_MIGRATIONS; i++)
		if (migrations[i].version > version &&
		    apply_step(s, &migrations[i]) < 0)
			return -1;
	if (version > 0 && version < 3)
		return adopt_legacy(s);
	return 0;
}
