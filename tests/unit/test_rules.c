/*
 * test_rules: the rule loader — common attributes, problems reported with
 * file:line:column, duplicate ids, typo'd keys, correlation references,
 * ordering of chained correlations, cycles, and `generate`.
 */
#include "check.h"
#include "rules.h"

#include <stdlib.h>
#include <string.h>

static struct ruleset *load(const char *text, struct diag *d)
{
	struct ruleset *rs = ruleset_new();
	if (ruleset_load_buffer(rs, "r.yml", text, strlen(text), d) >= 0)
		ruleset_finish(rs, d);
	return rs;
}

static int has_problem(const struct diag *d, int line, int column,
		       const char *text)
{
	for (size_t i = 0; i < d->n_entries; i++)
		if (d->entries[i].line == line &&
		    d->entries[i].column == column &&
		    strstr(d->entries[i].message, text))
			return 1;
	return 0;
}

#define BASE_RULE                                                              \
	"title: Failed login\nname: failed\nid: 11111111-aaaa\n"               \
	"level: low\ntags: [a.b, c]\n"                                         \
	"detection:\n  sel:\n    outcome: denied\n  condition: sel\n"

static void test_attributes(void)
{
	struct diag d;
	diag_init(&d);
	struct ruleset *rs = load(BASE_RULE, &d);
	CHECK_INT(diag_count(&d), 0);
	CHECK_INT(rs->n_rules, 1);
	struct rule *r = ruleset_find(rs, "failed");
	CHECK(r != NULL && r == ruleset_find(rs, "11111111-aaaa"));
	if (r) {
		CHECK_STR(r->title, "Failed login");
		CHECK_INT(r->level, LEVEL_LOW);
		CHECK_INT(r->n_tags, 2);
		CHECK_STR(r->tags[1], "c");
		CHECK(r->generate);
		CHECK_INT(r->line, 1);
	}
	ruleset_free(rs);
	diag_clear(&d);
}

static void test_problems(void)
{
	struct diag d;
	diag_init(&d);
	struct ruleset *rs = load("title: x\ndetecton:\n  a: b\n"
				  "detection:\n  sel:\n    a: b\n"
				  "  condition: sel\nlevel: severe\n",
				  &d);
	CHECK(has_problem(&d, 2, 1, "did you mean 'detection'"));
	CHECK(has_problem(&d, 8, 8, "unknown level 'severe'"));
	ruleset_free(rs);
	diag_clear(&d);

	rs = load("title: x\nlogsource: {product: y}\n", &d);
	CHECK(has_problem(&d, 1, 1, "neither 'detection' nor"));
	ruleset_free(rs);
	diag_clear(&d);

	rs = load("description: no title\ndetection:\n  sel:\n    a: b\n"
		  "  condition: sel\n",
		  &d);
	CHECK(has_problem(&d, 1, 1, "no 'title'"));
	ruleset_free(rs);
	diag_clear(&d);

	rs = load(BASE_RULE "---\n" BASE_RULE, &d);
	CHECK(has_problem(&d, 11, 1, "also defined at r.yml:1"));
	ruleset_free(rs);
	diag_clear(&d);

	rs = load("- a\n- b\n", &d);
	CHECK(has_problem(&d, 1, 1, "must be a mapping"));
	ruleset_free(rs);
	diag_clear(&d);
}

#define COUNT_RULE(title, name, input)                                         \
	"title: " title "\nname: " name "\ncorrelation:\n"                     \
	"  type: event_count\n  rules: [" input "]\n"                          \
	"  group-by: [agent]\n  timespan: 5m\n  condition:\n    gte: 3\n"

static void test_correlation_order_and_generate(void)
{
	struct diag d;
	diag_init(&d);
	/* the outer correlation comes first in the file */
	struct ruleset *rs =
	    load(COUNT_RULE("Outer", "outer", "inner") "---\n" COUNT_RULE(
		     "Inner", "inner", "failed") "---\n" BASE_RULE,
		 &d);
	CHECK_INT(diag_count(&d), 0);
	CHECK_INT(rs->n_rules, 3);
	CHECK_INT(rs->n_detections, 1);
	if (rs->n_rules == 3) {
		CHECK_STR(rs->rules[0]->name, "failed");
		CHECK_STR(rs->rules[1]->name, "inner");
		CHECK_STR(rs->rules[2]->name, "outer");
		CHECK(!rs->rules[0]->generate); /* referenced */
		CHECK(!rs->rules[1]->generate); /* referenced */
		CHECK(rs->rules[2]->generate);
		CHECK_INT(rs->rules[2]->index, 2);
	}
	ruleset_free(rs);

	rs = load(COUNT_RULE("Inner", "inner", "failed") "generate: true\n"
							 "---\n" BASE_RULE,
		  &d);
	CHECK_INT(diag_count(&d), 0);
	CHECK(ruleset_find(rs, "failed") &&
	      ruleset_find(rs, "failed")->generate);
	ruleset_free(rs);

	rs = load(COUNT_RULE("A", "a", "b") "---\n" COUNT_RULE("B", "b", "a"),
		  &d);
	CHECK(has_problem(&d, 1, 1, "cycle") &&
	      has_problem(&d, 11, 1, "cycle"));
	ruleset_free(rs);
	diag_clear(&d);

	rs = load(COUNT_RULE("A", "a", "nosuchrule"), &d);
	CHECK(diag_count(&d) >= 1);
	CHECK(d.n_entries > 0 && strstr(d.entries[0].message, "nosuchrule"));
	ruleset_free(rs);
	diag_clear(&d);
}

static void test_directory(void)
{
	struct diag d;
	diag_init(&d);
	struct ruleset *rs = ruleset_new();
	int n = ruleset_load_path(rs, "rules", &d);
	CHECK(n > 0);
	CHECK_INT(diag_count(&d), 0);
	CHECK_INT(ruleset_finish(rs, &d), 0);
	CHECK(ruleset_find(rs, "customer_record_view") != NULL);
	ruleset_free(rs);
	rs = ruleset_new();
	CHECK_INT(ruleset_load_path(rs, "no/such/dir", &d), -1);
	CHECK(has_problem(&d, 0, 0, "cannot open"));
	ruleset_free(rs);
	diag_clear(&d);
}

int main(void)
{
	test_attributes();
	test_problems();
	test_correlation_order_and_generate();
	test_directory();
	return check_done();
}
