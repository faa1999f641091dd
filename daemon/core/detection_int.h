/*
 * detection_int: what the three parts of the detection module share —
 * detection.c (compiling a `detection:` mapping), detection_xform.c (the
 * value transformations of modifier chains and `expand`) and
 * detection_eval.c (the branch program, matching, sharing between
 * detections and the prefilter's literals).  Not for other modules: their
 * interface is detection.h.
 */
#ifndef CUSTOS_DETECTION_INT_H
#define CUSTOS_DETECTION_INT_H

#include "detection.h"
#include "match.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#define MAX_CHAIN 16

struct chain {
	enum mod mods[MAX_CHAIN];
	size_t n;
	uint64_t has; /* bit per enum mod */
	bool keyword;
};

#define HAS(c, m) (((c)->has >> (m)) & 1)
#define BIT(m) ((uint64_t)1 << (m))
#define POS_MODS (BIT(MOD_CONTAINS) | BIT(MOD_STARTSWITH) | BIT(MOD_ENDSWITH))
#define NUM_MODS (BIT(MOD_LT) | BIT(MOD_LTE) | BIT(MOD_GT) | BIT(MOD_GTE))
#define TIME_MODS                                                              \
	(BIT(MOD_MINUTE) | BIT(MOD_HOUR) | BIT(MOD_DAY) | BIT(MOD_WEEK) |      \
	 BIT(MOD_MONTH) | BIT(MOD_YEAR))
#define RE_SUBS (BIT(MOD_RE_I) | BIT(MOD_RE_M) | BIT(MOD_RE_S))
#define XFORM_MODS                                                             \
	(BIT(MOD_BASE64) | BIT(MOD_BASE64OFFSET) | BIT(MOD_WINDASH) |          \
	 BIT(MOD_UTF16LE) | BIT(MOD_UTF16BE) | BIT(MOD_UTF16) | BIT(MOD_WIDE))

/* a compile-time value list */
struct strvec {
	struct match_str *v;
	size_t n, cap;
};

/* ---- detection_xform.c ---- */

/* Appends a zeroed string to v; NULL on allocation failure. */
struct match_str *xform_vec_add(struct strvec *v);
/* Frees every string of v and v itself; v is left empty. */
void xform_vec_clear(struct strvec *v);
/* Applies the chain's transformations and position modifiers, in chain
 * order, to every value of vals (replaced by the results).  Returns 0, -1
 * (allocation), -2 (more than DET_MAX_ALTS alternatives), -3 (not UTF-8),
 * -4 (wildcard in an encoded value); xform_error() names the failure. */
int xform_apply_chain(const struct chain *ch, struct strvec *vals);
/* The values of list `name` (len bytes), NULL-terminated, or NULL. */
const char *const *xform_find_list(const struct rule_lists *l, const char *name,
				   size_t len);
/* Expands %name% placeholders of raw text into raw texts (stored in
 * match_str.b, wildcards not yet parsed).  Returns 0, -1, -2 (too many) or
 * -5 (unknown list, *bad_name/bad_len set). */
int xform_expand(const struct rule_lists *lists, const char *raw,
		 struct strvec *out, const char **bad, size_t *bad_len);
/* A message for a negative return of the functions above. */
const char *xform_error(int rc);

/* ---- detection_eval.c ---- */

/* Numbers the items and builds det->prog from the condition (left NULL,
 * evaluated through cond_eval(), when it would exceed DET_MAX_OPS). */
void detection_program_build(struct detection *det);

#endif
