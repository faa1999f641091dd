/*
 * test_decode_json: JSON lines -> event fields: flattening, arrays,
 * escapes, numbers, booleans, null, field ids, rejected lines, and the
 * key cache.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "decode.h"
#include "decode_json.h"
#include "event.h"
#include "json_keys.h"

static struct fieldtab *tab;
static int32_t id_tags, id_items0;

static int decode(struct event_buf *b, const char *line, struct event *ev,
		  char *err)
{
	err[0] = '\0';
	return decode_json(b, line, strlen(line), ev, err, 200);
}

static const char *val(const struct event *ev, const char *name)
{
	const struct event_field *f = event_find(ev, name);
	return f ? f->value : NULL;
}

static int kind(const struct event *ev, const char *name)
{
	const struct event_field *f = event_find(ev, name);
	return f ? f->kind : -1;
}

static void test_nested(struct event_buf *b)
{
	struct event ev;
	char err[200];
	const char *line =
	    "{\"ts\":\"2024-05-01T10:00:00Z\",\"actor\":{\"id\":"
	    "\"a1\",\"org\":{\"team\":\"t9\"}},\"action\":\"view\"}";

	CHECK_INT(decode(b, line, &ev, err), 0);
	CHECK_INT(ev.n_fields, 4);
	CHECK_STR(ev.fields[0].name, "ts");
	CHECK_STR(ev.fields[1].name, "actor.id");
	CHECK_STR(val(&ev, "actor.id"), "a1");
	CHECK_STR(val(&ev, "actor.org.team"), "t9");
	CHECK_STR(val(&ev, "action"), "view");
	/* canonical names get their ids; others none */
	CHECK_INT(ev.fields[0].id, FIELD_TS);
	CHECK_INT(ev.fields[1].id, -1);
	const struct event_field *a = event_get(&ev, FIELD_ACTION);
	CHECK(a != NULL && strcmp(a->value, "view") == 0);
	CHECK(event_get(&ev, FIELD_AGENT) == NULL);
	CHECK(ev.raw == line && ev.raw_len == strlen(line));
	CHECK_INT(ev.n_slots, fieldtab_count(tab));
}

static void test_arrays(struct event_buf *b)
{
	struct event ev;
	char err[200];

	CHECK_INT(decode(b,
			 "{\"tags\":[\"x\",\"y\",3],\"items\":[{\"id\":1},"
			 "{\"id\":2}],\"m\":[[1,2],[]],\"e\":[],\"o\":{},"
			 "\"u\":[\"p\",\"q\"]}",
			 &ev, err),
		  0);
	/* tags (interned): chained by id */
	const struct event_field *t = event_get(&ev, id_tags);
	CHECK(t != NULL && strcmp(t->value, "x") == 0);
	CHECK(t != NULL && t->next_same >= 0);
	if (t != NULL && t->next_same >= 0) {
		const struct event_field *t2 = &ev.fields[t->next_same];
		CHECK_STR(t2->value, "y");
		CHECK(t2->next_same >= 0);
		if (t2->next_same >= 0) {
			CHECK_STR(ev.fields[t2->next_same].value, "3");
			CHECK_INT(ev.fields[t2->next_same].kind, VALUE_NUMBER);
			CHECK_INT(ev.fields[t2->next_same].next_same, -1);
		}
	}
	/* arrays of objects flatten with the index */
	CHECK_STR(val(&ev, "items.0.id"), "1");
	CHECK_STR(val(&ev, "items.1.id"), "2");
	CHECK(event_get(&ev, id_items0) != NULL);
	CHECK_STR(val(&ev, "m.0"), "1");
	CHECK(val(&ev, "m.1") == NULL);
	CHECK(val(&ev, "e") == NULL);
	CHECK(val(&ev, "o") == NULL);
	/* u has no id: still chained (array elements) */
	const struct event_field *u = event_find(&ev, "u");
	CHECK(u != NULL && u->id == -1 && u->next_same >= 0);
	if (u != NULL && u->next_same >= 0)
		CHECK_STR(ev.fields[u->next_same].value, "q");
	CHECK_INT(ev.n_fields, 3 + 2 + 2 + 2);
}

