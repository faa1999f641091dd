/*
 * detection: compiles a Sigma `detection:` mapping into search identifiers
 * (each an OR of maps, each map an AND of field items, see match.h) and a
 * condition (condition.h), and matches events against it.
 *
 * Matching runs one branch program per detection: the condition's program
 * (condition.h) with each identifier expanded into its maps and items, so
 * an event walks field items only.  Conditions too large for that
 * (DET_MAX_OPS) are evaluated identifier by identifier.
 *
 * Ownership: a struct detection owns everything it holds; the YAML tree and
 * the rule context are only borrowed during detection_compile().  A
 * compiled detection is read-only and may be shared by threads (regex match
 * data is per thread, see match_thread_release()).  No clock is read: the
 * time modifiers use the event's own timestamp.
 *
 * Modifier chains are applied left to right to each value, as the Sigma
 * rules specification says ("applied in the given order"): the
 * transformations (windash, base64, base64offset, utf16le/utf16be/utf16/
 * wide) and the position modifiers (contains, startswith, endswith) rewrite
 * the value in chain order, so `|base64offset|contains` works and
 * `|contains|base64` is rejected (a wildcard cannot be encoded).  Type
 * modifiers (re with i/m/s, cidr, lt/lte/gt/gte, exists, fieldref, the time
 * parts) decide the matcher; flags (all, cased, neq, expand) apply to the
 * whole item.
 *
 * Choices where the specification is silent or loose (documented here and
 * in the module's report):
 * - Keywords (a list of plain values, or a map key with an empty field name
 *   such as `'|all':`) match when any *string* field of the event (any
 *   name, rule-referenced or not) contains the value, case-insensitively,
 *   wildcards allowed; an explicit startswith/endswith/re/... replaces the
 *   implicit contains.  Numbers, booleans and nulls are not searched.
 * - A plain scalar as a search identifier is taken as a one-item keyword
 *   list.
 * - `null` matches a field that is absent or whose value is null; '' only
 *   matches an empty string value.  `exists` only checks presence (a null
 *   value is present).
 * - Rule numbers and booleans compare as their text (case-insensitively),
 *   so `rows: 1` matches "1" but not "1.0"; use `|gte`/`|lte` for numbers.
 *   Numeric modifiers on a non-numeric event value do not match.
 * - Array fields: an item matches if any element matches; with `all`
 *   every value must be matched by some element.
 * - `neq` negates the whole item: true when no value matches, including
 *   when the field is absent.
 * - `expand` is resolved before the rest of the chain wherever it is
 *   written; each combination of list values becomes one alternative; list
 *   values may hold wildcards; an unknown list is a compile error; `\%` is
 *   a literal percent.
 * - `windash` expands every `-`, `/`, en dash, em dash and horizontal bar in
 *   the literal part of a value into all five (all permutations), at most
 *   DET_MAX_ALTS alternatives per item.
 * - `utf16*`/`wide` encode the literal bytes (which must be UTF-8);
 *   wildcards stay wildcards (`?` then stands for one code unit as two
 *   single-character wildcards).  `utf16` is little endian with the FF FE
 *   byte order mark.
 * - Time modifiers (minute, hour, day, week, month, year) extract the part
 *   in UTC: from event.ts_ms for the `ts` field, from the value's RFC 3339
 *   text (offset applied) for any other field; week is the ISO 8601 week
 *   (1..53).  They compare equal to the value, or with lt/lte/gt/gte.
 * - `re`: PCRE2 in UTF mode (invalid UTF-8 in events tolerated), case
 *   sensitive unless `|i`; `m` and `s` as in the specification.  `cased`
 *   is not allowed with re, cidr, numbers, time or exists.
 * - `all` with a single value is an error (the specification forbids it).
 * - Condition keywords are lower case; a `condition:` list is ORed; `them`
 *   excludes identifiers starting with `_`, patterns do not.
 * - `timeframe` inside detection (Sigma 1) is rejected: use a correlation.
 * - A condition error is reported at the condition scalar's line:column
 *   (where lint users look); the message adds "(at column N)", the
 *   scalar's column plus the offset in the text (plus one for a quoted
 *   scalar): exact for one-line conditions, approximate for folded ones.
 */
#include "detection.h"

#include "condition.h"
#include "match.h"
#include "strset.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DET_MAX_ALTS 4096
#define DET_MAX_OPS                                                            \
	4096 /* item program size; larger: identifier by identifier */

struct det_map {
	struct match_field *items;
	size_t n_items;
	size_t first; /* number of the first item (detection_n_units()) */
};

struct det_ident {
	char *name;
	struct det_map *maps; /* ORed */
	size_t n_maps;
	bool keywords;
};

struct detection {
	struct det_ident *idents;
	size_t n_idents;
	const char **names; /* idents[i].name, for the condition */
	struct cond *cond;
	size_t n_items;	     /* over all maps */
	struct det_op *prog; /* NULL: evaluate through cond_eval() */
	int32_t entry;
};

/* The condition expanded down to field items: evaluate item `unit` (a
 * number as in detection_n_units()), go to t if true, f if false;
 * COND_OP_TRUE / COND_OP_FALSE end the run. */
struct det_op {
	const struct match_field *mf;
	uint32_t unit;
	int32_t t, f;
};

/* The modifier chain of one item. */
enum mod {
	MOD_CONTAINS,
	MOD_STARTSWITH,
	MOD_ENDSWITH,
	MOD_ALL,
	MOD_CASED,
	MOD_NEQ,
	MOD_EXISTS,
	MOD_EXPAND,
	MOD_FIELDREF,
	MOD_RE,
	MOD_RE_I,
	MOD_RE_M,
	MOD_RE_S,
	MOD_CIDR,
	MOD_LT,
	MOD_LTE,
	MOD_GT,
	MOD_GTE,
	MOD_MINUTE,
	MOD_HOUR,
	MOD_DAY,
	MOD_WEEK,
	MOD_MONTH,
	MOD_YEAR,
	MOD_BASE64,
	MOD_BASE64OFFSET,
	MOD_WINDASH,
	MOD_UTF16LE,
	MOD_UTF16BE,
	MOD_UTF16,
	MOD_WIDE,
	N_MODS
};

static const char *const mod_names[N_MODS] = {
    "contains", "startswith",	"endswith", "all",     "cased",	  "neq",
    "exists",	"expand",	"fieldref", "re",      "i",	  "m",
    "s",	"cidr",		"lt",	    "lte",     "gt",	  "gte",
    "minute",	"hour",		"day",	    "week",    "month",	  "year",
    "base64",	"base64offset", "windash",  "utf16le", "utf16be", "utf16",
    "wide",
};

