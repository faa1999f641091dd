/*
 * test_normalize: field maps (nested raw paths, epoch ms, RFC 3339 with
 * offsets and fractions, auto detection), aliasing and shadowing of raw
 * fields, arrays, type checks (missing/bad ts, rows), and field-map
 * compilation errors with positions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "decode.h"
#include "decode_json.h"
#include "diag.h"
#include "normalize.h"
#include "yamltree.h"

static struct fieldtab *tab;

static int64_t ts_of(const char *s, enum ts_format fmt)
{
	int64_t ms = -12345;
	if (normalize_parse_ts(s, strlen(s), fmt, &ms) < 0)
		return -1;
	return ms;
}

static void test_parse_ts(void)
{
	/* 2024-05-01T10:00:00Z = 1714557600 */
	CHECK_INT(ts_of("2024-05-01T10:00:00Z", TS_RFC3339), 1714557600000);
	CHECK_INT(ts_of("2024-05-01T12:00:00+02:00", TS_RFC3339),
		  1714557600000);
	CHECK_INT(ts_of("2024-05-01T05:30:00-04:30", TS_RFC3339),
		  1714557600000);
	CHECK_INT(ts_of("2024-05-01T10:00:00.123Z", TS_RFC3339), 1714557600123);
	CHECK_INT(ts_of("2024-05-01T10:00:00.1Z", TS_RFC3339), 1714557600100);
	CHECK_INT(ts_of("2024-05-01T10:00:00.123456789+00:00", TS_RFC3339),
		  1714557600123);
	CHECK_INT(ts_of("2024-05-01 10:00:00z", TS_RFC3339), 1714557600000);
	CHECK_INT(ts_of("2024-05-01T12:00:00+0200", TS_RFC3339), 1714557600000);
	CHECK_INT(ts_of("1970-01-01T00:00:00Z", TS_RFC3339), 0);
	CHECK_INT(ts_of("2000-02-29T00:00:00Z", TS_RFC3339), 951782400000);
	/* invalid */
	CHECK_INT(ts_of("2023-02-29T00:00:00Z", TS_RFC3339), -1);
	CHECK_INT(ts_of("2024-05-01T10:00:00", TS_RFC3339), -1);
	CHECK_INT(ts_of("2024-05-01T24:00:00Z", TS_RFC3339), -1);
	CHECK_INT(ts_of("2024-13-01T10:00:00Z", TS_RFC3339), -1);
	CHECK_INT(ts_of("2024-05-01T10:00:00.Z", TS_RFC3339), -1);
	CHECK_INT(ts_of("2024-05-01T10:00:00Zjunk", TS_RFC3339), -1);
	CHECK_INT(ts_of("2024-05-01T10:00:00+25:00", TS_RFC3339), -1);
	CHECK_INT(ts_of("1714557600", TS_RFC3339), -1);
	/* epochs */
	CHECK_INT(ts_of("1714557600", TS_EPOCH_S), 1714557600000);
	CHECK_INT(ts_of("1714557600.5", TS_EPOCH_S), 1714557600500);
	CHECK_INT(ts_of("1714557600123", TS_EPOCH_MS), 1714557600123);
	CHECK_INT(ts_of("1714557600123.9", TS_EPOCH_MS), 1714557600123);
	CHECK_INT(ts_of("-5", TS_EPOCH_S), -1);
	CHECK_INT(ts_of("12a", TS_EPOCH_S), -1);
	CHECK_INT(ts_of("", TS_EPOCH_S), -1);
	CHECK_INT(ts_of("99999999999999999999999", TS_EPOCH_MS), -1);
	/* auto */
	CHECK_INT(ts_of("1714557600", TS_AUTO), 1714557600000);
	CHECK_INT(ts_of("1714557600123", TS_AUTO), 1714557600123);
	CHECK_INT(ts_of("2024-05-01T12:00:00+02:00", TS_AUTO), 1714557600000);
	CHECK_INT(ts_of("yesterday", TS_AUTO), -1);
}

/* The common "YYYY-MM-DDTHH:MM:SS[.fff]Z" form (read at fixed offsets)
 * gives what the general parser gives for the same text written with a
 * lower-case t and z (which only the general parser reads), over dates,
 * leap days, second 60, and invalid fields. */
static void test_parse_ts_common(void)
{
	static const char *dates[] = {"1970-01-01", "1999-12-31", "2000-02-29",
				      "2023-02-29", "2024-02-29", "2100-02-29",
				      "2025-13-01", "2025-00-10", "2025-04-31",
				      "2025-04-00", "0001-01-01", "9999-12-31",
				      "2025-1a-01", "2025-03-3x"};
	static const char *times[] = {"00:00:00", "23:59:60", "24:00:00",
				      "12:60:00", "12:00:61", "13:33:03",
				      "1a:00:00", "12:00:0x"};
	static const char *fracs[] = {"", ".000", ".073", ".999", ".9a9"};
	char a[64], b[64];

	for (size_t d = 0; d < sizeof(dates) / sizeof(*dates); d++)
		for (size_t t = 0; t < sizeof(times) / sizeof(*times); t++)
			for (size_t f = 0; f < sizeof(fracs) / sizeof(*fracs);
			     f++) {
				snprintf(a, sizeof(a), "%sT%s%sZ", dates[d],
					 times[t], fracs[f]);
				snprintf(b, sizeof(b), "%st%s%sz", dates[d],
					 times[t], fracs[f]);
				CHECK_INT(ts_of(a, TS_RFC3339),
					  ts_of(b, TS_RFC3339));
				CHECK_INT(ts_of(a, TS_AUTO), ts_of(b, TS_AUTO));
			}
	CHECK_INT(ts_of("2025-03-03T13:33:03.073Z", TS_AUTO), 1741008783073);
	CHECK_INT(ts_of("2025-03-03T13:33:03Z", TS_AUTO), 1741008783000);
}

