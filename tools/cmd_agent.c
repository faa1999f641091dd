/*
 * custos agent AGENT [--since 7d] [--until T] [--db FILE] [--config FILE]
 *                    [--json]
 *
 * One agent's timeline for an investigation: the agent's alerts, the
 * access events behind them (triggering events and evidence samples), and
 * per day (UTC) the distinct customers opened, accesses, and accesses
 * without a ticket, from the retained access events (access_events, kept
 * by `custos replay --keep-events` and the daemon), compared with the
 * agent's own median of daily distinct customers and with the median of
 * its team (every agent-day of the agents whose events carry the same
 * team, over the same period).
 */
#include "custos.h"

#include "cli_util.h"

#include <getopt.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define DAY_SQL "date(ts_ms / 1000, 'unixepoch')"

struct agent_opts {
	const char *db, *config, *since, *until, *agent;
	int64_t from_ms, to_ms;
	enum cli_format fmt;
};

static void agent_usage(FILE *f)
{
	fprintf(f, "usage: custos agent AGENT [--since 7d] [--until T] "
		   "[--db FILE] [--config FILE] [--json]\n"
		   "  The agent's alerts, the access events behind them, and "
		   "distinct customers\n  per day (UTC) against the agent's "
		   "own median and its team's.\n"
		   "  Daily figures need retained access events (replay "
		   "--keep-events, or the daemon).\n");
}

