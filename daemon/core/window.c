/*
 * window: per-group correlation state.  See window.h.
 *
 * Invariants of a window:
 *   - ring[head .. head+n) is sorted by ts_ms (ties keep arrival order);
 *   - sum is the sum of the entries' num (reset to exactly 0 when empty);
 *   - vals[s].count is the number of entries with slot s, n_distinct the
 *     number of slots with count > 0; a slot whose count drops to 0 is freed
 *     and removed from the hash at once, so distinct counting is O(1) per
 *     added or evicted entry, whatever the number of values;
 *   - tag_count[t] likewise, n_tags_present the tags with count > 0.
 * Hash tables are open addressing with linear probing and backward-shift
 * deletion (no tombstones), kept at most half full.
 */
#include "window.h"

#include "evidence.h"
#include "hashfn.h"

#include <stdlib.h>
#include <string.h>

/* ---- open-addressing index: buckets of (idx, hash) ---- */

typedef bool (*key_eq_fn)(const void *ctx, uint32_t idx, const char *key,
			  size_t len);

static uint32_t index_find(const struct window_bucket *b, size_t n_buckets,
			   uint32_t hash, const char *key, size_t len,
			   key_eq_fn eq, const void *ctx)
{
	if (n_buckets == 0)
		return WINDOW_NONE;
	size_t mask = n_buckets - 1;
	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		if (b[i].idx == WINDOW_NONE)
			return WINDOW_NONE;
		if (b[i].hash == hash && eq(ctx, b[i].idx, key, len))
			return b[i].idx;
	}
}

static void index_put(struct window_bucket *b, size_t n_buckets, uint32_t hash,
		      uint32_t idx)
{
	size_t mask = n_buckets - 1;
	size_t i = hash & mask;

	while (b[i].idx != WINDOW_NONE)
		i = (i + 1) & mask;
	b[i].idx = idx;
	b[i].hash = hash;
}

/* Makes room for one more entry when n_used + 1 would pass half full.
 * inl: WINDOW_BUCKETS_INLINE buckets to use first (never freed), or NULL. */
static int index_reserve(struct window_bucket **bp, size_t *n_buckets,
			 size_t n_used, struct window_bucket *inl)
{
	if ((n_used + 1) * 2 <= *n_buckets)
		return 0;
	size_t nb = *n_buckets ? *n_buckets * 2 : WINDOW_BUCKETS_INLINE;
	struct window_bucket *nbk =
	    *n_buckets == 0 && inl ? inl : malloc(nb * sizeof(*nbk));
	if (nbk == NULL)
		return -1;
	for (size_t i = 0; i < nb; i++)
		nbk[i].idx = WINDOW_NONE;
	for (size_t i = 0; i < *n_buckets; i++)
		if ((*bp)[i].idx != WINDOW_NONE)
			index_put(nbk, nb, (*bp)[i].hash, (*bp)[i].idx);
	if (*bp != inl)
		free(*bp);
	*bp = nbk;
	*n_buckets = nb;
	return 0;
}

static void index_del(struct window_bucket *b, size_t n_buckets, uint32_t hash,
		      uint32_t idx)
{
	size_t mask = n_buckets - 1;
	size_t i = hash & mask;

	while (b[i].idx != idx)
		i = (i + 1) & mask;
	/* backward shift: pull later members of the cluster into the hole */
	for (size_t j = (i + 1) & mask; b[j].idx != WINDOW_NONE;
	     j = (j + 1) & mask) {
		size_t home = b[j].hash & mask;
		bool movable = (i <= j) ? (home <= i || home > j)
					: (home <= i && home > j);
		if (movable) {
			b[i] = b[j];
			i = j;
		}
	}
	b[i].idx = WINDOW_NONE;
}

/* ---- the entry ring ---- */

void window_init(struct window *w)
{
	memset(w, 0, sizeof(*w));
	w->free_head = WINDOW_NONE;
}