static struct fieldmap *compile(const char *yaml, struct diag *d)
{
	struct yaml_docs *docs =
	    yamltree_load_buffer("map.yml", yaml, strlen(yaml), d);
	if (docs == NULL)
		return NULL;
	struct fieldmap *m = fieldmap_compile(
	    yamltree_get(docs->docs[0], "field_map"), "map.yml", d);
	yamltree_free(docs);
	return m;
}

static int run(const struct fieldmap *m, struct event_buf *b, const char *line,
	       struct event *ev, char *err)
{
	err[0] = '\0';
	if (decode_json(b, line, strlen(line), ev, err, 200) < 0)
		return -2;
	return normalize_event(m, b, ev, err, 200);
}

static const char *canon(const struct event *ev, enum canonical_field f)
{
	const struct event_field *x = event_get(ev, f);
	return x ? x->value : NULL;
}

static void test_mapped_event(struct event_buf *b)
{
	struct diag d;
	diag_init(&d);
	struct fieldmap *m = compile("field_map:\n"
				     "  ts: { field: time, format: epoch_ms }\n"
				     "  agent: actor.id\n"
				     "  customer: target.customer_id\n"
				     "  action: event.type\n"
				     "  object: { field: target.kind }\n",
				     &d);
	CHECK(m != NULL);
	CHECK_INT(diag_count(&d), 0);
	CHECK_INT(fieldmap_ts_format(m), TS_EPOCH_MS);
	CHECK_STR(fieldmap_source(m, FIELD_AGENT), "actor.id");
	CHECK_STR(fieldmap_source(m, FIELD_TEAM), "team");

	struct event ev;
	char err[200];
	CHECK_INT(
	    run(m, b,
		"{\"time\":1714557600123,\"actor\":{\"id\":\"a7\"},"
		"\"agent\":\"raw-agent\",\"team\":\"blue\","
		"\"target\":{\"customer_id\":\"c-1\",\"kind\":[\"profile\","
		"\"balance\"]},\"event\":{\"type\":\"view\"},\"rows\":\"3\"}",
		&ev, err),
	    0);
	CHECK_STR(err, "");
	CHECK_INT(ev.ts_ms, 1714557600123);
	CHECK_STR(canon(&ev, FIELD_AGENT), "a7");
	CHECK_STR(canon(&ev, FIELD_CUSTOMER), "c-1");
	CHECK_STR(canon(&ev, FIELD_ACTION), "view");
	CHECK_STR(canon(&ev, FIELD_TEAM), "blue"); /* identity */
	CHECK_STR(canon(&ev, FIELD_TS), "1714557600123");
	CHECK_INT(event_get(&ev, FIELD_TS)->kind, VALUE_NUMBER);
	/* raw fields stay under their own names */
	CHECK_STR(event_find(&ev, "actor.id")->value, "a7");
	CHECK_STR(event_find(&ev, "time")->value, "1714557600123");
	/* the raw "agent" is shadowed: kept, but without the id */
	const struct event_field *raw_agent = event_find(&ev, "agent");
	CHECK(raw_agent != NULL && raw_agent->id == -1 &&
	      strcmp(raw_agent->value, "raw-agent") == 0);
	/* arrays alias element by element */
	const struct event_field *o = event_get(&ev, FIELD_OBJECT);
	CHECK(o != NULL && strcmp(o->value, "profile") == 0 &&
	      o->next_same >= 0);
	if (o != NULL && o->next_same >= 0) {
		CHECK_STR(ev.fields[o->next_same].value, "balance");
		CHECK_INT(ev.fields[o->next_same].id, FIELD_OBJECT);
		CHECK_INT(ev.fields[o->next_same].next_same, -1);
	}
	/* rows from a string becomes a number */
	CHECK_INT(event_get(&ev, FIELD_ROWS)->kind, VALUE_NUMBER);

	/* a mapped field absent from the line: the raw one is still shadowed */
	CHECK_INT(run(m, b, "{\"time\":5,\"agent\":\"x\"}", &ev, err), 0);
	CHECK(event_get(&ev, FIELD_AGENT) == NULL);
	CHECK_INT(ev.ts_ms, 5);

	CHECK_INT(run(m, b, "{\"ts\":5}", &ev, err), -1);
	CHECK_STR(err, "missing ts (field 'time')");
	CHECK_INT(run(m, b, "{\"time\":\"2024-05-01T10:00:00Z\"}", &ev, err),
		  -1);
	CHECK_STR(err, "bad ts '2024-05-01T10:00:00Z'");
	fieldmap_free(m);
	diag_clear(&d);
}

