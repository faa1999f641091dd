/*
 * checkpoint: what makes a restart lose nothing and repeat nothing.
 *
 * One store transaction holds, together:
 *   - the alerts raised since the previous checkpoint (pipeline_pending);
 *   - the engine groups changed since then (engine_save_changes, or every
 *     group after a reload or a failed checkpoint: engine_save_all);
 *   - every input's position just after the last record evaluated.
 * So the store always describes one point of the input streams: after a
 * crash, the daemon restores the engine state, resumes each input from its
 * position, re-evaluates the records after it and raises again only the
 * alerts that were never committed (with the same ids: ids depend only on
 * the input).
 *
 * The access events retained since the previous checkpoint (c->retain,
 * when set: retain.h) are written ahead of it, CHECKPOINT_EVENTS_PER_CHUNK
 * per transaction, each chunk's rowid range recorded in the store
 * (store_events_pending_mark) until the checkpoint's transaction clears
 * the records; the rows of a range still recorded (a crash, a failure
 * before that) are deleted before the next checkpoint writes and at
 * start (checkpoint_restore), since their events are read again.  So
 * every event is retained once, and a large checkpoint does not hold the
 * store for long: the writer runs alerts-only commits (below) between
 * chunks.  The checkpoint's transaction also records an
 * alert held back from the sinks by a suppression (pipeline_pending_held)
 * as resolved by a chained triage row of user "custosd" whose note names
 * the suppression scope, so the analyst's open queue stays quiet while the
 * alert stays on record (and `custos verify` agrees with its status).  A
 * repeat of an alert already stored gets no second triage row.
 *
 * The daemon starts one on its writer thread (checkpoint_begin, below)
 * every checkpoint.every_records records or every_ms, and commits one
 * with checkpoint_commit() on reload and at shutdown.
 *
 * Between checkpoints, alerts-only commits (checkpoint_begin_alerts, every
 * checkpoint.alerts_every_ms) store the alerts raised so far ahead of the
 * state and positions that produced them.  That keeps the invariant above
 * one way round -- every alert of the records before a committed position
 * is committed -- and adds alerts whose records are after it: after a
 * crash they are raised again, with the same ids, and the store ignores
 * them (counted in n_alerts_repeated).
 *
 * Sinks: a commit of either kind queues each alert it stored for the first
 * time, and not held back by a suppression, to the sinks
 * (pipeline_queue_sink) once it has committed.  An alert raised again after
 * a restart is already stored, so it is not sent again; an alert whose
 * commit failed is sent when a later commit stores it.  What a crash can
 * still cost the sinks is what was stored but not yet handed to them (the
 * sink queues in memory); the store holds every alert.
 *
 * Clock: created_ms of a stored alert is the wall clock at the start of
 * the transaction that stores it (on the writer thread; the caller's
 * wall_ms for checkpoint_commit), i.e. when it entered the store, at most
 * one alerts-only commit before it became visible; its raise time is
 * close to its event's processing and its event time is ts.
 * CLOCK_MONOTONIC for last_ms.
 */
#ifndef CUSTOS_CHECKPOINT_H
#define CUSTOS_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "pipeline.h"
#include "retain.h"
#include "store.h"

/* Retained events per transaction of a checkpoint (see above). */
#define CHECKPOINT_EVENTS_PER_CHUNK 4096

struct checkpoint {
	struct store *store; /* borrowed */
	bool need_full;	     /* next commit saves every engine group */
	uint64_t n_commits, n_failures;
	uint64_t n_alerts_stored;   /* new rows */
	uint64_t n_alerts_repeated; /* already stored (a re-read) */
	uint64_t n_groups_written;
	int64_t last_ms; /* monotonic time of the last success, 0: never */
	struct retain *retain;	      /* borrowed; NULL: no retention */
	uint64_t n_suppressed_stored; /* held alerts stored as resolved */
	/* the writer thread (checkpoint_start_writer), else unused */
	struct retain *batch; /* retained copies of the in-flight commit */
	struct checkpoint_snap *in_flight;   /* main thread's view */
	struct checkpoint_snap *a_in_flight; /* alerts-only, ditto */
	size_t n_in_flight_alerts; /* alerts of the in-flight commit */
	uint64_t n_alert_commits;  /* alerts-only commits that succeeded */
	int efd;		   /* eventfd: a commit finished; -1 */
	bool has_writer;
	struct checkpoint_writer *w;
};