#define MAX_CHAIN 16

struct chain {
	enum mod mods[MAX_CHAIN];
	size_t n;
	uint64_t has; /* bit per enum mod */
	bool keyword;
};

#define HAS(c, m) (((c)->has >> (m)) & 1)
#define BIT(m) ((uint64_t)1 << (m))

/* a compile-time value list */
struct strvec {
	struct match_str *v;
	size_t n, cap;
};

struct cctx {
	const struct rule_ctx *rc;
	struct diag *d;
	int n_errors;
};

static void err_at(struct cctx *c, const struct yaml_node *n, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));

static void err_at(struct cctx *c, const struct yaml_node *n, const char *fmt,
		   ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	diag_add(c->d, n && n->file ? n->file : c->rc->file, n ? n->line : 0,
		 n ? n->column : 0, "%s", buf);
	c->n_errors++;
}

/* ---- string vectors ---- */

static struct match_str *vec_add(struct strvec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		struct match_str *p = realloc(v->v, cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		v->v = p;
		v->cap = cap;
	}
	memset(&v->v[v->n], 0, sizeof(v->v[0]));
	return &v->v[v->n++];
}

static void vec_clear(struct strvec *v)
{
	for (size_t i = 0; i < v->n; i++)
		match_str_clear(&v->v[i]);
	free(v->v);
	memset(v, 0, sizeof(*v));
}

/* ---- modifier chain ---- */

static int parse_mod(const char *s, size_t len)
{
	for (int i = 0; i < N_MODS; i++)
		if (strlen(mod_names[i]) == len &&
		    memcmp(mod_names[i], s, len) == 0)
			return i;
	return -1;
}

static int chain_parse(struct cctx *c, const struct yaml_node *key,
		       const char *mods, struct chain *ch)
{
	const char *p = mods;

	while (*p == '|') {
		const char *e = strchr(p + 1, '|');
		size_t len = e ? (size_t)(e - p - 1) : strlen(p + 1);
		int m = parse_mod(p + 1, len);
		if (m < 0) {
			err_at(c, key, "unknown modifier '%.*s'", (int)len,
			       p + 1);
			return -1;
		}
		if (HAS(ch, m)) {
			err_at(c, key, "modifier '%s' given twice",
			       mod_names[m]);
			return -1;
		}
		if (ch->n == MAX_CHAIN) {
			err_at(c, key, "too many modifiers");
			return -1;
		}
		ch->mods[ch->n++] = (enum mod)m;
		ch->has |= BIT(m);
		p += len + 1;
	}
	return 0;
}

#define POS_MODS (BIT(MOD_CONTAINS) | BIT(MOD_STARTSWITH) | BIT(MOD_ENDSWITH))
#define NUM_MODS (BIT(MOD_LT) | BIT(MOD_LTE) | BIT(MOD_GT) | BIT(MOD_GTE))
#define TIME_MODS                                                              \
	(BIT(MOD_MINUTE) | BIT(MOD_HOUR) | BIT(MOD_DAY) | BIT(MOD_WEEK) |      \
	 BIT(MOD_MONTH) | BIT(MOD_YEAR))
#define RE_SUBS (BIT(MOD_RE_I) | BIT(MOD_RE_M) | BIT(MOD_RE_S))
#define XFORM_MODS                                                             \
	(BIT(MOD_BASE64) | BIT(MOD_BASE64OFFSET) | BIT(MOD_WINDASH) |          \
	 BIT(MOD_UTF16LE) | BIT(MOD_UTF16BE) | BIT(MOD_UTF16) | BIT(MOD_WIDE))

static int popcount(uint64_t x)
{
	int n = 0;

	for (; x; x &= x - 1)
		n++;
	return n;
}

/* Rejects invalid combinations; returns the message or NULL. */
static const char *chain_check(const struct chain *ch)
{
	uint64_t h = ch->has;
	uint64_t types = h & (BIT(MOD_RE) | BIT(MOD_CIDR) | BIT(MOD_EXISTS) |
			      BIT(MOD_FIELDREF));

	if (popcount(h & POS_MODS) > 1)
		return "only one of contains, startswith, endswith is allowed";
	if (popcount(h & NUM_MODS) > 1)
		return "only one of lt, lte, gt, gte is allowed";
	if (popcount(h & TIME_MODS) > 1)
		return "only one time modifier is allowed";
	if ((h & RE_SUBS) && !(h & BIT(MOD_RE)))
		return "modifiers i, m, s are only allowed with re";
	if (popcount(types) > 1 || (types && (h & (NUM_MODS | TIME_MODS))))
		return "re, cidr, exists, fieldref and numeric/time modifiers "
		       "cannot be combined";
	if ((types & ~BIT(MOD_FIELDREF)) && (h & POS_MODS))
		return "contains/startswith/endswith cannot be combined with "
		       "re, cidr or exists";
	if ((types || (h & (NUM_MODS | TIME_MODS))) && (h & XFORM_MODS))
		return "encoding modifiers only apply to plain string values";
	if ((h & (NUM_MODS | TIME_MODS)) && (h & POS_MODS))
		return "numeric and time modifiers cannot be combined with "
		       "contains/startswith/endswith";
	if ((h & BIT(MOD_CASED)) &&
	    (h & (BIT(MOD_RE) | BIT(MOD_CIDR) | BIT(MOD_EXISTS) | NUM_MODS |
		  TIME_MODS)))
		return "cased only applies to string and fieldref matching";
	if ((h & BIT(MOD_EXISTS)) && (h & ~BIT(MOD_EXISTS)))
		return "exists cannot be combined with other modifiers";
	if (ch->keyword &&
	    (h & (BIT(MOD_EXISTS) | BIT(MOD_FIELDREF) | TIME_MODS)))
		return "exists, fieldref and time modifiers need a field name";
	return NULL;
}

/* ---- value transformations ---- */

static int push_str(struct strvec *out, const struct match_str *s)
{
	struct match_str *d;

	if (out->n >= DET_MAX_ALTS)
		return -2;
	d = vec_add(out);
	return d == NULL ? -1 : match_str_copy(d, s);
}

static int b64_encode(struct match_str *out, const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		if (match_str_append(out, q, 4) < 0)
			return -1;
	}
	return 0;
}

