/*
 * retain: copies of access events between checkpoints (see retain.h).
 * The copies live in one arena (a header and the values per event, no
 * allocation per event); sources (input, path) are interned, since every
 * event of a file shares them.  Forgetting the copies keeps the arena.
 */
#include "retain.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The canonical fields the store keeps (store_add_access_event). */
static const enum canonical_field kept[] = {FIELD_AGENT,  FIELD_CUSTOMER,
					    FIELD_ACTION, FIELD_OBJECT,
					    FIELD_TICKET, FIELD_TEAM};
#define N_KEPT (sizeof(kept) / sizeof(kept[0]))
#define ABSENT UINT32_MAX
#define NO_SOURCE UINT32_MAX

/* A copy in the arena: this header (8-byte aligned), then the present
 * values back to back (not NUL-terminated), padded to 8 bytes. */
struct copy {
	int64_t ts_ms;
	uint64_t line;
	uint32_t src;	      /* index in sources, NO_SOURCE: none */
	uint32_t len[N_KEPT]; /* ABSENT: no value */
};

/* An event's (input, path), interned: one per file between commits. */
struct source {
	char *input, *path; /* owned, may be NULL */
};

struct retain {
	unsigned char *arena; /* the copies, oldest first */
	size_t len, cap;      /* bytes */
	size_t n;	      /* copies */
	struct source src[RETAIN_MAX_SOURCES];
	size_t n_src;
	struct retain_stats st;
};

struct retain *retain_new(void)
{
	return calloc(1, sizeof(struct retain));
}

static void forget(struct retain *r)
{
	for (size_t i = 0; i < r->n_src; i++) {
		free(r->src[i].input);
		free(r->src[i].path);
	}
	r->n_src = 0;
	r->n = 0;
	r->len = 0;
}

void retain_free(struct retain *r)
{
	if (r == NULL)
		return;
	forget(r);
	free(r->arena);
	free(r);
}

static const struct event_field *kept_field(const struct event *ev, size_t k)
{
	const struct event_field *f = event_get(ev, kept[k]);

	return f && f->kind != VALUE_NULL && f->value_len ? f : NULL;
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;

	*oom |= s && d == NULL;
	return d;
}

/* The index of ev's source, interned; NO_SOURCE when it has none, -1
 * when the table is full or memory short. */
static int64_t source_of(struct retain *r, const struct event *ev)
{
	const char *in = ev->source.input, *path = ev->source.path;
	bool oom = false;

	if (in == NULL && path == NULL)
		return NO_SOURCE;
	for (size_t i = r->n_src; i-- > 0;) /* the newest first */
		if (same(r->src[i].input, in) && same(r->src[i].path, path))
			return (int64_t)i;
	if (r->n_src == RETAIN_MAX_SOURCES)
		return -1;
	struct source *s = &r->src[r->n_src];
	s->input = dup_or_null(in, &oom);
	s->path = dup_or_null(path, &oom);
	if (oom) {
		free(s->input);
		free(s->path);
		return -1;
	}
	return (int64_t)r->n_src++;
}

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static bool reserve(struct retain *r, size_t n)
{
	if (r->len + n <= r->cap)
		return true;
	if (r->len + n > RETAIN_MAX_BYTES)
		return false;
	size_t cap = r->cap ? r->cap : 1u << 20;
	while (cap < r->len + n)
		cap *= 2;
	if (cap > RETAIN_MAX_BYTES)
		cap = RETAIN_MAX_BYTES;
	unsigned char *a = realloc(r->arena, cap);
	if (a == NULL)
		return false;
	r->arena = a;
	r->cap = cap;
	return true;
}

static int drop(struct retain *r)
{
	r->st.n_dropped++;
	return -1;
}

int retain_add(struct retain *r, const struct event *ev)
{
	struct copy c = {.ts_ms = ev->ts_ms, .line = ev->source.line};
	const struct event_field *f[N_KEPT];
	size_t size = sizeof(c);

	if (r->n == RETAIN_MAX_EVENTS)
		return drop(r);
	for (size_t k = 0; k < N_KEPT; k++) {
		f[k] = kept_field(ev, k);
		c.len[k] = f[k] ? f[k]->value_len : ABSENT;
		size += f[k] ? f[k]->value_len : 0;
	}
	size = pad8(size);
	int64_t src = source_of(r, ev);
	if (src < 0 || !reserve(r, size))
		return drop(r);
	c.src = (uint32_t)src;
	unsigned char *at = r->arena + r->len;
	memcpy(at, &c, sizeof(c));
	at += sizeof(c);
	for (size_t k = 0; k < N_KEPT; k++)
		if (f[k]) {
			memcpy(at, f[k]->value, f[k]->value_len);
			at += f[k]->value_len;
		}
	r->len += size;
	r->n++;
	r->st.n_added++;
	return 0;
}

bool retain_need_flush(const struct retain *r)
{
	return r->n >= RETAIN_MAX_EVENTS / 2 || r->len >= RETAIN_MAX_BYTES / 2;
}

