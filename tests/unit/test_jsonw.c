/*
 * test_jsonw: the JSON writer — escaping (RFC 8259, control characters,
 * U+2028/9, invalid UTF-8, embedded NUL), commas and nesting, numbers,
 * the size bound and sticky errors.  Every output is also parsed back with
 * jansson to prove it is valid JSON.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jsonw.h"

/* Escapes s[0..len) as one JSON string and returns the text (static). */
static const char *esc(const char *s, size_t len)
{
	static char out[512];
	struct jsonw w;

	jsonw_init(&w, 4096);
	jsonw_stringn(&w, s, len);
	snprintf(out, sizeof(out), "%s",
		 jsonw_error(&w) ? "(error)" : jsonw_str(&w));
	jsonw_clear(&w);
	return out;
}

static int parses(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	int ok = j != NULL;

	json_decref(j);
	return ok;
}

static void test_escape_ascii(void)
{
	CHECK_STR(esc("plain text", 10), "\"plain text\"");
	CHECK_STR(esc("a\"b\\c/d", 7), "\"a\\\"b\\\\c/d\"");
	CHECK_STR(esc("l1\nl2\r\t\b\f", 9), "\"l1\\nl2\\r\\t\\b\\f\"");
	CHECK_STR(esc("\x01\x1f\x7f", 3), "\"\\u0001\\u001f\\u007f\"");
	CHECK_STR(esc("a\0b", 3), "\"a\\u0000b\"");
	CHECK_STR(esc("", 0), "\"\"");
	CHECK(parses(esc("a\0b\x01\"\\", 6)));
}

