/*
 * test_engine: rules loaded from YAML text (ruleset_load_buffer +
 * ruleset_finish), hand-built events, and the exact alerts the engine
 * raises: sliding-window edges, interleaved groups, restart after firing,
 * lt at window close, value_count with many values, value_sum/avg,
 * temporal and temporal_ordered, aliases, chaining, generate, caps.
 */
#include "check.h"
#include "engine.h"
#include "rule_index.h"
#include "rules.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- collecting alerts ---- */

#include "engine_harness.h"

/* ---- the cases ---- */

static void test_sliding(void)
{
	struct ruleset *rs = load(
	    VIEW_RULE CORR("Three", "  type: event_count\n  rules: [view]\n"
				    "  group-by: [agent]\n  timespan: 10m\n"
				    "  condition:\n    gte: 3\n"));
	CHECK(rs != NULL);
	if (!rs)
		return;
	struct engine *e = start(rs, NULL);
	/* c: 0, 300, 600 -> the first is exactly at t - timespan: outside */
	feed(e, rs, 0, "agent=a action=view");
	feed(e, rs, 0, "agent=c action=view");
	feed(e, rs, 60, "agent=b action=view");
	feed(e, rs, 120, "agent=b action=view");
	feed(e, rs, 240, "agent=a action=view");
	feed(e, rs, 300, "agent=c action=view");
	feed(e, rs, 599, "agent=a action=view"); /* a fires */
	feed(e, rs, 600, "agent=c action=view"); /* c: 2 in (0, 600] */
	feed(e, rs, 630, "agent=a action=view");
	feed(e, rs, 720, "agent=b action=view");
	feed(e, rs, 750, "agent=b action=view");
	feed(e, rs, 760, "agent=b action=search");
	feed(e, rs, 780, "agent=b action=view"); /* b: 720,750,780 */
	feed(e, rs, 900, "agent=a action=view");
	feed(e, rs, 1231, "agent=a action=view"); /* 630 slid out */
	feed(e, rs, 1260, "agent=a action=view"); /* 900,1231,1260 */
	engine_finish(e);
	CHECK_INT(n_alerts, 3);
	CHECK_ALERT(0, "Three", 599, "agent=a", 3);
	CHECK_ALERT(1, "Three", 780, "agent=b", 3);
	CHECK_ALERT(2, "Three", 1260, "agent=a", 3);
	CHECK_INT(alerts[0].n_evidence_total, 3);
	CHECK_INT(alerts[0].n_evidence, 3);
	CHECK(strstr(alerts[0].event, "\"ts\":\"1970-01-01T00:09:59.000Z\"") !=
	      NULL);
	CHECK(strstr(alerts[0].event, "\"agent\":\"a\"") != NULL);
	CHECK(strstr(alerts[0].evidence0, "00:00:00.000Z") != NULL);
	CHECK_INT(alerts[0].id_len, 32);
	/* the detection does not alert: a correlation uses it */
	size_t n;
	const uint64_t *hits = engine_rule_hits(e, &n);
	CHECK_INT(n, 2);
	CHECK_INT(hits[0], 15);
	CHECK_INT(hits[1], 3);
	struct engine_stats st;
	engine_get_stats(e, &st);
	CHECK_INT(st.n_events, 16);
	CHECK_INT(st.n_detection_matches, 15);
	CHECK_INT(st.n_alerts, 3);
	engine_free(e);
	ruleset_free(rs);
}

static void test_restart_after_fire(void)
{
	struct ruleset *rs = load(
	    VIEW_RULE CORR("Burst", "  type: event_count\n  rules: [view]\n"
				    "  group-by: [agent]\n  timespan: 1h\n"
				    "  condition:\n    gte: 3\n"));
	if (!rs)
		return;
	struct engine *e = start(rs, NULL);
	for (int i = 0; i < 10; i++)
		feed(e, rs, i, "agent=a action=view");
	CHECK_INT(n_alerts, 3);
	CHECK_ALERT(0, "Burst", 2, "agent=a", 3);
	CHECK_ALERT(1, "Burst", 5, "agent=a", 3);
	CHECK_ALERT(2, "Burst", 8, "agent=a", 3);
	engine_free(e);
	ruleset_free(rs);
}

