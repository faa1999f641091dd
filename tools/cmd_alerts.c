/*
 * custos alerts: list, show and triage the alerts in the store.
 *
 *   custos alerts [filters] [--sort ts|level|rule] [--limit N] [--json|--csv]
 *   custos alerts show ID [--json]
 *   custos alerts ack|resolve|reopen ID... [--note TEXT]
 *   custos alerts resolve ID... --false-positive [--suppress 7d]
 *   custos alerts assign ID... --to USER [--note TEXT]
 *   custos alerts comment ID --note TEXT
 *
 * Every triage change is a chained row of the triage table (store.h) with
 * the Unix user and the wall-clock time; every invocation is logged to
 * syslog (cli_audit).  IDs may be unique prefixes (6+ hex characters).
 */
#include "custos.h"

#include "cli_util.h"

#include <getopt.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct alerts_opts {
	const char *db, *config;
	const char *since, *until, *level, *rule, *agent, *customer, *status;
	const char *sort, *note, *to, *suppress;
	long limit;
	int false_positive;
	enum cli_format fmt;
};

static void alerts_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: custos alerts [--db FILE] [--config FILE] [--since T] "
	    "[--until T]\n"
	    "         [--level high+|medium|...] [--rule ID|TITLE] "
	    "[--agent A] [--customer C]\n"
	    "         [--status open|acked|resolved] [--sort ts|level|rule] "
	    "[--limit N]\n"
	    "         [--json|--csv]\n"
	    "       custos alerts show ID [--json]\n"
	    "       custos alerts ack|resolve|reopen ID... [--note TEXT]\n"
	    "       custos alerts resolve ID... --false-positive "
	    "[--suppress 7d] [--note TEXT]\n"
	    "       custos alerts assign ID... --to USER [--note TEXT]\n"
	    "       custos alerts comment ID --note TEXT\n"
	    "  T is relative to now (30m, 2h, 7d, 2w) or RFC 3339 "
	    "(2025-03-03, 2025-03-03T08:00Z).\n"
	    "  --level NAME+ means NAME or higher.  --rule matches the "
	    "rule id or title.\n"
	    "  Default store: %s (or store.path of --config).\n"
	    "  ID: a full alert id or a unique prefix of 6+ characters.\n"
	    "  --false-positive --suppress D suppresses alerts of the same "
	    "rule for the same\n  agent from the alert's time until now + "
	    "D (the daemon consults it).\n",
	    CLI_DEFAULT_DB);
}