void window_clear(struct window *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n_vals; i++)
		if (w->vals[i].len >= WINDOW_VALUE_INLINE)
			free(w->vals[i].u.str);
	for (size_t i = 0; i < w->n_samples; i++)
		evidence_unref(w->samples[i].ev);
	if (w->vals != w->vals_inl)
		free(w->vals);
	if (w->buckets != w->buckets_inl)
		free(w->buckets);
	if (w->ring != w->ring_inl)
		free(w->ring);
	free(w->tag_count);
	if (w->samples != w->samples_inl)
		free(w->samples);
	struct window_entry *ring_inl = w->ring_inl;
	struct window_sample *samples_inl = w->samples_inl;
	size_t n_samples_inl = w->n_samples_inl;
	struct window_value *vals_inl = w->vals_inl;
	struct window_bucket *buckets_inl = w->buckets_inl;
	window_init(w);
	w->ring_inl = ring_inl;
	w->samples_inl = samples_inl;
	w->n_samples_inl = n_samples_inl;
	w->vals_inl = vals_inl;
	w->buckets_inl = buckets_inl;
}

const struct window_entry *window_entry_at(const struct window *w, size_t i)
{
	return &w->ring[(w->head + i) & (w->cap - 1)];
}

static struct window_entry *entry_at(struct window *w, size_t i)
{
	return &w->ring[(w->head + i) & (w->cap - 1)];
}

static int ring_grow(struct window *w)
{
	size_t ncap = w->cap ? w->cap * 2 : WINDOW_RING_INLINE;
	struct window_entry *r = w->cap == 0 && w->ring_inl
				     ? w->ring_inl
				     : malloc(ncap * sizeof(*r));

	if (r == NULL)
		return -1;
	for (size_t i = 0; i < w->n; i++)
		r[i] = *entry_at(w, i);
	if (w->ring != w->ring_inl)
		free(w->ring);
	w->ring = r;
	w->cap = ncap;
	w->head = 0;
	return 0;
}

static bool value_eq(const void *ctx, uint32_t idx, const char *key, size_t len)
{
	const struct window_value *v = &((const struct window *)ctx)->vals[idx];

	return v->len == len && memcmp(window_value_str(v), key, len) == 0;
}

static void value_release(struct window *w, uint32_t slot)
{
	struct window_value *v = &w->vals[slot];

	if (--v->count > 0)
		return;
	index_del(w->buckets, w->n_buckets, v->hash, slot);
	if (v->len >= WINDOW_VALUE_INLINE)
		free(v->u.str);
	v->len = 0;
	v->next_free = w->free_head;
	w->free_head = slot;
	w->n_distinct--;
}

static void tag_release(struct window *w, uint32_t tag)
{
	if (--w->tag_count[tag] == 0)
		w->n_tags_present--;
}

static void pop_oldest(struct window *w)
{
	struct window_entry *e = entry_at(w, 0);

	w->sum -= e->num;
	if (e->slot != WINDOW_NONE)
		value_release(w, e->slot);
	if (e->tag != WINDOW_NONE)
		tag_release(w, e->tag);
	w->head = (w->head + 1) & (w->cap - 1);
	if (--w->n == 0)
		w->sum = 0;
}

void window_expire(struct window *w, const struct window_params *p,
		   int64_t now_ms)
{
	if (!p->sliding)
		return;
	while (w->n > 0 && entry_at(w, 0)->ts_ms <= now_ms - p->timespan_ms)
		pop_oldest(w);
}

/* Doubles the value slots (amortised O(1) per new value). */
static int vals_grow(struct window *w)
{
	size_t nc = w->cap_vals ? w->cap_vals * 2 : WINDOW_VALS_INLINE;
	struct window_value *nv;

	if (w->cap_vals == 0 && w->vals_inl) {
		nv = w->vals_inl;
	} else if (w->vals != NULL && w->vals == w->vals_inl) {
		nv = malloc(nc * sizeof(*nv)); /* leaving the group's block */
		if (nv != NULL)
			memcpy(nv, w->vals, w->cap_vals * sizeof(*nv));
	} else {
		nv = realloc(w->vals, nc * sizeof(*nv));
	}
	if (nv == NULL)
		return -1;
	w->vals = nv;
	w->cap_vals = nc;
	return 0;
}

/* Finds or creates the slot of a value; WINDOW_NONE on a full table
 * (*full set) or on allocation failure. */