void checkpoint_init(struct checkpoint *c, struct store *store);

/* Writes one checkpoint of p (see above) on the caller's thread, after
 * waiting for a commit in flight (whose failure is then only counted).
 * Returns 0, or -1 with err (the transaction is rolled back; the pending
 * alerts stay pending and the next commit writes every group). */
int checkpoint_commit(struct checkpoint *c, struct pipeline *p, int64_t wall_ms,
		      int64_t mono_ms, char *err, size_t err_size);

/* The writer thread.  While it runs, a checkpoint is two steps: on the
 * event loop's thread, checkpoint_begin() builds an immutable snapshot
 * (takes the pending alerts and the retained copies, encodes the changed
 * groups, copies the input positions) and hands it over; the writer runs
 * the transaction and signals c->efd; the loop then calls
 * checkpoint_complete() on its thread, which counts a success or, on
 * failure, puts the alerts and copies back in front of the newer ones and
 * asks for every group next time.  At most one commit is in flight.  The
 * store is used by one thread at a time: the writer only between a
 * hand-over and its completion; any other store use on the loop's thread
 * first calls checkpoint_wait().  0, or -1 with err. */
int checkpoint_start_writer(struct checkpoint *c, char *err, size_t err_size);

/* Waits for the in-flight commit and stops the thread (no-op without). */
void checkpoint_stop_writer(struct checkpoint *c);

/* Starts a checkpoint of p on the writer (without one: commits at once,
 * as checkpoint_commit).  Returns 1 when a commit is already in flight
 * (nothing done), 0 when handed over (or committed), -1 with err when it
 * failed before the hand-over (or the commit failed). */
int checkpoint_begin(struct checkpoint *c, struct pipeline *p, int64_t wall_ms,
		     int64_t mono_ms, char *err, size_t err_size);

/* Starts an alerts-only commit on the writer: the pending alerts (and the
 * triage rows of held ones) in a transaction of their own, without engine
 * state, retained events or input positions, so that alerts reach the
 * store (and, once stored, the sinks) without waiting for the next
 * checkpoint.  Returns 1 when there is no writer, a commit is in flight
 * or no alert is pending (nothing done), 0 when handed over, -1 with err
 * (out of memory).  A failure puts the alerts back (checkpoint_complete),
 * to be written by the next commit of either kind. */
int checkpoint_begin_alerts(struct checkpoint *c, struct pipeline *p,
			    int64_t wall_ms, char *err, size_t err_size);

/* After c->efd became readable: ends the finished commit, if any.
 * Returns 1 when none had finished, 0 for a success, -1 with err. */
int checkpoint_complete(struct checkpoint *c, struct pipeline *p,
			int64_t mono_ms, char *err, size_t err_size);

/* Blocks until no commit is in flight and ends it.  Returns 1 when none
 * was, else as checkpoint_complete. */
int checkpoint_wait(struct checkpoint *c, struct pipeline *p, int64_t mono_ms,
		    char *err, size_t err_size);

struct checkpoint_restored {
	uint64_t n_groups;   /* restored */
	uint64_t n_stale;    /* of rules that changed or are gone: deleted */
	uint64_t n_rejected; /* blobs that did not decode */
	uint64_t n_events_undone; /* retained by a checkpoint never ended */
};

/* Restores the engine state saved in store into e (a new engine) and
 * deletes the state of rules e does not have.  0, or -1 with err. */
int checkpoint_restore(struct store *store, struct engine *e,
		       struct checkpoint_restored *out, char *err,
		       size_t err_size);

#endif
