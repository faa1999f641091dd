/*
 * test_window: the sliding window against a brute-force reference model
 * (every accepted entry kept in a plain list; count, distinct values, sum
 * and tags recomputed from scratch after every step), plus the edges:
 * the exact window boundary, lateness, caps, evidence, the group table's
 * eviction order and the close-time heap.
 */
#include "check.h"
#include "evidence.h"
#include "window.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- reference model ---- */

struct ref_entry {
	int64_t ts;
	int value; /* -1: none */
	double num;
	uint32_t tag;
};

struct ref {
	struct ref_entry *e;
	size_t n, cap;
	bool has;
	int64_t newest;
};

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void ref_add(struct ref *r, const struct ref_entry *e)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->e = realloc(r->e, r->cap * sizeof(*r->e));
	}
	r->e[r->n++] = *e;
	if (!r->has || e->ts > r->newest)
		r->newest = e->ts;
	r->has = true;
}

/* Aggregates over (newest - span, newest], recomputed from scratch. */
static void ref_eval(const struct ref *r, int64_t span, size_t *count,
		     size_t *distinct, double *sum, uint32_t *tags)
{
	static char seen[4096];
	uint32_t tag_seen = 0;

	memset(seen, 0, sizeof(seen));
	*count = *distinct = 0;
	*sum = 0;
	*tags = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct ref_entry *e = &r->e[i];
		if (e->ts <= r->newest - span)
			continue;
		(*count)++;
		*sum += e->num;
		if (e->value >= 0 && !seen[e->value]) {
			seen[e->value] = 1;
			(*distinct)++;
		}
		if (e->tag != WINDOW_NONE && !(tag_seen & (1u << e->tag))) {
			tag_seen |= 1u << e->tag;
			(*tags)++;
		}
	}
}

static bool ref_late(const struct ref *r, const struct window_params *p,
		     int64_t ts)
{
	return r->has && (ts < r->newest - p->max_lateness_ms ||
			  ts <= r->newest - p->timespan_ms);
}

/* One random stream: mostly forward time, some late events, values from
 * an alphabet of `n_values`, integer numbers (exact in a double). */
static void random_stream(int n_steps, int n_values, int64_t span,
			  int64_t lateness)
{
	struct window_params p = {span,	    1u << 20, 1u << 20, 0,
				  lateness, 5,	      true};
	struct window w;
	struct ref r = {0};
	int64_t now = 1000000;
	int mismatches = 0;
	char buf[32];

	window_init(&w);
	for (int i = 0; i < n_steps; i++) {
		now += (int64_t)(rng() % 40);
		int64_t ts = now;
		if (rng() % 8 == 0)
			ts -= (int64_t)(rng() % (uint64_t)(2 * lateness + 2));
		struct ref_entry e = {ts, (int)(rng() % (uint64_t)n_values),
				      (double)(rng() % 1000) - 300,
				      (uint32_t)(rng() % 5)};
		int len = snprintf(buf, sizeof(buf), "v%d", e.value);
		struct window_item it = {ts, buf, (size_t)len, e.num, e.tag};
		bool late = ref_late(&r, &p, ts);
		enum window_status st = window_add(&w, &p, &it);
		if (late != (st == WINDOW_LATE))
			mismatches++;
		if (!late)
			ref_add(&r, &e);
		size_t count, distinct;
		double sum;
		uint32_t tags;
		ref_eval(&r, span, &count, &distinct, &sum, &tags);
		if (count != window_count(&w) ||
		    distinct != window_distinct(&w) ||
		    fabs(sum - window_sum(&w)) > 1e-6 ||
		    tags != window_tags_present(&w))
			mismatches++;
		for (size_t k = 1; k < window_count(&w); k++)
			if (window_entry_at(&w, k - 1)->ts_ms >
			    window_entry_at(&w, k)->ts_ms)
				mismatches++;
	}
	CHECK_INT(mismatches, 0);
	CHECK(r.n > (size_t)n_steps / 2);
	window_clear(&w);
	free(r.e);
}

static void test_reference_model(void)
{
	random_stream(5000, 7, 300, 50);
	random_stream(5000, 4000, 2000, 400);
	random_stream(3000, 2, 50, 0);
}

