/*
 * test_daemon_units: the daemon's small pieces — log escaping and the
 * bad-input rate limiter, the event loop (timers, fds, signals through
 * signalfd), control-socket peer rules, and the pipeline's malformed
 * counting and bounded sink queue, and the agent directory's rosters
 * reaching the engine (at start and after a reload).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "control.h"
#include "log.h"
#include "loop.h"
#include "pipeline.h"

static void test_escape(void)
{
	char out[64];

	log_escape(out, sizeof(out), "ok\n\033[2J\\", 8);
	CHECK_STR(out, "ok\\x0a\\x1b[2J\\x5c");
	char big[300];
	memset(big, 'a', sizeof(big));
	char out2[LOG_ESCAPE_MAX * 4 + 8];
	size_t n = log_escape(out2, sizeof(out2), big, sizeof(big));
	CHECK_INT(n, LOG_ESCAPE_MAX + 3);
	CHECK(strcmp(out2 + LOG_ESCAPE_MAX, "...") == 0);
}

static void test_limiter(void)
{
	struct log_limiter l = {0};
	int logged = 0;

	for (int i = 0; i < 25; i++)
		logged += log_bad_input(&l, 1000, "in", 1, 0, "bad", "x", 1);
	CHECK_INT(logged, LOG_BAD_INPUT_BURST);
	CHECK_INT(l.n_suppressed, 25 - LOG_BAD_INPUT_BURST);
	CHECK(log_bad_input(&l, 1000 + LOG_BAD_INPUT_WINDOW_MS, "in", 1, 0,
			    "bad", "x", 1));
	CHECK_INT(l.n_total, 26);
}

static int n_timer, n_fd, last_signal;

static void on_timer(struct loop *l, void *arg)
{
	if (++n_timer == 3)
		loop_stop(l);
}

static void on_fd(struct loop *l, int fd, void *arg)
{
	char c;
	CHECK_INT(read(fd, &c, 1), 1);
	n_fd++;
}

static void on_sig(struct loop *l, int signo, void *arg)
{
	last_signal = signo;
}

static void test_loop(void)
{
	struct loop *l = loop_new();
	int p[2];
	const int sigs[] = {SIGUSR1};

	CHECK(l != NULL && pipe(p) == 0);
	CHECK_INT(loop_add_fd(l, p[0], on_fd, NULL), 0);
	CHECK_INT(loop_add_signals(l, sigs, 1, on_sig, NULL), 0);
	CHECK_INT(write(p[1], "x", 1), 1);
	kill(getpid(), SIGUSR1);
	CHECK_INT(loop_run_once(l, 100), 0);
	CHECK_INT(n_fd, 1);
	CHECK_INT(last_signal, SIGUSR1);
	int64_t t0 = loop_now_ms();
	CHECK(loop_add_timer(l, 20, on_timer, NULL) >= 0);
	CHECK_INT(loop_run(l), 0);
	CHECK_INT(n_timer, 3);
	CHECK(loop_now_ms() - t0 >= 55);
	loop_free(l);
	close(p[0]);
	close(p[1]);
}

static void test_peer(void)
{
	CHECK(control_peer_allowed(0, 0, 1000, (gid_t)-1));
	CHECK(control_peer_allowed(1000, 1000, 1000, (gid_t)-1));
	CHECK(!control_peer_allowed(1001, 1001, 1000, (gid_t)-1));
	CHECK(control_peer_allowed(1001, 50, 1000, 50));
	CHECK(!control_peer_allowed(1001, 51, 1000, 50));
}

static int n_delivered;

static int sink(void *arg, const struct alert *a)
{
	n_delivered++;
	return a->id[0] ? 0 : -1;
}

static void feed(struct pipeline_input *pi, const char *line, uint64_t n)
{
	struct input_record r = {
	    line, strlen(line), false, {"t", NULL, n, n * 100}};
	pipeline_record(pi, &r);
}

static void test_pipeline(void)
{
	struct diag d;
	const char *yaml = "title: t\ndetection:\n  s:\n    action: view\n"
			   "  condition: s\n";
	diag_init(&d);
	struct config *c = config_load_buffer("c.yml", "", 0, &d);
	struct ruleset *rs = ruleset_new();
	CHECK(c != NULL && rs != NULL);
	CHECK(ruleset_load_buffer(rs, "r.yml", yaml, strlen(yaml), &d) == 1);
	CHECK_INT(ruleset_finish(rs, &d), 0);
	char err[128];
	struct pipeline *p = pipeline_new(c, rs, err, sizeof(err));
	CHECK(p != NULL);
	CHECK_INT(pipeline_add_sink(p, "test", sink, NULL), 0);
	/* an input slot without an input: records are fed directly */
	struct pipeline_input pi = {.p = p,
				    .cfg = &(struct config_input){.name = "t"},
				    .decode = pipeline_decoder("json"),
				    .map = c->field_map};
	CHECK(pipeline_decoder("xml") == NULL);
	feed(&pi, "{\"ts\":\"2025-01-01T00:00:00Z\",\"action\":\"view\"}", 1);
	feed(&pi, "{not json", 2);
	feed(&pi, "{\"action\":\"view\"}", 3); /* no ts */
	CHECK_INT(pi.n_malformed, 2);
	size_t n;
	const struct alert *pa = pipeline_pending(p, &n);
	CHECK_INT(n, 1);
	/* the sinks get only what a commit queues (stored alerts) */
	CHECK_INT(pipeline_sink_queue_depth(p), 0);
	pipeline_queue_sink(p, &pa[0]);
	CHECK_INT(pipeline_sink_queue_depth(p), 1);
	/* a commit's burst past the bound: the full queue is delivered
	 * first, nothing is dropped */
	for (int i = 0; i < PIPELINE_SINK_QUEUE_MAX + 5; i++)
		pipeline_queue_sink(p, &pa[0]);
	CHECK_INT(n_delivered, PIPELINE_SINK_QUEUE_MAX);
	CHECK_INT(pipeline_sink_queue_depth(p), 6);
	struct pipeline_totals t;
	pipeline_totals(p, &t);
	CHECK_INT(t.n_sink_dropped, 0);
	CHECK_INT(pipeline_drain_sinks(p, 10), 6);
	CHECK_INT(n_delivered, PIPELINE_SINK_QUEUE_MAX + 6);
	CHECK(pipeline_need_checkpoint(p) == false);
	/* an alerts-only commit takes the alerts, not the interval */
	struct alert *taken;
	bool *held;
	pipeline_take_alerts(p, &taken, &held, &n);
	CHECK_INT(n, 1);
	CHECK_INT(pipeline_records_since_checkpoint(p), 3);
	pipeline_return_pending(p, taken, held, n); /* its commit failed */
	pipeline_take_pending(p, &taken, &held, &n);
	CHECK_INT(n, 1);
	CHECK_INT(pipeline_records_since_checkpoint(p), 0);
	alert_clear(&taken[0]);
	free(taken);
	free(held);
	pipeline_checkpointed(p);
	pipeline_pending(p, &n);
	CHECK_INT(n, 0);
	pipeline_free(p);
	config_free(c);
	diag_clear(&d);
}

