/*
 * store: the SQLite alert store: opening, alerts and checkpoints (the
 * schema and its migrations are store_schema.c, the analyst side
 * store_soc.c, what they share store_int.h).  See store.h for the schema
 * and contracts.
 *
 * Inserts use `ON CONFLICT(id) DO NOTHING` rather than INSERT OR IGNORE:
 * only a repeated id is ignored, a NOT NULL or other constraint failure is
 * still an error.  All statements are prepared once in store_open().
 * The store never reads the clock.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain.h"
#include "jsonw.h"

#define STORE_JSON_MAX_BYTES ((size_t)1 << 20) /* group_json, tags_json */
#define STORE_CACHE_KIB "-65536"	       /* page cache: 64 MiB at most */

/* STORE_EVENTS_PER_INSERT rows of 8 parameters (?NNN numbered in order) */
#define EV1 "(?,?,?,?,?,?,?,?)"
#define EV4 EV1 "," EV1 "," EV1 "," EV1
#define EV16 EV4 "," EV4 "," EV4 "," EV4
_Static_assert(STORE_EVENTS_PER_INSERT == 16, "EV16");

static const char *const stmt_sql[N_STMTS] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT add_alert",
    [ST_RELEASE] = "RELEASE add_alert",
    [ST_ROLLBACK_TO] = "ROLLBACK TO add_alert",
    [ST_INSERT_ALERT] =
	("INSERT INTO alerts (id, rule_id, rule_title, level, level_num,"
	 " ts_ms, ts, group_json, value, event_json, source_input,"
	 " source_path, source_line, source_offset, tags_json,"
	 " evidence_count, created_ms, agent, customer)"
	 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
	 " ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
	 " ON CONFLICT(id) DO NOTHING"),
    [ST_INSERT_EVIDENCE] = ("INSERT INTO evidence (alert_id, seq, event_json)"
			    " VALUES (?1, ?2, ?3)"),
    [ST_COUNT] = "SELECT count(*) FROM alerts",
    [ST_STATE_PUT] = ("INSERT INTO engine_state (rule_key, group_key, blob)"
		      " VALUES (?1, ?2, ?3) ON CONFLICT(rule_key, group_key)"
		      " DO UPDATE SET blob = excluded.blob"),
    [ST_STATE_DEL] = ("DELETE FROM engine_state"
		      " WHERE rule_key = ?1 AND group_key = ?2"),
    [ST_STATE_LOAD] = ("SELECT rule_key, group_key, blob FROM engine_state"
		       " ORDER BY rule_key, group_key"),
    [ST_STATE_DROP] = "DELETE FROM engine_state WHERE rule_key = ?1",
    [ST_POS_PUT] = ("INSERT INTO input_position (input, blob)"
		    " VALUES (?1, ?2) ON CONFLICT(input)"
		    " DO UPDATE SET blob = excluded.blob"),
    [ST_POS_GET] = "SELECT blob FROM input_position WHERE input = ?1",
    [ST_ADD_EVENT] = ("INSERT INTO access_events (ts_ms, agent, customer,"
		      " action, object, ticket, team, source)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
    [ST_SUPPRESSED] = ("SELECT 1 FROM suppressions WHERE rule_id = ?1"
		       " AND agent = ?2 AND from_ms <= ?3 AND until_ms > ?3"
		       " LIMIT 1"),
    [ST_ADD_EVENTS] = ("INSERT INTO access_events (ts_ms, agent, customer,"
		       " action, object, ticket, team, source) VALUES " EV16),
};

static void set_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

int store_int_fail(struct store *s, const char *what)
{
	set_err(s->err, sizeof(s->err), "store %s: %s: %s", s->path, what,
		sqlite3_errmsg(s->db));
	return -1;
}

int store_int_run(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->stmt[id];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_int_fail(s, stmt_sql[id]);
	return 0;
}

int store_int_unwind(struct store *s)
{
	char saved[sizeof(s->err)]; /* the message of the first failure */

	memcpy(saved, s->err, sizeof(saved));
	store_int_run(s, ST_ROLLBACK_TO);
	store_int_run(s, ST_RELEASE);
	memcpy(s->err, saved, sizeof(saved));
	return -1;
}

/* ---- opening, schema ---- */

/* Creates the file with mode 0640 unless it exists; SQLite then opens it
 * (an empty file is an empty database). */
