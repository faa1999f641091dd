/*
 * custos replay [--rules PATH]... [--config FILE] [--db FILE] FILE...
 *
 * Evaluates the rules over JSON-lines access logs in event time, with no
 * daemon: prints one JSON alert per line on stdout and, with --db, stores
 * the alerts (idempotently: replaying the same input twice stores nothing
 * new).  Files are read one after another in the order given; "-" is
 * standard input.  A malformed line is counted and reported on stderr as
 * file:line: reason (the first REPORT_MAX per file), never fatal.
 * The wall clock is read only for the store's created_ms column.
 *
 * --pcap FILE (repeatable) also evaluates the access events extracted from
 * a capture of HTTP traffic (.pcap/.pcapng) with the route map of the
 * config's pcap input (see pcap_http.h); the JSON files, if any, are read
 * first.
 *
 * --keep-events (with --db) also retains every access event in the store's
 * access_events table (agent timeline, customer view, blast radius).
 */
#include "custos.h"

#include "agentdir.h"
#include "enrich.h"
#include "config.h"
#include "decode.h"
#include "decode_json.h"
#include "engine.h"
#include "lines.h"
#include "normalize.h"
#include "pcap_source.h"
#include "rules.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_RULE_PATHS 64
#define REPORT_MAX 20	 /* malformed lines reported per file */
#define STORE_BATCH 1000 /* alerts per store transaction */

struct replay {
	const char *rule_paths[MAX_RULE_PATHS];
	size_t n_rule_paths;
	const char *pcap_paths[MAX_RULE_PATHS];
	size_t n_pcap_paths;
	const char *config_path;
	const char *db_path;
	int quiet;
	int keep_events; /* --keep-events: retain access events in the store */
	struct config *config;
	struct ruleset *rules;
	struct fieldmap *field_map;
	struct engine *engine;
	struct store *store;
	size_t n_in_batch;
	int64_t now_ms;
	uint64_t n_lines, n_malformed, n_alerts, n_stored, n_truncated;
	uint64_t n_nomem; /* lines dropped or events not fully enriched:
			     out of memory (the engine counts its own) */
	int failed;
	struct event_buf *pcap_buf; /* --pcap events enriched (enrich.h) */
};

static void replay_usage(FILE *f)
{
	fprintf(f, "usage: custos replay [--rules PATH]... [--config FILE] "
		   "[--db FILE] [--quiet] [--pcap FILE]... [FILE...]\n"
		   "  Evaluates rules over JSON-lines logs in event time and "
		   "prints one JSON\n  alert per line.  FILE may be '-' for "
		   "standard input.\n"
		   "  --rules PATH   rule file or directory (repeatable; "
		   "default: the config's)\n"
		   "  --config FILE  field map, lists and limits\n"
		   "  --db FILE      also store alerts in this SQLite file\n"
		   "  --quiet        no summary on stderr\n"
		   "  --keep-events  also retain the access events in the "
		   "--db store\n"
		   "  --pcap FILE    also events from an HTTP capture "
		   "(repeatable; route map:\n"
		   "                 the config's pcap input)\n");
}

