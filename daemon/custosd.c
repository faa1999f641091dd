/*
 * custosd: the custos daemon.  Reads access logs from its inputs,
 * evaluates the rules, stores alerts and hands them to the sinks.
 *
 *   custosd [-f] [-v] [-c FILE]        run (foreground with -f)
 *   custosd --check [-v] [-c FILE]     validate config and rules, exit
 *
 * Start-up: load config and rules (refuse with every error as
 * file:line:column, exit 2), create state_dir, open the store, restore
 * engine state, open the inputs at their saved positions, open the control
 * socket, drop privileges, then tell systemd READY=1.  Signals: SIGHUP
 * reloads config, rules, list files and the agent directory (all kept only
 * if all are valid; engine state carries over), SIGTERM/SIGINT finish the
 * batch in hand, checkpoint and exit 0.  Clocks: CLOCK_MONOTONIC for
 * timers and uptime; the wall clock only for the store's created_ms.
 *
 * Alerts go to the store (at each checkpoint) and, when sinks.syslog is
 * enabled, through the pipeline's sink queue into the syslog sink's own
 * queue, which is flushed at every loop turn (a bounded batch) and at
 * shutdown (until empty or SINK_STOP_WAIT_MS without progress).  The sink
 * writes to a unix socket (sinks.syslog.socket_path, /dev/log by default),
 * never through syslog(3), whose ident and facility custosd's own log
 * uses.  Sink settings change at restart only.
 *
 * The store's analyst side (storekeep.h): alerts covered by a suppression
 * do not reach the sinks and are stored resolved; evaluated events are
 * retained as access events with each checkpoint; the chain head is
 * sealed every seal_interval and at exit, and the seal logged ("custos:
 * seal seq=N head=HEX", also to the syslog sink); the store is purged by
 * the retention config every retention.purge_interval.
 * retention.access_events changes at restart only.
 *
 * Input fds: each input's fds are re-queried after every poll (syslog TCP
 * connections come and go); at most MAX_INPUT_FDS per input are watched,
 * the others are read on the poll timer (every POLL_INTERVAL_MS), which
 * also serves idle timeouts and rotation checks.
 */
#include "agentdir.h"
#include "checkpoint.h"
#include "config.h"
#include "control.h"
#include "input.h"
#include "log.h"
#include "loop.h"
#include "pipeline.h"
#include "rules.h"
#include "sink_forward.h"
#include "sink_syslog.h"
#include "store.h"
#include "storekeep.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

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

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- loading ---- */

static const char *const type_names[] = {"file", "stdin", "syslog", "pcap"};
static const char *const format_names[] = {"json", "csv", "kv"};

static void check_supported(const struct config *c, struct diag *d)
{
	for (size_t i = 0; i < c->n_inputs; i++) {
		const struct config_input *in = &c->inputs[i];
		if (input_ops_find(type_names[in->type]) == NULL)
			diag_add(d, c->file, in->line, in->column,
				 "input '%s': type '%s' is not available in "
				 "this build",
				 in->name, type_names[in->type]);
		if (in->type != INPUT_PCAP &&
		    !pipeline_format_supported(format_names[in->format]))
			diag_add(d, c->file, in->line, in->column,
				 "input '%s': format '%s' is not available "
				 "in this build",
				 in->name, format_names[in->format]);
	}
}

/* Config + rules, or every problem in d.  0 or -1. */
static int load_all(const char *path, struct config **cfg,
		    struct ruleset **rules, struct diag *d)
{
	*rules = NULL;
	if ((*cfg = config_load(path, d)) == NULL)
		return -1;
	check_supported(*cfg, d);
	if ((*rules = ruleset_new()) == NULL ||
	    ruleset_set_lists(*rules, &(*cfg)->lists) < 0) {
		diag_add(d, path, 0, 0, "out of memory");
		goto fail;
	}
	if ((*cfg)->n_rule_paths == 0)
		diag_add(d, path, 0, 0, "no rules: set 'rules:' in the config");
	for (size_t i = 0; i < (*cfg)->n_rule_paths; i++)
		ruleset_load_path(*rules, (*cfg)->rule_paths[i], d);
	if (diag_count(d) == 0)
		ruleset_finish(*rules, d);
	if (diag_count(d) == 0)
		return 0;
fail:
	ruleset_free(*rules);
	config_free(*cfg);
	*rules = NULL;
	*cfg = NULL;
	return -1;
}

static void log_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->n_entries; i++) {
		const struct diag_entry *e = &d->entries[i];
		log_warnx("%s:%d:%d: %s", e->file ? e->file : "-", e->line,
			  e->column, e->message);
	}
	if (d->n_dropped)
		log_warnx("%zu more problems not shown", d->n_dropped);
}

