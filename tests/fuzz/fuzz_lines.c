/*
 * fuzz_lines: the bounded line reader against a reference model.
 *
 * Input: byte 0 picks max_line_bytes (1..100, or LINES_DEFAULT_MAX_BYTES
 * from 200 up), byte 1 the chunk size (1..64, or all at once for 255), the
 * rest is the stream.  The stream is written chunk by chunk into a
 * non-blocking pipe; after each chunk the reader is drained until it
 * reports EAGAIN (keeping its partial line, as lines.h promises), and the
 * write end is closed at the end to drain to EOF.  This exercises lines
 * split across reads, truncation and skipping across reads, "\r\n", and
 * the final line without a newline.
 *
 * Model (lines.h): lines are the bytes between newlines, offsets count from
 * the first byte, a "\r" before "\n" is dropped, a line longer than max is
 * cut to max bytes and flagged, an empty remainder at EOF is not a line.
 * A "\r" ending the unterminated last line may or may not be dropped (the
 * header does not say).  Any difference aborts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EXPECT(cond)                                                           \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

struct model {
	const char *text;
	size_t len, max;
	size_t pos; /* start of the next expected line */
	uint64_t n_lines, n_truncated;
};

/* Checks one line the reader returned against the next one of the model. */
static void model_check(struct model *m, const char *line, size_t len,
			bool truncated, uint64_t offset)
{
	EXPECT(m->pos < m->len);
	const char *seg = m->text + m->pos;
	const char *nl = memchr(seg, '\n', m->len - m->pos);
	size_t seg_len = nl ? (size_t)(nl - seg) : m->len - m->pos;
	size_t want = seg_len;

	if (want > 0 && seg[want - 1] == '\r' && (nl != NULL || len < want))
		want--;
	bool cut = want > m->max;
	if (cut)
		want = m->max;
	EXPECT(offset == m->pos);
	EXPECT(truncated == cut);
	EXPECT(len == want && memcmp(line, seg, len) == 0);
	m->pos += seg_len + (nl != NULL);
	m->n_lines++;
	m->n_truncated += cut;
}

/* Reads lines until the reader needs more input (EAGAIN) or ends (EOF). */
static int drain(struct line_reader *r, struct model *m)
{
	const char *line;
	size_t len;
	bool truncated;
	uint64_t offset;
	int rc;

	while ((rc = line_reader_next(r, &line, &len, &truncated, &offset)) ==
	       1) {
		EXPECT(m->n_lines <= m->len);
		model_check(m, line, len, truncated, offset);
	}
	if (rc < 0)
		EXPECT(errno == EAGAIN || errno == EWOULDBLOCK);
	return rc;
}

static void feed(const char *text, size_t len, size_t max, size_t chunk)
{
	struct model m = {.text = text, .len = len, .max = max};
	int fds[2];

	EXPECT(pipe2(fds, O_NONBLOCK) == 0);
	struct line_reader *r = line_reader_new(fds[0], max);
	EXPECT(r != NULL);
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		EXPECT(write(fds[1], text + off, n) == (ssize_t)n);
		EXPECT(drain(r, &m) < 0);
	}
	close(fds[1]);
	EXPECT(drain(r, &m) == 0);
	EXPECT(m.pos == len); /* every line was returned */
	EXPECT(line_reader_next(r, &(const char *){0}, &(size_t){0}, NULL,
				NULL) == 0);
	EXPECT(line_reader_n_truncated(r) == m.n_truncated);
	line_reader_free(r);
	close(fds[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a whole input must fit in a pipe buffer (64 KiB by default) */
	if (size < 2 || size > 60000)
		return 0;
	size_t max = LINES_DEFAULT_MAX_BYTES, chunk = size;

	if (data[0] < 200)
		max = 1 + (size_t)data[0] % 100;
	if (data[1] != 255)
		chunk = 1 + (size_t)data[1] % 64;
	feed((const char *)data + 2, size - 2, max, chunk);
	return 0;
}
