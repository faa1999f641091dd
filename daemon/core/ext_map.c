/*
 * ext_map: bounded open-addressing hash map (see ext_map.h).  Capacity is
 * a power of two kept at most 70 % full.
 */
#include "ext_map.h"

#include "hashfn.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void ext_map_init(struct ext_map *m, size_t max)
{
	memset(m, 0, sizeof(*m));
	m->max = max ? max : 1;
}

static bool used(const struct ext_map_entry *en)
{
	return en->key_len != EXT_MAP_FREE;
}

static void free_key(struct ext_map_entry *en)
{
	if (used(en) && en->key_len >= EXT_MAP_KEY_INLINE)
		free(en->k.str);
	en->key_len = EXT_MAP_FREE;
}

void ext_map_clear(struct ext_map *m)
{
	for (size_t i = 0; i < m->n_slots; i++)
		free_key(&m->slots[i]);
	free(m->slots);
	m->slots = NULL;
	m->n_slots = m->n = 0;
}

static size_t probe(const struct ext_map *m, const char *key, size_t len,
		    uint32_t h)
{
	size_t mask = m->n_slots - 1, i = h & mask;
	const struct ext_map_entry *en;

	while (en = &m->slots[i],
	       used(en) && !(en->hash == h && en->key_len == len &&
			     memcmp(ext_map_key(en), key, len) == 0))
		i = (i + 1) & mask;
	return i;
}

static struct ext_map_entry *
find_hashed(const struct ext_map *m, const char *key, size_t len, uint32_t h)
{
	if (m->n_slots == 0)
		return NULL;
	size_t i = probe(m, key, len, h);
	return used(&m->slots[i]) ? &m->slots[i] : NULL;
}

struct ext_map_entry *ext_map_find(const struct ext_map *m, const char *key,
				   size_t len)
{
	return find_hashed(m, key, len, hashfn_bytes(key, len));
}

static int grow(struct ext_map *m)
{
	size_t ns = m->n_slots ? m->n_slots * 2 : 16;
	struct ext_map_entry *old = m->slots, *s = malloc(ns * sizeof(*s));
	size_t on = m->n_slots;

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < ns; i++)
		s[i].key_len = EXT_MAP_FREE;
	m->slots = s;
	m->n_slots = ns;
	for (size_t i = 0; i < on; i++)
		if (used(&old[i]))
			s[probe(m, ext_map_key(&old[i]), old[i].key_len,
				old[i].hash)] = old[i];
	free(old);
	return 0;
}

/* Copies key into the free entry en. */
static int set_key(struct ext_map_entry *en, const char *key, size_t len,
		   uint32_t h)
{
	char *k = en->k.inl;

	if (len >= EXT_MAP_KEY_INLINE &&
	    (k = en->k.str = malloc(len + 1)) == NULL)
		return -1;
	memcpy(k, key, len);
	k[len] = '\0';
	en->key_len = (uint32_t)len;
	en->hash = h;
	en->num = 0;
	en->ptr = NULL;
	return 0;
}

struct ext_map_entry *ext_map_put(struct ext_map *m, const char *key,
				  size_t len, int *created, int *full)
{
	uint32_t h = hashfn_bytes(key, len);
	struct ext_map_entry *en = find_hashed(m, key, len, h);

	*created = 0;
	*full = 0;
	if (en)
		return en;
	if (m->n >= m->max) {
		*full = 1;
		return NULL;
	}
	if (len >= EXT_MAP_FREE ||
	    ((m->n + 1) * 10 > m->n_slots * 7 && grow(m) < 0))
		return NULL;
	en = &m->slots[probe(m, key, len, h)];
	if (set_key(en, key, len, h) < 0)
		return NULL;
	m->n++;
	*created = 1;
	return en;
}

void ext_map_del(struct ext_map *m, struct ext_map_entry *en)
{
	size_t mask = m->n_slots - 1, i = (size_t)(en - m->slots), j = i;

	free_key(en);
	m->n--;
	for (;;) {
		j = (j + 1) & mask;
		if (!used(&m->slots[j]))
			return;
		size_t home = m->slots[j].hash & mask;
		/* move j back to i unless its home lies in (i, j] */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			m->slots[i] = m->slots[j];
			m->slots[j].key_len = EXT_MAP_FREE;
			i = j;
		}
	}
}

struct ext_map_entry *ext_map_next(const struct ext_map *m, size_t *i)
{
	for (; *i < m->n_slots; (*i)++)
		if (used(&m->slots[*i]))
			return &m->slots[(*i)++];
	return NULL;
}

size_t ext_map_sweep(struct ext_map *m,
		     int (*drop)(struct ext_map_entry *en, void *arg),
		     void *arg)
{
	size_t n = 0;

	/* a deletion may shift a later entry into slot i: look again */
	for (size_t i = 0; i < m->n_slots; i++)
		while (used(&m->slots[i]) && drop(&m->slots[i], arg)) {
			ext_map_del(m, &m->slots[i]);
			n++;
		}
	return n;
}
