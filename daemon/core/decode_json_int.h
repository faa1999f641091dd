/*
 * decode_json_int: the scanner state shared by decode_json.c (the hot path:
 * plain strings, integers, keys, objects and arrays) and decode_json_slow.c
 * (the cold paths: escapes, reals, the duplicate check of big objects and
 * error messages).  Not part of the public interface (decode_json.h).
 *
 * struct scan lives on decode_json()'s stack; its scratch arrays start as
 * the inline arrays and move to the heap (json_slow_grow) only for unusual
 * lines.  Every function here reads the line only within [line, end).
 * Pure: never prints, never reads the clock.
 */
#ifndef CUSTOS_DECODE_JSON_INT_H
#define CUSTOS_DECODE_JSON_INT_H

#include "decode_json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json_keys.h"

#define SMALL_OBJECT 16
#define KEYS_INLINE 64
#define KEY_BYTES_INLINE 1024
#define TMP_INLINE 2048

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
	/* cache hits not yet in keys[]: their positions (the path holds the
	 * rest; a path has at most JSON_KEYS_MAX nodes) */
	size_t n_hits;
	size_t hit_pos[JSON_KEYS_MAX];
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

static inline bool is_digit(uchar c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_alpha(uchar c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline const char *key_bytes(const struct scan *s, const struct key *k)
{
	return k->own ? s->kbytes + k->off : k->p;
}

/* Formats the message into s->err (when it has room); returns -1. */
int json_slow_fail(struct scan *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "invalid JSON at column N: msg near 'TOKEN'" for the token at `at` (in
 * [s->line, s->end]) into s->err; returns -1. */
int json_slow_syntax(struct scan *s, const uchar *at, const char *msg);

/* "out of memory" into s->err; returns -1. */
int json_slow_no_memory(struct scan *s);

/* A buffer of at least need elements of elem bytes holding the first *cap
 * of buf: buf itself while it is big enough, else a heap copy (buf is
 * freed unless it is the inline array inl; *cap is updated).  NULL on
 * allocation failure (buf is then unchanged and still owned by the
 * caller). */
void *json_slow_grow(void *buf, size_t *cap, size_t need, size_t elem,
		     const void *inl);

/* Appends n bytes to s->tmp, growing it; 0, or -1 (err set). */
int json_slow_tmp_append(struct scan *s, const void *src, size_t n);

/* The escape at p (a backslash, before s->end): appends its bytes (UTF-8
 * for \u, with the low surrogate of a high one) to s->tmp and returns the
 * byte after it, or NULL (err set). */
const uchar *json_slow_unescape(struct scan *s, const uchar *p);

/* The error for a byte that may not appear in a string, at p; returns -1. */
int json_slow_bad_string_byte(struct scan *s, const uchar *p);

/* The rest of a real whose integer part is [start, p) (p < s->end, at '.',
 * 'e' or 'E'): fraction, exponent, then strtod.  *out, *len: its canonical
 * text in s->num (the shortest %.Ng, N = 15..17, that reads back as the
 * same double); s->p is left after it.  0, or -1 (err set). */
int json_slow_scan_real(struct scan *s, const uchar *start, const uchar *p,
			const char **out, size_t *len);

/* Duplicate check of an object with more than SMALL_OBJECT keys (the keys
 * from s->keys[base] on, which it reorders), when it closes.  0, or -1
 * (err set) at the later copy of the first repeated key in (length, bytes)
 * order. */
int json_slow_check_big_object(struct scan *s, size_t base);

#endif
