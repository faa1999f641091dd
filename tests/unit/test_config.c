/*
 * test_config: the config loader — a full valid file (dumped and compared
 * with the expected compiled form), defaults for an empty file, relative
 * paths, and every kind of error reported at its line:column in one run,
 * with "did you mean" suggestions.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "diag.h"

static struct config *load(const char *name, const char *yaml, struct diag *d)
{
	diag_init(d);
	return config_load_buffer(name, yaml, strlen(yaml), d);
}

static char *dump(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	config_dump(c, f);
	fclose(f);
	return buf;
}

static void test_full(void)
{
	struct diag d;
	struct config *c = load("/etc/custos/custos.yml",
				"field_map:\n"
				"  ts: { field: time, format: epoch_ms }\n"
				"  agent: actor.id\n"
				"inputs:\n"
				"  - name: crm\n"
				"    path: /var/log/crm.json\n"
				"  - name: admin\n"
				"    path: logs/admin.csv\n"
				"    format: csv\n"
				"    field_map:\n"
				"      ts: when\n"
				"  - name: relay\n"
				"    type: syslog\n"
				"    listen: 127.0.0.1:5514\n"
				"    protocol: tcp\n"
				"  - name: pipe\n"
				"    path: \"-\"\n"
				"rules: [rules, /opt/extra.yml]\n"
				"lists:\n"
				"  vip: [c-1, c-2]\n"
				"  empty: []\n"
				"limits:\n"
				"  max_groups: 500\n"
				"  max_lateness: 90s\n"
				"  max_line_bytes: 2MiB\n"
				"store:\n"
				"  path: alerts.db\n"
				"state_dir: state\n"
				"control_socket: /run/c.sock\n"
				"user: custos\n"
				"group: custos\n"
				"checkpoint: { every_records: 500, "
				"every_ms: 250ms, alerts_every_ms: 50ms }\n"
				"status_log_interval: 0\n"
				"sinks:\n"
				"  syslog: { enabled: yes, facility: auth,\n"
				"            priority: { high: alert } }\n"
				"retention: { access_events: no, "
				"max_events: 5000, max_age: 30d }\n"
				"seal_interval: 15m\n",
				&d);
	CHECK(c != NULL);
	CHECK_INT(diag_count(&d), 0);
	if (c == NULL) {
		diag_print(&d, stderr);
		return;
	}
	CHECK_INT(c->n_inputs, 4);
	CHECK_INT(c->inputs[1].format, INPUT_CSV);
	CHECK_INT(c->inputs[0].type, INPUT_FILE);
	CHECK_INT(c->inputs[2].type, INPUT_SYSLOG);
	CHECK_INT(c->inputs[2].protocol, SYSLOG_TCP);
	CHECK_INT(c->inputs[3].type, INPUT_STDIN);
	CHECK_INT(c->checkpoint.every_records, 500);
	CHECK_INT(c->checkpoint.every_ms, 250);
	CHECK_INT(c->checkpoint.alerts_every_ms, 50);
	CHECK_INT(c->status_log_interval_ms, 0);
	CHECK(!c->retention.access_events);
	CHECK_INT(c->retention.max_events, 5000);
	CHECK_INT(c->retention.max_age_ms, 30LL * 86400000);
	CHECK_INT(c->retention.purge_interval_ms, 3600000);
	CHECK_INT(c->seal_interval_ms, 900000);
	CHECK(c->sink_syslog.enabled);
	CHECK_INT(c->sink_syslog.priority[LEVEL_HIGH], 1);
	CHECK_INT(c->sink_syslog.priority[LEVEL_CRITICAL], 2);
	CHECK_STR(fieldmap_source(config_input_fieldmap(c, 0), FIELD_AGENT),
		  "actor.id");
	/* an input's map replaces the default entirely */
	CHECK_STR(fieldmap_source(config_input_fieldmap(c, 1), FIELD_AGENT),
		  "agent");
	CHECK_STR(fieldmap_source(config_input_fieldmap(c, 1), FIELD_TS),
		  "when");
	CHECK_INT(c->limits.max_groups, 500);
	CHECK_INT(c->limits.max_window_events, 10000);
	CHECK_INT(c->limits.max_lateness_ms, 90000);
	CHECK_INT(c->max_line_bytes, 2 * 1024 * 1024);
	CHECK_INT(c->lists.n_lists, 2);
	CHECK_STR(c->lists.names[0], "vip");
	CHECK_STR(c->lists.values[0][1], "c-2");
	CHECK(c->lists.values[0][2] == NULL);
	CHECK(c->lists.values[1][0] == NULL);

	char *got = dump(c);
	const char *want =
	    "field_map:\n"
	    "  ts: time (format epoch_ms)\n"
	    "  agent: actor.id\n"
	    "  team: team\n  site: site\n  action: action\n"
	    "  object: object\n  customer: customer\n  ticket: ticket\n"
	    "  rows: rows\n  query: query\n  src_ip: src_ip\n"
	    "  session: session\n  tool: tool\n  outcome: outcome\n"
	    "inputs:\n"
	    "  - name: crm\n    type: file\n    path: /var/log/crm.json\n"
	    "    format: json\n"
	    "  - name: admin\n    type: file\n"
	    "    path: /etc/custos/logs/admin.csv\n"
	    "    format: csv\n    field_map:\n"
	    "      ts: when (format auto)\n"
	    "      agent: agent\n      team: team\n      site: site\n"
	    "      action: action\n      object: object\n"
	    "      customer: customer\n      ticket: ticket\n"
	    "      rows: rows\n      query: query\n      src_ip: src_ip\n"
	    "      session: session\n      tool: tool\n"
	    "      outcome: outcome\n"
	    "  - name: relay\n    type: syslog\n"
	    "    listen: 127.0.0.1:5514\n    protocol: tcp\n"
	    "    format: json\n"
	    "  - name: pipe\n    type: stdin\n    path: -\n"
	    "    format: json\n"
	    "rules:\n  - /etc/custos/rules\n  - /opt/extra.yml\n"
	    "lists:\n  vip:\n    - c-1\n    - c-2\n  empty: []\n"
	    "limits:\n  max_groups: 500\n  max_window_events: 10000\n"
	    "  max_distinct: 10000\n  evidence_sample: 10\n"
	    "  max_lateness: 90s\n  max_line_bytes: 2097152\n"
	    "store:\n  path: /etc/custos/alerts.db\n"
	    "state_dir: /etc/custos/state\n"
	    "control_socket: /run/c.sock\n"
	    "user: custos\ngroup: custos\ncontrol_group: ~\n"
	    "checkpoint:\n  every_records: 500\n  every_ms: 250ms\n"
	    "  alerts_every_ms: 50ms\n"
	    "status_log_interval: 0\n"
	    "sinks:\n  syslog:\n    enabled: true\n    facility: auth\n"
	    "    ident: custos\n    priority:\n"
	    "      informational: info\n      low: notice\n"
	    "      medium: warning\n      high: alert\n"
	    "      critical: crit\n"
	    "    queue_max: 10000\n    socket_path: /dev/log\n"
	    "retention:\n  access_events: false\n  max_events: 5000\n"
	    "  max_age: 30d\n  purge_interval: 1h\nseal_interval: 15m\n";
	CHECK_STR(got, want);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "%s", got);
	free(got);
	config_free(c);
	diag_clear(&d);
}