static void test_lt_at_close(void)
{
	struct ruleset *rs =
	    load(VIEW_RULE CORR("Few", "  type: event_count\n  rules: [view]\n"
				       "  group-by: [agent]\n  timespan: 10m\n"
				       "  condition:\n    lt: 3\n"));
	if (!rs)
		return;
	struct engine *e = start(rs, NULL);
	feed(e, rs, 0, "agent=a action=view");
	feed(e, rs, 100, "agent=a action=view");
	feed(e, rs, 200, "agent=b action=view");
	feed(e, rs, 300, "agent=b action=view");
	feed(e, rs, 400, "agent=b action=view");
	CHECK_INT(n_alerts, 0);
	feed(e, rs, 599, "agent=c action=view");
	CHECK_INT(n_alerts, 0); /* a closes at 600 */
	feed(e, rs, 600, "agent=c action=view");
	CHECK_INT(n_alerts, 1);
	CHECK_ALERT(0, "Few", 100, "agent=a", 2);
	feed(e, rs, 800, "agent=b action=search"); /* b closes: 3 events */
	CHECK_INT(n_alerts, 1);
	engine_finish(e); /* c: 2 events, closed at the end */
	CHECK_INT(n_alerts, 2);
	CHECK_ALERT(1, "Few", 600, "agent=c", 2);
	struct engine_stats st;
	engine_get_stats(e, &st);
	CHECK_INT(st.n_groups, 0);
	engine_free(e);
	ruleset_free(rs);
}

static void test_range(void)
{
	struct ruleset *rs = load(
	    VIEW_RULE CORR("Range", "  type: event_count\n  rules: [view]\n"
				    "  group-by: [agent]\n  timespan: 10m\n"
				    "  condition:\n    gt: 1\n    lte: 3\n"));
	if (!rs)
		return;
	struct engine *e = start(rs, NULL);
	for (int i = 0; i < 4; i++)
		feed(e, rs, i, "agent=a action=view");
	for (int i = 0; i < 2; i++)
		feed(e, rs, i, "agent=b action=view");
	feed(e, rs, 10, "agent=d action=view");
	engine_finish(e);
	CHECK_INT(n_alerts, 1);
	CHECK_ALERT(0, "Range", 1, "agent=b", 2);
	engine_free(e);
	ruleset_free(rs);
}

static void test_value_count_many(void)
{
	struct ruleset *rs = load(
	    VIEW_RULE CORR("Breadth", "  type: value_count\n  rules: [view]\n"
				      "  group-by: [agent]\n  timespan: 1d\n"
				      "  condition:\n    field: customer\n"
				      "    gte: 15000\n"));
	if (!rs)
		return;
	struct engine *e = start(rs, NULL);
	char spec[64];
	for (int i = 0; i < 20000; i++) {
		snprintf(spec, sizeof(spec), "agent=a action=view customer=C%d",
			 i);
		feed(e, rs, i, spec);
		feed(e, rs, i, "agent=b action=view customer=same");
	}
	CHECK_INT(n_alerts, 1);
	CHECK_ALERT(0, "Breadth", 14999, "agent=a", 15000);
	CHECK_INT(alerts[0].n_evidence_total, 15000);
	CHECK_INT(alerts[0].n_evidence, 10);
	engine_free(e);
	ruleset_free(rs);
}

#define EXPORT_RULE                                                            \
	"title: Export\nname: export\ndetection:\n  sel:\n"                    \
	"    action: export\n  condition: sel\n"

static void test_value_sum_avg(void)
{
	struct ruleset *rs = load(
	    EXPORT_RULE CORR("Sum",
			     "  type: value_sum\n  rules: [export]\n"
			     "  group-by: [agent]\n  timespan: 1h\n"
			     "  condition:\n    field: rows\n    gte: 1000\n")
		CORR("Avg", "  type: value_avg\n  rules: [export]\n"
			    "  group-by: [agent]\n  timespan: 1h\n"
			    "  condition:\n    field: rows\n    gt: 400\n"));
	if (!rs)
		return;
	struct engine *e = start(rs, NULL);
	struct engine_stats st;
	feed(e, rs, 0, "agent=a action=export rows=300");
	feed(e, rs, 10, "agent=a action=export rows=abc");
	feed(e, rs, 20, "agent=a action=export rows=400");
	CHECK_INT(n_alerts, 0);
	feed(e, rs, 30, "agent=a action=export rows=600");
	/* sum 1300 >= 1000; avg (300+400+600)/3 = 433.3 > 400 */
	CHECK_INT(n_alerts, 2);
	CHECK_ALERT(0, "Sum", 30, "agent=a", 1300);
	CHECK_ALERT(1, "Avg", 30, "agent=a", 1300.0 / 3);
	/* both groups restarted: Avg fires alone on 999, then Sum needs
	 * 999 + 1 */
	feed(e, rs, 3700, "agent=a action=export rows=999");
	CHECK_INT(n_alerts, 3);
	CHECK_ALERT(2, "Avg", 3700, "agent=a", 999);
	feed(e, rs, 3701, "agent=a action=export rows=1");
	CHECK_INT(n_alerts, 4);
	CHECK_ALERT(3, "Sum", 3701, "agent=a", 1000);
	engine_get_stats(e, &st);
	CHECK_INT(st.n_non_numeric, 2);
	engine_free(e);
	ruleset_free(rs);
}