/* base64offset: the value encoded at offsets 0, 1 and 2 within a base64
 * stream, keeping only the characters that do not depend on the
 * neighbouring bytes. */
static int b64_offsets(struct strvec *out, const struct match_str *s)
{
	static const size_t start[3] = {0, 2, 3};
	static const size_t cut[3] = {0, 3, 2};
	unsigned char *buf = malloc(s->len + 2);

	if (buf == NULL)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		struct match_str enc = {0}, part = {0};
		memset(buf, ' ', i);
		if (s->len > 0)
			memcpy(buf + i, s->b, s->len);
		int rc = b64_encode(&enc, buf, s->len + i);
		size_t end = enc.len - cut[(s->len + i) % 3];
		if (rc == 0 && end > start[i])
			rc = match_str_append(&part, enc.b + start[i],
					      end - start[i]);
		if (rc == 0)
			rc = push_str(out, &part);
		match_str_clear(&enc);
		match_str_clear(&part);
		if (rc < 0) {
			free(buf);
			return rc;
		}
	}
	free(buf);
	return 0;
}

/* One UTF-8 character -> code point; returns its length or 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t l;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		l = 2, *cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		l = 3, *cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		l = 4, *cp = s[0] & 0x07;
	else
		return 0;
	if (l > n)
		return 0;
	for (size_t i = 1; i < l; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return l;
}

static int push_unit(struct match_str *o, uint32_t u, bool be)
{
	unsigned char b[2] = {(unsigned char)(u & 0xff),
			      (unsigned char)(u >> 8)};

	if (be) {
		b[0] = (unsigned char)(u >> 8);
		b[1] = (unsigned char)(u & 0xff);
	}
	return match_str_append(o, b, 2);
}

static int utf16_encode(struct match_str *o, const struct match_str *s, bool be,
			bool bom)
{
	if (bom && match_str_append(o, "\xff\xfe", 2) < 0)
		return -1;
	for (size_t i = 0; i < s->len;) {
		uint32_t cp;
		size_t l;
		if (s->w[i] != MATCH_PLAIN) {
			int n = s->w[i] == MATCH_QMARK ? 2 : 1;
			for (int k = 0; k < n; k++)
				if (match_str_push(o, s->b[i], s->w[i]) < 0)
					return -1;
			i++;
			continue;
		}
		l = utf8_decode(s->b + i, s->len - i, &cp);
		if (l == 0)
			return -3;
		i += l;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			if (push_unit(o, 0xd800 | (cp >> 10), be) < 0 ||
			    push_unit(o, 0xdc00 | (cp & 0x3ff), be) < 0)
				return -1;
		} else if (push_unit(o, cp, be) < 0) {
			return -1;
		}
	}
	return 0;
}

/* Length of the dash-like character at s[i], or 0. */
static size_t dash_at(const struct match_str *s, size_t i)
{
	if (s->w[i] != MATCH_PLAIN)
		return 0;
	if (s->b[i] == '-' || s->b[i] == '/')
		return 1;
	if (i + 2 < s->len && s->b[i] == 0xe2 && s->b[i + 1] == 0x80 &&
	    s->b[i + 2] >= 0x93 && s->b[i + 2] <= 0x95 &&
	    s->w[i + 1] == MATCH_PLAIN && s->w[i + 2] == MATCH_PLAIN)
		return 3;
	return 0;
}

static int windash_from(struct strvec *out, const struct match_str *s,
			size_t from, struct match_str *acc)
{
	static const char *const dashes[5] = {"-", "/", "\xe2\x80\x93",
					      "\xe2\x80\x94", "\xe2\x80\x95"};
	size_t i = from, l = 0;

	while (i < s->len && (l = dash_at(s, i)) == 0)
		i++;
	size_t keep = acc->len;
	for (size_t k = from; k < i; k++)
		if (match_str_push(acc, s->b[k], s->w[k]) < 0)
			return -1;
	if (i >= s->len) {
		int rc = push_str(out, acc);
		acc->len = keep;
		return rc;
	}
	size_t mid = acc->len;
	for (int d = 0; d < 5; d++) {
		acc->len = mid;
		if (match_str_append(acc, dashes[d], strlen(dashes[d])) < 0)
			return -1;
		int rc = windash_from(out, s, i + l, acc);
		if (rc < 0)
			return rc;
	}
	acc->len = keep;
	return 0;
}

static int add_star(struct match_str *s, bool front)
{
	if (front) {
		if (s->len > 0 && s->w[0] == MATCH_STAR)
			return 0;
		struct match_str t = {0};
		int rc = match_str_push(&t, '*', MATCH_STAR);
		for (size_t i = 0; rc == 0 && i < s->len; i++)
			rc = match_str_push(&t, s->b[i], s->w[i]);
		if (rc == 0) {
			match_str_clear(s);
			*s = t;
		} else {
			match_str_clear(&t);
		}
		return rc;
	}
	if (s->len > 0 && s->w[s->len - 1] == MATCH_STAR)
		return 0;
	return match_str_push(s, '*', MATCH_STAR);
}

/* Applies one chain step to one value, appending results to out.
 * Returns 0, -1 (memory), -2 (too many), -3 (invalid UTF-8), -4 (wildcard
 * cannot be encoded). */
static int apply_one(enum mod m, const struct match_str *s, struct strvec *out)
{
	struct match_str t = {0};
	int rc = 0;

	switch (m) {
	case MOD_CONTAINS:
	case MOD_STARTSWITH:
	case MOD_ENDSWITH:
		rc = match_str_copy(&t, s);
		if (rc == 0 && m != MOD_STARTSWITH)
			rc = add_star(&t, true);
		if (rc == 0 && m != MOD_ENDSWITH)
			rc = add_star(&t, false);
		break;
	case MOD_BASE64:
		if (match_str_has_wild(s))
			return -4;
		rc = b64_encode(&t, s->b, s->len);
		break;
	case MOD_BASE64OFFSET:
		return match_str_has_wild(s) ? -4 : b64_offsets(out, s);
	case MOD_WINDASH:
		rc = windash_from(out, s, 0, &t);
		match_str_clear(&t);
		return rc;
	case MOD_UTF16LE:
	case MOD_WIDE:
	case MOD_UTF16BE:
	case MOD_UTF16:
		rc = utf16_encode(&t, s, m == MOD_UTF16BE, m == MOD_UTF16);
		break;
	default:
		return push_str(out, s); /* not a value transformation */
	}
	if (rc == 0)
		rc = push_str(out, &t);
	match_str_clear(&t);
	return rc;
}

