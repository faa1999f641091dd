/*
 * rule_index: detection prefilter keyed on the literal values of a few
 * fields (see rule_index.h).
 *
 * Rule sets are bitsets of n_words 64-bit words, bit i = detection i.  Per
 * key field: `free` holds the detections not keyed on the field (they may
 * match whatever its value), each key's set is `free` plus the detections
 * listing that value, and an absent, null or unknown value gives `free`.
 * A field holding several elements (an array) constrains nothing.  Keys are
 * stored ASCII lower-cased and looked up by folding the event's value,
 * which is a necessary condition for both cased and case-insensitive
 * equality: a candidate may then fail to match, but no rule that would
 * match is ever left out.  Table sizes come from the rule set (compile
 * time), not from input.
 *
 * The index also numbers the units (field items, whole detections) that occur
 * more than once in the rule set (detection_unit_equal()) so that the engine
 * can evaluate each of them once per event (detection_match_shared()).
 */
#include "rule_index.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "detection.h"

#define IX_MAX_LITERALS 1024 /* per rule and field; more: not keyed */

struct ix_slot {
	unsigned char *key; /* lower-cased; NULL = empty slot */
	size_t len;
	uint64_t *set;
};

struct ix_field {
	int32_t id;
	size_t n_keyed;
	struct ix_slot *slots;
	size_t mask; /* number of slots - 1 (a power of two - 1) */
	uint64_t *free_set;
	uint64_t key_lens; /* bit min(len, 63) set for every key's length */
};

struct rule_index {
	size_t n_words;
	struct ix_field fields[RULE_INDEX_MAX_FIELDS];
	size_t n_fields;
	uint64_t *all;
	uint32_t *slots;   /* every detection's item slots, in rule order */
	size_t *slot_base; /* detection i's first entry in slots */
	size_t n_shared, n_unshared;
};

