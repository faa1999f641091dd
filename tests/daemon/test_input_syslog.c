/*
 * test_input_syslog: a real listener on 127.0.0.1 (ephemeral port) fed by
 * real clients — logger(1) from bsdutils over UDP and TCP (octet counting
 * and LF framing) — and by raw sockets for framing edge cases: frames split
 * at every byte, several frames per write, oversize frames, garbage,
 * back-pressure from the emit callback, the connection cap and the idle
 * timeout.  Every message must be received exactly once with the right
 * MSG.  Uses the wall clock only for deadlines.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "input.h"
#include "input_syslog.h"

#define MAX_GOT 512

struct got {
	char *msg[MAX_GOT];
	char path[MAX_GOT][64];
	uint64_t seq[MAX_GOT];
	int truncated[MAX_GOT];
	size_t n;
	int refuse; /* refuse this many offers first */
};

static int collect(void *arg, const struct input_record *rec)
{
	struct got *g = arg;

	if (g->refuse > 0) {
		g->refuse--;
		return -1;
	}
	if (g->n == MAX_GOT)
		return 0;
	g->msg[g->n] = strndup(rec->data, rec->len);
	snprintf(g->path[g->n], sizeof(g->path[0]), "%s",
		 rec->source.path ? rec->source.path : "");
	g->seq[g->n] = rec->source.offset;
	g->truncated[g->n] = rec->truncated;
	CHECK(rec->source.input != NULL &&
	      strcmp(rec->source.input, "sys") == 0);
	CHECK_INT(rec->source.line, 0);
	g->n++;
	return 0;
}

static void got_clear(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->msg[i]);
	memset(g, 0, sizeof(*g));
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls in until g holds want records or 5 s pass (then one more poll, so
 * that extra records would show). */
static void pump(struct input *in, struct got *g, size_t want, size_t max)
{
	const struct input_ops *ops = &input_syslog_ops;
	int64_t end = mono_ms() + 5000;
	char err[256];

	while (g->n < want && mono_ms() < end) {
		struct pollfd pfd[300];
		int fds[300];
		size_t n = ops->fds(in, fds, 300);
		for (size_t i = 0; i < n; i++)
			pfd[i] =
			    (struct pollfd){.fd = fds[i], .events = POLLIN};
		poll(pfd, n, 50);
		CHECK(ops->poll(in, collect, g, max, err, sizeof(err)) >= 0);
	}
	usleep(50 * 1000);
	ops->poll(in, collect, g, max, err, sizeof(err));
}

static struct input *open_input(const char *listen, int protocol)
{
	struct config_input cfg = {.name = "sys",
				   .type = INPUT_SYSLOG,
				   .listen = (char *)listen,
				   .protocol = protocol,
				   .format = INPUT_JSON};
	char err[256] = "";
	struct input *in =
	    input_syslog_ops.open(&cfg, NULL, 0, err, sizeof(err));
	if (in == NULL)
		fprintf(stderr, "open %s: %s\n", listen, err);
	return in;
}

static int has(const struct got *g, const char *msg)
{
	int n = 0;
	for (size_t i = 0; i < g->n; i++)
		n += strcmp(g->msg[i], msg) == 0;
	return n;
}

static int tcp_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void run_logger(const char *opts, int port, int i)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "logger %s -n 127.0.0.1 -P %d -t custos-test "
		 "'{\"agent\":\"a%d\",\"rows\":%d}'",
		 opts, port, i, i * 10);
	CHECK_INT(system(cmd), 0);
}

static void test_logger(const char *opts, int protocol)
{
	struct input *in = open_input("127.0.0.1:0", protocol);
	struct got g = {0};
	char want[64];

	CHECK(in != NULL);
	if (in == NULL)
		return;
	int port = input_syslog_port(in);
	CHECK(port > 0);
	for (int i = 0; i < 5; i++)
		run_logger(opts, port, i);
	pump(in, &g, 5, 100);
	CHECK_INT(g.n, 5);
	for (int i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "{\"agent\":\"a%d\",\"rows\":%d}",
			 i, i * 10);
		if (has(&g, want) != 1)
			fprintf(stderr, "%s: missing %s\n", opts, want);
		CHECK_INT(has(&g, want), 1);
	}
	const char *proto =
	    protocol == SYSLOG_UDP ? "udp:127.0.0.1:" : "tcp:127.0.0.1:";
	for (size_t i = 0; i < g.n; i++) {
		CHECK(strncmp(g.path[i], proto, strlen(proto)) == 0);
		CHECK_INT(g.seq[i], i + 1);
	}
	struct input_stats st;
	input_syslog_ops.stats(in, &st);
	CHECK_INT(st.n_records, 5);
	CHECK_INT(st.n_errors, 0);
	size_t len = 1;
	CHECK(input_syslog_ops.position(in, &len) == NULL);
	CHECK_INT(len, 0);
	got_clear(&g);
	input_syslog_ops.close(in);
}