static void test_scalars(struct event_buf *b)
{
	struct event ev;
	char err[200];

	CHECK_INT(decode(b,
			 "{\"s\":\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\","
			 "\"i\":-42,\"big\":9007199254740993,\"r\":1.5,"
			 "\"tenth\":0.1,\"e\":1e3,\"t\":true,\"f\":false,"
			 "\"n\":null,\"utf\":\"\xc3\xa9t\xc3\xa9\"}",
			 &ev, err),
		  0);
	CHECK_STR(val(&ev, "s"), "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80");
	CHECK_INT(event_find(&ev, "s")->value_len, 12);
	CHECK_STR(val(&ev, "i"), "-42");
	CHECK_STR(val(&ev, "big"), "9007199254740993");
	CHECK_STR(val(&ev, "r"), "1.5");
	CHECK_STR(val(&ev, "tenth"), "0.1");
	CHECK_STR(val(&ev, "e"), "1000");
	CHECK_INT(kind(&ev, "i"), VALUE_NUMBER);
	CHECK_INT(kind(&ev, "r"), VALUE_NUMBER);
	CHECK_STR(val(&ev, "t"), "true");
	CHECK_STR(val(&ev, "f"), "false");
	CHECK_INT(kind(&ev, "t"), VALUE_BOOL);
	CHECK_STR(val(&ev, "n"), "");
	CHECK_INT(kind(&ev, "n"), VALUE_NULL);
	CHECK_INT(kind(&ev, "s"), VALUE_STRING);
	CHECK_STR(val(&ev, "utf"), "\xc3\xa9t\xc3\xa9");
}

static void expect_fail(struct event_buf *b, const char *line, size_t len,
			const char *want_prefix)
{
	struct event ev;
	char err[200] = "";

	CHECK_INT(decode_json(b, line, len, &ev, err, sizeof(err)), -1);
	if (strncmp(err, want_prefix, strlen(want_prefix)) != 0)
		fprintf(stderr, "err was: %s\n", err);
	CHECK(strncmp(err, want_prefix, strlen(want_prefix)) == 0);
	CHECK_INT(b->n_fields, 0);
}

static void test_malformed(struct event_buf *b)
{
	const char *trunc = "{\"a\":\"b\",\"c\":";
	expect_fail(b, trunc, strlen(trunc), "invalid JSON at column ");
	expect_fail(b, "[1,2]", 5, "line is not a JSON object");
	expect_fail(b, "42", 2, "line is not a JSON object");
	expect_fail(b, "hello world", 11, "line is not a JSON object");
	expect_fail(b, "", 0, "empty line");
	expect_fail(b, "{\"a\":1}garbage", 14, "invalid JSON at column ");
	expect_fail(b, "{\"a\":1,\"a\":2}", 13, "invalid JSON at column ");
	expect_fail(b, "{\"a\":\"x\\u0000y\"}", 16, "invalid JSON");
	expect_fail(b, "{\"a\":\"\xff\"}", 8, "invalid JSON");
	expect_fail(b, "{\"a\":123456789012345678901234}", 30, "invalid JSON");
	/* the column points into the line */
	struct event ev;
	char err[200];
	CHECK_INT(decode(b, "{\"ab\": tru}", &ev, err), -1);
	CHECK_STR(err, "invalid JSON at column 8: invalid token near 'tru'");
	CHECK_INT(decode(b, "{\"a\":1, \"a\":2}", &ev, err), -1);
	CHECK_STR(err, "invalid JSON at column 9: duplicate object key near "
		       "'\"a\"'");
	CHECK_INT(decode(b, "{\"a\":1}  garbage", &ev, err), -1);
	CHECK_STR(err, "invalid JSON at column 10: end of file expected near "
		       "'garbage'");

	/* a UTF-8 byte-order mark is skipped */
	CHECK_INT(decode(b, "\xef\xbb\xbf {\"bom\":1}", &ev, err), 0);
	CHECK_STR(val(&ev, "bom"), "1");
	CHECK_INT(decode(b, "\xef\xbb\xbf{\"a\":x}", &ev, err), -1);
	CHECK_STR(err, "invalid JSON at column 9: invalid token near 'x'");

	/* a line is not NUL-terminated: bytes past len are not read */
	char buf[16] = "{\"a\":1}XXXX";
	CHECK_INT(decode_json(b, buf, 7, &ev, err, sizeof(err)), 0);
	CHECK_STR(val(&ev, "a"), "1");
}

