/*
 * event: the canonical access event that flows from decode to the engine,
 * and the field-name table that gives every field a small integer id.
 *
 * An event is a borrowed view: its field names and values live in buffers
 * owned by the decoder (struct event_buf) and are valid only until the next
 * decode into the same buffer.  Whoever keeps anything longer (an alert's
 * evidence, a correlation window) copies it.
 *
 * Field ids: rule compilation interns every field name a rule mentions
 * (fieldtab_intern); decoding then looks each decoded name up
 * (fieldtab_find) and fills event.slot[id] so that matching a field is an
 * array index, not a string search.  Fields no rule mentions have no id but
 * stay in event.fields (they appear in alerts).  The table is frozen once
 * rules are compiled; events are decoded against a frozen table.
 *
 * Time: ts_ms is event time (milliseconds since the Unix epoch, UTC) taken
 * from the event's own `ts` field; no module reads the clock to fill it.
 */
#ifndef CUSTOS_EVENT_H
#define CUSTOS_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Canonical field names (DESIGN.md), in a fixed order so that their ids are
 * the same in every fieldtab: FIELD_TS == 0 ... */
enum canonical_field {
	FIELD_TS,
	FIELD_AGENT,
	FIELD_TEAM,
	FIELD_SITE,
	FIELD_ACTION,
	FIELD_OBJECT,
	FIELD_CUSTOMER,
	FIELD_TICKET,
	FIELD_ROWS,
	FIELD_QUERY,
	FIELD_SRC_IP,
	FIELD_SESSION,
	FIELD_TOOL,
	FIELD_OUTCOME,
	N_CANONICAL_FIELDS
};

extern const char *const canonical_field_names[N_CANONICAL_FIELDS];

enum value_kind {
	VALUE_STRING,
	VALUE_NUMBER, /* value holds the number's text, e.g. "2500", "1.5e3" */
	VALUE_BOOL,   /* "true" / "false" */
	VALUE_NULL,   /* value is "" */
};

struct event_field {
	const char *name;  /* dotted path for nested input: "actor.id" */
	const char *value; /* NUL-terminated, value_len bytes */
	uint32_t value_len;
	uint8_t kind;	   /* enum value_kind */
	int32_t id;	   /* fieldtab id, or -1 if no rule uses it */
	int32_t next_same; /* index of the next field with this name (array
			      elements), or -1 */
};

struct event_source {
	const char *input; /* input name ("replay", "tail:app") */
	const char *path;  /* file path, or NULL */
	uint64_t line;	   /* 1-based line number, 0 if not line based */
	uint64_t offset;   /* byte offset of the record's first byte */
};

struct event {
	int64_t ts_ms;
	struct event_field *fields;
	size_t n_fields;
	int32_t *slot;	/* slot[id] = index into fields, or -1 */
	size_t n_slots; /* == fieldtab_count() of the table used */
	struct event_source source;
	const char *raw; /* the record as read (one line), not NUL-terminated */
	size_t raw_len;
};

/* Field lookup by id; NULL if absent.  Further values of an array field
 * follow via next_same. */
static inline const struct event_field *event_get(const struct event *ev,
						  int32_t id)
{
	if (id < 0 || (size_t)id >= ev->n_slots || ev->slot[id] < 0)
		return NULL;
	return &ev->fields[ev->slot[id]];
}

/* Field lookup by name (slow path, for output and tools). */
const struct event_field *event_find(const struct event *ev, const char *name);

/* ---- field-name table ---- */

struct fieldtab;

/* A new table that already holds the canonical fields at their enum ids. */
struct fieldtab *fieldtab_new(void);
void fieldtab_free(struct fieldtab *t);

/* Returns the id of `name` (len bytes), adding it if new; -1 on allocation
 * failure or when the table is frozen and the name is new. */
int32_t fieldtab_intern(struct fieldtab *t, const char *name, size_t len);

/* Returns the id of `name` or -1.  Safe on a frozen table. */
int32_t fieldtab_find(const struct fieldtab *t, const char *name, size_t len);

size_t fieldtab_count(const struct fieldtab *t);
/* The name of id (NULL if unknown); for a canonical id, the static
 * canonical_field_names[] entry itself. */
const char *fieldtab_name(const struct fieldtab *t, int32_t id);
void fieldtab_freeze(struct fieldtab *t);

#endif
