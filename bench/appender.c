/*
 * appender: writes access-log lines to a file at a paced rate, for the
 * daemon benchmark (bench/bench_daemon.sh).  Not part of custos.
 *
 *   appender --pool FILE --out FILE --seq0 N (--rate R --duration S |
 *            --dump N) [--probe-every K] [--probes FILE]
 *
 * The pool is a JSON-lines log from bench/gen_events.py whose lines all
 * start with {"ts":"YYYY-MM-DDTHH:MM:SS.mmmZ".  Output line number `seq`
 * (global, 0-based, continued across invocations with --seq0) is pool line
 * seq % n_pool with its time shifted by (seq / n_pool) * span, where span
 * covers the whole pool, so event time keeps advancing however many times
 * the pool is cycled.  Each line gets "seq":N after ts, and every K-th
 * line (seq % K == 0) also "probe":"yes", which the benchmark's latency
 * probe rule matches.  Stateless across invocations: same seq, same line.
 *
 * Paced mode writes the lines due at rate R since the start (checked about
 * every 0.5 ms), in one write(2) per batch to an O_APPEND descriptor, for
 * S seconds; for each probe line it records "seq wall_us" (CLOCK_REALTIME
 * just after the write that made it visible) in the probes file.  It
 * prints one summary line: "written N seconds T bytes B behind L" (L: lines
 * it could not write in time, 0 when it kept the rate) on stderr.  --dump
 * writes N lines unpaced (the same bytes the daemon would get), for the replay
 * baseline.  Exit 1 on I/O errors, 2 on usage errors.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TS_PREFIX "{\"ts\":\""
#define TS_PREFIX_LEN 7
#define TS_LEN 24 /* 2025-03-03T08:00:00.123Z */
#define BATCH_MAX_LINES 8192
#define BUF_SIZE (8u * 1024 * 1024)
#define MAX_LINE 4096

struct pool {
	char *data;
	size_t *start; /* offset of each line's remainder after ts */
	size_t *len;   /* remainder length, newline included */
	int64_t *ts_ms;
	size_t n;
	int64_t span_ms;
};

struct opts {
	const char *pool, *out, *probes;
	uint64_t seq0, dump, probe_every;
	double rate, duration;
};