static uint32_t value_slot(struct window *w, const struct window_params *p,
			   const char *s, size_t len, bool *full)
{
	uint32_t h = hashfn_bytes(s, len);
	uint32_t slot =
	    index_find(w->buckets, w->n_buckets, h, s, len, value_eq, w);
	if (slot != WINDOW_NONE)
		return slot;
	if (w->n_distinct >= p->max_distinct) {
		*full = true;
		return WINDOW_NONE;
	}
	if (index_reserve(&w->buckets, &w->n_buckets, w->n_distinct,
			  w->buckets_inl) < 0)
		return WINDOW_NONE;
	if (w->free_head == WINDOW_NONE) {
		if (w->n_vals == w->cap_vals && vals_grow(w) < 0)
			return WINDOW_NONE;
		w->vals[w->n_vals].len = 0;
		w->vals[w->n_vals].next_free = WINDOW_NONE;
		w->free_head = (uint32_t)w->n_vals++;
	}
	struct window_value v = {
	    .len = (uint32_t)len, .hash = h, .next_free = WINDOW_NONE};
	char *copy = v.u.inl;
	if (len >= WINDOW_VALUE_INLINE &&
	    (copy = v.u.str = malloc(len + 1)) == NULL)
		return WINDOW_NONE;
	memcpy(copy, s, len);
	copy[len] = '\0';
	slot = w->free_head;
	w->free_head = w->vals[slot].next_free;
	w->vals[slot] = v;
	index_put(w->buckets, w->n_buckets, h, slot);
	w->n_distinct++;
	return slot;
}

static bool is_late(const struct window *w, const struct window_params *p,
		    int64_t ts)
{
	if (!w->has_events)
		return false;
	if (!p->sliding)
		return ts < w->open_ts;
	return ts < w->newest_ts - p->max_lateness_ms ||
	       ts <= w->newest_ts - p->timespan_ms;
}

/* Inserts e in time order; the ring has room. */
static void ring_insert(struct window *w, const struct window_entry *e)
{
	size_t i = w->n;

	while (i > 0 && entry_at(w, i - 1)->ts_ms > e->ts_ms) {
		*entry_at(w, i) = *entry_at(w, i - 1);
		i--;
	}
	*entry_at(w, i) = *e;
	w->n++;
}

static int tag_take(struct window *w, const struct window_params *p,
		    uint32_t tag)
{
	if (tag == WINDOW_NONE || tag >= p->n_tags)
		return 0;
	if (w->tag_count == NULL) {
		w->tag_count = calloc(p->n_tags, sizeof(*w->tag_count));
		if (w->tag_count == NULL)
			return -1;
	}
	if (w->tag_count[tag]++ == 0)
		w->n_tags_present++;
	return 0;
}

enum window_status window_add(struct window *w, const struct window_params *p,
			      const struct window_item *it)
{
	enum window_status st = WINDOW_ADDED;
	bool full = false;
	struct window_entry e = {it->ts_ms, it->num, WINDOW_NONE, WINDOW_NONE};

	if (is_late(w, p, it->ts_ms))
		return WINDOW_LATE;
	if (w->has_events && it->ts_ms > w->newest_ts)
		window_expire(w, p, it->ts_ms);
	if (w->n == w->cap && w->cap < p->max_events && ring_grow(w) < 0)
		return WINDOW_NOMEM;
	if (it->value != NULL) {
		e.slot = value_slot(w, p, it->value, it->value_len, &full);
		if (e.slot == WINDOW_NONE)
			return full ? WINDOW_DISTINCT_FULL : WINDOW_NOMEM;
	}
	if (tag_take(w, p, it->tag) < 0) {
		if (e.slot != WINDOW_NONE && w->vals[e.slot].count == 0) {
			w->vals[e.slot].count = 1;
			value_release(w, e.slot);
		}
		return WINDOW_NOMEM;
	}
	if (e.slot != WINDOW_NONE)
		w->vals[e.slot].count++;
	if (it->tag != WINDOW_NONE && it->tag < p->n_tags)
		e.tag = it->tag;
	if (w->n == w->cap || w->n >= p->max_events) {
		pop_oldest(w);
		st = WINDOW_OVERFLOW;
	}
	ring_insert(w, &e);
	w->sum += e.num;
	if (!w->has_events) {
		w->has_events = true;
		w->open_ts = it->ts_ms;
		w->newest_ts = it->ts_ms;
	} else if (it->ts_ms > w->newest_ts) {
		w->newest_ts = it->ts_ms;
	}
	return st;
}

/* ---- evidence samples ---- */

