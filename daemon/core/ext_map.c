/*
 * ext_map: bounded open-addressing hash map (see ext_map.h).  Capacity is
 * a power of two kept at most 70 % full; FNV-1a hashes.
 */
#include "ext_map.h"

#include <stdlib.h>
#include <string.h>

static uint32_t hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

void ext_map_init(struct ext_map *m, size_t max)
{
	memset(m, 0, sizeof(*m));
	m->max = max ? max : 1;
}

void ext_map_clear(struct ext_map *m)
{
	for (size_t i = 0; i < m->n_slots; i++)
		free(m->slots[i].key);
	free(m->slots);
	m->slots = NULL;
	m->n_slots = m->n = 0;
}

static size_t probe(const struct ext_map *m, const char *key, size_t len,
		    uint32_t h)
{
	size_t mask = m->n_slots - 1, i = h & mask;

	while (m->slots[i].key &&
	       !(m->slots[i].hash == h && m->slots[i].key_len == len &&
		 memcmp(m->slots[i].key, key, len) == 0))
		i = (i + 1) & mask;
	return i;
}

struct ext_map_entry *ext_map_find(const struct ext_map *m, const char *key,
				   size_t len)
{
	if (m->n_slots == 0)
		return NULL;
	size_t i = probe(m, key, len, hash_bytes(key, len));
	return m->slots[i].key ? &m->slots[i] : NULL;
}

static int grow(struct ext_map *m)
{
	size_t ns = m->n_slots ? m->n_slots * 2 : 16;
	struct ext_map_entry *old = m->slots, *s = calloc(ns, sizeof(*s));
	size_t on = m->n_slots;

	if (s == NULL)
		return -1;
	m->slots = s;
	m->n_slots = ns;
	for (size_t i = 0; i < on; i++)
		if (old[i].key)
			s[probe(m, old[i].key, old[i].key_len, old[i].hash)] =
			    old[i];
	free(old);
	return 0;
}

struct ext_map_entry *ext_map_put(struct ext_map *m, const char *key,
				  size_t len, int *created, int *full)
{
	struct ext_map_entry *en = ext_map_find(m, key, len);
	uint32_t h = hash_bytes(key, len);

	*created = 0;
	*full = 0;
	if (en)
		return en;
	if (m->n >= m->max) {
		*full = 1;
		return NULL;
	}
	if ((m->n + 1) * 10 > m->n_slots * 7 && grow(m) < 0)
		return NULL;
	char *k = malloc(len + 1);
	if (k == NULL)
		return NULL;
	memcpy(k, key, len);
	k[len] = '\0';
	en = &m->slots[probe(m, key, len, h)];
	*en = (struct ext_map_entry){k, len, h, 0, NULL};
	m->n++;
	*created = 1;
	return en;
}

void ext_map_del(struct ext_map *m, struct ext_map_entry *en)
{
	size_t mask = m->n_slots - 1, i = (size_t)(en - m->slots), j = i;

	free(en->key);
	m->slots[i].key = NULL;
	m->n--;
	for (;;) {
		j = (j + 1) & mask;
		if (m->slots[j].key == NULL)
			return;
		size_t home = m->slots[j].hash & mask;
		/* move j back to i unless its home lies in (i, j] */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			m->slots[i] = m->slots[j];
			m->slots[j].key = NULL;
			i = j;
		}
	}
}

struct ext_map_entry *ext_map_next(const struct ext_map *m, size_t *i)
{
	for (; *i < m->n_slots; (*i)++)
		if (m->slots[*i].key)
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
		while (m->slots[i].key && drop(&m->slots[i], arg)) {
			ext_map_del(m, &m->slots[i]);
			n++;
		}
	return n;
}
