/*
 * rule_index: detection prefilter keyed on one field's literal values (see
 * rule_index.h).
 *
 * Invariants: every candidate list is ascending; `all` lists every
 * detection; `miss` lists the detections without a literal set on the key
 * field; a key's list is `miss` merged with the detections holding that
 * key.  Keys are stored ASCII lower-cased and looked up by folding the
 * event's value, which is a necessary condition for both cased and
 * case-insensitive equality, so a candidate list may hold rules that then
 * do not match but never leaves out one that would.  Table sizes come from
 * the rule set (compile time), not from input.
 */
#include "rule_index.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "detection.h"

#define IX_MAX_LITERALS 1024 /* per rule; more: the rule is not keyed */

struct ix_list {
	uint32_t *v;
	size_t n, cap;
};

struct ix_slot {
	unsigned char *key; /* lower-cased; NULL = empty slot */
	size_t len;
	struct ix_list rules;
};

struct rule_index {
	int32_t field;
	size_t n_keyed;
	struct ix_slot *slots;
	size_t mask; /* slots - 1, a power of two minus one */
	struct ix_list all, miss;
};

static inline unsigned char fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static uint64_t hash_folded(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ fold(p[i])) * 1099511628211u;
	return h;
}

static int list_push(struct ix_list *l, uint32_t v)
{
	if (l->n > 0 && l->v[l->n - 1] == v)
		return 0;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 8;
		uint32_t *p = realloc(l->v, nc * sizeof(*p));
		if (p == NULL)
			return -1;
		l->v = p;
		l->cap = nc;
	}
	l->v[l->n++] = v;
	return 0;
}

/* The slot holding the folded form of (p, n), or the empty slot where it
 * belongs. */
static struct ix_slot *slot_find(const struct rule_index *ix,
				 const unsigned char *p, size_t n)
{
	size_t i = (size_t)hash_folded(p, n) & ix->mask;

	for (;; i = (i + 1) & ix->mask) {
		struct ix_slot *s = &ix->slots[i];
		if (s->key == NULL)
			return s;
		if (s->len != n)
			continue;
		size_t k = 0;
		while (k < n && fold(p[k]) == s->key[k])
			k++;
		if (k == n)
			return s;
	}
}

static int slot_insert(struct rule_index *ix, const struct detection_literal *l)
{
	struct ix_slot *s = slot_find(ix, l->b, l->len);

	if (s->key != NULL)
		return 0;
	s->key = malloc(l->len + 1);
	if (s->key == NULL)
		return -1;
	for (size_t k = 0; k < l->len; k++)
		s->key[k] = fold(l->b[k]);
	s->len = l->len;
	return 0;
}

/* The field that keys the most detections (-1 if none). */
static int32_t pick_field(const struct ruleset *rs,
			  struct detection_literal *lits, size_t *best_n)
{
	int32_t best = -1;

	*best_n = 0;
	for (size_t i = 0; i < rs->n_detections; i++) {
		int32_t f = detection_key_field(rs->rules[i]->detection);
		size_t n = 0;
		if (f < 0 || f == best)
			continue;
		for (size_t j = 0; j < rs->n_detections; j++)
			if (detection_literals(rs->rules[j]->detection, f, lits,
					       IX_MAX_LITERALS) >= 0)
				n++;
		if (n > *best_n) {
			best = f;
			*best_n = n;
		}
	}
	return best;
}

static size_t table_size(const struct ruleset *rs, int32_t field,
			 struct detection_literal *lits)
{
	size_t total = 0, size = 16;

	for (size_t i = 0; i < rs->n_detections; i++) {
		int n = detection_literals(rs->rules[i]->detection, field, lits,
					   IX_MAX_LITERALS);
		total += n > 0 ? (size_t)n : 0;
	}
	while (size < 2 * total + 1)
		size *= 2;
	return size;
}

/* Adds detection i to the lists it belongs to. */
static int add_rule(struct rule_index *ix, uint32_t i, int n_lits,
		    const struct detection_literal *lits)
{
	int rc = list_push(&ix->all, i);

	if (n_lits < 0) {
		rc |= list_push(&ix->miss, i);
		for (size_t s = 0; s <= ix->mask; s++)
			if (ix->slots[s].key != NULL)
				rc |= list_push(&ix->slots[s].rules, i);
		return rc;
	}
	for (int k = 0; k < n_lits; k++)
		rc |=
		    list_push(&slot_find(ix, lits[k].b, lits[k].len)->rules, i);
	return rc;
}

static int build(struct rule_index *ix, const struct ruleset *rs,
		 struct detection_literal *lits)
{
	ix->field = pick_field(rs, lits, &ix->n_keyed);
	size_t size = table_size(rs, ix->field, lits);
	ix->slots = calloc(size, sizeof(*ix->slots));
	if (ix->slots == NULL)
		return -1;
	ix->mask = size - 1;
	for (size_t i = 0; i < rs->n_detections; i++) {
		int n = detection_literals(rs->rules[i]->detection, ix->field,
					   lits, IX_MAX_LITERALS);
		for (int k = 0; k < n; k++)
			if (slot_insert(ix, &lits[k]) < 0)
				return -1;
	}
	for (size_t i = 0; i < rs->n_detections; i++) {
		int n = detection_literals(rs->rules[i]->detection, ix->field,
					   lits, IX_MAX_LITERALS);
		if (add_rule(ix, (uint32_t)i, n, lits) < 0)
			return -1;
	}
	return 0;
}

struct rule_index *rule_index_new(const struct ruleset *rs)
{
	struct rule_index *ix = calloc(1, sizeof(*ix));
	struct detection_literal *lits =
	    malloc(IX_MAX_LITERALS * sizeof(*lits));

	if (ix == NULL || lits == NULL || build(ix, rs, lits) < 0) {
		free(lits);
		rule_index_free(ix);
		return NULL;
	}
	free(lits);
	return ix;
}

void rule_index_free(struct rule_index *ix)
{
	if (ix == NULL)
		return;
	for (size_t s = 0; ix->slots != NULL && s <= ix->mask; s++) {
		free(ix->slots[s].key);
		free(ix->slots[s].rules.v);
	}
	free(ix->slots);
	free(ix->all.v);
	free(ix->miss.v);
	free(ix);
}

const uint32_t *rule_index_candidates(const struct rule_index *ix,
				      const struct event *ev, size_t *n)
{
	const struct ix_list *l = &ix->all;
	const struct event_field *f;

	if (ix->field >= 0) {
		f = event_get(ev, ix->field);
		if (f == NULL || (f->kind == VALUE_NULL && f->next_same < 0))
			l = &ix->miss;
		else if (f->next_same < 0) {
			const struct ix_slot *s = slot_find(
			    ix, (const unsigned char *)f->value, f->value_len);
			l = s->key != NULL ? &s->rules : &ix->miss;
		}
	}
	*n = l->n;
	return l->v;
}

int32_t rule_index_field(const struct rule_index *ix, size_t *n_keyed)
{
	*n_keyed = ix->n_keyed;
	return ix->field;
}
