/*
 * fuzz_yaml_rules: arbitrary bytes -> a rule file -> a finished ruleset.
 *
 * Runs the whole rule loader (yamltree, rules, detection with its condition
 * parser and modifiers, correlation, reference resolution and ordering) on
 * the input as one YAML file, with an `expand` list defined.  When the set
 * is valid, each compiled rule is dumped (to /dev/null) and each detection
 * is matched against a few synthetic events whose every known field holds
 * the same probe value, which drives the modifiers' matchers (contains, re,
 * cidr, numeric comparisons, ...) with patterns chosen by the fuzzer.
 *
 * Contract checks (abort when broken):
 *   - ruleset_load_buffer() returns -1 exactly when it added diagnostics,
 *     ruleset_finish() likewise;
 *   - after finish: detections come first, rule->index is its position,
 *     every rule can be found by its name and id, and every correlation's
 *     inputs are rules of the set that come before it (dependency order).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlation.h"
#include "detection.h"
#include "diag.h"
#include "event.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EXPECT(cond)                                                           \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static const char *const probe_values[] = {
    "export", "2500",	  "10.1.2.3", "agent-00485", "",
    "true",   "C0085319", "a\\b*c?",  "-1.5e3",	     "2025-03-03T08:00:00Z",
};

static FILE *dump_sink(void)
{
	static FILE *f;

	if (f == NULL)
		f = fopen("/dev/null", "w");
	return f;
}

static void match_probes(const struct ruleset *rs)
{
	size_t n = fieldtab_count(rs->fields);
	struct event_field *fields = calloc(n ? n : 1, sizeof(*fields));
	int32_t *slot = calloc(n ? n : 1, sizeof(*slot));
	struct event ev = {.fields = fields, .slot = slot, .n_slots = n};

	EXPECT(fields != NULL && slot != NULL);
	for (size_t p = 0; p <= sizeof(probe_values) / sizeof(*probe_values);
	     p++) {
		/* the last round is the empty event: every field absent */
		int empty = p == sizeof(probe_values) / sizeof(*probe_values);
		for (size_t id = 0; id < n; id++) {
			const char *v = empty ? "" : probe_values[p];
			fields[id] = (struct event_field){
			    .name = fieldtab_name(rs->fields, (int32_t)id),
			    .value = v,
			    .value_len = (uint32_t)strlen(v),
			    .kind =
				p == 1 || p == 8 ? VALUE_NUMBER : VALUE_STRING,
			    .id = (int32_t)id,
			    .next_same = -1,
			};
			slot[id] = empty ? -1 : (int32_t)id;
		}
		ev.n_fields = empty ? 0 : n;
		for (size_t i = 0; i < rs->n_detections; i++)
			(void)detection_match(rs->rules[i]->detection, &ev);
	}
	free(fields);
	free(slot);
}

static void check_order(const struct ruleset *rs)
{
	for (size_t i = 0; i < rs->n_rules; i++) {
		const struct rule *r = rs->rules[i];
		size_t n_in = 0;

		EXPECT(r->index == i);
		EXPECT((i < rs->n_detections) == (r->kind == RULE_DETECTION));
		EXPECT(r->name == NULL || ruleset_find(rs, r->name) != NULL);
		EXPECT(r->id == NULL || ruleset_find(rs, r->id) != NULL);
		if (r->kind == RULE_DETECTION) {
			EXPECT(r->detection != NULL);
			detection_dump(r->detection, rs->fields, dump_sink());
			continue;
		}
		EXPECT(r->correlation != NULL);
		struct rule *const *in =
		    correlation_inputs(r->correlation, &n_in);
		for (size_t k = 0; k < n_in; k++) {
			EXPECT(in[k]->index < i &&
			       rs->rules[in[k]->index] == in[k]);
			EXPECT(correlation_input_index(r->correlation, in[k]) >=
			       0);
		}
		correlation_dump(r->correlation, dump_sink());
	}
}

static struct ruleset *ruleset_with_lists(void)
{
	static char *names[] = {"tools", "empty"};
	static char *tools[] = {"console", "api*", NULL};
	static char *empty[] = {NULL};
	static char **values[] = {tools, empty};
	const struct rule_lists lists = {names, values, 2, NULL};
	struct ruleset *rs = ruleset_new();

	EXPECT(rs != NULL);
	EXPECT(ruleset_set_lists(rs, &lists) == 0);
	return rs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ruleset *rs = ruleset_with_lists();
	struct diag d;
	int n;

	diag_init(&d);
	n = ruleset_load_buffer(rs, "fuzz.yml", (const char *)data, size, &d);
	EXPECT((n < 0) == (diag_count(&d) > 0));
	if (n >= 0) {
		int rc = ruleset_finish(rs, &d);
		EXPECT((rc < 0) == (diag_count(&d) > 0));
		if (rc == 0) {
			EXPECT((size_t)n == rs->n_rules);
			check_order(rs);
			match_probes(rs);
		}
	}
	ruleset_free(rs);
	diag_clear(&d);
	return 0;
}
