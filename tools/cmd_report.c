/*
 * custos report --html FILE [--since 30d] [--until T] [--db FILE]
 *               [--config FILE]
 *
 * One self-contained HTML page for management and case files: inline CSS,
 * inline SVG charts drawn here (no script, no network: a Content Security
 * Policy forbids both), every store string HTML-escaped.  Charts: alerts
 * over time (bucket chosen so there are at most ~48 bars), top agents by
 * alerts, and for the top agents their distinct customers per day (UTC)
 * against their own median and their team's median (retained access
 * events).
 */
#include "custos.h"

#include "cli_util.h"

#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOP_AGENTS 10
#define DETAIL_AGENTS 6
#define MAX_BARS 400

struct report {
	struct store *s;
	FILE *f;
	int64_t from_ms, to_ms;
};

struct bar {
	char label[64];
	double v;
};

static void html(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* Runs sql (from, to bound as ?1, ?2; extra text as ?3) into bars. */
static size_t load_bars(struct report *r, const char *sql, const char *extra,
			struct bar *b, size_t max)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;

	if (sqlite3_prepare_v2(store_sqlite(r->s), sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		cli_error(r->s, "report");
		return 0;
	}
	sqlite3_bind_int64(st, 1, r->from_ms);
	sqlite3_bind_int64(st, 2, r->to_ms);
	if (extra)
		sqlite3_bind_text(st, 3, extra, -1, SQLITE_STATIC);
	int rc = SQLITE_DONE;
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *l = (const char *)sqlite3_column_text(st, 0);
		snprintf(b[n].label, sizeof(b[n].label), "%s", l ? l : "-");
		b[n++].v = sqlite3_column_double(st, 1);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		cli_error(r->s, "report");
	sqlite3_finalize(st);
	return n;
}

static double max_of(const struct bar *b, size_t n, double floor)
{
	double m = floor;

	for (size_t i = 0; i < n; i++)
		m = b[i].v > m ? b[i].v : m;
	return m;
}

/* Vertical bars with a labelled x axis; optional horizontal baselines. */
static void svg_columns(FILE *f, const struct bar *b, size_t n,
			const double *lines, const char *const *line_names,
			size_t n_lines)
{
	const int w = 1000, h = 260, left = 50, bottom = 60, top = 20;
	double m = max_of(b, n, 1);
	double bw = n ? (double)(w - left - 10) / (double)n : 0;

	bw = bw > 80 ? 80 : bw;

	for (size_t i = 0; i < n_lines; i++)
		m = lines[i] > m ? lines[i] : m;
	fprintf(f,
		"<svg class=\"chart\" viewBox=\"0 0 %d %d\" "
		"xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\n",
		w, h);
	fprintf(f,
		"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		"stroke=\"#444\"/>\n",
		left, h - bottom, w - 10, h - bottom);
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"ax\">%.0f</text>\n",
		left - 6, top + 4, m);
	for (size_t i = 0; i < n; i++) {
		double bh = (h - bottom - top) * b[i].v / m;
		double x = left + i * bw;
		fprintf(f,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\" fill=\"#2f6db5\"><title>",
			x + bw * 0.1, h - bottom - bh, bw * 0.8, bh);
		html(f, b[i].label);
		fprintf(f, ": %.0f</title></rect>\n", b[i].v);
		if (n <= 24 || i % (n / 12 + 1) == 0) {
			fprintf(f,
				"<text x=\"%.1f\" y=\"%d\" class=\"axr\" "
				"transform=\"rotate(-35 %.1f %d)\">",
				x + bw / 2, h - bottom + 14, x + bw / 2,
				h - bottom + 14);
			html(f, b[i].label);
			fprintf(f, "</text>\n");
		}
	}
	for (size_t i = 0; i < n_lines; i++) {
		double y = h - bottom - (h - bottom - top) * lines[i] / m;
		fprintf(f,
			"<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
			"class=\"base%zu\"/><text x=\"%d\" y=\"%.1f\" "
			"class=\"lbl%zu\">%s %.1f</text>\n",
			left, y, w - 10, y, i, w - 200, y - 4, i, line_names[i],
			lines[i]);
	}
	fprintf(f, "</svg>\n");
}

/* Horizontal bars, one per label. */
static void svg_rows(FILE *f, const struct bar *b, size_t n)
{
	const int w = 1000, row = 26, left = 220;
	double m = max_of(b, n, 1);

	fprintf(f,
		"<svg class=\"chart\" viewBox=\"0 0 %d %zu\" "
		"xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\n",
		w, n * row + 10);
	for (size_t i = 0; i < n; i++) {
		double bw = (w - left - 80) * b[i].v / m;
		fprintf(f, "<text x=\"%d\" y=\"%zu\" class=\"rl\">", left - 8,
			i * row + 18);
		html(f, b[i].label);
		fprintf(f,
			"</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" "
			"height=\"18\" fill=\"#c0392b\"/><text x=\"%.1f\" "
			"y=\"%zu\" class=\"ax\">%.0f</text>\n",
			left, i * row + 4, bw, left + bw + 6, i * row + 18,
			b[i].v);
	}
	fprintf(f, "</svg>\n");
}

