/*
 * test_alert: event JSON (field order, arrays, numbers, bools, null, NUL
 * bytes, bad number text), RFC 3339 timestamps, the alert JSON line, and
 * the stability and sensitivity of alert ids.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "check.h"

static struct event_field fld(const char *name, const char *value, uint32_t len,
			      int kind, int32_t id)
{
	struct event_field f = {name, value, len, (uint8_t)kind, id, -1};
	return f;
}

static void test_event_json(void)
{
	struct event_field f[11];
	struct event ev = {0};

	f[0] = fld("actor.name", "Bob \"B\"", 7, VALUE_STRING, -1);
	f[1] = fld("agent", "a1", 2, VALUE_STRING, FIELD_AGENT);
	f[2] = fld("rows", "2500", 4, VALUE_NUMBER, FIELD_ROWS);
	f[3] = fld("tag", "x", 1, VALUE_STRING, 20);
	f[3].next_same = 5;
	f[4] = fld("ok", "true", 4, VALUE_BOOL, -1);
	f[5] = fld("tag", "y", 1, VALUE_STRING, 20);
	f[6] = fld("ts", "2025-05-01T12:00:00.123Z", 24, VALUE_STRING, 0);
	f[7] = fld("note", "", 0, VALUE_NULL, -1);
	f[8] = fld("amount", "1,5", 3, VALUE_NUMBER, -1);
	/* no id: recognized as canonical by its name */
	f[9] = fld("action", "view", 4, VALUE_STRING, -1);
	f[10] = fld("customer", "c\0d", 3, VALUE_STRING, FIELD_CUSTOMER);
	ev.fields = f;
	ev.n_fields = 11;
	ev.ts_ms = 1746100800123LL;

	char *j = alert_event_to_json(&ev);
	CHECK_STR(j, "{\"ts\":\"2025-05-01T12:00:00.123Z\",\"agent\":\"a1\","
		     "\"action\":\"view\",\"customer\":\"c\\u0000d\","
		     "\"rows\":2500,\"actor.name\":\"Bob \\\"B\\\"\","
		     "\"tag\":[\"x\",\"y\"],\"ok\":true,\"note\":null,"
		     "\"amount\":\"1,5\"}");
	/* deterministic: the same event gives the same bytes */
	char *j2 = alert_event_to_json(&ev);
	CHECK_STR(j2, j);
	free(j);
	free(j2);

	/* a bool with bad text is kept as a string; a 3-element array */
	f[4] = fld("ok", "yes", 3, VALUE_BOOL, -1);
	f[5].next_same = 7;
	f[7] = fld("tag", "z", 1, VALUE_NUMBER, 20);
	j = alert_event_to_json(&ev);
	CHECK(j != NULL && strstr(j, "\"ok\":\"yes\"") != NULL);
	CHECK(j != NULL && strstr(j, "\"tag\":[\"x\",\"y\",\"z\"]") != NULL);
	CHECK(j != NULL && strstr(j, "note") == NULL);
	free(j);
}

static void test_event_json_empty_and_large(void)
{
	struct event ev = {0};
	char *j = alert_event_to_json(&ev);

	CHECK_STR(j, "{\"ts\":\"1970-01-01T00:00:00.000Z\"}");
	free(j);

	/* more fields than the on-stack bitmap holds */
	enum { N = 1500 };
	struct event_field *f = calloc(N, sizeof(*f));
	char(*names)[16] = calloc(N, 16);
	for (int i = 0; i < N; i++) {
		snprintf(names[i], 16, "f%d", i % 1000);
		f[i] = fld(names[i], "v", 1, VALUE_STRING, -1);
		if (i + 1000 < N)
			f[i].next_same = i + 1000;
	}
	ev.fields = f;
	ev.n_fields = N;
	j = alert_event_to_json(&ev);
	json_t *root = json_loads(j ? j : "", 0, NULL);
	CHECK(root != NULL);
	CHECK_INT(json_object_size(root), 1 + 1000);
	CHECK_INT(json_array_size(json_object_get(root, "f7")), 2);
	CHECK(json_is_string(json_object_get(root, "f700")));
	json_decref(root);
	free(j);
	free(f);
	free(names);
}

static void test_format_ts(void)
{
	char b[32];

	alert_format_ts(0, b, sizeof(b));
	CHECK_STR(b, "1970-01-01T00:00:00.000Z");
	alert_format_ts(-1, b, sizeof(b));
	CHECK_STR(b, "1969-12-31T23:59:59.999Z");
	alert_format_ts(1709210096789LL, b, sizeof(b)); /* leap day */
	CHECK_STR(b, "2024-02-29T12:34:56.789Z");
	alert_format_ts(951782400000LL, b, sizeof(b));
	CHECK_STR(b, "2000-02-29T00:00:00.000Z");
	alert_format_ts(INT64_MAX, b, sizeof(b));
	CHECK_STR(b, "9999-12-31T23:59:59.999Z");
	alert_format_ts(INT64_MIN, b, sizeof(b));
	CHECK_STR(b, "0000-01-01T00:00:00.000Z");
	alert_format_ts(0, b, 5); /* truncated, still terminated */
	CHECK_STR(b, "1970");
}

static char *tags[] = {"attack.collection", "custos.insider"};

static struct rule make_rule(void)
{
	struct rule r;

