/*
 * evidence: shared, lazily serialised evidence samples.  See evidence.h.
 *
 * Layout: one block holds the header, the copied field table and then
 * every name and value (NUL-terminated), so a copy is one malloc and one
 * free whatever the number of fields.  Field order, kinds, ids and the
 * next_same chains are kept as they are, which is all
 * alert_event_to_json() reads, so the JSON made later is byte-identical
 * to the JSON of the original event.  A field bound to a canonical id
 * under its canonical name points at the static canonical_field_names[]
 * entry instead of a copy (the same bytes, and it outlives any ruleset).
 */
#include "evidence.h"

#include "alert.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct evidence {
	uint32_t refs;
	int64_t ts_ms;
	size_t n_fields; /* 0 for JSON-only evidence */
	char *json;	 /* NULL until made */
	struct event_field fields[];
};

static char *copy_str(char **at, const char *s, size_t len)
{
	char *d = *at;

	memcpy(d, s, len);
	d[len] = '\0';
	*at += len + 1;
	return d;
}

/* The static canonical name of f when f is bound to a canonical id under
 * that name (as every decoded canonical field is), else NULL: such a name
 * is shared, not copied. */
static const char *canonical_name(const struct event_field *f)
{
	if (f->id < 0 || f->id >= N_CANONICAL_FIELDS)
		return NULL;
	const char *c = canonical_field_names[f->id];
	return strcmp(f->name, c) == 0 ? c : NULL;
}

/* Name lengths of the first NAME_CACHE fields are measured once. */
#define NAME_CACHE 32
#define SHARED_NAME SIZE_MAX

static size_t name_len(const struct event_field *f)
{
	return canonical_name(f) ? SHARED_NAME : strlen(f->name);
}

struct evidence *evidence_from_event(const struct event *ev)
{
	size_t bytes =
	    sizeof(struct evidence) + ev->n_fields * sizeof(struct event_field);
	size_t lens[NAME_CACHE];

	for (size_t i = 0; i < ev->n_fields; i++) {
		size_t nl = name_len(&ev->fields[i]);
		if (i < NAME_CACHE)
			lens[i] = nl;
		bytes += (nl == SHARED_NAME ? 0 : nl + 1) +
			 ev->fields[i].value_len + 1;
	}
	struct evidence *x = malloc(bytes);
	if (x == NULL)
		return NULL;
	x->refs = 1;
	x->ts_ms = ev->ts_ms;
	x->n_fields = ev->n_fields;
	x->json = NULL;
	char *at = (char *)(x->fields + ev->n_fields);
	for (size_t i = 0; i < ev->n_fields; i++) {
		const struct event_field *f = &ev->fields[i];
		size_t nl = i < NAME_CACHE ? lens[i] : name_len(f);
		x->fields[i] = *f;
		x->fields[i].name = nl == SHARED_NAME
					? canonical_field_names[f->id]
					: copy_str(&at, f->name, nl);
		x->fields[i].value = copy_str(&at, f->value, f->value_len);
	}
	return x;
}

struct evidence *evidence_from_json(const char *json, size_t len)
{
	struct evidence *x = malloc(sizeof(*x));

	if (x == NULL)
		return NULL;
	x->json = malloc(len + 1);
	if (x->json == NULL) {
		free(x);
		return NULL;
	}
	memcpy(x->json, json, len);
	x->json[len] = '\0';
	x->refs = 1;
	x->ts_ms = 0;
	x->n_fields = 0;
	return x;
}

struct evidence *evidence_ref(struct evidence *ev)
{
	ev->refs++;
	return ev;
}

void evidence_unref(struct evidence *ev)
{
	if (ev == NULL || --ev->refs > 0)
		return;
	free(ev->json);
	free(ev);
}

const char *evidence_json(struct evidence *ev)
{
	if (ev->json == NULL) {
		struct event view = {0};
		view.ts_ms = ev->ts_ms;
		view.fields = ev->fields;
		view.n_fields = ev->n_fields;
		ev->json = alert_event_to_json(&view);
	}
	return ev->json;
}
