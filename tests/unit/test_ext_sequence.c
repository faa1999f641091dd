/*
 * test_ext_sequence: the `custos: sequence:` extension — ext_sequence
 * directly (ids, runs, gap, direction, timespan, bounds, save/restore) and
 * through the engine (a rule from YAML, its alerts, a checkpoint round
 * trip, lint errors).
 */
#include "check.h"
#include "engine.h"
#include "ext_sequence.h"
#include "rules.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_harness.h"
#include "saved_groups.h"

#define MIN_MS INT64_C(60000)
#define T0 1742169600 /* 2025-03-17T00:00:00Z */

static const struct ext_seq_params P = {3, 10, 60 * MIN_MS};

/* One view of "c-<id>" by agent at minute m; true when it reports. */
static bool view(struct ext_sequence *s, const char *agent, int64_t id,
		 int64_t m)
{
	char c[32];

	snprintf(c, sizeof(c), "c-%lld", (long long)id);
	return ext_sequence_step(s, "r", agent, strlen(agent), c, strlen(c),
				 m * MIN_MS, &P);
}

/* Views ids first, first+step, ... (n of them) one minute apart from
 * minute m; returns how many reported. */
static int walk(struct ext_sequence *s, const char *agent, int64_t first,
		int64_t step, int n, int64_t m, int64_t every)
{
	int fired = 0;

	for (int i = 0; i < n; i++)
		fired += view(s, agent, first + step * i, m + every * i);
	return fired;
}

static void test_parse_id(void)
{
	int64_t id;
	uint32_t p1, p2;

	CHECK_INT(ext_sequence_parse_id("c-100234", 8, &id, &p1), 0);
	CHECK(id == 100234);
	CHECK_INT(ext_sequence_parse_id("c-100235", 8, &id, &p2), 0);
	CHECK(p1 == p2);
	CHECK_INT(ext_sequence_parse_id("C0000012", 8, &id, &p2), 0);
	CHECK(id == 12 && p1 != p2);
	CHECK_INT(ext_sequence_parse_id("garcia", 6, &id, &p1), -1);
	CHECK_INT(ext_sequence_parse_id("", 0, &id, &p1), -1);
	CHECK_INT(ext_sequence_parse_id("1234567890123456789", 19, &id, &p1),
		  -1);
	CHECK_INT(ext_sequence_parse_id("123456789012345678", 18, &id, &p1), 0);
	CHECK(id == INT64_C(123456789012345678));
}

static void test_runs(void)
{
	struct ext_sequence *s = ext_sequence_new(100);

	/* ten consecutive ids report once, at the tenth */
	CHECK_INT(walk(s, "a", 1000, 1, 9, 0, 1), 0);
	CHECK(view(s, "a", 1009, 9));
	CHECK(!view(s, "a", 1010, 10));
	/* nine never do; another agent's run is its own */
	CHECK_INT(walk(s, "b", 1000, 1, 9, 0, 1), 0);
	/* steps of 3 (the gap) form a run, steps of 4 do not */
	CHECK_INT(walk(s, "c", 5000, 3, 10, 0, 1), 1);
	CHECK_INT(walk(s, "d", 5000, 4, 12, 0, 1), 0);
	/* downwards too; a zigzag (+1, -1, ...) is no run */
	CHECK_INT(walk(s, "e", 9000, -1, 10, 0, 1), 1);
	int zig = 0;
	for (int i = 0; i < 20; i++)
		zig += view(s, "f", 7000 + (i % 2), i);
	CHECK_INT(zig, 0);
	/* the same customer again (another object) does not lengthen it */
	int same = 0;
	for (int i = 0; i < 9; i++) {
		same += view(s, "g", 300 + i, 2 * i);
		same += view(s, "g", 300 + i, 2 * i + 1);
	}
	CHECK_INT(same, 0);
	CHECK(view(s, "g", 309, 20));
	CHECK_INT((int)ext_sequence_cap_hits(s), 0);
	ext_sequence_free(s);
}