static void test_limits(struct event_buf *b)
{
	/* deep nesting */
	char deep[400];
	size_t n = 0;
	for (int i = 0; i < 40; i++)
		n += (size_t)sprintf(deep + n, "{\"a\":");
	n += (size_t)sprintf(deep + n, "1");
	for (int i = 0; i < 40; i++)
		deep[n++] = '}';
	expect_fail(b, deep, n, "nesting deeper than 32");

	/* too many fields */
	size_t cap = 4000 * 12 + 16;
	char *many = malloc(cap);
	n = (size_t)sprintf(many, "{");
	for (int i = 0; i < 2000; i++)
		n += (size_t)sprintf(many + n, "%s\"k%d\":%d", i ? "," : "", i,
				     i);
	many[n++] = '}';
	expect_fail(b, many, n, "too many fields (max 1024)");

	/* huge line: over the byte budget */
	event_buf_set_limits(b, 0, 4096);
	size_t big = 100000;
	char *huge = malloc(big + 16);
	memcpy(huge, "{\"x\":\"", 6);
	memset(huge + 6, 'q', big);
	memcpy(huge + 6 + big, "\"}", 2);
	expect_fail(b, huge, big + 8, "event too large (max 4096 bytes)");
	CHECK(b->n_byte_overflow >= 1);
	CHECK(b->n_field_overflow >= 1);
	event_buf_set_limits(b, 0, EVENT_BUF_MAX_BYTES);
	struct event ev;
	char err[200];
	CHECK_INT(decode_json(b, huge, big + 8, &ev, err, sizeof(err)), 0);
	CHECK_INT(ev.fields[0].value_len, big);
	/* long names */
	char name[700];
	memset(name, 'n', sizeof(name));
	n = (size_t)sprintf(many, "{\"%.*s\":1}", 600, name);
	expect_fail(b, many, n, "field name longer than 512 bytes");
	free(many);
	free(huge);
	/* the buffer works again after failures */
	CHECK_INT(decode(b, "{\"tags\":[\"z\"]}", &ev, err), 0);
	CHECK_STR(event_get(&ev, id_tags)->value, "z");
	CHECK_INT(event_get(&ev, id_tags)->next_same, -1);
}

/* Arena bytes an event should have used: each name and value, copied or
 * charged, with its NUL. */
static size_t bytes_of(const struct event *ev)
{
	size_t n = 0;

	for (size_t i = 0; i < ev->n_fields; i++)
		n += strlen(ev->fields[i].name) + 1 + ev->fields[i].value_len +
		     1;
	return n;
}

/* The key cache (json_keys.h) changes the cost of a line, never its
 * result: hits, misses part-way, duplicates after a cached prefix, escaped
 * spellings, a full trie. */