static void test_boundary(void)
{
	struct window_params p = {1000, 100, 100, 0, 5000, 0, true};
	struct window w;
	struct window_item it = {10000, NULL, 0, 0, WINDOW_NONE};

	window_init(&w);
	CHECK_INT(window_add(&w, &p, &it), WINDOW_ADDED);
	it.ts_ms = 10999;
	CHECK_INT(window_add(&w, &p, &it), WINDOW_ADDED);
	CHECK_INT(window_count(&w), 2);
	/* exactly t - timespan is outside: 10000 leaves at 11000 */
	it.ts_ms = 11000;
	CHECK_INT(window_add(&w, &p, &it), WINDOW_ADDED);
	CHECK_INT(window_count(&w), 2);
	CHECK_INT(window_entry_at(&w, 0)->ts_ms, 10999);
	/* a late event at the boundary is refused, inside it is inserted */
	it.ts_ms = 10000;
	CHECK_INT(window_add(&w, &p, &it), WINDOW_LATE);
	it.ts_ms = 10500;
	CHECK_INT(window_add(&w, &p, &it), WINDOW_ADDED);
	CHECK_INT(window_entry_at(&w, 0)->ts_ms, 10500);
	CHECK_INT(window_count(&w), 3);
	window_expire(&w, &p, 11999);
	CHECK_INT(window_count(&w), 1);
	window_clear(&w);
}

static void test_lateness(void)
{
	struct window_params p = {100000, 100, 100, 0, 10, 0, true};
	struct window w;
	struct window_item it = {1000, NULL, 0, 0, WINDOW_NONE};

	window_init(&w);
	window_add(&w, &p, &it);
	it.ts_ms = 990;
	CHECK_INT(window_add(&w, &p, &it), WINDOW_ADDED);
	it.ts_ms = 989;
	CHECK_INT(window_add(&w, &p, &it), WINDOW_LATE);
	CHECK_INT(window_count(&w), 2);
	window_clear(&w);
}

static void test_caps(void)
{
	struct window_params p = {100000, 3, 2, 0, 0, 0, true};
	struct window w;
	struct window_item it = {1, "a", 1, 0, WINDOW_NONE};

	window_init(&w);
	CHECK_INT(window_add(&w, &p, &it), WINDOW_ADDED);
	it.ts_ms = 2;
	it.value = "b";
	CHECK_INT(window_add(&w, &p, &it), WINDOW_ADDED);
	it.ts_ms = 3;
	it.value = "c";
	CHECK_INT(window_add(&w, &p, &it), WINDOW_DISTINCT_FULL);
	CHECK_INT(window_distinct(&w), 2);
	it.value = "a";
	CHECK_INT(window_add(&w, &p, &it), WINDOW_ADDED);
	it.ts_ms = 4;
	CHECK_INT(window_add(&w, &p, &it), WINDOW_OVERFLOW);
	CHECK_INT(window_count(&w), 3);
	/* "b" (ts 2) is still there; the first "a" was dropped */
	CHECK_INT(window_distinct(&w), 2);
	it.ts_ms = 5;
	CHECK_INT(window_add(&w, &p, &it), WINDOW_OVERFLOW);
	CHECK_INT(window_distinct(&w), 1);
	window_clear(&w);
}

static void test_closing_window(void)
{
	struct window_params p = {1000, 100, 100, 0, 5000, 0, false};
	struct window w;
	struct window_item it = {5000, NULL, 0, 0, WINDOW_NONE};

	window_init(&w);
	window_add(&w, &p, &it);
	it.ts_ms = 5999;
	window_add(&w, &p, &it);
	it.ts_ms = 5400;
	CHECK_INT(window_add(&w, &p, &it), WINDOW_ADDED);
	it.ts_ms = 4999;
	CHECK_INT(window_add(&w, &p, &it), WINDOW_LATE);
	window_expire(&w, &p, 9000);
	CHECK_INT(window_count(&w), 3);
	CHECK_INT(w.open_ts, 5000);
	window_clear(&w);
}

static void test_samples(void)
{
	struct window_params p = {100, 100, 100, 2, 0, 0, true};
	struct window w;
	char *out[4];
	size_t n_nomem = 0;

	window_init(&w);
	for (int i = 0; i < 3; i++) {
		struct window_item it = {1000 + i * 10, NULL, 0, 0,
					 WINDOW_NONE};
		char js[16];
		snprintf(js, sizeof(js), "{\"i\":%d}", i);
		window_add(&w, &p, &it);
		struct evidence *ev = evidence_from_json(js, strlen(js));
		CHECK_INT(window_add_sample(&w, &p, it.ts_ms, ev), 0);
		evidence_unref(ev);
	}
	CHECK_INT(window_samples(&w, &p, out, 4, &n_nomem), 2);
	CHECK_STR(out[0], "{\"i\":1}");
	CHECK_STR(out[1], "{\"i\":2}");
	struct window_item it = {1110, NULL, 0, 0, WINDOW_NONE};
	window_add(&w, &p, &it);
	/* ts 1010 is outside (1010, 1110]; 1020 stays */
	CHECK_INT(window_samples(&w, &p, out, 4, &n_nomem), 1);
	CHECK_STR(out[0], "{\"i\":2}");
	CHECK_INT(n_nomem, 0);
	window_clear(&w);
}

