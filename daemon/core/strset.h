/*
 * strset: a set of byte strings for exact look-ups in constant time (the
 * `expand` modifier against a watchlist: a 100k-value list costs one hash
 * probe per event value, not 100k comparisons).  Case-insensitive sets fold
 * ASCII letters (as match.c does); other bytes compare exactly.
 *
 * Open addressing with linear probing, power-of-two table kept at most half
 * full; FNV-1a hash.  The set owns copies of its strings.  Read-only after
 * building, so it may be shared by threads.  No clock, no output.
 *
 * Reference counted: strset_new() returns one reference, strset_ref() adds
 * one, strset_free() drops one and frees the set with the last.  One rule
 * set's matchers share the set of a watchlist (rules.h, rule_lists.sets);
 * references are taken and dropped by whoever builds and frees that rule
 * set, never concurrently (the count is not atomic).
 */
#ifndef CUSTOS_STRSET_H
#define CUSTOS_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct strset;

/* An empty set; cased = compare bytes exactly.  NULL on allocation
 * failure. */
struct strset *strset_new(bool cased);
/* Drops a reference (NULL is a no-op); the last one frees the set. */
void strset_free(struct strset *s);
/* Adds a reference to s and returns s. */
struct strset *strset_ref(struct strset *s);

/* Adds a copy of v (len bytes).  Returns 1 when added, 0 when already
 * present, -1 on allocation failure. */
int strset_add(struct strset *s, const char *v, size_t len);

/* Whether v (len bytes) is in the set. */
bool strset_has(const struct strset *s, const char *v, size_t len);

size_t strset_count(const struct strset *s);

#endif