static void test_defaults(void)
{
	struct diag d;
	struct config *c = load("empty.yml", "", &d);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK_INT(c->n_inputs, 0);
	CHECK_INT(c->n_rule_paths, 0);
	CHECK(c->field_map != NULL);
	CHECK_INT(c->limits.max_groups, 100000);
	CHECK_INT(c->limits.evidence_sample, 10);
	CHECK_INT(c->limits.max_lateness_ms, 300000);
	CHECK_INT(c->max_line_bytes, 1048576);
	CHECK_STR(c->store_path, "/var/lib/custos/alerts.db");
	CHECK_STR(c->state_dir, "/var/lib/custos");
	CHECK(c->retention.access_events);
	CHECK_INT(c->retention.max_events, 10000000);
	CHECK_INT(c->retention.max_age_ms, 90LL * 86400000);
	CHECK_INT(c->seal_interval_ms, 3600000);
	CHECK_STR(c->control_socket, "/run/custos/control.sock");
	CHECK(c->user == NULL && c->group == NULL);
	CHECK_INT(c->checkpoint.every_records, 200000);
	CHECK_INT(c->checkpoint.every_ms, 1000);
	CHECK_INT(c->checkpoint.alerts_every_ms, 200);
	CHECK_INT(c->status_log_interval_ms, 300000);
	CHECK(!c->sink_syslog.enabled);
	CHECK_STR(c->sink_syslog.ident, "custos");
	CHECK_INT(c->sink_syslog.priority[LEVEL_MEDIUM], 4);
	config_free(c);
	config_free(NULL);
	diag_clear(&d);

	/* the store follows state_dir unless given */
	c = load("/etc/c.yml", "state_dir: /srv/custos\n", &d);
	CHECK(c != NULL && strcmp(c->store_path, "/srv/custos/alerts.db") == 0);
	config_free(c);
	diag_clear(&d);

	/* a bare name: relative paths stay relative */
	c = load("c.yml", "rules: r.yml\nstore: { path: a.db }\n", &d);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_INT(c->n_rule_paths, 1);
		CHECK_STR(c->rule_paths[0], "r.yml");
		CHECK_STR(c->store_path, "a.db");
	}
	config_free(c);
	diag_clear(&d);
}