static struct window_group *get(struct window_groups *t, const char *k,
				bool *created, bool *evicted)
{
	const char *vals[1] = {k};
	size_t lens[1] = {strlen(k)};

	return window_groups_get(t, k, strlen(k), vals, lens, 1, created,
				 evicted);
}

static void test_groups(void)
{
	struct window_groups t;
	bool created, evicted;
	char key[16];

	window_groups_init(&t, 3);
	struct window_group *a = get(&t, "a", &created, &evicted);
	CHECK(created && !evicted);
	CHECK_STR(a->values[0], "a");
	get(&t, "b", &created, &evicted);
	get(&t, "c", &created, &evicted);
	CHECK(get(&t, "a", &created, &evicted) == a && !created);
	/* "b" is now the least recently updated */
	get(&t, "d", &created, &evicted);
	CHECK(created && evicted);
	CHECK_INT(t.n_groups, 3);
	get(&t, "b", &created, &evicted);
	CHECK(created && evicted); /* "c" went */
	get(&t, "a", &created, &evicted);
	CHECK(!created);
	window_groups_clear(&t);

	/* many groups, heap order by close time */
	window_groups_init(&t, 100000);
	int bad = 0;
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "g%d", i);
		struct window_group *g = get(&t, key, &created, &evicted);
		if (!created || evicted)
			bad++;
		window_groups_schedule(&t, g, (int64_t)((i * 7919) % 5000));
	}
	for (int i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "g%d", i);
		window_groups_remove(&t, get(&t, key, &created, &evicted));
	}
	int64_t last = -1;
	size_t popped = 0;
	struct window_group *g;
	while ((g = window_groups_next_close(&t)) != NULL) {
		if (g->close_ts < last)
			bad++;
		last = g->close_ts;
		window_groups_remove(&t, g);
		popped++;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(popped, 2500);
	CHECK_INT(t.n_groups, 0);
	window_groups_clear(&t);
}

/* Adds entry i (ts 1000 + i) with evidence {"i":i} to g's window. */
static void add_with_sample(struct window_group *g,
			    const struct window_params *p, int i)
{
	struct window_item it = {1000 + i, NULL, 0, 0, WINDOW_NONE};
	char js[16];

	snprintf(js, sizeof(js), "{\"i\":%d}", i);
	CHECK_INT(window_add(&g->win, p, &it), WINDOW_ADDED);
	struct evidence *ev = evidence_from_json(js, strlen(js));
	CHECK_INT(window_add_sample(&g->win, p, it.ts_ms, ev), 0);
	evidence_unref(ev);
}

/* A group's first ring and samples live in its block; a window that
 * outgrows them (more entries, or more samples than the table reserved)
 * moves to its own allocations and keeps every entry and sample. */
static void test_group_inline_room(void)
{
	struct window_params p = {100000, 1000, 100, 3, 0, 0, true};
	struct window_groups t;
	bool created, evicted;
	char *out[8];
	size_t n_nomem = 0;

	for (size_t reserved = 0; reserved <= 5; reserved += 3) {
		window_groups_init(&t, 10);
		t.evidence_sample = reserved;
		struct window_group *a = get(&t, "a", &created, &evicted);
		struct window_group *b = get(&t, "b", &created, &evicted);
		for (int i = 0; i < 5; i++)
			add_with_sample(a, &p, i);
		CHECK(a->win.ring == a->win.ring_inl);
		CHECK((a->win.samples == a->win.samples_inl) ==
		      (reserved >= p.evidence_sample));
		for (int i = 0; i < 20; i++)
			add_with_sample(b, &p, i);
		CHECK(b->win.ring != b->win.ring_inl);
		CHECK_INT(window_count(&a->win), 5);
		CHECK_INT(window_count(&b->win), 20);
		for (size_t i = 0; i < 20; i++)
			CHECK_INT(window_entry_at(&b->win, i)->ts_ms,
				  1000 + (int64_t)i);
		CHECK_INT(window_samples(&b->win, &p, out, 8, &n_nomem), 3);
		CHECK_STR(out[0], "{\"i\":17}");
		CHECK_STR(out[2], "{\"i\":19}");
		CHECK_INT(window_samples(&a->win, &p, out, 8, &n_nomem), 3);
		CHECK_STR(out[0], "{\"i\":2}");
		CHECK_INT(n_nomem, 0);
		window_groups_remove(&t, a);
		window_groups_clear(&t);
		CHECK_INT(t.evidence_sample, reserved);
	}
}

/* Distinct values start in the group's block and move out past its room;
 * counts stay exact while values come and go (sliding window of 10). */
