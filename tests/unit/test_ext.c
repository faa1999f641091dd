/*
 * test_ext: the custos rule extensions (ext_rule, ext_state, ext_map)
 * through the engine: rules from YAML text, hand-built events, the exact
 * alerts raised: require_ticket, suppress, first_seen, off_shift, the
 * self baseline, risk accumulation, state save/restore, lint errors.
 */
#include "check.h"
#include "engine.h"
#include "rules.h"
#include "ext_map.h"
#include "ext_state.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- collecting alerts ---- */

#include "engine_harness.h"
#include "saved_groups.h"

/* ---- the cases ---- */
#define H 3600
#define DAY 86400
#define T0 1742169600 /* 2025-03-17T00:00:00Z */

static void test_map(void)
{
	struct ext_map m;
	int created, full;
	char k[16];

	ext_map_init(&m, 100);
	for (int i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		struct ext_map_entry *en =
		    ext_map_put(&m, k, strlen(k), &created, &full);
		CHECK(en && created);
		en->num = i;
	}
	CHECK(ext_map_put(&m, "x", 1, &created, &full) == NULL && full);
	CHECK(ext_map_find(&m, "k42", 3)->num == 42);
	CHECK(ext_map_put(&m, "k42", 3, &created, &full) && !created);
	struct ext_map_entry *en;
	size_t i = 0, n = 0;
	CHECK_INT((int)m.n, 100);
	ext_map_del(&m, ext_map_find(&m, "k7", 2));
	CHECK(ext_map_find(&m, "k7", 2) == NULL);
	CHECK(ext_map_find(&m, "k8", 2)->num == 8);
	CHECK(ext_map_put(&m, "x", 1, &created, &full) != NULL && created);
	while ((en = ext_map_next(&m, &i)) != NULL)
		n++;
	CHECK_INT((int)n, 100);
	ext_map_clear(&m);
}

static int below(struct ext_map_entry *en, void *arg)
{
	return en->num < *(int64_t *)arg;
}

static void test_map_sweep(void)
{
	struct ext_map m;
	int created, full;
	char k[16];
	int64_t cut = 500;

	ext_map_init(&m, 5000);
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "c%d", i * 7919 % 1000);
		ext_map_put(&m, k, strlen(k), &created, &full)->num =
		    i * 7919 % 1000;
	}
	CHECK_INT((int)ext_map_sweep(&m, below, &cut), 500);
	CHECK_INT((int)m.n, 500);
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "c%d", i);
		CHECK((ext_map_find(&m, k, strlen(k)) != NULL) == (i >= 500));
	}
	ext_map_clear(&m);
}

/* Key i: its 4 bytes (NUL bytes for small i), then letters; 4..39 bytes,
 * around EXT_MAP_KEY_INLINE. */
static size_t map_key(int i, char *k)
{
	size_t len = 4 + (size_t)(i % 36);

	memcpy(k, &i, 4);
	for (size_t j = 4; j < len; j++)
		k[j] = (char)('a' + (i + (int)j) % 26);
	return len;
}

/* Keys keep their bytes (inline or not) while the table grows and
 * deletions shift entries. */
static void test_map_keys(void)
{
	struct ext_map m;
	int created, full;
	char k[64];

	ext_map_init(&m, 1000);
	for (int i = 0; i < 600; i++) {
		struct ext_map_entry *en =
		    ext_map_put(&m, k, map_key(i, k), &created, &full);
		CHECK(en && created);
		if (en)
			en->num = i;
	}
	for (int i = 0; i < 600; i += 2)
		ext_map_del(&m, ext_map_find(&m, k, map_key(i, k)));
	CHECK_INT((int)m.n, 300);
	size_t i = 0, n = 0;
	struct ext_map_entry *en;
	while ((en = ext_map_next(&m, &i)) != NULL) {
		size_t len = map_key((int)en->num, k);
		CHECK(en->num % 2 == 1 && en->key_len == len);
		CHECK(memcmp(ext_map_key(en), k, len) == 0);
		CHECK(ext_map_key(en)[len] == '\0');
		CHECK(ext_map_find(&m, k, len) == en);
		n++;
	}
	CHECK_INT((int)n, 300);
	ext_map_clear(&m);
	ext_map_clear(&m); /* cleared twice: no double free */
}

static void test_stats(void)
{
	double v[] = {5, 1, 3, 100, 4};
	double med = ext_median(v, 5);
	CHECK(med == 4);
	CHECK(ext_mad(v, 5, med) == 1); /* |1-4|,|3-4|,0,1,96 -> 1 */
	double q[100];
	for (int i = 0; i < 100; i++)
		q[i] = 100 - i;
	CHECK(ext_quantile(q, 100, 0.99) == 99);
}

#define UNJUST                                                                 \
	"title: U\nname: u\ndetection:\n  sel:\n    action: view\n"            \
	"  condition: sel\ncustos:\n  require_ticket:\n    window: 24h\n"

