/*
 * test_state: engine checkpoints.  A ruleset with every correlation type
 * (event_count, value_count, value_sum, value_avg, temporal,
 * temporal_ordered, a chained correlation, an lt condition evaluated at
 * window close), small limits so that eviction, overflow and distinct caps
 * happen, and a deterministic pseudo-random stream of a few thousand events
 * (several agents and customers, some late).  The reference is the alert
 * JSON of an uninterrupted run; every interrupted run — split at random
 * points through save_all/restore, or checkpointed every K events through
 * a real SQLite store with crashes at random events and a resume from the
 * last checkpoint — must produce exactly the same lines (ids, evidence and
 * all).  Also: rule keys follow definitions, transfer on reload, bad blobs
 * refused and counted, change tracking emits only what changed.
 */
#include "check.h"
#include "engine.h"
#include "rules.h"
#include "store.h"
#include "test_events.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RULES_HEAD                                                             \
	"title: View\nname: view\ndetection:\n  sel:\n    action: view\n"      \
	"  condition: sel\n---\n"                                              \
	"title: ID view\nname: idview\ndetection:\n  sel:\n"                   \
	"    action: view\n    object: id_document\n  condition: sel\n---\n"   \
	"title: Export\nname: export\ndetection:\n  sel:\n"                    \
	"    action: export\n  condition: sel\n---\n"                          \
	"title: Search\nname: search\ndetection:\n  sel:\n"                    \
	"    action: search\n  condition: sel\n---\n"                          \
	"title: Burst\nname: burst\ncorrelation:\n  type: event_count\n"       \
	"  rules: [view]\n  group-by: [agent]\n  timespan: 10m\n"              \
	"  condition:\n    gte: 5\n---\n"                                      \
	"title: Breadth\ncorrelation:\n  type: value_count\n"                  \
	"  rules: [view]\n  group-by: [agent]\n  timespan: 30m\n"              \
	"  condition:\n    field: customer\n    gte: 5\n---\n"                 \
	"title: Rows\ncorrelation:\n  type: value_sum\n  rules: [export]\n"    \
	"  group-by: [agent]\n  timespan: 1h\n"                                \
	"  condition:\n    field: rows\n    gte: 1000\n---\n"                  \
	"title: Wide\ncorrelation:\n  type: value_count\n"                     \
	"  rules: [view]\n  group-by: [agent]\n  timespan: 1h\n"               \
	"  condition:\n    field: customer\n    gte: 50\n---\n"                \
	"title: Avg\ncorrelation:\n  type: value_avg\n  rules: [search]\n"     \
	"  group-by: [agent, team]\n  timespan: 20m\n"                         \
	"  condition:\n    field: rows\n    gte: 80\n---\n"                    \
	"title: Search export\ncorrelation:\n  type: temporal\n"               \
	"  rules: [search, export]\n  group-by: [agent]\n  timespan: "         \
	"5m\n---\n"                                                            \
	"title: ID then export\ncorrelation:\n  type: temporal_ordered\n"      \
	"  rules: [idview, export]\n  group-by: [agent]\n  timespan: 10m\n"    \
	"---\n"                                                                \
	"title: Repeat bursts\ngenerate: true\ncorrelation:\n  type: "         \
	"event_count\n"                                                        \
	"  rules: [burst]\n  group-by: [agent]\n  timespan: 1h\n"              \
	"  condition:\n    gte: 2\n---\n"

#define QUIET(span)                                                            \
	"title: Quiet\ncorrelation:\n  type: event_count\n  rules: [view]\n"   \
	"  group-by: [customer]\n  timespan: " span "\n"                       \
	"  condition:\n    lt: 3\n"

/* ---- alerts as JSON lines ---- */

struct lines {
	char **v;
	size_t n, cap;
};

static void lines_push(struct lines *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = s;
}

static void lines_truncate(struct lines *l, size_t n)
{
	while (l->n > n)
		free(l->v[--l->n]);
}

