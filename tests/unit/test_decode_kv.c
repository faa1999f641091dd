/*
 * test_decode_kv: key=value lines — unquoted, double- and single-quoted
 * values with escapes, empty values, integer typing (unquoted only), the
 * rejected forms (bare words, unterminated quotes, duplicates) and the
 * event_buf limits.
 */
#include <string.h>

#include "check.h"
#include "decode.h"
#include "decode_kv.h"

static char err[256];

static int decode(struct event_buf *b, const char *s, struct event *ev)
{
	err[0] = '\0';
	return decode_kv(b, s, strlen(s), ev, err, sizeof(err));
}

static void check_field(const struct event *ev, size_t i, const char *name,
			const char *value, int kind)
{
	CHECK(i < ev->n_fields);
	if (i >= ev->n_fields)
		return;
	CHECK_STR(ev->fields[i].name, name);
	CHECK_STR(ev->fields[i].value, value);
	CHECK_INT(ev->fields[i].value_len, strlen(value));
	CHECK_INT(ev->fields[i].kind, kind);
}

static void test_ok(struct event_buf *b)
{
	struct event ev;
	const char *l = "agent=a1 rows=2500 query=\"name, phone\" "
			"note=\"a \\\"b\\\"\"\tpath='c:\\\\tmp' empty= "
			"raw=x\\y q=\"42\" neg=-3\r\n";

	CHECK_INT(decode(b, l, &ev), 0);
	CHECK_INT(ev.n_fields, 9);
	check_field(&ev, 0, "agent", "a1", VALUE_STRING);
	check_field(&ev, 1, "rows", "2500", VALUE_NUMBER);
	check_field(&ev, 2, "query", "name, phone", VALUE_STRING);
	check_field(&ev, 3, "note", "a \"b\"", VALUE_STRING);
	check_field(&ev, 4, "path", "c:\\tmp", VALUE_STRING);
	check_field(&ev, 5, "empty", "", VALUE_STRING);
	check_field(&ev, 6, "raw", "x\\y", VALUE_STRING);
	check_field(&ev, 7, "q", "42", VALUE_STRING); /* quoted: text */
	check_field(&ev, 8, "neg", "-3", VALUE_NUMBER);
	CHECK(event_get(&ev, FIELD_AGENT) != NULL);
	CHECK_STR(event_get(&ev, FIELD_ROWS)->value, "2500");
	CHECK(ev.raw == l);

	/* dotted keys and '=' inside a value */
	CHECK_INT(decode(b, "  actor.id=u1 expr=a=b  ", &ev), 0);
	CHECK_INT(ev.n_fields, 2);
	check_field(&ev, 0, "actor.id", "u1", VALUE_STRING);
	check_field(&ev, 1, "expr", "a=b", VALUE_STRING);
	/* other backslashes in quotes are kept */
	CHECK_INT(decode(b, "m=\"x\\ny\" n='it\\'s'", &ev), 0);
	check_field(&ev, 0, "m", "x\\ny", VALUE_STRING);
	check_field(&ev, 1, "n", "it's", VALUE_STRING);
}

static void test_bad(struct event_buf *b)
{
	static const char *const bad[] = {
	    "",	       "   ",		"word",	   "a=1 word",
	    "=1",      "a=\"x",		"a='x\\'", "a=\"x\"y",
	    "a=1 a=2", "a=\"1\" b c=2", "a\"b=1",
	};
	struct event ev;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = decode(b, bad[i], &ev);
		if (rc != -1)
			fprintf(stderr, "accepted: [%s]\n", bad[i]);
		CHECK_INT(rc, -1);
		CHECK(err[0] != '\0');
		CHECK_INT(b->n_fields, 0);
	}
	CHECK_INT(decode(b, "a=1 word", &ev), -1);
	CHECK_STR(err, "expected key=value at column 5");
	CHECK_INT(decode(b, "a=1 a=2", &ev), -1);
	CHECK_STR(err, "duplicate or invalid key at column 5");
}

static void test_limits(struct event_buf *b)
{
	struct event ev;
	char big[700];

	event_buf_set_limits(b, 2, 0);
	CHECK_INT(decode(b, "a=1 b=2 c=3", &ev), -1);
	CHECK(strstr(err, "too many fields") != NULL);
	event_buf_set_limits(b, 1024, 0);
	memset(big, 'k', 600);
	strcpy(big + 600, "=1");
	CHECK_INT(decode(b, big, &ev), -1);
	CHECK(strstr(err, "longer than 512") != NULL);
}

int main(void)
{
	struct fieldtab *t = fieldtab_new();
	fieldtab_freeze(t);
	struct event_buf *b = event_buf_new(t);

	test_ok(b);
	test_bad(b);
	test_limits(b);
	event_buf_free(b);
	fieldtab_free(t);
	return check_done();
}
