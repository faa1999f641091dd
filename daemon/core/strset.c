/*
 * strset: see strset.h.  Slots hold an index + 1 into the entry array (0 =
 * empty); entries keep the (folded, unless cased) bytes and their hash, so
 * growing re-inserts without re-hashing and a probe compares the hash
 * before the bytes.
 */
#include "strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *b;
	size_t len;
	uint32_t hash;
};

struct strset {
	bool cased;
	size_t n_refs;
	struct entry *e;
	size_t n, cap;
	uint32_t *slot;
	size_t n_slots; /* power of two, > 2 * n */
};

static inline unsigned char fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static uint32_t hash(const struct strset *s, const char *v, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		h = (h ^ (s->cased ? c : fold(c))) * 16777619u;
	}
	return h;
}

static bool same(const struct strset *s, const struct entry *e, const char *v,
		 size_t len)
{
	if (e->len != len)
		return false;
	if (s->cased)
		return memcmp(e->b, v, len) == 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)e->b[i] != fold((unsigned char)v[i]))
			return false;
	return true;
}

struct strset *strset_new(bool cased)
{
	struct strset *s = calloc(1, sizeof(*s));

	if (s != NULL) {
		s->cased = cased;
		s->n_refs = 1;
	}
	return s;
}

struct strset *strset_ref(struct strset *s)
{
	s->n_refs++;
	return s;
}

void strset_free(struct strset *s)
{
	if (s == NULL || --s->n_refs > 0)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].b);
	free(s->e);
	free(s->slot);
	free(s);
}

/* The slot holding v, or the empty slot where it would go. */
static size_t probe(const struct strset *s, uint32_t h, const char *v,
		    size_t len)
{
	size_t mask = s->n_slots - 1, i = h & mask;

	for (; s->slot[i] != 0; i = (i + 1) & mask) {
		const struct entry *e = &s->e[s->slot[i] - 1];
		if (e->hash == h && same(s, e, v, len))
			break;
	}
	return i;
}

static int grow(struct strset *s)
{
	size_t n_slots = s->n_slots ? 2 * s->n_slots : 16;
	uint32_t *slot = calloc(n_slots, sizeof(*slot));

	if (slot == NULL || n_slots > UINT32_MAX) {
		free(slot);
		return -1;
	}
	for (size_t k = 0; k < s->n; k++) {
		size_t i = s->e[k].hash & (n_slots - 1);
		while (slot[i] != 0)
			i = (i + 1) & (n_slots - 1);
		slot[i] = (uint32_t)(k + 1);
	}
	free(s->slot);
	s->slot = slot;
	s->n_slots = n_slots;
	return 0;
}

int strset_add(struct strset *s, const char *v, size_t len)
{
	if (2 * (s->n + 1) > s->n_slots && grow(s) < 0)
		return -1;
	uint32_t h = hash(s, v, len);
	size_t i = probe(s, h, v, len);
	if (s->slot[i] != 0)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct entry *e = realloc(s->e, cap * sizeof(*e));
		if (e == NULL)
			return -1;
		s->e = e;
		s->cap = cap;
	}
	char *b = malloc(len + 1);
	if (b == NULL)
		return -1;
	for (size_t k = 0; k < len; k++)
		b[k] = s->cased ? v[k] : (char)fold((unsigned char)v[k]);
	b[len] = '\0';
	s->e[s->n] = (struct entry){b, len, h};
	s->slot[i] = (uint32_t)++s->n;
	return 1;
}

bool strset_has(const struct strset *s, const char *v, size_t len)
{
	if (s->n == 0)
		return false;
	return s->slot[probe(s, hash(s, v, len), v, len)] != 0;
}

size_t strset_count(const struct strset *s)
{
	return s ? s->n : 0;
}
