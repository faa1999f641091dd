/*
 * test_correlation: compiling the `correlation:` section — every type, the
 * timespan units, condition ranges, aliases, and each problem reported at
 * its line:column.  (Resolution against a ruleset is covered by
 * test_engine, which loads whole rule files.)
 */
#include "check.h"
#include "correlation.h"
#include "yamltree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fieldtab *fields;

/* Compiles the `correlation:` mapping of a one-document YAML text. */
static struct correlation *compile(const char *text, struct diag *d)
{
	struct yaml_docs *docs =
	    yamltree_load_buffer("c.yml", text, strlen(text), d);
	struct correlation *c = NULL;

	if (docs && docs->n_docs == 1) {
		struct rule_ctx ctx = {fields, NULL, "c.yml"};
		c = correlation_compile(
		    yamltree_get(docs->docs[0], "correlation"), &ctx, d);
	}
	yamltree_free(docs);
	return c;
}

static bool has_problem(const struct diag *d, int line, int col,
			const char *text)
{
	for (size_t i = 0; i < d->n_entries; i++)
		if (d->entries[i].line == line && d->entries[i].column == col &&
		    strstr(d->entries[i].message, text))
			return true;
	return false;
}

static void test_event_count(void)
{
	struct diag d;
	diag_init(&d);
	struct correlation *c = compile("correlation:\n"
					"  type: event_count\n"
					"  rules: [a, b]\n"
					"  group-by: [agent, src_ip]\n"
					"  timespan: 90m\n"
					"  condition:\n"
					"    gt: 100\n"
					"    lte: 200\n",
					&d);
	CHECK_INT(diag_count(&d), 0);
	CHECK(c != NULL);
	if (c) {
		CHECK_INT(c->type, CORRELATION_EVENT_COUNT);
		CHECK_INT(c->n_refs, 2);
		CHECK_STR(c->refs[1].name, "b");
		CHECK_INT(c->refs[1].line, 3);
		CHECK_INT(c->n_group_by, 2);
		CHECK_INT(c->group_ids[0], FIELD_AGENT);
		CHECK_INT(c->group_ids[1], FIELD_SRC_IP);
		CHECK_INT(c->timespan_ms, 90 * 60000);
		CHECK(!correlation_condition_holds(c, 100));
		CHECK(correlation_condition_holds(c, 101));
		CHECK(correlation_condition_holds(c, 200));
		CHECK(!correlation_condition_holds(c, 201));
		CHECK(correlation_closes(c));
		CHECK(c->field == NULL);
	}
	correlation_free(c);
	diag_clear(&d);
}

static void test_timespans(void)
{
	static const struct {
		const char *text;
		int64_t ms;
	} cases[] = {{"30s", 30000},   {"5m", 300000},	    {"2h", 7200000},
		     {"1d", 86400000}, {"0s", -1},	    {"5", -1},
		     {"5M", -1},       {"1h30m", -1},	    {"m", -1},
		     {"-5m", -1},      {"99999999999d", -1}};
	char text[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct diag d;
		diag_init(&d);
		snprintf(text, sizeof(text),
			 "correlation:\n  type: event_count\n  rules: [a]\n"
			 "  timespan: %s\n  condition:\n    gte: 1\n",
			 cases[i].text);
		struct correlation *c = compile(text, &d);
		if (cases[i].ms < 0) {
			CHECK(c == NULL);
			CHECK(has_problem(&d, 4, 13, "timespan must be"));
		} else {
			CHECK(c != NULL);
			CHECK_INT(c ? c->timespan_ms : -1, cases[i].ms);
		}
		correlation_free(c);
		diag_clear(&d);
	}
}