/* Bucket width (s) giving at most ~48 bars over the alerts' span. */
static int64_t bucket_s(struct report *r)
{
	static const int64_t steps[] = {60,    300,   900,   3600,
					21600, 86400, 604800};
	struct bar b[1];
	int64_t span;

	if (load_bars(r,
		      "SELECT '', (max(ts_ms) - min(ts_ms)) / 1000 FROM"
		      " alerts WHERE ts_ms >= ?1 AND ts_ms < ?2",
		      NULL, b, 1) == 0)
		return 86400;
	span = (int64_t)b[0].v;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (span / steps[i] < 48)
			return steps[i];
	return 604800;
}

static void chart_over_time(struct report *r)
{
	static struct bar b[MAX_BARS];
	char sql[400];
	int64_t bs = bucket_s(r);
	size_t n;

	snprintf(sql, sizeof(sql),
		 "SELECT strftime('%%m-%%d %%H:%%M', (ts_ms / 1000 / %lld)"
		 " * %lld, 'unixepoch') AS k, count(*) FROM alerts WHERE"
		 " ts_ms >= ?1 AND ts_ms < ?2 GROUP BY k ORDER BY k",
		 (long long)bs, (long long)bs);
	n = load_bars(r, sql, NULL, b, MAX_BARS);
	fprintf(r->f,
		"<h2>Alerts over time</h2><p class=\"note\">%zu "
		"buckets of %lld minutes (UTC)</p>\n",
		n, (long long)bs / 60);
	svg_columns(r->f, b, n, NULL, NULL, 0);
}

static size_t top_agents(struct report *r, struct bar *b)
{
	return load_bars(r,
			 "SELECT agent, count(*) AS n FROM alerts WHERE"
			 " ts_ms >= ?1 AND ts_ms < ?2 AND agent IS NOT NULL"
			 " GROUP BY agent ORDER BY n DESC, agent LIMIT 10",
			 NULL, b, TOP_AGENTS);
}

/* Median of an agent's (or a team's agents') daily distinct customers. */
static double median_for(struct report *r, const char *col, const char *v)
{
	static struct bar b[4096];
	static double x[4096];
	char sql[300];
	size_t n;

	snprintf(sql, sizeof(sql),
		 "SELECT '', count(DISTINCT customer) FROM access_events"
		 " WHERE ts_ms >= ?1 AND ts_ms < ?2 AND %s = ?3 GROUP BY"
		 " agent, date(ts_ms / 1000, 'unixepoch')",
		 col);
	n = load_bars(r, sql, v, b, 4096);
	for (size_t i = 0; i < n; i++)
		x[i] = b[i].v;
	return cli_median(x, n);
}

static void chart_agent_days(struct report *r, const char *agent)
{
	static struct bar b[MAX_BARS];
	struct bar team[1];
	const char *names[] = {"own median", "team median"};
	double lines[2];
	size_t n;

	n = load_bars(r,
		      "SELECT date(ts_ms / 1000, 'unixepoch') AS d,"
		      " count(DISTINCT customer) FROM access_events WHERE"
		      " ts_ms >= ?1 AND ts_ms < ?2 AND agent = ?3 GROUP BY"
		      " d ORDER BY d",
		      agent, b, MAX_BARS);
	size_t has_team =
	    load_bars(r,
		      "SELECT team, count(*) AS c FROM access_events WHERE"
		      " ts_ms >= ?1 AND ts_ms < ?2 AND agent = ?3 AND team"
		      " IS NOT NULL GROUP BY team ORDER BY c DESC LIMIT 1",
		      agent, team, 1);
	lines[0] = median_for(r, "agent", agent);
	lines[1] = has_team ? median_for(r, "team", team[0].label) : 0;
	fprintf(r->f, "<h3>");
	html(r->f, agent);
	fprintf(r->f, " <span class=\"note\">team ");
	html(r->f, has_team ? team[0].label : "unknown");
	fprintf(r->f, "</span></h3>\n");
	if (n == 0)
		fprintf(r->f, "<p class=\"note\">no retained access events "
			      "for this agent</p>\n");
	else
		svg_columns(r->f, b, n, lines, names, has_team ? 2 : 1);
}

