/*
 * custos stats [--since 7d] [--until T] [--db FILE] [--config FILE]
 *              [--json|--csv]
 *
 * Alert counts over a period, by rule, level, agent and status.  --json and
 * --csv print one row per (dimension, key) with the count.
 */
#include "custos.h"

#include "cli_util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void stats_usage(FILE *f)
{
	fprintf(f, "usage: custos stats [--since 7d] [--until T] [--db FILE] "
		   "[--config FILE] [--json|--csv]\n"
		   "  Alerts per rule, level, agent and status over the "
		   "period.\n");
}

static const struct {
	const char *dim, *expr, *order;
} dims[] = {
    {"rule", "coalesce(rule_title, rule_id)", "n DESC, k"},
    {"level", "level", "max(level_num) DESC"},
    {"agent", "coalesce(agent, '-')", "n DESC, k"},
    {"status", "status", "n DESC, k"},
};

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, 0, 'd'},
	    {"config", required_argument, 0, 'c'},
	    {"since", required_argument, 0, 's'},
	    {"until", required_argument, 0, 'u'},
	    {"json", no_argument, 0, 'j'},
	    {"csv", no_argument, 0, 'v'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	static const char *const cols[] = {"dimension", "key", "#alerts"};
	const char *db = NULL, *config = NULL, *since = "7d", *until = NULL;
	enum cli_format fmt = CLI_TABLE;
	int64_t now = cli_now_ms(), from, to = INT64_MAX;
	struct cli_sql q;
	struct cli_table *t = NULL;
	struct store *s;
	int c, rc = EXIT_RUNTIME;

	cli_audit(argc, argv);
	while ((c = getopt_long(argc, argv, "d:c:s:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'u':
			until = optarg;
			break;
		case 'j':
			fmt = CLI_JSON;
			break;
		case 'v':
			fmt = CLI_CSV;
			break;
		case 'h':
			stats_usage(stdout);
			return 0;
		default:
			stats_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || cli_parse_time(since, now, &from) < 0 ||
	    (until && cli_parse_time(until, now, &to) < 0)) {
		stats_usage(stderr);
		return EXIT_USAGE;
	}
	if ((s = cli_open_store(db, config)) == NULL)
		return EXIT_RUNTIME;
	cli_sql_init(&q);
	for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		if (i)
			cli_sql_add(&q, " UNION ALL ");
		cli_sql_add(&q, "SELECT * FROM (SELECT '");
		cli_sql_add(&q, dims[i].dim);
		cli_sql_add(&q, "', ");
		cli_sql_add(&q, dims[i].expr);
		cli_sql_add(&q,
			    " AS k, count(*) AS n FROM alerts WHERE ts_ms >= ");
		cli_sql_int(&q, from);
		cli_sql_add(&q, " AND ts_ms < ");
		cli_sql_int(&q, to);
		cli_sql_add(&q, " GROUP BY k ORDER BY ");
		cli_sql_add(&q, dims[i].order);
		cli_sql_add(&q, ")");
	}
	if ((t = cli_query(s, &q, 3, cols)) != NULL) {
		if (cli_table_print(t, fmt, stdout) == 0)
			rc = 0;
	}
	cli_table_free(t);
	cli_sql_clear(&q);
	store_close(s);
	return rc;
}