/* ---- checkpoints and status ---- */

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
static int do_checkpoint(struct daemon *d)
{
	char err[512];

	ck_settle(d);
	if (lost_records(d))
		return -1;
	return ck_report(d,
			 checkpoint_commit(&d->ck, d->p, wall_ms(),
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
	int rc = checkpoint_begin(&d->ck, d->p, wall_ms(), loop_now_ms(), err,
				  sizeof(err));

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
	int rc =
	    checkpoint_begin_alerts(&d->ck, d->p, wall_ms(), err, sizeof(err));

	if (rc < 0)
		ck_report(d, rc, err);
	d->alerts_skipped = rc == 1;
}

static void on_alerts_timer(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	/* after a failure, the checkpoint timer retries */
	if (!d->n_ck_failing)
		start_alert_commit(d);
}

static void on_ck_done(struct loop *l, int fd, void *arg)
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
static void checkpoint_if_due(struct daemon *d)
{
	if (d->n_ck_failing &&
	    loop_now_ms() - d->ck_failed_ms < d->cfg->checkpoint.every_ms)
		return;
	start_checkpoint(d);
}

/* "forward": [{name, connected, sent, queued, ...}] in sinks. */
static void forward_status(const struct daemon *d, json_t *sinks)
{
	json_t *fwd = json_array();

	for (size_t i = 0; i < d->n_fwd; i++) {
		struct sink_forward_stats fs;
		sink_forward_stats(d->fwd[i], &fs);
		json_array_append_new(
		    fwd,
		    json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I}",
			      "name", sink_forward_name(d->fwd[i]), "connected",
			      fs.connected, "sent", (json_int_t)fs.n_sent,
			      "queued", (json_int_t)fs.n_queued, "outbox_bytes",
			      (json_int_t)fs.outbox_bytes, "dropped",
			      (json_int_t)fs.n_dropped, "reconnects",
			      (json_int_t)fs.n_reconnects, "errors",
			      (json_int_t)fs.n_errors));
	}
	json_object_set_new(sinks, "forward", fwd);
}

/* "sinks": {"syslog": {...}} in the status object. */
static void sink_status(const struct daemon *d, json_t *o)
{
	json_t *sinks = json_object_get(o, "sinks");
	struct sink_syslog_stats st = {0};

	if (sinks == NULL)
		return;
	if (d->sink)
		sink_syslog_stats(d->sink, &st);
	json_object_set_new(
	    sinks, "syslog",
	    json_pack("{s:b, s:s?, s:I, s:I, s:I, s:I}", "enabled",
		      d->sink != NULL, "socket_path",
		      d->sink ? d->cfg_inputs->sink_syslog.socket_path : NULL,
		      "queued", (json_int_t)st.n_queued, "sent",
		      (json_int_t)st.n_sent, "dropped",
		      (json_int_t)st.n_dropped, "errors",
		      (json_int_t)st.n_errors));
	forward_status(d, sinks);
}

/* "store": suppressions, retained access events, seals, purges. */
static void store_status(const struct daemon *d, json_t *o, int64_t now)
{
	json_t *st = storekeep_status(&d->keep, now);

	if (st == NULL)
		return;
	json_object_set_new(
	    st, "suppressed_stored",
	    json_integer((json_int_t)d->ck.n_suppressed_stored));
	json_object_set_new(o, "store", st);
}

