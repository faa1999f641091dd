/*
 * decode_json: the JSON-lines hot path, one line -> event fields in a single
 * pass with no tree (contract and flattening rules in decode_json.h).
 *
 * The scanner reads the line left to right and writes every scalar straight
 * into the event_buf: the dotted name is built in a fixed path buffer and
 * copied into the arena once per field (once per array for the elements of
 * an array of scalars), unless the field table knows it: the table's copy
 * is then used and its bytes only charged; the value is copied once, from
 * the line, or from a scratch buffer when it had escapes or is a
 * reformatted number.  It makes exactly the arena charges, in the same
 * order, that decode_json_ref() (jansson) makes, so both hit the byte and
 * field limits on the same lines.
 *
 * Hot path: the keys of the line's object are first looked up in the
 * buffer's key cache (json_keys.h), a trie of the key sequences of earlier
 * lines: a hit is one memcmp and gives the field id, and a line whose keys
 * are all on one path of the trie needs no duplicate check.  Strings are
 * scanned 16 bytes at a time (SSE2) while they are plain ASCII.
 *
 * Grammar and checks follow jansson 2.14: RFC 8259, strings well-formed
 * UTF-8 (no overlong forms, surrogates or code points above U+10FFFF), no
 * \u0000, no lone surrogate escapes, integers within 64 bits, reals that do
 * not overflow.  Duplicate keys: an object's first SMALL_OBJECT keys are
 * compared pairwise as they arrive; when an object has more, all its keys
 * are sorted and compared when it closes, so no line costs more than
 * n log n.
 *
 * Scratch memory (key stack, unescaped keys, unescaped values) lives in
 * fixed arrays inside struct scan, on the caller's stack, and moves to the
 * heap only for unusual lines; it is freed before decode_json() returns.
 * Recursion is bounded by DECODE_JSON_MAX_DEPTH (checked before descending)
 * and every read by the line's length (the line is not NUL-terminated).
 * Pure: never prints, never reads the clock.
 */
#include "decode_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "json_keys.h"

#define SMALL_OBJECT 16
#define KEYS_INLINE 64
#define KEY_BYTES_INLINE 1024
#define TMP_INLINE 2048
#define NEAR_MAX 20 /* longest token quoted in an error (as jansson) */

typedef unsigned char uchar;

/* One key of an object still open: a slice of the line, or (own) bytes in
 * kbytes at off; p is resolved for both when the object is sorted. */
struct key {
	const char *p;
	size_t off, len;
	size_t pos; /* offset of the key's opening quote in the line */
	bool own;
};

struct scan {
	const uchar *line, *p, *end;
	struct event_buf *b;
	struct json_keys *cache; /* the buffer's, or NULL */
	int node;     /* the cache node of the line's last key, or ROOT */
	bool on_path; /* every key of the line's object so far is a node */
	char *err;
	size_t err_size;
	struct key *keys; /* keys of the open objects, outermost first */
	size_t n_keys, cap_keys;
	char *kbytes; /* unescaped keys of the open objects */
	size_t n_kbytes, cap_kbytes;
	char *tmp; /* the current unescaped string, or a real's text */
	size_t n_tmp, cap_tmp;
	char num[40]; /* a real's canonical text */
	char path[DECODE_JSON_MAX_NAME + 1];
	struct key keys_inl[KEYS_INLINE];
	char kbytes_inl[KEY_BYTES_INLINE];
	char tmp_inl[TMP_INLINE];
};

#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
/* Bytes that stand for themselves inside a string: printable ASCII but the
 * quote and the backslash (bytes >= 0x80 are checked as UTF-8). */
/* clang-format off */
static const uchar str_plain[256] = {
	R16(0), R16(0),					/* controls */
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x20: '"' */
	R16(1), R16(1),					/* 0x30-0x4f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,	/* 0x50: '\\' */
	R16(1), R16(1),					/* 0x60-0x7f */
	R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
};
/* clang-format on */