static void test_key_cache(struct event_buf *b)
{
	static const char line[] =
	    "{\"ts\":\"t\",\"agent\":\"a1\",\"x\":{\"y\":1},\"rows\":3}";
	struct event ev;
	char err[200], many[512];

	for (int pass = 0; pass < 2; pass++) {
		CHECK_INT(decode(b, line, &ev, err), 0);
		CHECK_INT(ev.n_fields, 4);
		CHECK_STR(event_get(&ev, FIELD_AGENT)->value, "a1");
		CHECK_STR(event_get(&ev, FIELD_AGENT)->name, "agent");
		CHECK_STR(event_get(&ev, FIELD_ROWS)->value, "3");
		CHECK_STR(val(&ev, "x.y"), "1");
		CHECK_INT(b->n_bytes, bytes_of(&ev));
	}
	CHECK(b->json_keys != NULL && b->json_keys->n >= 4);
	CHECK_INT(
	    decode(b, "{\"ts\":\"t\",\"agent\":\"a\",\"ts\":1}", &ev, err), -1);
	CHECK_STR(err, "invalid JSON at column 23: duplicate object key near "
		       "'\"ts\"'");
	CHECK_INT(decode(b, "{\"ts\":\"t\",\"\\u0061gent\":\"a3\"}", &ev, err),
		  0);
	CHECK_STR(event_get(&ev, FIELD_AGENT)->value, "a3");
	CHECK_INT(decode(b, "{\"ts\":\"t\",\"agen\":\"p\"}", &ev, err), 0);
	CHECK(event_get(&ev, FIELD_AGENT) == NULL);
	CHECK_STR(val(&ev, "agen"), "p");
	CHECK_INT(ev.fields[1].id, -1);
	/* a big object (sorted duplicate check) after its keys were cached */
	for (int dup = 0; dup < 3; dup++) {
		size_t n = (size_t)sprintf(many, "{");
		for (int i = 0; i < 20; i++)
			n += (size_t)sprintf(many + n, "%s\"k%d\":%d",
					     i ? "," : "", i, i);
		if (dup == 2)
			n += (size_t)sprintf(many + n, ",\"k5\":0");
		many[n++] = '}';
		many[n] = '\0';
		if (dup < 2)
			CHECK_INT(decode(b, many, &ev, err), 0);
		else
			expect_fail(b, many, n,
				    "invalid JSON at column 162: "
				    "duplicate object key");
	}
	/* many shapes: the trie fills up, is forgotten, still right */
	uint64_t clears = b->json_keys->n_clear;
	for (int i = 0; i < 300; i++) {
		sprintf(many, "{\"u%d\":1,\"v%d\":2,\"agent\":\"z\"}", i, i);
		CHECK_INT(decode(b, many, &ev, err), 0);
		CHECK_STR(event_get(&ev, FIELD_AGENT)->value, "z");
	}
	CHECK(b->json_keys->n_clear > clears);
}

/* A name the table knows is still too long for a line. */
static void test_long_known_name(void)
{
	char name[600], line[700];
	struct fieldtab *t = fieldtab_new();

	memset(name, 'n', sizeof(name));
	CHECK(fieldtab_intern(t, name, sizeof(name)) >= 0);
	fieldtab_freeze(t);
	struct event_buf *b = event_buf_new(t);
	int n = sprintf(line, "{\"%.*s\":1}", (int)sizeof(name), name);
	for (int pass = 0; pass < 2; pass++)
		expect_fail(b, line, (size_t)n,
			    "field name longer than 512 bytes");
	event_buf_free(b);
	fieldtab_free(t);
}

int main(void)
{
	tab = fieldtab_new();
	id_tags = fieldtab_intern(tab, "tags", 4);
	id_items0 = fieldtab_intern(tab, "items.0.id", 10);
	fieldtab_freeze(tab);
	struct event_buf *b = event_buf_new(tab);
	CHECK(b != NULL);

	test_nested(b);
	test_arrays(b);
	test_scalars(b);
	test_malformed(b);
	test_limits(b);
	test_key_cache(b);
	test_long_known_name();

	event_buf_free(b);
	event_buf_free(NULL);
	fieldtab_free(tab);
	return check_done();
}
