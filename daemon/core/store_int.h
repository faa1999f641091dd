/*
 * store_int: what store.c (opening, schema and migrations, alerts,
 * checkpoints) and store_soc.c (the analyst side: triage, suppressions,
 * retained access events, seals, purge) share.  Not for other modules:
 * their interface is store.h.
 */
#ifndef CUSTOS_STORE_INT_H
#define CUSTOS_STORE_INT_H

#include "store.h"

#include <sqlite3.h>
#include <stdint.h>

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_INSERT_ALERT,
	ST_INSERT_EVIDENCE,
	ST_COUNT,
	ST_STATE_PUT,
	ST_STATE_DEL,
	ST_STATE_LOAD,
	ST_STATE_DROP,
	ST_POS_PUT,
	ST_POS_GET,
	ST_ADD_EVENT,
	ST_SUPPRESSED,
	ST_ADD_EVENTS, /* STORE_EVENTS_PER_INSERT rows at once */
	N_STMTS
};

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[N_STMTS];
	int found_version; /* user_version when opened */
	int n_migrated;
	int64_t chunk_first_id; /* store_events_pending_begin_chunk */
	char err[512];
};

/* Checks that s is a custos store of a schema this build knows and
 * applies the migrations it lacks (store_schema.c); sets found_version
 * and n_migrated.  0 or -1 (s->err). */
int store_int_migrate(struct store *s);

/* Records the database's last error, prefixed by what was being done, in
 * s->err; returns -1. */
int store_int_fail(struct store *s, const char *what);
/* Runs the prepared statement id (no rows); 0 or -1 (store_int_fail). */
int store_int_run(struct store *s, enum stmt_id id);

/* Rolls back to the savepoint and releases it, keeping s->err (the first
 * failure's message); returns -1. */
int store_int_unwind(struct store *s);
/* Runs sql (no rows, no parameters); 0 or -1 (store_int_fail(what)). */
int store_int_exec(struct store *s, const char *sql, const char *what);
/* Runs a one-row, one-integer query into *out; 0 or -1. */
int store_int_query_int(struct store *s, const char *sql, int64_t *out);

/* Binds v (NULL: SQL NULL) as static text: v must outlive the step. */
static inline void store_int_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

#endif