static void lines_free(struct lines *l)
{
	lines_truncate(l, 0);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void on_alert(const struct alert *a, void *arg)
{
	lines_push(arg, alert_to_json(a));
}

/* Compares two runs; prints the first difference. */
static int lines_equal(const struct lines *a, const struct lines *b,
		       const char *what)
{
	for (size_t i = 0; i < a->n && i < b->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0) {
			fprintf(stderr, "%s: line %zu differs:\n  %s\n  %s\n",
				what, i, a->v[i], b->v[i]);
			return 0;
		}
	if (a->n != b->n)
		fprintf(stderr, "%s: %zu lines, want %zu\n", what, a->n, b->n);
	return a->n == b->n;
}

/* ---- the event stream ---- */

struct spec {
	int64_t ts_ms;
	char text[160];
};

#define N_EVENTS 3000
static struct spec stream[N_EVENTS];

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33) % n;
}

static void make_stream(void)
{
	static const char *const actions[] = {
	    "view", "view", "view", "view", "search", "export", "login"};
	static const char *const objects[] = {"profile", "id_document",
					      "balance", "contact"};
	int64_t ts = 1746000000000;

	rng_state = 42;
	for (int i = 0; i < N_EVENTS; i++) {
		ts += rnd(10000);
		int64_t t = ts;
		if (rnd(10) == 0)
			t -= rnd(90000); /* late, sometimes too late */
		const char *act = actions[rnd(7)];
		int n = snprintf(stream[i].text, sizeof(stream[i].text),
				 "agent=a%u action=%s object=%s customer=C%u",
				 rnd(8), act, objects[rnd(4)], rnd(30));
		if (strcmp(act, "view") != 0)
			n += snprintf(stream[i].text + n,
				      sizeof(stream[i].text) - (size_t)n,
				      " rows=%u.%u", rnd(200), rnd(4) * 25);
		if (rnd(3) != 0)
			snprintf(stream[i].text + n,
				 sizeof(stream[i].text) - (size_t)n,
				 " team=t%u", rnd(2));
		stream[i].ts_ms = t;
	}
}

/* Event i of the stream, source line i + 1 at offset i * 100. */
static const struct event *mkev(struct evbuf *b, const struct ruleset *rs,
				int i)
{
	return mkev_at(b, rs, stream[i].ts_ms, stream[i].text, (uint64_t)i + 1,
		       (uint64_t)i * 100);
}

static struct engine_limits limits(void)
{
	struct engine_limits lim;

	engine_limits_default(&lim);
	lim.max_groups = 7;	   /* 8 agents, 30 customers: evictions */
	lim.max_window_events = 9; /* overflow */
	lim.max_distinct = 7;	   /* distinct cap */
	lim.evidence_sample = 3;
	lim.max_lateness_ms = 60000;
	return lim;
}

static int process(struct engine *e, const struct ruleset *rs, int from, int to)
{
	struct evbuf b;
	int bad = 0;

	for (int i = from; i < to; i++)
		bad += engine_process(e, mkev(&b, rs, i)) != 0;
	return bad;
}

/* ---- the reference run ---- */

static struct lines reference;

static void run_reference(const struct ruleset *rs)
{
	struct engine_limits lim = limits();
	struct engine *e = engine_new(rs, &lim, on_alert, &reference);
	struct engine_stats st;

	CHECK_INT(process(e, rs, 0, N_EVENTS), 0);
	engine_finish(e);
	engine_get_stats(e, &st);
	engine_free(e);
	/* the stream must exercise what it claims to */
	CHECK(reference.n > 100);
	CHECK(st.n_groups_evicted > 0);
	CHECK(st.n_window_overflow > 0);
	CHECK(st.n_distinct_overflow > 0);
	CHECK(st.n_late_events > 0);
	static const char *const titles[] = {
	    "\"Burst\"",	 "\"Breadth\"",	      "\"Rows\"",
	    "\"Avg\"",		 "\"Search export\"", "\"ID then export\"",
	    "\"Repeat bursts\"", "\"Quiet\""};
	size_t n_ev = 0;
	for (size_t i = 0; i < reference.n; i++)
		n_ev += strstr(reference.v[i], "\"sample\":[{") != NULL;
	CHECK(n_ev > 100); /* evidence takes part in the comparisons */
	if (getenv("STATE_DUMP"))
		for (size_t i = 0; i < reference.n; i++)
			puts(reference.v[i]);
	for (size_t t = 0; t < sizeof(titles) / sizeof(*titles); t++) {
		size_t n = 0;
		for (size_t i = 0; i < reference.n; i++)
			n += strstr(reference.v[i], titles[t]) != NULL;
		if (n == 0)
			fprintf(stderr, "no alert of %s\n", titles[t]);
		CHECK(n > 0);
	}
}