static void test_escape_utf8(void)
{
	/* valid multi-byte text is copied: é, €, 😀 */
	CHECK_STR(esc("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9),
		  "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* line/paragraph separators are escaped */
	CHECK_STR(esc("a\xe2\x80\xa8"
		      "b\xe2\x80\xa9",
		      8),
		  "\"a\\u2028b\\u2029\"");
	/* stray continuation, bad lead, truncated sequence at the end */
	CHECK_STR(esc("\x80x\xffy\xe2\x82", 6),
		  "\"\\ufffdx\\ufffdy\\ufffd\\ufffd\"");
	/* overlong '/', encoded surrogate U+D800, beyond U+10FFFF */
	CHECK_STR(esc("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"");
	CHECK_STR(esc("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"");
	CHECK_STR(esc("\xf4\x90\x80\x80", 4),
		  "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* the largest scalar value is fine */
	CHECK_STR(esc("\xf4\x8f\xbf\xbf", 4), "\"\xf4\x8f\xbf\xbf\"");
	CHECK(parses(esc("\xff\xfe\xc3", 3)));
}

/* Decodes a JSON string literal with jansson into out; its length. */
static size_t decode(const char *text, char *out, size_t size)
{
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	size_t n = 0;

	if (json_is_string(j) && json_string_length(j) <= size) {
		n = json_string_length(j);
		memcpy(out, json_string_value(j), n);
	}
	json_decref(j);
	return n;
}

/* Every special byte at every position of a string longer than a word:
 * the word-at-a-time scan must find it, and the text must read back. */
static void test_escape_positions(void)
{
	static const unsigned char specials[] = {'"',  '\\', 0,	  0x01, '\n',
						 0x1f, 0x7f, ' ', '~'};
	char in[24], back[64];
	int bad = 0;

	for (size_t k = 0; k < sizeof(specials); k++) {
		for (size_t p = 0; p < sizeof(in); p++) {
			memset(in, 'a', sizeof(in));
			in[p] = (char)specials[k];
			size_t n =
			    decode(esc(in, sizeof(in)), back, sizeof(back));
			if (n != sizeof(in) || memcmp(in, back, n) != 0)
				bad++;
		}
	}
	CHECK_INT(bad, 0);
	/* a lone high byte anywhere becomes U+FFFD in place */
	for (size_t p = 0; p < sizeof(in); p++) {
		memset(in, 'a', sizeof(in));
		in[p] = (char)0x80;
		size_t n = decode(esc(in, sizeof(in)), back, sizeof(back));
		if (n != sizeof(in) + 2 ||
		    memcmp(back + p, "\xef\xbf\xbd", 3) ||
		    (p + 3 < n && back[p + 3] != 'a') ||
		    (p > 0 && back[p - 1] != 'a'))
			bad++;
	}
	CHECK_INT(bad, 0);
}

static void test_structure(void)
{
	struct jsonw w;

	jsonw_init(&w, 4096);
	jsonw_object_begin(&w);
	jsonw_key(&w, "a");
	jsonw_int(&w, -5);
	jsonw_key(&w, "b\"");
	jsonw_array_begin(&w);
	jsonw_uint(&w, 4294967296ull);
	jsonw_bool(&w, true);
	jsonw_bool(&w, false);
	jsonw_null(&w);
	jsonw_object_begin(&w);
	jsonw_object_end(&w);
	jsonw_array_begin(&w);
	jsonw_array_end(&w);
	jsonw_string(&w, NULL);
	jsonw_array_end(&w);
	jsonw_key(&w, "r");
	jsonw_raw(&w, "{\"x\":1}", 7);
	jsonw_key(&w, "m");
	jsonw_int(&w, INT64_MIN);
	jsonw_object_end(&w);
	CHECK_INT(jsonw_error(&w), JSONW_OK);
	CHECK_STR(jsonw_str(&w),
		  "{\"a\":-5,\"b\\\"\":[4294967296,true,false,null,"
		  "{},[],null],\"r\":{\"x\":1},\"m\":-9223372036854775808}");
	CHECK(parses(jsonw_str(&w)));
	char *s = jsonw_take(&w);
	CHECK(s != NULL && s[0] == '{');
	CHECK(w.buf == NULL && w.len == 0);
	free(s);

	/* the full unsigned range (jansson cannot read this one back) */
	jsonw_init(&w, 64);
	jsonw_uint(&w, UINT64_MAX);
	s = jsonw_take(&w);
	CHECK_STR(s, "18446744073709551615");
	free(s);
}

static void test_numbers(void)
{
	struct jsonw w;

	CHECK(jsonw_is_number("0", 1));
	CHECK(jsonw_is_number("-12.5e+3", 8));
	CHECK(jsonw_is_number("1E9", 3));
	CHECK(!jsonw_is_number("", 0));
	CHECK(!jsonw_is_number("01", 2));
	CHECK(!jsonw_is_number("1.", 2));
	CHECK(!jsonw_is_number(".5", 2));
	CHECK(!jsonw_is_number("+1", 2));
	CHECK(!jsonw_is_number("0x10", 4));
	CHECK(!jsonw_is_number("NaN", 3));
	CHECK(!jsonw_is_number("1e", 2));
	CHECK(!jsonw_is_number("1 ", 2));

	jsonw_init(&w, 4096);
	jsonw_array_begin(&w);
	jsonw_number_text(&w, "2500", 4);
	jsonw_number_text(&w, "1,5", 3);
	jsonw_double(&w, 3.0);
	jsonw_double(&w, -0.5);
	jsonw_double(&w, 0.1);
	jsonw_double(&w, 1e300);
	jsonw_double(&w, NAN);
	jsonw_double(&w, INFINITY);
	jsonw_array_end(&w);
	CHECK_STR(jsonw_str(&w), "[2500,\"1,5\",3,-0.5,0.1,1e+300,null,null]");
	CHECK(parses(jsonw_str(&w)));
	jsonw_clear(&w);
}

static void test_limits_and_errors(void)
{
	struct jsonw w;

	/* 10 bytes of room: "\"abcdef\"" is 8 + NUL = 9 fits, 10 does not */
	jsonw_init(&w, 9);
	jsonw_string(&w, "abcdef");
	CHECK_INT(jsonw_error(&w), JSONW_OK);
	CHECK_STR(jsonw_str(&w), "\"abcdef\"");
	jsonw_reset(&w);
	jsonw_string(&w, "abcdefg");
	CHECK_INT(jsonw_error(&w), JSONW_ETOOBIG);
	CHECK(jsonw_str(&w) == NULL);
	jsonw_null(&w); /* sticky: no-op */
	CHECK_INT(jsonw_error(&w), JSONW_ETOOBIG);
	CHECK(jsonw_take(&w) == NULL);

	jsonw_init(&w, 4096);
	jsonw_object_begin(&w);
	jsonw_int(&w, 1); /* value without key */
	CHECK_INT(jsonw_error(&w), JSONW_ESTATE);
	jsonw_clear(&w);

	jsonw_init(&w, 4096);
	jsonw_array_end(&w); /* unbalanced */
	CHECK_INT(jsonw_error(&w), JSONW_ESTATE);
	jsonw_clear(&w);

	jsonw_init(&w, 4096);
	for (int i = 0; i <= JSONW_MAX_DEPTH; i++)
		jsonw_array_begin(&w);
	CHECK_INT(jsonw_error(&w), JSONW_EDEPTH);
	jsonw_clear(&w);

	/* growth across many reallocations keeps the content */
	jsonw_init(&w, 1 << 20);
	jsonw_array_begin(&w);
	for (int i = 0; i < 5000; i++)
		jsonw_string(&w, "0123456789");
	jsonw_array_end(&w);
	CHECK_INT(jsonw_error(&w), JSONW_OK);
	CHECK_INT(w.len, 2 + 5000 * 13 - 1); /* "0123456789", */
	CHECK(parses(jsonw_str(&w)));
	jsonw_clear(&w);
}

int main(void)
{
	test_escape_ascii();
	test_escape_utf8();
	test_escape_positions();
	test_structure();
	test_numbers();
	test_limits_and_errors();
	return check_done();
}
