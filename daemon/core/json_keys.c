/*
 * json_keys: the top-level key trie of decode_json (see json_keys.h for
 * what it holds and its invariants).  Nodes and key bytes are appended;
 * nothing is removed but everything at once, when full.
 */
#include "json_keys.h"

#include <stdlib.h>

#include "decode_json.h"

static void clear(struct json_keys *c)
{
	c->n = 0;
	c->n_bytes = 0;
	c->first = -1;
}

struct json_keys *json_keys_new(void)
{
	struct json_keys *c = malloc(sizeof(*c));

	if (c != NULL) {
		clear(c);
		c->n_clear = 0;
	}
	return c;
}

void json_keys_free(struct json_keys *c)
{
	free(c);
}

/* Is key one of the keys from node i up to the root? */
static bool on_path(const struct json_keys *c, int i, const char *key,
		    size_t len)
{
	for (; i != JSON_KEYS_ROOT; i = c->k[i].parent)
		if (c->k[i].len == len &&
		    memcmp(c->bytes + c->k[i].off, key, len) == 0)
			return true;
	return false;
}

int json_keys_store(struct json_keys *c, int parent, const char *key,
		    size_t len, int32_t id, const char *name)
{
	if (len > DECODE_JSON_MAX_NAME || on_path(c, parent, key, len))
		return -1;
	if (c->n == JSON_KEYS_MAX || len > JSON_KEYS_BYTES - c->n_bytes) {
		clear(c);
		c->n_clear++;
		return -1;
	}
	int i = (int)c->n++;
	int16_t *head =
	    parent == JSON_KEYS_ROOT ? &c->first : &c->k[parent].child;
	memcpy(c->bytes + c->n_bytes, key, len);
	c->k[i] = (struct json_key){
	    .need = len < JSON_KEYS_HEAD ? (2u << len) - 1 : 0,
	    .name = name,
	    .id = id,
	    .off = (uint16_t)c->n_bytes,
	    .len = (uint16_t)len,
	    .parent = (int16_t)parent,
	    .child = -1,
	    .next = *head};
	memset(c->k[i].head, 0, sizeof(c->k[i].head));
	if (len < JSON_KEYS_HEAD) {
		memcpy(c->k[i].head, key, len);
		c->k[i].head[len] = '"';
	}
	*head = (int16_t)i;
	c->n_bytes += len;
	return i;
}