static int parse_opts(struct alerts_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, 0, 'd'},
	    {"config", required_argument, 0, 'c'},
	    {"since", required_argument, 0, 's'},
	    {"until", required_argument, 0, 'u'},
	    {"level", required_argument, 0, 'l'},
	    {"rule", required_argument, 0, 'r'},
	    {"agent", required_argument, 0, 'a'},
	    {"customer", required_argument, 0, 'C'},
	    {"status", required_argument, 0, 'S'},
	    {"sort", required_argument, 0, 'o'},
	    {"limit", required_argument, 0, 'n'},
	    {"json", no_argument, 0, 'j'},
	    {"csv", no_argument, 0, 'v'},
	    {"note", required_argument, 0, 'N'},
	    {"to", required_argument, 0, 't'},
	    {"false-positive", no_argument, 0, 'F'},
	    {"suppress", required_argument, 0, 'P'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	int c;

	o->limit = 1000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:c:h", opts, NULL)) != -1) {
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
		case 'l':
			o->level = optarg;
			break;
		case 'r':
			o->rule = optarg;
			break;
		case 'a':
			o->agent = optarg;
			break;
		case 'C':
			o->customer = optarg;
			break;
		case 'S':
			o->status = optarg;
			break;
		case 'o':
			o->sort = optarg;
			break;
		case 'n':
			o->limit = strtol(optarg, NULL, 10);
			break;
		case 'j':
			o->fmt = CLI_JSON;
			break;
		case 'v':
			o->fmt = CLI_CSV;
			break;
		case 'N':
			o->note = optarg;
			break;
		case 't':
			o->to = optarg;
			break;
		case 'F':
			o->false_positive = 1;
			break;
		case 'P':
			o->suppress = optarg;
			break;
		case 'h':
			alerts_usage(stdout);
			return -1;
		default:
			alerts_usage(stderr);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* Parses a --since/--until value; prints the problem. */
static int parse_bound(const char *v, int64_t now, int64_t *t)
{
	if (cli_parse_time(v, now, t) == 0)
		return 0;
	fprintf(stderr, "custos: bad time '%s' (30m, 2h, 7d or RFC 3339)\n", v);
	return -1;
}

/* Adds the WHERE clauses of the filters; EXIT_USAGE on a bad value. */
static int add_filters(struct cli_sql *q, const struct alerts_opts *o,
		       int64_t now)
{
	int64_t t;
	int lo, hi;

	if (o->since) {
		if (parse_bound(o->since, now, &t) < 0)
			return EXIT_USAGE;
		cli_sql_add(q, " AND ts_ms >= ");
		cli_sql_int(q, t);
	}
	if (o->until) {
		if (parse_bound(o->until, now, &t) < 0)
			return EXIT_USAGE;
		cli_sql_add(q, " AND ts_ms < ");
		cli_sql_int(q, t);
	}
	if (o->level) {
		if (cli_parse_level(o->level, &lo, &hi) < 0) {
			fprintf(stderr,
				"custos: bad --level '%s' (informational"
				"|low|medium|high|critical, + for "
				"and above)\n",
				o->level);
			return EXIT_USAGE;
		}
		cli_sql_add(q, " AND level_num BETWEEN ");
		cli_sql_int(q, lo);
		cli_sql_add(q, " AND ");
		cli_sql_int(q, hi);
	}
	if (o->rule) {
		cli_sql_add(q, " AND (rule_id = ");
		cli_sql_text(q, o->rule);
		cli_sql_add(q, " OR rule_title = ");
		cli_sql_text(q, o->rule);
		cli_sql_add(q, ")");
	}
	if (o->agent) {
		cli_sql_add(q, " AND agent = ");
		cli_sql_text(q, o->agent);
	}
	if (o->customer) {
		cli_sql_add(q, " AND customer = ");
		cli_sql_text(q, o->customer);
	}
	if (o->status) {
		cli_sql_add(q, " AND status = ");
		cli_sql_text(q, o->status);
	}
	return 0;
}

static int list_alerts(struct store *s, const struct alerts_opts *o)
{
	static const char *const cols[] = {
	    "id",    "ts",	 "level",  "rule_id", "rule_title",
	    "agent", "customer", "#value", "status",  "assignee"};
	struct cli_sql q;
	struct cli_table *t = NULL;
	const char *order = "ts_ms DESC, id";
	int rc;

	if (o->sort && strcmp(o->sort, "level") == 0)
		order = "level_num DESC, ts_ms DESC, id";
	else if (o->sort && strcmp(o->sort, "rule") == 0)
		order = "rule_title, ts_ms DESC, id";
	else if (o->sort && strcmp(o->sort, "ts") != 0) {
		fprintf(stderr, "custos: bad --sort '%s' (ts|level|rule)\n",
			o->sort);
		return EXIT_USAGE;
	}
	cli_sql_init(&q);
	cli_sql_add(&q,
		    "SELECT id, ts, level, rule_id, rule_title, agent,"
		    " customer, CASE WHEN value IS NULL THEN NULL ELSE"
		    " printf('%.15g', value) END, status, assignee FROM alerts"
		    " WHERE 1");
	if ((rc = add_filters(&q, o, cli_now_ms())) != 0)
		goto out;
	cli_sql_add(&q, " ORDER BY ");
	cli_sql_add(&q, order);
	cli_sql_add(&q, " LIMIT ");
	cli_sql_int(&q, o->limit > 0 ? o->limit : -1);
	rc = EXIT_RUNTIME;
	if ((t = cli_query(s, &q, 10, cols)) == NULL)
		goto out;
	if (cli_table_print(t, o->fmt, stdout) < 0)
		goto out;
	rc = 0;
out:
	cli_table_free(t);
	cli_sql_clear(&q);
	return rc;
}

/* ---- show ---- */

static const char *col(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? t : "";
}

/* Adds the rows of sql (bound with id) as an array of objects. */
static json_t *rows_json(struct store *s, const char *sql, const char *id)
{
	sqlite3_stmt *st = NULL;
	json_t *a = json_array();

	if (sqlite3_prepare_v2(store_sqlite(s), sql, -1, &st, NULL) !=
	    SQLITE_OK)
		return a;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *o = json_object();
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *name = sqlite3_column_name(st, i);
			json_t *v;
			if (sqlite3_column_type(st, i) == SQLITE_NULL)
				v = json_null();
			else if (strstr(name, "_json"))
				v = json_loads(col(st, i), 0, NULL);
			else if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
				v = json_integer(sqlite3_column_int64(st, i));
			else if (sqlite3_column_type(st, i) == SQLITE_FLOAT)
				v = json_real(sqlite3_column_double(st, i));
			else
				v = json_string(col(st, i));
			json_object_set_new(o, name, v ? v : json_null());
		}
		json_array_append_new(a, o);
	}
	sqlite3_finalize(st);
	return a;
}

