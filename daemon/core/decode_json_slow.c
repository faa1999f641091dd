/*
 * decode_json_slow: the cold paths of the JSON-lines scanner (decode_json.c),
 * kept apart so that the hot path stays short: escapes in strings (\uXXXX
 * and surrogate pairs to UTF-8), reals (strtod, then the shortest text that
 * reads back the same), the sorted duplicate check of objects with more
 * than SMALL_OBJECT keys, scratch growth and error messages.  Messages and
 * checks follow jansson 2.14, as decode_json_ref() does.
 *
 * Everything here works on the caller's struct scan (decode_json_int.h) and
 * reads the line only within [s->line, s->end).  Pure: never prints, never
 * reads the clock.
 */
#include "decode_json_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEAR_MAX 20 /* longest token quoted in an error (as jansson) */

int json_slow_fail(struct scan *s, const char *fmt, ...)
{
	va_list ap;

	if (s->err != NULL && s->err_size > 0) {
		va_start(ap, fmt);
		vsnprintf(s->err, s->err_size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Length of the token at p, for "near '...'" in errors. */
static size_t token_len(const uchar *p, const uchar *end)
{
	const uchar *q = p + 1;

	if (*p == '"') {
		while (q < end && *q != '"')
			q += (*q == '\\' && q + 1 < end) ? 2 : 1;
		return (size_t)(q - p) + (q < end);
	}
	if (is_alpha(*p))
		while (q < end && is_alpha(*q))
			q++;
	else if (*p == '-' || is_digit(*p))
		while (q < end && (is_digit(*q) || *q == '.' || *q == 'e' ||
				   *q == 'E' || *q == '+' || *q == '-'))
			q++;
	return (size_t)(q - p);
}

/* The token is quoted only when short and printable (never raw input
 * bytes). */
int json_slow_syntax(struct scan *s, const uchar *at, const char *msg)
{
	size_t col = (size_t)(at - s->line) + 1;

	if (at >= s->end)
		return json_slow_fail(
		    s, "invalid JSON at column %zu: %s near end of file", col,
		    msg);
	if (*at == '\0')
		msg = "unexpected NUL byte";
	size_t n = token_len(at, s->end);
	for (size_t i = 0; i < n && n <= NEAR_MAX; i++)
		if (at[i] < 0x20 || at[i] >= 0x7f)
			n = NEAR_MAX + 1;
	if (n > NEAR_MAX)
		return json_slow_fail(s, "invalid JSON at column %zu: %s", col,
				      msg);
	return json_slow_fail(s, "invalid JSON at column %zu: %s near '%.*s'",
			      col, msg, (int)n, (const char *)at);
}

int json_slow_no_memory(struct scan *s)
{
	return json_slow_fail(s, "out of memory");
}

void *json_slow_grow(void *buf, size_t *cap, size_t need, size_t elem,
		     const void *inl)
{
	size_t n = *cap;
	void *q;

	while (n < need) {
		if (n > SIZE_MAX / 2 / elem)
			return NULL;
		n *= 2;
	}
	if (n == *cap)
		return buf;
	if (buf == inl) {
		q = malloc(n * elem);
		if (q != NULL)
			memcpy(q, buf, *cap * elem);
	} else {
		q = realloc(buf, n * elem);
	}
	if (q != NULL)
		*cap = n;
	return q;
}

int json_slow_tmp_append(struct scan *s, const void *src, size_t n)
{
	if (s->cap_tmp - s->n_tmp < n) {
		char *t = json_slow_grow(s->tmp, &s->cap_tmp, s->n_tmp + n, 1,
					 s->tmp_inl);
		if (t == NULL)
			return json_slow_no_memory(s);
		s->tmp = t;
	}
	memcpy(s->tmp + s->n_tmp, src, n);
	s->n_tmp += n;
	return 0;
}

static int hex4(const uchar *p, const uchar *end)
{
	int v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		uchar c = p[i];
		v <<= 4;
		if (is_digit(c))
			v += c - '0';
		else if (c >= 'a' && c <= 'f')
			v += c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v += c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static int put_utf8(struct scan *s, uint32_t v)
{
	uchar o[4];
	size_t n;

	if (v < 0x80) {
		o[0] = (uchar)v;
		n = 1;
	} else if (v < 0x800) {
		o[0] = (uchar)(0xc0 | v >> 6);
		o[1] = (uchar)(0x80 | (v & 0x3f));
		n = 2;
	} else if (v < 0x10000) {
		o[0] = (uchar)(0xe0 | v >> 12);
		o[1] = (uchar)(0x80 | (v >> 6 & 0x3f));
		o[2] = (uchar)(0x80 | (v & 0x3f));
		n = 3;
	} else {
		o[0] = (uchar)(0xf0 | v >> 18);
		o[1] = (uchar)(0x80 | (v >> 12 & 0x3f));
		o[2] = (uchar)(0x80 | (v >> 6 & 0x3f));
		o[3] = (uchar)(0x80 | (v & 0x3f));
		n = 4;
	}
	return json_slow_tmp_append(s, o, n);
}

/* \uXXXX at p (the backslash), with its low surrogate if it is a high one.
 * Appends the UTF-8 to tmp; returns the byte after, or NULL (err set). */
static const uchar *unescape_u(struct scan *s, const uchar *p)
{
	char m[64];
	int v = hex4(p + 2, s->end), v2;

	if (v < 0)
		return json_slow_syntax(s, p, "invalid escape"), NULL;
	p += 6;
	if (v >= 0xd800 && v <= 0xdbff) {
		if (s->end - p < 2 || p[0] != '\\' || p[1] != 'u') {
			snprintf(m, sizeof(m), "invalid Unicode '\\u%04X'", v);
			return json_slow_syntax(s, p - 6, m), NULL;
		}
		if ((v2 = hex4(p + 2, s->end)) < 0)
			return json_slow_syntax(s, p, "invalid escape"), NULL;
		if (v2 < 0xdc00 || v2 > 0xdfff) {
			snprintf(m, sizeof(m),
				 "invalid Unicode '\\u%04X\\u%04X'", v, v2);
			return json_slow_syntax(s, p - 6, m), NULL;
		}
		v = ((v - 0xd800) << 10) + (v2 - 0xdc00) + 0x10000;
		p += 6;
	} else if (v >= 0xdc00 && v <= 0xdfff) {
		snprintf(m, sizeof(m), "invalid Unicode '\\u%04X'", v);
		return json_slow_syntax(s, p - 6, m), NULL;
	}
	if (v == 0)
		return json_slow_syntax(s, p - 6, "\\u0000 is not allowed"),
		       NULL;
	return put_utf8(s, (uint32_t)v) < 0 ? NULL : p;
}

const uchar *json_slow_unescape(struct scan *s, const uchar *p)
{
	char c;

	if (s->end - p < 2)
		return json_slow_syntax(s, p, "invalid escape"), NULL;
	switch (p[1]) {
	case '"':
	case '\\':
	case '/':
		c = (char)p[1];
		break;
	case 'b':
		c = '\b';
		break;
	case 'f':
		c = '\f';
		break;
	case 'n':
		c = '\n';
		break;
	case 'r':
		c = '\r';
		break;
	case 't':
		c = '\t';
		break;
	case 'u':
		return unescape_u(s, p);
	default:
		return json_slow_syntax(s, p, "invalid escape"), NULL;
	}
	return json_slow_tmp_append(s, &c, 1) < 0 ? NULL : p + 2;
}

int json_slow_bad_string_byte(struct scan *s, const uchar *p)
{
	char m[64];

	if (*p == '\n')
		return json_slow_syntax(s, p, "unexpected newline");
	if (*p < 0x20)
		snprintf(m, sizeof(m), "control character 0x%x", *p);
	else
		snprintf(m, sizeof(m), "unable to decode byte 0x%x", *p);
	return json_slow_syntax(s, p, m);
}

/* Shortest %.Ng (N = 15..17) that reads back as the same double (the same
 * text as decode_json_ref). */
static void format_real(double d, char *out, size_t size)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, size, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}

int json_slow_scan_real(struct scan *s, const uchar *start, const uchar *p,
			const char **out, size_t *len)
{
	if (*p == '.') {
		if (++p == s->end || !is_digit(*p))
			return json_slow_syntax(s, start, "invalid token");
		while (p < s->end && is_digit(*p))
			p++;
	}
	if (p < s->end && (*p == 'e' || *p == 'E')) {
		if (++p < s->end && (*p == '+' || *p == '-'))
			p++;
		if (p == s->end || !is_digit(*p))
			return json_slow_syntax(s, start, "invalid token");
		while (p < s->end && is_digit(*p))
			p++;
	}
	s->n_tmp = 0;
	if (json_slow_tmp_append(s, start, (size_t)(p - start)) < 0 ||
	    json_slow_tmp_append(s, "", 1) < 0)
		return -1;
	double d = strtod(s->tmp, NULL);
	if (isinf(d))
		return json_slow_syntax(s, start, "real number overflow");
	format_real(d, s->num, sizeof(s->num));
	s->p = p;
	*out = s->num;
	*len = strlen(s->num);
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	int c = memcmp(x->p, y->p, x->len);
	if (c != 0)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

int json_slow_check_big_object(struct scan *s, size_t base)
{
	size_t n = s->n_keys - base;
	struct key *k = s->keys + base;

	if (n <= SMALL_OBJECT)
		return 0;
	for (size_t i = 0; i < n; i++)
		k[i].p = key_bytes(s, &k[i]);
	qsort(k, n, sizeof(*k), key_cmp);
	for (size_t i = 1; i < n; i++)
		if (k[i].len == k[i - 1].len &&
		    memcmp(k[i].p, k[i - 1].p, k[i].len) == 0)
			return json_slow_syntax(s, s->line + k[i].pos,
						"duplicate object key");
	return 0;
}