static void test_group_distinct_room(void)
{
	struct window_params p = {10, 1000, 1000, 0, 1000, 0, true};
	struct window_groups t;
	bool created, evicted;
	char v[16];

	window_groups_init(&t, 10);
	t.distinct_room = true;
	struct window_group *a = get(&t, "a", &created, &evicted);
	struct window_group *b = get(&t, "b", &created, &evicted);
	for (int i = 0; i < 3; i++) {
		snprintf(v, sizeof(v), "v%d", i);
		struct window_item it = {i, v, strlen(v), 0, WINDOW_NONE};
		window_add(&a->win, &p, &it);
	}
	CHECK(a->win.vals == a->win.vals_inl);
	CHECK(a->win.buckets == a->win.buckets_inl);
	CHECK_INT(window_distinct(&a->win), 3);
	for (int i = 0; i < 100; i++) {
		/* values i % 40, one per ms: the window holds the last 10 */
		snprintf(v, sizeof(v), "value-%d", i % 40);
		struct window_item it = {i, v, strlen(v), 0, WINDOW_NONE};
		window_add(&b->win, &p, &it);
		if (i == 39)
			CHECK_INT(window_distinct(&b->win), 10);
	}
	CHECK_INT(window_count(&b->win), 10);
	CHECK_INT(window_distinct(&b->win), 10);
	CHECK(b->win.vals != b->win.vals_inl);
	CHECK(b->win.buckets != b->win.buckets_inl);
	window_groups_clear(&t);
	CHECK(t.distinct_room);
}

/* A miss in a full table reuses the evicted group's block when the new
 * key fits in it: the new group starts empty (nothing of the old window,
 * samples or distinct values left, its room in the block used again) and
 * the old key is gone; a key too long for the block gets a new one.
 * Under ASan this also checks that the old window's own allocations are
 * freed. */
static void test_group_block_reuse(void)
{
	struct window_params p = {100000, 1000, 100, 3, 0, 0, true};
	struct window_groups t;
	bool created, evicted;
	char v[16], *out[4];
	size_t n_nomem = 0;

	window_groups_init(&t, 2);
	t.evidence_sample = 3;
	t.distinct_room = true;
	struct window_group *a = get(&t, "aaaa", &created, &evicted);
	for (int i = 0; i < 20; i++) { /* ring and values leave the block */
		add_with_sample(a, &p, i);
		snprintf(v, sizeof(v), "v%d", i);
		struct window_item it = {1000 + i, v, strlen(v), 0,
					 WINDOW_NONE};
		window_add(&a->win, &p, &it);
	}
	CHECK(a->win.ring != a->win.ring_inl);
	CHECK(a->win.vals != a->win.vals_inl);
	get(&t, "bbbb", &created, &evicted);
	struct window_group *c = get(&t, "cc", &created, &evicted);
	CHECK(created && evicted);
	CHECK(c == a); /* "aaaa" was the least recently updated */
	CHECK(window_groups_find(&t, "aaaa", 4) == NULL);
	CHECK(window_groups_find(&t, "cc", 2) == c);
	CHECK_STR(c->values[0], "cc");
	CHECK_INT(c->key_len, 2);
	CHECK_INT(window_count(&c->win), 0);
	CHECK_INT(window_distinct(&c->win), 0);
	CHECK_INT(window_samples(&c->win, &p, out, 4, &n_nomem), 0);
	add_with_sample(c, &p, 7);
	CHECK(c->win.ring == c->win.ring_inl);
	CHECK(c->win.samples == c->win.samples_inl);
	CHECK_INT(window_samples(&c->win, &p, out, 4, &n_nomem), 1);
	CHECK_STR(out[0], "{\"i\":7}");

	/* "bbbb" goes; this key does not fit in its block */
	const char *big = "a key much longer than the four bytes of bbbb, "
			  "longer than any block rounding";
	struct window_group *d = get(&t, big, &created, &evicted);
	CHECK(created && evicted);
	CHECK(window_groups_find(&t, "bbbb", 4) == NULL);
	CHECK_STR(d->values[0], big);
	CHECK(window_groups_find(&t, big, strlen(big)) == d);
	CHECK_INT(t.n_groups, 2);

	/* a look-up with the hash computed first finds the same group */
	const char *vals[1] = {"cc"};
	size_t lens[1] = {2};
	window_groups_prefetch(&t, window_groups_hash("cc", 2));
	CHECK(window_groups_get_hashed(&t, "cc", 2, window_groups_hash("cc", 2),
				       vals, lens, 1, &created, &evicted) == c);
	CHECK(!created && !evicted);
	CHECK_INT(n_nomem, 0);
	window_groups_clear(&t);
}

int main(void)
{
	test_reference_model();
	test_boundary();
	test_lateness();
	test_caps();
	test_group_inline_room();
	test_group_distinct_room();
	test_group_block_reuse();
	test_closing_window();
	test_samples();
	test_groups();
	return check_done();
}
