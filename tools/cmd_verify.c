/*
 * custos verify [--db FILE] [--config FILE] [--seal] [--json]
 *
 * Tamper evidence: recomputes the store's hash chain (chain.h) and prints
 * every altered, deleted, reordered or inserted alert/triage row, purge
 * skeletons without a matching purge marker, head and seal mismatches and
 * alerts whose status disagrees with their triage history, first problem
 * first.  Exit 0 when intact, 1 on tampering (or error).
 *
 * --seal also records a seal of the current head (store_seal) and prints
 * it: copy it somewhere the store's writers cannot change (the daemon
 * sends its periodic seals to syslog).
 */
#include "custos.h"

#include "cli_util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void verify_usage(FILE *f)
{
	fprintf(f, "usage: custos verify [--db FILE] [--config FILE] [--seal]\n"
		   "  Recomputes the alert store's hash chain; reports the "
		   "first altered, deleted,\n  reordered or inserted row and "
		   "seal mismatches.  Exit 1 on tampering.\n"
		   "  --seal  also record (and print) a seal of the current "
		   "chain head\n");
}

static int do_seal(struct store *s)
{
	char head[65];

	if (store_begin(s) < 0 || store_seal(s, cli_now_ms(), head) < 0 ||
	    store_commit(s) < 0) {
		fprintf(stderr, "custos: seal: %s\n", store_errmsg(s));
		return -1;
	}
	printf("sealed chain head %s\n", head);
	return 0;
}

static void print_report(const struct chain_report *r)
{
	for (size_t i = 0; i < r->n_problems && i < CHAIN_MAX_PROBLEMS; i++) {
		const struct chain_problem *p = &r->problems[i];
		printf("TAMPERED seq %lld %s %s: %s\n", (long long)p->seq,
		       p->kind, p->ref[0] ? p->ref : "-", p->what);
	}
	if (r->n_problems > CHAIN_MAX_PROBLEMS)
		printf("... %zu more problems\n",
		       r->n_problems - CHAIN_MAX_PROBLEMS);
	printf("%s: %lld chain entries (%lld live, %lld purged), %lld seals, "
	       "%zu problems\n",
	       r->n_problems ? "FAILED" : "OK", (long long)r->n_entries,
	       (long long)r->n_live, (long long)r->n_purged,
	       (long long)r->n_seals, r->n_problems);
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, 0, 'd'},
	    {"config", required_argument, 0, 'c'},
	    {"seal", no_argument, 0, 'S'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	const char *db = NULL, *config = NULL;
	static struct chain_report r; /* ~30 KiB */
	struct store *s;
	int c, seal = 0, rc = EXIT_RUNTIME;

	cli_audit(argc, argv);
	while ((c = getopt_long(argc, argv, "d:c:h", opts, NULL)) != -1) {
		if (c == 'd')
			db = optarg;
		else if (c == 'c')
			config = optarg;
		else if (c == 'S')
			seal = 1;
		else {
			verify_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : EXIT_USAGE;
		}
	}
	if (optind != argc) {
		verify_usage(stderr);
		return EXIT_USAGE;
	}
	if ((s = cli_open_store(db, config)) == NULL)
		return EXIT_RUNTIME;
	if (store_verify(s, &r) < 0) {
		fprintf(stderr, "custos: %s\n", store_errmsg(s));
		goto out;
	}
	print_report(&r);
	if (r.n_problems == 0 && seal && do_seal(s) < 0)
		goto out;
	rc = r.n_problems ? EXIT_RUNTIME : 0;
out:
	store_close(s);
	return rc;
}