struct want_diag {
	int line, column;
	const char *message;
};

static void expect_errors(const char *yaml, const struct want_diag *w, size_t n)
{
	struct diag d;
	struct config *c = load("bad.yml", yaml, &d);

	CHECK(c == NULL);
	CHECK_INT(diag_count(&d), n);
	for (size_t i = 0; i < n && i < d.n_entries; i++) {
		CHECK_STR(d.entries[i].file, "bad.yml");
		CHECK_INT(d.entries[i].line, w[i].line);
		CHECK_INT(d.entries[i].column, w[i].column);
		CHECK_STR(d.entries[i].message, w[i].message);
	}
	if (diag_count(&d) != n)
		diag_print(&d, stderr);
	config_free(c);
	diag_clear(&d);
}

static void test_errors(void)
{
	const char *yaml = "field_map:\n"
			   "  agent: actor.id\n"
			   "  custmer: target.id\n"
			   "inputs:\n"
			   "  - name: crm\n"
			   "    path: a.json\n"
			   "    fromat: json\n"
			   "  - name: crm\n"
			   "    path: b.json\n"
			   "    format: xml\n"
			   "  - path: c.json\n"
			   "rules: { a: b }\n"
			   "lists:\n"
			   "  vip: { x: 1 }\n"
			   "limits:\n"
			   "  max_groups: 0\n"
			   "  max_lateness: 5 minutes\n"
			   "  max_distinct: lots\n"
			   "  evidence_sample: [1]\n"
			   "  max_window_event: 10\n"
			   "store:\n"
			   "  path: \"\"\n"
			   "sinks: { syslog: { enabled: maybe, facility: locl0,"
			   " priority: { high: loud } }, file: x }\n"
			   "checkpoint: { every_ms: 1ms }\n"
			   "inputs2: []\n";
	const struct want_diag w[] = {
	    {3, 3,
	     "unknown key 'custmer' in field_map (did you mean "
	     "'customer'?)"},
	    {7, 5,
	     "unknown key 'fromat' in inputs[0] (did you mean "
	     "'format'?)"},
	    {10, 13, "'format' must be one of json, csv, kv, not 'xml'"},
	    {11, 5, "missing required key 'name' in inputs[2]"},
	    {8, 5, "duplicate input name 'crm' (first at line 5)"},
	    {12, 8, "'rules' must be a list of strings, not a mapping"},
	    {14, 10, "unknown key 'x' in lists.vip"},
	    {14, 8, "missing required key 'file' in lists.vip"},
	    {16, 15,
	     "'max_groups' must be an integer between 1 and "
	     "100000000, not '0'"},
	    {17, 17,
	     "'max_lateness' must be a duration between 0ms and 7d "
	     "(e.g. 30s, 5m, 2h), not '5 minutes'"},
	    {18, 17,
	     "'max_distinct' must be an integer between 1 and "
	     "10000000, not 'lots'"},
	    {19, 20, "'evidence_sample' must be an integer, not list"},
	    {20, 3,
	     "unknown key 'max_window_event' in limits (did you mean "
	     "'max_window_events'?)"},
	    {22, 9, "'path' must be a string, not empty"},
	    {23, 29, "'enabled' must be true or false, not 'maybe'"},
	    {23, 46,
	     "'facility' must be one of auth, authpriv, daemon, user, "
	     "local0..local7, not 'locl0' (did you mean 'local0'?)"},
	    {23, 71,
	     "'high' must be one of emerg, alert, crit, err, warning, "
	     "notice, info, debug, not 'loud'"},
	    {23, 81, "unknown key 'file' in sinks"},
	    {24, 25,
	     "'every_ms' must be a duration between 10ms and 1h (e.g. 30s, "
	     "5m, 2h), not '1ms'"},
	    {25, 1,
	     "unknown key 'inputs2' in config (did you mean "
	     "'inputs'?)"},
	};
	expect_errors(yaml, w, sizeof(w) / sizeof(w[0]));

	const struct want_diag w2[] = {
	    {1, 1, "config must be a mapping, not a list"}};
	expect_errors("- a\n- b\n", w2, 1);

	const struct want_diag w3[] = {
	    {1, 9, "'inputs' must be a list, not mapping"},
	    {2, 12, "field_map must be a mapping, not a scalar"}};
	expect_errors("inputs: {name: x}\nfield_map: agent\n", w3, 2);

	const struct want_diag w4[] = {
	    {2, 5, "missing required key 'path' in inputs[0]"},
	    {4, 5, "missing required key 'listen' in inputs[1] (type syslog)"},
	    {7, 13, "'listen' must be host:port, not 'nowhere'"},
	    {9, 11,
	     "'type' must be one of file, stdin, syslog, pcap, not 'tail'"}};
	expect_errors("inputs:\n"
		      "  - name: a\n"
		      "    format: json\n"
		      "  - name: b\n"
		      "    type: syslog\n"
		      "  - name: c\n"
		      "    listen: nowhere\n"
		      "    type: syslog\n"
		      "  - type: tail\n"
		      "    name: d\n",
		      w4, 4);
}