	memset(&r, 0, sizeof(r));
	r.kind = RULE_CORRELATION;
	r.id = "r-1";
	r.name = "bulk_view";
	r.title = "Bulk \"view\"";
	r.level = LEVEL_HIGH;
	r.tags = tags;
	r.n_tags = 2;
	return r;
}

/* A heap-owned alert like the engine builds. */
static void make_alert(struct alert *a, const struct rule *r)
{
	memset(a, 0, sizeof(*a));
	a->rule = r;
	a->ts_ms = 1746100800123LL;
	a->n_group = 1;
	a->group = calloc(1, sizeof(*a->group));
	a->group[0].key = strdup("agent");
	a->group[0].value = strdup("a1");
	a->value = 201;
	a->event_json = strdup("{\"agent\":\"a1\"}");
	a->source_input = strdup("replay");
	a->source_line = 7;
	a->source_offset = 512;
	a->n_evidence = 2;
	a->evidence_json = calloc(2, sizeof(char *));
	a->evidence_json[0] = strdup("{\"n\":1}");
	a->evidence_json[1] = strdup("{\"n\":2}");
	a->n_evidence_total = 201;
	alert_compute_id(a);
}

static void test_alert_json(void)
{
	struct rule r = make_rule();
	struct alert a;
	char want[1024];

	make_alert(&a, &r);
	snprintf(
	    want, sizeof(want),
	    "{\"id\":\"%s\",\"rule_id\":\"r-1\",\"rule_title\":"
	    "\"Bulk \\\"view\\\"\",\"level\":\"high\",\"ts\":"
	    "\"2025-05-01T12:00:00.123Z\",\"group\":{\"agent\":\"a1\"},"
	    "\"value\":201,\"event\":{\"agent\":\"a1\"},\"source\":"
	    "{\"input\":\"replay\",\"path\":null,\"line\":7,\"offset\":"
	    "512},\"tags\":[\"attack.collection\",\"custos.insider\"],"
	    "\"evidence\":{\"count\":201,\"sample\":[{\"n\":1},{\"n\":2}]}}",
	    a.id);
	char *j = alert_to_json(&a);
	CHECK_STR(j, want);
	free(j);

	/* no id: rule_id is the name; a fractional value; a path */
	r.id = NULL;
	r.level = LEVEL_INFORMATIONAL;
	a.value = 2.5;
	a.source_path = strdup("/var/log/crm.log");
	j = alert_to_json(&a);
	CHECK(j && strstr(j, "\"rule_id\":\"bulk_view\",") != NULL);
	CHECK(j && strstr(j, "\"level\":\"informational\",") != NULL);
	CHECK(j && strstr(j, "\"value\":2.5,") != NULL);
	CHECK(j && strstr(j, "\"path\":\"/var/log/crm.log\"") != NULL);
	json_t *root = json_loads(j ? j : "", 0, NULL);
	CHECK(root != NULL);
	json_decref(root);
	free(j);
	alert_clear(&a);
	CHECK(a.group == NULL && a.event_json == NULL && a.n_evidence == 0);
}

static int is_hex_id(const char *id)
{
	if (strlen(id) != ALERT_ID_LEN)
		return 0;
	return strspn(id, "0123456789abcdef") == ALERT_ID_LEN;
}

static void test_alert_id(void)
{
	struct rule r = make_rule();
	struct alert a, b;

	make_alert(&a, &r);
	make_alert(&b, &r);
	CHECK(is_hex_id(a.id));
	CHECK_STR(a.id, b.id);
	/* the documented encoding, computed independently with Python
	 * hashlib over the same length-prefixed items */
	CHECK_STR(a.id, "6d348a7521c1ac0c1ff256ffcf35fa9a");

	/* not part of the identity: file path, evidence, value */
	b.source_path = strdup("/elsewhere.log");
	b.n_evidence_total = 5;
	b.value = 3;
	alert_compute_id(&b);
	CHECK_STR(b.id, a.id);

	free(b.group[0].value);
	b.group[0].value = strdup("a2");
	alert_compute_id(&b);
	CHECK(strcmp(b.id, a.id) != 0);

	free(b.group[0].value);
	b.group[0].value = strdup("a1");
	b.source_line = 8;
	alert_compute_id(&b);
	CHECK(strcmp(b.id, a.id) != 0);

	b.source_line = 7;
	b.ts_ms++;
	alert_compute_id(&b);
	CHECK(strcmp(b.id, a.id) != 0);
	b.ts_ms--;
	alert_compute_id(&b);
	CHECK_STR(b.id, a.id);

	/* length prefixes: ("agen","ta1") is not ("agent","a1") */
	free(b.group[0].key);
	free(b.group[0].value);
	b.group[0].key = strdup("agen");
	b.group[0].value = strdup("ta1");
	alert_compute_id(&b);
	CHECK(strcmp(b.id, a.id) != 0);

	/* another rule */
	struct rule r2 = make_rule();
	r2.id = "r-2";
	alert_clear(&b);
	make_alert(&b, &r2);
	CHECK(strcmp(b.id, a.id) != 0);
	alert_clear(&a);
	alert_clear(&b);
}

int main(void)
{
	test_event_json();
	test_event_json_empty_and_large();
	test_format_ts();
	test_alert_json();
	test_alert_id();
	return check_done();
}
