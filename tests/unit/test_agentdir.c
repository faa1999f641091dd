/*
 * test_agentdir: the agent directory CSV — a valid file (extra columns
 * kept, CRLF, look-ups), every kind of bad row reported at file:line:column
 * in one run, the config key `lookups: {agents: FILE}` (relative path,
 * load error), and enrichment of a decoded event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentdir.h"
#include "check.h"
#include "config.h"
#include "decode_json.h"
#include "diag.h"

static const char good[] =
    "agent,team,site,role,tz,shift_start,shift_end,status,days_off,badge\n"
    "a-001,billing-1,lisbon,agent,Europe/Lisbon,08:00,16:00,active,Sat;Sun,"
    "17\r\n"
    "a-002,billing-qa,porto,qa,Europe/Lisbon,09:00,17:00,leave,Sun;Mon,\n"
    "\n";

static struct agentdir *load(const char *csv, struct diag *d)
{
	diag_init(d);
	return agentdir_load_buffer("agents.csv", csv, strlen(csv), d);
}

static void test_good(void)
{
	struct diag d;
	struct agentdir *a = load(good, &d);

	CHECK(a != NULL);
	CHECK_INT(diag_count(&d), 0);
	CHECK_INT(agentdir_count(a), 2);
	CHECK_STR(agentdir_get(a, "a-001", 5, "role"), "agent");
	CHECK_STR(agentdir_get(a, "a-001", 5, "badge"), "17");
	CHECK_STR(agentdir_get(a, "a-002", 5, "badge"), "");
	CHECK_STR(agentdir_get(a, "a-002xyz", 5, "team"), "billing-qa");
	CHECK(agentdir_get(a, "a-003", 5, "team") == NULL);
	CHECK(agentdir_get(a, "a-001", 5, "nosuch") == NULL);
	agentdir_free(a);
	diag_clear(&d);
	agentdir_free(NULL);
}

static int has(const struct diag *d, int line, int col, const char *text)
{
	for (size_t i = 0; i < d->n_entries; i++)
		if (d->entries[i].line == line && d->entries[i].column == col &&
		    strcmp(d->entries[i].file, "agents.csv") == 0 &&
		    strstr(d->entries[i].message, text))
			return 1;
	return 0;
}

static void test_bad_rows(void)
{
	struct diag d;
	struct agentdir *a = load("agent,team,role\n"
				  "a-1,t,agent\n"
				  "a-2,t\n"
				  "a-3,t,agent,extra\n"
				  ",t,agent\n"
				  "a-4,\"t\",agent\n"
				  "a-1,t2,lead\n",
				  &d);
	CHECK(a == NULL);
	CHECK_INT(diag_count(&d), 5);
	CHECK(has(&d, 3, 6, "fewer fields"));
	CHECK(has(&d, 4, 13, "more fields"));
	CHECK(has(&d, 5, 1, "empty agent"));
	CHECK(has(&d, 6, 5, "quoted"));
	CHECK(has(&d, 7, 1, "already listed on line 2"));
	diag_clear(&d);

	CHECK(load("team,role\nt,agent\n", &d) == NULL);
	CHECK(has(&d, 1, 1, "no 'agent' column"));
	diag_clear(&d);
	CHECK(load("", &d) == NULL);
	CHECK(has(&d, 1, 1, "header line is missing"));
	diag_clear(&d);
}

static void test_config_key(void)
{
	char dir[] = "/tmp/test_agentdir.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char csv[64], yml[64];
	snprintf(csv, sizeof(csv), "%s/agents.csv", dir);
	snprintf(yml, sizeof(yml), "%s/custos.yml", dir);
	FILE *f = fopen(csv, "w");
	fputs(good, f);
	fclose(f);

	struct diag d;
	diag_init(&d);
	const char *y = "lookups: { agents: agents.csv }\n";
	struct config *c = config_load_buffer(yml, y, strlen(y), &d);
	CHECK(c != NULL);
	CHECK_STR(c ? c->lookup_agents : NULL, csv);
	CHECK_INT(agentdir_count(c ? c->agents : NULL), 2);
	config_free(c);

	y = "lookups: { agents: missing.csv, agent: x }\n";
	c = config_load_buffer(yml, y, strlen(y), &d);
	CHECK(c == NULL);
	CHECK_INT(diag_count(&d), 1); /* the unknown key; no load tried */
	diag_clear(&d);
	y = "lookups: { agents: missing.csv }\n";
	CHECK(config_load_buffer(yml, y, strlen(y), &d) == NULL);
	CHECK_INT(diag_count(&d), 1);
	CHECK(d.n_entries == 1 &&
	      strstr(d.entries[0].message, "cannot open agent directory"));
	diag_clear(&d);
	/* a FIFO would block the loader: refused without opening for good */
	char fifo[64];
	snprintf(fifo, sizeof(fifo), "%s/agents.fifo", dir);
	CHECK(mkfifo(fifo, 0600) == 0);
	y = "lookups: { agents: agents.fifo }\n";
	CHECK(config_load_buffer(yml, y, strlen(y), &d) == NULL);
	CHECK(d.n_entries == 1 &&
	      strstr(d.entries[0].message, "is a FIFO, not a regular file"));
	diag_clear(&d);
	unlink(fifo);
	unlink(csv);
	rmdir(dir);
}

static void test_enrich(void)
{
	struct diag d;
	struct agentdir *a = load(good, &d);
	struct fieldtab *tab = fieldtab_new();
	int32_t role = fieldtab_intern(tab, "agent.role", 10);
	fieldtab_freeze(tab);
	struct event_buf *b = event_buf_new(tab);
	struct event ev;
	char err[128];
	const char *line =
	    "{\"ts\":1,\"agent\":\"a-002\",\"action\":\"export\"}";

	CHECK_INT(decode_json(b, line, strlen(line), &ev, err, sizeof(err)), 0);
	ev.ts_ms = 42;
	CHECK_INT(agentdir_enrich(a, b, &ev), 5);
	CHECK_INT(ev.ts_ms, 42);
	const struct event_field *f = event_get(&ev, role);
	CHECK(f != NULL);
	CHECK_STR(f ? f->value : NULL, "qa");
	CHECK_STR(event_find(&ev, "agent.status")->value, "leave");
	CHECK_STR(event_find(&ev, "agent.team")->value, "billing-qa");
	CHECK_STR(event_find(&ev, "action")->value, "export");
	CHECK(event_find(&ev, "agent.badge") == NULL);

	line = "{\"ts\":1,\"agent\":\"a-009\"}";
	CHECK_INT(decode_json(b, line, strlen(line), &ev, err, sizeof(err)), 0);
	CHECK_INT(agentdir_enrich(a, b, &ev), 0);
	CHECK(event_get(&ev, role) == NULL);
	CHECK_INT(agentdir_enrich(NULL, b, &ev), 0);

	event_buf_free(b);
	fieldtab_free(tab);
	agentdir_free(a);
}

int main(void)
{
	test_good();
	test_bad_rows();
	test_config_key();
	test_enrich();
	return check_done();
}
