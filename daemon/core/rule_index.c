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
	uint32_t *dec; /* memo slots of the decided items true for this key */
	size_t n_dec, cap_dec;
};

struct ix_field {
	int32_t id;
	size_t n_keyed;
	struct ix_slot *slots;
	size_t mask; /* number of slots - 1 (a power of two - 1) */
	uint64_t *free_set;
	uint64_t key_lens; /* bit min(len, 63) set for every key's length */
	/* memo slots [dec_base, dec_base + n_dec) hold the items this field
	 * decides (detection_unit_equality() on it) */
	size_t dec_base, n_dec;
};

struct rule_index {
	size_t n_words;
	struct ix_field fields[RULE_INDEX_MAX_FIELDS];
	size_t n_fields;
	uint64_t *all;
	uint32_t *slots;   /* every detection's item slots, in rule order */
	size_t *slot_base; /* detection i's first entry in slots */
	size_t n_shared, n_unshared;
	size_t n_decided; /* memo slots [0, n_decided): the fields' decided */
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

/* fold() on each of 8 bytes at once: a byte in 'A'..'Z' (0x41-0x5a) gets
 * 0x20 added.  Per byte, below 0x80 (no carry out of a byte): b + 0x3f has
 * its top bit set iff b >= 'A', b + 0x25 iff b > 'Z'. */
static inline uint64_t fold8(uint64_t x)
{
	const uint64_t hi = 0x8080808080808080u;
	uint64_t low7 = x & ~hi;
	uint64_t upper = (low7 + 0x3f3f3f3f3f3f3f3fu) &
			 ~(low7 + 0x2525252525252525u) & ~x & hi;

	return x | upper >> 2;
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

static inline uint64_t load32(const unsigned char *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

/* The last n % 8 bytes of p (n bytes), or all of them when n < 8, as a
 * word: reads only within p[0..n). */
static inline uint64_t tail_word(const unsigned char *p, size_t n)
{
	if (n >= 8)
		return load64(p + n - 8);
	if (n >= 4)
		return load32(p) | load32(p + n - 4) << 32;
	if (n > 0)
		return (uint64_t)p[0] | (uint64_t)p[n / 2] << 8 |
		       (uint64_t)p[n - 1] << 16;
	return 0;
}

/* A hash of the folded bytes, 8 at a time; the length is mixed in, so the
 * overlapping tail word needs no padding. */
static uint64_t hash_folded(const unsigned char *p, size_t n)
{
	const uint64_t k = 0x9e3779b97f4a7c15u;
	uint64_t h = (n + 1) * k;
	size_t i = 0;

	for (; i + 8 < n; i += 8)
		h = (h ^ fold8(load64(p + i))) * k;
	h = (h ^ fold8(tail_word(p + i, n - i))) * k;
	return h ^ h >> 32;
}

/* Are the n bytes at p, folded, equal to key (folded, n bytes)? */
static inline bool eq_folded(const unsigned char *p, const unsigned char *key,
			     size_t n)
{
	size_t i = 0;

	for (; i + 8 < n; i += 8)
		if (fold8(load64(p + i)) != load64(key + i))
			return false;
	return fold8(tail_word(p + i, n - i)) == tail_word(key + i, n - i);
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
		if (s->len == n && eq_folded(p, s->key, n))
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

static const struct detection *det_of(const struct ruleset *rs, size_t i)
{
	return rs->rules[i]->detection;
}

/* How many literals det's items decided by field (see assign_decided)
 * list: room the field's table needs for them. */
static size_t decided_literals(const struct detection *det, int32_t field,
			       struct detection_literal *lits)
{
	size_t total = 0, n = detection_n_units(det);
	int32_t id;

	for (size_t k = 0; k < n; k++) {
		int nl =
		    detection_unit_equality(det, k, &id, lits, IX_MAX_LITERALS);
		if (nl > 0 && id == field)
			total += (size_t)nl;
	}
	return total;
}

static int build_field(struct rule_index *ix, struct ix_field *f,
		       const struct ruleset *rs, struct detection_literal *lits)
{
	size_t total = 0, size = 16;

	for (size_t i = 0; i < rs->n_detections; i++) {
		int n = literals(rs, i, f->id, lits);
		total += n > 0 ? (size_t)n : 0;
		total += decided_literals(det_of(rs, i), f->id, lits);
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

/* Lists memo slot `slot` under the key lit of f, adding the key (with
 * the detections of a value that is no key: free_set) if no keyed
 * detection lists it, so that the candidates stay the same. */
static int decide_on(const struct rule_index *ix, struct ix_field *f,
		     const struct detection_literal *lit, uint32_t slot)
{
	struct ix_slot *s = slot_find(f, lit->b, lit->len);

	if (s->key == NULL) {
		if (slot_insert(f, ix->n_words, lit) < 0)
			return -1;
		memcpy(s->set, f->free_set, ix->n_words * sizeof(*s->set));
	}
	if (s->n_dec == s->cap_dec) {
		size_t cap = s->cap_dec ? 2 * s->cap_dec : 4;
		uint32_t *d = realloc(s->dec, cap * sizeof(*d));
		if (d == NULL)
			return -1;
		s->dec = d;
		s->cap_dec = cap;
	}
	s->dec[s->n_dec++] = slot;
	return 0;
}

/* Gives the items that key field k decides (detection_unit_equality() on
 * it) one memo slot each, contiguous per field and before the other
 * shared units, and lists each under the keys that make it true. */
static int assign_decided(struct rule_index *ix, const struct ruleset *rs,
			  struct sh_entry *t, const uint32_t *ent,
			  struct detection_literal *lits)
{
	for (size_t k = 0; k < ix->n_fields; k++) {
		struct ix_field *f = &ix->fields[k];
		f->dec_base = ix->n_shared;
		for (size_t i = 0, e = 0; i < rs->n_detections; i++) {
			const struct detection *det = det_of(rs, i);
			size_t n = detection_n_units(det);
			for (size_t u = 0; u < n; u++, e++) {
				struct sh_entry *x = &t[ent[e]];
				int32_t id;
				if (x->slot != DETECTION_NO_SLOT ||
				    ix->n_shared >= RULE_INDEX_MAX_SHARED)
					continue;
				int nl = detection_unit_equality(
				    det, u, &id, lits, IX_MAX_LITERALS);
				if (nl < 0 || id != f->id)
					continue;
				x->slot = (uint32_t)ix->n_shared++;
				for (int l = 0; l < nl; l++)
					if (decide_on(ix, f, &lits[l],
						      x->slot) < 0)
						return -1;
			}
		}
		f->n_dec = ix->n_shared - f->dec_base;
	}
	ix->n_decided = ix->n_shared;
	return 0;
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

static int build_shared(struct rule_index *ix, const struct ruleset *rs,
			struct detection_literal *lits)
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
		rc = assign_decided(ix, rs, t, ent, lits);
		assign_slots(ix, rs, t, ent);
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
	return build_shared(ix, rs, lits);
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
			free(f->slots[s].dec);
		}
		free(f->slots);
		free(f->free_set);
	}
	free(ix->all);
	free(ix->slots);
	free(ix->slot_base);
	free(ix);
}

/* The key slot of ev's value of field f, or NULL when the value is
 * absent, null or no key; *multi when the field holds several elements. */
static const struct ix_slot *field_slot(const struct ix_field *f,
					const struct event *ev, bool *multi)
{
	const struct event_field *v = event_get(ev, f->id);

	*multi = false;
	if (v == NULL || (v->kind == VALUE_NULL && v->next_same < 0))
		return NULL;
	if (v->next_same >= 0) {
		*multi = true;
		return NULL;
	}
	if (!(f->key_lens & len_bit(v->value_len)))
		return NULL; /* no key has this length: skip hashing */
	const struct ix_slot *s =
	    slot_find(f, (const unsigned char *)v->value, v->value_len);
	return s->key != NULL ? s : NULL;
}

/* The results of the items f decides, over memo's 1s (false): true for
 * those listed under the value's key; an array is left to the matchers. */
static void decide(const struct ix_field *f, const struct ix_slot *s,
		   bool multi, uint8_t *memo)
{
	if (multi) {
		memset(memo + f->dec_base, 0, f->n_dec);
		return;
	}
	for (size_t j = 0; s != NULL && j < s->n_dec; j++)
		memo[s->dec[j]] = 2;
}

size_t rule_index_candidates_memo(const struct rule_index *ix,
				  const struct event *ev, uint32_t *out,
				  uint8_t *memo)
{
	const uint64_t *sets[RULE_INDEX_MAX_FIELDS];
	size_t n = 0;

	if (memo != NULL) { /* decided items false, the rest unevaluated */
		memset(memo, 1, ix->n_decided);
		memset(memo + ix->n_decided, 0, ix->n_shared - ix->n_decided);
	}
	for (size_t k = 0; k < ix->n_fields; k++) {
		const struct ix_field *f = &ix->fields[k];
		bool multi;
		const struct ix_slot *s = field_slot(f, ev, &multi);
		sets[k] = multi ? ix->all : s != NULL ? s->set : f->free_set;
		if (memo != NULL)
			decide(f, s, multi, memo);
	}
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

size_t rule_index_candidates(const struct rule_index *ix,
			     const struct event *ev, uint32_t *out)
{
	return rule_index_candidates_memo(ix, ev, out, NULL);
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
