/*
 * store: the local alert store, one SQLite file in WAL mode that the daemon
 * and `custos replay` write and the analyst CLI reads.
 *
 * Inserts are idempotent: an alert's id is stable (alert.h), so writing the
 * same alert twice — a replay of yesterday's log, a restart that re-reads
 * from the last checkpoint — keeps one row.  Writers batch alerts into
 * transactions (store_begin ... store_commit), e.g. 1000 per commit.
 *
 * The schema carries a version (PRAGMA user_version) and an application id
 * (PRAGMA application_id = 0x63757374, "cust").  Opening a store applies
 * the missing migration steps in order, one transaction each, and refuses a
 * store whose version is newer than this code or a SQLite file that is not
 * a custos store.
 *
 * Schema version 1:
 *
 *   alerts            one row per alert
 *     id              TEXT PRIMARY KEY   32 hex chars, stable (alert.h)
 *     rule_id         TEXT               Sigma id, else name
 *     rule_title      TEXT
 *     level           TEXT NOT NULL      informational|low|medium|high|critical
 *     level_num       INTEGER NOT NULL   0 (informational) .. 4 (critical),
 *                                        for "level >= high" filters
 *     ts_ms           INTEGER NOT NULL   event time, ms since the epoch (UTC)
 *     ts              TEXT NOT NULL      the same, RFC 3339 with ms
 *     group_json      TEXT NOT NULL      {"agent":"a1",...} ({} if none)
 *     value           REAL               count/sum that fired (NULL if NaN)
 *     event_json      TEXT               triggering event, all fields
 *     source_input    TEXT               input name
 *     source_path     TEXT               file path, may be NULL
 *     source_line     INTEGER            1-based, 0 if not line based
 *     source_offset   INTEGER            byte offset of the record
 *     tags_json       TEXT NOT NULL      ["attack.collection",...]
 *     evidence_count  INTEGER NOT NULL   events in the window when it fired
 *     created_ms      INTEGER NOT NULL   when the row was written (caller's
 *                                        clock), ms since the epoch
 *     agent           TEXT               event's `agent` (first if array)
 *     customer        TEXT               event's `customer` (first if array)
 *     status          TEXT NOT NULL DEFAULT 'open'   triage state
 *   indexes: alerts_ts(ts_ms), alerts_rule(rule_id, ts_ms),
 *            alerts_agent(agent, ts_ms), alerts_level(level_num, ts_ms),
 *            alerts_status(status, ts_ms)
 *
 *   evidence          the sample of window events kept with an alert
 *     alert_id        TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE
 *     seq             INTEGER NOT NULL   0 = oldest
 *     event_json      TEXT NOT NULL
 *     PRIMARY KEY (alert_id, seq)
 *
 * Schema version 2 adds the daemon's checkpoints:
 *
 *   engine_state      one row per engine group (engine.h)
 *     rule_key        TEXT NOT NULL      rule id/name ":" definition hash;
 *                                        "" for the engine's scalars
 *     group_key       BLOB NOT NULL      the group's key ("" for scalars)
 *     blob            BLOB NOT NULL      versioned, CRC-checked state
 *     PRIMARY KEY (rule_key, group_key), WITHOUT ROWID
 *
 *   input_position    one row per input
 *     input           TEXT PRIMARY KEY   input name
 *     blob            BLOB NOT NULL      opaque to the store
 *
 * Schema version 3 adds the analyst side (see chain.h for the hash chain):
 *
 *   alerts            + assignee TEXT, chain_seq INTEGER, chain TEXT
 *   triage            one row per analyst change, never updated
 *     id INTEGER PRIMARY KEY, alert_id, ts_ms (wall clock of the change),
 *     user (Unix user), action (ack|resolve|reopen|assign|comment),
 *     value (new status for ack/resolve/reopen, assignee for assign,
 *     "suppress rule/agent until" notes), note, chain_seq, chain
 *     index triage_alert(alert_id, id)
 *   suppressions      scoped false-positive suppressions
 *     id, rule_id, agent, from_ms, until_ms (event time window that is
 *     suppressed: [from_ms, until_ms)), created_ms, user, alert_id, note
 *     index suppressions_key(rule_id, agent, until_ms)
 *   access_events     bounded retention of recent access events (for the
 *     agent timeline, the customer view and the blast radius): id, ts_ms,
 *     agent, customer, action, object, ticket, team, source
 *     ("input:path:line"); indexes on (agent, ts_ms) and
 *     (customer, ts_ms) (and on ts_ms before version 4).  Retention:
 *     store_purge / `custos purge`.
 *   chain_head        one row: seq, chain (hex) of the newest chain entry
 *   chain_purged      skeletons of purged rows: seq, kind, ref, row_hash,
 *                     chain, purge_seq
 *   purges            purge markers (chained): id, ts_ms, cutoff_ms, user,
 *                     n_alerts, n_triage, n_events, list_hash, chain_seq,
 *                     chain
 *   seals             id, ts_ms, seq, head: chain head copies, also sent
 *                     to syslog by the daemon as an outside witness
 *
 * Schema version 4 drops the index on access_events(ts_ms) (the cost of
 * every retained event; see store_schema.c).  Version 5 adds
 *   access_events_pending  first_id, last_id: rowid ranges of
 *                     access_events written by a checkpoint that has not
 *                     completed yet (store_events_pending_mark).
 *
 * Opening a v1/v2 store chains its existing alerts once (rowid order).
 *
 * Files: the store is created with mode 0640 (an existing file keeps its
 * mode); SQLite gives its -wal and -shm files the same mode.  The parent
 * directory is not created.
 *
 * A struct store is used by one thread at a time.  The store never reads the
 * clock: created_ms is a parameter.  Errors go to the caller's err buffer
 * (store_open) or to store_errmsg(); nothing is printed.
 */