static int parse_agent_opts(struct agent_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, 0, 'd'},
	    {"config", required_argument, 0, 'c'},
	    {"since", required_argument, 0, 's'},
	    {"until", required_argument, 0, 'u'},
	    {"json", no_argument, 0, 'j'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	int64_t now = cli_now_ms();
	int c;

	o->since = "7d";
	while ((c = getopt_long(argc, argv, "d:c:s:u:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->db = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 's':
			o->since = optarg;
			break;
		case 'u':
			o->until = optarg;
			break;
		case 'j':
			o->fmt = CLI_JSON;
			break;
		case 'h':
			agent_usage(stdout);
			return -1;
		default:
			agent_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		agent_usage(stderr);
		return EXIT_USAGE;
	}
	o->agent = argv[optind];
	o->to_ms = INT64_MAX;
	if (cli_parse_time(o->since, now, &o->from_ms) < 0 ||
	    (o->until && cli_parse_time(o->until, now, &o->to_ms) < 0)) {
		fprintf(stderr, "custos: bad --since/--until (7d or RFC "
				"3339)\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* Appends " AND ts_ms >= from AND ts_ms < to" (column prefix p). */
static void add_window(struct cli_sql *q, const struct agent_opts *o,
		       const char *p)
{
	cli_sql_add(q, " AND ");
	cli_sql_add(q, p);
	cli_sql_add(q, "ts_ms >= ");
	cli_sql_int(q, o->from_ms);
	cli_sql_add(q, " AND ");
	cli_sql_add(q, p);
	cli_sql_add(q, "ts_ms < ");
	cli_sql_int(q, o->to_ms);
}

static struct cli_table *query_alerts(struct store *s,
				      const struct agent_opts *o)
{
	static const char *const cols[] = {"ts",     "level",  "rule_title",
					   "#value", "status", "id"};
	struct cli_sql q;
	struct cli_table *t;

	cli_sql_init(&q);
	cli_sql_add(&q, "SELECT ts, level, rule_title, printf('%.15g', value),"
			" status, id FROM alerts WHERE agent = ");
	cli_sql_text(&q, o->agent);
	add_window(&q, o, "");
	cli_sql_add(&q, " ORDER BY ts_ms, id");
	t = cli_query(s, &q, 6, cols);
	cli_sql_clear(&q);
	return t;
}

/* Triggering events and evidence samples of the agent's alerts. */
static struct cli_table *query_evidence(struct store *s,
					const struct agent_opts *o)
{
	static const char *const cols[] = {"ts",       "action", "object",
					   "customer", "ticket", "alerts"};
	struct cli_sql q;
	struct cli_table *t;

	cli_sql_init(&q);
	cli_sql_add(&q,
		    "WITH ev(alert_id, j) AS (SELECT a.id, a.event_json FROM"
		    " alerts a WHERE a.agent = ");
	cli_sql_text(&q, o->agent);
	add_window(&q, o, "a.");
	cli_sql_add(&q, " UNION ALL SELECT a.id, e.event_json FROM alerts a"
			" JOIN evidence e ON e.alert_id = a.id WHERE"
			" a.agent = ");
	cli_sql_text(&q, o->agent);
	add_window(&q, o, "a.");
	cli_sql_add(&q, ") SELECT json_extract(j, '$.ts') AS t,"
			" json_extract(j, '$.action'), json_extract(j,"
			" '$.object'), json_extract(j, '$.customer'),"
			" json_extract(j, '$.ticket'), count(DISTINCT alert_id)"
			" FROM ev WHERE json_extract(j, '$.agent') = ");
	cli_sql_text(&q, o->agent);
	cli_sql_add(&q, " GROUP BY j ORDER BY t");
	t = cli_query(s, &q, 6, cols);
	cli_sql_clear(&q);
	return t;
}

static struct cli_table *query_days(struct store *s, const struct agent_opts *o)
{
	static const char *const cols[] = {"day", "#distinct_customers",
					   "#accesses", "#without_ticket"};
	struct cli_sql q;
	struct cli_table *t;

	cli_sql_init(&q);
	cli_sql_add(&q, "SELECT " DAY_SQL " AS d, count(DISTINCT customer),"
			" count(*), sum(customer IS NOT NULL AND ticket IS"
			" NULL) FROM access_events WHERE agent = ");
	cli_sql_text(&q, o->agent);
	add_window(&q, o, "");
	cli_sql_add(&q, " GROUP BY d ORDER BY d");
	t = cli_query(s, &q, 4, cols);
	cli_sql_clear(&q);
	return t;
}

/* The agent's team (its most frequent team value in the period). */
static char *agent_team(struct store *s, const struct agent_opts *o)
{
	struct cli_sql q;
	sqlite3_stmt *st;
	char *team = NULL;

	cli_sql_init(&q);
	cli_sql_add(&q, "SELECT team FROM access_events WHERE team IS NOT"
			" NULL AND agent = ");
	cli_sql_text(&q, o->agent);
	add_window(&q, o, "");
	cli_sql_add(&q, " GROUP BY team ORDER BY count(*) DESC, team LIMIT 1");
	if ((st = cli_sql_prepare(s, &q)) != NULL) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW &&
		    (team = strdup((const char *)sqlite3_column_text(st, 0))) ==
			NULL)
			cli_error(NULL, "agent team");
		else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			cli_error(s, "agent team");
	}
	sqlite3_finalize(st);
	cli_sql_clear(&q);
	return team;
}

/* Median of daily distinct customers over agent-days: of one agent
 * (team == NULL) or of every agent of a team. */
static double median_daily(struct store *s, const struct agent_opts *o,
			   const char *team, size_t *n_days)
{
	struct cli_sql q;
	sqlite3_stmt *st;
	double *v = NULL, m = 0;
	size_t n = 0, cap = 0;

	cli_sql_init(&q);
	cli_sql_add(&q, "SELECT count(DISTINCT customer) FROM access_events"
			" WHERE ");
	cli_sql_add(&q, team ? "team = " : "agent = ");
	cli_sql_text(&q, team ? team : o->agent);
	add_window(&q, o, "");
	cli_sql_add(&q, " GROUP BY agent, " DAY_SQL);
	if ((st = cli_sql_prepare(s, &q)) != NULL) {
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (n == cap) {
				double *nv = realloc(v, (cap = cap * 2 + 64) *
							    sizeof(*v));
				if (nv == NULL)
					break;
				v = nv;
			}
			v[n++] = sqlite3_column_double(st, 0);
		}
		if (rc == SQLITE_ROW)
			cli_error(NULL, "daily customers");
		else if (rc != SQLITE_DONE)
			cli_error(s, "daily customers");
	}
	sqlite3_finalize(st);
	cli_sql_clear(&q);
	m = cli_median(v, n);
	free(v);
	*n_days = n;
	return m;
}

static void print_ratio(double x, double base)
{
	if (base > 0)
		printf("  x%-6.1f", x / base);
	else
		printf("  %-7s", "-");
}

static void print_days(const struct cli_table *d, double own, double team)
{
	printf("%-10s  %9s  %8s  %10s  %-7s  %-7s\n", "day", "customers",
	       "accesses", "no_ticket", "vs_own", "vs_team");
	for (size_t r = 0; r < cli_table_rows(d); r++) {
		double x = atof(cli_table_cell(d, r, 1));
		printf("%-10s  %9s  %8s  %10s", cli_table_cell(d, r, 0),
		       cli_table_cell(d, r, 1), cli_table_cell(d, r, 2),
		       cli_table_cell(d, r, 3));
		print_ratio(x, own);
		print_ratio(x, team);
		printf("\n");
	}
}

struct agent_view {
	struct cli_table *alerts, *evidence, *days;
	char *team;
	double own_median, team_median;
	size_t own_days, team_days;
};

static void print_view(const struct agent_opts *o, const struct agent_view *v)
{
	char from[32];

	alert_format_ts(o->from_ms, from, sizeof(from));
	printf("agent %s (team %s), since %s\n\n", o->agent,
	       v->team ? v->team : "unknown", from);
	printf("alerts (%zu):\n", cli_table_rows(v->alerts));
	cli_table_print(v->alerts, CLI_TABLE, stdout);
	printf("\naccess events behind the alerts (%zu):\n",
	       cli_table_rows(v->evidence));
	cli_table_print(v->evidence, CLI_TABLE, stdout);
	printf("\ndistinct customers per day (own median %.1f over %zu days; "
	       "team median %.1f over %zu agent-days):\n",
	       v->own_median, v->own_days, v->team_median, v->team_days);
	if (cli_table_rows(v->days) == 0)
		printf("  (no retained access events for this agent: run "
		       "replay --keep-events)\n");
	else
		print_days(v->days, v->own_median, v->team_median);
}

static void print_view_json(const struct agent_opts *o,
			    const struct agent_view *v)
{
	json_t *j = json_pack(
	    "{s:s, s:s?, s:I, s:o, s:o, s:o, s:f, s:f, s:I, s:I}", "agent",
	    o->agent, "team", v->team, "since_ms", (json_int_t)o->from_ms,
	    "alerts", cli_table_json(v->alerts), "evidence",
	    cli_table_json(v->evidence), "days", cli_table_json(v->days),
	    "own_median", v->own_median, "team_median", v->team_median,
	    "own_days", (json_int_t)v->own_days, "team_agent_days",
	    (json_int_t)v->team_days);
	/* json_dumpf, not json_dumps: see cli_util.c print_json */
	if (j == NULL ||
	    json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER))
		cli_error(NULL, "agent");
	else
		putchar('\n');
	json_decref(j);
}

int cmd_agent(int argc, char **argv)
{
	struct agent_opts o = {0};
	struct agent_view v = {0};
	struct store *s;
	int rc;

	cli_audit(argc, argv);
	if ((rc = parse_agent_opts(&o, argc, argv)) != 0)
		return rc < 0 ? 0 : rc;
	if ((s = cli_open_store(o.db, o.config)) == NULL)
		return EXIT_RUNTIME;
	rc = EXIT_RUNTIME;
	if ((v.alerts = query_alerts(s, &o)) == NULL ||
	    (v.evidence = query_evidence(s, &o)) == NULL ||
	    (v.days = query_days(s, &o)) == NULL)
		goto out;
	v.team = agent_team(s, &o);
	v.own_median = median_daily(s, &o, NULL, &v.own_days);
	if (v.team)
		v.team_median = median_daily(s, &o, v.team, &v.team_days);
	if (o.fmt == CLI_JSON)
		print_view_json(&o, &v);
	else
		print_view(&o, &v);
	rc = 0;
out:
	cli_table_free(v.alerts);
	cli_table_free(v.evidence);
	cli_table_free(v.days);
	free(v.team);
	store_close(s);
	return rc;
}
