/*
 * evidence: shared, lazily serialised evidence samples.  See evidence.h.
 *
 * Layout: one block holds the header, the copied field table, every value
 * and then every copied name (all NUL-terminated), so a copy is one malloc
 * and one free whatever the number of fields.  Field order, kinds, ids and the
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

/* The static canonical name of f when f is bound to a canonical id under
 * that name (as every decoded canonical field is), else NULL: such a name
 * is shared, not copied.  The decoders and the field map name canonical
 * fields with that very pointer (fieldtab_name()), so the comparison is
 * mostly a pointer test. */
static const char *canonical_name(const struct event_field *f)
{
	if (f->id < 0 || f->id >= N_CANONICAL_FIELDS)
		return NULL;
	const char *c = canonical_field_names[f->id];
	return f->name == c || strcmp(f->name, c) == 0 ? c : NULL;
}

/* Name lengths of the first NAME_CACHE fields are measured once. */
#define NAME_CACHE 32
#define SHARED_NAME SIZE_MAX

static size_t name_len(const struct event_field *f)
{
	return canonical_name(f) ? SHARED_NAME : strlen(f->name);
}

/* Bytes of the copied names (those not shared) and of the values, each
 * value with its NUL; fills lens[] for the first NAME_CACHE fields. */
static void measure(const struct event *ev, size_t lens[NAME_CACHE],
		    size_t *name_bytes, size_t *value_bytes)
{
	size_t nb = 0, vb = 0;

	for (size_t i = 0; i < ev->n_fields; i++) {
		size_t nl = name_len(&ev->fields[i]);
		if (i < NAME_CACHE)
			lens[i] = nl;
		nb += nl == SHARED_NAME ? 0 : nl + 1;
		vb += (size_t)ev->fields[i].value_len + 1;
	}
	*name_bytes = nb;
	*value_bytes = vb;
}

/* The copy's name of f: the shared canonical name, or a copy of the nl
 * bytes at *at. */
static const char *copy_name(const struct event_field *f, size_t nl, char **at)
{
	if (nl == SHARED_NAME)
		return canonical_field_names[f->id];
	char *d = *at;
	memcpy(d, f->name, nl + 1);
	*at += nl + 1;
	return d;
}

/* Fills x's names and values: the values at `values` in field order, each
 * with its NUL, the copied names after them.  A value is NUL-terminated
 * (event.h), so values that follow each other in memory (as a decoder's
 * arena lays them out) are copied as one run: one memcpy for the usual
 * event instead of one per field. */
static void copy_strings(struct evidence *x, const struct event *ev,
			 const size_t lens[NAME_CACHE], char *values,
			 char *names)
{
	const char *run = NULL; /* source of the pending run */
	size_t run_len = 0;
	char *run_to = values;

	for (size_t i = 0; i < ev->n_fields; i++) {
		const struct event_field *f = &ev->fields[i];
		if (run == NULL || f->value != run + run_len) {
			if (run != NULL)
				memcpy(run_to, run, run_len);
			run_to += run_len;
			run = f->value;
			run_len = 0;
		}
		x->fields[i].value = run_to + run_len;
		run_len += (size_t)f->value_len + 1;
		x->fields[i].name = copy_name(
		    f, i < NAME_CACHE ? lens[i] : name_len(f), &names);
	}
	if (run != NULL)
		memcpy(run_to, run, run_len);
}

struct evidence *evidence_from_event(const struct event *ev)
{
	size_t lens[NAME_CACHE], name_bytes, value_bytes;

	measure(ev, lens, &name_bytes, &value_bytes);
	size_t table = ev->n_fields * sizeof(struct event_field);
	struct evidence *x =
	    malloc(sizeof(struct evidence) + table + value_bytes + name_bytes);
	if (x == NULL)
		return NULL;
	x->refs = 1;
	x->ts_ms = ev->ts_ms;
	x->n_fields = ev->n_fields;
	x->json = NULL;
	if (ev->n_fields > 0)
		memcpy(x->fields, ev->fields, table);
	char *values = (char *)(x->fields + ev->n_fields);
	copy_strings(x, ev, lens, values, values + value_bytes);
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
