/*
 * jsonw: compact JSON writer into one growable, bounded buffer.  See
 * jsonw.h for the escaping rules.
 *
 * Invariants: while error == JSONW_OK, buf is NULL (nothing written yet) or
 * holds len bytes followed by a NUL, and len < cap <= max_size.  n_items
 * and kind describe the open containers at levels 1..depth; level 0 is the
 * top level.  The buffer grows by doubling, so writing n bytes costs O(n)
 * amortized; string escaping copies runs of plain bytes with one memcpy.
 */
#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

/* 1 for printable ASCII that JSON copies as is (not '"', '\\', DEL). */
static const unsigned char plain_tab[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static inline bool is_plain(unsigned char c)
{
	return plain_tab[c] != 0;
}

void jsonw_init(struct jsonw *w, size_t max_size)
{
	memset(w, 0, sizeof(*w));
	w->max_size = max_size;
}

void jsonw_clear(struct jsonw *w)
{
	size_t max_size = w->max_size;

	free(w->buf);
	jsonw_init(w, max_size);
}

void jsonw_reset(struct jsonw *w)
{
	w->len = 0;
	w->error = JSONW_OK;
	w->depth = 0;
	w->after_key = false;
	w->n_items[0] = 0;
	if (w->buf != NULL)
		w->buf[0] = '\0';
}

static void set_error(struct jsonw *w, int error)
{
	if (w->error == JSONW_OK)
		w->error = error;
}

/* Makes room for n more bytes plus the NUL.  0 or -1 (error set). */
static int grow(struct jsonw *w, size_t n)
{
	if (w->error != JSONW_OK)
		return -1;
	if (n > w->max_size || w->len + 1 > w->max_size - n) {
		set_error(w, JSONW_ETOOBIG);
		return -1;
	}
	size_t need = w->len + n + 1;
	size_t cap = w->cap ? w->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > w->max_size)
		cap = w->max_size;
	char *b = realloc(w->buf, cap);
	if (b == NULL) {
		set_error(w, JSONW_ENOMEM);
		return -1;
	}
	w->buf = b;
	w->cap = cap;
	return 0;
}

static inline int ensure(struct jsonw *w, size_t n)
{
	if (w->error == JSONW_OK && w->cap - w->len > n)
		return 0;
	return grow(w, n);
}

int jsonw_reserve(struct jsonw *w, size_t extra)
{
	return ensure(w, extra);
}

static inline void put(struct jsonw *w, const char *s, size_t n)
{
	if (ensure(w, n) < 0)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static inline void putc1(struct jsonw *w, char c)
{
	if (ensure(w, 1) < 0)
		return;
	w->buf[w->len++] = c;
	w->buf[w->len] = '\0';
}

int jsonw_error(const struct jsonw *w)
{
	return w->error;
}

const char *jsonw_str(const struct jsonw *w)
{
	if (w->error != JSONW_OK)
		return NULL;
	return w->buf != NULL ? w->buf : "";
}

char *jsonw_take(struct jsonw *w)
{
	char *out = NULL;

	if (w->error == JSONW_OK) {
		if (w->buf == NULL) {
			out = strdup("");
		} else if (w->cap - w->len > w->len / 4 + 64) {
			/* give back a large unused tail; keep it on failure */
			out = realloc(w->buf, w->len + 1);
			if (out == NULL)
				out = w->buf;
			w->buf = NULL;
		} else {
			out = w->buf;
			w->buf = NULL;
		}
	}
	jsonw_clear(w);
	return out;
}

/* Writes the comma that separates this item from the previous one (if
 * any) and counts the item in its container. */
static void begin_value(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0 && w->kind[w->depth] == '{') {
		set_error(w, JSONW_ESTATE); /* a value needs a key first */
		return;
	}
	if (w->n_items[w->depth]++ > 0)
		putc1(w, ',');
}

static void open_container(struct jsonw *w, char kind)
{
	begin_value(w);
	if (w->depth >= JSONW_MAX_DEPTH) {
		set_error(w, JSONW_EDEPTH);
		return;
	}
	w->depth++;
	w->kind[w->depth] = kind;
	w->n_items[w->depth] = 0;
	putc1(w, kind);
}

static void close_container(struct jsonw *w, char kind)
{
	if (w->depth == 0 || w->kind[w->depth] != kind || w->after_key) {
		set_error(w, JSONW_ESTATE);
		return;
	}
	w->depth--;
	putc1(w, kind == '{' ? '}' : ']');
}

void jsonw_object_begin(struct jsonw *w)
{
	open_container(w, '{');
}

void jsonw_object_end(struct jsonw *w)
{
	close_container(w, '{');
}

void jsonw_array_begin(struct jsonw *w)
{
	open_container(w, '[');
}

void jsonw_array_end(struct jsonw *w)
{
	close_container(w, '[');
}