static char *status_json(void *arg)
{
	struct daemon *d = arg;
	json_t *o = json_object();
	int64_t now = loop_now_ms();
	char *s;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "version", json_string(CUSTOS_VERSION));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "uptime_s",
			    json_integer((now - d->start_ms) / 1000));
	json_object_set_new(o, "config", json_string(d->cfg->file));
	pipeline_status(d->p, o);
	/* not yet stored: pending, and those of the commit in flight */
	json_object_set_new(o, "pending_alerts",
			    json_integer(json_integer_value(json_object_get(
					     o, "pending_alerts")) +
					 (json_int_t)d->ck.n_in_flight_alerts));
	sink_status(d, o);
	json_object_set_new(
	    o, "checkpoint",
	    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "commits",
		      (json_int_t)d->ck.n_commits, "alert_commits",
		      (json_int_t)d->ck.n_alert_commits, "failures",
		      (json_int_t)d->ck.n_failures, "alerts_stored",
		      (json_int_t)d->ck.n_alerts_stored, "alerts_repeated",
		      (json_int_t)d->ck.n_alerts_repeated, "groups_written",
		      (json_int_t)d->ck.n_groups_written, "last_age_ms",
		      (json_int_t)(d->ck.last_ms ? now - d->ck.last_ms : -1)));
	store_status(d, o, now);
	json_object_set_new(
	    o, "lookups",
	    json_pack("{s:I, s:I, s:I}", "lists",
		      (json_int_t)d->cfg->lists.n_lists, "list_values",
		      (json_int_t)config_list_values(d->cfg), "agents",
		      (json_int_t)agentdir_count(d->cfg->agents)));
	json_object_set_new(o, "reloads",
			    json_pack("{s:I, s:I}", "ok",
				      (json_int_t)d->n_reloads, "failed",
				      (json_int_t)d->n_reload_failures));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static void status_line(struct daemon *d, char *buf, size_t size)
{
	struct pipeline_totals t;

	pipeline_totals(d->p, &t);
	snprintf(buf, size,
		 "%llu records, %llu malformed, %llu read errors, %llu alerts, "
		 "%zu groups, sink queue %zu (%llu dropped), %llu checkpoints",
		 (unsigned long long)t.n_records,
		 (unsigned long long)t.n_malformed,
		 (unsigned long long)t.n_errors, (unsigned long long)t.n_alerts,
		 t.n_groups, t.sink_queue_depth,
		 (unsigned long long)t.n_sink_dropped,
		 (unsigned long long)d->ck.n_commits);
}

static void on_status_timer(struct loop *l, void *arg)
{
	struct daemon *d = arg;
	char line[512];

	status_line(d, line, sizeof(line));
	log_info("status: %s", line);
	sd_notifyf(0, "STATUS=%s", line);
}

/* While the inputs have unread records, alerts wait for the backlog
 * anyway, and each checkpoint re-encodes every changed group whatever the
 * records since the last one: the timer then checkpoints only every
 * CK_BEHIND_FACTOR-th time (records and pending-alert bounds still apply),
 * so catching up spends less time on state. */
#define CK_BEHIND_FACTOR 4

static void on_checkpoint_timer(struct loop *l, void *arg)
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

static void on_seal_timer(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	ck_settle(d);
	storekeep_seal(&d->keep, wall_ms(), loop_now_ms());
}

static void on_purge_timer(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	ck_settle(d);
	storekeep_purge(&d->keep, wall_ms(), loop_now_ms());
}