static void test_interleaved_and_prefix(void)
{
	struct ext_sequence *s = ext_sequence_new(10);
	int fired = 0;

	/* ticket work on unrelated ids between the steps of the run */
	for (int i = 0; i < 10; i++) {
		fired += view(s, "a", 200 + i, 3 * i);
		fired += view(s, "a", 900000 + 7919 * i, 3 * i + 1);
		fired += view(s, "a", 500000 - 4999 * i, 3 * i + 2);
	}
	CHECK_INT(fired, 1);
	/* the same digits under another prefix are another id space */
	fired = 0;
	for (int i = 0; i < 10; i++) {
		char c[16];
		snprintf(c, sizeof(c), "%s%d", i % 2 ? "x-" : "y-", 40 + i);
		fired += ext_sequence_step(s, "r", "b", 1, c, strlen(c),
					   i * MIN_MS, &P);
	}
	CHECK_INT(fired, 0);
	ext_sequence_free(s);
}

static void test_timespan(void)
{
	struct ext_sequence *s = ext_sequence_new(10);

	/* 10 views 6 minutes apart: 54 minutes, within the hour */
	CHECK_INT(walk(s, "a", 100, 1, 10, 0, 6), 1);
	/* 7 minutes apart: 63 minutes from the first; the run restarts when
	 * its first view is older than the timespan */
	CHECK_INT(walk(s, "b", 100, 1, 10, 0, 7), 0);
	/* but keeps going from there: 10 more within the hour report */
	CHECK_INT(walk(s, "b", 110, 1, 10, 70, 1), 1);
	ext_sequence_free(s);
}

static void test_bounds(void)
{
	struct ext_sequence *s = ext_sequence_new(2);

	/* EXT_SEQ_MAX_RUNS runs of two, then single views: a single view
	 * evicts the oldest run of two (counted) ... */
	for (int i = 0; i < EXT_SEQ_MAX_RUNS; i++)
		walk(s, "a", 10000 * (i + 1), 1, 2, 0, 0);
	CHECK_INT((int)ext_sequence_cap_hits(s), 0);
	view(s, "a", 999999, 1);
	CHECK_INT((int)ext_sequence_cap_hits(s), 1);
	/* ... while single views evict single views (not counted) */
	for (int i = 0; i < 50; i++)
		view(s, "a", 2000000 + 1000 * i, 2);
	CHECK_INT((int)ext_sequence_cap_hits(s), 1);
	/* two keys at most: a third agent is refused and counted */
	view(s, "b", 1, 3);
	CHECK(!view(s, "c", 1, 3));
	CHECK_INT((int)ext_sequence_cap_hits(s), 2);
	CHECK_INT((int)ext_sequence_n_keys(s), 2);
	/* once the others' runs expired, their keys make room */
	CHECK_INT(walk(s, "c", 1, 1, 10, 200, 1), 1);
	CHECK_INT((int)ext_sequence_cap_hits(s), 2);
	ext_sequence_free(s);
}

/* ---- checkpoints ---- */

static void test_save_restore(void)
{
	struct ext_sequence *s = ext_sequence_new(10), *t;

	walk(s, "a", 100, 1, 6, 0, 1);
	CHECK_INT(ext_sequence_save(s, false, save_fn, NULL), 0);
	CHECK_INT((int)n_saved, 1);
	CHECK_STR(saved[0].rk, "custos:sequence");
	CHECK(saved[0].key_len == 3 && memcmp(saved[0].key, "r\0a", 3) == 0);
	/* nothing changed since: nothing to save */
	CHECK_INT(ext_sequence_save(s, false, save_fn, NULL), 0);
	CHECK_INT((int)n_saved, 1);
	t = ext_sequence_new(10);
	CHECK_INT(ext_sequence_restore(t, saved[0].key, saved[0].key_len,
				       saved[0].blob, saved[0].len),
		  1);
	/* the restored run goes on: views 7..10 report at the tenth */
	CHECK_INT(walk(t, "a", 106, 1, 3, 6, 1), 0);
	CHECK(view(t, "a", 109, 9));
	/* a corrupted or truncated blob is refused */
	saved[0].blob[saved[0].len / 2] ^= 0x55;
	CHECK_INT(ext_sequence_restore(t, saved[0].key, saved[0].key_len,
				       saved[0].blob, saved[0].len),
		  -1);
	CHECK_INT(ext_sequence_restore(t, saved[0].key, saved[0].key_len,
				       saved[0].blob, 2),
		  -1);
	free_saved();
	/* a saved key swept later is deleted at the next save */
	struct ext_sequence *u = ext_sequence_new(1);
	view(u, "a", 1, 0);
	CHECK_INT(ext_sequence_save(u, true, save_fn, NULL), 0);
	view(u, "b", 1, 500); /* full: a's key has expired and goes */
	CHECK_INT(ext_sequence_save(u, false, save_fn, NULL), 0);
	CHECK_INT((int)n_saved, 3);
	CHECK(saved[1].blob == NULL && saved[1].key_len == 3 &&
	      memcmp(saved[1].key, "r\0a", 3) == 0);
	CHECK(saved[2].blob != NULL && memcmp(saved[2].key, "r\0b", 3) == 0);
	free_saved();
	ext_sequence_free(u);
	ext_sequence_free(t);
	ext_sequence_free(s);
}

