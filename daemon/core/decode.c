/*
 * decode: the event buffer shared by the decoders (see decode.h).
 *
 * Invariants: n_fields <= max_fields; n_bytes <= max_bytes; for every id,
 * slot[id] is the first and last_same[id] the last field with that id (both
 * -1 when none; last_same[id] is meaningful only while slot[id] >= 0), and
 * only ids of fields present have slot[id] != -1, so a reset touches only
 * what the last event used (or clears a short slot table whole).  Arena chunks
 * never move; a reset keeps one standard-size chunk for the next event and
 * frees the rest.
 */
#include "decode.h"

#include <stdlib.h>
#include <string.h>

#include "json_keys.h"

#define CHUNK_BYTES 8192

/* cur and cur_end while there is no chunk: no room, and no arithmetic on
 * null pointers (never written) */
static char no_chunk[1];

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	char data[];
};

struct event_buf *event_buf_new(const struct fieldtab *t)
{
	struct event_buf *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->tab = t;
	b->cur = b->cur_end = no_chunk;
	b->max_fields = EVENT_BUF_MAX_FIELDS;
	b->max_bytes = EVENT_BUF_MAX_BYTES;
	b->n_slots = fieldtab_count(t);
	b->slot = malloc((b->n_slots ? b->n_slots : 1) * sizeof(*b->slot));
	b->last_same = malloc((b->n_slots ? b->n_slots : 1) * sizeof(int32_t));
	if (b->slot == NULL || b->last_same == NULL) {
		event_buf_free(b);
		return NULL;
	}
	for (size_t i = 0; i < b->n_slots; i++)
		b->slot[i] = b->last_same[i] = -1;
	return b;
}

static void free_chunks(struct arena_chunk *c)
{
	while (c != NULL) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
}

void event_buf_free(struct event_buf *b)
{
	if (b == NULL)
		return;
	free(b->fields);
	free(b->slot);
	free(b->last_same);
	free_chunks(b->chunks);
	json_keys_free(b->json_keys);
	free(b);
}

void event_buf_set_limits(struct event_buf *b, size_t max_fields,
			  size_t max_bytes)
{
	if (max_fields)
		b->max_fields = max_fields;
	if (max_bytes)
		b->max_bytes = max_bytes;
}

void event_buf_reset(struct event_buf *b)
{
	/* last_same[id] is read only while slot[id] >= 0: left as it is.  A
	 * short table is cleared whole, a long one field by field. */
	if (b->n_slots <= 8 * b->n_fields) {
		memset(b->slot, 0xff, b->n_slots * sizeof(*b->slot));
	} else {
		for (size_t i = 0; i < b->n_fields; i++) {
			int32_t id = b->fields[i].id;
			if (id >= 0)
				b->slot[id] = -1;
		}
	}
	b->n_fields = 0;
	b->n_bytes = 0;

	/* keep one standard chunk, free the others */
	struct arena_chunk *keep = NULL, *c = b->chunks;
	while (c != NULL) {
		struct arena_chunk *next = c->next;
		if (keep == NULL && c->size == CHUNK_BYTES) {
			keep = c;
			keep->next = NULL;
		} else {
			free(c);
		}
		c = next;
	}
	b->chunks = keep;
	b->cur = keep != NULL ? keep->data : no_chunk;
	b->cur_end = keep != NULL ? keep->data + CHUNK_BYTES : no_chunk;
}

/* memcpy(d, s, n), without a library call for the short strings that
 * most values are: two fixed-size moves that may overlap, reading and
 * writing only within the n bytes. */
static inline void copy_bytes(char *d, const char *s, size_t n)
{
	uint64_t a, z;
	uint32_t x, y;

	if (n >= 8 && n <= 16) {
		memcpy(&a, s, 8);
		memcpy(&z, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &z, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else if (n > 16) {
		memcpy(d, s, n);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
}

static inline char *arena_copy(struct event_buf *b, const char *s, size_t len)
{
	if (b->n_bytes >= b->max_bytes || len >= b->max_bytes - b->n_bytes) {
		b->n_byte_overflow++;
		return NULL;
	}
	if ((size_t)(b->cur_end - b->cur) < len + 1) {
		size_t size = len + 1 > CHUNK_BYTES ? len + 1 : CHUNK_BYTES;
		struct arena_chunk *c = malloc(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		c->size = size;
		c->next = b->chunks;
		b->chunks = c;
		b->cur = c->data;
		b->cur_end = c->data + size;
	}
	char *p = b->cur;
	copy_bytes(p, s, len);
	p[len] = '\0';
	b->cur += len + 1;
	b->n_bytes += len + 1;
	return p;
}

char *event_buf_strdup(struct event_buf *b, const char *s, size_t len)
{
	return arena_copy(b, s, len);
}

static int grow_fields(struct event_buf *b)
{
	size_t cap = b->cap_fields ? b->cap_fields * 2 : 32;

	if (cap > b->max_fields)
		cap = b->max_fields;
	struct event_field *f = realloc(b->fields, cap * sizeof(*f));
	if (f == NULL)
		return -1;
	b->fields = f;
	b->cap_fields = cap;
	return 0;
}

int32_t event_buf_add_id(struct event_buf *b, const char *name, int32_t id,
			 const char *value, size_t value_len,
			 enum value_kind kind, int32_t prev_same)
{
	if (b->n_fields >= b->max_fields || value_len > UINT32_MAX) {
		b->n_field_overflow++;
		return -1;
	}
	if (b->n_fields == b->cap_fields && grow_fields(b) < 0)
		return -1;
	return event_buf_add_inline(b, name, id, value, value_len, kind,
				    prev_same);
}

int32_t event_buf_add_copy(struct event_buf *b, const char *name, int32_t id,
			   const char *value, size_t value_len,
			   enum value_kind kind, int32_t prev_same)
{
	const char *copy = arena_copy(b, value, value_len);

	if (copy == NULL)
		return -2;
	return event_buf_add_id(b, name, id, copy, value_len, kind, prev_same);
}

int32_t event_buf_add(struct event_buf *b, const char *name, const char *value,
		      size_t value_len, enum value_kind kind, int32_t prev_same)
{
	int32_t id = fieldtab_find(b->tab, name, strlen(name));

	if (id >= (int32_t)b->n_slots)
		id = -1; /* table grew after the buffer was made: not frozen */
	return event_buf_add_id(b, name, id, value, value_len, kind, prev_same);
}

void event_buf_unbind(struct event_buf *b, int32_t id)
{
	if (id < 0 || (size_t)id >= b->n_slots)
		return;
	int32_t i = b->slot[id];
	while (i >= 0) {
		int32_t next = b->fields[i].next_same;
		b->fields[i].id = -1;
		b->fields[i].next_same = -1;
		i = next;
	}
	b->slot[id] = b->last_same[id] = -1;
}

void event_buf_view(struct event_buf *b, struct event *ev)
{
	ev->fields = b->fields;
	ev->n_fields = b->n_fields;
	ev->slot = b->slot;
	ev->n_slots = b->n_slots;
}

uint64_t event_buf_key_clears(const struct event_buf *b)
{
	return b && b->json_keys ? b->json_keys->n_clear : 0;
}