static void table_rows(struct report *r, const char *title, const char *sql)
{
	static struct bar b[50];
	size_t n = load_bars(r, sql, NULL, b, 50);

	fprintf(r->f,
		"<h2>%s</h2><table><tr><th>%s</th><th>alerts</th>"
		"</tr>\n",
		title, title + 10);
	for (size_t i = 0; i < n; i++) {
		fprintf(r->f, "<tr><td>");
		html(r->f, b[i].label);
		fprintf(r->f, "</td><td class=\"n\">%.0f</td></tr>\n", b[i].v);
	}
	fprintf(r->f, "</table>\n");
}

static const char css[] =
    "body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}"
    "h1{font-size:22px}h2{font-size:17px;margin-top:28px}h3{font-size:14px}"
    ".note{color:#666;font-size:12px;font-weight:normal}"
    ".chart{width:100%;border:1px solid #ddd;background:#fafafa}"
    ".ax{font-size:11px;fill:#333;text-anchor:middle}"
    ".axr{font-size:11px;fill:#333;text-anchor:end}"
    ".rl{font-size:12px;fill:#222;text-anchor:end}"
    ".base0{stroke:#888;stroke-dasharray:6 4;stroke-width:2}"
    ".base1{stroke:#e67e22;stroke-dasharray:6 4;stroke-width:2}"
    ".lbl0{font-size:11px;fill:#555}.lbl1{font-size:11px;fill:#e67e22}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
    "padding:3px 8px;font-size:13px}td.n{text-align:right}";

static void write_report(struct report *r)
{
	static struct bar agents[TOP_AGENTS];
	char from[32], to[32];
	size_t n_agents;

	alert_format_ts(r->from_ms, from, sizeof(from));
	alert_format_ts(r->to_ms == INT64_MAX ? cli_now_ms() : r->to_ms, to,
			sizeof(to));
	fprintf(r->f,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
		"charset=\"utf-8\"><meta http-equiv="
		"\"Content-Security-Policy\" content=\"default-src "
		"'none'; style-src 'unsafe-inline'\"><title>custos "
		"report</title><style>%s</style></head><body>\n",
		css);
	fprintf(r->f,
		"<h1>custos alert report</h1><p class=\"note\">%s to "
		"%s, generated by custos %s</p>\n",
		from, to, CUSTOS_VERSION);
	chart_over_time(r);
	n_agents = top_agents(r, agents);
	fprintf(r->f, "<h2>Top agents by alerts</h2>\n");
	svg_rows(r->f, agents, n_agents);
	fprintf(r->f, "<h2>Distinct customers per day vs baseline</h2>\n");
	for (size_t i = 0; i < n_agents && i < DETAIL_AGENTS; i++)
		chart_agent_days(r, agents[i].label);
	table_rows(r, "Alerts by rule",
		   "SELECT coalesce(rule_title, rule_id), count(*) AS n FROM"
		   " alerts WHERE ts_ms >= ?1 AND ts_ms < ?2 GROUP BY 1"
		   " ORDER BY n DESC");
	table_rows(r, "Alerts by level",
		   "SELECT level, count(*) FROM alerts WHERE ts_ms >= ?1 AND"
		   " ts_ms < ?2 GROUP BY level ORDER BY max(level_num) DESC");
	fprintf(r->f, "</body></html>\n");
}

static void report_usage(FILE *f)
{
	fprintf(f, "usage: custos report --html FILE [--since 30d] "
		   "[--until T] [--db FILE] [--config FILE]\n"
		   "  Writes one self-contained HTML page (inline CSS and SVG, "
		   "no scripts): alerts\n  over time, top agents, daily "
		   "distinct customers against the baselines.\n");
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, 0, 'd'},
	    {"config", required_argument, 0, 'c'},
	    {"html", required_argument, 0, 'o'},
	    {"since", required_argument, 0, 's'},
	    {"until", required_argument, 0, 'u'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	const char *db = NULL, *config = NULL, *out = NULL, *since = "30d",
		   *until = NULL;
	struct report r = {.to_ms = INT64_MAX};
	int64_t now = cli_now_ms();
	int c, rc = EXIT_RUNTIME;

	cli_audit(argc, argv);
	while ((c = getopt_long(argc, argv, "d:c:o:s:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'u':
			until = optarg;
			break;
		case 'h':
			report_usage(stdout);
			return 0;
		default:
			report_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (out == NULL || optind != argc ||
	    cli_parse_time(since, now, &r.from_ms) < 0 ||
	    (until && cli_parse_time(until, now, &r.to_ms) < 0)) {
		report_usage(stderr);
		return EXIT_USAGE;
	}
	if ((r.s = cli_open_store(db, config)) == NULL)
		return EXIT_RUNTIME;
	if ((r.f = fopen(out, "w")) == NULL) {
		perror(out);
		goto done;
	}
	write_report(&r);
	if (fclose(r.f) != 0)
		perror(out);
	else
		rc = 0;
done:
	store_close(r.s);
	return rc;
}