static void test_require_ticket(void)
{
	struct ruleset *rs = load(UNJUST);
	struct engine *e = start(rs, NULL);

	/* no assignment in the stream yet: nothing can be judged */
	feed(e, rs, T0, "agent=a action=view customer=C0");
	CHECK_INT((int)n_alerts, 0);
	feed(e, rs, T0 + 10,
	     "agent=a action=ticket_assign customer=C1 ticket=T1");
	feed(e, rs, T0 + 20, "agent=a action=view customer=C1 ticket=T1");
	CHECK_INT((int)n_alerts, 0);
	/* a colleague's ticket id does not justify */
	feed(e, rs, T0 + 30, "agent=b action=view customer=C1 ticket=T1");
	CHECK_ALERT(0, "U", T0 + 30, "", 1);
	/* another customer of the same agent */
	feed(e, rs, T0 + 40, "agent=a action=view customer=C2 ticket=T1");
	CHECK_INT((int)n_alerts, 2);
	/* the assignment expires after 24 h */
	feed(e, rs, T0 + 10 + 24 * H, "agent=a action=view customer=C1");
	CHECK_INT((int)n_alerts, 2);
	feed(e, rs, T0 + 11 + 24 * H,
	     "agent=c action=ticket_assign customer=C9");
	feed(e, rs, T0 + 12 + 24 * H, "agent=a action=view customer=C1");
	CHECK_INT((int)n_alerts, 3);
	engine_free(e);
	ruleset_free(rs);
}

static void test_suppress(void)
{
	struct ruleset *rs = load(VIEW_RULE CORR(
	    "S", "  type: event_count\n  rules: [view]\n  group-by: [agent]\n"
		 "  timespan: 10m\n  condition:\n    gte: 2\n"
		 "custos:\n  suppress: 1h\n"));
	struct engine *e = start(rs, NULL);
	struct engine_stats st;

	for (int i = 0; i < 10; i++) /* 5 firings within 50 min */
		feed(e, rs, T0 + i * 300, "agent=a action=view");
	CHECK_INT((int)n_alerts, 1);
	CHECK_ALERT(0, "S", T0 + 300, "agent=a", 2);
	/* another group is not suppressed */
	feed(e, rs, T0 + 3000, "agent=b action=view");
	feed(e, rs, T0 + 3001, "agent=b action=view");
	CHECK_INT((int)n_alerts, 2);
	/* an hour after the first alert, a again */
	feed(e, rs, T0 + 300 + H, "agent=a action=view");
	feed(e, rs, T0 + 301 + H, "agent=a action=view");
	CHECK_INT((int)n_alerts, 3);
	engine_get_stats(e, &st);
	CHECK_INT((int)st.n_suppressed, 4);
	engine_free(e);
	ruleset_free(rs);
}

static void test_first_seen(void)
{
	struct ruleset *rs =
	    load("title: F\ndetection:\n  sel:\n    action: export\n"
		 "  condition: sel\ncustos:\n  first_seen:\n    by: [action]\n"
		 "    horizon: 30d\n    min_history: 7d\n");
	struct engine *e = start(rs, NULL);

	feed(e, rs, T0, "agent=a action=view");
	feed(e, rs, T0 + 3 * DAY, "agent=a action=export"); /* too early */
	feed(e, rs, T0, "agent=b action=view");
	feed(e, rs, T0 + 8 * DAY, "agent=b action=export");
	feed(e, rs, T0 + 9 * DAY, "agent=b action=export");  /* seen */
	feed(e, rs, T0 + 12 * DAY, "agent=a action=export"); /* seen */
	CHECK_INT((int)n_alerts, 1);
	CHECK_ALERT(0, "F", T0 + 8 * DAY, "", 1);
	/* 30 days later it is new again */
	feed(e, rs, T0 + 40 * DAY, "agent=b action=export");
	CHECK_INT((int)n_alerts, 2);
	engine_free(e);
	ruleset_free(rs);
}

#define OFFSHIFT                                                               \
	"title: O\ndetection:\n  sel:\n    action: view\n  condition: sel\n"   \
	"custos:\n  off_shift:\n    margin: 60m\n    days: 14\n"               \
	"    min_days: 5\n"

static void test_off_shift(void)
{
	struct ruleset *rs = load(OFFSHIFT);
	struct engine *e = start(rs, NULL);

	for (int d = 0; d < 5; d++) /* worked 09:00-17:00 */
		for (int h = 9; h < 17; h++)
			feed(e, rs, T0 + d * DAY + h * H,
			     "agent=a action=login");
	feed(e, rs, T0 + 5 * DAY + 8 * H + 10 * 60, "agent=a action=view");
	CHECK_INT((int)n_alerts, 0); /* 08:10: within the margin */
	feed(e, rs, T0 + 5 * DAY + 21 * H, "agent=a action=view");
	CHECK_ALERT(0, "O", T0 + 5 * DAY + 21 * H, "", 1);
	/* an agent with 4 known days is not judged */
	for (int d = 1; d < 5; d++)
		feed(e, rs, T0 + d * DAY + 10 * H, "agent=b action=login");
	feed(e, rs, T0 + 5 * DAY + 22 * H, "agent=b action=view");
	CHECK_INT((int)n_alerts, 1);
	engine_free(e);
	ruleset_free(rs);
}