static int fail(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_size > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool is_digit(uchar c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(uchar c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
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

/* "invalid JSON at column N: msg near 'TOKEN'" for the token at `at`; the
 * token is quoted only when short and printable (never raw input bytes). */
static int syntax(struct scan *s, const uchar *at, const char *msg)
{
	size_t col = (size_t)(at - s->line) + 1;

	if (at >= s->end)
		return fail(s->err, s->err_size,
			    "invalid JSON at column %zu: %s near end of file",
			    col, msg);
	if (*at == '\0')
		msg = "unexpected NUL byte";
	size_t n = token_len(at, s->end);
	for (size_t i = 0; i < n && n <= NEAR_MAX; i++)
		if (at[i] < 0x20 || at[i] >= 0x7f)
			n = NEAR_MAX + 1;
	if (n > NEAR_MAX)
		return fail(s->err, s->err_size,
			    "invalid JSON at column %zu: %s", col, msg);
	return fail(s->err, s->err_size,
		    "invalid JSON at column %zu: %s near '%.*s'", col, msg,
		    (int)n, (const char *)at);
}

static int no_memory(struct scan *s)
{
	return fail(s->err, s->err_size, "out of memory");
}

/* A buffer of at least need elements holding the first *cap of buf: buf
 * itself while it is big enough, else a heap copy (buf is freed unless it
 * is the inline array inl).  NULL on allocation failure. */
static void *grow(void *buf, size_t *cap, size_t need, size_t elem,
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

static int tmp_append(struct scan *s, const void *src, size_t n)
{
	if (s->cap_tmp - s->n_tmp < n) {
		char *t =
		    grow(s->tmp, &s->cap_tmp, s->n_tmp + n, 1, s->tmp_inl);
		if (t == NULL)
			return no_memory(s);
		s->tmp = t;
	}
	memcpy(s->tmp + s->n_tmp, src, n);
	s->n_tmp += n;
	return 0;
}

/* Length of the well-formed UTF-8 sequence at p (a byte >= 0x80), or 0:
 * the same checks as jansson's utf8_check_first/utf8_check_full. */
static size_t utf8_len(const uchar *p, const uchar *end)
{
	size_t n;
	uint32_t v;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		v = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		v = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		v = p[0] & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) ||
	    (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
		return 0;
	return n;
}

/* The first byte at or after p that is not plain ASCII (str_plain), or
 * end.  With SSE2, 16 bytes a step while 16 remain before end (never a read
 * past the line): a signed compare with 0x20 flags controls and bytes >=
 * 0x80 at once.  The rest, and other targets, go through the table. */
static inline const uchar *ascii_run(const uchar *p, const uchar *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20);

	while (end - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i m =
		    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote),
					      _mm_cmpeq_epi8(x, bslash)),
				 _mm_cmplt_epi8(x, space));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);
		if (bits != 0)
			return p + __builtin_ctz(bits);
		p += 16;
	}
#endif
	while (end - p >= 4 && str_plain[p[0]] && str_plain[p[1]] &&
	       str_plain[p[2]] && str_plain[p[3]])
		p += 4;
	while (p < end && str_plain[*p])
		p++;
	return p;
}

/* Skips bytes that need no work inside a string: plain ASCII and valid
 * UTF-8 sequences.  Returns the first byte that does, or end. */
static const uchar *plain_run(const uchar *p, const uchar *end)
{
	for (;;) {
		p = ascii_run(p, end);
		if (p == end || *p < 0x80)
			return p;
		size_t n = utf8_len(p, end);
		if (n == 0)
			return p;
		p += n;
	}
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
	return tmp_append(s, o, n);
}

/* \uXXXX at p (the backslash), with its low surrogate if it is a high one.
 * Appends the UTF-8 to tmp; returns the byte after, or NULL (err set). */
static const uchar *unescape_u(struct scan *s, const uchar *p)
{
	char m[64];
	int v = hex4(p + 2, s->end), v2;

	if (v < 0)
		return syntax(s, p, "invalid escape"), NULL;
	p += 6;
	if (v >= 0xd800 && v <= 0xdbff) {
		if (s->end - p < 2 || p[0] != '\\' || p[1] != 'u') {
			snprintf(m, sizeof(m), "invalid Unicode '\\u%04X'", v);
			return syntax(s, p - 6, m), NULL;
		}
		if ((v2 = hex4(p + 2, s->end)) < 0)
			return syntax(s, p, "invalid escape"), NULL;
		if (v2 < 0xdc00 || v2 > 0xdfff) {
			snprintf(m, sizeof(m),
				 "invalid Unicode '\\u%04X\\u%04X'", v, v2);
			return syntax(s, p - 6, m), NULL;
		}
		v = ((v - 0xd800) << 10) + (v2 - 0xdc00) + 0x10000;
		p += 6;
	} else if (v >= 0xdc00 && v <= 0xdfff) {
		snprintf(m, sizeof(m), "invalid Unicode '\\u%04X'", v);
		return syntax(s, p - 6, m), NULL;
	}
	if (v == 0)
		return syntax(s, p - 6, "\\u0000 is not allowed"), NULL;
	return put_utf8(s, (uint32_t)v) < 0 ? NULL : p;
}