static void test_value_and_temporal(void)
{
	struct diag d;
	diag_init(&d);
	struct correlation *c = compile("correlation:\n"
					"  type: value_sum\n"
					"  rules: [exports]\n"
					"  group-by: [agent]\n"
					"  timespan: 1d\n"
					"  condition:\n"
					"    field: rows\n"
					"    gte: 50000\n",
					&d);
	CHECK(c != NULL);
	if (c) {
		CHECK_STR(c->field, "rows");
		CHECK_INT(c->field_id, FIELD_ROWS);
		CHECK(!correlation_closes(c));
		CHECK(correlation_condition_holds(c, 50000));
	}
	correlation_free(c);
	/* temporal without a condition: every rule */
	c = compile("correlation:\n  type: temporal\n  rules: [a, b, c]\n"
		    "  group-by: [agent]\n  timespan: 5m\n",
		    &d);
	CHECK(c != NULL);
	if (c) {
		CHECK(!correlation_condition_holds(c, 2));
		CHECK(correlation_condition_holds(c, 3));
	}
	correlation_free(c);
	/* aliases */
	c = compile("correlation:\n  type: temporal\n  rules: [x, y]\n"
		    "  group-by: [who]\n  timespan: 5m\n"
		    "  aliases:\n    who:\n      x: actor.id\n"
		    "      y: agent\n",
		    &d);
	CHECK(c != NULL);
	if (c) {
		CHECK_INT(c->n_aliases, 1);
		CHECK_STR(c->aliases[0].fields[0], "actor.id");
		CHECK_INT(c->aliases[0].field_ids[1], FIELD_AGENT);
		CHECK(c->aliases[0].field_ids[0] >= N_CANONICAL_FIELDS);
	}
	correlation_free(c);
	CHECK_INT(diag_count(&d), 0);
	diag_clear(&d);
}

static void test_problems(void)
{
	struct diag d;
	diag_init(&d);
	struct correlation *c = compile("correlation:\n"
					"  type: value_count\n"
					"  rules: [a, a]\n"
					"  timspan: 5m\n"
					"  condition:\n"
					"    gte: 3\n",
					&d);
	CHECK(c == NULL);
	CHECK(has_problem(&d, 3, 14, "'a' is listed twice"));
	CHECK(has_problem(&d, 4, 3, "did you mean 'timespan'"));
	CHECK(has_problem(&d, 1, 1, "'timespan' is required") ||
	      has_problem(&d, 2, 3, "'timespan' is required"));
	diag_clear(&d);

	c = compile("correlation:\n  type: value_count\n  rules: [a]\n"
		    "  timespan: 5m\n  condition:\n    gte: 3\n",
		    &d);
	CHECK(c == NULL);
	CHECK(has_problem(&d, 6, 5, "needs a condition 'field'"));
	diag_clear(&d);

	c = compile("correlation:\n  type: event_count\n  rules: [a]\n"
		    "  timespan: 5m\n  condition:\n    gte: many\n"
		    "    above: 3\n",
		    &d);
	CHECK(c == NULL);
	CHECK(has_problem(&d, 6, 10, "condition gte must be a number"));
	CHECK(has_problem(&d, 7, 5, "unknown condition key 'above'"));
	diag_clear(&d);

	c = compile("correlation:\n  type: event_total\n  rules: [a]\n"
		    "  timespan: 5m\n",
		    &d);
	CHECK(c == NULL);
	CHECK(has_problem(&d, 2, 9, "correlation type must be one of"));
	diag_clear(&d);

	c = compile("correlation:\n  type: temporal_ordered\n  rules: [a, b]\n"
		    "  timespan: 5m\n  condition: a and b\n",
		    &d);
	CHECK(c == NULL);
	CHECK(has_problem(&d, 5, 14, "temporal_ordered takes no condition"));
	diag_clear(&d);

	c = compile("correlation:\n  type: temporal\n  rules: [a, b]\n"
		    "  group-by: [agent]\n  timespan: 5m\n"
		    "  aliases:\n    who:\n      a: x\n",
		    &d);
	CHECK(c == NULL);
	CHECK(has_problem(&d, 7, 5, "alias 'who' is not used in group-by"));
	diag_clear(&d);
}

static void test_dump(void)
{
	struct diag d;
	char buf[512] = "";
	diag_init(&d);
	struct correlation *c = compile("correlation:\n  type: value_count\n"
					"  rules: [v]\n  group-by: [agent]\n"
					"  timespan: 1h\n  condition:\n"
					"    field: customer\n    gte: 40\n",
					&d);
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	if (c && f) {
		correlation_dump(c, f);
		fclose(f);
		CHECK_STR(buf, "correlation value_count timespan=3600000ms\n"
			       "  rules: v\n  group-by: agent\n"
			       "  condition: gte 40 field customer\n");
	}
	correlation_free(c);
	diag_clear(&d);
}

int main(void)
{
	fields = fieldtab_new();
	test_event_count();
	test_timespans();
	test_value_and_temporal();
	test_problems();
	test_dump();
	fieldtab_free(fields);
	return check_done();
}