static void test_self_baseline(void)
{
	struct ruleset *rs = load(
	    "title: B\ndetection:\n  sel:\n    action: view\n  condition: sel\n"
	    "custos:\n  baseline:\n    of: self\n    min_days: 10\n");
	struct engine *e = start(rs, NULL);
	char spec[64];

	for (int d = 0; d < 10; d++)
		for (int c = 0; c < 5 + d % 2; c++) {
			snprintf(spec, sizeof(spec),
				 "agent=a action=view customer=C%d", c);
			feed(e, rs, T0 + d * DAY + 9 * H + c, spec);
		}
	CHECK_INT((int)n_alerts, 0);
	/* median 5.5, MAD 0.5: threshold max(5.5+3.5*1.48*0.5, 11) = 11 */
	for (int c = 0; c < 12; c++) {
		snprintf(spec, sizeof(spec), "agent=a action=view customer=C%d",
			 c);
		feed(e, rs, T0 + 10 * DAY + 9 * H + c, spec);
	}
	CHECK_INT((int)n_alerts, 1);
	CHECK_ALERT(0, "B", T0 + 10 * DAY + 9 * H + 11, "", 1);
	engine_free(e);
	ruleset_free(rs);
}

static void test_risk(void)
{
	struct ruleset *rs = load(
	    "title: R1\nname: r1\ndetection:\n  sel:\n    action: export\n"
	    "  condition: sel\ncustos:\n  risk: 60\n"
	    "---\ntitle: R2\nname: r2\ndetection:\n  sel:\n    action: print\n"
	    "  condition: sel\ncustos:\n  risk: 30\n"
	    "---\ntitle: Sum\ngenerate: true\ncorrelation:\n  type: value_sum\n"
	    "  rules: [r1, r2]\n  group-by: [agent]\n  timespan: 24h\n"
	    "  condition:\n    field: custos.risk\n    gte: 100\n");
	struct engine *e = start(rs, NULL);

	feed(e, rs, T0, "agent=a action=export");
	feed(e, rs, T0 + 1, "agent=a action=print");
	feed(e, rs, T0 + 2, "agent=b action=export");
	CHECK_INT((int)n_alerts, 3);
	feed(e, rs, T0 + 3, "agent=a action=print");
	CHECK_INT((int)n_alerts, 5);
	CHECK_ALERT(4, "Sum", T0 + 3, "agent=a", 120);
	engine_free(e);
	ruleset_free(rs);
}

/* ---- save / restore ---- */

static void test_save_restore(void)
{
	struct ruleset *rs =
	    load(UNJUST "---\ntitle: C\ncorrelation:\n  type: event_count\n"
			"  rules: [u]\n  group-by: [agent]\n  timespan: 1h\n"
			"  condition:\n    gte: 1\ncustos:\n  suppress: 4h\n");
	struct engine *e = start(rs, NULL);

	feed(e, rs, T0, "agent=a action=ticket_assign customer=C1");
	feed(e, rs, T0 + 1, "agent=a action=view customer=C2");
	CHECK_INT((int)n_alerts, 1);
	n_saved = 0;
	CHECK_INT(engine_save_all(e, save_fn, NULL), 0);
	engine_free(e);
	e = start(rs, NULL);
	/* agent a, the suppression of C/a */
	CHECK_INT(restore_saved(e, "custos:"), 2);
	/* the assignment survived; the suppression too */
	feed(e, rs, T0 + 2, "agent=a action=view customer=C1");
	feed(e, rs, T0 + 3, "agent=a action=view customer=C3");
	CHECK_INT((int)n_alerts, 0);
	/* a corrupted blob is refused */
	saved[0].blob[saved[0].len / 2] ^= 0x55;
	CHECK_INT(engine_restore_group(e, saved[0].rk, saved[0].key,
				       saved[0].key_len, saved[0].blob,
				       saved[0].len),
		  -1);
	free_saved();
	engine_free(e);
	ruleset_free(rs);
}

static void test_lint(void)
{
	lint_case(VIEW_RULE "custos:\n  supress: 4h\n",
		  "t.yml:8:3: custos: unknown key 'supress' in 'custos' (did "
		  "you mean 'suppress'?)");
	lint_case(VIEW_RULE "custos:\n  suppress: 4h\n",
		  "t.yml:8:3: custos: 'suppress' applies to correlation rules");
	lint_case(VIEW_RULE "custos:\n  require_ticket:\n    window: 4x\n",
		  "t.yml:9:13: custos: 'window' must be a duration");
	lint_case(VIEW_RULE "custos:\n  baseline:\n    of: team\n",
		  "t.yml:9:9: custos: baseline 'of' must be 'self' or 'peers'");
	lint_case(VIEW_RULE "custos:\n  first_seen:\n    horizon: 30d\n",
		  "custos: first_seen 'by' must be a list");
}

int main(void)
{
	test_map();
	test_map_sweep();
	test_map_keys();
	test_stats();
	test_require_ticket();
	test_suppress();
	test_first_seen();
	test_off_shift();
	test_self_baseline();
	test_risk();
	test_save_restore();
	test_lint();
	return check_done();
}