/* A minimal event (its fields and slots in the caller's arrays). */
struct view {
	struct event ev;
	struct event_field fields[N_KEPT];
	int32_t slot[N_CANONICAL_FIELDS];
};

/* v becomes a minimal event over the copy at p (the kept fields at their
 * canonical ids); *size = the copy's bytes in the arena. */
static void load_one(struct view *w, const struct retain *r,
		     const unsigned char *p, size_t *size)
{
	struct copy c;
	struct event *ev = &w->ev;
	const char *v;

	*ev = (struct event){.fields = w->fields,
			     .slot = w->slot,
			     .n_slots = N_CANONICAL_FIELDS};
	memcpy(&c, p, sizeof(c));
	v = (const char *)p + sizeof(c);
	ev->ts_ms = c.ts_ms;
	ev->source.line = c.line;
	if (c.src != NO_SOURCE) {
		ev->source.input = r->src[c.src].input;
		ev->source.path = r->src[c.src].path;
	}
	for (size_t i = 0; i < N_CANONICAL_FIELDS; i++)
		w->slot[i] = -1;
	for (size_t k = 0; k < N_KEPT; k++) {
		if (c.len[k] == ABSENT)
			continue;
		w->fields[ev->n_fields] =
		    (struct event_field){.name = canonical_field_names[kept[k]],
					 .value = v,
					 .value_len = c.len[k],
					 .kind = VALUE_STRING,
					 .id = (int32_t)kept[k],
					 .next_same = -1};
		w->slot[kept[k]] = (int32_t)ev->n_fields++;
		v += c.len[k];
	}
	*size = pad8((size_t)((const unsigned char *)v - p));
}

/* Writes the copies STORE_EVENTS_PER_INSERT at a time (one statement). */
int retain_write_chunk(const struct retain *r, struct store *s,
		       struct retain_cursor *cur, size_t max)
{
	struct view w[STORE_EVENTS_PER_INSERT];
	const struct event *ev[STORE_EVENTS_PER_INSERT];
	size_t size = 0, k = 0, n = 0;

	for (; cur->i < r->n && n < max; cur->i++, n++, cur->at += size) {
		load_one(&w[k], r, r->arena + cur->at, &size);
		ev[k] = &w[k].ev;
		if (++k == STORE_EVENTS_PER_INSERT) {
			if (store_add_access_events(s, ev, k) < 0)
				return -1;
			k = 0;
		}
	}
	if (k && store_add_access_events(s, ev, k) < 0)
		return -1;
	return (int)n;
}

int retain_write(struct retain *r, struct store *s)
{
	struct retain_cursor cur = {0, 0};

	return retain_write_chunk(r, s, &cur, SIZE_MAX) < 0 ? -1 : 0;
}

void retain_committed(struct retain *r)
{
	r->st.n_written += r->n;
	forget(r);
}

void retain_take(struct retain *r, struct retain *batch)
{
	struct retain t = *batch; /* batch is empty: its arena is kept */

	memcpy(batch->src, r->src, r->n_src * sizeof(r->src[0]));
	batch->arena = r->arena;
	batch->len = r->len;
	batch->cap = r->cap;
	batch->n = r->n;
	batch->n_src = r->n_src;
	r->arena = t.arena;
	r->cap = t.cap;
	r->len = r->n = r->n_src = 0;
}

/* Appends the copy at p of src to r (its source interned again). */
static int append_one(struct retain *r, const struct retain *src,
		      const unsigned char *p, size_t *size)
{
	struct copy c;
	struct event ev = {0};
	size_t body = 0;

	memcpy(&c, p, sizeof(c));
	for (size_t k = 0; k < N_KEPT; k++)
		body += c.len[k] == ABSENT ? 0 : c.len[k];
	*size = pad8(sizeof(c) + body);
	if (c.src != NO_SOURCE) {
		ev.source.input = src->src[c.src].input;
		ev.source.path = src->src[c.src].path;
	}
	int64_t at = source_of(r, &ev);
	if (r->n == RETAIN_MAX_EVENTS || at < 0 || !reserve(r, *size))
		return drop(r);
	c.src = (uint32_t)at;
	memcpy(r->arena + r->len, &c, sizeof(c));
	memcpy(r->arena + r->len + sizeof(c), p + sizeof(c), *size - sizeof(c));
	r->len += *size;
	r->n++;
	return 0;
}

void retain_done(struct retain *r, struct retain *batch, bool committed)
{
	size_t at = 0, size = 0;

	if (committed) {
		r->st.n_written += batch->n;
		forget(batch);
		return;
	}
	for (size_t i = 0; i < r->n; i++, at += size)
		if (append_one(batch, r, r->arena + at, &size) < 0)
			r->st.n_dropped++;
	forget(r);
	retain_take(batch, r);
}

void retain_stats(const struct retain *r, struct retain_stats *out)
{
	*out = r->st;
	out->n_waiting = r->n;
}
