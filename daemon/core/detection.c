/*
 * detection: compiles a Sigma `detection:` mapping into search identifiers
 * (each an OR of maps, each map an AND of field items, see match.h) and a
 * condition (condition.h), and matches events against it.  This file
 * compiles; detection_xform.c holds the value transformations of modifier
 * chains and `expand`, detection_eval.c the matching (detection_int.h:
 * what they share).
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
#include "detection_int.h"

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
static const char *const mod_names[N_MODS] = {
    "contains", "startswith",	"endswith", "all",     "cased",	  "neq",
    "exists",	"expand",	"fieldref", "re",      "i",	  "m",
    "s",	"cidr",		"lt",	    "lte",     "gt",	  "gte",
    "minute",	"hour",		"day",	    "week",    "month",	  "year",
    "base64",	"base64offset", "windash",  "utf16le", "utf16be", "utf16",
    "wide",
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

/* ---- items ---- */

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
	struct match_str *s = xform_vec_add(&vals);
	int rc = s ? match_str_parse(s, text, len) : -1;

	if (rc == 0)
		rc = xform_apply_chain(ch, &vals);
	if (rc == 0 && mf->n_alts + vals.n > DET_MAX_ALTS)
		rc = -2;
	for (size_t i = 0; rc == 0 && i < vals.n; i++)
		rc = match_add_string(mf, &vals.v[i], HAS(ch, MOD_CASED));
	xform_vec_clear(&vals);
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
	return xform_find_list(c->rc->lists, s + 1, len - 2);
}

/* The cache slot of list vals's set (rule_lists.sets), or NULL when the
 * lists keep no cache. */
static struct strset **set_slot(const struct rule_lists *l,
				const char *const *vals, bool cased)
{
	for (size_t i = 0; l && l->sets && i < l->n_lists; i++)
		if ((const char *const *)l->values[i] == vals)
			return &l->sets[2 * i + cased];
	return NULL;
}

/* Adds the values of list vals to mf: plain ones as one set (the one the
 * lists already hold for an earlier rule, else a new one the lists then
 * keep), those with wildcards or escapes as alternatives of their own.
 * 0 or -1. */
static int add_set(struct cctx *c, struct match_field *mf,
		   const struct chain *ch, const struct yaml_node *vn,
		   const char *const *vals)
{
	bool cased = HAS(ch, MOD_CASED);
	struct strset **slot = set_slot(c->rc->lists, vals, cased);
	struct strset *set =
	    slot && *slot ? strset_ref(*slot) : strset_new(cased);
	bool fill = !(slot && *slot);
	int rc = set ? 0 : -1;

	for (size_t i = 0; rc == 0 && vals[i] != NULL; i++) {
		size_t n = strlen(vals[i]);
		if (strpbrk(vals[i], "*?\\") != NULL) {
			if (add_string(c, mf, ch, vn, vals[i], n) < 0) {
				strset_free(set);
				return -1; /* reported */
			}
		} else if (fill && strset_add(set, vals[i], n) < 0)
			rc = -1;
	}
	if (rc == 0 && fill && slot)
		*slot = strset_ref(set);
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
	int rc = xform_expand(c->rc->lists, vn->scalar, &raws, &bad, &bad_len);
	if (rc == -5)
		err_at(c, vn, "unknown placeholder list '%%%.*s%%'",
		       (int)bad_len, bad);
	else if (rc < 0)
		err_at(c, vn, "%s", xform_error(rc));
	for (size_t i = 0; rc == 0 && i < raws.n; i++) {
		struct match_str *r = &raws.v[i];
		rc = add_raw(c, mf, ch, vn, r->b ? (char *)r->b : "", r->len);
	}
	xform_vec_clear(&raws);
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
	detection_program_build(det);
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