#ifndef CUSTOS_STORE_H
#define CUSTOS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "chain.h"
#include "event.h"

#define STORE_SCHEMA_VERSION 5
#define STORE_APPLICATION_ID 0x63757374 /* "cust" */
#define STORE_BUSY_TIMEOUT_MS 5000

struct store;

/* Opens the store at path, creating the file (mode 0640) if it does not
 * exist, and brings its schema up to STORE_SCHEMA_VERSION.  ":memory:"
 * opens a private in-memory store (tests).  Returns NULL on failure with a
 * message naming the path in err (if err_size > 0). */
struct store *store_open(const char *path, char *err, size_t err_size);

/* Closes the store (rolling back an open transaction).  NULL is a no-op. */
void store_close(struct store *s);

/* Transactions around batches of store_add_alert().  Each returns 0, or -1
 * with store_errmsg() set.  store_begin takes the write lock at once
 * (BEGIN IMMEDIATE), waiting up to STORE_BUSY_TIMEOUT_MS for another
 * writer. */
int store_begin(struct store *s);
int store_commit(struct store *s);
int store_rollback(struct store *s);

/* Writes one alert and its evidence sample (atomically, inside or outside a
 * transaction).  Returns 1 if it was inserted, 0 if an alert with the same
 * id was already stored (nothing is changed), -1 on error (store_errmsg();
 * also for an alert without an id). */
int store_add_alert(struct store *s, const struct alert *a, int64_t created_ms);

/* Number of alerts stored, or -1 on error. */
int64_t store_count_alerts(struct store *s);

/* Schema version found when the store was opened, and how many migration
 * steps store_open() applied (0 when it was already current). */
int store_schema_version(const struct store *s);
int store_n_migrated(const struct store *s);

/* The last error of a store function, "" if none.  Valid until the next
 * call on s. */
const char *store_errmsg(const struct store *s);

/* ---- checkpoints (schema v2) ----
 * Daemon state written in the same transaction as the alerts it goes with:
 * engine window state per (rule_key, group_key) and input positions per
 * input name.  All take an open transaction (store_begin). */

/* The writes (state_put, state_drop_rule, position_put) return 0, or -1
 * with store_errmsg() set, also when no transaction is open.  Reads work
 * inside or outside one. */

/* Upserts (blob != NULL) or deletes (blob == NULL) one engine group. */
int store_state_put(struct store *s, const char *rule_key,
		    const void *group_key, size_t group_key_len,
		    const void *blob, size_t blob_len);

/* Calls fn for every saved engine group, ordered by (rule_key,
 * group_key) so the scalars (rule key "") come first; fn returns 0 to go
 * on, anything else stops (store_state_load then returns 0).  Pointers are
 * valid during the call.  fn must not write engine_state (collect stale
 * rule keys and drop them afterwards).  Returns 0 or -1. */
int store_state_load(struct store *s,
		     int (*fn)(void *arg, const char *rule_key,
			       const void *group_key, size_t group_key_len,
			       const void *blob, size_t blob_len),
		     void *arg);

/* Deletes every saved group of rule_key. */
int store_state_drop_rule(struct store *s, const char *rule_key);