/* The escape at p (a backslash): appends its bytes to tmp and returns the
 * byte after it, or NULL (err set). */
static const uchar *unescape(struct scan *s, const uchar *p)
{
	char c;

	if (s->end - p < 2)
		return syntax(s, p, "invalid escape"), NULL;
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
		return syntax(s, p, "invalid escape"), NULL;
	}
	return tmp_append(s, &c, 1) < 0 ? NULL : p + 2;
}

/* A byte that may not appear in a string at p. */
static int bad_string_byte(struct scan *s, const uchar *p)
{
	char m[64];

	if (*p == '\n')
		return syntax(s, p, "unexpected newline");
	if (*p < 0x20)
		snprintf(m, sizeof(m), "control character 0x%x", *p);
	else
		snprintf(m, sizeof(m), "unable to decode byte 0x%x", *p);
	return syntax(s, p, m);
}

/* Scans the string whose opening quote is at s->p and leaves s->p past its
 * closing quote.  *out, *len: the unescaped bytes, a slice of the line when
 * the string has no escape, else in tmp (valid until tmp is reused). */
static int scan_string(struct scan *s, const char **out, size_t *len)
{
	const uchar *start = s->p, *p = s->p + 1;
	bool esc = false;

	for (;;) {
		const uchar *q = plain_run(p, s->end);
		if (esc && tmp_append(s, p, (size_t)(q - p)) < 0)
			return -1;
		p = q;
		if (p == s->end)
			return syntax(s, start, "premature end of input");
		if (*p == '"')
			break;
		if (*p != '\\')
			return bad_string_byte(s, p);
		if (!esc) {
			esc = true;
			s->n_tmp = 0;
			if (tmp_append(s, start + 1, (size_t)(p - start - 1)) <
			    0)
				return -1;
		}
		if ((p = unescape(s, p)) == NULL)
			return -1;
	}
	s->p = p + 1;
	if (esc) {
		*out = s->tmp;
		*len = s->n_tmp;
	} else {
		*out = (const char *)start + 1;
		*len = (size_t)(p - start - 1);
	}
	return 0;
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

/* The rest of a real whose integer part is [start, p): fraction, exponent,
 * then strtod and the canonical text in num. */
static int scan_real(struct scan *s, const uchar *start, const uchar *p,
		     const char **out, size_t *len)
{
	if (*p == '.') {
		if (++p == s->end || !is_digit(*p))
			return syntax(s, start, "invalid token");
		while (p < s->end && is_digit(*p))
			p++;
	}
	if (p < s->end && (*p == 'e' || *p == 'E')) {
		if (++p < s->end && (*p == '+' || *p == '-'))
			p++;
		if (p == s->end || !is_digit(*p))
			return syntax(s, start, "invalid token");
		while (p < s->end && is_digit(*p))
			p++;
	}
	s->n_tmp = 0;
	if (tmp_append(s, start, (size_t)(p - start)) < 0 ||
	    tmp_append(s, "", 1) < 0)
		return -1;
	double d = strtod(s->tmp, NULL);
	if (isinf(d))
		return syntax(s, start, "real number overflow");
	format_real(d, s->num, sizeof(s->num));
	s->p = p;
	*out = s->num;
	*len = strlen(s->num);
	return 0;
}

/* A number at s->p.  Integers are checked against 64 bits without strtoll
 * and keep their text (JSON has no leading zeros, so it is already what %lld
 * prints), except "-0" -> "0"; reals go through scan_real. */
static int scan_number(struct scan *s, const char **out, size_t *len)
{
	const uchar *start = s->p, *p = s->p;
	bool neg = *p == '-';
	uint64_t mag = 0;
	size_t n_digits = 0;

	p += neg;
	if (p == s->end || !is_digit(*p))
		return syntax(s, start, "invalid token");
	if (*p == '0') {
		if (++p < s->end && is_digit(*p))
			return syntax(s, start, "invalid token");
	} else {
		for (; p < s->end && is_digit(*p); p++, n_digits++)
			mag = mag * 10 + (uint64_t)(*p - '0');
	}
	if (p < s->end && (*p == '.' || *p == 'e' || *p == 'E'))
		return scan_real(s, start, p, out, len);
	if (n_digits > 19 || mag > (uint64_t)INT64_MAX + neg)
		return syntax(s, start,
			      neg ? "too big negative integer"
				  : "too big integer");
	s->p = p;
	*out = mag == 0 ? "0" : (const char *)start;
	*len = mag == 0 ? 1 : (size_t)(p - start);
	return 0;
}

/* true, false or null at s->p (not followed by another letter). */
static int scan_literal(struct scan *s, const char **out, size_t *len,
			enum value_kind *kind)
{
	static const struct {
		const char *text, *value;
		size_t len, value_len;
		enum value_kind kind;
	} lit[] = {{"true", "true", 4, 4, VALUE_BOOL},
		   {"false", "false", 5, 5, VALUE_BOOL},
		   {"null", "", 4, 0, VALUE_NULL}};
	size_t avail = (size_t)(s->end - s->p);

	for (size_t i = 0; i < sizeof(lit) / sizeof(lit[0]); i++) {
		size_t n = lit[i].len;
		if (avail < n || memcmp(s->p, lit[i].text, n) != 0 ||
		    (avail > n && is_alpha(s->p[n])))
			continue;
		s->p += n;
		*out = lit[i].value;
		*len = lit[i].value_len;
		*kind = lit[i].kind;
		return 0;
	}
	return syntax(s, s->p, "invalid token");
}

/* A string, number or literal at s->p. */
static int scan_scalar(struct scan *s, const char **out, size_t *len,
		       enum value_kind *kind)
{
	uchar c = s->p < s->end ? *s->p : 0;

	if (c == '"') {
		*kind = VALUE_STRING;
		return scan_string(s, out, len);
	}
	if (c == '-' || is_digit(c)) {
		*kind = VALUE_NUMBER;
		return scan_number(s, out, len);
	}
	if (is_alpha(c))
		return scan_literal(s, out, len, kind);
	if (s->p < s->end && strchr("}]:,", c) != NULL)
		return syntax(s, s->p, "unexpected token");
	return syntax(s, s->p, "invalid token");
}

static inline void skip_ws(struct scan *s)
{
	const uchar *p = s->p;

	if (p < s->end && !(*p <= 0x20))
		return; /* compact JSON: nothing to skip */
	while (p < s->end &&
	       (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	s->p = p;
}

/* Is the byte at s->p c?  (false at the end of the line) */
static bool at(const struct scan *s, uchar c)
{
	return s->p < s->end && *s->p == c;
}

/* The id a name gets in the buffer's table (as event_buf_add). */
static int32_t lookup(const struct scan *s, const char *name, size_t len)
{
	int32_t id = fieldtab_find(s->b->tab, name, len);

	return id >= (int32_t)s->b->n_slots ? -1 : id;
}

static void too_large(struct scan *s)
{
	fail(s->err, s->err_size, "event too large (max %zu bytes)",
	     s->b->max_bytes);
}

/* The name of a field with id (>= 0): the table's copy, charged to the
 * arena as if copied (the same byte accounting as decode_json_ref). */
static const char *table_name(struct scan *s, int32_t id, size_t len)
{
	if (event_buf_charge(s->b, len) < 0)
		return too_large(s), NULL;
	return fieldtab_name(s->b->tab, id);
}

/* The path's first len bytes as a field name, and its id: the table's copy
 * when the table knows it, else an arena copy. */
static const char *path_name(struct scan *s, size_t len, int32_t *id)
{
	*id = lookup(s, s->path, len);
	if (*id >= 0)
		return table_name(s, *id, len);
	const char *name = event_buf_strdup(s->b, s->path, len);
	if (name == NULL)
		too_large(s);
	return name;
}

/* Copies the value into the arena and adds the field; its index or -1. */
static int32_t emit(struct scan *s, const char *name, int32_t id,
		    const char *text, size_t len, enum value_kind kind,
		    int32_t prev_same)
{
	int32_t i =
	    event_buf_add_copy(s->b, name, id, text, len, kind, prev_same);

	if (i == -2)
		return too_large(s), -1;
	if (i < 0)
		return fail(s->err, s->err_size, "too many fields (max %zu)",
			    s->b->max_fields);
	return i;
}

/* Appends ".seg" (or "seg" at the top) to the path; returns the new length
 * or -1 when the name would be too long. */
static int push(struct scan *s, size_t path_len, const char *seg, size_t n)
{
	size_t dot = path_len > 0;

	if (path_len + dot + n > DECODE_JSON_MAX_NAME)
		return fail(s->err, s->err_size,
			    "field name longer than %d bytes",
			    DECODE_JSON_MAX_NAME);
	if (dot)
		s->path[path_len] = '.';
	memcpy(s->path + path_len + dot, seg, n);
	return (int)(path_len + dot + n);
}

static int push_index(struct scan *s, size_t path_len, size_t idx)
{
	char digits[24];
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + idx % 10);
		idx /= 10;
	} while (idx > 0);
	return push(s, path_len, digits + n, sizeof(digits) - n);
}

static int scan_value(struct scan *s, size_t path_len, int depth);

/* Records key k of the object whose keys start at keys[base]; an escaped
 * key (own: it is in tmp) is copied, a slice of the line is not. */
static int add_key(struct scan *s, const char *k, size_t len, bool own,
		   size_t pos)
{
	if (s->n_keys == s->cap_keys) {
		struct key *q = grow(s->keys, &s->cap_keys, s->n_keys + 1,
				     sizeof(*q), s->keys_inl);
		if (q == NULL)
			return no_memory(s);
		s->keys = q;
	}
	struct key *r = &s->keys[s->n_keys++];
	r->p = k;
	r->len = len;
	r->pos = pos;
	r->own = own;
	if (!own)
		return 0;
	if (s->cap_kbytes - s->n_kbytes < len) {
		char *q = grow(s->kbytes, &s->cap_kbytes, s->n_kbytes + len, 1,
			       s->kbytes_inl);
		if (q == NULL)
			return no_memory(s);
		s->kbytes = q;
	}
	memcpy(s->kbytes + s->n_kbytes, k, len);
	r->off = s->n_kbytes;
	s->n_kbytes += len;
	return 0;
}

static const char *key_bytes(const struct scan *s, const struct key *k)
{
	return k->own ? s->kbytes + k->off : k->p;
}

/* Reads the key at s->p into *k, *klen (valid until tmp is reused), checks
 * it against the object's first keys and records it. */
static int scan_key(struct scan *s, size_t base, const char **k, size_t *klen)
{
	const uchar *start = s->p;

	if (!at(s, '"'))
		return syntax(s, start, "string or '}' expected");
	if (scan_string(s, k, klen) < 0)
		return -1;
	if (s->n_keys - base < SMALL_OBJECT) {
		for (size_t i = base; i < s->n_keys; i++) {
			const struct key *o = &s->keys[i];
			if (o->len == *klen &&
			    memcmp(key_bytes(s, o), *k, *klen) == 0)
				return syntax(s, start, "duplicate object key");
		}
	}
	return add_key(s, *k, *klen, *k == s->tmp, (size_t)(start - s->line));
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

/* Duplicate check of an object with more than SMALL_OBJECT keys (the keys
 * from keys[base] on), when it closes. */
static int check_big_object(struct scan *s, size_t base)
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
			return syntax(s, s->line + k[i].pos,
				      "duplicate object key");
	return 0;
}

/* "key": value, in the object whose keys start at keys[base]. */
static int scan_member(struct scan *s, size_t base, size_t path_len, int depth)
{
	const char *k;
	size_t klen;

	if (scan_key(s, base, &k, &klen) < 0)
		return -1;
	int n = push(s, path_len, k, klen);
	if (n < 0)
		return -1;
	skip_ws(s);
	if (!at(s, ':'))
		return syntax(s, s->p, "':' expected");
	s->p++;
	skip_ws(s);
	return scan_value(s, (size_t)n, depth + 1);
}

/* A key of the line's object, a hit in the key cache when the keys before
 * it were nodes of one path (no scanning, no look-up, no duplicate check:
 * see json_keys.h); *e is then the node, else NULL.  A miss is read by
 * scan_key and, on such a path, added to it. */
static int root_key(struct scan *s, const char **k, size_t *klen,
		    const struct json_key **e, int32_t *id)
{
	size_t pos = (size_t)(s->p - s->line);
	int i = -1;

	*e = NULL;
	if (s->on_path && at(s, '"') &&
	    (i = json_keys_match(s->cache, s->node, s->p, s->end)) >= 0) {
		*e = &s->cache->k[i];
		*k = (const char *)s->p + 1;
		*klen = (*e)->len;
		*id = (*e)->id;
		s->p += *klen + 2;
		s->node = i;
		if (s->n_keys == s->cap_keys)
			return add_key(s, *k, *klen, false, pos);
		s->keys[s->n_keys++] =
		    (struct key){.p = *k, .len = *klen, .pos = pos};
		return 0;
	}
	if (scan_key(s, 0, k, klen) < 0)
		return -1;
	*id = lookup(s, *k, *klen);
	if (s->on_path && *k != s->tmp)
		i = json_keys_store(s->cache, s->node, *k, *klen, *id,
				    *id >= 0 ? fieldtab_name(s->b->tab, *id)
					     : NULL);
	s->node = i;
	s->on_path = i >= 0;
	return 0;
}

/* A scalar at s->p, as scan_scalar, with a short cut for the common
 * string: plain ASCII up to its closing quote. */
static inline int root_scalar(struct scan *s, const char **out, size_t *len,
			      enum value_kind *kind)
{
	if (at(s, '"')) {
		const uchar *q = ascii_run(s->p + 1, s->end);
		if (q < s->end && *q == '"') {
			*out = (const char *)s->p + 1;
			*len = (size_t)(q - s->p - 1);
			*kind = VALUE_STRING;
			s->p = q + 1;
			return 0;
		}
	}
	return scan_scalar(s, out, len, kind);
}

/* A member of the line's object: as scan_member with an empty path, the
 * key through the cache, and a scalar's name from the table when it has
 * an id. */
static int scan_root_member(struct scan *s)
{
	const struct json_key *e;
	const char *k, *text, *name;
	size_t klen, len;
	enum value_kind kind;
	int32_t id;

	if (root_key(s, &k, &klen, &e, &id) < 0)
		return -1;
	/* a miss may be in tmp, which the value reuses: into the path now */
	if (e == NULL && push(s, 0, k, klen) < 0)
		return -1;
	skip_ws(s);
	if (!at(s, ':'))
		return syntax(s, s->p, "':' expected");
	s->p++;
	skip_ws(s);
	if (e != NULL && (id < 0 || at(s, '{') || at(s, '[')))
		push(s, 0, k, klen); /* cannot fail: entries fit the path */
	if (at(s, '{') || at(s, '['))
		return scan_value(s, klen, 1);
	if (root_scalar(s, &text, &len, &kind) < 0)
		return -1;
	if (id < 0)
		name = event_buf_strdup(s->b, s->path, klen);
	else if (event_buf_charge(s->b, klen) < 0)
		name = NULL;
	else
		name = e != NULL ? e->name : fieldtab_name(s->b->tab, id);
	if (name == NULL)
		return too_large(s), -1;
	return emit(s, name, id, text, len, kind, -1) < 0 ? -1 : 0;
}

/* The object at s->p ('{') whose members are named path.key. */
static int scan_object(struct scan *s, size_t path_len, int depth)
{
	size_t base = s->n_keys, kbase = s->n_kbytes;

	s->p++;
	skip_ws(s);
	if (!at(s, '}')) {
		for (;;) {
			if ((depth == 0
				 ? scan_root_member(s)
				 : scan_member(s, base, path_len, depth)) < 0)
				return -1;
			skip_ws(s);
			if (!at(s, ','))
				break;
			s->p++;
			skip_ws(s);
		}
		if (!at(s, '}'))
			return syntax(s, s->p, "'}' expected");
	}
	s->p++;
	/* the line's keys are distinct if they are all on one cache path */
	if ((depth > 0 || !s->on_path) && check_big_object(s, base) < 0)
		return -1;
	s->n_keys = base;
	s->n_kbytes = kbase;
	return 0;
}

/* An array element that is a scalar: one more field named path, chained
 * after *prev; the name is copied at the first such element. */
static int scan_element(struct scan *s, size_t path_len, const char **name,
			int32_t *id, int32_t *prev)
{
	const char *text;
	size_t len;
	enum value_kind kind;

	if (scan_scalar(s, &text, &len, &kind) < 0)
		return -1;
	if (*name == NULL && (*name = path_name(s, path_len, id)) == NULL)
		return -1;
	*prev = emit(s, *name, *id, text, len, kind, *prev);
	return *prev < 0 ? -1 : 0;
}

/* The array at s->p ('['): scalars are fields named path, containers are
 * flattened under path.index. */
static int scan_array(struct scan *s, size_t path_len, int depth)
{
	const char *name = NULL;
	int32_t id = -1, prev = -1;

	s->p++;
	skip_ws(s);
	if (at(s, ']')) {
		s->p++;
		return 0;
	}
	for (size_t i = 0;; i++) {
		if (at(s, '{') || at(s, '[')) {
			int n = push_index(s, path_len, i);
			if (n < 0 || scan_value(s, (size_t)n, depth + 1) < 0)
				return -1;
		} else if (scan_element(s, path_len, &name, &id, &prev) < 0) {
			return -1;
		}
		skip_ws(s);
		if (!at(s, ','))
			break;
		s->p++;
		skip_ws(s);
	}
	if (!at(s, ']'))
		return syntax(s, s->p, "']' expected");
	s->p++;
	return 0;
}

/* Any value at s->p, named path, at the given depth (the root is 0). */
static int scan_value(struct scan *s, size_t path_len, int depth)
{
	const char *text, *name;
	size_t len;
	enum value_kind kind;
	int32_t id;

	if (depth > DECODE_JSON_MAX_DEPTH)
		return fail(s->err, s->err_size, "nesting deeper than %d",
			    DECODE_JSON_MAX_DEPTH);
	if (at(s, '{'))
		return scan_object(s, path_len, depth);
	if (at(s, '['))
		return scan_array(s, path_len, depth);
	if (scan_scalar(s, &text, &len, &kind) < 0 ||
	    (name = path_name(s, path_len, &id)) == NULL)
		return -1;
	return emit(s, name, id, text, len, kind, -1) < 0 ? -1 : 0;
}

/* The whole line: optional BOM, blanks, one object, trailing white space. */
static int scan_line(struct scan *s, const char *line, size_t len)
{
	size_t i = 0;

	if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
		i = 3; /* a UTF-8 byte-order mark (first line of a file) */
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len)
		return fail(s->err, s->err_size, "empty line");
	if (line[i] != '{')
		return fail(s->err, s->err_size, "line is not a JSON object");
	s->line = (const uchar *)line;
	s->p = s->line + i;
	s->end = s->line + len;
	if (scan_object(s, 0, 0) < 0)
		return -1;
	skip_ws(s);
	if (s->p != s->end)
		return syntax(s, s->p, "end of file expected");
	return 0;
}