#define AB_RULES                                                               \
	"title: A\nname: rule_a\ndetection:\n  sel:\n    action: login\n"      \
	"  condition: sel\n---\n"                                              \
	"title: B\nname: rule_b\ndetection:\n  sel:\n    action: export\n"     \
	"  condition: sel\n"

static void test_temporal(void)
{
	struct ruleset *rs =
	    load(AB_RULES CORR("Unordered",
			       "  type: temporal\n  rules: [rule_a, rule_b]\n"
			       "  group-by: [agent]\n  timespan: 5m\n")
		     CORR("Ordered", "  type: temporal_ordered\n"
				     "  rules: [rule_a, rule_b]\n"
				     "  group-by: [agent]\n  timespan: 5m\n"));
	if (!rs)
		return;
	struct engine *e = start(rs, NULL);
	feed(e, rs, 0, "agent=a action=export");
	feed(e, rs, 60, "agent=a action=login"); /* B then A */
	CHECK_INT(n_alerts, 1);
	CHECK_ALERT(0, "Unordered", 60, "agent=a", 2);
	feed(e, rs, 400, "agent=a action=export"); /* login 60 gone */
	CHECK_INT(n_alerts, 1);
	feed(e, rs, 500, "agent=b action=login");
	feed(e, rs, 800, "agent=b action=export"); /* exactly 5m: outside */
	CHECK_INT(n_alerts, 1);
	feed(e, rs, 810, "agent=b action=login");
	feed(e, rs, 820, "agent=b action=export");
	CHECK_INT(n_alerts, 3);
	CHECK_ALERT(1, "Unordered", 810, "agent=b", 2);
	CHECK_ALERT(2, "Ordered", 820, "agent=b", 2);
	engine_free(e);
	ruleset_free(rs);
}

static void test_aliases(void)
{
	struct ruleset *rs =
	    load("title: Assign\nname: assign\ndetection:\n  sel:\n"
		 "    action: ticket_assign\n  condition: sel\n---\n"
		 "title: Viewed\nname: viewed\ndetection:\n  sel:\n"
		 "    action: view\n  condition: sel\n" CORR(
		     "Assigned then viewed",
		     "  type: temporal_ordered\n  rules: [assign, viewed]\n"
		     "  group-by: [who]\n  timespan: 1h\n"
		     "  aliases:\n    who:\n      assign: assignee\n"
		     "      viewed: agent\n"));
	if (!rs)
		return;
	struct engine *e = start(rs, NULL);
	feed(e, rs, 0, "agent=boss action=ticket_assign assignee=x");
	feed(e, rs, 10, "agent=boss action=view");
	CHECK_INT(n_alerts, 0);
	feed(e, rs, 20, "agent=x action=view");
	CHECK_INT(n_alerts, 1);
	CHECK_ALERT(0, "Assigned then viewed", 20, "who=x", 2);
	engine_free(e);
	ruleset_free(rs);
}

