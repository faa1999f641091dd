/*
 * decode: struct event_buf, the storage one decoded event lives in, shared
 * by every decoder (decode_json, later CSV and key=value) and by normalize.
 *
 * A buffer holds three things, each bounded:
 *   - fields[]: the event's fields (at most max_fields, default
 *     EVENT_BUF_MAX_FIELDS);
 *   - slot[]: one entry per id of the (frozen) field table, slot[id] = index
 *     of the first field with that id, or -1;
 *   - a string arena for decoded names and values (at most max_bytes,
 *     default EVENT_BUF_MAX_BYTES; a name taken from the field table is
 *     charged as if copied, see event_buf_charge).  The arena is a list of
 * chunks, so a string's address never changes while the event is being built.
 * Hitting a limit fails the add (the decoder then rejects the line) and is
 * counted in n_field_overflow / n_byte_overflow.
 *
 * Field ids come from fieldtab_find() on the frozen table: nothing is ever
 * interned while decoding.  Fields with the same id are chained through
 * next_same in the order they were added; fields without an id are chained
 * only when the caller says so (array elements, see event_buf_add).
 *
 * Ownership: the buffer owns fields, slots and arena; it borrows the field
 * table, which must outlive it.  An event filled from the buffer
 * (event_buf_view) is valid until the next event_buf_reset().  Not
 * thread-safe: one buffer per decoding thread.
 */
#ifndef CUSTOS_DECODE_H
#define CUSTOS_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "event.h"

#define EVENT_BUF_MAX_FIELDS 1024
#define EVENT_BUF_MAX_BYTES (4u * 1024 * 1024)

struct arena_chunk;
struct json_keys;

struct event_buf {
	const struct fieldtab *tab; /* borrowed, frozen */
	struct event_field *fields;
	size_t n_fields, cap_fields;
	size_t max_fields;
	int32_t *slot;	    /* n_slots entries */
	int32_t *last_same; /* per id: last field with it, or -1 */
	size_t n_slots;
	struct arena_chunk *chunks; /* newest first */
	char *cur, *cur_end;	    /* the free part of chunks (newest) */
	size_t n_bytes;		    /* bytes copied or charged since reset */
	size_t max_bytes;
	/* decode_json's cache of top-level keys (owned; NULL until the first
	 * JSON line; outlives event_buf_reset) */
	struct json_keys *json_keys;
	/* counters (never reset by event_buf_reset) */
	uint64_t n_field_overflow;
	uint64_t n_byte_overflow;
};

/* A buffer for events decoded against the frozen table t (borrowed).
 * Returns NULL on allocation failure. */
struct event_buf *event_buf_new(const struct fieldtab *t);
void event_buf_free(struct event_buf *b);

/* Changes the limits (0 keeps the current value).  Call between events. */
void event_buf_set_limits(struct event_buf *b, size_t max_fields,
			  size_t max_bytes);

/* Forgets the current event; every pointer handed out before is invalid. */
void event_buf_reset(struct event_buf *b);

/* Copies len bytes of s into the arena and NUL-terminates them.  Returns the
 * copy, or NULL when the byte limit is reached (counted) or on allocation
 * failure. */
char *event_buf_strdup(struct event_buf *b, const char *s, size_t len);

/* Counts len + 1 bytes against the byte limit, as event_buf_strdup(b, s,
 * len) would, without copying anything: for a name the caller already holds
 * for the event's lifetime (the field table's copy), so that the limit
 * trips on the same events whichever names the table knows.  Returns 0, or
 * -1 when the byte limit is reached (counted). */
static inline int event_buf_charge(struct event_buf *b, size_t len)
{
	if (b->n_bytes >= b->max_bytes || len >= b->max_bytes - b->n_bytes) {
		b->n_byte_overflow++;
		return -1;
	}
	b->n_bytes += len + 1;
	return 0;
}

/* Appends a field.  name must be NUL-terminated and live as long as the
 * event (an arena string, or a static one); value likewise, value_len bytes.
 * The id is looked up in the table.  When the id is >= 0 the field is
 * chained after the previous field with that id; when it is -1 and
 * prev_same >= 0 it is chained after field prev_same (a decoder linking
 * array elements).  Returns the new field's index, or -1 when max_fields is
 * reached (counted) or on allocation failure. */
int32_t event_buf_add(struct event_buf *b, const char *name, const char *value,
		      size_t value_len, enum value_kind kind,
		      int32_t prev_same);

/* Same, with an explicit id (normalize adding canonical aliases); the name
 * is not looked up.  id must be < n_slots, or -1. */
int32_t event_buf_add_id(struct event_buf *b, const char *name, int32_t id,
			 const char *value, size_t value_len,
			 enum value_kind kind, int32_t prev_same);

/* event_buf_strdup(value, value_len) then event_buf_add_id() with the
 * copy, in one call (the decoders' hot path).  Returns the new field's
 * index; -2 when the copy fails (byte limit, counted, or allocation
 * failure); -1 when the add fails (field limit, counted, or allocation
 * failure). */
