/*
 * custos lint [-v] PATH...: loads every rule file (directories recursively)
 * into one rule set, so that references across files resolve, and reports
 * every problem as file:line:column: message.  Exit 2 on any problem.
 * With -v, prints the compiled form of each rule (golden tests diff it).
 * With --config FILE, the configuration is checked too and its lists
 * (`lists:`, list files included) are the ones `expand` rules see; its
 * problems are reported the same way.
 */
#include "custos.h"

#include "config.h"
#include "correlation.h"
#include "detection.h"
#include "rules.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void lint_usage(FILE *f)
{
	fprintf(f, "usage: custos lint [-v] [--config FILE] PATH...\n"
		   "  Validates Sigma rule files (and directories of them).\n"
		   "  -v  print the compiled form of every rule\n"
		   "  -c, --config FILE  check FILE too; rules see its "
		   "lists\n");
}

static void dump_rules(const struct ruleset *rs)
{
	for (size_t i = 0; i < rs->n_rules; i++) {
		const struct rule *r = rs->rules[i];
		printf("rule %s (%s) level=%s generate=%s\n",
		       r->name ? r->name : (r->id ? r->id : "-"), r->title,
		       rule_level_name(r->level), r->generate ? "yes" : "no");
		if (r->detection)
			detection_dump(r->detection, rs->fields, stdout);
		else
			correlation_dump(r->correlation, stdout);
	}
}

int cmd_lint(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"verbose", no_argument, 0, 'v'},
	    {"config", required_argument, 0, 'c'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	int verbose = 0, c;
	const char *config_path = NULL;
	struct config *cfg = NULL;
	struct diag d;

	while ((c = getopt_long(argc, argv, "vc:h", opts, NULL)) != -1) {
		if (c == 'v')
			verbose = 1;
		else if (c == 'c')
			config_path = optarg;
		else if (c == 'h') {
			lint_usage(stdout);
			return 0;
		} else {
			lint_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		lint_usage(stderr);
		return EXIT_USAGE;
	}
	struct ruleset *rs = ruleset_new();
	if (rs == NULL) {
		fprintf(stderr, "custos lint: out of memory\n");
		return EXIT_RUNTIME;
	}
	diag_init(&d);
	if (config_path && (cfg = config_load(config_path, &d)) != NULL &&
	    ruleset_set_lists(rs, &cfg->lists) < 0) {
		fprintf(stderr, "custos lint: out of memory\n");
		config_free(cfg);
		ruleset_free(rs);
		diag_clear(&d);
		return EXIT_RUNTIME;
	}
	for (int i = optind; i < argc; i++)
		ruleset_load_path(rs, argv[i], &d);
	if (diag_count(&d) == 0)
		ruleset_finish(rs, &d);
	int rc = diag_count(&d) ? EXIT_USAGE : 0;
	if (rc) {
		diag_print(&d, stderr);
	} else {
		if (verbose)
			dump_rules(rs);
		printf("OK: %zu rules in %zu files\n", rs->n_rules,
		       rs->n_files);
	}
	diag_clear(&d);
	ruleset_free(rs);
	config_free(cfg);
	return rc;
}