/* A config whose agent directory rosters agent r for shift start-end in
 * Lisbon (the CSV written next to it, in dir). */
static struct config *roster_config(const char *dir, const char *shift,
				    struct diag *d)
{
	char path[256], yaml[320];
	snprintf(path, sizeof(path), "%s/agents.csv", dir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return NULL;
	fprintf(f, "agent,tz,shift_start,shift_end\nr,Europe/Lisbon,%s\n",
		shift);
	fclose(f);
	snprintf(yaml, sizeof(yaml), "lookups:\n  agents: %s\n", path);
	return config_load_buffer("c.yml", yaml, strlen(yaml), d);
}

static struct ruleset *roster_rules(struct diag *d)
{
	const char *yaml = "title: o\ndetection:\n  s:\n    action: view\n"
			   "  condition: s\ncustos:\n  off_shift: true\n";
	struct ruleset *rs = ruleset_new();
	CHECK(ruleset_load_buffer(rs, "r.yml", yaml, strlen(yaml), d) == 1);
	CHECK_INT(ruleset_finish(rs, d), 0);
	return rs;
}

static void test_pipeline_roster(void)
{
	char dir[] = "/tmp/custos-roster-XXXXXX", err[128];
	struct diag d;
	size_t n;

	diag_init(&d);
	CHECK(mkdtemp(dir) != NULL);
	struct config *c = roster_config(dir, "08:00,16:00", &d);
	CHECK(c != NULL && c->agents != NULL);
	if (c == NULL)
		return;
	struct pipeline *p =
	    pipeline_new(c, roster_rules(&d), err, sizeof(err));
	struct pipeline_input pi = {.p = p,
				    .cfg = &(struct config_input){.name = "t"},
				    .decode = pipeline_decoder("json"),
				    .map = c->field_map};
	/* 09:00 local (WET) is on shift, 20:00 is not: no history needed */
	feed(&pi,
	     "{\"ts\":\"2025-03-17T09:00:00Z\",\"agent\":\"r\","
	     "\"action\":\"view\"}",
	     1);
	pipeline_pending(p, &n);
	CHECK_INT(n, 0);
	feed(&pi,
	     "{\"ts\":\"2025-03-17T20:00:00Z\",\"agent\":\"r\","
	     "\"action\":\"view\"}",
	     2);
	pipeline_pending(p, &n);
	CHECK_INT(n, 1);
	pipeline_checkpointed(p);
	/* reload with a night roster: 09:00 is now off shift */
	struct config *c2 = roster_config(dir, "20:00,04:00", &d);
	CHECK(c2 != NULL);
	CHECK_INT(pipeline_reload(p, c2, roster_rules(&d), err, sizeof(err)),
		  0);
	config_free(c);
	pi.map = c2->field_map;
	feed(&pi,
	     "{\"ts\":\"2025-03-18T09:00:00Z\",\"agent\":\"r\","
	     "\"action\":\"view\"}",
	     3);
	feed(&pi,
	     "{\"ts\":\"2025-03-18T21:00:00Z\",\"agent\":\"r\","
	     "\"action\":\"view\"}",
	     4);
	pipeline_pending(p, &n);
	CHECK_INT(n, 1);
	pipeline_free(p);
	config_free(c2);
	snprintf(err, sizeof(err), "%s/agents.csv", dir);
	unlink(err);
	rmdir(dir);
	diag_print(&d, stderr);
	diag_clear(&d);
}

int main(void)
{
	test_escape();
	test_limiter();
	test_loop();
	test_peer();
	test_pipeline();
	test_pipeline_roster();
	return check_done();
}