static int create_file(const char *path, char *err, size_t err_size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		      0640);

	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		set_err(err, err_size, "cannot create store %s: %s", path,
			strerror(errno));
		return -1;
	}
	/* the umask may have removed bits; the mode is exactly 0640 */
	if (fchmod(fd, 0640) < 0) {
		set_err(err, err_size, "cannot chmod store %s: %s", path,
			strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

int store_int_exec(struct store *s, const char *sql, const char *what)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_int_fail(s, what);
	return 0;
}

int store_int_query_int(struct store *s, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*out = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_int_fail(s, sql);
	return 0;
}

static int set_pragmas(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int ok = 0;

	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(st, 0);
		ok = mode != NULL &&
		     (strcmp(mode, "wal") == 0 || strcmp(mode, "memory") == 0);
	}
	if (!ok) {
		store_int_fail(s, "cannot use WAL journal mode");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	/* synchronous=NORMAL in WAL mode: a commit survives a crash of the
	 * process (kill -9), not of the machine (power loss may lose the last
	 * commits, never corrupt).  cache_size: retained access events insert
	 * into three indexes, one of them (customer) in random order; with
	 * SQLite's default 2 MiB cache most inserts re-read an index page. */
	return store_int_exec(
	    s,
	    "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
	    " PRAGMA cache_size=" STORE_CACHE_KIB,
	    "pragmas");
}

static int prepare_all(struct store *s)
{
	for (int i = 0; i < N_STMTS; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
				       NULL) != SQLITE_OK)
			return store_int_fail(s, "prepare");
	return 0;
}

/* Before SQLite's first use: no memory statistics.  With them on (the
 * default), every sqlite3_malloc/free takes a process-wide mutex to count
 * bytes; custos never reads them, and a retained row costs ~8 of each. */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); /* MISUSE if too late */
	sqlite3_initialize();
}

struct store *store_open(const char *path, char *err, size_t err_size)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct store *s = NULL;
	int memory = strcmp(path, ":memory:") == 0;

	set_err(err, err_size, "%s", "");
	pthread_once(&once, sqlite_setup);
	if (!memory && create_file(path, err, err_size) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		set_err(err, err_size, "store %s: out of memory", path);
		goto fail;
	}
	/* NOMUTEX: a store is used by one thread at a time (store.h; the
	 * daemon hands its store to the writer thread under a mutex), so the
	 * connection's own mutexes (~30 lock/unlock pairs per retained row)
	 * only cost time. */
	int rc = sqlite3_open_v2(path, &s->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
				     (memory ? SQLITE_OPEN_CREATE : 0),
				 NULL);
	if (rc != SQLITE_OK) {
		set_err(s->err, sizeof(s->err), "store %s: cannot open: %s",
			path,
			s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail_msg;
	}
	if (set_pragmas(s) < 0 || store_int_migrate(s) < 0 ||
	    prepare_all(s) < 0)
		goto fail_msg;
	return s;
fail_msg:
	set_err(err, err_size, "%s", s->err);
fail:
	store_close(s);
	return NULL;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < N_STMTS; i++)
		sqlite3_finalize(s->stmt[i]);
	/* an open transaction is rolled back by sqlite3_close */
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

int store_begin(struct store *s)
{
	return store_int_run(s, ST_BEGIN);
}

int store_commit(struct store *s)
{
	return store_int_run(s, ST_COMMIT);
}

int store_rollback(struct store *s)
{
	return store_int_run(s, ST_ROLLBACK);
}

/* ---- inserting ---- */

/* The text of a scalar JSON value (the first element of an array), or
 * NULL: a malloc'd string. */
static char *scalar_text(json_t *v)
{
	if (json_is_array(v))
		v = json_array_get(v, 0);
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_number(v))
		return json_dumps(v, JSON_ENCODE_ANY);
	return NULL;
}

/* The event's agent and customer, for the indexed columns. */
static void extract_keys(const char *event_json, char **agent, char **customer)
{
	json_t *ev = NULL;

	*agent = *customer = NULL;
	if (event_json != NULL)
		ev = json_loads(event_json, 0, NULL);
	if (!json_is_object(ev)) {
		json_decref(ev);
		return;
	}
	*agent = scalar_text(json_object_get(ev, "agent"));
	*customer = scalar_text(json_object_get(ev, "customer"));
	json_decref(ev);
}