static int apply_chain(const struct chain *ch, struct strvec *vals)
{
	bool pos = false;

	for (size_t k = 0; k < ch->n; k++) {
		enum mod m = ch->mods[k];
		if (!(BIT(m) & (POS_MODS | XFORM_MODS)))
			continue;
		pos = pos || (BIT(m) & POS_MODS);
		struct strvec next = {0};
		for (size_t i = 0; i < vals->n; i++) {
			int rc = apply_one(m, &vals->v[i], &next);
			if (rc < 0) {
				vec_clear(&next);
				return rc;
			}
		}
		vec_clear(vals);
		*vals = next;
	}
	if (ch->keyword && !pos)
		for (size_t i = 0; i < vals->n; i++) {
			struct match_str t = {0};
			struct strvec one = {0};
			if (apply_one(MOD_CONTAINS, &vals->v[i], &one) < 0) {
				vec_clear(&one);
				return -1;
			}
			t = one.v[0];
			free(one.v);
			match_str_clear(&vals->v[i]);
			vals->v[i] = t;
		}
	return 0;
}

/* ---- expand ---- */

static const char *const *find_list(const struct rule_lists *l,
				    const char *name, size_t len)
{
	if (l == NULL)
		return NULL;
	for (size_t i = 0; i < l->n_lists; i++)
		if (strlen(l->names[i]) == len &&
		    memcmp(l->names[i], name, len) == 0)
			return (const char *const *)l->values[i];
	return NULL;
}

/* Appends `p` (n bytes) to every raw string in v (as plain bytes). */
static int vec_append_all(struct strvec *v, const char *p, size_t n)
{
	for (size_t i = 0; i < v->n; i++)
		if (match_str_append(&v->v[i], p, n) < 0)
			return -1;
	return 0;
}

static int vec_product(struct strvec *v, const char *const *vals)
{
	struct strvec next = {0};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < v->n; i++)
		for (size_t k = 0; rc == 0 && vals[k] != NULL; k++) {
			rc = push_str(&next, &v->v[i]);
			if (rc == 0)
				rc = match_str_append(&next.v[next.n - 1],
						      vals[k], strlen(vals[k]));
		}
	vec_clear(v);
	*v = next;
	return rc;
}

/* Expands %name% placeholders of raw text into raw texts (stored in
 * match_str.b, wildcards not yet parsed).  Returns 0, -1, -2 (too many) or
 * -5 (unknown list, *bad_name/bad_len set). */
static int expand_raw(const struct rule_lists *lists, const char *raw,
		      struct strvec *out, const char **bad, size_t *bad_len)
{
	int rc = vec_add(out) ? 0 : -1;

	for (const char *p = raw; rc == 0 && *p;) {
		const char *end = p[0] == '%' ? strchr(p + 1, '%') : NULL;
		if (p[0] == '\\' && p[1] == '%') {
			rc = vec_append_all(out, "%", 1);
			p += 2;
		} else if (end != NULL && end > p + 1) {
			const char *const *vals =
			    find_list(lists, p + 1, (size_t)(end - p - 1));
			if (vals == NULL) {
				*bad = p + 1;
				*bad_len = (size_t)(end - p - 1);
				return -5;
			}
			rc = vec_product(out, vals);
			p = end + 1;
		} else {
			rc = vec_append_all(out, p, 1);
			p++;
		}
	}
	return rc;
}

/* ---- items ---- */

static const char *xform_error(int rc)
{
	switch (rc) {
	case -2:
		return "too many alternatives (more than 4096)";
	case -3:
		return "value is not valid UTF-8 (needed for utf16 encoding)";
	case -4:
		return "a value with wildcards cannot be encoded; put "
		       "contains/startswith/endswith after the encoding";
	default:
		return "out of memory";
	}
}

static enum match_kind pos_kind(const struct chain *ch)
{
	if (HAS(ch, MOD_CONTAINS))
		return MATCH_CONTAINS;
	if (HAS(ch, MOD_STARTSWITH))
		return MATCH_PREFIX;
	if (HAS(ch, MOD_ENDSWITH))
		return MATCH_SUFFIX;
	return MATCH_EXACT;
}

static enum match_op num_op(const struct chain *ch)
{
	if (HAS(ch, MOD_LT))
		return MATCH_OP_LT;
	if (HAS(ch, MOD_LTE))
		return MATCH_OP_LTE;
	if (HAS(ch, MOD_GT))
		return MATCH_OP_GT;
	if (HAS(ch, MOD_GTE))
		return MATCH_OP_GTE;
	return MATCH_OP_EQ;
}

static int add_string(struct cctx *c, struct match_field *mf,
		      const struct chain *ch, const struct yaml_node *vn,
		      const char *text, size_t len)
{
	struct strvec vals = {0};
	struct match_str *s = vec_add(&vals);
	int rc = s ? match_str_parse(s, text, len) : -1;

	if (rc == 0)
		rc = apply_chain(ch, &vals);
	if (rc == 0 && mf->n_alts + vals.n > DET_MAX_ALTS)
		rc = -2;
	for (size_t i = 0; rc == 0 && i < vals.n; i++)
		rc = match_add_string(mf, &vals.v[i], HAS(ch, MOD_CASED));
	vec_clear(&vals);
	if (rc < 0)
		err_at(c, vn, "%s", xform_error(rc));
	return rc < 0 ? -1 : 0;
}

static int add_raw(struct cctx *c, struct match_field *mf,
		   const struct chain *ch, const struct yaml_node *vn,
		   const char *text, size_t len)
{
	char err[512] = "out of memory";
	int rc;

	if (HAS(ch, MOD_RE)) {
		uint32_t fl = (HAS(ch, MOD_RE_I) ? PCRE2_CASELESS : 0) |
			      (HAS(ch, MOD_RE_M) ? PCRE2_MULTILINE : 0) |
			      (HAS(ch, MOD_RE_S) ? PCRE2_DOTALL : 0);
		rc = match_add_regex(mf, text, fl, err, sizeof(err));
	} else if (HAS(ch, MOD_CIDR)) {
		rc = match_add_cidr(mf, text, err, sizeof(err));
	} else if (ch->has & (NUM_MODS | TIME_MODS)) {
		rc = match_add_number(mf, text, num_op(ch), err, sizeof(err));
	} else if (HAS(ch, MOD_FIELDREF)) {
		int32_t id = fieldtab_intern(c->rc->fields, text, len);
		rc = id < 0 ? -1
			    : match_add_fieldref(mf, id, text, pos_kind(ch),
						 HAS(ch, MOD_CASED));
		if (id < 0)
			snprintf(err, sizeof(err), "cannot add field '%s'",
				 text);
	} else {
		return add_string(c, mf, ch, vn, text, len);
	}
	if (rc < 0)
		err_at(c, vn, "%s", err);
	return rc;
}

