/*
 * store_soc: the analyst side of the SQLite store (schema v3 on): triage
 * actions and their chain entries, false-positive suppressions, the
 * retained access events the CLI's agent / customer / blast-radius views
 * read, seals and verification of the hash chain, and purge.  Contracts in
 * store.h; never reads the clock (callers pass times).
 */
#include "store_int.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "jsonw.h"

/* ---- analyst side (schema v3) ---- */

sqlite3 *store_sqlite(struct store *s)
{
	return s->db;
}

/* Runs fn inside a savepoint: all of it or nothing.  fn returns >= 0 on
 * success (passed through) or -1 with s->err set. */
static int in_savepoint(struct store *s, int (*fn)(struct store *, void *),
			void *arg)
{
	int ret;

	s->err[0] = '\0';
	if (store_int_run(s, ST_SAVEPOINT) < 0)
		return -1;
	ret = fn(s, arg);
	if (ret < 0)
		return store_int_unwind(s);
	return store_int_run(s, ST_RELEASE) < 0 ? -1 : ret;
}

/* Prepares sql (one-off statements: the analyst's rare writes). */
static sqlite3_stmt *prep(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_int_fail(s, sql);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* The status a triage action leaves, or NULL if it leaves it alone. */
static const char *action_status(const char *action)
{
	if (strcmp(action, "ack") == 0)
		return "acked";
	if (strcmp(action, "resolve") == 0)
		return "resolved";
	if (strcmp(action, "reopen") == 0)
		return "open";
	return NULL;
}

static int triage_fn(struct store *s, void *arg)
{
	const struct store_triage *t = arg;
	const char *status = action_status(t->action);
	const char *value = status ? status : t->value;
	sqlite3_stmt *st = prep(s, "INSERT INTO triage (alert_id, ts_ms, user,"
				   " action, value, note) SELECT id, ?2, ?3,"
				   " ?4, ?5, ?6 FROM alerts WHERE id = ?1");
	char key[32];
	int n;

	if (st == NULL)
		return -1;
	store_int_bind_text(st, 1, t->alert_id);
	sqlite3_bind_int64(st, 2, t->ts_ms);
	store_int_bind_text(st, 3, t->user);
	store_int_bind_text(st, 4, t->action);
	store_int_bind_text(st, 5, value);
	store_int_bind_text(st, 6, t->note);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		return store_int_fail(s, "insert triage");
	}
	sqlite3_finalize(st);
	if ((n = sqlite3_changes(s->db)) == 0)
		return 0; /* no such alert */
	snprintf(key, sizeof(key), "%lld",
		 (long long)sqlite3_last_insert_rowid(s->db));
	if (chain_append(s->db, "triage", key, s->err, sizeof(s->err)) < 0)
		return -1;
	if (status == NULL && strcmp(t->action, "assign") != 0)
		return 1;
	st = prep(s, status ? "UPDATE alerts SET status = ?2 WHERE id = ?1"
			    : "UPDATE alerts SET assignee = ?2 WHERE id = ?1");
	if (st == NULL)
		return -1;
	store_int_bind_text(st, 1, t->alert_id);
	store_int_bind_text(st, 2, value);
	n = sqlite3_step(st);
	sqlite3_finalize(st);
	return n == SQLITE_DONE ? 1 : store_int_fail(s, "update alert status");
}

int store_triage(struct store *s, const struct store_triage *t)
{
	if (t->alert_id == NULL || t->user == NULL || t->action == NULL) {
		snprintf(s->err, sizeof(s->err), "store %s: incomplete triage",
			 s->path);
		return -1;
	}
	return in_savepoint(s, triage_fn, (void *)t);
}

int store_suppress(struct store *s, const struct store_suppression *sp)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO suppressions (rule_id, agent,"
				   " from_ms, until_ms, created_ms, user,"
				   " alert_id, note)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");

	s->err[0] = '\0';
	if (st == NULL)
		return -1;
	store_int_bind_text(st, 1, sp->rule_id);
	store_int_bind_text(st, 2, sp->agent);
	sqlite3_bind_int64(st, 3, sp->from_ms);
	sqlite3_bind_int64(st, 4, sp->until_ms);
	sqlite3_bind_int64(st, 5, sp->created_ms);
	store_int_bind_text(st, 6, sp->user);
	store_int_bind_text(st, 7, sp->alert_id);
	store_int_bind_text(st, 8, sp->note);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_int_fail(s, "insert suppression");
}

