/*
 * ext_map: a small bounded hash map from byte-string keys to an int64 and a
 * pointer, for the custos extensions' per-agent state.  Open addressing,
 * linear probing, backward-shift deletion (no tombstones).  Keys are
 * copied and owned; values are the caller's.  A full map (max entries)
 * refuses new keys: the caller counts it.  Iteration order is slot order
 * (deterministic for a given insertion history).
 */
#ifndef CUSTOS_EXT_MAP_H
#define CUSTOS_EXT_MAP_H

#include <stddef.h>
#include <stdint.h>

struct ext_map_entry {
	char *key; /* NULL: free slot; NUL-terminated copy */
	size_t key_len;
	uint32_t hash;
	int64_t num;
	void *ptr;
};

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
 * (max reached) or memory ran out (*full says which). */
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
