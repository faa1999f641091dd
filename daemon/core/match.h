/*
 * match: value matchers for Sigma detections.  One struct matcher is one
 * compiled alternative ("value after every modifier"); one struct
 * match_field is one `field|mod|mod: values` item of a search identifier:
 * the field id, the combination flags (all, neq, time part) and the
 * alternatives.
 *
 * Values reach this module as Sigma strings (struct match_str: bytes plus
 * a parallel wildcard mark per byte, escapes already resolved) or as raw
 * text for the type modifiers (re, cidr, numeric, fieldref).  Compilation
 * picks the cheapest matcher for each value (exact, prefix, suffix,
 * substring, general wildcard) and lower-cases case-insensitive patterns
 * once (ASCII case folding only; other bytes compare exactly).
 *
 * Matching reads the event and the compiled form only and allocates
 * nothing, with one exception documented at match_thread_release(): the
 * PCRE2 match data, one block per thread, created on the first regex match
 * of that thread and reused for every later match.  A compiled matcher is
 * read-only after compilation and may therefore be shared by threads.
 * Regexes run under a match limit (MATCH_RE_MATCH_LIMIT) and depth limit
 * so a catastrophic pattern ends in bounded time (counted as no match).
 *
 * Ownership: a match_field owns its name, its alternatives and their
 * patterns/compiled regexes; match_field_clear() frees them.
 */
#ifndef CUSTOS_MATCH_H
#define CUSTOS_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define MATCH_RE_MATCH_LIMIT 100000u
#define MATCH_RE_DEPTH_LIMIT 1000u

/* Wildcard marks in match_str.w[] */
enum match_wild { MATCH_PLAIN, MATCH_STAR, MATCH_QMARK };

/* A Sigma string: len bytes, w[i] says whether byte i is a literal byte or
 * a wildcard (b[i] is then '*' or '?').  Growable; match_str_clear() frees. */
struct match_str {
	unsigned char *b;
	unsigned char *w;
	size_t len, cap;
};

int match_str_push(struct match_str *s, unsigned char c, enum match_wild w);
int match_str_append(struct match_str *s, const void *p, size_t n);
int match_str_copy(struct match_str *dst, const struct match_str *src);
void match_str_clear(struct match_str *s);
bool match_str_has_wild(const struct match_str *s);

/* Parses Sigma wildcard syntax: `*` and `?` are wildcards, `\*` `\?` `\\`
 * are the literal characters, any other backslash is literal.  Returns 0
 * or -1 on allocation failure. */
int match_str_parse(struct match_str *out, const char *text, size_t len);

enum match_kind {
	MATCH_EXACT,
	MATCH_PREFIX,
	MATCH_SUFFIX,
	MATCH_CONTAINS,
	MATCH_GLOB,
	MATCH_ANY,  /* "*": any non-null value */
	MATCH_NULL, /* field absent or null */
	MATCH_RE,
	MATCH_CIDR,
	MATCH_NUM,	/* numeric compare */
	MATCH_FIELDREF, /* equal to (or contains/...) another field's value */
	MATCH_SET,	/* equal to one of a set's strings (strset.h) */
};

enum match_op {
	MATCH_OP_EQ,
	MATCH_OP_LT,
	MATCH_OP_LTE,
	MATCH_OP_GT,
	MATCH_OP_GTE
};

/* Part of a timestamp extracted by the time modifiers. */
enum match_time {
	MATCH_TIME_NONE,
	MATCH_TIME_MINUTE,
	MATCH_TIME_HOUR,
	MATCH_TIME_DAY,
	MATCH_TIME_WEEK,
	MATCH_TIME_MONTH,
	MATCH_TIME_YEAR,
};

struct matcher {
	uint8_t kind; /* enum match_kind */
	uint8_t op;   /* enum match_op, MATCH_NUM */
	uint8_t pos;  /* MATCH_FIELDREF: EXACT/PREFIX/SUFFIX/CONTAINS */
	bool cased;
	bool jit;	     /* MATCH_RE: JIT-compiled */
	unsigned char *pat;  /* literal part(s), lower-cased unless cased */
	unsigned char *wild; /* MATCH_GLOB: marks, like match_str.w */
	size_t pat_len;
	void *re;      /* pcre2_code_8 * */
	void *re_mctx; /* pcre2_match_context_8 * */
	char *src;     /* source text, for dumps */
	double num;
	int32_t ref_id;		/* MATCH_FIELDREF */
	uint8_t family;		/* MATCH_CIDR: 4 or 6 */
	uint8_t prefix;		/* MATCH_CIDR */
	unsigned char addr[16]; /* MATCH_CIDR, masked */
	struct strset *set;	/* MATCH_SET (owned) */
};

