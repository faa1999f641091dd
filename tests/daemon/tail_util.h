/*
 * tail_util: helpers shared by the file-input tests: a temporary directory,
 * file writing, a collecting emit callback and bounded poll loops (they
 * give up after a deadline; the caller then fails a CHECK).
 */
#ifndef CUSTOS_TAIL_UTIL_H
#define CUSTOS_TAIL_UTIL_H

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "input.h"
#include "input_file.h"

struct rec {
	char *data;
	size_t len;
	bool truncated;
	char *path;
	uint64_t line, offset;
};

struct sink {
	struct rec *recs;
	size_t n, cap;
	size_t refuse_at; /* refuse the record that would be number n+1 ==
	                     refuse_at (once), 0 = never */
	size_t n_refused;
};

static inline int sink_emit(void *arg, const struct input_record *r)
{
	struct sink *s = arg;
	struct rec *x;

	if (s->refuse_at && s->n + 1 == s->refuse_at) {
		s->refuse_at = 0;
		s->n_refused++;
		return -1;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->recs = realloc(s->recs, s->cap * sizeof(*s->recs));
		if (s->recs == NULL)
			abort();
	}
	x = &s->recs[s->n++];
	x->data = strndup(r->data, r->len);
	x->len = r->len;
	x->truncated = r->truncated;
	x->path = strdup(r->source.path ? r->source.path : "");
	x->line = r->source.line;
	x->offset = r->source.offset;
	return 0;
}

static inline void sink_clear(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->recs[i].data);
		free(s->recs[i].path);
	}
	free(s->recs);
	memset(s, 0, sizeof(*s));
}

static inline int64_t util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void util_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Waits up to ms for one of the input's descriptors to become readable. */
static inline void util_wait_fds(struct input *in, int ms)
{
	int fds[8];
	struct pollfd p[8];
	size_t n = input_file_ops.fds(in, fds, 8);

	for (size_t i = 0; i < n; i++)
		p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
	if (n)
		poll(p, n, ms);
	else
		util_sleep_ms(ms);
}

/* Polls until the sink holds at least want records or timeout_ms passed;
 * whether it got there. */
static inline bool poll_until(struct input *in, struct sink *s, size_t want,
		       int64_t timeout_ms)
{
	int64_t end = util_now_ms() + timeout_ms;
	char err[256];

	for (;;) {
		if (input_file_ops.poll(in, sink_emit, s, 1000, err,
					sizeof(err)) < 0)
			return false;
		if (s->n >= want)
			return true;
		if (util_now_ms() > end)
			return false;
		util_wait_fds(in, 5);
	}
}

static inline void write_str(const char *path, const char *str, bool append)
{
	int fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC),
		      0644);

	if (fd < 0 || write(fd, str, strlen(str)) != (ssize_t)strlen(str))
		abort();
	close(fd);
}

static inline char *make_tmpdir(void)
{
	char tmpl[] = "/tmp/custos-tail-XXXXXX";
	char *d = mkdtemp(tmpl);

	if (d == NULL)
		abort();
	return strdup(d);
}

static inline void remove_tree(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static inline struct input *open_input(const char *pattern, size_t max_line,
				int start_at, const void *pos, size_t pos_len)
{
	struct config_input cfg = {
		.name = "tail:test",
		.path = (char *)pattern,
		.max_line_bytes = max_line,
		.start_at = start_at,
		.rotate_wait_ms = 50,
	};
	char err[256] = "";
	struct input *in =
		input_file_ops.open(&cfg, pos, pos_len, err, sizeof(err));

	if (in == NULL)
		fprintf(stderr, "open %s: %s\n", pattern, err);
	return in;
}

#endif