static int parse_args(struct replay *rp, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"rules", required_argument, 0, 'r'},
	    {"config", required_argument, 0, 'c'},
	    {"db", required_argument, 0, 'd'},
	    {"quiet", no_argument, 0, 'q'},
	    {"keep-events", no_argument, 0, 'k'},
	    {"pcap", required_argument, 0, 'p'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	int c;

	while ((c = getopt_long(argc, argv, "r:c:d:qp:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (rp->n_rule_paths == MAX_RULE_PATHS) {
				fprintf(stderr, "custos: too many --rules\n");
				return EXIT_USAGE;
			}
			rp->rule_paths[rp->n_rule_paths++] = optarg;
			break;
		case 'c':
			rp->config_path = optarg;
			break;
		case 'd':
			rp->db_path = optarg;
			break;
		case 'q':
			rp->quiet = 1;
			break;
		case 'k':
			rp->keep_events = 1;
			break;
		case 'p':
			if (rp->n_pcap_paths == MAX_RULE_PATHS) {
				fprintf(stderr, "custos: too many --pcap\n");
				return EXIT_USAGE;
			}
			rp->pcap_paths[rp->n_pcap_paths++] = optarg;
			break;
		case 'h':
			replay_usage(stdout);
			return -1;
		default:
			replay_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if ((optind >= argc && rp->n_pcap_paths == 0) ||
	    (rp->keep_events && rp->db_path == NULL)) {
		replay_usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/* Loads config (optional) and rules; prints every problem.  Returns 0 or
 * EXIT_USAGE. */
static int load_setup(struct replay *rp)
{
	struct diag d;
	int rc = 0;

	diag_init(&d);
	if (rp->config_path &&
	    (rp->config = config_load(rp->config_path, &d)) == NULL)
		goto fail;
	rp->rules = ruleset_new();
	if (rp->rules == NULL ||
	    (rp->config &&
	     ruleset_set_lists(rp->rules, &rp->config->lists) < 0)) {
		fprintf(stderr, "custos: out of memory\n");
		goto fail;
	}
	for (size_t i = 0; i < rp->n_rule_paths; i++)
		ruleset_load_path(rp->rules, rp->rule_paths[i], &d);
	for (size_t i = 0; rp->n_rule_paths == 0 && rp->config &&
			   i < rp->config->n_rule_paths;
	     i++)
		ruleset_load_path(rp->rules, rp->config->rule_paths[i], &d);
	if (rp->n_rule_paths == 0 &&
	    (rp->config == NULL || rp->config->n_rule_paths == 0)) {
		fprintf(stderr, "custos: no rules (use --rules PATH)\n");
		goto fail;
	}
	if (diag_count(&d) == 0)
		ruleset_finish(rp->rules, &d);
	if (diag_count(&d))
		goto fail;
	diag_clear(&d);
	return 0;
fail:
	diag_print(&d, stderr);
	diag_clear(&d);
	rc = EXIT_USAGE;
	return rc;
}

/* An input or an alert lost or incomplete because memory ran out: counted
 * (summary), shown once per run, and replay exits 1. */
static void lost_nomem(struct replay *rp, const char *path, uint64_t line_no,
		       const char *what)
{
	if (rp->n_nomem++ == 0)
		fprintf(stderr, "%s:%llu: out of memory: %s\n", path,
			(unsigned long long)line_no, what);
	rp->failed = 1;
}

static void store_alert(struct replay *rp, const struct alert *a)
{
	int rc;

	if (rp->n_in_batch == 0 && store_begin(rp->store) < 0)
		goto fail;
	rc = store_add_alert(rp->store, a, rp->now_ms);
	if (rc < 0)
		goto fail;
	rp->n_stored += (uint64_t)rc;
	if (++rp->n_in_batch == STORE_BATCH) {
		if (store_commit(rp->store) < 0)
			goto fail;
		rp->n_in_batch = 0;
	}
	return;
fail:
	if (!rp->failed)
		fprintf(stderr, "custos: %s: cannot store alert\n",
			rp->db_path);
	rp->failed = 1;
}

/* --keep-events: the event joins the current store batch. */
static void keep_event(struct replay *rp, const struct event *ev)
{
	if (!rp->keep_events || rp->store == NULL || rp->failed)
		return;
	if ((rp->n_in_batch == 0 && store_begin(rp->store) < 0) ||
	    store_add_access_event(rp->store, ev) < 0) {
		fprintf(stderr, "custos: %s: %s\n", rp->db_path,
			store_errmsg(rp->store));
		rp->failed = 1;
		return;
	}
	if (++rp->n_in_batch >= STORE_BATCH) {
		if (store_commit(rp->store) < 0)
			rp->failed = 1;
		rp->n_in_batch = 0;
	}
}

static void on_alert(const struct alert *a, void *arg)
{
	struct replay *rp = arg;
	char *json = alert_to_json(a);

	rp->n_alerts++;
	if (json == NULL) {
		lost_nomem(rp, a->source_path ? a->source_path : "-",
			   a->source_line, "an alert not printed");
		return;
	}
	fputs(json, stdout);
	fputc('\n', stdout);
	free(json);
	if (rp->store && !rp->failed)
		store_alert(rp, a);
}

static void report_malformed(struct replay *rp, const char *path,
			     uint64_t line_no, const char *why,
			     uint64_t *n_reported)
{
	rp->n_malformed++;
	if ((*n_reported)++ < REPORT_MAX)
		fprintf(stderr, "%s:%llu: malformed event: %s\n", path,
			(unsigned long long)line_no, why);
}

/* Decodes, normalizes and evaluates every line of one open file. */
static int replay_fd(struct replay *rp, int fd, const char *path,
		     struct event_buf *buf)
{
	struct line_reader *lr =
	    line_reader_new(fd, rp->config ? rp->config->max_line_bytes
					   : LINES_DEFAULT_MAX_BYTES);
	uint64_t line_no = 0, n_reported = 0, offset;
	const char *line;
	size_t len;
	bool truncated;
	char err[256];
	int rc;

	if (lr == NULL) {
		lost_nomem(rp, path, 0, "file not read");
		return -1;
	}
	while ((rc = line_reader_next(lr, &line, &len, &truncated, &offset)) >
	       0) {
		struct event ev;
		line_no++;
		rp->n_lines++;
		if (len == 0)
			continue;
		if (truncated) {
			rp->n_truncated++;
			report_malformed(rp, path, line_no, "line too long",
					 &n_reported);
			continue;
		}
		errno = 0;
		if (decode_json(buf, line, len, &ev, err, sizeof(err)) < 0 ||
		    normalize_event(rp->field_map, buf, &ev, err, sizeof(err)) <
			0) {
			if (errno == ENOMEM) /* not the line's fault */
				lost_nomem(rp, path, line_no, "line dropped");
			else
				report_malformed(rp, path, line_no, err,
						 &n_reported);
			continue;
		}
		ev.source =
		    (struct event_source){"replay", path, line_no, offset};
		if (rp->config &&
		    agentdir_enrich(rp->config->agents, buf, &ev) < 0)
			lost_nomem(rp, path, line_no,
				   "directory fields missing");
		keep_event(rp, &ev);
		if (engine_process(rp->engine, &ev) < 0)
			rp->failed = 1;
	}
	if (rc < 0)
		fprintf(stderr, "custos: %s: read error: %s\n", path,
			strerror(errno));
	if (n_reported > REPORT_MAX)
		fprintf(stderr, "%s: %llu more malformed lines not shown\n",
			path, (unsigned long long)(n_reported - REPORT_MAX));
	line_reader_free(lr);
	return rc < 0 ? -1 : 0;
}

static int replay_file(struct replay *rp, const char *path,
		       struct event_buf *buf)
{
	int is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "custos: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = replay_fd(rp, fd, is_stdin ? "<stdin>" : path, buf);
	if (!is_stdin)
		close(fd);
	return rc;
}

static int open_outputs(struct replay *rp)
{
	struct engine_limits lim;
	char err[256];

	if (rp->config)
		lim = rp->config->limits;
	else
		engine_limits_default(&lim);
	if (rp->config && rp->config->field_map) {
		rp->field_map = rp->config->field_map; /* borrowed */
	} else {
		struct diag d;
		diag_init(&d);
		rp->field_map = fieldmap_compile(NULL, NULL, &d);
		diag_clear(&d);
		if (rp->field_map == NULL)
			goto oom;
	}
	rp->engine = engine_new(rp->rules, &lim, on_alert, rp);
	if (rp->engine == NULL)
		goto oom;
	if (rp->config)
		engine_set_agentdir(rp->engine, rp->config->agents);
	if (rp->db_path &&
	    (rp->store = store_open(rp->db_path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "custos: %s: %s\n", rp->db_path, err);
		return -1;
	}
	rp->now_ms = (int64_t)time(NULL) * 1000;
	return 0;
oom:
	fprintf(stderr, "custos: out of memory\n");
	return -1;
}

/* The summary on stderr; buf is the one the input files were decoded in. */
static void print_summary(const struct replay *rp, const struct event_buf *buf)
{
	struct engine_stats st;
	uint64_t key_clears = event_buf_key_clears(buf);

	engine_get_stats(rp->engine, &st);
	fprintf(stderr,
		"custos: %llu lines, %llu events, %llu malformed, "
		"%llu alerts",
		(unsigned long long)rp->n_lines,
		(unsigned long long)st.n_events,
		(unsigned long long)rp->n_malformed,
		(unsigned long long)rp->n_alerts);
	if (rp->store)
		fprintf(stderr, " (%llu new in store)",
			(unsigned long long)rp->n_stored);
	fprintf(stderr, "\n");
	if (st.n_late_events || st.n_groups_evicted || st.n_window_overflow ||
	    st.n_distinct_overflow || st.n_re_limit)
		fprintf(stderr,
			"custos: limits hit: %llu late events, %llu groups "
			"evicted, %llu window overflows, %llu distinct "
			"overflows, %llu regex limits\n",
			(unsigned long long)st.n_late_events,
			(unsigned long long)st.n_groups_evicted,
			(unsigned long long)st.n_window_overflow,
			(unsigned long long)st.n_distinct_overflow,
			(unsigned long long)st.n_re_limit);
	if (st.n_ext_cap_hits || st.n_suppressed)
		fprintf(stderr,
			"custos: extensions: %llu alerts suppressed, %llu "
			"state bound hits\n",
			(unsigned long long)st.n_suppressed,
			(unsigned long long)st.n_ext_cap_hits);
	if (key_clears || st.n_unshared)
		fprintf(stderr,
			"custos: caches full: %llu key cache clears, %zu rule "
			"units unshared\n",
			(unsigned long long)key_clears, st.n_unshared);
}

/* Allocation failures (lines dropped, events partly enriched or
 * evaluated: alerts, their evidence or extension state lost): said even
 * with --quiet, since they make replay exit 1 with its output incomplete
 * (engine_finish() counts without returning: rp->failed is set here).
 */
static void report_nomem(struct replay *rp)
{
	struct engine_stats st;

	engine_get_stats(rp->engine, &st);
	if (st.n_nomem + rp->n_nomem == 0)
		return;
	rp->failed = 1;
	fprintf(stderr,
		"custos: out of memory: %llu allocation failures; alerts "
		"or their evidence may be missing or incomplete\n",
		(unsigned long long)(st.n_nomem + rp->n_nomem));
}

static int pcap_event(void *arg, const struct event *in)
{
	struct replay *rp = arg;
	struct event enriched, *ev = &enriched;

	if (enrich_copy(rp->config ? rp->config->agents : NULL, rp->pcap_buf,
			in, &enriched) < 0)
		lost_nomem(rp, in->source.path ? in->source.path : "<pcap>",
			   in->source.line, "directory fields missing");
	keep_event(rp, ev);
	if (engine_process(rp->engine, ev) < 0)
		rp->failed = 1;
	return 0;
}

/* Evaluates the events of every --pcap capture. */
static void replay_pcaps(struct replay *rp)
{
	struct pcap_source src;
	struct pcap_http_stats st;

	if (pcap_source_from_config(&src, rp->config, NULL) < 0) {
		rp->failed = 1;
		return;
	}
	if ((rp->pcap_buf = event_buf_new(rp->rules->fields)) == NULL) {
		fprintf(stderr, "custos: out of memory\n");
		rp->failed = 1;
		pcap_source_clear(&src);
		return;
	}
	for (size_t i = 0; i < rp->n_pcap_paths; i++) {
		const char *path = rp->pcap_paths[i];
		if (pcap_source_run(&src, rp->rules->fields, path, false,
				    pcap_event, rp, &st) < 0)
			rp->failed = 1;
		else if (!rp->quiet)
			pcap_source_print_stats(path, &st, stderr);
	}
	pcap_source_clear(&src);
	event_buf_free(rp->pcap_buf);
	rp->pcap_buf = NULL;
}

static void replay_clear(struct replay *rp)
{
	store_close(rp->store);
	engine_free(rp->engine);
	if (!(rp->config && rp->field_map == rp->config->field_map))
		fieldmap_free(rp->field_map);
	ruleset_free(rp->rules);
	config_free(rp->config);
}

int cmd_replay(int argc, char **argv)
{
	struct replay rp = {0};
	struct event_buf *buf = NULL;
	int rc = parse_args(&rp, argc, argv);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = load_setup(&rp)) != 0)
		goto out;
	rc = EXIT_RUNTIME;
	if (open_outputs(&rp) < 0)
		goto out;
	if ((buf = event_buf_new(rp.rules->fields)) == NULL) {
		fprintf(stderr, "custos: out of memory\n");
		goto out;
	}
	for (int i = optind; i < argc; i++)
		if (replay_file(&rp, argv[i], buf) < 0)
			rp.failed = 1;
	if (rp.n_pcap_paths)
		replay_pcaps(&rp);
	engine_finish(rp.engine);
	if (rp.store && rp.n_in_batch && store_commit(rp.store) < 0)
		rp.failed = 1;
	if (fflush(stdout) != 0)
		rp.failed = 1;
	if (!rp.quiet)
		print_summary(&rp, buf);
	report_nomem(&rp);
	rc = rp.failed ? EXIT_RUNTIME : 0;
out:
	event_buf_free(buf);
	replay_clear(&rp);
	return rc;
}
