/*
 * custos customer ID [--since 30d] [--until T] [--db FILE] [--config FILE]
 *                    [--json|--csv]
 *
 * Who accessed one customer's data, when, with or without a ticket: a
 * per-agent summary and every retained access event (access_events), plus
 * the alerts that name the customer.  --json/--csv print the access events
 * only (one row each), for a data-subject request or a case file.
 */
#include "custos.h"

#include "cli_util.h"

#include <getopt.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct customer_opts {
	const char *db, *config, *customer;
	int64_t from_ms, to_ms;
	enum cli_format fmt;
	int fmt_set;
};

static void customer_usage(FILE *f)
{
	fprintf(f, "usage: custos customer ID [--since 30d] [--until T] "
		   "[--db FILE] [--config FILE]\n"
		   "                          [--json|--csv]\n"
		   "  Who accessed this customer, when, with or without a "
		   "ticket (retained access\n  events), and the alerts naming "
		   "the customer.  --json/--csv: the access events.\n");
}

static int parse_customer_opts(struct customer_opts *o, int argc, char **argv)
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
	const char *since = "30d", *until = NULL;
	int64_t now = cli_now_ms();
	int c;

	while ((c = getopt_long(argc, argv, "d:c:s:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->db = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'u':
			until = optarg;
			break;
		case 'j':
			o->fmt = CLI_JSON;
			o->fmt_set = 1;
			break;
		case 'v':
			o->fmt = CLI_CSV;
			o->fmt_set = 1;
			break;
		case 'h':
			customer_usage(stdout);
			return -1;
		default:
			customer_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		customer_usage(stderr);
		return EXIT_USAGE;
	}
	o->customer = argv[optind];
	o->to_ms = INT64_MAX;
	if (cli_parse_time(since, now, &o->from_ms) < 0 ||
	    (until && cli_parse_time(until, now, &o->to_ms) < 0)) {
		fprintf(stderr, "custos: bad --since/--until (30d or RFC "
				"3339)\n");
		return EXIT_USAGE;
	}
	return 0;
}

static void where_customer(struct cli_sql *q, const struct customer_opts *o)
{
	cli_sql_add(q, " WHERE customer = ");
	cli_sql_text(q, o->customer);
	cli_sql_add(q, " AND ts_ms >= ");
	cli_sql_int(q, o->from_ms);
	cli_sql_add(q, " AND ts_ms < ");
	cli_sql_int(q, o->to_ms);
}

#define TS_SQL(col)                                                            \
	"strftime('%Y-%m-%dT%H:%M:%fZ', " col " / 1000.0, 'unixepoch')"

static struct cli_table *query_events(struct store *s,
				      const struct customer_opts *o)
{
	static const char *const cols[] = {
	    "ts", "agent", "team", "action", "object", "ticket", "source"};
	struct cli_sql q;
	struct cli_table *t;

	cli_sql_init(&q);
	cli_sql_add(&q,
		    "SELECT " TS_SQL(
			"ts_ms") ", agent, team, action,"
				 " object, ticket, source FROM access_events");
	where_customer(&q, o);
	cli_sql_add(&q, " ORDER BY ts_ms, id");
	t = cli_query(s, &q, 7, cols);
	cli_sql_clear(&q);
	return t;
}

static struct cli_table *query_by_agent(struct store *s,
					const struct customer_opts *o)
{
	static const char *const cols[] = {
	    "agent",	       "team",	  "#accesses", "#with_ticket",
	    "#without_ticket", "objects", "first",     "last"};
	struct cli_sql q;
	struct cli_table *t;

	cli_sql_init(&q);
	cli_sql_add(&q, "SELECT agent, max(team), count(*), sum(ticket IS NOT"
			" NULL), sum(ticket IS NULL), group_concat(DISTINCT"
			" object), " TS_SQL("min(ts_ms)") ", " TS_SQL(
			    "max(ts_ms)") " FROM access_events");
	where_customer(&q, o);
	cli_sql_add(&q, " GROUP BY agent ORDER BY sum(ticket IS NULL) DESC,"
			" count(*) DESC, agent");
	t = cli_query(s, &q, 8, cols);
	cli_sql_clear(&q);
	return t;
}

static struct cli_table *query_alerts(struct store *s,
				      const struct customer_opts *o)
{
	static const char *const cols[] = {"ts",    "level",  "rule_title",
					   "agent", "status", "id"};
	struct cli_sql q;
	struct cli_table *t;

	cli_sql_init(&q);
	cli_sql_add(&q, "SELECT ts, level, rule_title, agent, status, id FROM"
			" alerts");
	where_customer(&q, o);
	cli_sql_add(&q, " ORDER BY ts_ms, id");
	t = cli_query(s, &q, 6, cols);
	cli_sql_clear(&q);
	return t;
}

int cmd_customer(int argc, char **argv)
{
	struct customer_opts o = {0};
	struct cli_table *ev = NULL, *by = NULL, *al = NULL;
	struct store *s;
	int rc;

	cli_audit(argc, argv);
	if ((rc = parse_customer_opts(&o, argc, argv)) != 0)
		return rc < 0 ? 0 : rc;
	if ((s = cli_open_store(o.db, o.config)) == NULL)
		return EXIT_RUNTIME;
	rc = EXIT_RUNTIME;
	if ((ev = query_events(s, &o)) == NULL)
		goto out;
	rc = 0;
	if (o.fmt_set) {
		cli_table_print(ev, o.fmt, stdout);
		goto out;
	}
	if ((by = query_by_agent(s, &o)) == NULL ||
	    (al = query_alerts(s, &o)) == NULL) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	printf("customer %s: %zu accesses by %zu agents\n\nby agent:\n",
	       o.customer, cli_table_rows(ev), cli_table_rows(by));
	cli_table_print(by, CLI_TABLE, stdout);
	printf("\nalerts naming the customer (%zu):\n", cli_table_rows(al));
	cli_table_print(al, CLI_TABLE, stdout);
	printf("\naccesses:\n");
	cli_table_print(ev, CLI_TABLE, stdout);
out:
	cli_table_free(ev);
	cli_table_free(by);
	cli_table_free(al);
	store_close(s);
	return rc;
}