/* One distinct unit while numbering: occurrences and slot. */
struct sh_entry {
	const struct detection *det; /* NULL: empty */
	size_t unit;
	uint32_t count, slot;
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

static inline uint64_t len_bit(size_t len)
{
	return (uint64_t)1 << (len < 63 ? len : 63);
}

static inline void set_bit(uint64_t *set, size_t i)
{
	set[i / 64] |= (uint64_t)1 << (i % 64);
}

/* The slot holding the folded form of (p, n), or the empty slot where it
 * belongs. */
static struct ix_slot *slot_find(const struct ix_field *f,
				 const unsigned char *p, size_t n)
{
	size_t i = (size_t)hash_folded(p, n) & f->mask;

	for (;; i = (i + 1) & f->mask) {
		struct ix_slot *s = &f->slots[i];
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

static int slot_insert(struct ix_field *f, size_t n_words,
		       const struct detection_literal *l)
{
	struct ix_slot *s = slot_find(f, l->b, l->len);

	if (s->key != NULL)
		return 0;
	s->key = malloc(l->len + 1);
	s->set = calloc(n_words, sizeof(*s->set));
	if (s->key == NULL || s->set == NULL)
		return -1;
	for (size_t k = 0; k < l->len; k++)
		s->key[k] = fold(l->b[k]);
	s->len = l->len;
	f->key_lens |= len_bit(l->len);
	return 0;
}

static int literals(const struct ruleset *rs, size_t i, int32_t field,
		    struct detection_literal *lits)
{
	return detection_literals(rs->rules[i]->detection, field, lits,
				  IX_MAX_LITERALS);
}

/* Adds field to the candidates (once) with the number of detections it
 * keys. */
static void consider(const struct ruleset *rs, int32_t field,
		     struct detection_literal *lits, int32_t *ids,
		     size_t *counts, size_t *n)
{
	size_t j = 0, keyed = 0;

	while (j < *n && ids[j] != field)
		j++;
	if (j < *n || *n == RULE_INDEX_MAX_FIELDS * 8)
		return;
	for (size_t i = 0; i < rs->n_detections; i++)
		if (literals(rs, i, field, lits) >= 0)
			keyed++;
	ids[*n] = field;
	counts[(*n)++] = keyed;
}

/* Chooses the key fields: those keying the most detections first. */
static void pick_fields(struct rule_index *ix, const struct ruleset *rs,
			struct detection_literal *lits)
{
	int32_t ids[RULE_INDEX_MAX_FIELDS * 8], fs[RULE_INDEX_MAX_FIELDS];
	size_t counts[RULE_INDEX_MAX_FIELDS * 8], n = 0;

	for (size_t i = 0; i < rs->n_detections; i++) {
		size_t nf = detection_literal_fields(rs->rules[i]->detection,
						     fs, RULE_INDEX_MAX_FIELDS);
		for (size_t k = 0; k < nf; k++)
			consider(rs, fs[k], lits, ids, counts, &n);
	}
	while (ix->n_fields < RULE_INDEX_MAX_FIELDS) {
		size_t best = n;
		for (size_t j = 0; j < n; j++)
			if (counts[j] > 0 &&
			    (best == n || counts[j] > counts[best]))
				best = j;
		if (best == n)
			break;
		ix->fields[ix->n_fields++] =
		    (struct ix_field){.id = ids[best], .n_keyed = counts[best]};
		counts[best] = 0;
	}
}

static int build_field(struct rule_index *ix, struct ix_field *f,
		       const struct ruleset *rs, struct detection_literal *lits)
{
	size_t total = 0, size = 16;

	for (size_t i = 0; i < rs->n_detections; i++) {
		int n = literals(rs, i, f->id, lits);
		total += n > 0 ? (size_t)n : 0;
	}
	while (size < 2 * total + 1)
		size *= 2;
	f->slots = calloc(size, sizeof(*f->slots));
	f->free_set = calloc(ix->n_words, sizeof(*f->free_set));
	if (f->slots == NULL || f->free_set == NULL)
		return -1;
	f->mask = size - 1;
	for (size_t i = 0; i < rs->n_detections; i++) {
		int n = literals(rs, i, f->id, lits);
		if (n < 0)
			set_bit(f->free_set, i);
		for (int k = 0; k < n; k++) {
			if (slot_insert(f, ix->n_words, &lits[k]) < 0)
				return -1;
			set_bit(slot_find(f, lits[k].b, lits[k].len)->set, i);
		}
	}
	for (size_t s = 0; s <= f->mask; s++)
		for (size_t w = 0; f->slots[s].key && w < ix->n_words; w++)
			f->slots[s].set[w] |= f->free_set[w];
	return 0;
}

static const struct detection *det_of(const struct ruleset *rs, size_t i)
{
	return rs->rules[i]->detection;
}

static size_t sh_find(struct sh_entry *t, size_t mask,
		      const struct detection *det, size_t k)
{
	size_t i = (size_t)detection_unit_hash(det, k) & mask;

	while (t[i].det != NULL &&
	       !detection_unit_equal(t[i].det, t[i].unit, det, k))
		i = (i + 1) & mask;
	return i;
}

/* Gives units seen twice or more a slot, first-seen order. */
static void assign_slots(struct rule_index *ix, const struct ruleset *rs,
			 struct sh_entry *t, const uint32_t *ent)
{
	for (size_t i = 0, e = 0; i < rs->n_detections; i++) {
		size_t n = detection_n_units(det_of(rs, i));
		for (size_t k = 0; k < n; k++, e++) {
			struct sh_entry *x = &t[ent[e]];
			if (x->count >= 2 && x->slot == DETECTION_NO_SLOT &&
			    ix->n_shared < RULE_INDEX_MAX_SHARED)
				x->slot = (uint32_t)ix->n_shared++;
			else if (x->count >= 2 && x->slot == DETECTION_NO_SLOT)
				ix->n_unshared++;
			ix->slots[e] = x->slot;
		}
	}
}

/* Counts each distinct unit's occurrences; ent[e] = unit e's entry. */
static void count_units(const struct ruleset *rs, struct sh_entry *t,
			size_t mask, uint32_t *ent)
{
	for (size_t i = 0, e = 0; i < rs->n_detections; i++) {
		const struct detection *det = det_of(rs, i);
		size_t n = detection_n_units(det);
		for (size_t k = 0; k < n; k++, e++) {
			size_t x = sh_find(t, mask, det, k);
			if (t[x].det == NULL)
				t[x] = (struct sh_entry){det, k, 0,
							 DETECTION_NO_SLOT};
			t[x].count++;
			ent[e] = (uint32_t)x;
		}
	}
}

static int build_shared(struct rule_index *ix, const struct ruleset *rs)
{
	size_t total = 0, size = 16;
	int rc = -1;

	ix->slot_base = calloc(rs->n_detections + 1, sizeof(*ix->slot_base));
	if (ix->slot_base == NULL)
		return -1;
	for (size_t i = 0; i < rs->n_detections; i++) {
		ix->slot_base[i] = total;
		total += detection_n_units(det_of(rs, i));
	}
	while (size < 2 * total + 1)
		size *= 2;
	struct sh_entry *t = calloc(size, sizeof(*t));
	uint32_t *ent = calloc(total + 1, sizeof(*ent));
	ix->slots = calloc(total + 1, sizeof(*ix->slots));
	if (t != NULL && ent != NULL && ix->slots != NULL &&
	    size <= UINT32_MAX) {
		count_units(rs, t, size - 1, ent);
		assign_slots(ix, rs, t, ent);
		rc = 0;
	}
	free(t);
	free(ent);
	return rc;
}

static int build(struct rule_index *ix, const struct ruleset *rs,
		 struct detection_literal *lits)
{
	ix->n_words = (rs->n_detections + 63) / 64;
	ix->all = calloc(ix->n_words ? ix->n_words : 1, sizeof(*ix->all));
	if (ix->all == NULL)
		return -1;
	for (size_t i = 0; i < rs->n_detections; i++)
		set_bit(ix->all, i);
	pick_fields(ix, rs, lits);
	for (size_t k = 0; k < ix->n_fields; k++)
		if (build_field(ix, &ix->fields[k], rs, lits) < 0)
			return -1;
	return build_shared(ix, rs);
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
	for (size_t k = 0; k < ix->n_fields; k++) {
		struct ix_field *f = &ix->fields[k];
		for (size_t s = 0; f->slots != NULL && s <= f->mask; s++) {
			free(f->slots[s].key);
			free(f->slots[s].set);
		}
		free(f->slots);
		free(f->free_set);
	}
	free(ix->all);
	free(ix->slots);
	free(ix->slot_base);
	free(ix);
}

/* The rules field f allows for ev. */
static const uint64_t *field_set(const struct rule_index *ix,
				 const struct ix_field *f,
				 const struct event *ev)
{
	const struct event_field *v = event_get(ev, f->id);

	if (v == NULL || (v->kind == VALUE_NULL && v->next_same < 0))
		return f->free_set;
	if (v->next_same >= 0)
		return ix->all;
	if (!(f->key_lens & len_bit(v->value_len)))
		return f->free_set; /* no key has this length: skip hashing */
	const struct ix_slot *s =
	    slot_find(f, (const unsigned char *)v->value, v->value_len);
	return s->key != NULL ? s->set : f->free_set;
}

size_t rule_index_candidates(const struct rule_index *ix,
			     const struct event *ev, uint32_t *out)
{
	const uint64_t *sets[RULE_INDEX_MAX_FIELDS];
	size_t n = 0;

	for (size_t k = 0; k < ix->n_fields; k++)
		sets[k] = field_set(ix, &ix->fields[k], ev);
	for (size_t w = 0; w < ix->n_words; w++) {
		uint64_t bits = ix->all[w];
		for (size_t k = 0; k < ix->n_fields; k++)
			bits &= sets[k][w];
		for (; bits != 0; bits &= bits - 1)
			out[n++] =
			    (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
	}
	return n;
}

size_t rule_index_n_fields(const struct rule_index *ix)
{
	return ix->n_fields;
}

int32_t rule_index_field(const struct rule_index *ix, size_t i, size_t *n_keyed)
{
	*n_keyed = ix->fields[i].n_keyed;
	return ix->fields[i].id;
}

size_t rule_index_n_shared(const struct rule_index *ix)
{
	return ix->n_shared;
}

const uint32_t *rule_index_slots(const struct rule_index *ix, size_t i)
{
	return ix->slots + ix->slot_base[i];
}

size_t rule_index_n_unshared(const struct rule_index *ix)
{
	return ix->n_unshared;
}
