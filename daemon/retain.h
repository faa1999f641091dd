/*
 * retain: the access events custosd keeps in the store (retention), held
 * between two checkpoints.
 *
 * Events are borrowed views valid for one dispatch, and the store writes
 * only inside the checkpoint's transaction (one transaction holds the
 * alerts, the engine state, the input positions and these events, so a
 * crash loses or repeats none of them: after a restart the records after
 * the saved positions are read again and their events retained again).
 * So retain_add() copies the fields the store keeps (agent, customer,
 * action, object, ticket, team — the first value of each — event time and
 * source) and checkpoint_commit() writes them with retain_write().
 *
 * Bound: at most RETAIN_MAX_EVENTS copies, RETAIN_MAX_BYTES of copies and
 * RETAIN_MAX_SOURCES distinct (input, path) wait; past them events are
 * not retained (counted in n_dropped; detection is not affected).
 * retain_need_flush() asks for a checkpoint at half a bound, above the
 * default checkpoint.every_records, so under load the checkpoint cadence
 * (not retention) decides how many events one transaction writes.  Clock:
 * none (event time only).
 */
#ifndef CUSTOS_RETAIN_H
#define CUSTOS_RETAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "store.h"

#define RETAIN_MAX_EVENTS 500000
#define RETAIN_MAX_BYTES ((size_t)256 << 20) /* the copies' arena */
#define RETAIN_MAX_SOURCES 1024 /* distinct (input, path) per checkpoint */

struct retain_stats {
	uint64_t n_added;   /* copied */
	uint64_t n_written; /* committed to the store */
	uint64_t n_dropped; /* bound reached or out of memory */
	size_t n_waiting;   /* copies not yet committed */
};

struct retain;

struct retain *retain_new(void);
void retain_free(struct retain *r); /* NULL is a no-op */

/* Copies what the store keeps of ev (borrowed for the call).  Returns 0,
 * or -1 when the bound is reached or memory is short (counted). */
int retain_add(struct retain *r, const struct event *ev);

/* True when the copies reach half the bound: checkpoint soon. */
bool retain_need_flush(const struct retain *r);

/* Writes every copy with store_add_access_event() inside the caller's
 * open transaction.  Returns 0 or -1 (store_errmsg); the copies stay
 * until retain_committed(). */
int retain_write(struct retain *r, struct store *s);

/* The same in chunks: writes the next copies from cur (start at {0, 0}),
 * at most max, and advances cur.  Returns how many (0: all written), or
 * -1 (store_errmsg). */
struct retain_cursor {
	size_t i;  /* copies written */
	size_t at; /* their bytes in the arena */
};
int retain_write_chunk(const struct retain *r, struct store *s,
		       struct retain_cursor *cur, size_t max);

/* The transaction that retain_write() wrote into committed: forget the
 * copies (and count them written). */
void retain_committed(struct retain *r);

/* The pipelined checkpoint (checkpoint.h): moves r's copies into batch
 * (an empty retain of the same process, written by the writer thread)
 * and leaves r empty.  retain_done() then ends batch's commit: committed,
 * the copies are forgotten and counted written in r; failed, r gets
 * batch's copies back in front of those retained since (past the bounds
 * the newest are dropped, counted) and batch is empty again. */
void retain_take(struct retain *r, struct retain *batch);
void retain_done(struct retain *r, struct retain *batch, bool committed);

void retain_stats(const struct retain *r, struct retain_stats *out);

#endif