int window_add_sample(struct window *w, const struct window_params *p,
		      int64_t ts_ms, struct evidence *ev)
{
	size_t cap = p->evidence_sample;

	if (cap == 0 || ev == NULL)
		return 0;
	if (w->samples == NULL) {
		w->samples = cap <= w->n_samples_inl
				 ? w->samples_inl
				 : calloc(cap, sizeof(*w->samples));
		if (w->samples == NULL)
			return -1;
	}
	size_t at = (w->sample_head + w->n_samples) % cap;
	if (w->n_samples == cap) {
		evidence_unref(w->samples[at].ev);
		w->sample_head = (w->sample_head + 1) % cap;
	} else {
		w->n_samples++;
	}
	w->samples[at].ts_ms = ts_ms;
	w->samples[at].ev = evidence_ref(ev);
	return 0;
}

size_t window_samples(const struct window *w, const struct window_params *p,
		      char **out, size_t max, size_t *n_nomem)
{
	size_t n = 0;

	for (size_t i = 0; i < w->n_samples && n < max; i++) {
		const struct window_sample *s =
		    &w->samples[(w->sample_head + i) % p->evidence_sample];
		if (p->sliding && s->ts_ms <= w->newest_ts - p->timespan_ms)
			continue;
		const char *json = evidence_json(s->ev);
		if (json != NULL)
			out[n++] = (char *)json;
		else
			(*n_nomem)++;
	}
	return n;
}

/* ---- the group table ---- */

void window_groups_init(struct window_groups *t, size_t max_groups)
{
	memset(t, 0, sizeof(*t));
	t->max_groups = max_groups ? max_groups : 1;
	t->lru_head = t->lru_tail = WINDOW_NONE;
}

/* Frees what g owns outside its block. */
static void group_release(struct window_group *g)
{
	window_clear(&g->win);
	free(g->last.json);
	free(g->last.input);
	free(g->last.path);
}

static void group_free(struct window_group *g)
{
	if (g == NULL)
		return;
	group_release(g);
	free(g);
}

void window_groups_clear(struct window_groups *t)
{
	if (t == NULL)
		return;
	void (*on_remove)(void *, struct window_group *) = t->on_remove;
	void *arg = t->on_remove_arg;
	uint32_t owner = t->owner;
	size_t evidence_sample = t->evidence_sample;
	bool distinct_room = t->distinct_room;
	for (size_t i = 0; i < t->n_slots; i++)
		group_free(t->slots[i]);
	free(t->slots);
	free(t->free_ids);
	free(t->buckets);
	free(t->heap);
	window_groups_init(t, t->max_groups);
	t->on_remove = on_remove;
	t->on_remove_arg = arg;
	t->owner = owner;
	t->evidence_sample = evidence_sample;
	t->distinct_room = distinct_room;
}

static bool group_eq(const void *ctx, uint32_t idx, const char *key, size_t len)
{
	const struct window_group *g =
	    ((const struct window_groups *)ctx)->slots[idx];

	return g->key_len == len && memcmp(g->key, key, len) == 0;
}

/* Moving a group to the tail touches its neighbours' structs; the next
 * victim is one of them (the new head after an eviction), so its struct
 * is in the cache when the next miss evicts it.  (Links in an array of
 * their own, by slot, were tried: every eviction then missed on its
 * victim, 4-8% slower on bench/rules-corr.) */
static void lru_unlink(struct window_groups *t, uint32_t self)
{
	struct window_group *g = t->slots[self];

	if (g->lru_prev != WINDOW_NONE)
		t->slots[g->lru_prev]->lru_next = g->lru_next;
	else
		t->lru_head = g->lru_next;
	if (g->lru_next != WINDOW_NONE)
		t->slots[g->lru_next]->lru_prev = g->lru_prev;
	else
		t->lru_tail = g->lru_prev;
}

static void lru_append(struct window_groups *t, uint32_t self)
{
	struct window_group *g = t->slots[self];

	g->lru_next = WINDOW_NONE;
	g->lru_prev = t->lru_tail;
	if (t->lru_tail != WINDOW_NONE)
		t->slots[t->lru_tail]->lru_next = self;
	else
		t->lru_head = self;
	t->lru_tail = self;
}

/* Ties are broken by key, not by slot number, so that the order in which
 * groups close at the same time survives a checkpoint and restore. */
static bool heap_less(const struct window_groups *t, size_t a, size_t b)
{
	const struct window_group *ga = t->heap[a], *gb = t->heap[b];
	size_t n = ga->key_len < gb->key_len ? ga->key_len : gb->key_len;
	int c;

	if (ga->close_ts != gb->close_ts)
		return ga->close_ts < gb->close_ts;
	c = memcmp(ga->key, gb->key, n);
	if (c != 0)
		return c < 0;
	return ga->key_len < gb->key_len;
}