/* ---- split through save_all -> restore (in memory) ---- */

static int restore_into(void *arg, const char *rk, const void *gk, size_t gl,
			const void *blob, size_t bl)
{
	if (blob == NULL)
		return 0; /* deletion: nothing to delete in a new engine */
	return engine_restore_group(arg, rk, gk, gl, blob, bl) == 1 ? 0 : -1;
}

static void test_splits(const struct ruleset *rs)
{
	struct engine_limits lim = limits();
	int ok = 0, n_runs = 40;

	rng_state = 7;
	for (int run = 0; run < n_runs; run++) {
		struct lines got = {0};
		int split = (int)rnd(N_EVENTS + 1);
		struct engine *a = engine_new(rs, &lim, on_alert, &got);
		process(a, rs, 0, split);
		struct engine *b = engine_new(rs, &lim, on_alert, &got);
		int rc = engine_save_all(a, restore_into, b);
		engine_free(a);
		process(b, rs, split, N_EVENTS);
		engine_finish(b);
		struct engine_stats st;
		engine_get_stats(b, &st);
		engine_free(b);
		if (rc == 0 && st.n_state_rejected == 0 &&
		    lines_equal(&got, &reference, "split"))
			ok++;
		else
			fprintf(stderr, "split at %d failed\n", split);
		lines_free(&got);
	}
	CHECK_INT(ok, n_runs);
}

/* ---- checkpoints through a SQLite store, crashes, resume ---- */

static int put_row(void *arg, const char *rk, const void *gk, size_t gl,
		   const void *blob, size_t bl)
{
	return store_state_put(arg, rk, gk, gl, blob, bl);
}

struct restore_ctx {
	struct engine *e;
	int n_bad;
};

static int load_row(void *arg, const char *rk, const void *gk, size_t gl,
		    const void *blob, size_t bl)
{
	struct restore_ctx *c = arg;

	if (engine_restore_group(c->e, rk, gk, gl, blob, bl) != 1)
		c->n_bad++;
	return 0;
}

/* Saves every k events; crashes (frees the engine, drops the alerts not
 * committed) at random events; resumes from the checkpoint. */
static int crash_run(const struct ruleset *rs, const char *path, int k,
		     int crash_every, size_t *n_emitted, int *n_crashes)
{
	struct engine_limits lim = limits();
	struct lines got = {0};
	char err[256];
	size_t committed = 0;
	int next = 0, checkpoint = 0, bad = 0;

	unlink(path);
	struct store *s = store_open(path, err, sizeof(err));
	struct engine *e = engine_new(rs, &lim, on_alert, &got);
	*n_emitted = 0;
	while (s && next < N_EVENTS) {
		process(e, rs, next, next + 1);
		next++;
		if (next % k == 0 || next == N_EVENTS) {
			/* alerts and state in one transaction */
			if (store_begin(s) < 0 ||
			    engine_save_changes(e, put_row, s) < 0 ||
			    store_commit(s) < 0)
				bad++;
			committed = got.n;
			checkpoint = next;
		} else if (rnd((uint32_t)crash_every) == 0) {
			(*n_crashes)++;
			*n_emitted += got.n - committed;
			lines_truncate(&got, committed);
			engine_free(e);
			store_close(s);
			s = store_open(path, err, sizeof(err));
			e = engine_new(rs, &lim, on_alert, &got);
			struct restore_ctx c = {e, 0};
			if (s == NULL || store_state_load(s, load_row, &c) < 0)
				bad++;
			bad += c.n_bad;
			next = checkpoint;
		}
	}
	engine_finish(e);
	engine_free(e);
	store_close(s);
	int equal = lines_equal(&got, &reference, "crash run");
	lines_free(&got);
	return bad == 0 && equal;
}

