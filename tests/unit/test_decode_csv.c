/*
 * test_decode_csv: header parsing, RFC 4180 quoting ('""', commas and line
 * breaks in quotes, CRLF), integer typing, field-count mismatches and the
 * other rejected records, event_buf limits.
 */
#include <string.h>

#include "check.h"
#include "decode.h"
#include "decode_csv.h"

static char err[256];

static struct csv_header *header(const char *s)
{
	err[0] = '\0';
	return csv_header_parse(s, strlen(s), err, sizeof(err));
}

static int decode(struct event_buf *b, const struct csv_header *h,
		  const char *s, struct event *ev)
{
	err[0] = '\0';
	return decode_csv(b, h, s, strlen(s), ev, err, sizeof(err));
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

static void test_header(void)
{
	struct csv_header *h =
	    header("\xef\xbb\xbfts,agent,\"the \"\"rows\"\"\",x\r\n");

	CHECK(h != NULL);
	CHECK_INT(csv_header_count(h), 4);
	CHECK_STR(csv_header_name(h, 0), "ts");
	CHECK_STR(csv_header_name(h, 2), "the \"rows\"");
	CHECK_STR(csv_header_name(h, 3), "x");
	CHECK(csv_header_name(h, 4) == NULL);
	csv_header_free(h);
	csv_header_free(NULL);
	/* a NUL byte inside a (quoted) name is refused (fuzzer find) */
	static const char nul[] = "a,\"q\0x\"\"y\",b";
	CHECK(csv_header_parse(nul, sizeof(nul) - 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "invalid column name") != NULL);

	static const char *const bad[] = {"a,,b",  "",	   "a,b,a",
					  "a,\"b", "a\"b", "\"a\"x,b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(header(bad[i]) == NULL);
		CHECK(err[0] != '\0');
	}
}

static void test_records(struct event_buf *b)
{
	struct csv_header *h = header("agent,rows,query,note");
	struct event ev;

	CHECK_INT(
	    decode(b, h, "a1,2500,\"name,phone\",\"say \"\"hi\"\"\"\r\n", &ev),
	    0);
	CHECK_INT(ev.n_fields, 4);
	check_field(&ev, 0, "agent", "a1", VALUE_STRING);
	check_field(&ev, 1, "rows", "2500", VALUE_NUMBER);
	check_field(&ev, 2, "query", "name,phone", VALUE_STRING);
	check_field(&ev, 3, "note", "say \"hi\"", VALUE_STRING);
	CHECK(event_get(&ev, FIELD_AGENT) != NULL);
	CHECK_STR(event_get(&ev, FIELD_AGENT)->value, "a1");
	CHECK(event_get(&ev, FIELD_ROWS) != NULL);
	CHECK_INT(ev.raw_len,
		  strlen("a1,2500,\"name,phone\",\"say \"\"hi\"\"\"\r\n"));

	/* empty fields, quoted integers, line breaks inside quotes */
	CHECK_INT(decode(b, h, ",\"-7\",\"two\nlines\",", &ev), 0);
	check_field(&ev, 0, "agent", "", VALUE_STRING);
	check_field(&ev, 1, "rows", "-7", VALUE_NUMBER);
	check_field(&ev, 2, "query", "two\nlines", VALUE_STRING);
	check_field(&ev, 3, "note", "", VALUE_STRING);

	/* not integers: leading zero, '+', reals, beyond 64 bits */
	CHECK_INT(decode(b, h, "007,+5,1.5,99999999999999999999", &ev), 0);
	check_field(&ev, 0, "agent", "007", VALUE_STRING);
	check_field(&ev, 1, "rows", "+5", VALUE_STRING);
	check_field(&ev, 2, "query", "1.5", VALUE_STRING);
	check_field(&ev, 3, "note", "99999999999999999999", VALUE_STRING);
	CHECK_INT(
	    decode(b, h, "0,-9223372036854775808,9223372036854775807,-", &ev),
	    0);
	check_field(&ev, 0, "agent", "0", VALUE_NUMBER);
	check_field(&ev, 1, "rows", "-9223372036854775808", VALUE_NUMBER);
	check_field(&ev, 2, "query", "9223372036854775807", VALUE_NUMBER);
	check_field(&ev, 3, "note", "-", VALUE_STRING);

	static const char *const bad[] = {
	    "a,b,c",	    /* too few */
	    "a,b,c,d,e",    /* too many */
	    "a,b,\"c,d",    /* unterminated */
	    "a,b\"x,c,d",   /* quote in unquoted field */
	    "a,\"b\"x,c,d", /* text after closing quote */
	    "",		    /* one empty field for four columns */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(decode(b, h, bad[i], &ev), -1);
		CHECK(err[0] != '\0');
		CHECK_INT(b->n_fields, 0);
	}
	CHECK_INT(decode(b, h, "a,b,c", &ev), -1);
	CHECK_STR(err, "3 fields, header has 4");
	CHECK_INT(decode(b, h, "a,b,\"c,d", &ev), -1);
	CHECK_STR(err, "unterminated quoted field at column 5");
	csv_header_free(h);

	/* a one-column header takes the empty record */
	h = header("agent");
	CHECK_INT(decode(b, h, "\n", &ev), 0);
	check_field(&ev, 0, "agent", "", VALUE_STRING);
	csv_header_free(h);
}

static void test_limits(struct event_buf *b)
{
	struct csv_header *h = header("a,b,c");
	struct event ev;

	event_buf_set_limits(b, 2, 0);
	CHECK_INT(decode(b, h, "1,2,3", &ev), -1);
	CHECK(strstr(err, "too many fields") != NULL);
	event_buf_set_limits(b, 1024, 8);
	CHECK_INT(decode(b, h, "123456789,2,3", &ev), -1);
	CHECK(strstr(err, "too large") != NULL);
	event_buf_set_limits(b, 0, 1024 * 1024);
	CHECK_INT(decode(b, h, "1,2,3", &ev), 0);
	csv_header_free(h);
}

int main(void)
{
	struct fieldtab *t = fieldtab_new();
	fieldtab_freeze(t);
	struct event_buf *b = event_buf_new(t);

	test_header();
	test_records(b);
	test_limits(b);
	event_buf_free(b);
	fieldtab_free(t);
	return check_done();
}
