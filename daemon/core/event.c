/*
 * event: canonical field names, slow by-name lookup, and the field-name
 * table (open addressing on an FNV-1a hash; the table only grows while rules
 * are compiled and is read-only once frozen).
 */
#include "event.h"

#include <stdlib.h>
#include <string.h>

const char *const canonical_field_names[N_CANONICAL_FIELDS] = {
    "ts",     "agent", "team",	"site",	  "action",  "object", "customer",
    "ticket", "rows",  "query", "src_ip", "session", "tool",   "outcome",
};

const struct event_field *event_find(const struct event *ev, const char *name)
{
	for (size_t i = 0; i < ev->n_fields; i++)
		if (strcmp(ev->fields[i].name, name) == 0)
			return &ev->fields[i];
	return NULL;
}

struct fieldtab {
	char **names;	/* by id */
	uint32_t *lens; /* by id: strlen(names[id]) */
	size_t n_names, cap_names;
	int32_t *buckets; /* id or -1; size is a power of two */
	size_t n_buckets;
	int frozen;
};

static uint32_t name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static size_t probe(const struct fieldtab *t, const char *name, size_t len)
{
	size_t mask = t->n_buckets - 1;
	size_t i = name_hash(name, len) & mask;

	for (;;) {
		int32_t id = t->buckets[i];
		if (id < 0)
			return i;
		const char *s = t->names[id];
		if (t->lens[id] == len && memcmp(s, name, len) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

static int rehash(struct fieldtab *t, size_t n_buckets)
{
	int32_t *b = malloc(n_buckets * sizeof(*b));

	if (b == NULL)
		return -1;
	for (size_t i = 0; i < n_buckets; i++)
		b[i] = -1;
	free(t->buckets);
	t->buckets = b;
	t->n_buckets = n_buckets;
	for (size_t id = 0; id < t->n_names; id++)
		t->buckets[probe(t, t->names[id], strlen(t->names[id]))] =
		    (int32_t)id;
	return 0;
}

struct fieldtab *fieldtab_new(void)
{
	struct fieldtab *t = calloc(1, sizeof(*t));

	if (t == NULL || rehash(t, 64) < 0)
		goto fail;
	for (int i = 0; i < N_CANONICAL_FIELDS; i++) {
		const char *n = canonical_field_names[i];
		if (fieldtab_intern(t, n, strlen(n)) != i)
			goto fail;
	}
	return t;
fail:
	fieldtab_free(t);
	return NULL;
}

void fieldtab_free(struct fieldtab *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_names; i++)
		free(t->names[i]);
	free(t->names);
	free(t->lens);
	free(t->buckets);
	free(t);
}

int32_t fieldtab_find(const struct fieldtab *t, const char *name, size_t len)
{
	return t->buckets[probe(t, name, len)];
}

int32_t fieldtab_intern(struct fieldtab *t, const char *name, size_t len)
{
	size_t slot = probe(t, name, len);

	if (t->buckets[slot] >= 0)
		return t->buckets[slot];
	if (t->frozen || t->n_names >= INT32_MAX / 2)
		return -1;
	if (t->n_names == t->cap_names) {
		size_t cap = t->cap_names ? t->cap_names * 2 : 32;
		char **n = realloc(t->names, cap * sizeof(*n));
		if (n == NULL)
			return -1;
		t->names = n;
		uint32_t *l = realloc(t->lens, cap * sizeof(*l));
		if (l == NULL)
			return -1;
		t->lens = l;
		t->cap_names = cap;
	}
	char *copy = strndup(name, len);
	if (copy == NULL)
		return -1;
	int32_t id = (int32_t)t->n_names;
	t->lens[t->n_names] = (uint32_t)len;
	t->names[t->n_names++] = copy;
	t->buckets[slot] = id;
	if (t->n_names * 2 > t->n_buckets && rehash(t, t->n_buckets * 2) < 0) {
		/* the entry is stored; a full-ish table only probes longer,
		 * but keep the load factor below 1 at all costs */
		if (t->n_names >= t->n_buckets) {
			t->buckets[slot] = -1;
			t->n_names--;
			free(copy);
			return -1;
		}
	}
	return id;
}

size_t fieldtab_count(const struct fieldtab *t)
{
	return t->n_names;
}

const char *fieldtab_name(const struct fieldtab *t, int32_t id)
{
	if (id < 0 || (size_t)id >= t->n_names)
		return NULL;
	if (id < N_CANONICAL_FIELDS) /* the same bytes (fieldtab_new) */
		return canonical_field_names[id];
	return t->names[id];
}

void fieldtab_freeze(struct fieldtab *t)
{
	t->frozen = 1;
}