static void test_crashes(const struct ruleset *rs)
{
	char path[] = "/tmp/custos-test-state-XXXXXX";
	char db[64];
	static const int ks[] = {1, 7, 50, 333};
	int n_crashes = 0;
	size_t redone = 0, n;

	if (mkdtemp(path) == NULL)
		return;
	snprintf(db, sizeof(db), "%s/state.db", path);
	rng_state = 99;
	for (size_t i = 0; i < sizeof(ks) / sizeof(*ks); i++) {
		CHECK(crash_run(rs, db, ks[i], 150, &n, &n_crashes));
		redone += n;
	}
	/* the test did crash, and alerts were lost and made again */
	CHECK(n_crashes > 20);
	CHECK(redone > 0);
	char f[80];
	static const char *const sfx[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(f, sizeof(f), "%s%s", db, sfx[i]);
		unlink(f);
	}
	CHECK_INT(rmdir(path), 0);
}

/* ---- change tracking ---- */

struct counting {
	int n_put, n_del, n_scalars;
	char rule_key[16][128];
	int n_keys;
};

static int count_row(void *arg, const char *rk, const void *gk, size_t gl,
		     const void *blob, size_t bl)
{
	struct counting *c = arg;
	int known = 0;

	if (rk[0] == '\0')
		c->n_scalars++;
	else if (blob)
		c->n_put++;
	else
		c->n_del++;
	for (int i = 0; i < c->n_keys; i++)
		known |= strcmp(c->rule_key[i], rk) == 0;
	if (!known && rk[0] && c->n_keys < 16)
		snprintf(c->rule_key[c->n_keys++], 128, "%s", rk);
	return 0;
}

static void test_tracking(void)
{
	struct ruleset *rs = load(RULES_HEAD QUIET("15m"));
	struct lines got = {0};
	struct counting c = {0};
	struct evbuf b;

	if (!rs)
		return;
	struct engine_limits lim = limits();
	struct engine *e = engine_new(rs, &lim, on_alert, &got);
	process(e, rs, 0, 200);
	struct engine_stats st;
	engine_get_stats(e, &st);
	/* the first save is a full snapshot */
	CHECK_INT(engine_save_changes(e, count_row, &c), 0);
	CHECK_INT(c.n_put, (int)st.n_groups);
	CHECK_INT(c.n_scalars, 1);
	CHECK_INT(c.n_del, 0);
	/* nothing changed: only the scalars */
	c = (struct counting){0};
	CHECK_INT(engine_save_changes(e, count_row, &c), 0);
	CHECK_INT(c.n_put + c.n_del, 0);
	CHECK_INT(c.n_scalars, 1);
	/* one view touches one group of Burst, Breadth, Wide and Quiet
	 * (each may also evict or fire one), and Repeat bursts; a group
	 * that fires is deleted, not written */
	struct event *ev = (struct event *)mkev(&b, rs, 200);
	ev->ts_ms = stream[199].ts_ms;
	engine_process(e, ev);
	c = (struct counting){0};
	CHECK_INT(engine_save_changes(e, count_row, &c), 0);
	CHECK(c.n_put + c.n_del >= 1 && c.n_put <= 5 && c.n_del <= 5);
	if (c.n_put + c.n_del < 1 || c.n_put > 5 || c.n_del > 5)
		fprintf(stderr, "put %d del %d\n", c.n_put, c.n_del);
	c = (struct counting){0};
	process(e, rs, 201, 400);
	CHECK_INT(engine_save_changes(e, count_row, &c), 0);
	CHECK(c.n_del > 0); /* fired and evicted groups are deleted */
	CHECK(c.n_keys >= 5);
	engine_free(e);
	lines_free(&got);
	ruleset_free(rs);
}

static int fail_second(void *arg, const char *rk, const void *gk, size_t gl,
		       const void *blob, size_t bl)
{
	int *n = arg;

	return ++*n == 2 ? -1 : 0;
}