struct match_field {
	int32_t id;	   /* field id; -1 = keyword search */
	char *name;	   /* field name ("" for keywords) */
	char *mods;	   /* "|contains|all" as written, for dumps */
	bool all;	   /* every alternative must match */
	bool neq;	   /* negate the field's result */
	bool exists;	   /* an `exists` check: ... */
	bool exists_want;  /* ... that the field is (not) present */
	uint8_t time_part; /* enum match_time */
	bool has_null;	   /* some alternative is MATCH_NULL */
	struct matcher *alts;
	size_t n_alts, cap_alts;
};

/* Appends an alternative compiled from a Sigma string.  Picks the matcher
 * kind from the wildcard layout.  Returns 0 or -1 on allocation failure. */
int match_add_string(struct match_field *mf, const struct match_str *s,
		     bool cased);

/* Appends a regex alternative; flags are PCRE2 compile options.  Returns 0,
 * or -1 and writes a message (with the pattern offset) to err. */
int match_add_regex(struct match_field *mf, const char *pattern, uint32_t flags,
		    char *err, size_t err_size);

/* Appends a CIDR alternative ("10.0.0.0/8", "fe80::/10", a bare address
 * means /32 or /128).  Returns 0, or -1 and a message. */
int match_add_cidr(struct match_field *mf, const char *text, char *err,
		   size_t err_size);

/* Appends a numeric comparison.  Returns 0, or -1 and a message when text
 * is not a decimal number. */
int match_add_number(struct match_field *mf, const char *text, enum match_op op,
		     char *err, size_t err_size);

/* Appends a field reference: compares against field ref_id's value(s);
 * pos is MATCH_EXACT, MATCH_PREFIX, MATCH_SUFFIX or MATCH_CONTAINS. */
int match_add_fieldref(struct match_field *mf, int32_t ref_id,
		       const char *ref_name, enum match_kind pos, bool cased);

/* Appends an exact match against every string of set (takes ownership of
 * set, also on failure); cased must be the set's own (strset_new), src
 * names it in dumps ("%vip_customers%").  Returns 0 or -1 on allocation
 * failure. */
struct strset;
int match_add_set(struct match_field *mf, struct strset *set, const char *src,
		  bool cased);

/* Appends the null alternative (field absent or null). */
int match_add_null(struct match_field *mf);

/* Frees everything the field owns and zeroes it. */
void match_field_clear(struct match_field *mf);

/* Evaluates the field item against ev.  Does not allocate (see above). */
bool match_field_eval(const struct match_field *mf, const struct event *ev);

/* True when a and b always give the same result on the same event: same
 * field, flags and alternatives in the same order (regexes compare by
 * source and flags, sets by their `%list%` name, which names the same
 * list within one rule set).  For sharing results between rules. */
bool match_field_equal(const struct match_field *a,
		       const struct match_field *b);

/* A hash consistent with match_field_equal(). */
uint64_t match_field_hash(const struct match_field *mf);

/* Strict decimal number parse ("-12", "3.5", "1e3"); false otherwise. */
bool match_parse_number(const char *s, size_t len, double *out);

/* Extracts a time part from ms since the epoch (UTC).  Week is the ISO
 * 8601 week number (1..53). */
long match_time_part(int64_t ms, enum match_time part);

/* Parses an RFC 3339 timestamp ("2025-01-31T23:59:59.123Z", "+02:00"
 * offsets, a space instead of 'T') to ms since the epoch, UTC.  Returns
 * 0 or -1. */
int match_parse_rfc3339(const char *s, size_t len, int64_t *ms);

/* Writes one line per alternative, indented, deterministic. */
void match_field_dump(const struct match_field *mf, const struct fieldtab *t,
		      void *stdio_file);

/* Frees this thread's PCRE2 match data (created on the thread's first
 * regex match).  Call before a matching thread exits; harmless if the
 * thread never matched a regex. */
void match_thread_release(void);

/* Regex evaluations in this thread that ran out of memory so far (PCRE2's
 * match data or its backtracking frames): each was taken as "no match".
 * The engine reads it around an event to report it as partly evaluated. */
uint64_t match_nomem(void);

/* Regex evaluations in this thread stopped so far by MATCH_RE_MATCH_LIMIT,
 * MATCH_RE_DEPTH_LIMIT or PCRE2's heap limit: each was taken as "no match".
 * The engine reads it around an event to count the hits in its stats. */
uint64_t match_re_limit_hits(void);

#endif
