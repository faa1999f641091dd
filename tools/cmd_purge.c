/*
 * custos purge [--older-than 90d] [--max-events N] [--db FILE]
 *              [--config FILE]
 *
 * Retention: deletes alerts (with their evidence and triage), retained
 * access events and expired suppressions older than the cut-off, and
 * access events beyond the newest N, with PRAGMA secure_delete=ON and a
 * WAL truncation so the personal data does not linger in free pages.  The
 * hash chain stays verifiable (store_purge keeps skeletons and chains a
 * purge marker).  Meant for a daily timer.  The cut-off is relative to the
 * wall clock (CUSTOS_NOW pins it).
 */
#include "custos.h"

#include "cli_util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void purge_usage(FILE *f)
{
	fprintf(f, "usage: custos purge [--older-than 90d] [--max-events N] "
		   "[--db FILE] [--config FILE]\n"
		   "  Deletes alerts, evidence, triage, access events and "
		   "expired suppressions\n  older than the cut-off (secure "
		   "delete; the hash chain stays verifiable).\n"
		   "  --max-events N  also keep at most the newest N access "
		   "events\n");
}

int cmd_purge(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, 0, 'd'},
	    {"config", required_argument, 0, 'c'},
	    {"older-than", required_argument, 0, 'o'},
	    {"max-events", required_argument, 0, 'm'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	const char *db = NULL, *config = NULL, *older = "90d";
	struct store_purge p = {0};
	struct store_purge_counts n;
	struct store *s;
	int64_t age;
	int c;

	cli_audit(argc, argv);
	while ((c = getopt_long(argc, argv, "d:c:o:m:h", opts, NULL)) != -1) {
		if (c == 'd')
			db = optarg;
		else if (c == 'c')
			config = optarg;
		else if (c == 'o')
			older = optarg;
		else if (c == 'm')
			p.max_events = strtoll(optarg, NULL, 10);
		else {
			purge_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : EXIT_USAGE;
		}
	}
	if (optind != argc || cli_parse_duration(older, &age) < 0 ||
	    p.max_events < 0) {
		purge_usage(stderr);
		return EXIT_USAGE;
	}
	p.now_ms = cli_now_ms();
	p.cutoff_ms = p.now_ms - age;
	p.user = cli_user();
	if ((s = cli_open_store(db, config)) == NULL)
		return EXIT_RUNTIME;
	if (store_purge(s, &p, &n) < 0) {
		fprintf(stderr, "custos: purge: %s\n", store_errmsg(s));
		store_close(s);
		return EXIT_RUNTIME;
	}
	printf("purged %lld alerts, %lld triage rows, %lld access events, "
	       "%lld suppressions\n",
	       (long long)n.n_alerts, (long long)n.n_triage,
	       (long long)n.n_events, (long long)n.n_suppressions);
	store_close(s);
	return 0;
}