int store_suppressed(struct store *s, const char *rule_id, const char *agent,
		     int64_t ts_ms)
{
	sqlite3_stmt *st = s->stmt[ST_SUPPRESSED];
	int rc;

	s->err[0] = '\0';
	if (rule_id == NULL || agent == NULL)
		return 0;
	store_int_bind_text(st, 1, rule_id);
	store_int_bind_text(st, 2, agent);
	sqlite3_bind_int64(st, 3, ts_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_int_fail(s, "query suppressions");
}

/* Binds a canonical field of ev (NULL if absent or empty). */
static void bind_field(sqlite3_stmt *st, int i, const struct event *ev,
		       enum canonical_field f)
{
	const struct event_field *fl = event_get(ev, f);

	if (fl == NULL || fl->kind == VALUE_NULL || fl->value_len == 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, fl->value, (int)fl->value_len,
				  SQLITE_STATIC);
}

/* "input:path:line" into buf (size > 24), truncated like snprintf would;
 * its length.  Hand-written: snprintf cost ~5% of a retained row. */
static size_t format_source(char *buf, size_t size, const struct event *ev)
{
	const char *parts[2] = {ev->source.input, ev->source.path};
	char digits[24];
	size_t n = 0, nd = 0;
	uint64_t line = ev->source.line;

	for (size_t i = 0; i < 2; i++) {
		size_t len = parts[i] ? strlen(parts[i]) : 0;
		if (len > size - 1 - n)
			len = size - 1 - n;
		memcpy(buf + n, parts[i] ? parts[i] : "", len);
		n += len;
		if (n < size - 1)
			buf[n++] = ':';
	}
	do
		digits[nd++] = (char)('0' + line % 10);
	while ((line /= 10) != 0);
	while (nd > 0 && n < size - 1)
		buf[n++] = digits[--nd];
	buf[n] = '\0';
	return n;
}

int store_add_access_event(struct store *s, const struct event *ev)
{
	sqlite3_stmt *st = s->stmt[ST_ADD_EVENT];
	char src[512];
	size_t src_len = format_source(src, sizeof(src), ev);
	int rc;

	s->err[0] = '\0';
	sqlite3_bind_int64(st, 1, ev->ts_ms);
	bind_field(st, 2, ev, FIELD_AGENT);
	bind_field(st, 3, ev, FIELD_CUSTOMER);
	bind_field(st, 4, ev, FIELD_ACTION);
	bind_field(st, 5, ev, FIELD_OBJECT);
	bind_field(st, 6, ev, FIELD_TICKET);
	bind_field(st, 7, ev, FIELD_TEAM);
	sqlite3_bind_text(st, 8, src, (int)src_len, SQLITE_STATIC);
	/* every parameter is bound each time: no sqlite3_clear_bindings(),
	 * but src is on this stack: reset before returning */
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_int_fail(s, "insert access event");
}

/* Binds ev as the row at parameter base+1..base+8, its source formatted
 * into src (which must live until the statement is reset). */
static void bind_event(sqlite3_stmt *st, int base, const struct event *ev,
		       char src[512])
{
	static const enum canonical_field f[] = {FIELD_AGENT,  FIELD_CUSTOMER,
						 FIELD_ACTION, FIELD_OBJECT,
						 FIELD_TICKET, FIELD_TEAM};
	size_t src_len = format_source(src, 512, ev);

	sqlite3_bind_int64(st, base + 1, ev->ts_ms);
	for (int k = 0; k < 6; k++)
		bind_field(st, base + 2 + k, ev, f[k]);
	sqlite3_bind_text(st, base + 8, src, (int)src_len, SQLITE_STATIC);
}

int store_add_access_events(struct store *s, const struct event *const *ev,
			    size_t n)
{
	sqlite3_stmt *st = s->stmt[ST_ADD_EVENTS];
	char src[STORE_EVENTS_PER_INSERT][512];
	size_t i = 0;

	s->err[0] = '\0';
	for (; n - i >= STORE_EVENTS_PER_INSERT; i += STORE_EVENTS_PER_INSERT) {
		for (int r = 0; r < STORE_EVENTS_PER_INSERT; r++)
			bind_event(st, 8 * r, ev[i + (size_t)r], src[r]);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_int_fail(s, "insert access events");
	}
	for (; i < n; i++)
		if (store_add_access_event(s, ev[i]) < 0)
			return -1;
	return 0;
}

int store_events_pending_begin_chunk(struct store *s)
{
	int64_t max_id;

	/* a new rowid is the largest one + 1: the chunk's rows follow it */
	if (store_int_query_int(s,
				"SELECT ifnull(max(id), 0) FROM"
				" access_events",
				&max_id) < 0)
		return -1;
	s->chunk_first_id = max_id + 1;
	return 0;
}

int store_events_pending_mark(struct store *s)
{
	int64_t last = sqlite3_last_insert_rowid(s->db);
	sqlite3_stmt *st;
	int rc;

	if (last < s->chunk_first_id)
		return 0; /* no row */
	st = prep(s, "INSERT INTO access_events_pending (first_id, last_id)"
		     " VALUES (?1, ?2)");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, s->chunk_first_id);
	sqlite3_bind_int64(st, 2, last);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_int_fail(s, "mark access events");
}

