/*
 * retain: copies of access events between checkpoints (see retain.h).
 * Each copy is one allocation: the entry header followed by its strings,
 * so forgetting a copy is one free().
 */
#include "retain.h"

#include <stdlib.h>
#include <string.h>

/* The canonical fields the store keeps (store_add_access_event). */
static const enum canonical_field kept[] = {FIELD_AGENT,  FIELD_CUSTOMER,
					    FIELD_ACTION, FIELD_OBJECT,
					    FIELD_TICKET, FIELD_TEAM};
#define N_KEPT (sizeof(kept) / sizeof(kept[0]))

struct copy {
	int64_t ts_ms;
	const char *value[N_KEPT]; /* into the same block, NULL: absent */
	uint32_t len[N_KEPT];
	const char *input, *path; /* into the same block, may be NULL */
	uint64_t line;
};

struct retain {
	struct copy **copies;
	size_t n, cap;
	struct retain_stats st;
};

struct retain *retain_new(void)
{
	return calloc(1, sizeof(struct retain));
}

static void forget(struct retain *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->copies[i]);
	r->n = 0;
}

void retain_free(struct retain *r)
{
	if (r == NULL)
		return;
	forget(r);
	free(r->copies);
	free(r);
}

static const struct event_field *kept_field(const struct event *ev, size_t k)
{
	const struct event_field *f = event_get(ev, kept[k]);

	return f && f->kind != VALUE_NULL && f->value_len ? f : NULL;
}

/* One block: struct copy, then each string NUL-terminated. */
static struct copy *copy_new(const struct event *ev)
{
	size_t in_len = ev->source.input ? strlen(ev->source.input) + 1 : 0;
	size_t path_len = ev->source.path ? strlen(ev->source.path) + 1 : 0;
	size_t size = sizeof(struct copy) + in_len + path_len;

	for (size_t k = 0; k < N_KEPT; k++) {
		const struct event_field *f = kept_field(ev, k);
		size += f ? f->value_len + 1 : 0;
	}
	struct copy *c = malloc(size);
	if (c == NULL)
		return NULL;
	char *at = (char *)(c + 1);
	*c = (struct copy){.ts_ms = ev->ts_ms, .line = ev->source.line};
	for (size_t k = 0; k < N_KEPT; k++) {
		const struct event_field *f = kept_field(ev, k);
		if (f == NULL)
			continue;
		memcpy(at, f->value, f->value_len);
		at[f->value_len] = '\0';
		c->value[k] = at;
		c->len[k] = f->value_len;
		at += f->value_len + 1;
	}
	if (in_len)
		c->input = memcpy(at, ev->source.input, in_len);
	if (path_len)
		c->path = memcpy(at + in_len, ev->source.path, path_len);
	return c;
}

int retain_add(struct retain *r, const struct event *ev)
{
	if (r->n == RETAIN_MAX_EVENTS) {
		r->st.n_dropped++;
		return -1;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 1024;
		struct copy **n = realloc(r->copies, cap * sizeof(*n));
		if (n == NULL) {
			r->st.n_dropped++;
			return -1;
		}
		r->copies = n;
		r->cap = cap;
	}
	if ((r->copies[r->n] = copy_new(ev)) == NULL) {
		r->st.n_dropped++;
		return -1;
	}
	r->n++;
	r->st.n_added++;
	return 0;
}

bool retain_need_flush(const struct retain *r)
{
	return r->n >= RETAIN_MAX_EVENTS / 2;
}

/* A minimal event over a copy: the kept fields at their canonical ids. */
static int write_one(struct store *s, const struct copy *c)
{
	struct event_field fields[N_KEPT];
	int32_t slot[N_CANONICAL_FIELDS];
	struct event ev = {.ts_ms = c->ts_ms,
			   .fields = fields,
			   .slot = slot,
			   .n_slots = N_CANONICAL_FIELDS,
			   .source = {c->input, c->path, c->line, 0}};

	for (size_t i = 0; i < N_CANONICAL_FIELDS; i++)
		slot[i] = -1;
	for (size_t k = 0; k < N_KEPT; k++) {
		if (c->value[k] == NULL)
			continue;
		fields[ev.n_fields] =
		    (struct event_field){.name = canonical_field_names[kept[k]],
					 .value = c->value[k],
					 .value_len = c->len[k],
					 .kind = VALUE_STRING,
					 .id = (int32_t)kept[k],
					 .next_same = -1};
		slot[kept[k]] = (int32_t)ev.n_fields++;
	}
	return store_add_access_event(s, &ev);
}

int retain_write(struct retain *r, struct store *s)
{
	for (size_t i = 0; i < r->n; i++)
		if (write_one(s, r->copies[i]) < 0)
			return -1;
	return 0;
}

void retain_committed(struct retain *r)
{
	r->st.n_written += r->n;
	forget(r);
}

void retain_stats(const struct retain *r, struct retain_stats *out)
{
	*out = r->st;
	out->n_waiting = r->n;
}