int32_t event_buf_add_copy(struct event_buf *b, const char *name, int32_t id,
			   const char *value, size_t value_len,
			   enum value_kind kind, int32_t prev_same);

/* The add part of event_buf_add_id() when the field array has room, for
 * the inline fast path below; anything else goes through the call. */
static inline int32_t event_buf_add_inline(struct event_buf *b,
					   const char *name, int32_t id,
					   const char *value, size_t value_len,
					   enum value_kind kind,
					   int32_t prev_same)
{
	if (b->n_fields >= b->cap_fields || b->n_fields >= b->max_fields)
		return event_buf_add_id(b, name, id, value, value_len, kind,
					prev_same);
	int32_t i = (int32_t)b->n_fields++;
	struct event_field *f = &b->fields[i];
	f->name = name;
	f->value = value;
	f->value_len = (uint32_t)value_len;
	f->kind = (uint8_t)kind;
	f->id = id;
	f->next_same = -1;
	if (id >= 0) {
		if (b->slot[id] < 0)
			b->slot[id] = i;
		else
			b->fields[b->last_same[id]].next_same = i;
		b->last_same[id] = i;
	} else if (prev_same >= 0 && prev_same < i) {
		b->fields[prev_same].next_same = i;
	}
	return i;
}

/* Copies n (<= 32) bytes from s to d with a few moves that may overlap,
 * reading and writing only within the n bytes, and NUL-terminates d. */
static inline void event_buf_copy_short(char *d, const char *s, size_t n)
{
	if (n >= 16) {
		memcpy(d, s, 16);
		memcpy(d + n - 16, s + n - 16, 16);
	} else if (n >= 8) {
		uint64_t x, y;
		memcpy(&x, s, 8);
		memcpy(&y, s + n - 8, 8);
		memcpy(d, &x, 8);
		memcpy(d + n - 8, &y, 8);
	} else if (n >= 4) {
		uint32_t x, y;
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
	d[n] = '\0';
}

/* Whether a short value (at most 32 bytes) fits the current chunk and
 * charge bytes fit the byte limit: the inline adds' fast path. */
static inline int event_buf_short_fits(const struct event_buf *b,
				       size_t value_len, size_t charge)
{
	return value_len <= 32 && (size_t)(b->cur_end - b->cur) > 32 &&
	       b->n_bytes < b->max_bytes && charge <= b->max_bytes - b->n_bytes;
}

/* event_buf_add_copy(), inline for the common case: a short value that
 * fits the current chunk, within the limits.  The same result, the same
 * charges. */
static inline __attribute__((always_inline)) int32_t
event_buf_add_copy_inline(struct event_buf *b, const char *name, int32_t id,
			  const char *value, size_t value_len,
			  enum value_kind kind, int32_t prev_same)
{
	if (!event_buf_short_fits(b, value_len, value_len + 1))
		return event_buf_add_copy(b, name, id, value, value_len, kind,
					  prev_same);
	char *p = b->cur;
	event_buf_copy_short(p, value, value_len);
	b->cur += value_len + 1;
	b->n_bytes += value_len + 1;
	return event_buf_add_inline(b, name, id, p, value_len, kind, prev_same);
}

/* event_buf_charge(b, name_len), then event_buf_add_copy_inline() of a
 * field that is no array element: for a name the caller holds for the
 * event's lifetime (the field table's copy), with one limit check on the
 * fast path.  The same charges, in the same order; returns as
 * event_buf_add_copy(), -2 also when the name's charge fails. */
static inline __attribute__((always_inline)) int32_t
event_buf_add_named_inline(struct event_buf *b, const char *name,
			   size_t name_len, int32_t id, const char *value,
			   size_t value_len, enum value_kind kind)
{
	if (!event_buf_short_fits(b, value_len, name_len + value_len + 2)) {
		if (event_buf_charge(b, name_len) < 0)
			return -2;
		return event_buf_add_copy(b, name, id, value, value_len, kind,
					  -1);
	}
	char *p = b->cur;
	event_buf_copy_short(p, value, value_len);
	b->cur += value_len + 1;
	b->n_bytes += name_len + value_len + 2;
	return event_buf_add_inline(b, name, id, p, value_len, kind, -1);
}

/* Detaches every field with id from it (their id becomes -1, slot[id] and
 * the chain are cleared), so that a later add with id takes the slot.  Used
 * when a mapped canonical field shadows a raw field of the same name. */
void event_buf_unbind(struct event_buf *b, int32_t id);

/* Points ev at the buffer's fields and slots (ts_ms, source and raw are left
 * to the caller). */
void event_buf_view(struct event_buf *b, struct event *ev);

/* Times decode_json's key cache (json_keys.h) was full and forgotten since
 * the buffer was made (0 before the first JSON line, or for b NULL). */
uint64_t event_buf_key_clears(const struct event_buf *b);

#endif
