/*
 * http_head: HTTP/1.x message head syntax (contract in http_head.h).
 *
 * Tokens follow RFC 9110 (tchar); a request line must end with
 * "HTTP/1.<digit>", a status line start with it.  Header values are
 * trimmed of trailing blanks; a continuation line is appended to the
 * previous header's value in place, which only ever shortens the copy.
 */
#include "http_head.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void http_head_clear(struct http_head *h)
{
	free(h->copy);
	free(h->hdrs);
	memset(h, 0, sizeof(*h));
}

/* ---- head syntax ---- */

static bool is_tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Offset just past the empty line that ends a head in p[0..n), or 0. */
size_t http_head_end(const uint8_t *p, size_t n)
{
	const uint8_t *nl = p;

	while ((nl = memchr(nl, '\n', n - (size_t)(nl - p))) != NULL) {
		size_t i = (size_t)(nl - p) + 1;
		if (i < n && p[i] == '\n')
			return i + 1;
		if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n')
			return i + 2;
		nl = p + i;
		if (i >= n)
			break;
	}
	return 0;
}

/* Splits "METHOD SP URI SP HTTP/1.x" (line NUL-terminated, no CRLF). */
int http_head_request_line(char *line, struct http_head *h)
{
	char *sp1 = strchr(line, ' ');
	char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;

	if (sp1 == NULL || sp2 == NULL || sp1 == line || sp2 == sp1 + 1)
		return -1;
	for (char *c = line; c < sp1; c++)
		if (!is_tchar((unsigned char)*c))
			return -1;
	for (char *c = sp1 + 1; c < sp2; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return -1;
	if (strncmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)sp2[8]) || sp2[9] != '\0')
		return -1;
	*sp1 = *sp2 = '\0';
	h->method = line;
	h->uri = sp1 + 1;
	h->minor = sp2[8] - '0';
	return 0;
}

/* "HTTP/1.x SP 3DIGIT [SP reason]" */
static int parse_status_line(const char *line, struct http_head *h)
{
	if (strncmp(line, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)line[7]) || line[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++)
		if (!isdigit((unsigned char)line[i]))
			return -1;
	if (line[12] != '\0' && line[12] != ' ')
		return -1;
	h->minor = line[7] - '0';
	h->status =
	    (line[9] - '0') * 100 + (line[10] - '0') * 10 + line[11] - '0';
	return h->status >= 100 ? 0 : -1; /* 0 means "no response" */
}

/* Next line of the head copy at *r (CRLF or LF ended); NUL-terminates it
 * and returns it, or NULL at the end. */
static char *next_line(char **r, char *end)
{
	char *line = *r, *nl;

	if (line >= end)
		return NULL;
	nl = memchr(line, '\n', (size_t)(end - line));
	if (nl == NULL)
		nl = end;
	*r = nl + 1;
	if (nl > line && nl[-1] == '\r')
		nl--;
	*nl = '\0';
	return line;
}

static void trim_value(struct http_header *x)
{
	char *v = (char *)x->value;

	while (x->value_len &&
	       (v[x->value_len - 1] == ' ' || v[x->value_len - 1] == '\t'))
		v[--x->value_len] = '\0';
}

/* One header line or continuation; line is NUL-terminated in the copy. */
static int header_line(char *line, struct http_head *h, struct http_stats *st)
{
	if (line[0] == ' ' || line[0] == '\t') { /* obs-fold */
		if (h->n_hdrs == 0)
			return -1;
		struct http_header *x = &h->hdrs[h->n_hdrs - 1];
		char *v = (char *)x->value;
		line += strspn(line, " \t");
		size_t n = strlen(line);
		if (x->value_len)
			v[x->value_len++] = ' ';
		memmove(v + x->value_len, line, n + 1);
		x->value_len += n;
		trim_value(x);
		return 0;
	}
	char *colon = strchr(line, ':');
	if (colon == NULL || colon == line)
		return -1;
	for (char *c = line; c < colon; c++)
		if (!is_tchar((unsigned char)*c))
			return -1;
	if (h->n_hdrs == HTTP_MAX_HEADERS) {
		st->n_headers_dropped++;
		return 0;
	}
	*colon = '\0';
	char *v = colon + 1 + strspn(colon + 1, " \t");
	h->hdrs[h->n_hdrs] =
	    (struct http_header){line, v, (size_t)(colon - line), strlen(v)};
	trim_value(&h->hdrs[h->n_hdrs++]);
	return 0;
}

/* Parses the head p[0..n) (ending with its empty line) into h. */
int http_head_parse(const uint8_t *p, size_t n, bool request,
		    struct http_head *h, struct http_stats *st)
{
	char *r, *end, *line;

	memset(h, 0, sizeof(*h));
	h->copy = malloc(n + 1);
	h->hdrs = malloc(HTTP_MAX_HEADERS * sizeof(*h->hdrs));
	if (h->copy == NULL || h->hdrs == NULL) {
		st->n_nomem++;
		goto fail;
	}
	memcpy(h->copy, p, n);
	h->copy[n] = '\0';
	r = h->copy;
	end = h->copy + n;
	line = next_line(&r, end);
	if (line == NULL || (request ? http_head_request_line(line, h)
				     : parse_status_line(line, h)) < 0)
		goto fail;
	while ((line = next_line(&r, end)) != NULL && line[0] != '\0')
		if (header_line(line, h, st) < 0)
			goto fail;
	return 0;
fail:
	http_head_clear(h);
	return -1;
}
