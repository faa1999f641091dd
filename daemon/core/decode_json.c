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
 * The cold paths (escapes, reals, the sorted duplicate check of big
 * objects, scratch growth, error messages) are in decode_json_slow.c; the
 * state both share, struct scan, is in decode_json_int.h.
 *
 * Scratch memory (key stack, unescaped keys, unescaped values) lives in
 * fixed arrays inside struct scan, on the caller's stack, and moves to the
 * heap only for unusual lines; it is freed before decode_json() returns.
 * Recursion is bounded by DECODE_JSON_MAX_DEPTH (checked before descending)
 * and every read by the line's length (the line is not NUL-terminated).
 * Pure: never prints, never reads the clock.
 */
#include "decode_json_int.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* Scans the string whose opening quote is at s->p and leaves s->p past its
 * closing quote.  *out, *len: the unescaped bytes, a slice of the line when
 * the string has no escape, else in tmp (valid until tmp is reused). */
static int scan_string(struct scan *s, const char **out, size_t *len)
{
	const uchar *start = s->p, *p = s->p + 1;
	bool esc = false;

	for (;;) {
		const uchar *q = plain_run(p, s->end);
		if (esc && json_slow_tmp_append(s, p, (size_t)(q - p)) < 0)
			return -1;
		p = q;
		if (p == s->end)
			return json_slow_syntax(s, start,
						"premature end of input");
		if (*p == '"')
			break;
		if (*p != '\\')
			return json_slow_bad_string_byte(s, p);
		if (!esc) {
			esc = true;
			s->n_tmp = 0;
			if (json_slow_tmp_append(s, start + 1,
						 (size_t)(p - start - 1)) < 0)
				return -1;
		}
		if ((p = json_slow_unescape(s, p)) == NULL)
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
		return json_slow_syntax(s, start, "invalid token");
	if (*p == '0') {
		if (++p < s->end && is_digit(*p))
			return json_slow_syntax(s, start, "invalid token");
	} else {
		for (; p < s->end && is_digit(*p); p++, n_digits++)
			mag = mag * 10 + (uint64_t)(*p - '0');
	}
	if (p < s->end && (*p == '.' || *p == 'e' || *p == 'E'))
		return json_slow_scan_real(s, start, p, out, len);
	if (n_digits > 19 || mag > (uint64_t)INT64_MAX + neg)
		return json_slow_syntax(s, start,
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
	return json_slow_syntax(s, s->p, "invalid token");
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
		return json_slow_syntax(s, s->p, "unexpected token");
	return json_slow_syntax(s, s->p, "invalid token");
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
	json_slow_fail(s, "event too large (max %zu bytes)", s->b->max_bytes);
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
	int32_t i = event_buf_add_copy_inline(s->b, name, id, text, len, kind,
					      prev_same);

	if (i == -2)
		return too_large(s), -1;
	if (i < 0)
		return json_slow_fail(s, "too many fields (max %zu)",
				      s->b->max_fields);
	return i;
}

/* Appends ".seg" (or "seg" at the top) to the path; returns the new length
 * or -1 when the name would be too long. */
static int push(struct scan *s, size_t path_len, const char *seg, size_t n)
{
	size_t dot = path_len > 0;

	if (path_len + dot + n > DECODE_JSON_MAX_NAME)
		return json_slow_fail(s, "field name longer than %d bytes",
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
		struct key *q =
		    json_slow_grow(s->keys, &s->cap_keys, s->n_keys + 1,
				   sizeof(*q), s->keys_inl);
		if (q == NULL)
			return json_slow_no_memory(s);
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
		char *q = json_slow_grow(s->kbytes, &s->cap_kbytes,
					 s->n_kbytes + len, 1, s->kbytes_inl);
		if (q == NULL)
			return json_slow_no_memory(s);
		s->kbytes = q;
	}
	memcpy(s->kbytes + s->n_kbytes, k, len);
	r->off = s->n_kbytes;
	s->n_kbytes += len;
	return 0;
}

/* Reads the key at s->p into *k, *klen (valid until tmp is reused), checks
 * it against the object's first keys and records it. */
static int scan_key(struct scan *s, size_t base, const char **k, size_t *klen)
{
	const uchar *start = s->p;

	if (!at(s, '"'))
		return json_slow_syntax(s, start, "string or '}' expected");
	if (scan_string(s, k, klen) < 0)
		return -1;
	if (s->n_keys - base < SMALL_OBJECT) {
		for (size_t i = base; i < s->n_keys; i++) {
			const struct key *o = &s->keys[i];
			if (o->len == *klen &&
			    memcmp(key_bytes(s, o), *k, *klen) == 0)
				return json_slow_syntax(s, start,
							"duplicate object key");
		}
	}
	return add_key(s, *k, *klen, *k == s->tmp, (size_t)(start - s->line));
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
		return json_slow_syntax(s, s->p, "':' expected");
	s->p++;
	skip_ws(s);
	return scan_value(s, (size_t)n, depth + 1);
}

/* Records the line's keys that were cache hits since the last miss (the
 * node s->node and its n_hits - 1 ancestors, at hit_pos[]) as keys, in
 * line order, for the duplicate checks that a miss needs.  Must run
 * before the cache changes (json_keys_store). */
static int pending_keys(struct scan *s)
{
	size_t n = s->n_hits;
	int node = s->node;

	s->n_hits = 0;
	for (size_t j = 0; j < n; j++)
		if (add_key(s, NULL, 0, false, 0) < 0)
			return -1;
	for (size_t j = n; j-- > 0; node = s->cache->k[node].parent) {
		struct key *r = &s->keys[s->n_keys - n + j];
		r->p = (const char *)s->line + s->hit_pos[j] + 1;
		r->len = s->cache->k[node].len;
		r->pos = s->hit_pos[j];
	}
	return 0;
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
		/* only its position: the path gives the rest (pending_keys) */
		s->hit_pos[s->n_hits++] = pos;
		return 0;
	}
	if (pending_keys(s) < 0 || scan_key(s, 0, k, klen) < 0)
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
		return json_slow_syntax(s, s->p, "':' expected");
	s->p++;
	skip_ws(s);
	if (e != NULL && (id < 0 || at(s, '{') || at(s, '[')))
		push(s, 0, k, klen); /* cannot fail: entries fit the path */
	if (at(s, '{') || at(s, '['))
		return scan_value(s, klen, 1);
	if (root_scalar(s, &text, &len, &kind) < 0)
		return -1;
	/* emit(), inline here: most fields take this path */
	int32_t i;
	if (id >= 0) {
		name = e != NULL ? e->name : fieldtab_name(s->b->tab, id);
		i = event_buf_add_named_inline(s->b, name, klen, id, text, len,
					       kind);
	} else if ((name = event_buf_strdup(s->b, s->path, klen)) != NULL) {
		i = event_buf_add_copy_inline(s->b, name, id, text, len, kind,
					      -1);
	} else {
		i = -2;
	}
	if (i >= 0)
		return 0;
	if (i == -2)
		return too_large(s), -1;
	return json_slow_fail(s, "too many fields (max %zu)", s->b->max_fields);
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
			return json_slow_syntax(s, s->p, "'}' expected");
	}
	s->p++;
	/* the line's keys are distinct if they are all on one cache path */
	if ((depth > 0 || !s->on_path) && s->n_keys - base > SMALL_OBJECT &&
	    json_slow_check_big_object(s, base) < 0)
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
		return json_slow_syntax(s, s->p, "']' expected");
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
		return json_slow_fail(s, "nesting deeper than %d",
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
		return json_slow_fail(s, "empty line");
	if (line[i] != '{')
		return json_slow_fail(s, "line is not a JSON object");
	s->line = (const uchar *)line;
	s->p = s->line + i;
	s->end = s->line + len;
	if (scan_object(s, 0, 0) < 0)
		return -1;
	skip_ws(s);
	if (s->p != s->end)
		return json_slow_syntax(s, s->p, "end of file expected");
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
	s.n_hits = 0;

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
