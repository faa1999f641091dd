/*
 * ext_map: a small bounded hash map from byte-string keys to an int64 and a
 * pointer, for the custos extensions' per-agent state.  Open addressing,
 * linear probing, backward-shift deletion (no tombstones).  Keys are
 * copied and owned (shorter than EXT_MAP_KEY_INLINE: inside the entry, no
 * allocation; read them with ext_map_key()); values are the caller's.  A full
 * map (max entries) refuses new keys: the caller counts it.  Iteration order is
 * slot order (deterministic for a given insertion history).
 */
#ifndef CUSTOS_EXT_MAP_H
#define CUSTOS_EXT_MAP_H

#include <stddef.h>
#include <stdint.h>

/* Keys shorter than this are kept in the entry (customer ids, agents). */
#define EXT_MAP_KEY_INLINE 16
/* key_len of a free slot; longer keys are refused. */
#define EXT_MAP_FREE UINT32_MAX

struct ext_map_entry {
	union {
		char *str; /* owned copy, when key_len >= EXT_MAP_KEY_INLINE */
		char inl[EXT_MAP_KEY_INLINE]; /* when shorter */
	} k;		  /* NUL-terminated; see ext_map_key() */
	uint32_t key_len; /* EXT_MAP_FREE: free slot */
	uint32_t hash;
	int64_t num;
	void *ptr;
};

/* The entry's key: key_len bytes and a NUL.  Valid until the entry is
 * deleted or the map grows (entries move: do not keep it across a put). */
static inline const char *ext_map_key(const struct ext_map_entry *en)
{
	return en->key_len < EXT_MAP_KEY_INLINE ? en->k.inl : en->k.str;
}

struct ext_map {
	struct ext_map_entry *slots;
	size_t n_slots, n, max;
};

/* max: most entries ever held (>= 1). */
void ext_map_init(struct ext_map *m, size_t max);
/* Frees keys and slots (not ptr values). */
void ext_map_clear(struct ext_map *m);

struct ext_map_entry *ext_map_find(const struct ext_map *m, const char *key,
				   size_t len);

/* Finds or adds key.  *created tells which.  NULL when the map is full
 * (max reached) or memory ran out or the key is EXT_MAP_FREE bytes or
 * longer (*full says which: 1 for a full map). */
struct ext_map_entry *ext_map_put(struct ext_map *m, const char *key,
				  size_t len, int *created, int *full);

/* Removes the entry (from ext_map_find/put/next). */
void ext_map_del(struct ext_map *m, struct ext_map_entry *en);

/* Iteration: *i = 0 first; NULL at the end.  Do not delete while
 * iterating: use ext_map_sweep. */
struct ext_map_entry *ext_map_next(const struct ext_map *m, size_t *i);

/* Deletes every entry for which drop(entry, arg) is true (drop may free
 * en->ptr).  Returns the number deleted. */
size_t ext_map_sweep(struct ext_map *m,
		     int (*drop)(struct ext_map_entry *en, void *arg),
		     void *arg);

#endif
