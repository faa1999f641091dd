/*
 * match_str: Sigma value strings as the matcher compiler sees them (bytes
 * plus a wildcard mark per byte: `*`, `?` or literal) and their parsing from
 * rule text (escapes `\*`, `\?`, `\\`).  Compile time only; see match.h.
 */
#include "match.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Sigma strings ---- */

static int str_reserve(struct match_str *s, size_t extra)
{
	if (s->len + extra <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 32;
	while (cap < s->len + extra)
		cap *= 2;
	unsigned char *b = realloc(s->b, cap + 1);
	if (b == NULL)
		return -1;
	s->b = b;
	unsigned char *w = realloc(s->w, cap + 1);
	if (w == NULL)
		return -1;
	s->w = w;
	s->cap = cap;
	return 0;
}

int match_str_push(struct match_str *s, unsigned char c, enum match_wild w)
{
	if (str_reserve(s, 1) < 0)
		return -1;
	s->b[s->len] = c;
	s->w[s->len] = (unsigned char)w;
	s->len++;
	s->b[s->len] = '\0';
	return 0;
}

int match_str_append(struct match_str *s, const void *p, size_t n)
{
	if (str_reserve(s, n + 1) < 0)
		return -1;
	if (n > 0) {
		memcpy(s->b + s->len, p, n);
		memset(s->w + s->len, MATCH_PLAIN, n);
	}
	s->len += n;
	s->b[s->len] = '\0';
	return 0;
}

int match_str_copy(struct match_str *dst, const struct match_str *src)
{
	dst->len = 0;
	if (str_reserve(dst, src->len + 1) < 0)
		return -1;
	if (src->len > 0) {
		memcpy(dst->b, src->b, src->len);
		memcpy(dst->w, src->w, src->len);
	}
	dst->len = src->len;
	dst->b[dst->len] = '\0';
	return 0;
}

void match_str_clear(struct match_str *s)
{
	free(s->b);
	free(s->w);
	memset(s, 0, sizeof(*s));
}

bool match_str_has_wild(const struct match_str *s)
{
	for (size_t i = 0; i < s->len; i++)
		if (s->w[i] != MATCH_PLAIN)
			return true;
	return false;
}

int match_str_parse(struct match_str *out, const char *text, size_t len)
{
	out->len = 0;
	if (str_reserve(out, len + 1) < 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		char n = i + 1 < len ? text[i + 1] : '\0';
		int rc;
		if (c == '\\' && (n == '*' || n == '?' || n == '\\')) {
			rc = match_str_push(out, (unsigned char)n, MATCH_PLAIN);
			i++;
		} else if (c == '*') {
			rc = match_str_push(out, '*', MATCH_STAR);
		} else if (c == '?') {
			rc = match_str_push(out, '?', MATCH_QMARK);
		} else {
			rc = match_str_push(out, (unsigned char)c, MATCH_PLAIN);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}