/* The list a whole value `%name%` names, when the item is a plain exact
 * match (only expand, cased, neq): its plain values then go into one hash
 * set (strset.h), so a long watchlist costs one look-up, not one
 * comparison per value, and is not bound by DET_MAX_ALTS.  NULL
 * otherwise. */
static const char *const *set_list(const struct cctx *c, const struct chain *ch,
				   const struct yaml_node *vn)
{
	const char *s = vn->scalar;
	size_t len = vn->scalar_len;

	if (ch->keyword ||
	    (ch->has & ~(BIT(MOD_EXPAND) | BIT(MOD_CASED) | BIT(MOD_NEQ))) ||
	    len < 3 || s[0] != '%' || s[len - 1] != '%' ||
	    memchr(s + 1, '%', len - 2) != NULL)
		return NULL;
	return find_list(c->rc->lists, s + 1, len - 2);
}

/* Adds the values of list vals to mf: plain ones as one set, those with
 * wildcards or escapes as alternatives of their own.  0 or -1. */
static int add_set(struct cctx *c, struct match_field *mf,
		   const struct chain *ch, const struct yaml_node *vn,
		   const char *const *vals)
{
	bool cased = HAS(ch, MOD_CASED);
	struct strset *set = strset_new(cased);
	int rc = set ? 0 : -1;

	for (size_t i = 0; rc == 0 && vals[i] != NULL; i++) {
		size_t n = strlen(vals[i]);
		if (strpbrk(vals[i], "*?\\") != NULL) {
			if (add_string(c, mf, ch, vn, vals[i], n) < 0) {
				strset_free(set);
				return -1; /* reported */
			}
		} else if (strset_add(set, vals[i], n) < 0)
			rc = -1;
	}
	if (rc == 0 && match_add_set(mf, set, vn->scalar, cased) == 0)
		return 0;
	if (rc < 0)
		strset_free(set);
	err_at(c, vn, "out of memory");
	return -1;
}

static int add_value(struct cctx *c, struct match_field *mf,
		     const struct chain *ch, const struct yaml_node *vn)
{
	if (vn->kind != YAML_SCALAR) {
		err_at(c, vn, "a value must be a scalar, not a %s",
		       yamltree_kind_name(vn->kind));
		return -1;
	}
	if (yamltree_is_null(vn)) {
		if (ch->keyword || (ch->has & ~BIT(MOD_NEQ))) {
			err_at(c, vn,
			       "null cannot be used here (only as a "
			       "plain field value)");
			return -1;
		}
		return match_add_null(mf);
	}
	if (!HAS(ch, MOD_EXPAND))
		return add_raw(c, mf, ch, vn, vn->scalar, vn->scalar_len);
	const char *const *set_vals = set_list(c, ch, vn);
	if (set_vals != NULL)
		return add_set(c, mf, ch, vn, set_vals);
	struct strvec raws = {0};
	const char *bad = NULL;
	size_t bad_len = 0;
	int rc = expand_raw(c->rc->lists, vn->scalar, &raws, &bad, &bad_len);
	if (rc == -5)
		err_at(c, vn, "unknown placeholder list '%%%.*s%%'",
		       (int)bad_len, bad);
	else if (rc < 0)
		err_at(c, vn, "%s", xform_error(rc));
	for (size_t i = 0; rc == 0 && i < raws.n; i++) {
		struct match_str *r = &raws.v[i];
		rc = add_raw(c, mf, ch, vn, r->b ? (char *)r->b : "", r->len);
	}
	vec_clear(&raws);
	return rc < 0 ? -1 : 0;
}

static int compile_exists(struct cctx *c, struct match_field *mf,
			  const struct yaml_node *vn)
{
	if (vn->kind == YAML_SCALAR && strcasecmp(vn->scalar, "true") == 0)
		mf->exists_want = true;
	else if (vn->kind == YAML_SCALAR &&
		 strcasecmp(vn->scalar, "false") == 0)
		mf->exists_want = false;
	else {
		err_at(c, vn, "exists needs true or false");
		return -1;
	}
	mf->exists = true;
	return 0;
}

static int item_setup(struct cctx *c, struct match_field *mf,
		      const struct yaml_node *key, struct chain *ch)
{
	const char *k = key->scalar, *bar = strchr(k, '|');
	size_t flen = bar ? (size_t)(bar - k) : strlen(k);
	const char *msg;

	ch->keyword = flen == 0;
	if (chain_parse(c, key, k + flen, ch) < 0)
		return -1;
	if ((msg = chain_check(ch)) != NULL) {
		err_at(c, key, "invalid modifiers '%s': %s", k + flen, msg);
		return -1;
	}
	mf->name = strndup(k, flen);
	mf->mods = strdup(k + flen);
	mf->id = ch->keyword ? -1 : fieldtab_intern(c->rc->fields, k, flen);
	if (mf->name == NULL || mf->mods == NULL ||
	    (!ch->keyword && mf->id < 0)) {
		err_at(c, key, "cannot add field '%.*s'", (int)flen, k);
		return -1;
	}
	mf->all = HAS(ch, MOD_ALL);
	mf->neq = HAS(ch, MOD_NEQ);
	for (int t = MOD_MINUTE; t <= MOD_YEAR; t++)
		if (HAS(ch, t))
			mf->time_part =
			    (uint8_t)(MATCH_TIME_MINUTE + t - MOD_MINUTE);
	return 0;
}

static int compile_item(struct cctx *c, struct match_field *mf,
			const struct yaml_node *key,
			const struct yaml_node *val)
{
	struct chain ch = {0};

	if (item_setup(c, mf, key, &ch) < 0)
		return -1;
	if (HAS(&ch, MOD_EXISTS))
		return compile_exists(c, mf, val);
	if (val->kind == YAML_MAPPING) {
		err_at(c, val,
		       "a field value must be a scalar or a list of "
		       "scalars, not a mapping");
		return -1;
	}
	size_t n = val->kind == YAML_SEQUENCE ? val->n_items : 1;
	if (n == 0) {
		err_at(c, val, "empty value list");
		return -1;
	}
	if (mf->all && n < 2) {
		err_at(c, key, "'all' needs a list of at least two values");
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		const struct yaml_node *vn =
		    val->kind == YAML_SEQUENCE ? val->items[i] : val;
		if (add_value(c, mf, &ch, vn) < 0)
			rc = -1;
	}
	return rc;
}

