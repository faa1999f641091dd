/*
 * custosd_int.h: what the parts of custosd share (custosd.c: start-up,
 * the loop, stop; custosd_config.c: loading and reload; custosd_timers.c:
 * checkpoint cadence, seal and purge; custosd_status.c: the status
 * object and line; custosd_sinks.c: the sinks' life cycle).  Not an API:
 * only the daemon's own files include it.  Everything runs on the loop
 * thread; struct daemon is owned by main().
 */
#ifndef CUSTOS_CUSTOSD_INT_H
#define CUSTOS_CUSTOSD_INT_H

#include "checkpoint.h"
#include "config.h"
#include "control.h"
#include "loop.h"
#include "pipeline.h"
#include "rules.h"
#include "sink_forward.h"
#include "sink_syslog.h"
#include "store.h"
#include "storekeep.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#ifndef CUSTOS_VERSION
#define CUSTOS_VERSION "dev"
#endif

#define DEFAULT_CONFIG "/etc/custos/custos.yml"
#define POLL_INTERVAL_MS 250
#define SINK_DRAIN_BATCH 256
#define SINK_FLUSH_BATCH 1024
#define SINK_STOP_WAIT_MS 2000
#define MAX_INPUT_FDS 48 /* of LOOP_MAX_FDS for all inputs */
#define MAX_INPUTS 32

struct daemon {
	const char *config_path;
	bool foreground, verbose;
	struct config *cfg_inputs; /* the config the inputs were opened with */
	struct config *cfg;	   /* current (may equal cfg_inputs) */
	struct store *store;
	struct pipeline *p;
	struct sink_syslog *sink; /* NULL unless sinks.syslog.enabled */
	struct sink_forward *fwd[PIPELINE_MAX_SINKS]; /* sinks.forward */
	size_t n_fwd;
	struct checkpoint ck;
	struct store *lookup; /* the loop thread's connection (suppressions) */
	bool ck_skipped; /* a checkpoint came due while one was in flight */
	struct storekeep keep;
	struct control *ctl;
	struct loop *loop;
	int64_t start_ms;
	int ck_timer, status_timer, seal_timer, purge_timer;
	int alerts_timer;    /* checkpoint.alerts_every_ms */
	bool alerts_skipped; /* alerts came due while a commit was in flight */
	int input_fds[MAX_INPUTS][MAX_INPUT_FDS];
	size_t n_input_fds[MAX_INPUTS];
	uint64_t n_reloads, n_reload_failures;
	bool stopping;
	uint64_t n_lost_at_start; /* pipeline_n_lost() after start/reload */
	bool lost;	   /* records lost since: no more checkpoints, exit 1 */
	bool behind;	   /* the last poll left input unread */
	int n_ck_deferred; /* timer checkpoints skipped while behind */
	/* failed checkpoints in a row (disk full, I/O errors): the first is
	 * logged, then one line per CK_FAIL_LOG_MS; retried on the timer */
	uint64_t n_ck_failing;
	int64_t ck_failed_ms, ck_logged_ms; /* monotonic */
};

#define CK_FAIL_LOG_MS 60000

/* The wall clock in ms (the store's created_ms only). */
static inline int64_t custosd_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- custosd_config.c ---- */

/* Config + rules from path (both owned by the caller on success), or
 * every problem in d.  0 or -1. */
int custosd_config_load(const char *path, struct config **cfg,
			struct ruleset **rules, struct diag *d);
/* Logs every entry of d (log_warnx), then how many were dropped. */
void custosd_config_log_diag(const struct diag *d);
/* SIGHUP: loads config and rules again; swaps them in (after a
 * checkpoint) only if all are valid, the running ones stay otherwise. */
void custosd_config_reload(struct daemon *d);

/* ---- custosd_timers.c (loop callbacks take the daemon as arg) ---- */

/* A checkpoint committed before returning (reload, exit).  0 or -1. */
int custosd_timers_checkpoint(struct daemon *d);
/* A checkpoint asked for by the data path (bounds reached). */
void custosd_timers_checkpoint_if_due(struct daemon *d);
void custosd_timers_on_ck_done(struct loop *l, int fd, void *arg);
void custosd_timers_on_checkpoint(struct loop *l, void *arg);
void custosd_timers_on_alerts(struct loop *l, void *arg);
void custosd_timers_on_seal(struct loop *l, void *arg);
void custosd_timers_on_purge(struct loop *l, void *arg);

/* ---- custosd_status.c ---- */

/* The status object (control socket "status"): a JSON string the caller
 * frees, or NULL when out of memory.  arg is the daemon. */
char *custosd_status_json(void *arg);
/* One line of totals for the log and systemd's STATUS=, into buf. */
void custosd_status_line(struct daemon *d, char *buf, size_t size);
void custosd_status_on_timer(struct loop *l, void *arg);

/* ---- custosd_sinks.c ---- */

/* The syslog and forward sinks from the config, registered with the
 * pipeline; fatal if one cannot be made (before serving). */
void custosd_sinks_open(struct daemon *d);
/* At exit: everything queued, waiting at most SINK_STOP_WAIT_MS. */
void custosd_sinks_flush(struct daemon *d);
/* Logs a forward sink's new failure (once per reason) and its recovery. */
void custosd_sinks_report(struct sink_forward *f);

#endif