/* ---- through the engine ---- */

#define SEQ_RULE                                                               \
	"title: S\nid: seq-1\ndetection:\n  sel:\n    action: view\n"          \
	"  condition: sel\ncustos:\n  sequence:\n    gap: 2\n"                 \
	"    min_run: 5\n    timespan: 30m\n"

static void feed_view(struct engine *e, const struct ruleset *rs, int64_t ts,
		      const char *agent, int id)
{
	char spec[128];

	snprintf(spec, sizeof(spec), "agent=%s action=view customer=C%07d",
		 agent, id);
	feed(e, rs, ts, spec);
}

static void test_engine(void)
{
	struct ruleset *rs = load(SEQ_RULE);
	struct engine *e;

	CHECK(rs != NULL);
	if (rs == NULL)
		return;
	e = start(rs, NULL);
	for (int i = 0; i < 7; i++)
		feed_view(e, rs, T0 + 60 * i, "a", 100 + 2 * i);
	feed(e, rs, T0 + 500, "agent=a action=search query=x");
	CHECK_INT((int)n_alerts, 1);
	CHECK_ALERT(0, "S", T0 + 240, "", 1);
	/* b: three views, a checkpoint, a restart, two more */
	for (int i = 0; i < 3; i++)
		feed_view(e, rs, T0 + 60 * i, "b", 50 - i);
	n_saved = 0;
	CHECK_INT(engine_save_all(e, save_fn, NULL), 0);
	engine_free(e);
	e = start(rs, NULL);
	/* (seq-1, a) and (seq-1, b) */
	CHECK_INT(restore_saved(e, "custos:sequence"), 2);
	feed_view(e, rs, T0 + 180, "b", 47);
	CHECK_INT((int)n_alerts, 0);
	feed_view(e, rs, T0 + 240, "b", 46);
	CHECK_INT((int)n_alerts, 1);
	CHECK_ALERT(0, "S", T0 + 240, "", 1);
	free_saved();
	engine_free(e);
	ruleset_free(rs);
}

static void test_lint(void)
{
	lint_case(VIEW_RULE "custos:\n  sequence:\n    min_runs: 5\n",
		  "t.yml:9:5: custos: unknown key 'min_runs' in 'sequence' "
		  "(did you mean 'min_run'?)");
	lint_case(VIEW_RULE "custos:\n  sequence:\n    gap: 0\n",
		  "t.yml:9:10: custos: 'gap' must be a number from 1 to 1000");
	lint_case(VIEW_RULE "custos:\n  sequence:\n    min_run: 2.5\n",
		  "t.yml:9:5: custos: sequence 'gap' and 'min_run' are whole");
	lint_case(VIEW_RULE "custos:\n  sequence:\n    timespan: 1w\n",
		  "t.yml:9:15: custos: 'timespan' must be a duration");
	lint_case(VIEW_RULE "custos:\n  sequence: [3]\n",
		  "t.yml:8:13: custos: 'sequence' must be a mapping");
	lint_case(VIEW_RULE CORR("C",
				 "  type: event_count\n  rules: [view]\n"
				 "  timespan: 1h\n  condition:\n"
				 "    gte: 1\ncustos:\n  sequence: true\n"),
		  "custos: 'sequence' applies to detection rules only");
}

int main(void)
{
	test_parse_id();
	test_runs();
	test_interleaved_and_prefix();
	test_timespan();
	test_bounds();
	test_save_restore();
	test_engine();
	test_lint();
	return check_done();
}
