/*
 * test_sink_syslog: the queue (bounds, drop counting, order, flush limits),
 * the level -> priority map and config checks, and real delivery to
 * rsyslogd (Debian's rsyslog) started by the test on a private unix socket
 * with a temporary config that writes to a temporary file: every alert
 * line must arrive once, in order, at its priority, as one line.  Delivery
 * is checked both through socket_path and through syslog(3) itself, the
 * latter in a child with a private mount namespace whose /dev/log points
 * at the test's socket (skipped, with a message, where namespaces are not
 * allowed).  Without rsyslogd the delivery part fails: CI must install it.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "sink_syslog.h"

static struct rule rules[SINK_SYSLOG_N_LEVELS];

static void make_alert(struct alert *a, int i, enum rule_level level,
		       const char *event_json)
{
	memset(a, 0, sizeof(*a));
	a->rule = &rules[level];
	a->ts_ms = 1746100800000 + i;
	a->value = 1;
	a->event_json = strdup(event_json);
	a->source_input = strdup("crm");
	a->source_line = (uint64_t)i + 1;
	alert_compute_id(a);
}

static void setup_rules(void)
{
	static const char *const titles[] = {"info rule", "low rule",
					     "medium rule", "high rule",
					     "critical rule"};
	for (int i = 0; i < SINK_SYSLOG_N_LEVELS; i++) {
		rules[i].kind = RULE_DETECTION;
		rules[i].title = (char *)titles[i];
		rules[i].level = (enum rule_level)i;
	}
}

static void test_config(void)
{
	struct sink_syslog_config c;
	char err[128];
	int v;

	sink_syslog_config_init(&c);
	CHECK_STR(c.ident, "custosd");
	CHECK_INT(c.facility, LOG_AUTHPRIV);
	CHECK_INT(c.priority[LEVEL_INFORMATIONAL], LOG_INFO);
	CHECK_INT(c.priority[LEVEL_LOW], LOG_NOTICE);
	CHECK_INT(c.priority[LEVEL_MEDIUM], LOG_WARNING);
	CHECK_INT(c.priority[LEVEL_HIGH], LOG_ERR);
	CHECK_INT(c.priority[LEVEL_CRITICAL], LOG_CRIT);
	CHECK_INT(sink_syslog_config_check(&c, err, sizeof(err)), 0);
	CHECK_INT(sink_syslog_facility_parse("local3", &v), 0);
	CHECK_INT(v, LOG_LOCAL3);
	CHECK_INT(sink_syslog_facility_parse("local8", &v), -1);
	CHECK_INT(sink_syslog_severity_parse("warning", &v), 0);
	CHECK_INT(v, LOG_WARNING);
	CHECK_INT(sink_syslog_severity_parse("error", &v), 0);
	CHECK_INT(v, LOG_ERR);
	CHECK_INT(sink_syslog_severity_parse("loud", &v), -1);
	c.facility = 3; /* not a facility (LOG_* are multiples of 8) */
	CHECK_INT(sink_syslog_config_check(&c, err, sizeof(err)), -1);
	CHECK(sink_syslog_new(&c) == NULL);
	sink_syslog_config_init(&c);
	c.priority[LEVEL_HIGH] = 8;
	CHECK_INT(sink_syslog_config_check(&c, err, sizeof(err)), -1);
	CHECK(strstr(err, "high") != NULL);
	sink_syslog_config_init(&c);
	c.queue_max = 0;
	CHECK(sink_syslog_new(&c) == NULL);
	sink_syslog_free(NULL);
}

static void test_queue(const char *dir)
{
	struct sink_syslog_config c;
	struct sink_syslog_stats st;
	char path[512];
	struct alert a;

	sink_syslog_config_init(&c);
	snprintf(path, sizeof(path), "%s/nobody-listens", dir);
	c.socket_path = path;
	c.queue_max = 3;
	c.facility = LOG_LOCAL2;
	c.priority[LEVEL_LOW] = LOG_DEBUG;
	struct sink_syslog *s = sink_syslog_new(&c);
	CHECK(s != NULL);
	CHECK_INT(sink_syslog_priority(s, LEVEL_LOW), LOG_LOCAL2 | LOG_DEBUG);
	CHECK_INT(sink_syslog_priority(s, LEVEL_CRITICAL),
		  LOG_LOCAL2 | LOG_CRIT);
	for (int i = 0; i < 5; i++) {
		make_alert(&a, i, LEVEL_HIGH, "{\"agent\":\"a1\"}");
		CHECK_INT(sink_syslog_push(s, &a), i < 3 ? 0 : -1);
		alert_clear(&a);
	}
	sink_syslog_stats(s, &st);
	CHECK_INT(st.n_queued, 3);
	CHECK_INT(st.n_dropped, 2);
	/* no receiver: nothing sent, nothing lost from the queue */
	CHECK_INT(sink_syslog_flush(s, 10), 0);
	sink_syslog_stats(s, &st);
	CHECK_INT(st.n_queued, 3);
	CHECK_INT(st.n_sent, 0);
	CHECK(st.n_errors >= 1);
	sink_syslog_free(s); /* frees the queued lines (valgrind checks) */
}

