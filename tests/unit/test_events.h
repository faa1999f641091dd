/*
 * test_events: what the unit tests of the engine and of engine state
 * share — a rule set compiled from YAML text and hand-built events (a few
 * short fields, interned in the rule set's field table), and the check
 * that a bad rule text is refused with a given message.  Test code only;
 * everything is static inline so that a test takes what it uses.
 */
#ifndef CUSTOS_TEST_EVENTS_H
#define CUSTOS_TEST_EVENTS_H

#include "check.h"
#include "event.h"
#include "rules.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct evbuf {
	struct event ev;
	struct event_field fields[8];
	int32_t slots[256];
	char names[8][32];
	char values[8][64];
};

/* An event at ts (ms) from spec: "agent=a action=view customer=C1"
 * (rows=<n> is a number; at most 8 fields of 63 bytes), its source the
 * input "test" at line and offset.  Valid as long as b. */
static inline const struct event *mkev_at(struct evbuf *b,
					  const struct ruleset *rs, int64_t ts,
					  const char *spec, uint64_t line,
					  uint64_t offset)
{
	char tmp[256];
	size_t n = 0;

	memset(b, 0, sizeof(*b));
	b->ev.ts_ms = ts;
	b->ev.fields = b->fields;
	b->ev.slot = b->slots;
	b->ev.n_slots = fieldtab_count(rs->fields);
	for (size_t i = 0; i < b->ev.n_slots && i < 256; i++)
		b->slots[i] = -1;
	b->ev.source.input = "test";
	b->ev.source.line = line;
	b->ev.source.offset = offset;
	snprintf(tmp, sizeof(tmp), "%s", spec);
	for (char *tok = strtok(tmp, " "); tok && n < 8;
	     tok = strtok(NULL, " ")) {
		char *eq = strchr(tok, '=');
		*eq = '\0';
		snprintf(b->names[n], 32, "%s", tok);
		snprintf(b->values[n], 64, "%s", eq + 1);
		struct event_field *f = &b->fields[n];
		f->name = b->names[n];
		f->value = b->values[n];
		f->value_len = (uint32_t)strlen(b->values[n]);
		f->kind =
		    strcmp(tok, "rows") == 0 ? VALUE_NUMBER : VALUE_STRING;
		f->id = fieldtab_find(rs->fields, tok, strlen(tok));
		f->next_same = -1;
		if (f->id >= 0 && (size_t)f->id < b->ev.n_slots)
			b->slots[f->id] = (int32_t)n;
		n++;
	}
	b->ev.n_fields = n;
	return &b->ev;
}

/* A finished rule set from YAML text ("t.yml"), or NULL with the problems
 * printed. */
static inline struct ruleset *load(const char *text)
{
	struct diag d;
	struct ruleset *rs = ruleset_new();

	diag_init(&d);
	if (ruleset_load_buffer(rs, "t.yml", text, strlen(text), &d) < 0 ||
	    ruleset_finish(rs, &d) < 0) {
		diag_print(&d, stderr);
		ruleset_free(rs);
		rs = NULL;
	}
	diag_clear(&d);
	return rs;
}

/* Loading text ("t.yml") must fail with want in the printed problems. */
static inline void lint_case(const char *text, const char *want)
{
	struct diag d;
	struct ruleset *rs = ruleset_new();
	char *buf = NULL;
	size_t len = 0;

	diag_init(&d);
	CHECK(ruleset_load_buffer(rs, "t.yml", text, strlen(text), &d) < 0);
	FILE *f = open_memstream(&buf, &len);
	diag_print(&d, f);
	fclose(f);
	if (strstr(buf, want) == NULL)
		fprintf(stderr, "want '%s' in:\n%s", want, buf);
	CHECK(strstr(buf, want) != NULL);
	free(buf);
	diag_clear(&d);
	ruleset_free(rs);
}

#endif