static void test_identity(struct event_buf *b)
{
	struct event ev;
	char err[200];

	CHECK_INT(
	    run(NULL, b,
		"{\"ts\":\"2024-05-01T12:00:00.250+02:00\",\"agent\":\"a\","
		"\"rows\":250}",
		&ev, err),
	    0);
	CHECK_INT(ev.ts_ms, 1714557600250);
	CHECK_STR(canon(&ev, FIELD_AGENT), "a");
	CHECK_INT(ev.n_fields, 3); /* nothing added */

	struct fieldmap *id = fieldmap_compile(NULL, "x", NULL);
	CHECK(id != NULL);
	CHECK_INT(run(id, b, "{\"ts\":1714557600}", &ev, err), 0);
	CHECK_INT(ev.ts_ms, 1714557600000);
	CHECK_INT(run(id, b, "{\"ts\":1714557600.5}", &ev, err), 0);
	CHECK_INT(ev.ts_ms, 1714557600500);
	fieldmap_free(id);

	CHECK_INT(run(NULL, b, "{\"agent\":\"a\"}", &ev, err), -1);
	CHECK_STR(err, "missing ts (field 'ts')");
	CHECK_INT(run(NULL, b, "{\"ts\":true}", &ev, err), -1);
	CHECK_STR(err, "bad ts 'true'");
	CHECK_INT(run(NULL, b, "{\"ts\":\"n\\u00e9\\nver'\"}", &ev, err), -1);
	CHECK_STR(err, "bad ts 'n\\xc3\\xa9\\x0aver\\x27'");
	CHECK_INT(run(NULL, b, "{\"ts\":1,\"rows\":1.5}", &ev, err), -1);
	CHECK_STR(err, "bad rows '1.5' (want an integer >= 0)");
	CHECK_INT(run(NULL, b, "{\"ts\":1,\"rows\":-3}", &ev, err), -1);
	CHECK_STR(err, "bad rows '-3' (want an integer >= 0)");
	CHECK_INT(run(NULL, b, "{\"ts\":1,\"rows\":\"many\"}", &ev, err), -1);
	CHECK_STR(err, "bad rows 'many' (want an integer >= 0)");
}

static void test_cross_mapping(struct event_buf *b)
{
	/* customer comes from the raw "agent" while agent comes from
	 * user: both must see the raw values */
	struct diag d;
	diag_init(&d);
	struct fieldmap *m = compile("field_map:\n  agent: user\n"
				     "  customer: agent\n",
				     &d);
	CHECK(m != NULL);
	struct event ev;
	char err[200];
	CHECK_INT(
	    run(m, b, "{\"ts\":1,\"user\":\"u1\",\"agent\":\"c9\"}", &ev, err),
	    0);
	CHECK_STR(canon(&ev, FIELD_AGENT), "u1");
	CHECK_STR(canon(&ev, FIELD_CUSTOMER), "c9");
	fieldmap_free(m);
	diag_clear(&d);
}

static void test_map_errors(void)
{
	struct diag d;
	diag_init(&d);
	struct fieldmap *m = compile("field_map:\n"
				     "  agnet: actor.id\n"
				     "  ts: { field: time, format: epoch_us }\n"
				     "  action: { format: rfc3339 }\n"
				     "  rows: [a, b]\n",
				     &d);
	CHECK(m == NULL);
	CHECK_INT(diag_count(&d), 5);
	if (d.n_entries == 5) {
		CHECK_INT(d.entries[0].line, 2);
		CHECK_INT(d.entries[0].column, 3);
		CHECK_STR(d.entries[0].message,
			  "unknown key 'agnet' in field_map (did you mean "
			  "'agent'?)");
		CHECK_INT(d.entries[1].line, 3);
		CHECK_INT(d.entries[1].column, 30);
		CHECK_STR(d.entries[1].message,
			  "'format' must be one of auto, rfc3339, epoch_s, "
			  "epoch_ms, not 'epoch_us' (did you mean 'epoch_s'?)");
		CHECK_STR(d.entries[2].message,
			  "unknown key 'format' in field_map entry");
		CHECK_STR(d.entries[3].message,
			  "missing required key 'field' in field_map entry");
		CHECK_INT(d.entries[3].line, 4);
		CHECK_INT(d.entries[3].column, 11);
		CHECK_INT(d.entries[4].line, 5);
		CHECK_INT(d.entries[4].column, 9);
		CHECK_STR(d.entries[4].file, "map.yml");
	}
	diag_clear(&d);
}

int main(void)
{
	tab = fieldtab_new();
	fieldtab_freeze(tab);
	struct event_buf *b = event_buf_new(tab);

	test_parse_ts();
	test_parse_ts_common();
	test_mapped_event(b);
	test_identity(b);
	test_cross_mapping(b);
	test_map_errors();

	event_buf_free(b);
	fieldtab_free(tab);
	return check_done();
}