/* ---- identifiers ---- */

static int compile_map(struct cctx *c, struct det_map *m,
		       const struct yaml_node *map)
{
	int rc = 0;

	if (map->n_pairs == 0) {
		err_at(c, map, "empty mapping");
		return -1;
	}
	m->items = calloc(map->n_pairs, sizeof(*m->items));
	if (m->items == NULL) {
		err_at(c, map, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < map->n_pairs; i++, m->n_items++)
		if (compile_item(c, &m->items[i], map->pairs[i].key,
				 map->pairs[i].value) < 0)
			rc = -1;
	return rc;
}

/* A keyword list (or a single keyword scalar) as one map of one item. */
static int compile_keywords(struct cctx *c, struct det_map *m,
			    const struct yaml_node *val)
{
	struct chain ch = {.keyword = true};
	struct match_field *mf = calloc(1, sizeof(*mf));
	size_t n = val->kind == YAML_SEQUENCE ? val->n_items : 1;
	int rc = 0;

	if (mf == NULL) {
		err_at(c, val, "out of memory");
		return -1;
	}
	m->items = mf;
	m->n_items = 1;
	mf->id = -1;
	mf->name = strdup("");
	mf->mods = strdup("");
	if (mf->name == NULL || mf->mods == NULL) {
		err_at(c, val, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct yaml_node *vn =
		    val->kind == YAML_SEQUENCE ? val->items[i] : val;
		if (add_value(c, mf, &ch, vn) < 0)
			rc = -1;
	}
	return rc;
}

static int compile_list(struct cctx *c, struct det_ident *id,
			const struct yaml_node *val)
{
	bool maps = val->items[0]->kind == YAML_MAPPING;
	int rc = 0;

	for (size_t i = 0; i < val->n_items; i++)
		if ((val->items[i]->kind == YAML_MAPPING) != maps) {
			err_at(c, val->items[i],
			       "a list mixes maps and plain "
			       "values");
			return -1;
		}
	id->keywords = !maps;
	id->maps = calloc(maps ? val->n_items : 1, sizeof(*id->maps));
	if (id->maps == NULL) {
		err_at(c, val, "out of memory");
		return -1;
	}
	if (!maps) {
		id->n_maps = 1;
		return compile_keywords(c, &id->maps[0], val);
	}
	for (size_t i = 0; i < val->n_items; i++, id->n_maps++)
		if (compile_map(c, &id->maps[i], val->items[i]) < 0)
			rc = -1;
	return rc;
}

static bool ident_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
		      *s == '-'))
			return false;
	return true;
}

