/*
 * lines: bounded line reader (contract in lines.h).
 *
 * Invariants: the unread bytes are buf[start, end); buf[start, scan) holds
 * no newline; base is the stream offset of buf[0].  The buffer is compacted
 * (buf[start, end) moved to buf[0]) only at the start of a read, i.e. during
 * the call after the one that returned a line, so a returned line stays
 * valid until the next call.  When not skipping, end - start <= max + 1
 * before each read, so a read always has room (cap = max + READ_BYTES).
 */
#include "lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_BYTES 65536

struct line_reader {
	int fd;
	char *buf;
	size_t cap, max;
	size_t start, scan, end;
	uint64_t base;
	bool skipping; /* discarding the rest of a truncated line */
	bool eof;
	uint64_t n_truncated;
};

struct line_reader *line_reader_new(int fd, size_t max_line_bytes)
{
	struct line_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if (max_line_bytes == 0)
		max_line_bytes = 1;
	if (max_line_bytes > LINE_READER_MAX_LINE_BYTES)
		max_line_bytes = LINE_READER_MAX_LINE_BYTES;
	r->fd = fd;
	r->max = max_line_bytes;
	r->cap = max_line_bytes + READ_BYTES;
	r->buf = malloc(r->cap);
	if (r->buf == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

struct line_reader *line_reader_new_file(FILE *f, size_t max_line_bytes)
{
	return line_reader_new(fileno(f), max_line_bytes);
}

void line_reader_free(struct line_reader *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r);
}

uint64_t line_reader_n_truncated(const struct line_reader *r)
{
	return r->n_truncated;
}

/* Compacts and reads once.  Returns bytes read, 0 at EOF, -1 on error. */
static ssize_t fill(struct line_reader *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->base += r->start;
		r->end -= r->start;
		r->scan -= r->start;
		r->start = 0;
	}
	for (;;) {
		ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0)
			r->end += (size_t)n;
		else if (n == 0)
			r->eof = true;
		return n;
	}
}

/* Hands out buf[start, start + len) and moves start to next. */
static int emit(struct line_reader *r, size_t len, size_t next, bool cut,
		const char **line, size_t *out_len, bool *truncated,
		uint64_t *offset)
{
	if (!cut && len > 0 && r->buf[r->start + len - 1] == '\r')
		len--;
	if (cut || len > r->max) {
		len = r->max;
		cut = true;
		r->n_truncated++;
	}
	*line = r->buf + r->start;
	*out_len = len;
	if (truncated != NULL)
		*truncated = cut;
	if (offset != NULL)
		*offset = r->base + r->start;
	r->start = r->scan = next;
	return 1;
}

/* Drops buffered bytes of a truncated line; true when its end was found. */
static bool skip_rest(struct line_reader *r)
{
	char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);

	if (nl == NULL) {
		r->start = r->scan = r->end;
		return false;
	}
	r->start = r->scan = (size_t)(nl - r->buf) + 1;
	r->skipping = false;
	return true;
}

int line_reader_next(struct line_reader *r, const char **line, size_t *len,
		     bool *truncated, uint64_t *offset)
{
	for (;;) {
		if (!r->skipping || skip_rest(r)) {
			char *nl =
			    memchr(r->buf + r->scan, '\n', r->end - r->scan);
			if (nl != NULL) {
				size_t at = (size_t)(nl - r->buf);
				return emit(r, at - r->start, at + 1, false,
					    line, len, truncated, offset);
			}
			r->scan = r->end;
			if (r->end - r->start > r->max + 1) {
				/* too long: hand out the head, skip the rest */
				r->skipping = true;
				return emit(r, r->max, r->end, true, line, len,
					    truncated, offset);
			}
			if (r->eof && r->end > r->start)
				return emit(r, r->end - r->start, r->end, false,
					    line, len, truncated, offset);
		}
		if (r->eof)
			return 0;
		if (fill(r) < 0)
			return -1;
	}
}