int decode_json(struct event_buf *b, const char *line, size_t len,
		struct event *ev, char *err, size_t err_size)
{
	struct scan s; /* not zeroed: the inline arrays need no init */

	s.b = b;
	s.err = err;
	s.err_size = err_size;
	s.keys = s.keys_inl;
	s.n_keys = 0;
	s.cap_keys = KEYS_INLINE;
	s.kbytes = s.kbytes_inl;
	s.n_kbytes = 0;
	s.cap_kbytes = KEY_BYTES_INLINE;
	s.tmp = s.tmp_inl;
	s.n_tmp = 0;
	s.cap_tmp = TMP_INLINE;
	/* made at the first line; without it (no memory) only slower */
	if (b->json_keys == NULL)
		b->json_keys = json_keys_new();
	s.cache = b->json_keys;
	s.node = JSON_KEYS_ROOT;
	s.on_path = s.cache != NULL;

	event_buf_reset(b);
	int rc = scan_line(&s, line, len);
	if (s.keys != s.keys_inl)
		free(s.keys);
	if (s.kbytes != s.kbytes_inl)
		free(s.kbytes);
	if (s.tmp != s.tmp_inl)
		free(s.tmp);
	if (rc < 0) {
		event_buf_reset(b);
		return -1;
	}
	event_buf_view(b, ev);
	ev->ts_ms = 0;
	ev->raw = line;
	ev->raw_len = len;
	return 0;
}