static int compile_ident(struct cctx *c, struct det_ident *id,
			 const struct yaml_node *key,
			 const struct yaml_node *val)
{
	static const char *const reserved[] = {"and",  "or",  "not", "of",
					       "them", "all", "any", "1"};

	id->name = strdup(key->scalar);
	if (id->name == NULL) {
		err_at(c, key, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
		if (strcmp(key->scalar, reserved[i]) == 0)
			goto bad_name;
	if (!ident_name_ok(key->scalar))
		goto bad_name;
	if (val->kind == YAML_MAPPING) {
		id->maps = calloc(1, sizeof(*id->maps));
		if (id->maps == NULL)
			goto oom;
		id->n_maps = 1;
		return compile_map(c, &id->maps[0], val);
	}
	if (val->kind == YAML_SEQUENCE && val->n_items > 0)
		return compile_list(c, id, val);
	if (val->kind == YAML_SCALAR && !yamltree_is_null(val)) {
		id->keywords = true;
		id->maps = calloc(1, sizeof(*id->maps));
		if (id->maps == NULL)
			goto oom;
		id->n_maps = 1;
		return compile_keywords(c, &id->maps[0], val);
	}
	err_at(c, val,
	       "search identifier '%s' must be a mapping or a "
	       "non-empty list",
	       key->scalar);
	return -1;
oom:
	err_at(c, key, "out of memory");
	return -1;
bad_name:
	err_at(c, key,
	       "'%s' cannot be used as a search identifier (use "
	       "letters, digits, '_', '.', '-'; not a condition "
	       "keyword)",
	       key->scalar);
	return -1;
}

/* ---- condition ---- */

static struct cond *compile_one_cond(struct cctx *c, struct detection *det,
				     const struct yaml_node *n)
{
	struct cond_error e;
	struct cond *cd;

	if (n->kind != YAML_SCALAR || yamltree_is_null(n)) {
		err_at(c, n, "condition must be a string or a list of strings");
		return NULL;
	}
	cd =
	    cond_parse(n->scalar, n->scalar_len, det->names, det->n_idents, &e);
	if (cd == NULL) {
		int col = n->column + (int)e.offset + (n->quoted ? 1 : 0);
		err_at(c, n, "condition: %s (at column %d)", e.message, col);
	}
	return cd;
}

static struct cond *compile_cond(struct cctx *c, struct detection *det,
				 const struct yaml_node *n)
{
	if (n->kind != YAML_SEQUENCE)
		return compile_one_cond(c, det, n);
	if (n->n_items == 0) {
		err_at(c, n, "empty condition list");
		return NULL;
	}
	struct cond **cs = calloc(n->n_items, sizeof(*cs));
	bool ok = cs != NULL;
	for (size_t i = 0; ok && i < n->n_items; i++)
		ok = (cs[i] = compile_one_cond(c, det, n->items[i])) != NULL;
	struct cond *r = ok ? cond_any(cs, n->n_items) : NULL;
	if (!ok && cs != NULL)
		for (size_t i = 0; i < n->n_items; i++)
			cond_free(cs[i]);
	free(cs);
	return r;
}

/* ---- public ---- */

static int compile_idents(struct cctx *c, struct detection *det,
			  const struct yaml_node *node,
			  const struct yaml_node **cond_node)
{
	int rc = 0;

	det->idents = calloc(node->n_pairs, sizeof(*det->idents));
	det->names =
	    calloc(node->n_pairs ? node->n_pairs : 1, sizeof(*det->names));
	if (det->idents == NULL || det->names == NULL) {
		err_at(c, node, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < node->n_pairs; i++) {
		const struct yaml_pair *p = &node->pairs[i];
		if (strcmp(p->key->scalar, "condition") == 0) {
			*cond_node = p->value;
			continue;
		}
		if (strcmp(p->key->scalar, "timeframe") == 0) {
			err_at(c, p->key,
			       "'timeframe' in detection is not "
			       "supported: use a correlation rule");
			rc = -1;
			continue;
		}
		struct det_ident *id = &det->idents[det->n_idents++];
		if (compile_ident(c, id, p->key, p->value) < 0)
			rc = -1;
		det->names[det->n_idents - 1] = id->name ? id->name : "";
	}
	return rc;
}

static void number_items(struct detection *det)
{
	for (size_t i = 0; i < det->n_idents; i++)
		for (size_t m = 0; m < det->idents[i].n_maps; m++) {
			struct det_map *map = &det->idents[i].maps[m];
			map->first = det->n_items;
			det->n_items += map->n_items;
		}
}

static size_t ident_items(const struct det_ident *id)
{
	size_t n = 0;

	for (size_t m = 0; m < id->n_maps; m++) {
		if (id->maps[m].n_items == 0)
			return 0;
		n += id->maps[m].n_items;
	}
	return n;
}

static int32_t op_target(const size_t *start, int32_t x)
{
	return x < 0 ? x : (int32_t)start[x];
}

/* Writes identifier id's maps as ops from prog[at]: an item goes on to the
 * next item of its map when true and to the next map when false; the last
 * item of a map goes to t when true, the last map to f when false. */
static void expand_ident(struct det_op *prog, size_t at,
			 const struct det_ident *id, int32_t t, int32_t f)
{
	for (size_t m = 0; m < id->n_maps; m++) {
		const struct det_map *map = &id->maps[m];
		int32_t next_map =
		    m + 1 < id->n_maps ? (int32_t)(at + map->n_items) : f;
		for (size_t k = 0; k < map->n_items; k++, at++)
			prog[at] = (struct det_op){
			    &map->items[k], (uint32_t)(map->first + k),
			    k + 1 < map->n_items ? (int32_t)at + 1 : t,
			    next_map};
	}
}

/* Builds det->prog from the condition's program; leaves it NULL (and the
 * condition evaluated identifier by identifier) when an identifier has no
 * item or the program would exceed DET_MAX_OPS. */
static void build_program(struct detection *det)
{
	size_t n_cops, total = 0;
	int32_t entry;
	const struct cond_op *cops = cond_program(det->cond, &n_cops, &entry);
	size_t *start = calloc(n_cops + 1, sizeof(*start));

	for (size_t j = 0; start != NULL && j < n_cops; j++) {
		size_t n = ident_items(&det->idents[cops[j].ident]);
		start[j] = total;
		total += n;
		if (n == 0 || total > DET_MAX_OPS)
			goto done;
	}
	det->prog = start ? calloc(total + 1, sizeof(*det->prog)) : NULL;
	for (size_t j = 0; det->prog != NULL && j < n_cops; j++)
		expand_ident(det->prog, start[j], &det->idents[cops[j].ident],
			     op_target(start, cops[j].t),
			     op_target(start, cops[j].f));
	det->entry = op_target(start, entry);
done:
	free(start);
}

struct detection *detection_compile(const struct yaml_node *detection_node,
				    const struct rule_ctx *ctx, struct diag *d)
{
	struct cctx c = {.rc = ctx, .d = d};
	const struct yaml_node *cond_node = NULL;
	struct detection *det;

	if (detection_node == NULL || detection_node->kind != YAML_MAPPING) {
		err_at(&c, detection_node, "detection must be a mapping");
		return NULL;
	}
	det = calloc(1, sizeof(*det));
	if (det == NULL) {
		err_at(&c, detection_node, "out of memory");
		return NULL;
	}
	int rc = compile_idents(&c, det, detection_node, &cond_node);
	if (cond_node == NULL) {
		err_at(&c, detection_node, "detection has no condition");
		rc = -1;
	} else if (rc == 0 && det->n_idents == 0) {
		err_at(&c, detection_node,
		       "detection has no search identifier");
		rc = -1;
	} else if (det->names != NULL) {
		det->cond = compile_cond(&c, det, cond_node);
		if (det->cond == NULL)
			rc = -1;
	}
	if (rc < 0 || c.n_errors > 0) {
		detection_free(det);
		return NULL;
	}
	number_items(det);
	build_program(det);
	return det;
}

void detection_free(struct detection *det)
{
	if (det == NULL)
		return;
	for (size_t i = 0; i < det->n_idents; i++) {
		struct det_ident *id = &det->idents[i];
		for (size_t m = 0; m < id->n_maps; m++) {
			for (size_t k = 0; k < id->maps[m].n_items; k++)
				match_field_clear(&id->maps[m].items[k]);
			free(id->maps[m].items);
		}
		free(id->maps);
		free(id->name);
	}
	free(det->idents);
	free(det->names);
	cond_free(det->cond);
	free(det->prog);
	free(det);
}

struct match_arg {
	const struct detection *det;
	const struct event *ev;
};

static bool ident_match(void *arg, size_t i)
{
	const struct match_arg *a = arg;
	const struct det_ident *id = &a->det->idents[i];

	for (size_t m = 0; m < id->n_maps; m++) {
		const struct det_map *map = &id->maps[m];
		size_t k = 0;
		while (k < map->n_items &&
		       match_field_eval(&map->items[k], a->ev))
			k++;
		if (k == map->n_items)
			return true;
	}
	return false;
}

/* Runs the item program; memo as in detection_match_shared(), or none
 * when slot is NULL. */
static bool run(const struct detection *det, const struct event *ev,
		const uint32_t *slot, uint8_t *memo)
{
	int32_t pc = det->entry;

	while (pc >= 0) {
		const struct det_op *op = &det->prog[pc];
		uint32_t s = slot ? slot[op->unit] : DETECTION_NO_SLOT;
		bool v;
		if (s == DETECTION_NO_SLOT) {
			v = match_field_eval(op->mf, ev);
		} else if (memo[s] != 0) {
			v = memo[s] == 2;
		} else {
			v = match_field_eval(op->mf, ev);
			memo[s] = v ? 2 : 1;
		}
		pc = v ? op->t : op->f;
	}
	return pc == COND_OP_TRUE;
}

bool detection_match(const struct detection *det, const struct event *ev)
{
	struct match_arg a = {det, ev};

	if (det->prog != NULL)
		return run(det, ev, NULL, NULL);
	return cond_eval(det->cond, ident_match, &a);
}

bool detection_match_shared(const struct detection *det, const struct event *ev,
			    const uint32_t *slot, uint8_t *memo)
{
	uint32_t s = slot[det->n_items];
	bool r;

	if (s != DETECTION_NO_SLOT && memo[s] != 0)
		return memo[s] == 2;
	r = det->prog != NULL ? run(det, ev, slot, memo)
			      : detection_match(det, ev);
	if (s != DETECTION_NO_SLOT)
		memo[s] = r ? 2 : 1;
	return r;
}

size_t detection_n_units(const struct detection *det)
{
	return det->n_items + 1;
}

static const struct match_field *item_at(const struct detection *det, size_t k)
{
	for (size_t i = 0; i < det->n_idents; i++)
		for (size_t m = 0; m < det->idents[i].n_maps; m++) {
			const struct det_map *map = &det->idents[i].maps[m];
			if (k >= map->first && k - map->first < map->n_items)
				return &map->items[k - map->first];
		}
	return NULL;
}

static bool ident_equal(const struct det_ident *a, const struct det_ident *b)
{
	if (a->keywords != b->keywords || a->n_maps != b->n_maps)
		return false;
	for (size_t m = 0; m < a->n_maps; m++) {
		if (a->maps[m].n_items != b->maps[m].n_items)
			return false;
		for (size_t k = 0; k < a->maps[m].n_items; k++)
			if (!match_field_equal(&a->maps[m].items[k],
					       &b->maps[m].items[k]))
				return false;
	}
	return true;
}

static bool det_equal(const struct detection *a, const struct detection *b)
{
	if (a->n_idents != b->n_idents || !cond_equal(a->cond, b->cond))
		return false;
	for (size_t i = 0; i < a->n_idents; i++)
		if (!ident_equal(&a->idents[i], &b->idents[i]))
			return false;
	return true;
}

bool detection_unit_equal(const struct detection *a, size_t ka,
			  const struct detection *b, size_t kb)
{
	if (ka < a->n_items || kb < b->n_items)
		return ka < a->n_items && kb < b->n_items &&
		       match_field_equal(item_at(a, ka), item_at(b, kb));
	return det_equal(a, b);
}

static uint64_t ident_hash(const struct det_ident *id)
{
	uint64_t h = id->n_maps;

	for (size_t m = 0; m < id->n_maps; m++)
		for (size_t k = 0; k < id->maps[m].n_items; k++)
			h = h * 31 + match_field_hash(&id->maps[m].items[k]);
	return h;
}

uint64_t detection_unit_hash(const struct detection *det, size_t k)
{
	uint64_t h = 0;

	if (k < det->n_items)
		return match_field_hash(item_at(det, k));
	for (size_t i = 0; i < det->n_idents; i++)
		h = h * 31 + ident_hash(&det->idents[i]);
	return h * 3 + 1;
}

/* ---- prefilter literals ---- */

/* An item that can only be true when the field equals one of its literal
 * alternatives. */
static bool literal_item(const struct match_field *mf)
{
	if (mf->id < 0 || mf->exists || mf->neq || mf->n_alts == 0 ||
	    mf->time_part != MATCH_TIME_NONE)
		return false;
	for (size_t i = 0; i < mf->n_alts; i++)
		if (mf->alts[i].kind != MATCH_EXACT)
			return false;
	return true;
}

static const struct match_field *map_literal(const struct det_map *m,
					     int32_t field)
{
	for (size_t k = 0; k < m->n_items; k++)
		if (m->items[k].id == field && literal_item(&m->items[k]))
			return &m->items[k];
	return NULL;
}

/* Identifiers (< 64) every map of which has a literal item on field. */
static uint64_t literal_idents(const struct detection *det, int32_t field)
{
	uint64_t usable = 0;

	for (size_t i = 0; i < det->n_idents && i < 64; i++) {
		const struct det_ident *id = &det->idents[i];
		size_t m = 0;
		while (m < id->n_maps && map_literal(&id->maps[m], field))
			m++;
		if (!id->keywords && id->n_maps > 0 && m == id->n_maps)
			usable |= (uint64_t)1 << i;
	}
	return usable;
}

int detection_literals(const struct detection *det, int32_t field,
		       struct detection_literal *out, size_t max)
{
	uint64_t cover;
	size_t n = 0;

	if (field < 0 ||
	    !cond_cover(det->cond, literal_idents(det, field), &cover))
		return -1;
	for (size_t i = 0; i < det->n_idents && i < 64; i++) {
		if (!((cover >> i) & 1))
			continue;
		const struct det_ident *id = &det->idents[i];
		for (size_t m = 0; m < id->n_maps; m++) {
			const struct match_field *mf =
			    map_literal(&id->maps[m], field);
			for (size_t a = 0; a < mf->n_alts; a++) {
				if (n == max || n == INT32_MAX)
					return -1;
				out[n++] = (struct detection_literal){
				    mf->alts[a].pat, mf->alts[a].pat_len,
				    mf->alts[a].cased};
			}
		}
	}
	return (int)n;
}

size_t detection_literal_fields(const struct detection *det, int32_t *out,
				size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < det->n_idents; i++) {
		const struct det_ident *id = &det->idents[i];
		for (size_t m = 0; m < id->n_maps && !id->keywords; m++) {
			const struct det_map *map = &id->maps[m];
			for (size_t k = 0; k < map->n_items; k++) {
				int32_t f = map->items[k].id;
				size_t j = 0;
				if (!literal_item(&map->items[k]))
					continue;
				while (j < n && out[j] != f)
					j++;
				if (j == n && n < max)
					out[n++] = f;
			}
		}
	}
	return n;
}

void detection_dump(const struct detection *det, const struct fieldtab *t,
		    void *stdio_file)
{
	FILE *f = stdio_file;

	fprintf(f, "detection:\n");
	for (size_t i = 0; i < det->n_idents; i++) {
		const struct det_ident *id = &det->idents[i];
		fprintf(f, "  %s: %s, %zu map(s) ORed\n", id->name,
			id->keywords ? "keywords" : "maps", id->n_maps);
		for (size_t m = 0; m < id->n_maps; m++) {
			fprintf(f, "    map %zu: %zu item(s) ANDed\n", m,
				id->maps[m].n_items);
			for (size_t k = 0; k < id->maps[m].n_items; k++)
				match_field_dump(&id->maps[m].items[k], t, f);
		}
	}
	fprintf(f, "  condition: ");
	cond_dump(det->cond, det->names, f);
	fputc('\n', f);
}
