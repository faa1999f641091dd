/*
 * lines: a bounded line reader over a file descriptor.
 *
 * Reads with read(2) into one buffer of max_line_bytes + 64 KiB, so memory
 * is bounded whatever the input: a line longer than max_line_bytes is
 * returned cut to max_line_bytes bytes with *truncated set, and the rest of
 * it is skipped up to the next newline.  "\r\n" endings lose their "\r"; a
 * last line without a newline is returned at EOF (an empty remainder is
 * not a line).  Offsets count bytes from where the reader started reading
 * the descriptor, so a caller that seeks first adds its own base.
 *
 * The reader borrows the descriptor (the caller closes it).  A line
 * returned is valid until the next call or line_reader_free().  A
 * descriptor that returns EAGAIN or EINTR is reported as an error only for
 * real errors: EINTR is retried; on a non-blocking descriptor EAGAIN is
 * returned as -1 with errno set, and the partial line is kept for the next
 * call (tailing a growing file is the input layer's business).
 */
#ifndef CUSTOS_LINES_H
#define CUSTOS_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LINE_READER_MAX_LINE_BYTES (64u * 1024 * 1024)
/* What a caller without a configured limit should use (config default). */
#define LINES_DEFAULT_MAX_BYTES (1024u * 1024)

struct line_reader;

/* A reader over fd (borrowed).  max_line_bytes must be >= 1; values above
 * LINE_READER_MAX_LINE_BYTES are clamped to it.  NULL on allocation
 * failure. */
struct line_reader *line_reader_new(int fd, size_t max_line_bytes);

/* Same over a stdio stream (its descriptor is read directly: do not mix
 * with stdio reads on the same stream). */
struct line_reader *line_reader_new_file(FILE *f, size_t max_line_bytes);

/* Returns 1 with *line and *len (valid until the next call; without the
 * newline, and without a "\r" before it), 0 at EOF, -1 on read error
 * (errno set).  *truncated tells whether the line was longer than
 * max_line_bytes; *offset is the byte offset of the line's first byte.
 * Any of truncated/offset may be NULL. */
int line_reader_next(struct line_reader *r, const char **line, size_t *len,
		     bool *truncated, uint64_t *offset);

/* Number of lines returned truncated so far. */
uint64_t line_reader_n_truncated(const struct line_reader *r);

void line_reader_free(struct line_reader *r);

#endif
