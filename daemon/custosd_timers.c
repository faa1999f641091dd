/*
 * custosd_timers.c: when custosd commits.  Checkpoints on the
 * checkpoint.every_ms timer (less often while the inputs are behind), when
 * the pipeline's bounds are reached, before a reload and at exit;
 * alerts-only commits every checkpoint.alerts_every_ms; the seal and purge
 * timers, which first settle the commit in flight.  Commits run on the
 * checkpoint writer thread (checkpoint.h); at most one is in flight, one
 * that comes due meanwhile starts when it completes.  Failures are
 * retried on the timer and logged once per CK_FAIL_LOG_MS.  A lost record
 * (out of memory) stops all checkpoints and the daemon (exit 1).  Clocks:
 * loop_now_ms() (monotonic) for cadence, the wall clock for created_ms.
 */
#include "custosd_int.h"

#include "log.h"
#include "retain.h"

/* Logs a checkpoint's outcome (rc 0 or -1) and tracks failures in a
 * row. */
static int ck_report(struct daemon *d, int rc, const char *err)
{
	int64_t now = loop_now_ms();

	if (rc == 0) {
		if (d->n_ck_failing)
			log_info("checkpoint: stored again after %llu failed "
				 "attempts",
				 (unsigned long long)d->n_ck_failing);
		d->n_ck_failing = 0;
		return 0;
	}
	d->ck_failed_ms = now;
	if (d->n_ck_failing++ == 0 || now - d->ck_logged_ms >= CK_FAIL_LOG_MS) {
		log_warnx("%s (failed attempt %llu; alerts and positions stay "
			  "pending, retrying)",
			  err, (unsigned long long)d->n_ck_failing);
		d->ck_logged_ms = now;
	}
	return -1;
}

/* Ends the commit in flight, if any, before the store is used here. */
static void ck_settle(struct daemon *d)
{
	char err[512];
	int rc = checkpoint_wait(&d->ck, d->p, loop_now_ms(), err, sizeof(err));

	if (rc != 1)
		ck_report(d, rc, err);
}

/* True (once logged, and the daemon stopping) when an allocation failure
 * lost a record or an alert since the daemon started: a checkpoint now
 * would commit input positions past it, so none is taken; custosd exits 1
 * and, restarted, evaluates everything after the last checkpoint again. */
static bool lost_records(struct daemon *d)
{
	uint64_t n = pipeline_n_lost(d->p);

	if (n == d->n_lost_at_start)
		return false;
	if (!d->lost) {
		log_warnx(
		    "out of memory: %llu records or alerts lost since the "
		    "last checkpoint; exiting without committing, so that "
		    "a restart evaluates them again",
		    (unsigned long long)(n - d->n_lost_at_start));
		d->lost = true;
		d->stopping = true;
		loop_stop(d->loop);
	}
	return true;
}

/* A checkpoint committed before returning (reload, exit). */
int custosd_timers_checkpoint(struct daemon *d)
{
	char err[512];

	ck_settle(d);
	if (lost_records(d))
		return -1;
	return ck_report(d,
			 checkpoint_commit(&d->ck, d->p, custosd_wall_ms(),
					   loop_now_ms(), err, sizeof(err)),
			 err);
}

/* A checkpoint handed to the writer thread; skipped while one is in
 * flight (the next timer tick or bound check starts it). */
static void start_checkpoint(struct daemon *d)
{
	char err[512];

	if (lost_records(d))
		return;
	int rc = checkpoint_begin(&d->ck, d->p, custosd_wall_ms(),
				  loop_now_ms(), err, sizeof(err));

	if (rc < 0 || (rc == 0 && d->ck.w == NULL))
		ck_report(d, rc, err);
	d->ck_skipped = rc == 1;
}

/* An alerts-only commit (checkpoint.h) of the pending alerts, if any;
 * skipped while a commit is in flight (started when it completes). */
static void start_alert_commit(struct daemon *d)
{
	char err[512];
	size_t n_pending;

	pipeline_pending(d->p, &n_pending);
	if (n_pending == 0 || lost_records(d))
		return;
	int rc = checkpoint_begin_alerts(&d->ck, d->p, custosd_wall_ms(), err,
					 sizeof(err));

	if (rc < 0)
		ck_report(d, rc, err);
	d->alerts_skipped = rc == 1;
}

void custosd_timers_on_alerts(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	/* after a failure, the checkpoint timer retries */
	if (!d->n_ck_failing)
		start_alert_commit(d);
}

void custosd_timers_on_ck_done(struct loop *l, int fd, void *arg)
{
	struct daemon *d = arg;
	char err[512];
	int rc =
	    checkpoint_complete(&d->ck, d->p, loop_now_ms(), err, sizeof(err));

	if (rc != 1)
		ck_report(d, rc, err);
	/* a checkpoint came due during the commit: start it now rather than
	 * at the next tick (after a failure, the tick retries) */
	if (rc == 0 && d->ck_skipped && !d->stopping &&
	    pipeline_records_since_checkpoint(d->p))
		start_checkpoint(d);
	/* alerts that came due meanwhile (a checkpoint started just above
	 * took them) */
	if (rc == 0 && d->alerts_skipped && !d->stopping)
		start_alert_commit(d);
}

/* A checkpoint asked for by the data path (bounds reached), not the
 * timer: after a failure, wait for the next timer tick rather than retry
 * (and fail) on every poll. */
void custosd_timers_checkpoint_if_due(struct daemon *d)
{
	if (d->n_ck_failing &&
	    loop_now_ms() - d->ck_failed_ms < d->cfg->checkpoint.every_ms)
		return;
	start_checkpoint(d);
}

/* While the inputs have unread records, alerts wait for the backlog
 * anyway, and each checkpoint re-encodes every changed group whatever the
 * records since the last one: the timer then checkpoints only every
 * CK_BEHIND_FACTOR-th time (records and pending-alert bounds still apply),
 * so catching up spends less time on state. */
#define CK_BEHIND_FACTOR 4

void custosd_timers_on_checkpoint(struct loop *l, void *arg)
{
	struct daemon *d = arg;
	size_t n_pending;

	if (d->behind && !d->ck.need_full &&
	    ++d->n_ck_deferred < CK_BEHIND_FACTOR)
		return;
	d->n_ck_deferred = 0;
	pipeline_pending(d->p, &n_pending);
	if (pipeline_records_since_checkpoint(d->p) || n_pending ||
	    d->ck.need_full)
		start_checkpoint(d);
}

void custosd_timers_on_seal(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	ck_settle(d);
	storekeep_seal(&d->keep, custosd_wall_ms(), loop_now_ms());
}

void custosd_timers_on_purge(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	ck_settle(d);
	storekeep_purge(&d->keep, custosd_wall_ms(), loop_now_ms());
}
