/*
 * custos blast-radius --agent A [--agent B ...] [--since T] [--until T]
 *                     [--db FILE] [--config FILE] [--json|--csv]
 *
 * After a breach: every customer the given agents touched in the period
 * (retained access events), with how many accesses with and without a
 * ticket, which kinds of data (objects) and actions, first and last access
 * and by which of the agents — the notification list.  Default period: all
 * retained events.
 */
#include "custos.h"

#include "cli_util.h"

#include <getopt.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define MAX_AGENTS 32

struct blast_opts {
	const char *db, *config, *since, *until;
	const char *agents[MAX_AGENTS];
	int n_agents;
	enum cli_format fmt;
};

static void blast_usage(FILE *f)
{
	fprintf(f,
		"usage: custos blast-radius --agent A [--agent B]... "
		"[--since T] [--until T]\n"
		"                             [--db FILE] [--config FILE] "
		"[--json|--csv]\n"
		"  Every customer these agents accessed (retained access "
		"events): with/without\n  ticket, which data kinds, first "
		"and last access.  Up to %d agents.\n",
		MAX_AGENTS);
}

static int parse_blast_opts(struct blast_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, 0, 'd'},
	    {"config", required_argument, 0, 'c'},
	    {"agent", required_argument, 0, 'a'},
	    {"since", required_argument, 0, 's'},
	    {"until", required_argument, 0, 'u'},
	    {"json", no_argument, 0, 'j'},
	    {"csv", no_argument, 0, 'v'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	int c;

	while ((c = getopt_long(argc, argv, "d:c:a:s:u:h", opts, NULL)) != -1) {
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
		case 'v':
			o->fmt = CLI_CSV;
			break;
		case 'a':
			if (o->n_agents == MAX_AGENTS) {
				fprintf(stderr, "custos: too many --agent\n");
				return EXIT_USAGE;
			}
			o->agents[o->n_agents++] = optarg;
			break;
		case 'h':
			blast_usage(stdout);
			return -1;
		default:
			blast_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (o->n_agents == 0 || optind != argc) {
		blast_usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/* Builds the query; EXIT_USAGE on a bad time. */
static int build(struct cli_sql *q, const struct blast_opts *o)
{
	int64_t now = cli_now_ms(), t;

	cli_sql_add(q, "SELECT customer, count(*), sum(ticket IS NOT NULL),"
		       " sum(ticket IS NULL), group_concat(DISTINCT object),"
		       " group_concat(DISTINCT action),"
		       " strftime('%Y-%m-%dT%H:%M:%fZ', min(ts_ms) / 1000.0,"
		       " 'unixepoch'), strftime('%Y-%m-%dT%H:%M:%fZ',"
		       " max(ts_ms) / 1000.0, 'unixepoch'),"
		       " group_concat(DISTINCT agent) FROM access_events"
		       " WHERE customer IS NOT NULL AND agent IN (");
	for (int i = 0; i < o->n_agents; i++) {
		if (i)
			cli_sql_add(q, ", ");
		cli_sql_text(q, o->agents[i]);
	}
	cli_sql_add(q, ")");
	if (o->since) {
		if (cli_parse_time(o->since, now, &t) < 0)
			goto bad;
		cli_sql_add(q, " AND ts_ms >= ");
		cli_sql_int(q, t);
	}
	if (o->until) {
		if (cli_parse_time(o->until, now, &t) < 0)
			goto bad;
		cli_sql_add(q, " AND ts_ms < ");
		cli_sql_int(q, t);
	}
	cli_sql_add(q, " GROUP BY customer ORDER BY customer");
	return 0;
bad:
	fprintf(stderr, "custos: bad --since/--until (7d or RFC 3339)\n");
	return EXIT_USAGE;
}

int cmd_blast(int argc, char **argv)
{
	static const char *const cols[] = {
	    "customer",	       "#accesses", "#with_ticket",
	    "#without_ticket", "objects",   "actions",
	    "first",	       "last",	    "agents"};
	struct blast_opts o = {0};
	struct cli_sql q;
	struct cli_table *t = NULL;
	struct store *s = NULL;
	int rc;

	cli_audit(argc, argv);
	if ((rc = parse_blast_opts(&o, argc, argv)) != 0)
		return rc < 0 ? 0 : rc;
	cli_sql_init(&q);
	if ((rc = build(&q, &o)) != 0)
		goto out;
	rc = EXIT_RUNTIME;
	if ((s = cli_open_store(o.db, o.config)) == NULL ||
	    (t = cli_query(s, &q, 9, cols)) == NULL)
		goto out;
	if (cli_table_print(t, o.fmt, stdout) < 0)
		goto out;
	if (o.fmt == CLI_TABLE)
		fprintf(stderr, "custos: %zu customers\n", cli_table_rows(t));
	rc = 0;
out:
	cli_table_free(t);
	cli_sql_clear(&q);
	store_close(s);
	return rc;
}