static char *group_json(const struct alert *a)
{
	struct jsonw w;

	jsonw_init(&w, STORE_JSON_MAX_BYTES);
	jsonw_object_begin(&w);
	for (size_t i = 0; i < a->n_group; i++) {
		jsonw_key(&w, a->group[i].key != NULL ? a->group[i].key : "");
		jsonw_string(&w, a->group[i].value);
	}
	jsonw_object_end(&w);
	return jsonw_take(&w);
}

static char *tags_json(const struct alert *a)
{
	struct jsonw w;

	jsonw_init(&w, STORE_JSON_MAX_BYTES);
	jsonw_array_begin(&w);
	for (size_t i = 0; a->rule != NULL && i < a->rule->n_tags; i++)
		jsonw_string(&w, a->rule->tags[i]);
	jsonw_array_end(&w);
	return jsonw_take(&w);
}

/* Binds everything but the derived strings (group, tags, agent, ...). */
static void bind_alert(sqlite3_stmt *st, const struct alert *a, const char *ts,
		       int64_t created_ms)
{
	store_int_bind_text(st, 1, a->id);
	store_int_bind_text(st, 2, alert_rule_id(a));
	store_int_bind_text(st, 3, a->rule != NULL ? a->rule->title : NULL);
	store_int_bind_text(st, 4, alert_level_name(a));
	sqlite3_bind_int(
	    st, 5, a->rule != NULL ? (int)a->rule->level : (int)LEVEL_MEDIUM);
	sqlite3_bind_int64(st, 6, a->ts_ms);
	store_int_bind_text(st, 7, ts);
	if (isnan(a->value))
		sqlite3_bind_null(st, 9);
	else
		sqlite3_bind_double(st, 9, a->value);
	store_int_bind_text(st, 10, a->event_json);
	store_int_bind_text(st, 11, a->source_input);
	store_int_bind_text(st, 12, a->source_path);
	sqlite3_bind_int64(st, 13, (int64_t)a->source_line);
	sqlite3_bind_int64(st, 14, (int64_t)a->source_offset);
	sqlite3_bind_int64(st, 16, (int64_t)a->n_evidence_total);
	sqlite3_bind_int64(st, 17, created_ms);
}

/* Inserts the alert row; 1 inserted, 0 duplicate, -1 error. */
static int insert_row(struct store *s, const struct alert *a,
		      int64_t created_ms)
{
	sqlite3_stmt *st = s->stmt[ST_INSERT_ALERT];
	char ts[32], *agent, *customer;
	char *group = group_json(a), *tags = tags_json(a);
	int ret = -1;

	alert_format_ts(a->ts_ms, ts, sizeof(ts));
	extract_keys(a->event_json, &agent, &customer);
	if (group == NULL || tags == NULL) {
		set_err(s->err, sizeof(s->err), "store %s: out of memory",
			s->path);
		goto done;
	}
	bind_alert(st, a, ts, created_ms);
	store_int_bind_text(st, 8, group);
	store_int_bind_text(st, 15, tags);
	store_int_bind_text(st, 18, agent);
	store_int_bind_text(st, 19, customer);
	if (sqlite3_step(st) != SQLITE_DONE)
		store_int_fail(s, "insert alert");
	else
		ret = sqlite3_changes(s->db) > 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
done:
	free(group);
	free(tags);
	free(agent);
	free(customer);
	return ret;
}

static int insert_evidence(struct store *s, const struct alert *a)
{
	sqlite3_stmt *st = s->stmt[ST_INSERT_EVIDENCE];

	for (size_t i = 0; i < a->n_evidence; i++) {
		if (a->evidence_json[i] == NULL)
			continue;
		store_int_bind_text(st, 1, a->id);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		store_int_bind_text(st, 3, a->evidence_json[i]);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc != SQLITE_DONE)
			return store_int_fail(s, "insert evidence");
	}
	return 0;
}

int store_add_alert(struct store *s, const struct alert *a, int64_t created_ms)
{
	int ret;

	s->err[0] = '\0';
	if (a->id[0] == '\0') {
		set_err(s->err, sizeof(s->err), "store %s: alert has no id",
			s->path);
		return -1;
	}
	if (store_int_run(s, ST_SAVEPOINT) < 0)
		return -1;
	ret = insert_row(s, a, created_ms);
	if (ret == 1 && insert_evidence(s, a) < 0)
		ret = -1;
	/* only a new row advances the chain, never a duplicate */
	if (ret == 1 &&
	    chain_append(s->db, "alert", a->id, s->err, sizeof(s->err)) < 0)
		ret = -1;
	if (ret < 0)
		return store_int_unwind(s);
	if (store_int_run(s, ST_RELEASE) < 0)
		return -1;
	return ret;
}