static void test_helpers(void)
{
	const char *const words[] = {"timespan", "group-by", "condition"};
	CHECK_STR(config_suggest("timspan", words, 3), "timespan");
	CHECK_STR(config_suggest("conditon", words, 3), "condition");
	CHECK_STR(config_suggest("gruop-by", words, 3), "group-by");
	CHECK(config_suggest("zzz", words, 3) == NULL);

	int64_t ms;
	unsigned long long sz;
	CHECK_INT(config_parse_duration("250ms", &ms), 0);
	CHECK_INT(ms, 250);
	CHECK_INT(config_parse_duration("2h", &ms), 0);
	CHECK_INT(ms, 7200000);
	CHECK_INT(config_parse_duration("30", &ms), 0);
	CHECK_INT(ms, 30000);
	CHECK_INT(config_parse_duration("-1s", &ms), -1);
	CHECK_INT(config_parse_duration("1w", &ms), -1);
	CHECK_INT(config_parse_duration("99999999999999999999d", &ms), -1);
	CHECK_INT(config_parse_size("64k", &sz), 0);
	CHECK_INT(sz, 65536);
	CHECK_INT(config_parse_size("1 MiB", &sz), -1);
	CHECK_INT(config_parse_size("", &sz), -1);
}

static void test_file(void)
{
	struct diag d;
	diag_init(&d);
	char path[] = "/tmp/custos_test_config_XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	fputs("limits:\n  max_groups: 7\n", f);
	fclose(f);
	struct config *c = config_load(path, &d);
	CHECK(c != NULL && c->limits.max_groups == 7);
	config_free(c);
	unlink(path);
	c = config_load(path, &d);
	CHECK(c == NULL);
	CHECK_INT(diag_count(&d), 1);
	diag_clear(&d);
}