/* The full alert as one JSON object (fields, evidence, triage). */
static json_t *alert_json(struct store *s, const char *id)
{
	json_t *a = rows_json(
	    s,
	    "SELECT id, rule_id, rule_title, level, ts, agent, customer,"
	    " value, status, assignee, group_json, tags_json, event_json,"
	    " source_input, source_path, source_line, source_offset,"
	    " evidence_count, created_ms, chain_seq FROM alerts WHERE id = ?1",
	    id);
	json_t *o = json_incref(json_array_get(a, 0));

	json_decref(a);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "evidence",
			    rows_json(s,
				      "SELECT seq, event_json FROM evidence"
				      " WHERE alert_id = ?1 ORDER BY seq",
				      id));
	json_object_set_new(
	    o, "triage",
	    rows_json(s,
		      "SELECT id, strftime('%Y-%m-%dT%H:%M:%SZ', ts_ms / 1000,"
		      " 'unixepoch') AS ts, user, action, value, note"
		      " FROM triage WHERE alert_id = ?1 ORDER BY id",
		      id));
	return o;
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "";
}

static void print_event_line(json_t *ev)
{
	printf("  %-24s %-14s %-8s %-13s %-10s %s\n", jstr(ev, "ts"),
	       jstr(ev, "agent"), jstr(ev, "action"), jstr(ev, "object"),
	       jstr(ev, "customer"),
	       *jstr(ev, "ticket") ? jstr(ev, "ticket") : "(no ticket)");
}

static void print_show(json_t *o)
{
	static const char *const keys[] = {
	    "id",	   "rule_title",  "rule_id",	   "level",
	    "ts",	   "agent",	  "customer",	   "value",
	    "status",	   "assignee",	  "group_json",	   "tags_json",
	    "source_path", "source_line", "evidence_count"};
	size_t i;
	json_t *e;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(o, keys[i]);
		char *txt = json_is_string(v) ? strdup(json_string_value(v))
			    : json_is_null(v) ? NULL
					      : json_dumps(v, JSON_ENCODE_ANY);
		printf("%-15s %s\n", keys[i], txt ? txt : "-");
		free(txt);
	}
	printf("\ntriggering event:\n");
	print_event_line(json_object_get(o, "event_json"));
	printf("\nevidence (%zu kept):\n",
	       json_array_size(json_object_get(o, "evidence")));
	json_array_foreach(json_object_get(o, "evidence"), i, e)
	    print_event_line(json_object_get(e, "event_json"));
	printf("\ntriage:\n");
	if (json_array_size(json_object_get(o, "triage")) == 0)
		printf("  (none)\n");
	json_array_foreach(json_object_get(o, "triage"), i, e) printf(
	    "  %s  %-10s %-8s %-20s %s\n", jstr(e, "ts"), jstr(e, "user"),
	    jstr(e, "action"), jstr(e, "value"), jstr(e, "note"));
}