int64_t store_count_alerts(struct store *s)
{
	sqlite3_stmt *st = s->stmt[ST_COUNT];
	int64_t n = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		store_int_fail(s, "count alerts");
	sqlite3_reset(st);
	return n;
}

int store_schema_version(const struct store *s)
{
	return s->found_version;
}

int store_n_migrated(const struct store *s)
{
	return s->n_migrated;
}

const char *store_errmsg(const struct store *s)
{
	return s->err;
}

/* ---- checkpoints ---- */

/* Checkpoints belong in the caller's transaction, with the alerts. */
static int need_txn(struct store *s, const char *what)
{
	s->err[0] = '\0';
	if (!sqlite3_get_autocommit(s->db))
		return 0;
	set_err(s->err, sizeof(s->err), "store %s: %s outside a transaction",
		s->path, what);
	return -1;
}

/* Binds a blob; never NULL (an empty key is a zero-length blob). */
static void bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len)
{
	sqlite3_bind_blob64(st, i, p ? p : "", len, SQLITE_STATIC);
}

/* Steps a bound statement that returns no rows, then resets it. */
static int step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : store_int_fail(s, what);
}

int store_state_put(struct store *s, const char *rule_key,
		    const void *group_key, size_t group_key_len,
		    const void *blob, size_t blob_len)
{
	sqlite3_stmt *st = s->stmt[blob ? ST_STATE_PUT : ST_STATE_DEL];

	if (need_txn(s, "engine state write") < 0)
		return -1;
	store_int_bind_text(st, 1, rule_key);
	bind_blob(st, 2, group_key, group_key_len);
	if (blob)
		bind_blob(st, 3, blob, blob_len);
	return step_done(s, st,
			 blob ? "save engine state" : "delete engine state");
}

int store_state_load(struct store *s,
		     int (*fn)(void *arg, const char *rule_key,
			       const void *group_key, size_t group_key_len,
			       const void *blob, size_t blob_len),
		     void *arg)
{
	sqlite3_stmt *st = s->stmt[ST_STATE_LOAD];
	int rc;

	s->err[0] = '\0';
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rk = (const char *)sqlite3_column_text(st, 0);
		const void *gk = sqlite3_column_blob(st, 1);
		size_t gl = (size_t)sqlite3_column_bytes(st, 1);
		const void *b = sqlite3_column_blob(st, 2);
		size_t bl = (size_t)sqlite3_column_bytes(st, 2);
		if (fn(arg, rk ? rk : "", gk ? gk : "", gl, b ? b : "", bl) !=
		    0)
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_int_fail(s, "load engine state");
	return 0;
}

int store_state_drop_rule(struct store *s, const char *rule_key)
{
	sqlite3_stmt *st = s->stmt[ST_STATE_DROP];

	if (need_txn(s, "engine state drop") < 0)
		return -1;
	store_int_bind_text(st, 1, rule_key);
	return step_done(s, st, "drop engine state");
}

int store_position_put(struct store *s, const char *input, const void *blob,
		       size_t blob_len)
{
	sqlite3_stmt *st = s->stmt[ST_POS_PUT];

	if (need_txn(s, "input position write") < 0)
		return -1;
	store_int_bind_text(st, 1, input);
	bind_blob(st, 2, blob, blob_len);
	return step_done(s, st, "save input position");
}

int store_position_get(struct store *s, const char *input, void **blob,
		       size_t *blob_len)
{
	sqlite3_stmt *st = s->stmt[ST_POS_GET];
	int ret = 0;

	s->err[0] = '\0';
	*blob = NULL;
	*blob_len = 0;
	store_int_bind_text(st, 1, input);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		const void *p = sqlite3_column_blob(st, 0);
		*blob = malloc(n ? n : 1);
		if (*blob == NULL) {
			set_err(s->err, sizeof(s->err),
				"store %s: out of memory", s->path);
			ret = -1;
		} else {
			if (n)
				memcpy(*blob, p, n);
			*blob_len = n;
			ret = 1;
		}
	} else if (rc != SQLITE_DONE) {
		ret = store_int_fail(s, "read input position");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}