static void heap_swap(struct window_groups *t, size_t a, size_t b)
{
	struct window_group *g = t->heap[a];

	t->heap[a] = t->heap[b];
	t->heap[b] = g;
	t->heap[a]->heap_pos = a;
	t->heap[b]->heap_pos = b;
}

static void heap_fix(struct window_groups *t, size_t i)
{
	while (i > 0 && heap_less(t, i, (i - 1) / 2)) {
		heap_swap(t, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < t->n_heap && heap_less(t, l, m))
			m = l;
		if (r < t->n_heap && heap_less(t, r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(t, i, m);
		i = m;
	}
}

static void heap_remove(struct window_groups *t, struct window_group *g)
{
	size_t i = g->heap_pos;

	if (i == SIZE_MAX)
		return;
	g->heap_pos = SIZE_MAX;
	if (i == --t->n_heap)
		return;
	t->heap[i] = t->heap[t->n_heap];
	t->heap[i]->heap_pos = i;
	heap_fix(t, i);
}

int window_groups_schedule(struct window_groups *t, struct window_group *g,
			   int64_t close_ts)
{
	heap_remove(t, g);
	if (t->n_heap == t->cap_heap) {
		size_t nc = t->cap_heap ? t->cap_heap * 2 : 16;
		struct window_group **h = realloc(t->heap, nc * sizeof(*h));
		if (h == NULL)
			return -1;
		t->heap = h;
		t->cap_heap = nc;
	}
	g->close_ts = close_ts;
	g->heap_pos = t->n_heap;
	t->heap[t->n_heap++] = g;
	heap_fix(t, g->heap_pos);
	return 0;
}

struct window_group *window_groups_next_close(const struct window_groups *t)
{
	return t->n_heap ? t->heap[0] : NULL;
}

/* Takes g out of the table (the caller frees or reuses it). */
static void group_detach(struct window_groups *t, struct window_group *g)
{
	if (t->on_remove)
		t->on_remove(t->on_remove_arg, g);
	heap_remove(t, g);
	lru_unlink(t, g->self);
	index_del(t->buckets, t->n_buckets, g->hash, g->self);
	t->slots[g->self] = NULL;
	t->free_ids[t->n_free_ids++] = g->self;
	t->n_groups--;
}

void window_groups_remove(struct window_groups *t, struct window_group *g)
{
	group_detach(t, g);
	group_free(g);
}

/* A group in one block: the struct, its window's first ring and its
 * evidence samples (window.h: ring_inl, samples_inl), when `distinct` its
 * first distinct-value slots and buckets, then values[], then the key,
 * then each value NUL-terminated.  One allocation for what every group
 * needs (a group exists because an input entered its window), and the key
 * sits near the struct that the lookup has just touched.  A ring or table
 * that outgrows its room moves to its own allocation and leaves the room
 * unused. */
static struct window_group *group_alloc(const char *key, size_t key_len,
					const char *const *values,
					const size_t *lens, size_t n,
					size_t n_samples, bool distinct,
					struct window_group *reuse)
{
	size_t room =
	    distinct ? WINDOW_VALS_INLINE * sizeof(struct window_value) +
			   WINDOW_BUCKETS_INLINE * sizeof(struct window_bucket)
		     : 0;
	size_t bytes = sizeof(struct window_group) +
		       WINDOW_RING_INLINE * sizeof(struct window_entry) +
		       n_samples * sizeof(struct window_sample) + room +
		       n * sizeof(char *) + key_len;

	for (size_t i = 0; i < n; i++)
		bytes += lens[i] + 1;
	/* ask for all the chunk malloc() gives anyway (glibc: 16-byte steps
	 * after an 8-byte header), so that an evicted group's block fits
	 * more new keys */
	bytes = ((bytes + 8 + 15) & ~(size_t)15) - 8;
	struct window_group *g = reuse;
	if (reuse == NULL || reuse->block_size < bytes) {
		free(reuse); /* the room needs no zeroes */
		if ((g = malloc(bytes)) == NULL)
			return NULL;
	} else {
		bytes = reuse->block_size;
	}
	memset(g, 0, sizeof(*g));
	g->block_size = bytes <= UINT32_MAX ? (uint32_t)bytes : 0;
	window_init(&g->win);
	g->win.ring_inl = (struct window_entry *)(g + 1);
	g->win.samples_inl =
	    (struct window_sample *)(g->win.ring_inl + WINDOW_RING_INLINE);
	g->win.n_samples_inl = n_samples;
	char *after = (char *)(g->win.samples_inl + n_samples);
	if (distinct) {
		g->win.vals_inl = (struct window_value *)after;
		g->win.buckets_inl =
		    (struct window_bucket *)(g->win.vals_inl +
					     WINDOW_VALS_INLINE);
		after = (char *)(g->win.buckets_inl + WINDOW_BUCKETS_INLINE);
	}
	g->values = (char **)after;
	g->n_values = n;
	g->key = (char *)(g->values + n);
	g->key_len = key_len;
	memcpy(g->key, key, key_len);
	char *at = g->key + key_len;
	for (size_t i = 0; i < n; i++) {
		g->values[i] = at;
		memcpy(at, values[i], lens[i]);
		at[lens[i]] = '\0';
		at += lens[i] + 1;
	}
	return g;
}

static uint32_t free_slot(struct window_groups *t)
{
	if (t->n_free_ids > 0)
		return t->free_ids[--t->n_free_ids];
	size_t n = t->n_slots ? t->n_slots * 2 : 8;
	struct window_group **s = realloc(t->slots, n * sizeof(*s));
	if (s == NULL)
		return WINDOW_NONE;
	t->slots = s;
	uint32_t *f = realloc(t->free_ids, n * sizeof(*f));
	if (f == NULL)
		return WINDOW_NONE;
	t->free_ids = f;
	for (size_t i = n; i > t->n_slots + 1; i--)
		t->free_ids[t->n_free_ids++] = (uint32_t)(i - 1);
	memset(s + t->n_slots, 0, (n - t->n_slots) * sizeof(*s));
	uint32_t at = (uint32_t)t->n_slots;
	t->n_slots = n;
	return at;
}

/* reuse: a group taken out of the table and released, whose block is
 * used if the new group fits (freed otherwise), or NULL. */
static struct window_group *group_new(struct window_groups *t, const char *key,
				      size_t key_len, uint32_t hash,
				      const char *const *values,
				      const size_t *lens, size_t n_values,
				      struct window_group *reuse)
{
	struct window_group *g =
	    group_alloc(key, key_len, values, lens, n_values,
			t->evidence_sample, t->distinct_room, reuse);

	if (g == NULL)
		return NULL;
	g->heap_pos = SIZE_MAX;
	g->hash = hash;
	if (index_reserve(&t->buckets, &t->n_buckets, t->n_groups, NULL) < 0)
		goto fail;
	g->self = free_slot(t);
	if (g->self == WINDOW_NONE)
		goto fail;
	t->slots[g->self] = g;
	index_put(t->buckets, t->n_buckets, hash, g->self);
	t->n_groups++;
	g->owner = t->owner;
	lru_append(t, g->self);
	return g;
fail:
	group_free(g);
	return NULL;
}

static int touched_cmp(const void *a, const void *b)
{
	const struct window_group *ga = *(struct window_group *const *)a;
	const struct window_group *gb = *(struct window_group *const *)b;

	return ga->touched < gb->touched ? -1 : ga->touched > gb->touched;
}

/* Rebuilds the least-recently-updated list from `touched` after groups
 * were restored in arbitrary order.  On allocation failure the list stays
 * as it is (eviction order is then approximate) and is retried later. */
static void lru_sort(struct window_groups *t)
{
	struct window_group **v = malloc((t->n_groups + 1) * sizeof(*v));
	size_t n = 0;

	if (v == NULL)
		return;
	for (size_t i = 0; i < t->n_slots; i++)
		if (t->slots[i] != NULL)
			v[n++] = t->slots[i];
	qsort(v, n, sizeof(*v), touched_cmp);
	t->lru_head = t->lru_tail = WINDOW_NONE;
	for (size_t i = 0; i < n; i++)
		lru_append(t, v[i]->self);
	free(v);
	t->lru_unsorted = false;
}

struct window_group *window_groups_find(const struct window_groups *t,
					const char *key, size_t key_len)
{
	uint32_t idx =
	    index_find(t->buckets, t->n_buckets, hashfn_bytes(key, key_len),
		       key, key_len, group_eq, t);

	return idx == WINDOW_NONE ? NULL : t->slots[idx];
}

/* The group the next miss will evict when the table is full, or NULL. */
static const struct window_group *victim(const struct window_groups *t)
{
	if (t->n_groups < t->max_groups || t->lru_head == WINDOW_NONE ||
	    t->lru_unsorted)
		return NULL;
	return t->slots[t->lru_head];
}

/* A full table evicts on nearly every miss, and the victim is the group
 * touched longest ago: its struct is in the cache (see lru_unlink()),
 * but not what the eviction reads through it, its bucket and its
 * samples' evidence; their loads start here, at the start of a look-up,
 * while the look-up's own bucket is being read. */
static void prefetch_victim_refs(const struct window_groups *t)
{
	const struct window_group *g = victim(t);

	if (g == NULL)
		return;
	__builtin_prefetch(&t->buckets[g->hash & (t->n_buckets - 1)], 1);
	for (size_t i = 0; i < g->win.n_samples; i++)
		__builtin_prefetch(g->win.samples[i].ev, 1);
}

uint32_t window_groups_hash(const char *key, size_t key_len)
{
	return hashfn_bytes(key, key_len);
}

void window_groups_prefetch(const struct window_groups *t, uint32_t hash)
{
	if (t->n_buckets > 0)
		__builtin_prefetch(&t->buckets[hash & (t->n_buckets - 1)]);
}

struct window_group *
window_groups_get(struct window_groups *t, const char *key, size_t key_len,
		  const char *const *values, const size_t *value_lens,
		  size_t n_values, bool *created, bool *evicted)
{
	return window_groups_get_hashed(t, key, key_len,
					hashfn_bytes(key, key_len), values,
					value_lens, n_values, created, evicted);
}

struct window_group *
window_groups_get_hashed(struct window_groups *t, const char *key,
			 size_t key_len, uint32_t h, const char *const *values,
			 const size_t *value_lens, size_t n_values,
			 bool *created, bool *evicted)
{
	prefetch_victim_refs(t);
	uint32_t idx =
	    index_find(t->buckets, t->n_buckets, h, key, key_len, group_eq, t);
	struct window_group *g;

	*created = *evicted = false;
	if (t->lru_unsorted)
		lru_sort(t);
	if (idx != WINDOW_NONE) {
		g = t->slots[idx];
		if (t->lru_tail != g->self) {
			lru_unlink(t, g->self);
			lru_append(t, g->self);
		}
		g->touched = ++t->clock;
		/* the sample a full ring drops next (window_add_sample()):
		 * its evidence is old and out of the cache */
		if (t->evidence_sample &&
		    g->win.n_samples == t->evidence_sample)
			__builtin_prefetch(
			    g->win.samples[g->win.sample_head].ev, 1);
		return g;
	}
	/* the evicted group's block is reused: no free() and malloc() of
	 * the same size, nearly once per miss in a table at its limit */
	struct window_group *old = NULL;
	if (t->n_groups >= t->max_groups && t->lru_head != WINDOW_NONE) {
		old = t->slots[t->lru_head];
		group_detach(t, old);
		group_release(old);
		*evicted = true;
	}
	g = group_new(t, key, key_len, h, values, value_lens, n_values, old);
	if (g != NULL) {
		*created = true;
		g->touched = ++t->clock;
	}
	return g;
}

struct window_group *
window_groups_restore(struct window_groups *t, const char *key, size_t key_len,
		      const char *const *values, const size_t *value_lens,
		      size_t n_values, uint64_t touched, bool *full)
{
	uint32_t h = hashfn_bytes(key, key_len);

	*full = t->n_groups >= t->max_groups;
	if (*full)
		return NULL;
	struct window_group *g =
	    group_new(t, key, key_len, h, values, value_lens, n_values, NULL);
	if (g == NULL)
		return NULL;
	g->touched = touched;
	if (touched > t->clock)
		t->clock = touched;
	t->lru_unsorted = true;
	return g;
}

int window_trigger_set(struct window_trigger *tr, int64_t ts_ms,
		       const char *json, const char *input, const char *path,
		       uint64_t line, uint64_t offset)
{
	char *j = json ? strdup(json) : NULL;
	char *in = input ? strdup(input) : NULL;
	char *pa = path ? strdup(path) : NULL;

	if ((json && !j) || (input && !in) || (path && !pa)) {
		free(j);
		free(in);
		free(pa);
		return -1;
	}
	free(tr->json);
	free(tr->input);
	free(tr->path);
	*tr = (struct window_trigger){ts_ms, j, in, pa, line, offset};
	return 0;
}
