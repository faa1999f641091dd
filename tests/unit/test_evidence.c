/*
 * test_evidence: an evidence copy gives the same JSON as the event it was
 * copied from (field order, arrays, kinds, names without ids, NUL bytes),
 * outlives the event's buffers (values copied one by one or as runs), is
 * shared by reference, and JSON-only evidence returns its text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "check.h"
#include "evidence.h"

static struct event_field fld(const char *name, const char *value, uint32_t len,
			      int kind, int32_t id)
{
	struct event_field f = {name, value, len, (uint8_t)kind, id, -1};
	return f;
}

static void test_same_json(void)
{
	char names[9][16] = {"actor.name", "agent", "rows",   "tag",	 "ok",
			     "tag",	   "note",  "action", "customer"};
	char vals[9][16] = {"Bob \"B\"", "a1", "2500", "x",   "true",
			    "y",	 "",   "view", "c\0d"};
	uint32_t lens[9] = {7, 2, 4, 1, 4, 1, 0, 4, 3};
	int kinds[9] = {VALUE_STRING, VALUE_STRING, VALUE_NUMBER,
			VALUE_STRING, VALUE_BOOL,   VALUE_STRING,
			VALUE_NULL,   VALUE_STRING, VALUE_STRING};
	int32_t ids[9] = {-1, FIELD_AGENT, FIELD_ROWS,	  20, -1, 20,
			  -1, -1,	   FIELD_CUSTOMER};
	struct event_field f[9];
	struct event ev = {0};

	for (int i = 0; i < 9; i++)
		f[i] = fld(names[i], vals[i], lens[i], kinds[i], ids[i]);
	f[3].next_same = 5;
	ev.fields = f;
	ev.n_fields = 9;
	ev.ts_ms = 1746100800123LL;

	char *want = alert_event_to_json(&ev);
	struct evidence *x = evidence_from_event(&ev);
	CHECK(want != NULL && x != NULL);
	/* the copy owns its strings: the event's buffers may change */
	memset(names, 'z', sizeof(names));
	memset(vals, 'z', sizeof(vals));
	struct evidence *y = evidence_ref(x);
	evidence_unref(x);
	const char *got = evidence_json(y);
	CHECK_STR(got, want);
	/* made once, then kept */
	CHECK(evidence_json(y) == got);
	evidence_unref(y);
	free(want);

	struct event empty = {0};
	x = evidence_from_event(&empty);
	CHECK_STR(evidence_json(x), "{\"ts\":\"1970-01-01T00:00:00.000Z\"}");
	evidence_unref(x);
}

/* A canonical id under another name keeps that name; canonical names are
 * shared with the static table, not copied, and still print. */
static void test_canonical_names(void)
{
	char other[] = "actor", agent[] = "agent", action[] = "action";
	struct event_field f[3] = {
	    fld(other, "a1", 2, VALUE_STRING, FIELD_AGENT),
	    fld(agent, "a2", 2, VALUE_STRING, FIELD_AGENT),
	    fld(action, "view", 4, VALUE_STRING, FIELD_ACTION),
	};
	struct event ev = {0};

	ev.fields = f;
	ev.n_fields = 3;
	char *want = alert_event_to_json(&ev);
	struct evidence *x = evidence_from_event(&ev);
	memset(other, 'z', 5);
	memset(agent, 'z', 5);
	memset(action, 'z', 6);
	CHECK(want != NULL && strstr(want, "\"actor\":\"a1\"") != NULL);
	CHECK_STR(evidence_json(x), want);
	free(want);
	evidence_unref(x);
}

/* Values laid out back to back (as a decoder's arena does: each with its
 * NUL) are copied as runs; a value elsewhere (a field map alias pointing at
 * an earlier value, a value outside the arena) breaks the run and the copy
 * still owns every byte. */
static void test_value_runs(void)
{
	char arena[] = "a1\0view\0\0c\0d\0" /* a1, view, "", c\0d */
		       "7\0";		    /* after the outside value */
	char outside[] = "far";
	struct event_field f[7] = {
	    fld("agent", arena, 2, VALUE_STRING, FIELD_AGENT),
	    fld("action", arena + 3, 4, VALUE_STRING, FIELD_ACTION),
	    fld("note", arena + 8, 0, VALUE_STRING, -1),
	    fld("customer", arena + 9, 3, VALUE_STRING, FIELD_CUSTOMER),
	    fld("where", outside, 3, VALUE_STRING, -1),
	    fld("rows", arena + 13, 1, VALUE_NUMBER, FIELD_ROWS),
	    fld("user", arena, 2, VALUE_STRING, -1), /* alias of agent */
	};
	struct event ev = {0};

	ev.fields = f;
	ev.n_fields = 7;
	ev.ts_ms = 5;
	char *want = alert_event_to_json(&ev);
	struct evidence *x = evidence_from_event(&ev);
	CHECK(want != NULL && x != NULL);
	CHECK(strstr(want, "\"customer\":\"c\\u0000d\"") != NULL);
	CHECK(strstr(want, "\"user\":\"a1\"") != NULL);
	memset(arena, 'z', sizeof(arena));
	memset(outside, 'z', sizeof(outside));
	CHECK_STR(evidence_json(x), want);
	free(want);
	evidence_unref(x);

	/* decoders name canonical fields with the static name itself */
	struct fieldtab *t = fieldtab_new();
	CHECK(t != NULL && fieldtab_name(t, FIELD_AGENT) ==
			       canonical_field_names[FIELD_AGENT]);
	fieldtab_free(t);
}

/* More fields than the name-length cache: names past it are measured
 * again when copied, and still owned by the copy. */
static void test_many_fields(void)
{
	enum { N = 40 };
	char names[N][8], arena[N * 4];
	struct event_field f[N];
	struct event ev = {0};

	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d", i);
		snprintf(arena + i * 4, 4, "%03d", i);
		f[i] = fld(names[i], arena + i * 4, 3, VALUE_STRING, -1);
	}
	ev.fields = f;
	ev.n_fields = N;
	char *want = alert_event_to_json(&ev);
	struct evidence *x = evidence_from_event(&ev);
	CHECK(want != NULL && x != NULL);
	CHECK(strstr(want, "\"f39\":\"039\"") != NULL);
	memset(names, 'z', sizeof(names));
	memset(arena, 'z', sizeof(arena));
	CHECK_STR(evidence_json(x), want);
	free(want);
	evidence_unref(x);
}

static void test_from_json(void)
{
	struct evidence *x = evidence_from_json("{\"a\":1}xyz", 7);

	CHECK_STR(evidence_json(x), "{\"a\":1}");
	evidence_unref(x);
	evidence_unref(NULL);
}

int main(void)
{
	test_same_json();
	test_canonical_names();
	test_value_runs();
	test_many_fields();
	test_from_json();
	return check_done();
}