static int run(const char *cmd)
{
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static pid_t start_rsyslogd(const char *dir)
{
	char conf[512], cmd[2048];

	snprintf(conf, sizeof(conf), "%s/rsyslog.conf", dir);
	FILE *f = fopen(conf, "w");
	if (f == NULL)
		return -1;
	fprintf(
	    f,
	    "global(workDirectory=\"%s\" maxMessageSize=\"64k\")\n"
	    "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
	    "input(type=\"imuxsock\" Socket=\"%s/log\" "
	    "RateLimit.Interval=\"0\")\n"
	    "template(name=\"t\" type=\"string\" string=\"%%syslogtag%%|"
	    "%%syslogfacility-text%%|%%syslogseverity-text%%|%%msg%%\\n\")\n"
	    "*.* action(type=\"omfile\" file=\"%s/out\" template=\"t\")\n",
	    dir, dir, dir);
	fclose(f);
	pid_t pid = fork();
	if (pid == 0) {
		snprintf(cmd, sizeof(cmd), "%s/rsyslogd.pid", dir);
		execlp("rsyslogd", "rsyslogd", "-n", "-f", conf, "-i", cmd,
		       (char *)NULL);
		_exit(127);
	}
	/* wait for the socket */
	snprintf(cmd, sizeof(cmd), "%s/log", dir);
	for (int i = 0; i < 100; i++) {
		struct stat sb;
		if (stat(cmd, &sb) == 0)
			return pid;
		usleep(50 * 1000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return -1;
}

/* Reads the output file once it has n lines (or 10 s pass). */
static size_t read_lines(const char *dir, char **lines, size_t max, size_t want)
{
	char path[512];
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/out", dir);
	for (int tries = 0; tries < 200; tries++) {
		for (size_t i = 0; i < n; i++)
			free(lines[i]);
		n = 0;
		FILE *f = fopen(path, "r");
		if (f != NULL) {
			char *line = NULL;
			size_t cap = 0;
			ssize_t len;
			while (n < max && (len = getline(&line, &cap, f)) > 0) {
				if (line[len - 1] == '\n')
					line[len - 1] = '\0';
				lines[n++] = strdup(line);
			}
			free(line);
			fclose(f);
		}
		if (n >= want)
			break;
		usleep(50 * 1000);
	}
	return n;
}

/* "tag|facility|severity|msg" with msg's leading space dropped. */
static void expect_line(const char *got, const char *ident, const char *fac,
			const char *sev, const char *json)
{
	char want[8192];
	snprintf(want, sizeof(want), "%s[%%d]|%s|%s| %s", ident, fac, sev,
		 json);
	char tag[128], rest[8192];
	int pid = 0;
	const char *bar = strchr(got, '|');
	CHECK(bar != NULL);
	if (bar == NULL)
		return;
	snprintf(tag, sizeof(tag), "%.*s", (int)(bar - got), got);
	CHECK(sscanf(tag, "%*[^[][%d]:", &pid) == 1);
	CHECK(strncmp(tag, ident, strlen(ident)) == 0);
	snprintf(rest, sizeof(rest), "%s|%s|%s", fac, sev, json);
	const char *msg = bar + 1;
	/* rsyslog keeps the space after "tag:" in %msg% */
	char norm[8192];
	snprintf(norm, sizeof(norm), "%s", msg);
	char *p = strstr(norm, "| ");
	if (p != NULL && p == strrchr(norm, '|') - 0)
		memmove(p + 1, p + 2, strlen(p + 2) + 1);
	CHECK_STR(norm, rest);
}

static const enum rule_level levels[] = {
    LEVEL_INFORMATIONAL, LEVEL_LOW, LEVEL_MEDIUM, LEVEL_HIGH, LEVEL_CRITICAL};
static const char *const sev_names[] = {"info", "notice", "warning", "err",
					"crit"};

#define N_ALERTS 25

/* Pushes N_ALERTS alerts (one with a raw newline in its event JSON) and
 * flushes them, a few per call; fills json[] with the expected lines. */
static void send_alerts(struct sink_syslog *s, char **json)
{
	struct alert a;

	for (int i = 0; i < N_ALERTS; i++) {
		char ev[128];
		snprintf(ev, sizeof(ev),
			 i == 7 ? "{\"agent\":\n\"a%d\"}"
				: "{\"agent\":\"a%d\"}",
			 i);
		make_alert(&a, i, levels[i % 5], ev);
		json[i] = alert_to_json(&a);
		for (char *p = json[i]; *p; p++)
			if (*p == '\n')
				*p = ' ';
		CHECK_INT(sink_syslog_push(s, &a), 0);
		alert_clear(&a);
	}
	/* as the daemon loop would: a few per call; the socket is
	 * non-blocking, so when the receiver lags flush sends nothing and
	 * the loop comes back later */
	size_t sent = 0;
	for (int k = 0; k < 500 && sent < N_ALERTS; k++) {
		size_t n = sink_syslog_flush(s, 4);
		CHECK(n <= 4);
		sent += n;
		if (n == 0)
			usleep(10 * 1000);
	}
	CHECK_INT(sent, N_ALERTS);
}

static void check_delivery(const char *dir, size_t first, const char *ident,
			   const char *fac, char **json)
{
	char *lines[200];
	size_t n = read_lines(dir, lines, 200, first + N_ALERTS);

	CHECK_INT(n, first + N_ALERTS);
	for (size_t i = first; i < n && i - first < N_ALERTS; i++)
		expect_line(lines[i], ident, fac, sev_names[(i - first) % 5],
			    json[i - first]);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
}

static void test_rsyslog_socket(const char *dir)
{
	struct sink_syslog_config c;
	struct sink_syslog_stats st;
	char path[512], *json[N_ALERTS];

	sink_syslog_config_init(&c);
	snprintf(path, sizeof(path), "%s/log", dir);
	c.socket_path = path;
	c.ident = "custosd-test";
	c.facility = LOG_LOCAL5;
	struct sink_syslog *s = sink_syslog_new(&c);
	CHECK(s != NULL);
	send_alerts(s, json);
	sink_syslog_stats(s, &st);
	CHECK_INT(st.n_sent, N_ALERTS);
	CHECK_INT(st.n_queued, 0);
	CHECK_INT(st.n_dropped, 0);
	sink_syslog_free(s);
	check_delivery(dir, 0, "custosd-test", "local5", json);
	for (int i = 0; i < N_ALERTS; i++)
		free(json[i]);
}

/* In a child: /dev/log -> dir/log in a private mount namespace, then the
 * sink in syslog(3) mode.  Exit 77 when namespaces are not allowed. */
static int child_syslog3(const char *dir)
{
	char path[512], *json[N_ALERTS];
	int failed = check_n_failed;

	snprintf(path, sizeof(path), "%s/log", dir);
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/dev", "tmpfs", 0, NULL) < 0 ||
	    symlink(path, "/dev/log") < 0)
		return 77;
	struct sink_syslog_config c;
	sink_syslog_config_init(&c);
	c.ident = "custosd-libc";
	struct sink_syslog *s = sink_syslog_new(&c);
	send_alerts(s, json);
	sink_syslog_free(s);
	for (int i = 0; i < N_ALERTS; i++)
		free(json[i]);
	return check_n_failed > failed ? 1 : 0;
}

static void test_rsyslog_syslog3(const char *dir)
{
	char *json[N_ALERTS];
	struct sink_syslog_config c;
	int status;

	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(child_syslog3(dir));
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		printf("SKIP: syslog(3) delivery: no private mount namespace "
		       "(%s)\n",
		       strerror(EPERM));
		return;
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the same alerts, rebuilt here to know the expected lines */
	sink_syslog_config_init(&c);
	c.socket_path = "/nonexistent/log";
	struct sink_syslog *s = sink_syslog_new(&c);
	for (int i = 0; i < N_ALERTS; i++) {
		struct alert a;
		char ev[128];
		snprintf(ev, sizeof(ev),
			 i == 7 ? "{\"agent\":\n\"a%d\"}"
				: "{\"agent\":\"a%d\"}",
			 i);
		make_alert(&a, i, levels[i % 5], ev);
		json[i] = alert_to_json(&a);
		for (char *p = json[i]; *p; p++)
			if (*p == '\n')
				*p = ' ';
		alert_clear(&a);
	}
	sink_syslog_free(s);
	check_delivery(dir, N_ALERTS, "custosd-libc", "authpriv", json);
	for (int i = 0; i < N_ALERTS; i++)
		free(json[i]);
}

int main(void)
{
	char dir[] = "/tmp/custos-sink-syslog-XXXXXX";
	char cmd[600];

	setup_rules();
	test_config();
	if (mkdtemp(dir) == NULL)
		return 1;
	test_queue(dir);
	pid_t pid = start_rsyslogd(dir);
	CHECK(pid > 0);
	if (pid > 0) {
		test_rsyslog_socket(dir);
		test_rsyslog_syslog3(dir);
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	} else {
		fprintf(stderr, "rsyslogd did not start (apt-get install "
				"rsyslog)\n");
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	run(cmd);
	return check_done();
}