static void test_save_failure(const struct ruleset *rs)
{
	struct engine_limits lim = limits();
	struct lines got = {0};
	struct engine *e = engine_new(rs, &lim, on_alert, &got);
	struct counting c = {0};
	int n = 0;

	engine_save_all(e, count_row, &c); /* start tracking */
	process(e, rs, 0, 100);
	CHECK_INT(engine_save_changes(e, fail_second, &n), -1);
	c = (struct counting){0};
	CHECK_INT(engine_save_changes(e, count_row, &c), 0);
	struct engine_stats st;
	engine_get_stats(e, &st);
	CHECK(c.n_put >= (int)st.n_groups); /* nothing was lost */
	engine_free(e);
	lines_free(&got);
}

/* ---- bad blobs ---- */

struct grab {
	char rk[128];
	unsigned char gk[128], blob[4096];
	size_t gl, bl;
	int have;
};

static int grab_group(void *arg, const char *rk, const void *gk, size_t gl,
		      const void *blob, size_t bl)
{
	struct grab *g = arg;

	if (g->have || rk[0] == '\0' || blob == NULL || gl > 128 || bl > 4096)
		return 0;
	snprintf(g->rk, sizeof(g->rk), "%s", rk);
	memcpy(g->gk, gk, gl);
	memcpy(g->blob, blob, bl);
	g->gl = gl;
	g->bl = bl;
	g->have = 1;
	return 0;
}

static void test_bad_blobs(const struct ruleset *rs)
{
	struct engine_limits lim = limits();
	struct engine *e = engine_new(rs, &lim, NULL, NULL);
	struct engine *f = engine_new(rs, &lim, NULL, NULL);
	struct grab g = {0};
	unsigned char buf[4096];
	struct engine_stats st;

	process(e, rs, 0, 300);
	engine_save_all(e, grab_group, &g);
	CHECK(g.have);
	CHECK_INT(engine_restore_group(f, g.rk, g.gk, g.gl, g.blob, g.bl), 1);
	CHECK_INT(
	    engine_restore_group(f, "nosuch:00", g.gk, g.gl, g.blob, g.bl), 0);
	int rejected = 0;
	for (size_t i = 0; i < g.bl; i++) {
		memcpy(buf, g.blob, g.bl);
		buf[i] ^= 0x10;
		rejected +=
		    engine_restore_group(f, g.rk, g.gk, g.gl, buf, g.bl) == -1;
	}
	CHECK_INT(rejected, (int)g.bl); /* every flip is caught */
	for (size_t len = 0; len < g.bl; len++)
		CHECK_INT(
		    engine_restore_group(f, g.rk, g.gk, g.gl, g.blob, len), -1);
	/* a valid blob under another group key */
	CHECK_INT(engine_restore_group(f, g.rk, "1:x", 3, g.blob, g.bl), -1);
	/* a group blob as scalars */
	CHECK_INT(engine_restore_group(f, "", "", 0, g.blob, g.bl), -1);
	CHECK_INT(engine_restore_group(f, g.rk, NULL, 0, NULL, 0), -1);
	engine_get_stats(f, &st);
	CHECK_INT(st.n_state_rejected, 2 * g.bl + 3);
	engine_free(e);
	engine_free(f);
}

/* ---- rule keys and reload ---- */

struct keyed {
	struct engine *e;
	int n_ok, n_stale, n_bad;
};

static int restore_count(void *arg, const char *rk, const void *gk, size_t gl,
			 const void *blob, size_t bl)
{
	struct keyed *k = arg;
	int rc = engine_restore_group(k->e, rk, gk, gl, blob, bl);

	if (blob == NULL)
		return 0;
	k->n_ok += rc == 1;
	k->n_stale += rc == 0;
	k->n_bad += rc < 0;
	return 0;
}

static size_t groups_of(struct engine *e)
{
	struct engine_stats st;

	engine_get_stats(e, &st);
	return st.n_groups;
}