static void test_chained_and_generate(void)
{
	struct ruleset *rs =
	    load("title: Brute force then success\ngenerate: true\n"
		 "correlation:\n  type: temporal_ordered\n"
		 "  rules: [multiple_failed_login, successful_login]\n"
		 "  group-by: [agent]\n  timespan: 10m\n---\n"
		 "title: Multiple failed logins\nname: multiple_failed_login\n"
		 "correlation:\n  type: event_count\n  rules: [failed_login]\n"
		 "  group-by: [agent]\n  timespan: 10m\n"
		 "  condition:\n    gte: 3\n---\n"
		 "title: Failed login\nname: failed_login\ndetection:\n"
		 "  sel:\n    action: login\n    outcome: denied\n"
		 "  condition: sel\n---\n"
		 "title: Successful login\nname: successful_login\n"
		 "detection:\n  sel:\n    action: login\n"
		 "    outcome: success\n  condition: sel\n");
	if (!rs)
		return;
	struct engine *e = start(rs, NULL);
	feed(e, rs, 0, "agent=b action=login outcome=success");
	feed(e, rs, 0, "agent=a action=login outcome=denied");
	feed(e, rs, 60, "agent=a action=login outcome=denied");
	feed(e, rs, 60, "agent=b action=login outcome=denied");
	feed(e, rs, 120, "agent=a action=login outcome=denied");
	feed(e, rs, 120, "agent=b action=login outcome=denied");
	feed(e, rs, 180, "agent=b action=login outcome=denied");
	feed(e, rs, 300, "agent=a action=login outcome=success");
	feed(e, rs, 1800, "agent=c action=login outcome=denied");
	feed(e, rs, 1860, "agent=c action=login outcome=denied");
	feed(e, rs, 2700, "agent=c action=login outcome=success");
	engine_finish(e);
	/* the outer correlation says generate: true, so its inputs
	 * (Multiple failed logins, Successful login) raise alerts too;
	 * Failed login, used only by the inner one, does not. */
	CHECK_INT(n_alerts, 6);
	CHECK_ALERT(0, "Successful login", 0, "", 1);
	CHECK_ALERT(1, "Multiple failed logins", 120, "agent=a", 3);
	CHECK_ALERT(2, "Multiple failed logins", 180, "agent=b", 3);
	CHECK_ALERT(3, "Successful login", 300, "", 1);
	CHECK_ALERT(4, "Brute force then success", 300, "agent=a", 2);
	CHECK_ALERT(5, "Successful login", 2700, "", 1);
	engine_free(e);
	ruleset_free(rs);
}

static void test_caps(void)
{
	struct ruleset *rs = load(
	    VIEW_RULE CORR("Count", "  type: event_count\n  rules: [view]\n"
				    "  group-by: [agent]\n  timespan: 1h\n"
				    "  condition:\n    gte: 5\n")
		CORR("Distinct", "  type: value_count\n  rules: [view]\n"
				 "  group-by: [agent]\n  timespan: 1h\n"
				 "  condition:\n    field: customer\n"
				 "    gte: 100\n"));
	if (!rs)
		return;
	struct engine_limits lim;
	engine_limits_default(&lim);
	lim.max_groups = 2;
	lim.max_window_events = 3;
	lim.max_distinct = 2;
	lim.max_lateness_ms = 10000;
	lim.evidence_sample = 2;
	struct engine *e = start(rs, &lim);
	struct engine_stats st;
	feed(e, rs, 100, "agent=a action=view customer=1");
	feed(e, rs, 101, "agent=b action=view customer=1");
	feed(e, rs, 102, "agent=c action=view customer=1"); /* evicts a */
	engine_get_stats(e, &st);
	CHECK_INT(st.n_groups_evicted, 2); /* one per correlation */
	CHECK_INT(st.n_groups, 4);
	feed(e, rs, 103, "agent=c action=view customer=2");
	feed(e, rs, 104, "agent=c action=view customer=3"); /* distinct cap */
	feed(e, rs, 105, "agent=c action=view customer=1"); /* window cap */
	engine_get_stats(e, &st);
	CHECK_INT(st.n_distinct_overflow, 1);
	CHECK(st.n_window_overflow >= 1);
	feed(e, rs, 80, "agent=c action=view customer=1"); /* 25 s late */
	engine_get_stats(e, &st);
	CHECK_INT(st.n_late_events, 2); /* one per correlation */
	/* a window capped at 3 entries can never count 5 */
	CHECK_INT(n_alerts, 0);
	engine_free(e);
	ruleset_free(rs);
}

static void test_detection_alert(void)
{
	struct ruleset *rs = load(EXPORT_RULE);
	if (!rs)
		return;
	struct engine *e = start(rs, NULL);
	feed(e, rs, 5, "agent=a action=export");
	feed(e, rs, 6, "agent=a action=view");
	CHECK_INT(n_alerts, 1);
	CHECK_ALERT(0, "Export", 5, "", 1);
	CHECK_INT(alerts[0].n_evidence, 0);
	engine_free(e);
	ruleset_free(rs);
}

