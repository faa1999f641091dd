/*
 * match_share: equality and hashing of compiled field items (so that an
 * item several rules use is evaluated once per event, see rule_index.h) and
 * the human-readable dump of matchers (`custos lint --dump`).
 */
#include "match.h"

#include "strset.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sharing ---- */

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool alt_equal(const struct matcher *a, const struct matcher *b)
{
	if (a->kind != b->kind || a->op != b->op || a->pos != b->pos ||
	    a->cased != b->cased || a->pat_len != b->pat_len ||
	    memcmp(&a->num, &b->num, sizeof(a->num)) != 0 ||
	    a->ref_id != b->ref_id || a->family != b->family ||
	    a->prefix != b->prefix || memcmp(a->addr, b->addr, 16) != 0)
		return false;
	if (a->pat_len > 0 && memcmp(a->pat, b->pat, a->pat_len) != 0)
		return false;
	if (a->kind == MATCH_GLOB && memcmp(a->wild, b->wild, a->pat_len) != 0)
		return false;
	if (a->kind == MATCH_RE || a->kind == MATCH_SET)
		return str_eq(a->src, b->src) &&
		       (a->kind != MATCH_SET ||
			strset_count(a->set) == strset_count(b->set));
	return true;
}

bool match_field_equal(const struct match_field *a, const struct match_field *b)
{
	if (a->id != b->id || a->all != b->all || a->neq != b->neq ||
	    a->exists != b->exists || a->exists_want != b->exists_want ||
	    a->time_part != b->time_part || a->has_null != b->has_null ||
	    a->n_alts != b->n_alts)
		return false;
	for (size_t i = 0; i < a->n_alts; i++)
		if (!alt_equal(&a->alts[i], &b->alts[i]))
			return false;
	return true;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211u;
	return h;
}

uint64_t match_field_hash(const struct match_field *mf)
{
	uint64_t h = 1469598103934665603u;
	unsigned char flags[4] = {mf->all, mf->neq, mf->exists, mf->time_part};

	h = fnv(h, &mf->id, sizeof(mf->id));
	h = fnv(h, flags, sizeof(flags));
	for (size_t i = 0; i < mf->n_alts; i++) {
		const struct matcher *m = &mf->alts[i];
		h = fnv(h, &m->kind, 1);
		if (m->pat_len > 0)
			h = fnv(h, m->pat, m->pat_len);
	}
	return h;
}

/* ---- dump ---- */

static const char *const kind_names[] = {
    [MATCH_EXACT] = "exact",	   [MATCH_PREFIX] = "prefix",
    [MATCH_SUFFIX] = "suffix",	   [MATCH_CONTAINS] = "contains",
    [MATCH_GLOB] = "glob",	   [MATCH_ANY] = "any",
    [MATCH_NULL] = "null",	   [MATCH_RE] = "re",
    [MATCH_CIDR] = "cidr",	   [MATCH_NUM] = "num",
    [MATCH_FIELDREF] = "fieldref", [MATCH_SET] = "set",
};

static const char *const op_names[] = {"==", "<", "<=", ">", ">="};

static void dump_alt(const struct matcher *m, FILE *f)
{
	fprintf(f, "        %s", kind_names[m->kind]);
	switch (m->kind) {
	case MATCH_NULL:
	case MATCH_ANY:
		break;
	case MATCH_NUM:
		fprintf(f, " %s %s", op_names[m->op], m->src);
		break;
	case MATCH_RE:
		fprintf(f, " /%s/%s%s%s", m->src,
			((uint32_t)m->num & PCRE2_CASELESS) ? "i" : "",
			((uint32_t)m->num & PCRE2_MULTILINE) ? "m" : "",
			((uint32_t)m->num & PCRE2_DOTALL) ? "s" : "");
		break;
	case MATCH_CIDR:
		fprintf(f, " %s", m->src);
		break;
	case MATCH_FIELDREF:
		fprintf(f, " %s %s%s", kind_names[m->pos], m->src,
			m->cased ? " cased" : "");
		break;
	case MATCH_SET:
		fprintf(f, " %s (%zu values)%s", m->src, strset_count(m->set),
			m->cased ? " cased" : "");
		break;
	default:
		fprintf(f, " \"%s\"%s", m->src, m->cased ? " cased" : "");
	}
	fputc('\n', f);
}

static const char *const time_names[] = {"",	 "minute", "hour", "day",
					 "week", "month",  "year"};

void match_field_dump(const struct match_field *mf, const struct fieldtab *t,
		      void *stdio_file)
{
	FILE *f = stdio_file;

	if (mf->id < 0)
		fprintf(f, "      keywords%s", mf->mods);
	else
		fprintf(f, "      field %s#%d%s", mf->name, (int)mf->id,
			mf->mods);
	if (mf->exists)
		fprintf(f, " exists=%s", mf->exists_want ? "true" : "false");
	fprintf(f, " [%s%s%s%s]\n", mf->all ? "all" : "any",
		mf->neq ? " neq" : "", mf->time_part ? " " : "",
		time_names[mf->time_part]);
	for (size_t i = 0; i < mf->n_alts; i++)
		dump_alt(&mf->alts[i], f);
	(void)t;
}