/* Input positions: an opaque blob per input name (the input encodes its
 * files, inodes and offsets).  get returns 1 and a malloc'd copy, 0 if
 * none, -1 on error. */
int store_position_put(struct store *s, const char *input, const void *blob,
		       size_t blob_len);
int store_position_get(struct store *s, const char *input, void **blob,
		       size_t *blob_len);

/* ---- analyst side (schema v3) ---- */

/* The store's SQLite handle, for the analyst CLI's read-only queries
 * (filters, reports).  Borrowed; valid until store_close(). */
struct sqlite3 *store_sqlite(struct store *s);

struct store_triage {
	const char *alert_id; /* full id */
	int64_t ts_ms;	      /* when (caller's wall clock) */
	const char *user;     /* who: the Unix user */
	const char *action;   /* ack|resolve|reopen|assign|comment */
	const char *value;    /* assign: the assignee; else ignored */
	const char *note;     /* may be NULL */
};

/* Records one triage change (chained) and applies it: ack/resolve/reopen
 * set alerts.status to acked/resolved/open, assign sets alerts.assignee.
 * Atomic (a savepoint).  Returns 1, 0 if there is no such alert, -1 on
 * error (store_errmsg). */
int store_triage(struct store *s, const struct store_triage *t);

struct store_suppression {
	const char *rule_id, *agent; /* the scope: both required */
	int64_t from_ms, until_ms;   /* suppressed event times [from, until) */
	int64_t created_ms;
	const char *user, *alert_id, *note; /* alert_id, note may be NULL */
};

/* Adds a suppression.  Returns 0 or -1. */
int store_suppress(struct store *s, const struct store_suppression *sp);

/* Whether an alert of rule_id for agent at event time ts_ms is covered by
 * a suppression: 1 yes, 0 no, -1 error.  The daemon calls it for each
 * alert before its sinks (prepared statement, index lookup). */
int store_suppressed(struct store *s, const char *rule_id, const char *agent,
		     int64_t ts_ms);

/* Retains one access event (its canonical agent, customer, action, object,
 * ticket, team fields and source) in access_events.  Call inside the
 * writer's batch transaction.  Returns 0 or -1. */
int store_add_access_event(struct store *s, const struct event *ev);

/* The same for n events (ev[0..n-1]), STORE_EVENTS_PER_INSERT rows per
 * INSERT statement: SQLite runs one statement per batch instead of one per
 * row.  0 or -1 (some rows may be written: roll the transaction back). */
#define STORE_EVENTS_PER_INSERT 16

/* Access events written in chunks ahead of the transaction that commits
 * the positions they come from (schema v5, store_schema.c).  Inside a
 * chunk's transaction: _begin_chunk() before its first row, _mark() after
 * its last (records the rowid range added since _begin_chunk).  The
 * checkpoint's last transaction calls _clear().  _undo() deletes the rows
 * of every range still recorded and the records (call inside a
 * transaction, before writing new chunks); *n_removed: rows deleted.  All
 * 0 or -1. */
int store_events_pending_begin_chunk(struct store *s);
int store_events_pending_mark(struct store *s);
int store_events_pending_clear(struct store *s);
int store_events_pending_undo(struct store *s, uint64_t *n_removed);
int store_add_access_events(struct store *s, const struct event *const *ev,
			    size_t n);

/* Records a seal of the current chain head at now_ms and copies the head
 * (64 hex chars + NUL) to head_hex, for the daemon to send to syslog.
 * Returns 0 or -1. */
int store_seal(struct store *s, int64_t now_ms, char head_hex[65]);

struct store_purge {
	int64_t cutoff_ms;  /* remove alerts/events with ts_ms < cutoff */
	int64_t now_ms;	    /* the purge marker's time */
	int64_t max_events; /* also keep at most this many access events
			       (newest); 0 = no count limit */
	const char *user;
};

struct store_purge_counts {
	int64_t n_alerts, n_triage, n_events, n_suppressions;
};

/* Deletes, in one transaction with PRAGMA secure_delete=ON, alerts (with
 * evidence and triage) and access events older than cutoff_ms, expired
 * suppressions, and access events beyond max_events; keeps the chain
 * verifiable (skeletons + a chained purge marker, chain.h), then truncates
 * the WAL.  Takes its own transaction.  Returns 0 or -1. */
int store_purge(struct store *s, const struct store_purge *p,
		struct store_purge_counts *c);

/* Verifies the hash chain (chain_verify).  Returns 0 (see
 * r->n_problems) or -1 on error. */
int store_verify(struct store *s, struct chain_report *r);

#endif