static void test_split_every_byte(void)
{
	struct input *in = open_input("127.0.0.1:0", SYSLOG_TCP);
	const char *m1 = "<13>1 - - - - - - {\"agent\":\"x\"}";
	const char *m2 = "<13>Oct 11 22:14:15 host app[1]: agent=y rows=2";
	char stream[256];
	struct got g = {0};

	CHECK(in != NULL);
	if (in == NULL)
		return;
	int n = snprintf(stream, sizeof(stream), "%zu %s%zu %s", strlen(m1), m1,
			 strlen(m2), m2);
	int fd = tcp_connect(input_syslog_port(in));
	CHECK(fd >= 0);
	for (int i = 0; i < n; i++) { /* one byte per segment, polled */
		CHECK_INT(write(fd, stream + i, 1), 1);
		pump(in, &g, 0, 100);
	}
	pump(in, &g, 2, 100);
	CHECK_INT(g.n, 2);
	CHECK_INT(has(&g, "{\"agent\":\"x\"}"), 1);
	CHECK_INT(has(&g, "agent=y rows=2"), 1);
	/* now many frames in one write, LF framing on a second connection */
	int fd2 = tcp_connect(input_syslog_port(in));
	const char *lf = "<13>1 - - - - - - one\n<13>1 - - - - - - two\r\n"
			 "<14>Jan  1 00:00:00 h t: three\n";
	CHECK_INT(write(fd2, lf, strlen(lf)), (int)strlen(lf));
	pump(in, &g, 5, 100);
	CHECK_INT(g.n, 5);
	CHECK_INT(has(&g, "one"), 1);
	CHECK_INT(has(&g, "two"), 1);
	CHECK_INT(has(&g, "three"), 1);
	close(fd);
	close(fd2);
	got_clear(&g);
	input_syslog_ops.close(in);
}

static void test_oversize_garbage_backpressure(void)
{
	struct input *in = open_input("127.0.0.1:0", SYSLOG_TCP);
	struct input_syslog_limits l = {.max_msg_bytes = 40};
	struct got g = {0};
	char big[200], buf[512];

	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK_INT(input_syslog_set_limits(in, &l), 0);
	memset(big, 'z', 100);
	big[100] = '\0';
	/* an oversize frame, a frame that is not syslog, a good one */
	int n = snprintf(
	    buf, sizeof(buf),
	    "%d <13>1 - - - - - - %s9 not-syslo%d <13>1 - - - - - - ok",
	    (int)strlen(big) + 18, big, 20);
	int fd = tcp_connect(input_syslog_port(in));
	CHECK_INT(write(fd, buf, (size_t)n), n);
	g.refuse = 1; /* the first offer is refused, then offered again */
	pump(in, &g, 2, 100);
	CHECK_INT(g.n, 2);
	if (g.n == 2) {
		CHECK_INT(strlen(g.msg[0]), 40 - 18); /* header is 18 */
		CHECK(g.truncated[0]);
		CHECK_STR(g.msg[1], "ok");
		CHECK(!g.truncated[1]);
		CHECK_INT(g.seq[0], 1);
		CHECK_INT(g.seq[1], 2);
	}
	struct input_stats st;
	struct input_syslog_stats xs;
	input_syslog_ops.stats(in, &st);
	input_syslog_counters(in, &xs);
	CHECK_INT(st.n_truncated, 1);
	CHECK_INT(xs.n_parse_errors, 1);
	/* framing garbage: counted, the connection resyncs at the LF */
	const char *junk = "xx garbage\n5 <13>";
	CHECK_INT(write(fd, junk, strlen(junk)), (int)strlen(junk));
	CHECK_INT(write(fd, "x\n", 2), 2);
	pump(in, &g, 3, 100);
	CHECK_INT(g.n, 3);
	input_syslog_counters(in, &xs);
	CHECK_INT(xs.n_frame_errors, 1);
	/* in octet-counting mode "xx" is a framing error, not a message */
	CHECK_INT(xs.n_parse_errors, 1);
	if (g.n == 3)
		CHECK_STR(g.msg[2], "x");
	close(fd);
	got_clear(&g);
	input_syslog_ops.close(in);
}