static void on_watchdog_timer(struct loop *l, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

static void on_poll_timer(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	pipeline_mark_ready(d->p);
}

/* ---- inputs in the loop ---- */

static void on_input_fd(struct loop *l, int fd, void *arg)
{
	struct pipeline_input *pi = arg;

	pi->ready = true;
}

/* Watches exactly the fds input i wants now (they change: EOF, rotation,
 * new TCP connections).  A fd epoll refuses (a regular file) is left to
 * the poll timer. */
static void sync_fds(struct daemon *d, size_t i)
{
	struct pipeline_input *pi = pipeline_input_at(d->p, i);
	int want[MAX_INPUT_FDS];
	size_t n_want = 0;

	if (pi->in != NULL && !pi->failed)
		n_want = pi->ops->fds(pi->in, want, MAX_INPUT_FDS);
	for (size_t k = 0; k < d->n_input_fds[i]; k++) {
		int fd = d->input_fds[i][k];
		bool keep = false;
		for (size_t j = 0; j < n_want && !keep; j++)
			keep = want[j] == fd;
		if (!keep) {
			loop_del_fd(d->loop, fd);
			d->input_fds[i][k--] =
			    d->input_fds[i][--d->n_input_fds[i]];
		}
	}
	for (size_t j = 0; j < n_want; j++) {
		bool have = false;
		for (size_t k = 0; k < d->n_input_fds[i] && !have; k++)
			have = d->input_fds[i][k] == want[j];
		if (have || loop_add_fd(d->loop, want[j], on_input_fd, pi) < 0)
			continue;
		d->input_fds[i][d->n_input_fds[i]++] = want[j];
	}
}

/* Logs a forward sink's new failure (once per reason) and its recovery. */
static void forward_report(struct sink_forward *f)
{
	const char *why = sink_forward_take_error(f);

	if (why != NULL)
		log_warnx("sinks.forward %s: %s; alerts wait in the outbox, "
			  "retrying",
			  sink_forward_name(f), why);
	if (sink_forward_take_recovered(f))
		log_info("sinks.forward %s: delivering again",
			 sink_forward_name(f));
}

static bool before_sleep(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	if (d->stopping)
		return false;
	bool more = pipeline_poll(d->p, PIPELINE_POLL_BATCH, loop_now_ms());
	d->behind = more;
	for (size_t i = 0; i < pipeline_n_inputs(d->p); i++)
		sync_fds(d, i);
	if (pipeline_need_checkpoint(d->p) ||
	    (d->keep.retain && retain_need_flush(d->keep.retain)))
		checkpoint_if_due(d);
	if (d->n_ck_failing)
		more = false; /* polling may be paused on a full pending list:
			       * no busy loop, the timers go on */
	pipeline_drain_sinks(d->p, SINK_DRAIN_BATCH);
	if (d->sink &&
	    sink_syslog_flush(d->sink, SINK_FLUSH_BATCH) == SINK_FLUSH_BATCH)
		more = true; /* the socket keeps up: go on without sleeping */
	for (size_t i = 0; i < d->n_fwd; i++) {
		if (sink_forward_flush(d->fwd[i], loop_now_ms(),
				       SINK_FLUSH_BATCH) == SINK_FLUSH_BATCH)
			more = true;
		forward_report(d->fwd[i]);
	}
	return more || pipeline_sink_queue_depth(d->p) > 0;
}

/* ---- sinks ---- */

static int push_syslog(void *arg, const struct alert *a)
{
	return sink_syslog_push(arg, a);
}

static int push_forward(void *arg, const struct alert *a)
{
	return sink_forward_push(arg, a);
}

/* One sink per sinks.forward entry, outbox in state_dir; fatal if one
 * cannot be made (before serving). */
static void open_forward(struct daemon *d)
{
	char err[256], host[256] = "", *outbox;

	gethostname(host, sizeof(host) - 1);
	for (size_t i = 0; i < d->cfg->n_sink_forward; i++) {
		const struct config_sink_forward *c = &d->cfg->sink_forward[i];
		struct sink_forward_config fc;
		unsigned char *key = NULL;
		sink_forward_config_init(&fc);
		fc.name = c->name;
		fc.address = c->address;
		fc.transport = c->transport;
		fc.siem.format = c->format;
		fc.siem.hostname = host;
		fc.siem.procid = (long)getpid();
		fc.siem.version = CUSTOS_VERSION;
		fc.ca_file = c->ca_file;
		fc.cert_file = c->cert_file;
		fc.key_file = c->key_file;
		fc.outbox_max = c->outbox_max;
		if (c->pseudonymize_key_file &&
		    (fc.siem.pseudo_key = key = sink_forward_read_key(
			 c->pseudonymize_key_file, &fc.siem.pseudo_key_len, err,
			 sizeof(err))) == NULL)
			fatalx("sinks.forward %s: %s", c->name, err);
		if (asprintf(&outbox, "%s/forward-%s.outbox", d->cfg->state_dir,
			     c->name) < 0)
			fatalx("out of memory");
		fc.outbox_path = outbox;
		d->fwd[d->n_fwd] = sink_forward_new(&fc, err, sizeof(err));
		free(outbox);
		free(key);
		if (d->fwd[d->n_fwd] == NULL)
			fatalx("sinks.forward %s: %s", c->name, err);
		if (pipeline_add_sink(d->p, c->name, push_forward,
				      d->fwd[d->n_fwd++]) < 0)
			fatalx("sinks.forward %s: too many sinks", c->name);
		log_info("alerts also go to %s (%s)", c->address, c->name);
	}
}

/* The syslog sink from sinks.syslog, registered with the pipeline;
 * fatal if it cannot be made (before serving). */
static void open_sinks(struct daemon *d)
{
	const struct config_sink_syslog *c = &d->cfg->sink_syslog;
	struct sink_syslog_config sc;
	char err[256];

	open_forward(d);
	if (!c->enabled)
		return;
	sink_syslog_config_init(&sc);
	sc.format = c->format;
	sc.ident = c->ident;
	sc.facility = c->facility;
	for (int l = 0; l < SINK_SYSLOG_N_LEVELS; l++)
		sc.priority[l] = c->priority[l];
	sc.queue_max = c->queue_max;
	sc.socket_path = c->socket_path;
	if (sink_syslog_config_check(&sc, err, sizeof(err)) < 0)
		fatalx("sinks.syslog: %s", err);
	if ((d->sink = sink_syslog_new(&sc)) == NULL ||
	    pipeline_add_sink(d->p, "syslog", push_syslog, d->sink) < 0)
		fatalx("sinks.syslog: out of memory");
	log_info("alerts also go to syslog at %s (%s)", c->socket_path,
		 c->ident);
}

/* At exit: the forward sinks' outboxes, for at most SINK_STOP_WAIT_MS
 * (what is left is sent after the next start). */
static void flush_forward(struct daemon *d)
{
	int64_t start = loop_now_ms();
	bool left = true;

	while (left && loop_now_ms() - start <= SINK_STOP_WAIT_MS) {
		left = false;
		for (size_t i = 0; i < d->n_fwd; i++) {
			struct sink_forward_stats st;
			sink_forward_flush(d->fwd[i], loop_now_ms(),
					   SINK_FLUSH_BATCH);
			sink_forward_stats(d->fwd[i], &st);
			left |= st.n_queued > 0 && st.connected;
		}
		if (left)
			usleep(10000);
	}
}

/* At exit: everything queued to the sink, waiting at most
 * SINK_STOP_WAIT_MS for a receiver that does not take it. */
static void flush_sinks(struct daemon *d)
{
	struct sink_syslog_stats st;
	int64_t last = loop_now_ms();

	pipeline_drain_sinks(d->p, PIPELINE_SINK_QUEUE_MAX);
	flush_forward(d);
	if (d->sink == NULL)
		return;
	for (;;) {
		sink_syslog_stats(d->sink, &st);
		if (st.n_queued == 0 ||
		    loop_now_ms() - last > SINK_STOP_WAIT_MS)
			break;
		if (sink_syslog_flush(d->sink, SINK_FLUSH_BATCH) > 0)
			last = loop_now_ms();
		else
			usleep(10000);
	}
	if (st.n_queued)
		log_warnx("sinks.syslog: %llu alerts not delivered at exit",
			  (unsigned long long)st.n_queued);
}

/* ---- reload ---- */

static bool same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool same_inputs(const struct config *a, const struct config *b)
{
	if (a->n_inputs != b->n_inputs)
		return false;
	for (size_t i = 0; i < a->n_inputs; i++) {
		const struct config_input *x = &a->inputs[i],
					  *y = &b->inputs[i];
		if (!same_str(x->name, y->name) || x->type != y->type ||
		    !same_str(x->path, y->path) ||
		    !same_str(x->listen, y->listen) ||
		    x->protocol != y->protocol || x->format != y->format ||
		    x->max_message_bytes != y->max_message_bytes ||
		    x->max_connections != y->max_connections ||
		    x->idle_timeout_ms != y->idle_timeout_ms ||
		    (x->pcap == NULL) != (y->pcap == NULL))
			return false;
	}
	return true;
}

static void warn_restart_only(const struct daemon *d, const struct config *c)
{
	const struct config *o = d->cfg_inputs;

	if (!same_inputs(o, c))
		log_warnx("reload: input changes take effect at the next "
			  "restart; inputs are unchanged until then");
	if (memcmp(&o->sink_syslog.priority, &c->sink_syslog.priority,
		   sizeof(c->sink_syslog.priority)) != 0 ||
	    o->sink_syslog.enabled != c->sink_syslog.enabled ||
	    o->sink_syslog.facility != c->sink_syslog.facility ||
	    o->sink_syslog.queue_max != c->sink_syslog.queue_max ||
	    !same_str(o->sink_syslog.ident, c->sink_syslog.ident) ||
	    !same_str(o->sink_syslog.socket_path, c->sink_syslog.socket_path))
		log_warnx("reload: sinks changes take effect at the next "
			  "restart");
	if (!same_str(o->store_path, c->store_path) ||
	    !same_str(o->state_dir, c->state_dir) ||
	    !same_str(o->control_socket, c->control_socket) ||
	    !same_str(o->user, c->user) || !same_str(o->group, c->group))
		log_warnx("reload: store, state_dir, control_socket, user and "
			  "group changes take effect at the next restart");
}

static void reload(struct daemon *d)
{
	struct config *cfg;
	struct ruleset *rules;
	struct diag dg;
	char err[256];

	log_info("reloading %s", d->config_path);
	sd_notify(0, "RELOADING=1");
	diag_init(&dg);
	if (load_all(d->config_path, &cfg, &rules, &dg) < 0) {
		log_diag(&dg);
		log_warnx("reload refused (%zu problems); the running rules "
			  "stay in force",
			  diag_count(&dg));
		d->n_reload_failures++;
		goto out;
	}
	warn_restart_only(d, cfg);
	if (do_checkpoint(d) < 0 ||
	    pipeline_reload(d->p, cfg, rules, err, sizeof(err)) < 0) {
		log_warnx("reload refused: %s",
			  d->ck.n_failures ? "checkpoint failed" : err);
		config_free(cfg);
		d->n_reload_failures++;
		goto out;
	}
	if (d->cfg != d->cfg_inputs)
		config_free(d->cfg);
	d->cfg = cfg;
	d->ck.need_full = true;
	d->n_lost_at_start = pipeline_n_lost(d->p); /* a new engine's count */
	loop_timer_set(d->loop, d->ck_timer, cfg->checkpoint.every_ms);
	loop_timer_set(d->loop, d->alerts_timer,
		       cfg->checkpoint.alerts_every_ms);
	loop_timer_set(d->loop, d->status_timer, cfg->status_log_interval_ms);
	d->keep.cfg = cfg;
	loop_timer_set(d->loop, d->seal_timer, cfg->seal_interval_ms);
	loop_timer_set(d->loop, d->purge_timer,
		       cfg->retention.purge_interval_ms);
	d->n_reloads++;
	log_info("reloaded: %zu rules, %zu lists (%zu values), %zu directory "
		 "agents",
		 pipeline_rules(d->p)->n_rules, cfg->lists.n_lists,
		 config_list_values(cfg), agentdir_count(cfg->agents));
out:
	diag_clear(&dg);
	sd_notify(0, "READY=1");
}

static void on_signal(struct loop *l, int signo, void *arg)
{
	struct daemon *d = arg;

	if (signo == SIGHUP) {
		reload(d);
		return;
	}
	log_info("%s: finishing the records in hand, then exiting",
		 strsignal(signo));
	d->stopping = true;
	loop_stop(l);
}

/* ---- files and privileges ---- */

/* mkdir with mode unless it exists. */
static int make_dir(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0 ||
	    (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	log_warn("%s", path);
	return -1;
}

static int make_dirs(const struct config *c)
{
	char *sock = strdup(c->control_socket);
	int rc;

	if (sock == NULL)
		return -1;
	rc = make_dir(c->state_dir, 0750);
	if (rc == 0)
		rc = make_dir(dirname(sock), 0750);
	free(sock);
	return rc;
}

static gid_t group_id(const char *name)
{
	struct group *g = name ? getgrnam(name) : NULL;

	return g ? g->gr_gid : (gid_t)-1;
}

static void chown_files(const struct config *c, uid_t uid, gid_t gid)
{
	const char *suffix[] = {"", "-wal", "-shm"};
	char path[4096];
	char *sock = strdup(c->control_socket);

	if (chown(c->state_dir, uid, gid) < 0)
		log_warn("chown %s", c->state_dir);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", c->store_path, suffix[i]);
		if (chown(path, uid, gid) < 0 && errno != ENOENT)
			log_warn("chown %s", path);
	}
	if (sock && chown(dirname(sock), uid, gid) < 0)
		log_warn("chown %s", sock);
	/* the socket keeps the group control_open() gave it */
	if (chown(c->control_socket, uid, (gid_t)-1) < 0)
		log_warn("chown %s", c->control_socket);
	free(sock);
}

/* Switches to cfg's user/group when running as root; fatal if it cannot
 * (going on as root when told not to would be unsafe). */
static void drop_privileges(const struct config *c)
{
	struct passwd *pw;
	uid_t ru, eu, su;
	gid_t gid;

	if (geteuid() != 0)
		return;
	if (c->user == NULL) {
		log_warnx("running as root: set 'user' in %s", c->file);
		return;
	}
	if ((pw = getpwnam(c->user)) == NULL)
		fatalx("user '%s' does not exist", c->user);
	gid = c->group ? group_id(c->group) : pw->pw_gid;
	if (gid == (gid_t)-1)
		fatalx("group '%s' does not exist", c->group);
	chown_files(c, pw->pw_uid, gid);
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		fatal("dropping privileges to %s", c->user);
	if (getresuid(&ru, &eu, &su) < 0 || ru != pw->pw_uid ||
	    eu != pw->pw_uid || su != pw->pw_uid || setuid(0) == 0)
		fatalx("privileges not dropped");
	log_info("running as %s (uid %ld, gid %ld)", c->user, (long)pw->pw_uid,
		 (long)gid);
}

/* ---- start, run, stop ---- */

static void on_control(struct loop *l, int fd, void *arg)
{
	struct daemon *d = arg;

	control_accept(d->ctl);
}

static int setup_loop(struct daemon *d)
{
	static const int sigs[] = {SIGHUP, SIGTERM, SIGINT};
	uint64_t wd_usec = 0;
	char err[256];

	if ((d->loop = loop_new()) == NULL ||
	    loop_add_signals(d->loop, sigs, 3, on_signal, d) < 0 ||
	    loop_add_fd(d->loop, control_fd(d->ctl), on_control, d) < 0)
		return -1;
	loop_set_before_sleep(d->loop, before_sleep, d);
	if (checkpoint_start_writer(&d->ck, err, sizeof(err)) < 0 ||
	    loop_add_fd(d->loop, d->ck.efd, on_ck_done, d) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	d->ck_timer = loop_add_timer(d->loop, d->cfg->checkpoint.every_ms,
				     on_checkpoint_timer, d);
	d->alerts_timer = loop_add_timer(d->loop, 1, on_alerts_timer, d);
	if (d->alerts_timer < 0)
		return -1;
	loop_timer_set(d->loop, d->alerts_timer,
		       d->cfg->checkpoint.alerts_every_ms);
	d->status_timer = loop_add_timer(
	    d->loop, d->cfg->status_log_interval_ms, on_status_timer, d);
	loop_add_timer(d->loop, POLL_INTERVAL_MS, on_poll_timer, d);
	d->seal_timer = loop_add_timer(d->loop, 1, on_seal_timer, d);
	d->purge_timer = loop_add_timer(d->loop, 1, on_purge_timer, d);
	if (d->seal_timer < 0 || d->purge_timer < 0)
		return -1;
	loop_timer_set(d->loop, d->seal_timer, d->cfg->seal_interval_ms);
	loop_timer_set(d->loop, d->purge_timer,
		       d->cfg->retention.purge_interval_ms);
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec >= 2000)
		loop_add_timer(d->loop, (int64_t)(wd_usec / 2000),
			       on_watchdog_timer, d);
	for (size_t i = 0; i < pipeline_n_inputs(d->p); i++)
		sync_fds(d, i);
	return 0;
}

/* Suppressions before the sinks, retained events into the checkpoint. */
static void wire_storekeep(struct daemon *d)
{
	d->keep.sink = d->sink;
	d->ck.retain = d->keep.retain;
	pipeline_set_alert_filter(d->p, storekeep_filter, &d->keep);
	pipeline_set_event_hook(d->p, storekeep_on_event, &d->keep);
}

/* Everything before serving; fatal on failure (exit 1, or 2 for a bad
 * config). */
static void start(struct daemon *d)
{
	struct ruleset *rules;
	struct checkpoint_restored rs;
	struct diag dg;
	char err[512];

	diag_init(&dg);
	if (load_all(d->config_path, &d->cfg, &rules, &dg) < 0) {
		log_diag(&dg);
		log_warnx("%zu problems; not starting", diag_count(&dg));
		exit(2);
	}
	diag_clear(&dg);
	d->cfg_inputs = d->cfg;
	if (d->cfg->n_inputs > MAX_INPUTS)
		fatalx("more than %d inputs", MAX_INPUTS);
	if (make_dirs(d->cfg) < 0)
		exit(1);
	if ((d->store = store_open(d->cfg->store_path, err, sizeof(err))) ==
	    NULL)
		fatalx("%s", err);
	checkpoint_init(&d->ck, d->store);
	if ((d->p = pipeline_new(d->cfg, rules, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (storekeep_init(&d->keep, d->store, d->cfg, err, sizeof(err)) < 0)
		fatalx("store %s: %s", d->cfg->store_path, err);
	/* suppression lookups run while the writer thread commits: their
	 * own connection (WAL: readers do not wait for the writer) */
	if ((d->lookup = store_open(d->cfg->store_path, err, sizeof(err))) ==
	    NULL)
		fatalx("%s", err);
	d->keep.lookup = d->lookup;
	if (checkpoint_restore(d->store, pipeline_engine(d->p), &rs, err,
			       sizeof(err)) < 0)
		fatalx("%s", err);
	log_info("engine state: %llu groups restored, %llu stale dropped, "
		 "%llu rejected; %llu access events of an unfinished "
		 "checkpoint removed (read again)",
		 (unsigned long long)rs.n_groups,
		 (unsigned long long)rs.n_stale,
		 (unsigned long long)rs.n_rejected,
		 (unsigned long long)rs.n_events_undone);
	open_sinks(d);
	wire_storekeep(d);
	if (pipeline_open_inputs(d->p, d->store, err, sizeof(err)) < 0)
		fatalx("%s", err);
	d->ctl =
	    control_open(d->cfg->control_socket,
			 group_id(d->cfg->control_group ? d->cfg->control_group
							: d->cfg->group),
			 status_json, d, err, sizeof(err));
	if (d->ctl == NULL)
		fatalx("control socket %s", err);
	drop_privileges(d->cfg);
	if (setup_loop(d) < 0)
		fatal("event loop");
}

static int stop(struct daemon *d)
{
	char line[512];
	int rc = 0;

	sd_notify(0, "STOPPING=1");
	if (do_checkpoint(d) < 0)
		rc = 1;
	if (d->lost)
		log_warnx("exiting 1: records were lost to a lack of memory");
	checkpoint_stop_writer(&d->ck);
	storekeep_seal(&d->keep, wall_ms(), loop_now_ms());
	flush_sinks(d);
	status_line(d, line, sizeof(line));
	log_info("exiting: %s", line);
	control_close(d->ctl);
	loop_free(d->loop);
	pipeline_free(d->p);
	sink_syslog_free(d->sink);
	storekeep_clear(&d->keep);
	for (size_t i = 0; i < d->n_fwd; i++)
		sink_forward_free(d->fwd[i]);
	store_close(d->lookup);
	store_close(d->store);
	if (d->cfg != d->cfg_inputs)
		config_free(d->cfg);
	config_free(d->cfg_inputs);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: custosd [-fv] [-c FILE]\n"
		"       custosd --check [-v] [-c FILE]\n"
		"  -c, --config FILE  configuration [" DEFAULT_CONFIG "]\n"
		"  -f, --foreground   stay in the foreground, log to stderr\n"
		"  -n, --check        validate config and rules, print OK or "
		"every error\n"
		"                     as file:line:column (exit 2), then exit\n"
		"  -v, --verbose      debug messages; with --check, print the "
		"compiled config\n"
		"  -V, --version      print the version\n");
}

/* The pseudonymisation key files of the forward sinks are readable and
 * long enough (what open_forward would refuse at start).  0, or -1 with
 * the reasons on stderr. */
static int check_keys(const struct config *cfg)
{
	char err[512];
	size_t len;
	int rc = 0;

	for (size_t i = 0; i < cfg->n_sink_forward; i++) {
		const struct config_sink_forward *c = &cfg->sink_forward[i];
		unsigned char *k = NULL;
		if (c->pseudonymize_key_file != NULL &&
		    (k = sink_forward_read_key(c->pseudonymize_key_file, &len,
					       err, sizeof(err))) == NULL) {
			fprintf(stderr, "%s: sinks.forward %s: %s\n", cfg->file,
				c->name, err);
			rc = -1;
		}
		free(k);
	}
	return rc;
}

static int check(const struct daemon *d)
{
	struct config *cfg;
	struct ruleset *rules;
	struct diag dg;

	diag_init(&dg);
	if (load_all(d->config_path, &cfg, &rules, &dg) < 0) {
		diag_print(&dg, stderr);
		diag_clear(&dg);
		return 2;
	}
	if (check_keys(cfg) < 0) {
		ruleset_free(rules);
		config_free(cfg);
		diag_clear(&dg);
		return 2;
	}
	if (d->verbose)
		config_dump(cfg, stdout);
	printf("OK: %s, %zu rules\n", d->config_path, rules->n_rules);
	ruleset_free(rules);
	config_free(cfg);
	diag_clear(&dg);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, 0, 'c'},
	    {"foreground", no_argument, 0, 'f'},
	    {"check", no_argument, 0, 'n'},
	    {"verbose", no_argument, 0, 'v'},
	    {"version", no_argument, 0, 'V'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	struct daemon d = {.config_path = DEFAULT_CONFIG};
	bool check_only = false;
	int c;

	while ((c = getopt_long(argc, argv, "c:fnvVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'f':
			d.foreground = true;
			break;
		case 'n':
			check_only = true;
			break;
		case 'v':
			d.verbose = true;
			break;
		case 'V':
			printf("custosd %s\n", CUSTOS_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (check_only)
		return check(&d);
	log_init(true, d.verbose, LOG_DAEMON);
	d.start_ms = loop_now_ms();
	start(&d);
	d.n_lost_at_start = pipeline_n_lost(d.p);
	if (!d.foreground) {
		if (daemon(1, 0) < 0)
			fatal("daemon");
		log_init(false, d.verbose, LOG_DAEMON);
	}
	sd_notifyf(0, "READY=1\nMAINPID=%ld", (long)getpid());
	log_info("started: %zu inputs, %zu rules, %zu lists (%zu values), "
		 "%zu directory agents, store %s",
		 pipeline_n_inputs(d.p), pipeline_rules(d.p)->n_rules,
		 d.cfg->lists.n_lists, config_list_values(d.cfg),
		 agentdir_count(d.cfg->agents), d.cfg->store_path);
	if (loop_run(d.loop) < 0)
		log_warn("event loop");
	return stop(&d);
}