/* Input types and the keys / formats each accepts; syslog limits and the
 * sink's queue and socket. */
static void test_input_types(void)
{
	struct diag d;
	struct config *c =
	    load("/etc/custos/t.yml",
		 "inputs:\n"
		 "  - name: relay\n    type: syslog\n    listen: :5514\n"
		 "    protocol: tcp\n    format: kv\n"
		 "    max_message_bytes: 8KiB\n    max_connections: 10\n"
		 "    idle_timeout: 30s\n"
		 "  - name: cap\n    path: c.pcap\n    pcap: { filter: tcp }\n"
		 "  - name: live\n    type: pcap\n    pcap: { interface: lo }\n"
		 "sinks:\n  syslog: { enabled: true, queue_max: 5,\n"
		 "    socket_path: run/log }\n",
		 &d);
	CHECK(c != NULL);
	if (c == NULL) {
		diag_print(&d, stderr);
		diag_clear(&d);
		return;
	}
	CHECK_INT(c->inputs[0].type, INPUT_SYSLOG);
	CHECK_INT(c->inputs[0].format, INPUT_KV);
	CHECK_INT(c->inputs[0].max_message_bytes, 8192);
	CHECK_INT(c->inputs[0].max_connections, 10);
	CHECK_INT(c->inputs[0].idle_timeout_ms, 30000);
	CHECK_INT(c->inputs[1].type, INPUT_PCAP); /* from its pcap: section */
	CHECK_STR(c->inputs[1].path, "/etc/custos/c.pcap");
	CHECK_INT(c->inputs[2].type, INPUT_PCAP);
	CHECK_INT(c->sink_syslog.queue_max, 5);
	CHECK_STR(c->sink_syslog.socket_path, "/etc/custos/run/log");
	char *got = dump(c);
	CHECK(strstr(got, "    protocol: tcp\n    max_message_bytes: 8192\n"
			  "    max_connections: 10\n    idle_timeout: 30s\n"
			  "    format: kv\n") != NULL);
	CHECK(strstr(got,
		     "  - name: cap\n    type: pcap\n"
		     "    path: /etc/custos/c.pcap\n  - name: live\n") != NULL);
	free(got);
	config_free(c);
	diag_clear(&d);

	const struct want_diag w[] = {
	    {4, 13,
	     "format csv needs a header line: file and stdin inputs "
	     "only (use json or kv over syslog)"},
	    {8, 13, "'listen' does not apply to inputs of type file"},
	    {12, 13, "'format' does not apply to inputs of type pcap"},
	    {13, 5, "missing required key 'pcap' in inputs[3] (type pcap)"},
	    {18, 22,
	     "'max_connections' does not apply to inputs of type stdin"},
	    {19, 5,
	     "inputs[5] (type pcap) needs pcap.interface (live "
	     "capture) or 'path' (a capture file)"},
	    {21, 63,
	     "'max_message_bytes' must be an integer between 256 and "
	     "16777216, not '10'"}};
	expect_errors("inputs:\n"
		      "  - name: a\n    type: syslog\n    format: csv\n"
		      "    listen: :514\n"
		      "  - name: b\n    path: x.log\n    listen: :514\n"
		      "  - name: c\n    path: x.pcap\n    pcap: {}\n"
		      "    format: json\n"
		      "  - name: d\n    type: pcap\n    path: x.pcap\n"
		      "  - name: e\n    path: \"-\"\n    max_connections: 3\n"
		      "  - name: f\n    pcap: {}\n"
		      "  - { name: g, type: syslog, listen: \":1\", "
		      "max_message_bytes: 10 }\n",
		      w, sizeof(w) / sizeof(w[0]));
}

int main(void)
{
	test_full();
	test_defaults();
	test_errors();
	test_helpers();
	test_file();
	test_input_types();
	return check_done();
}