static void test_rule_keys_and_transfer(const struct ruleset *rs)
{
	struct ruleset *changed = load(RULES_HEAD QUIET("16m"));
	struct ruleset *det = load(RULES_HEAD QUIET("15m"));
	struct engine_limits lim = limits();

	if (!changed || !det)
		goto done;
	/* Quiet's groups are those keyed by customer ("C..."): with 15m vs
	 * 16m they are stale, every other group restores */
	struct engine *a = engine_new(rs, &lim, NULL, NULL);
	process(a, rs, 0, 500);
	struct keyed k = {engine_new(changed, &lim, NULL, NULL), 0, 0, 0};
	engine_save_all(a, restore_count, &k);
	CHECK(k.n_stale > 0);
	CHECK(k.n_ok > 0);
	CHECK_INT(k.n_bad, 0);
	CHECK_INT(groups_of(k.e), groups_of(a) - (size_t)k.n_stale);
	engine_free(k.e);
	/* same text, same keys */
	k = (struct keyed){engine_new(det, &lim, NULL, NULL), 0, 0, 0};
	engine_save_all(a, restore_count, &k);
	CHECK_INT(k.n_stale, 0);
	CHECK_INT((size_t)k.n_ok, groups_of(a) + 1); /* + scalars */
	engine_free(k.e);

	/* transfer: unchanged rules keep their windows, Quiet's go */
	size_t before = groups_of(a);
	struct engine *b = engine_new(changed, &lim, NULL, NULL);
	CHECK_INT(engine_transfer(a, b), 0);
	CHECK_INT(groups_of(a), 0);
	CHECK(groups_of(b) > 0 && groups_of(b) < before);
	engine_free(a);
	engine_free(b);

	/* transfer to the same rules: the rest of the run is unchanged */
	struct lines got = {0};
	a = engine_new(rs, &lim, on_alert, &got);
	process(a, rs, 0, 1500);
	b = engine_new(det, &lim, on_alert, &got);
	CHECK_INT(engine_transfer(a, b), 0);
	engine_free(a);
	process(b, det, 1500, N_EVENTS);
	engine_finish(b);
	CHECK(lines_equal(&got, &reference, "transfer"));
	engine_free(b);
	lines_free(&got);

	/* other limits: groups are re-read under them */
	struct engine_limits lim2 = lim;
	lim2.evidence_sample = 5;
	a = engine_new(rs, &lim, NULL, NULL);
	process(a, rs, 0, 500);
	before = groups_of(a);
	b = engine_new(det, &lim2, NULL, NULL);
	CHECK_INT(engine_transfer(a, b), 0);
	CHECK_INT(groups_of(b), before);
	engine_free(a);
	engine_free(b);
done:
	ruleset_free(changed);
	ruleset_free(det);
}

/* A changed detection changes the key of the correlations over it. */
static void test_detection_change(const struct ruleset *rs)
{
	static const char text[] = RULES_HEAD QUIET("15m");
	char *alt = strdup(text);
	char *at = strstr(alt, "action: search");
	struct engine_limits lim = limits();

	memcpy(at, "action: sEarch", 14);
	struct ruleset *rs2 = load(alt);
	free(alt);
	if (!rs2)
		return;
	struct engine *a = engine_new(rs, &lim, NULL, NULL);
	process(a, rs, 0, 800);
	struct keyed k = {engine_new(rs2, &lim, NULL, NULL), 0, 0, 0};
	engine_save_all(a, restore_count, &k);
	/* Avg and Search export are over `search`: gone; the rest stay */
	CHECK(k.n_stale > 0);
	CHECK(k.n_ok > 0);
	CHECK_INT(k.n_bad, 0);
	engine_free(k.e);
	engine_free(a);
	ruleset_free(rs2);
}

int main(void)
{
	struct ruleset *rs = load(RULES_HEAD QUIET("15m"));

	CHECK(rs != NULL);
	if (rs == NULL)
		return check_done();
	make_stream();
	run_reference(rs);
	test_splits(rs);
	test_crashes(rs);
	test_tracking();
	test_save_failure(rs);
	test_bad_blobs(rs);
	test_rule_keys_and_transfer(rs);
	test_detection_change(rs);
	lines_free(&reference);
	ruleset_free(rs);
	return check_done();
}
