/*
 * engine_harness: what the engine tests share — a ruleset compiled from
 * YAML text and hand-built events (test_events.h) fed to a real engine,
 * and the alerts collected in a compact, comparable form.  Test code only.
 */
#ifndef CUSTOS_ENGINE_HARNESS_H
#define CUSTOS_ENGINE_HARNESS_H

#include "check.h"
#include "engine.h"
#include "rules.h"
#include "test_events.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- hand-built events (test_events.h) ---- */

/* An event at ts (ms) from spec, source line ts / 1000. */
static const struct event *mkev(struct evbuf *b, const struct ruleset *rs,
				int64_t ts, const char *spec)
{
	return mkev_at(b, rs, ts, spec, (uint64_t)(ts / 1000), 0);
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

#endif
