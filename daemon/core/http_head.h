/*
 * http_head: the syntax of one HTTP/1.x message head (request or status
 * line, then header lines), for http_parse.c.  Not for other modules.
 *
 * A head is parsed from a private NUL-terminated copy that is unfolded in
 * place (obs-fold continuations joined with one space; the copy never
 * grows, so every header string points into it).  At most
 * HTTP_MAX_HEADERS headers are kept; more are counted and skipped.
 * Pure: no clock, no output; allocation failures are counted in the stats.
 */
#ifndef CUSTOS_HTTP_HEAD_H
#define CUSTOS_HTTP_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_parse.h"

/* A parsed head: every string points into copy; owned by the head. */
struct http_head {
	char *copy;
	struct http_header *hdrs;
	size_t n_hdrs;
	char *method, *uri; /* requests */
	int minor, status;
};

/* Frees what h holds and zeroes it (a zeroed head is a no-op). */
void http_head_clear(struct http_head *h);

/* Offset just past the empty line that ends a head in p[0..n), or 0 when
 * the head is not complete yet. */
size_t http_head_end(const uint8_t *p, size_t n);

/* Parses the head p[0..n) (ending with its empty line) into h: a request
 * head when request, else a response head.  Returns 0, or -1 on bad syntax
 * or out of memory (counted in st->n_nomem) with h cleared.  Headers over
 * HTTP_MAX_HEADERS are counted in st->n_headers_dropped. */
int http_head_parse(const uint8_t *p, size_t n, bool request,
		    struct http_head *h, struct http_stats *st);

/* Splits "METHOD SP URI SP HTTP/1.x" (line NUL-terminated, no CRLF) in
 * place: fills h->method, h->uri and h->minor.  Returns 0, or -1 when the
 * line is not a request line. */
int http_head_request_line(char *line, struct http_head *h);

#endif