int store_events_pending_clear(struct store *s)
{
	return store_int_exec(s, "DELETE FROM access_events_pending",
			      "clear access events marks");
}

int store_events_pending_undo(struct store *s, uint64_t *n_removed)
{
	sqlite3_stmt *st = prep(s, "SELECT first_id, last_id FROM"
				   " access_events_pending");
	sqlite3_stmt *del = prep(s, "DELETE FROM access_events WHERE id"
				    " BETWEEN ?1 AND ?2");
	int rc = SQLITE_DONE;

	*n_removed = 0;
	while (st && del && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_bind_int64(del, 1, sqlite3_column_int64(st, 0));
		sqlite3_bind_int64(del, 2, sqlite3_column_int64(st, 1));
		if ((rc = sqlite3_step(del)) != SQLITE_DONE)
			break;
		*n_removed += (uint64_t)sqlite3_changes(s->db);
		sqlite3_reset(del);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(del);
	if (st == NULL || del == NULL)
		return -1;
	if (rc != SQLITE_DONE)
		return store_int_fail(s, "undo access events");
	return store_events_pending_clear(s);
}

int store_seal(struct store *s, int64_t now_ms, char head_hex[65])
{
	sqlite3_stmt *st;
	int64_t seq;
	int rc;

	s->err[0] = '\0';
	if (chain_head(s->db, &seq, head_hex) < 0)
		return store_int_fail(s, "read chain head");
	st =
	    prep(s, "INSERT INTO seals (ts_ms, seq, head) VALUES (?1, ?2, ?3)");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, seq);
	store_int_bind_text(st, 3, head_hex);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_int_fail(s, "insert seal");
}

int store_verify(struct store *s, struct chain_report *r)
{
	s->err[0] = '\0';
	return chain_verify(s->db, r, s->err, sizeof(s->err));
}

/* ---- purge ---- */