static void test_cap_and_idle(void)
{
	struct input *in = open_input("127.0.0.1:0", SYSLOG_TCP);
	struct input_syslog_limits l = {.max_conns = 2, .idle_ms = 200};
	struct input_syslog_stats xs;
	struct got g = {0};
	int fd[3];

	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK_INT(input_syslog_set_limits(in, &l), 0);
	int port = input_syslog_port(in);
	for (int i = 0; i < 3; i++)
		fd[i] = tcp_connect(port);
	pump(in, &g, 0, 100);
	input_syslog_counters(in, &xs);
	CHECK_INT(xs.n_conns, 2);
	CHECK_INT(xs.n_accepted, 2);
	CHECK_INT(xs.n_refused, 1);
	/* the refused one sees the close */
	char c;
	CHECK(read(fd[2], &c, 1) <= 0);
	/* one connection stays busy, the other idles out */
	int64_t end = mono_ms() + 600;
	while (mono_ms() < end) {
		CHECK_INT(write(fd[0], "3 <1>", 5), 5);
		pump(in, &g, g.n + 1, 100);
	}
	input_syslog_counters(in, &xs);
	CHECK_INT(xs.n_idle_closed, 1);
	CHECK_INT(xs.n_conns, 1);
	CHECK(g.n >= 3);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
	pump(in, &g, 0, 100);
	input_syslog_counters(in, &xs);
	CHECK_INT(xs.n_conns, 0); /* EOF closes */
	got_clear(&g);
	input_syslog_ops.close(in);
}

static void test_udp_raw_and_v6(void)
{
	struct input *in = open_input("[::1]:0", SYSLOG_UDP);
	struct got g = {0};

	if (in == NULL) {
		printf("SKIP: no IPv6 loopback\n");
		return;
	}
	int port = input_syslog_port(in);
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
				  .sin6_port = htons((uint16_t)port),
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	const char *msgs[] = {"<13>1 - - - - - - {\"a\":1}\n",
			      "<13>Oct 11 22:14:15 h t: b=2", "not syslog"};
	for (int i = 0; i < 3; i++)
		sendto(fd, msgs[i], strlen(msgs[i]), 0, (struct sockaddr *)&sa,
		       sizeof(sa));
	pump(in, &g, 2, 1); /* one record per poll */
	CHECK_INT(g.n, 2);
	CHECK_INT(has(&g, "{\"a\":1}"), 1);
	CHECK_INT(has(&g, "b=2"), 1);
	CHECK(g.n > 0 && strncmp(g.path[0], "udp:[::1]:", 10) == 0);
	struct input_stats st;
	input_syslog_ops.stats(in, &st);
	CHECK_INT(st.n_errors, 1);
	close(fd);
	got_clear(&g);
	input_syslog_ops.close(in);
}

static void test_bad_listen(void)
{
	static const char *const bad[] = {"nohost", "127.0.0.1:", "1.2.3.4.5:9",
					  "127.0.0.1:notaport"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config_input cfg = {.name = "x",
					   .listen = (char *)bad[i],
					   .protocol = SYSLOG_UDP};
		char err[256] = "";
		struct input *in =
		    input_syslog_ops.open(&cfg, NULL, 0, err, sizeof(err));
		CHECK(in == NULL);
		CHECK(err[0] != '\0');
		input_syslog_ops.close(in);
	}
}

int main(void)
{
	test_logger("--rfc5424 -d", SYSLOG_UDP);
	test_logger("--rfc3164 -d", SYSLOG_UDP);
	test_logger("--rfc5424 -T --octet-count", SYSLOG_TCP);
	test_logger("--rfc5424 -T", SYSLOG_TCP);
	test_split_every_byte();
	test_oversize_garbage_backpressure();
	test_cap_and_idle();
	test_udp_raw_and_v6();
	test_bad_listen();
	return check_done();
}