static int show_alert(struct store *s, const struct alerts_opts *o, int argc,
		      char **argv)
{
	char id[33];
	json_t *a;

	if (argc - optind != 1) {
		alerts_usage(stderr);
		return EXIT_USAGE;
	}
	int r = cli_resolve_alert(s, argv[optind], id);
	if (r <= 0)
		return r == 0 ? EXIT_RUNTIME : EXIT_USAGE;
	if ((a = alert_json(s, id)) == NULL)
		return EXIT_RUNTIME;
	if (o->fmt == CLI_JSON) {
		char *txt = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (txt)
			puts(txt);
		free(txt);
	} else {
		print_show(a);
	}
	json_decref(a);
	return 0;
}

/* ---- triage ---- */

/* Suppresses the alert's rule for its agent: [alert ts, now + d). */
static int suppress_like(struct store *s, const char *id, int64_t d,
			 int64_t now, const struct alerts_opts *o)
{
	sqlite3_stmt *st = NULL;
	struct store_suppression sp = {0};
	char note[128], until[32];
	int rc = -1;

	if (sqlite3_prepare_v2(store_sqlite(s),
			       "SELECT rule_id, agent, ts_ms FROM alerts"
			       " WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_column_type(st, 0) == SQLITE_NULL ||
	    sqlite3_column_type(st, 1) == SQLITE_NULL) {
		fprintf(stderr,
			"custos: alert %s has no rule id or agent to "
			"scope a suppression\n",
			id);
		goto out;
	}
	sp = (struct store_suppression){.rule_id = col(st, 0),
					.agent = col(st, 1),
					.from_ms = sqlite3_column_int64(st, 2),
					.until_ms = now + d,
					.created_ms = now,
					.user = cli_user(),
					.alert_id = id,
					.note = o->note};
	alert_format_ts(sp.until_ms, until, sizeof(until));
	snprintf(note, sizeof(note), "suppress agent %.40s until %s", sp.agent,
		 until);
	struct store_triage t = {id,	     now,  cli_user(),
				 "suppress", note, o->note};
	if (store_suppress(s, &sp) < 0 || store_triage(s, &t) < 0)
		fprintf(stderr, "custos: %s\n", store_errmsg(s));
	else
		rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* Applies one action to one (resolved) alert id. */
static int triage_one(struct store *s, const char *action, const char *id,
		      const struct alerts_opts *o, int64_t now, int64_t sup)
{
	struct store_triage t = {id, now, cli_user(), action, o->to, o->note};

	if (store_triage(s, &t) != 1) {
		fprintf(stderr, "custos: %s: %s\n", id, store_errmsg(s));
		return -1;
	}
	if (o->false_positive) {
		struct store_triage fp = {
		    id, now, cli_user(), "false_positive", NULL, NULL};
		if (store_triage(s, &fp) != 1)
			return -1;
	}
	if (sup > 0 && suppress_like(s, id, sup, now, o) < 0)
		return -1;
	printf("%s %s\n", id,
	       strcmp(action, "resolve") == 0  ? "resolved"
	       : strcmp(action, "ack") == 0    ? "acked"
	       : strcmp(action, "reopen") == 0 ? "reopened"
	       : strcmp(action, "assign") == 0 ? "assigned"
					       : "commented");
	return 0;
}

/* Checks the options that go with an action; returns 0 or EXIT_USAGE. */
static int check_triage_opts(const char *action, const struct alerts_opts *o,
			     int n_ids, int64_t *sup)
{
	*sup = 0;
	if (n_ids < 1 || (strcmp(action, "comment") == 0 && n_ids != 1))
		return EXIT_USAGE;
	if (strcmp(action, "assign") == 0 && o->to == NULL) {
		fprintf(stderr, "custos: assign needs --to USER\n");
		return EXIT_USAGE;
	}
	if (strcmp(action, "comment") == 0 && o->note == NULL) {
		fprintf(stderr, "custos: comment needs --note TEXT\n");
		return EXIT_USAGE;
	}
	if ((o->false_positive || o->suppress) &&
	    strcmp(action, "resolve") != 0) {
		fprintf(stderr, "custos: --false-positive and --suppress go "
				"with resolve\n");
		return EXIT_USAGE;
	}
	if (o->suppress &&
	    (!o->false_positive || cli_parse_duration(o->suppress, sup) < 0 ||
	     *sup <= 0)) {
		fprintf(stderr, "custos: --suppress DURATION (e.g. 7d) needs "
				"--false-positive\n");
		return EXIT_USAGE;
	}
	return 0;
}

static int triage(struct store *s, const char *action,
		  const struct alerts_opts *o, int argc, char **argv)
{
	int64_t now = cli_now_ms(), sup;
	int n = argc - optind, rc;
	char(*ids)[33];

	if ((rc = check_triage_opts(action, o, n, &sup)) != 0) {
		if (n < 1)
			alerts_usage(stderr);
		return rc;
	}
	if ((ids = calloc((size_t)n, sizeof(*ids))) == NULL)
		return EXIT_RUNTIME;
	rc = EXIT_USAGE;
	for (int i = 0; i < n; i++)
		if (cli_resolve_alert(s, argv[optind + i], ids[i]) != 1)
			goto out;
	rc = EXIT_RUNTIME;
	if (store_begin(s) < 0) {
		fprintf(stderr, "custos: %s\n", store_errmsg(s));
		goto out;
	}
	for (int i = 0; i < n; i++)
		if (triage_one(s, action, ids[i], o, now, sup) < 0) {
			store_rollback(s);
			goto out;
		}
	if (store_commit(s) < 0) {
		fprintf(stderr, "custos: %s\n", store_errmsg(s));
		goto out;
	}
	rc = 0;
out:
	free(ids);
	return rc;
}

static const char *const triage_verbs[] = {"ack", "resolve", "reopen", "assign",
					   "comment"};

int cmd_alerts(int argc, char **argv)
{
	struct alerts_opts o = {0};
	const char *verb = NULL;
	struct store *s;
	int rc;

	cli_audit(argc, argv); /* before getopt permutes argv */
	if (argc > 1 && strcmp(argv[1], "show") == 0)
		verb = "show";
	for (size_t i = 0; argc > 1 && i < 5; i++)
		if (strcmp(argv[1], triage_verbs[i]) == 0)
			verb = triage_verbs[i];
	if ((rc = parse_opts(&o, argc - (verb != NULL),
			     argv + (verb != NULL))) != 0)
		return rc < 0 ? 0 : rc;
	if (verb == NULL && optind < argc) {
		fprintf(stderr, "custos: alerts: unexpected '%s'\n",
			argv[optind]);
		alerts_usage(stderr);
		return EXIT_USAGE;
	}
	if ((s = cli_open_store(o.db, o.config)) == NULL)
		return EXIT_RUNTIME;
	argc -= verb != NULL;
	argv += verb != NULL;
	if (verb == NULL)
		rc = list_alerts(s, &o);
	else if (strcmp(verb, "show") == 0)
		rc = show_alert(s, &o, argc, argv);
	else
		rc = triage(s, verb, &o, argc, argv);
	store_close(s);
	return rc;
}