static int64_t clock_us(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* days since 1970-01-01 of a civil date (proleptic Gregorian) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* n decimal digits at s, or -1 (no sscanf: the pool is one big string
 * and sscanf would strlen it for every line) */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int parse_ts(const char *s, int64_t *ms)
{
	int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	int h = digits(s + 11, 2), mi = digits(s + 14, 2);
	int se = digits(s + 17, 2), f = digits(s + 20, 3);

	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || mi < 0 || se < 0 ||
	    f < 0 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z')
		return -1;
	*ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 +
	      (int64_t)se * 1000 + f;
	return 0;
}

static void format_ts(int64_t ms, char *out)
{
	time_t s = (time_t)(ms / 1000);
	int f = (int)(ms % 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm); /* 19 chars + NUL */
	out[19] = '.';
	out[20] = (char)('0' + f / 100);
	out[21] = (char)('0' + f / 10 % 10);
	out[22] = (char)('0' + f % 10);
	out[23] = 'Z';
}

static int pool_index(struct pool *p)
{
	size_t cap = 1024, pos = 0, total = strlen(p->data);

	p->start = malloc(cap * sizeof(size_t));
	p->len = malloc(cap * sizeof(size_t));
	p->ts_ms = malloc(cap * sizeof(int64_t));
	while (pos < total && p->start && p->len && p->ts_ms) {
		char *nl = strchr(p->data + pos, '\n');
		size_t end = nl ? (size_t)(nl - p->data) + 1 : total;
		if (end - pos < TS_PREFIX_LEN + TS_LEN + 2 ||
		    end - pos > MAX_LINE ||
		    memcmp(p->data + pos, TS_PREFIX, TS_PREFIX_LEN) != 0 ||
		    parse_ts(p->data + pos + TS_PREFIX_LEN, &p->ts_ms[p->n]) <
			0 ||
		    p->data[end - 1] != '\n') {
			fprintf(stderr,
				"appender: pool line %zu: not "
				"{\"ts\":\"...Z\",... with a newline\n",
				p->n + 1);
			return -1;
		}
		/* remainder starts at the closing quote of ts */
		p->start[p->n] = pos + TS_PREFIX_LEN + TS_LEN;
		p->len[p->n] = end - p->start[p->n];
		pos = end;
		if (++p->n == cap) {
			cap *= 2;
			p->start = realloc(p->start, cap * sizeof(size_t));
			p->len = realloc(p->len, cap * sizeof(size_t));
			p->ts_ms = realloc(p->ts_ms, cap * sizeof(int64_t));
		}
	}
	if (!p->start || !p->len || !p->ts_ms || p->n == 0) {
		fprintf(stderr, "appender: empty pool or out of memory\n");
		return -1;
	}
	p->span_ms = p->ts_ms[p->n - 1] - p->ts_ms[0] + 1000;
	return 0;
}

static int pool_load(struct pool *p, const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;

	if (f == NULL || fstat(fileno(f), &st) < 0 ||
	    (p->data = malloc((size_t)st.st_size + 1)) == NULL ||
	    fread(p->data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "appender: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	p->data[st.st_size] = '\0';
	return pool_index(p);
}

/* Appends line seq to buf; returns its length. */
static size_t make_line(const struct pool *p, uint64_t seq, uint64_t every,
			char *buf)
{
	size_t i = (size_t)(seq % p->n);
	int64_t ms = p->ts_ms[i] + (int64_t)(seq / p->n) * p->span_ms;
	size_t n = TS_PREFIX_LEN;

	memcpy(buf, TS_PREFIX, TS_PREFIX_LEN);
	format_ts(ms, buf + n);
	n += TS_LEN;
	n += (size_t)sprintf(buf + n, "\",\"seq\":%" PRIu64 "%s", seq,
			     every && seq % every == 0 ? ",\"probe\":\"yes\""
						       : "");
	/* skip the remainder's closing quote: we wrote our own */
	memcpy(buf + n, p->data + p->start[i] + 1, p->len[i] - 1);
	return n + p->len[i] - 1;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Writes lines [seq, seq + n) in one write; probes get their time. */
static int write_batch(const struct pool *p, const struct opts *o, int fd,
		       FILE *probes, uint64_t seq, uint64_t n, char *buf,
		       uint64_t *bytes)
{
	size_t len = 0;

	for (uint64_t k = 0; k < n; k++)
		len += make_line(p, seq + k, o->probe_every, buf + len);
	if (write_all(fd, buf, len) < 0)
		return -1;
	*bytes += len;
	if (probes == NULL || o->probe_every == 0)
		return 0;
	int64_t now = clock_us(CLOCK_REALTIME);
	uint64_t first = (seq + o->probe_every - 1) / o->probe_every;
	for (uint64_t q = first * o->probe_every; q < seq + n;
	     q += o->probe_every)
		fprintf(probes, "%" PRIu64 " %" PRId64 "\n", q, now);
	return 0;
}

static int run(const struct pool *p, const struct opts *o, int fd, FILE *probes)
{
	char *buf = malloc(BUF_SIZE);
	uint64_t done = 0, bytes = 0, total, behind = 0;
	int64_t t0 = clock_us(CLOCK_MONOTONIC), now = t0;
	struct timespec nap = {0, 500000};

	if (buf == NULL)
		return -1;
	total = o->dump ? o->dump : (uint64_t)(o->rate * o->duration);
	while (done < total) {
		uint64_t due = total;
		now = clock_us(CLOCK_MONOTONIC);
		if (!o->dump)
			due = (uint64_t)(o->rate * (double)(now - t0) / 1e6);
		if (due > total)
			due = total;
		if (due <= done) {
			nanosleep(&nap, NULL);
			continue;
		}
		uint64_t n = due - done;
		if (n > BATCH_MAX_LINES) {
			behind = n - BATCH_MAX_LINES > behind
				     ? n - BATCH_MAX_LINES
				     : behind;
			n = BATCH_MAX_LINES;
		}
		if (write_batch(p, o, fd, probes, o->seq0 + done, n, buf,
				&bytes) < 0) {
			free(buf);
			return -1;
		}
		done += n;
	}
	now = clock_us(CLOCK_MONOTONIC);
	fprintf(stderr,
		"written %" PRIu64 " seconds %.3f bytes %" PRIu64
		" behind %" PRIu64 "\n",
		done, (double)(now - t0) / 1e6, bytes, behind);
	free(buf);
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (strcmp(k, "--pool") == 0)
			o->pool = v;
		else if (strcmp(k, "--out") == 0)
			o->out = v;
		else if (strcmp(k, "--probes") == 0)
			o->probes = v;
		else if (strcmp(k, "--seq0") == 0)
			o->seq0 = strtoull(v, NULL, 10);
		else if (strcmp(k, "--dump") == 0)
			o->dump = strtoull(v, NULL, 10);
		else if (strcmp(k, "--probe-every") == 0)
			o->probe_every = strtoull(v, NULL, 10);
		else if (strcmp(k, "--rate") == 0)
			o->rate = strtod(v, NULL);
		else if (strcmp(k, "--duration") == 0)
			o->duration = strtod(v, NULL);
		else
			return -1;
	}
	if (argc % 2 == 0 || !o->pool || !o->out ||
	    (!o->dump && (o->rate <= 0 || o->duration <= 0)))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	struct pool p = {0};
	FILE *probes = NULL;
	int fd, rc;

	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr,
			"usage: appender --pool FILE --out FILE [--seq0 N] "
			"(--rate R --duration S | --dump N)\n"
			"                [--probe-every K] [--probes FILE]\n");
		return 2;
	}
	if (pool_load(&p, o.pool) < 0)
		return 1;
	fd = strcmp(o.out, "-") == 0
		 ? STDOUT_FILENO
		 : open(o.out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || (o.probes && (probes = fopen(o.probes, "a")) == NULL)) {
		fprintf(stderr, "appender: %s: %s\n", fd < 0 ? o.out : o.probes,
			strerror(errno));
		return 1;
	}
	rc = run(&p, &o, fd, probes);
	if (rc < 0)
		fprintf(stderr, "appender: %s: %s\n", o.out, strerror(errno));
	if (probes && fclose(probes) != 0)
		rc = -1;
	if (fd != STDOUT_FILENO && close(fd) < 0)
		rc = -1;
	free(p.data);
	free(p.start);
	free(p.len);
	free(p.ts_ms);
	return rc < 0 ? 1 : 0;
}