/* Moves every chained row that the purge removes into the skeleton. */
static int purge_skeletons(struct store *s, int64_t cutoff_ms,
			   int64_t purge_seq, struct store_purge_counts *c)
{
	static const char sql[] =
	    "SELECT 'alert', id FROM alerts WHERE ts_ms < ?1"
	    " UNION ALL SELECT 'triage', CAST(t.id AS TEXT) FROM triage t"
	    " JOIN alerts a ON a.id = t.alert_id WHERE a.ts_ms < ?1";
	sqlite3_stmt *st = prep(s, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, cutoff_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		const char *key = (const char *)sqlite3_column_text(st, 1);
		if (chain_skeleton_add(s->db, kind, key, purge_seq) < 0)
			break;
		if (kind[0] == 'a')
			c->n_alerts++;
		else
			c->n_triage++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_int_fail(s, "purge skeleton");
}

/* Deletes with one int64 bound; adds the number of rows to *n. */
static int purge_delete(struct store *s, const char *sql, int64_t v, int64_t *n)
{
	sqlite3_stmt *st = prep(s, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, v);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_int_fail(s, sql);
	if (n)
		*n += sqlite3_changes(s->db);
	return 0;
}

/* Keeps the newest max_events access events (by ts_ms, then id): deletes
 * the count - max_events oldest.  Without an index on ts_ms (schema v4)
 * the scan's sorter then holds only the excess, not the max_events kept
 * (10,000,000 by default). */
static int purge_keep_newest(struct store *s, int64_t max_events,
			     struct store_purge_counts *c)
{
	int64_t n = 0;

	if (store_int_query_int(s, "SELECT count(*) FROM access_events", &n) <
	    0)
		return -1;
	if (n <= max_events)
		return 0;
	return purge_delete(s,
			    "DELETE FROM access_events WHERE id IN (SELECT id"
			    " FROM access_events ORDER BY ts_ms, id LIMIT ?1)",
			    n - max_events, &c->n_events);
}

/* Writes the purge marker and chains it at purge_seq. */
static int purge_marker(struct store *s, const struct store_purge *p,
			int64_t purge_seq, const struct store_purge_counts *c)
{
	char list[CHAIN_HEX_LEN + 1], key[32];
	sqlite3_stmt *st;
	int rc;

	if (chain_purge_list_hash(s->db, purge_seq, list) < 0)
		return store_int_fail(s, "purge list hash");
	st = prep(s, "INSERT INTO purges (ts_ms, cutoff_ms, user, n_alerts,"
		     " n_triage, n_events, list_hash)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, p->now_ms);
	sqlite3_bind_int64(st, 2, p->cutoff_ms);
	store_int_bind_text(st, 3, p->user ? p->user : "?");
	sqlite3_bind_int64(st, 4, c->n_alerts);
	sqlite3_bind_int64(st, 5, c->n_triage);
	sqlite3_bind_int64(st, 6, c->n_events);
	store_int_bind_text(st, 7, list);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_int_fail(s, "insert purge marker");
	snprintf(key, sizeof(key), "%lld",
		 (long long)sqlite3_last_insert_rowid(s->db));
	return chain_append(s->db, "purge", key, s->err, sizeof(s->err));
}

static int purge_fn(struct store *s, const struct store_purge *p,
		    struct store_purge_counts *c)
{
	char head[CHAIN_HEX_LEN + 1];
	int64_t seq;

	if (chain_head(s->db, &seq, head) < 0)
		return store_int_fail(s, "read chain head");
	if (purge_skeletons(s, p->cutoff_ms, seq + 1, c) < 0 ||
	    purge_delete(s,
			 "DELETE FROM triage WHERE alert_id IN"
			 " (SELECT id FROM alerts WHERE ts_ms < ?1)",
			 p->cutoff_ms, NULL) < 0 ||
	    purge_delete(s, "DELETE FROM alerts WHERE ts_ms < ?1", p->cutoff_ms,
			 NULL) < 0 ||
	    purge_delete(s, "DELETE FROM access_events WHERE ts_ms < ?1",
			 p->cutoff_ms, &c->n_events) < 0 ||
	    purge_delete(s, "DELETE FROM suppressions WHERE until_ms < ?1",
			 p->cutoff_ms, &c->n_suppressions) < 0)
		return -1;
	if (p->max_events > 0 && purge_keep_newest(s, p->max_events, c) < 0)
		return -1;
	if (c->n_alerts + c->n_triage + c->n_events + c->n_suppressions == 0)
		return 0; /* nothing removed: no marker */
	return purge_marker(s, p, seq + 1, c);
}

int store_purge(struct store *s, const struct store_purge *p,
		struct store_purge_counts *c)
{
	memset(c, 0, sizeof(*c));
	s->err[0] = '\0';
	/* overwrite deleted personal data instead of leaving it in free
	 * pages; then move it out of the WAL too */
	if (store_int_exec(s, "PRAGMA secure_delete = ON", "secure_delete") <
		0 ||
	    store_begin(s) < 0)
		return -1;
	if (purge_fn(s, p, c) < 0) {
		char saved[sizeof(s->err)];
		memcpy(saved, s->err, sizeof(saved));
		store_rollback(s);
		memcpy(s->err, saved, sizeof(saved));
		return -1;
	}
	if (store_commit(s) < 0)
		return -1;
	sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL,
		     NULL);
	return 0;
}
