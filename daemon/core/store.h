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

#define STORE_SCHEMA_VERSION 2
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

#endif
