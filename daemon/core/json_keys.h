/*
 * json_keys: decode_json's memory of the top-level key sequences of the
 * lines it decoded, so that a log whose lines repeat a few shapes (the same
 * keys in the same order) finds each key's field id with one memcmp
 * instead of scanning the key, hashing it, probing the field table and
 * comparing it with the keys before it.
 *
 * The cache is a trie of keys: the first keys of the lines seen are the
 * root's children, a key that followed key K is a child of K's node.  A
 * node holds the key as raw line bytes (only keys without escapes, at most
 * DECODE_JSON_MAX_NAME bytes, are cached), its field id and, when the id is
 * >= 0, the field table's own copy of the name.  Invariants: siblings are
 * distinct; the keys on any path from the root are pairwise distinct
 * (json_keys_store() refuses a key equal to one of its ancestors), so a
 * line whose keys all follow one path needs no duplicate check.
 *
 * Ownership: one cache per struct event_buf (it belongs to that buffer's
 * field table: ids and names are the table's, which outlives the buffer);
 * event_buf_free() frees it.  Bounded: at most JSON_KEYS_MAX nodes and
 * JSON_KEYS_BYTES key bytes; when a store finds it full the whole trie is
 * forgotten, so a log whose shapes change keeps being cached.  No clock.
 * Not thread-safe (like its buffer).
 */
#ifndef CUSTOS_JSON_KEYS_H
#define CUSTOS_JSON_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define JSON_KEYS_MAX 128
#define JSON_KEYS_BYTES 4096
#define JSON_KEYS_ROOT (-1) /* the parent of the first keys */
#define JSON_KEYS_HEAD 16   /* key + closing quote compared at once */

struct json_key {
	/* a key of at most JSON_KEYS_HEAD - 1 bytes, its closing quote, then
	 * zeros (unused for longer keys) */
	unsigned char head[JSON_KEYS_HEAD];
	/* the bits of head that must be equal: (2 << len) - 1, 0 for a key of
	 * JSON_KEYS_HEAD bytes or more */
	uint32_t need;
	const char *name; /* the field table's copy when id >= 0, else NULL */
	int32_t id;	  /* field id, or -1 */
	uint16_t off;	  /* the key's bytes: json_keys.bytes + off */
	uint16_t len;
	int16_t parent; /* node index, or JSON_KEYS_ROOT */
	int16_t child;	/* first child, or -1 */
	int16_t next;	/* next sibling, or -1 */
};

struct json_keys {
	size_t n;	/* nodes in use */
	size_t n_bytes; /* key bytes in use */
	int16_t first;	/* first child of the root, or -1 */
	struct json_key k[JSON_KEYS_MAX];
	char bytes[JSON_KEYS_BYTES];
	uint64_t n_clear; /* times the trie was full and forgotten */
};

/* An empty cache, or NULL on allocation failure. */
struct json_keys *json_keys_new(void);
void json_keys_free(struct json_keys *c);

/* The child of node parent (or JSON_KEYS_ROOT) whose key the line holds
 * at p (an opening quote; end = the line's end): '"', its bytes, '"'.
 * Returns its index, or -1.  A hit is a complete, valid JSON string. */
static inline int json_keys_match(const struct json_keys *c, int parent,
				  const unsigned char *p,
				  const unsigned char *end)
{
	int i = parent == JSON_KEYS_ROOT ? c->first : c->k[parent].child;

#ifdef __SSE2__
	/* 16 bytes after the opening quote against the heads: one compare */
	if (end - p > JSON_KEYS_HEAD) {
		__m128i x =
		    _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
		for (; i >= 0; i = c->k[i].next) {
			const struct json_key *k = &c->k[i];
			if (k->need == 0)
				break;
			__m128i h = _mm_loadu_si128(
			    (const __m128i *)(const void *)k->head);
			unsigned eq =
			    (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, h));
			if ((eq & k->need) == k->need)
				return i;
		}
	}
#endif
	for (; i >= 0; i = c->k[i].next) {
		const struct json_key *k = &c->k[i];
		if ((size_t)(end - p) >= (size_t)k->len + 2 &&
		    p[k->len + 1] == '"' &&
		    memcmp(p + 1, c->bytes + k->off, k->len) == 0)
			return i;
	}
	return -1;
}

/* Adds key (len bytes, from a string without escapes, not a child of
 * parent yet) as a child of parent (a node, or JSON_KEYS_ROOT), with its
 * id and name (the table's copy, or NULL).  Returns the new node, or -1
 * when the key equals parent or one of its ancestors (a duplicate key: the
 * decoder rejects the line), is too long, or the cache is full (it is then
 * emptied: every node index handed out before is invalid). */
int json_keys_store(struct json_keys *c, int parent, const char *key,
		    size_t len, int32_t id, const char *name);

#endif