/* Length of the valid UTF-8 sequence starting at s (s[0] >= 0x80), or 0
 * if it is not a valid shortest-form encoding of a scalar value. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > avail)
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* > U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static void put_u_escape(struct jsonw *w, unsigned cp)
{
	char e[6] = {'\\',
		     'u',
		     hex_digits[(cp >> 12) & 0xf],
		     hex_digits[(cp >> 8) & 0xf],
		     hex_digits[(cp >> 4) & 0xf],
		     hex_digits[cp & 0xf]};

	put(w, e, sizeof(e));
}

static void put_ascii_escape(struct jsonw *w, unsigned char c)
{
	char e[2] = {'\\', 0};

	switch (c) {
	case '"':
		e[1] = '"';
		break;
	case '\\':
		e[1] = '\\';
		break;
	case '\b':
		e[1] = 'b';
		break;
	case '\f':
		e[1] = 'f';
		break;
	case '\n':
		e[1] = 'n';
		break;
	case '\r':
		e[1] = 'r';
		break;
	case '\t':
		e[1] = 't';
		break;
	default:
		put_u_escape(w, c);
		return;
	}
	put(w, e, 2);
}

/* Handles the non-ASCII sequence at s; returns the bytes consumed. */
static size_t put_high(struct jsonw *w, const unsigned char *s, size_t avail)
{
	size_t n = utf8_len(s, avail);

	if (n == 0) {
		put_u_escape(w, 0xfffd);
		return 1;
	}
	if (n == 3 && s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] == 0xa8 || s[2] == 0xa9))
		put_u_escape(w, s[2] == 0xa8 ? 0x2028 : 0x2029);
	else
		put(w, (const char *)s, n);
	return n;
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* True if none of the 8 bytes in x needs escaping: no byte < 0x20, none
 * >= 0x7f, no '"' or '\\' (word-at-a-time zero-byte tests). */
static inline bool plain8(uint64_t x)
{
	uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
	uint64_t del = x ^ (ONES * 0x7f);
	uint64_t special = ((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) |
			   ((b - ONES) & ~b) | ((del - ONES) & ~del) | x;

	return (special & HIGHS) == 0;
}

/* Length of the run of plain bytes at the start of s. */
static size_t plain_run(const unsigned char *s, size_t len)
{
	size_t i = 0;
	uint64_t x;

	while (i + 8 <= len) {
		memcpy(&x, s + i, 8);
		if (!plain8(x))
			break;
		i += 8;
	}
	while (i < len && is_plain(s[i]))
		i++;
	return i;
}

void jsonw_escape(struct jsonw *w, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		/* room for the rest unescaped: the common case is one pass */
		if (ensure(w, len - i) < 0)
			return;
		size_t run = plain_run(s + i, len - i);
		memcpy(w->buf + w->len, s + i, run);
		w->len += run;
		w->buf[w->len] = '\0';
		i += run;
		if (i == len)
			break;
		if (s[i] < 0x80)
			put_ascii_escape(w, s[i++]);
		else
			i += put_high(w, s + i, len - i);
	}
}

void jsonw_keyn(struct jsonw *w, const char *key, size_t len)
{
	if (w->error != JSONW_OK)
		return;
	if (w->depth == 0 || w->kind[w->depth] != '{' || w->after_key) {
		set_error(w, JSONW_ESTATE);
		return;
	}
	if (w->n_items[w->depth]++ > 0)
		putc1(w, ',');
	putc1(w, '"');
	jsonw_escape(w, key, len);
	put(w, "\":", 2);
	w->after_key = true;
}

void jsonw_key(struct jsonw *w, const char *key)
{
	jsonw_keyn(w, key, strlen(key));
}

void jsonw_stringn(struct jsonw *w, const char *s, size_t len)
{
	begin_value(w);
	putc1(w, '"');
	jsonw_escape(w, s, len);
	putc1(w, '"');
}

void jsonw_string(struct jsonw *w, const char *s)
{
	if (s == NULL)
		jsonw_null(w);
	else
		jsonw_stringn(w, s, strlen(s));
}

void jsonw_uint(struct jsonw *w, uint64_t v)
{
	char d[24];
	size_t n = sizeof(d);

	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	begin_value(w);
	put(w, d + n, sizeof(d) - n);
}

void jsonw_int(struct jsonw *w, int64_t v)
{
	char d[24];
	size_t n = sizeof(d);
	/* negate in unsigned arithmetic: INT64_MIN has no positive twin */
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		d[--n] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		d[--n] = '-';
	begin_value(w);
	put(w, d + n, sizeof(d) - n);
}

void jsonw_double(struct jsonw *w, double v)
{
	char d[40];

	if (!isfinite(v)) {
		jsonw_null(w);
		return;
	}
	if (v == floor(v) && fabs(v) <= 9007199254740992.0) {
		jsonw_int(w, (int64_t)v);
		return;
	}
	snprintf(d, sizeof(d), "%.15g", v);
	if (strtod(d, NULL) != v)
		snprintf(d, sizeof(d), "%.17g", v);
	for (char *p = d; *p; p++)
		if (*p == ',')
			*p = '.'; /* a locale's decimal comma is not JSON */
	begin_value(w);
	put(w, d, strlen(d));
}

void jsonw_bool(struct jsonw *w, bool v)
{
	begin_value(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void jsonw_null(struct jsonw *w)
{
	begin_value(w);
	put(w, "null", 4);
}

void jsonw_raw(struct jsonw *w, const char *json, size_t len)
{
	begin_value(w);
	put(w, json, len);
}

static size_t skip_digits(const char *s, size_t i, size_t len)
{
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

bool jsonw_is_number(const char *s, size_t len)
{
	size_t i = 0, j;

	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (i < len && s[i] >= '1' && s[i] <= '9')
		i = skip_digits(s, i, len);
	else
		return false;
	if (i < len && s[i] == '.') {
		j = skip_digits(s, i + 1, len);
		if (j == i + 1)
			return false;
		i = j;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		j = skip_digits(s, i, len);
		if (j == i)
			return false;
		i = j;
	}
	return i == len;
}

void jsonw_number_text(struct jsonw *w, const char *s, size_t len)
{
	if (jsonw_is_number(s, len))
		jsonw_raw(w, s, len);
	else
		jsonw_stringn(w, s, len);
}
