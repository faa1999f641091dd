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
 *
 * This file: start-up, the loop's input fds and polling, signals,
 * privileges, stop and main().  Its parts (custosd_int.h): loading and
 * reload in custosd_config.c, checkpoint cadence, seal and purge in
 * custosd_timers.c, the status object and line in custosd_status.c, the
 * sinks' life cycle in custosd_sinks.c.
 */
#include "custosd_int.h"

#include "agentdir.h"
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

/* ---- the loop: timers, input fds, polling ---- */

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
		custosd_timers_checkpoint_if_due(d);
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
		custosd_sinks_report(d->fwd[i]);
	}
	return more || pipeline_sink_queue_depth(d->p) > 0;
}

/* ---- signals ---- */

static void on_signal(struct loop *l, int signo, void *arg)
{
	struct daemon *d = arg;

	if (signo == SIGHUP) {
		custosd_config_reload(d);
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
	    loop_add_fd(d->loop, d->ck.efd, custosd_timers_on_ck_done, d) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	d->ck_timer = loop_add_timer(d->loop, d->cfg->checkpoint.every_ms,
				     custosd_timers_on_checkpoint, d);
	d->alerts_timer =
	    loop_add_timer(d->loop, 1, custosd_timers_on_alerts, d);
	if (d->alerts_timer < 0)
		return -1;
	loop_timer_set(d->loop, d->alerts_timer,
		       d->cfg->checkpoint.alerts_every_ms);
	d->status_timer =
	    loop_add_timer(d->loop, d->cfg->status_log_interval_ms,
			   custosd_status_on_timer, d);
	loop_add_timer(d->loop, POLL_INTERVAL_MS, on_poll_timer, d);
	d->seal_timer = loop_add_timer(d->loop, 1, custosd_timers_on_seal, d);
	d->purge_timer = loop_add_timer(d->loop, 1, custosd_timers_on_purge, d);
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
	if (custosd_config_load(d->config_path, &d->cfg, &rules, &dg) < 0) {
		custosd_config_log_diag(&dg);
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
	custosd_sinks_open(d);
	wire_storekeep(d);
	if (pipeline_open_inputs(d->p, d->store, err, sizeof(err)) < 0)
		fatalx("%s", err);
	d->ctl =
	    control_open(d->cfg->control_socket,
			 group_id(d->cfg->control_group ? d->cfg->control_group
							: d->cfg->group),
			 custosd_status_json, d, err, sizeof(err));
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
	if (custosd_timers_checkpoint(d) < 0)
		rc = 1;
	if (d->lost)
		log_warnx("exiting 1: records were lost to a lack of memory");
	checkpoint_stop_writer(&d->ck);
	storekeep_seal(&d->keep, custosd_wall_ms(), loop_now_ms());
	custosd_sinks_flush(d);
	custosd_status_line(d, line, sizeof(line));
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
 * long enough (what custosd_sinks_open would refuse at start).  0, or -1 with
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
	if (custosd_config_load(d->config_path, &cfg, &rules, &dg) < 0) {
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
