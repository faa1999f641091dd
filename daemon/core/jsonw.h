/*
 * jsonw: a small JSON writer into one growable, bounded buffer.
 *
 * The writer tracks nesting and inserts the commas itself: open an object,
 * write key/value pairs, close it.  Output is compact (no whitespace).
 *
 * Errors are sticky: the first allocation failure, size-limit overflow or
 * nesting error is remembered in w->error and every later call is a no-op,
 * so a caller writes a whole document and checks jsonw_error() once.
 *
 * Strings are escaped per RFC 8259 and the output is pure ASCII-safe for
 * logs: '"' and '\' are escaped; control characters U+0000..U+001F and
 * DEL (0x7f) become \b \f \n \r \t or \u00XX; U+2028 and U+2029 are written
 * as \u2028 / \u2029 (JavaScript-safe); other valid UTF-8 is copied as is.
 * Each byte that does not start a valid, shortest-form UTF-8 sequence for a
 * scalar value (stray continuation byte, truncated sequence, overlong form,
 * surrogate, > U+10FFFF) is replaced by one U+FFFD, written as the escape
 * \ufffd, and the scan resumes at the next byte.  The result is always
 * valid JSON whatever bytes come in (NUL included: lengths are explicit).
 *
 * The buffer is owned by the writer until jsonw_take() hands it over.
 * No clock, no global state; not thread-safe per writer.
 */
#ifndef CUSTOS_JSONW_H
#define CUSTOS_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 32

enum jsonw_error {
	JSONW_OK,
	JSONW_ENOMEM,  /* allocation failed */
	JSONW_ETOOBIG, /* the output would pass max_size */
	JSONW_EDEPTH,  /* nesting deeper than JSONW_MAX_DEPTH */
	JSONW_ESTATE,  /* misuse: unbalanced end, key outside an object */
};

struct jsonw {
	char *buf;	 /* NUL-terminated while error == JSONW_OK */
	size_t len;	 /* bytes written, without the NUL */
	size_t cap;	 /* allocated bytes */
	size_t max_size; /* bound on len + 1 */
	int error;	 /* enum jsonw_error, sticky */
	int depth;
	bool after_key; /* a key was written, its value comes next */
	uint32_t n_items[JSONW_MAX_DEPTH + 1]; /* items written per level */
	char kind[JSONW_MAX_DEPTH + 1];	       /* '{' or '[' per level */
};

/* Starts an empty writer whose output may not exceed max_size bytes
 * (including the terminating NUL).  Allocates nothing yet. */
void jsonw_init(struct jsonw *w, size_t max_size);

/* Frees the buffer; the writer may be initialized again. */
void jsonw_clear(struct jsonw *w);

/* Empties the output and clears the error, keeping the buffer for reuse. */
void jsonw_reset(struct jsonw *w);

/* Makes room for at least `extra` more bytes now (an optional size hint).
 * Returns 0, or -1 with the error set. */
int jsonw_reserve(struct jsonw *w, size_t extra);

/* JSONW_OK (0) or the first error. */
int jsonw_error(const struct jsonw *w);

/* The output so far (NUL-terminated, "" if nothing); owned by the writer,
 * valid until the next call that writes.  NULL after an error. */
const char *jsonw_str(const struct jsonw *w);

/* Hands the output over: returns a malloc'd NUL-terminated string (the
 * caller frees it), or NULL if an error happened (or on allocation
 * failure); in every case the writer is left cleared. */
char *jsonw_take(struct jsonw *w);

void jsonw_object_begin(struct jsonw *w);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w);
void jsonw_array_end(struct jsonw *w);

/* An object key (escaped like a string); the next call writes its value. */
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_keyn(struct jsonw *w, const char *key, size_t len);

/* Values. */
void jsonw_string(struct jsonw *w, const char *s); /* NULL -> null */
void jsonw_stringn(struct jsonw *w, const char *s, size_t len);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_uint(struct jsonw *w, uint64_t v);
/* Integral values within +-2^53 print as integers ("3"), other finite
 * values with up to 17 significant digits (shortest that reads back
 * exactly); NaN and infinities print as null (JSON has no such numbers). */
void jsonw_double(struct jsonw *w, double v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);

/* A value that is already JSON text, copied verbatim (the caller vouches
 * for it). */
void jsonw_raw(struct jsonw *w, const char *json, size_t len);

/* A number given as text: written raw if it is a valid JSON number
 * (RFC 8259 grammar), else as a string, so the output stays valid JSON. */
void jsonw_number_text(struct jsonw *w, const char *s, size_t len);

/* True if s[0..len) is exactly one JSON number per RFC 8259. */
bool jsonw_is_number(const char *s, size_t len);

/* Appends the escaped form of s (no quotes) — exposed for tests and for
 * callers building keys by hand. */
void jsonw_escape(struct jsonw *w, const char *s, size_t len);

#endif