static void test_resolve_problems(void)
{
	static const char text[] =
	    VIEW_RULE CORR("Bad", "  type: temporal\n"
				  "  rules: [view, nosuch]\n"
				  "  group-by: [who]\n  timespan: 5m\n");
	static const char text2[] =
	    VIEW_RULE CORR("Bad alias", "  type: event_count\n"
					"  rules: [view]\n"
					"  group-by: [who]\n"
					"  timespan: 5m\n"
					"  condition:\n    gte: 2\n"
					"  aliases:\n    who:\n"
					"      other: agent\n");
	struct diag d;
	diag_init(&d);
	struct ruleset *rs = ruleset_new();
	ruleset_load_buffer(rs, "t.yml", text, strlen(text), &d);
	CHECK_INT(ruleset_finish(rs, &d), -1);
	CHECK(d.n_entries > 0 &&
	      strstr(d.entries[0].message, "unknown rule 'nosuch'") &&
	      d.entries[0].line == 11 && d.entries[0].column == 17);
	ruleset_free(rs);
	diag_clear(&d);
	rs = ruleset_new();
	ruleset_load_buffer(rs, "t.yml", text2, strlen(text2), &d);
	CHECK_INT(ruleset_finish(rs, &d), -1);
	CHECK(d.n_entries > 0 &&
	      strstr(d.entries[0].message, "names rule 'other'"));
	ruleset_free(rs);
	diag_clear(&d);
}

/* A regex stopped by the match limit is no match, counted in the stats
 * (a 64 KiB value against a catastrophic pattern); a plain no match is
 * not counted. */
static void test_regex_limit(void)
{
	struct ruleset *rs =
	    load("title: Re\nname: re\ndetection:\n  sel:\n"
		 "    query|re: '^(a+)+$'\n  condition: sel\n");
	char *big = malloc(65536);
	CHECK(rs != NULL && big != NULL);
	if (!rs || !big) {
		ruleset_free(rs);
		free(big);
		return;
	}
	struct engine *e = start(rs, NULL);
	struct evbuf b;
	struct engine_stats st;
	feed(e, rs, 1, "agent=a query=aaaa");
	feed(e, rs, 2, "agent=a query=aaaa!");
	engine_get_stats(e, &st);
	CHECK_INT(st.n_re_limit, 0);
	memset(big, 'a', 65534);
	big[65534] = '!';
	big[65535] = '\0';
	const struct event *ev = mkev(&b, rs, 3000, "agent=a query=x");
	b.fields[1].value = big;
	b.fields[1].value_len = 65535;
	CHECK_INT(engine_process(e, ev), 0);
	engine_get_stats(e, &st);
	CHECK_INT(st.n_re_limit, 1);
	CHECK_INT(st.n_alerts, 1);
	CHECK_INT(st.n_unshared, 0);
	engine_free(e);
	ruleset_free(rs);
	free(big);
}

/* Two rules with more common items than the index has memo slots: the
 * units past RULE_INDEX_MAX_SHARED are evaluated unshared, and counted. */
static void test_unshared(void)
{
	enum { N_ITEMS = 4100 };
	size_t cap = 2 * (N_ITEMS * 40 + 200), len = 0;
	char *text = malloc(cap);
	CHECK(text != NULL);
	if (!text)
		return;
	for (int r = 0; r < 2; r++) {
		len += (size_t)snprintf(text + len, cap - len,
					"%stitle: R%d\nname: r%d\ndetection:\n",
					r ? "---\n" : "", r, r);
		for (int i = 0; i < N_ITEMS; i++)
			len +=
			    (size_t)snprintf(text + len, cap - len,
					     "  s%d:\n    query: q%d\n", i, i);
		len += (size_t)snprintf(text + len, cap - len,
					"  condition: 1 of s*\n");
	}
	struct ruleset *rs = load(text);
	struct engine *e = rs ? start(rs, NULL) : NULL;
	CHECK(e != NULL);
	if (e) {
		struct engine_stats st;
		feed(e, rs, 1, "agent=a query=q4099");
		engine_get_stats(e, &st);
		CHECK_INT(st.n_alerts, 2);
		CHECK(st.n_unshared > 0);
		/* N_ITEMS items + the detection, common to both rules: the
		 * ones past the slots are unshared in both places */
		CHECK_INT(st.n_unshared,
			  2 * (N_ITEMS + 1 - RULE_INDEX_MAX_SHARED));
	}
	engine_free(e);
	ruleset_free(rs);
	free(text);
}

int main(void)
{
	test_resolve_problems();
	test_sliding();
	test_restart_after_fire();
	test_lt_at_close();
	test_range();
	test_value_count_many();
	test_value_sum_avg();
	test_temporal();
	test_aliases();
	test_chained_and_generate();
	test_caps();
	test_detection_alert();
	test_regex_limit();
	test_unshared();
	return check_done();
}
