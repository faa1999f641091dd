/*
 * test_engine: rules loaded from YAML text (ruleset_load_buffer +
 * ruleset_finish), hand-built events, and the exact alerts the engine
 * raises: sliding-window edges, interleaved groups, restart after firing,
 * lt at window close, value_count with many values, value_sum/avg,
 * temporal and temporal_ordered, aliases, chaining, generate, caps.
 */
#include "check.h"
#include "engine.h"
#include "rules.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- collecting alerts ---- */

struct got {
	char rule[64];
	int64_t ts;
	char group[128];
	double value;
	size_t n_evidence;
	uint64_t n_evidence_total;
	char event[256];
	char evidence0[256];
	size_t id_len;
};

static struct got alerts[30000];
static size_t n_alerts;

static void on_alert(const struct alert *a, void *arg)
{
	(void)arg;
	if (n_alerts >= sizeof(alerts) / sizeof(*alerts))
		return;
	struct got *g = &alerts[n_alerts++];
	snprintf(g->rule, sizeof(g->rule), "%s", a->rule->title);
	g->ts = a->ts_ms;
	g->group[0] = '\0';
	for (size_t i = 0; i < a->n_group; i++) {
		size_t l = strlen(g->group);
		snprintf(g->group + l, sizeof(g->group) - l, "%s%s=%s",
			 i ? "," : "", a->group[i].key, a->group[i].value);
	}
	g->value = a->value;
	g->n_evidence = a->n_evidence;
	g->n_evidence_total = a->n_evidence_total;
	snprintf(g->event, sizeof(g->event), "%s", a->event_json);
	snprintf(g->evidence0, sizeof(g->evidence0), "%s",
		 a->n_evidence ? a->evidence_json[0] : "");
	g->id_len = strlen(a->id);
}

/* ---- hand-built events ---- */

struct evbuf {
	struct event ev;
	struct event_field fields[8];
	int32_t slots[256];
	char names[8][32];
	char values[8][64];
};

/* spec: "agent=a action=view customer=C1" (rows=<n> is a number) */
static const struct event *mkev(struct evbuf *b, const struct ruleset *rs,
				int64_t ts, const char *spec)
{
	char tmp[256];
	size_t n = 0;

	memset(b, 0, sizeof(*b));
	b->ev.ts_ms = ts;
	b->ev.fields = b->fields;
	b->ev.slot = b->slots;
	b->ev.n_slots = fieldtab_count(rs->fields);
	for (size_t i = 0; i < b->ev.n_slots && i < 256; i++)
		b->slots[i] = -1;
	b->ev.source.input = "test";
	b->ev.source.line = (uint64_t)(ts / 1000);
	snprintf(tmp, sizeof(tmp), "%s", spec);
	for (char *tok = strtok(tmp, " "); tok && n < 8;
	     tok = strtok(NULL, " ")) {
		char *eq = strchr(tok, '=');
		*eq = '\0';
		snprintf(b->names[n], 32, "%s", tok);
		snprintf(b->values[n], 64, "%s", eq + 1);
		struct event_field *f = &b->fields[n];
		f->name = b->names[n];
		f->value = b->values[n];
		f->value_len = (uint32_t)strlen(b->values[n]);
		f->kind =
		    strcmp(tok, "rows") == 0 ? VALUE_NUMBER : VALUE_STRING;
		f->id = fieldtab_find(rs->fields, tok, strlen(tok));
		f->next_same = -1;
		if (f->id >= 0 && (size_t)f->id < b->ev.n_slots)
			b->slots[f->id] = (int32_t)n;
		n++;
	}
	b->ev.n_fields = n;
	return &b->ev;
}

static struct ruleset *load(const char *text)
{
	struct diag d;
	struct ruleset *rs = ruleset_new();

	diag_init(&d);
	if (ruleset_load_buffer(rs, "t.yml", text, strlen(text), &d) < 0 ||
	    ruleset_finish(rs, &d) < 0) {
		diag_print(&d, stderr);
		ruleset_free(rs);
		rs = NULL;
	}
	diag_clear(&d);
	return rs;
}

static struct engine *start(const struct ruleset *rs,
			    const struct engine_limits *lim)
{
	n_alerts = 0;
	return engine_new(rs, lim, on_alert, NULL);
}

static void feed(struct engine *e, const struct ruleset *rs, int64_t ts_s,
		 const char *spec)
{
	struct evbuf b;

	CHECK_INT(engine_process(e, mkev(&b, rs, ts_s * 1000, spec)), 0);
}

#define CHECK_ALERT(i, title, ts_s, grp, val)                                  \
	do {                                                                   \
		CHECK((i) < n_alerts);                                         \
		if ((i) < n_alerts) {                                          \
			CHECK_STR(alerts[i].rule, title);                      \
			CHECK_INT(alerts[i].ts, (int64_t)(ts_s)*1000);         \
			CHECK_STR(alerts[i].group, grp);                       \
			CHECK(alerts[i].value == (val));                       \
		}                                                              \
	} while (0)

#define VIEW_RULE                                                              \
	"title: View\nname: view\ndetection:\n  sel:\n    action: view\n"      \
	"  condition: sel\n"

#define CORR(title, body) "---\ntitle: " title "\ncorrelation:\n" body

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
	return check_done();
}
