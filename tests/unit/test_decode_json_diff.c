/*
 * test_decode_json_diff: decode_json() (the scanner) against
 * decode_json_ref() (jansson) on a fixed list of edge cases and on a few
 * thousand generated lines (fixed seed): random nesting, arrays, escapes,
 * raw and escaped Unicode (valid and not), numbers of every shape, literal
 * look-alikes, duplicate keys, white space, then random byte damage to a
 * third of them, and small limits on some.  The comparison is
 * decode_json_diff.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "decode_json_diff.h"
#include "json_keys.h"

#define N_LINES 6000
#define LINE_CAP 65536

static struct event_buf *fast, *ref;
static unsigned n_result[4];

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11) % n;
}

struct out {
	char *p;
	size_t len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n < LINE_CAP) {
		memcpy(o->p + o->len, s, n);
		o->len += n;
	}
}

static void puts0(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static const char *pick(const char *const *v, size_t n)
{
	return v[rnd((uint32_t)n)];
}
#define PICK(v) pick(v, sizeof(v) / sizeof(v[0]))

static void gen_ws(struct out *o)
{
	static const char *const ws[] = {"",  "",   "",	    "",
					 " ", "\t", "\r\n", "  "};
	puts0(o, PICK(ws));
}

static void gen_number(struct out *o)
{
	static const char *const nums[] = {
	    "0", "-0", "1", "-1", "42", "0.1", "1.0", "1.5", "-0.0", "1e3",
	    "1E+2", "2e-3", "1e-400", "-1e-400", "5e-324",
	    "2.2250738585072014e-308", "1.7976931348623157e308",
	    "9007199254740993", "9223372036854775807", "-9223372036854775808",
	    "0.30000000000000004", "100000000000000000000.0", "3.14159",
	    "1234567890123456789", "0e0", "-0e-0", "123.456e-7", "-5E3",
	    "0.0000000000000000000000000001", "4.9e-324", "2.5e-324",
	    "18446744073709551616.5", "1e22",
	    /* too big or invalid from here */
	    "1e400", "-1e400", "9223372036854775808", "-9223372036854775809",
	    "123456789012345678901234", "18446744073709551616",
	    "12345678901234567890", "01", "-01", "1.", ".5", "-", "+1", "1e",
	    "1e+", "0x10", "1.e5", "--1", "1ee2", "NaN", "Infinity"};

	uint32_t r = rnd(12);

	if (r < 4) {
		char b[32];
		snprintf(b, sizeof(b), "%s%u", rnd(2) ? "-" : "",
			 (unsigned)rnd(1000000));
		puts0(o, b);
	} else if (r < 11) {
		puts0(o, nums[rnd(33)]); /* the valid ones */
	} else {
		puts0(o, PICK(nums));
	}
}

/* String body pieces: plain, escapes, raw UTF-8, and broken variants. */
static void gen_string(struct out *o, int keyish)
{
	static const char *const pieces[] = {
	    "a", "b", "x", "hello", "a.b", ".", " ", "0", "\\\"", "\\\\", "\\/",
	    "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041", "\\u00e9", "\\u20AC",
	    "\\ud83d\\ude00", "\\uD834\\uDD1E", "\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
	    /* invalid */
	    "\\u0000", "\\ud83d", "\\ude00", "\\ud83d\\u0041", "\\ud83dx",
	    "\\x", "\\u12", "\\u12G4", "\xff", "\xc0\xaf", "\xc3",
	    "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	    "\xf5\x80\x80\x80", "\x80", "\x01", "\n", "\x7f"};
	static const char *const keys[] = {"a", "b",	"c",   "a.b",	 "a",
					   "",	"tags", "x.y", "\\u0061"};
	int n = (int)rnd(4);

	puts0(o, "\"");
	uint32_t r = keyish ? rnd(4) : 3;

	if (r < 2) {
		char k[16];
		snprintf(k, sizeof(k), "k%u", (unsigned)rnd(1000));
		puts0(o, k);
	} else if (r < 3) {
		puts0(o, PICK(keys));
	} else {
		for (int i = 0; i < n; i++) {
			/* mostly valid pieces, sometimes any */
			size_t k = rnd(30) == 0
				       ? rnd(sizeof(pieces) / sizeof(pieces[0]))
				       : rnd(25);
			puts0(o, pieces[k]);
		}
	}
	puts0(o, "\"");
}

static void gen_value(struct out *o, int depth);

static void gen_object(struct out *o, int depth)
{
	int n = (int)rnd(depth == 0 ? 8 : 4);

	if (rnd(40) == 0)
		n = 20 +
		    (int)rnd(30); /* a big object: sorted duplicate check */
	puts0(o, "{");
	for (int i = 0; i < n; i++) {
		if (i > 0)
			puts0(o, ",");
		gen_ws(o);
		if (n > 16 && rnd(8) != 0) {
			char k[24];
			snprintf(k, sizeof(k), "\"k%u\"", (unsigned)rnd(400));
			puts0(o, k);
		} else {
			gen_string(o, 1);
		}
		gen_ws(o);
		puts0(o, ":");
		gen_ws(o);
		gen_value(o, depth + 1);
	}
	puts0(o, "}");
}

static void gen_array(struct out *o, int depth)
{
	int n = (int)rnd(5);

	puts0(o, "[");
	for (int i = 0; i < n; i++) {
		if (i > 0)
			puts0(o, ",");
		gen_ws(o);
		gen_value(o, depth + 1);
		gen_ws(o);
	}
	puts0(o, "]");
}

static void gen_value(struct out *o, int depth)
{
	static const char *const lits[] = {"true", "false", "null", "tru",
					   "nul",  "truex", "True", "nulll"};
	uint32_t r = rnd(depth > 6 ? 6 : 10);

	if (rnd(200) == 0 && depth < 3) {
		/* a long chain: around the nesting limit */
		char obj[40];
		int d = 28 + (int)rnd(8);
		for (int i = 0; i < d; i++) {
			obj[i] = (char)rnd(2);
			puts0(o, obj[i] ? "{\"n\":" : "[");
		}
		gen_number(o);
		for (int i = d - 1; i >= 0; i--)
			puts0(o, obj[i] ? "}" : "]");
		return;
	}
	if (r < 3)
		gen_string(o, 0);
	else if (r < 5)
		gen_number(o);
	else if (r < 6)
		puts0(o, rnd(30) ? pick(lits, 3) : PICK(lits));
	else if (r < 8)
		gen_object(o, depth);
	else
		gen_array(o, depth);
}

/* Random byte damage: replace, insert, delete, truncate. */
static void damage(struct out *o)
{
	static const char bytes[] = "{}[]:,\"\\ 0-e.\x00\xff\xc3tu";
	int n = 1 + (int)rnd(3);

	for (int i = 0; i < n && o->len > 0; i++) {
		size_t at = rnd((uint32_t)o->len);
		char c = bytes[rnd(sizeof(bytes) - 1)];
		switch (rnd(4)) {
		case 0:
			o->p[at] = c;
			break;
		case 1:
			memmove(o->p + at + 1, o->p + at, o->len - at);
			o->p[at] = c;
			o->len++;
			break;
		case 2:
			memmove(o->p + at, o->p + at + 1, o->len - at - 1);
			o->len--;
			break;
		default:
			o->len = at;
		}
	}
}

/* Compares the decoders on a copy of the line in a block of exactly len
 * bytes, so that AddressSanitizer sees any read past the line's end. */
static void check_line(const char *line, size_t len)
{
	char why[1024];
	char *copy = malloc(len ? len : 1);

	CHECK(copy != NULL);
	if (copy == NULL)
		return;
	memcpy(copy, line, len);
	enum diff_result d =
	    diff_decode(fast, ref, copy, len, why, sizeof(why));
	free(copy);

	n_result[d]++;
	if (d == DIFF_DIFFERENT)
		fprintf(stderr, "difference on [%.*s]: %s\n", (int)len, line,
			why);
	CHECK(d != DIFF_DIFFERENT);
}

static void set_limits(size_t fields, size_t bytes)
{
	event_buf_set_limits(fast, fields, bytes);
	event_buf_set_limits(ref, fields, bytes);
}

static void deep(char *b, size_t *n, int depth, int arrays)
{
	*n = 0;
	for (int i = 0; i < depth; i++)
		*n += (size_t)sprintf(b + *n, "%s",
				      i == 0 || !arrays ? "{\"a\":" : "[");
	*n += (size_t)sprintf(b + *n, "1");
	for (int i = depth - 1; i >= 0; i--)
		b[(*n)++] = i == 0 || !arrays ? '}' : ']';
}

static void test_edge_cases(void)
{
	static const char *const lines[] = {
	    "{}",
	    " \t{}",
	    "{\"a\":-0}",
	    "{\"a\":1e400}",
	    "{\"a\":-1e-400}",
	    "{\"a\":0.1,\"b\":1e3,\"c\":-0.0}",
	    "{\"a\":[1,[2,[3]],{\"b\":4}]}",
	    "{\"tags\":[\"x\",{\"y\":1},\"z\"],\"tags\":1}",
	    "{\"a\":\"\\u0061\",\"\\u0061\":1}",
	    "{\"\":{\"b\":1}}",
	    "{\"a.b\":1,\"a\":{\"b\":2}}",
	    "{\"a\":{}}",
	    "{\"a\":[]}",
	    "{\"a\":[[],{}]}",
	    "\xef\xbb\xbf{\"a\":1}",
	    "\xef\xbb\xbf",
	    "",
	    " ",
	    "\n{}",
	    "{\"a\":1}\n",
	    "{\"a\":1} \r\n\t",
	    "[1]",
	    "x",
	    "{\"a\":tru}",
	    "{\"a\":truex}",
	    "{\"a\":nullx}",
	    "{\"a\" 1}",
	    "{\"a\":1,}",
	    "{,}",
	    "{\"a\":[1,]}",
	    "{\"a\":[,1]}",
	    "{\"a\":\"\\ud800\\udbff\"}",
	    "{\"a\":\"\\uDBFF\\uDFFF\"}",
	    "{\"a\":\"\xf4\x8f\xbf\xbf\"}",
	    "{\"a\":\"\xef\xbf\xbf\"}",
	    "{\"a\":\"\xed\x9f\xbf\"}",
	    "{\"a\":\"\xee\x80\x80\"}",
	    "{\"a\":\"\xf0\x90\x80\x80\"}",
	    "{\"a\":\"\xf0\x8f\xbf\xbf\"}",
	    "{\"a\":\"\xe0\xa0\x80\"}",
	    "{\"a\":\"\xe0\x9f\xbf\"}",
	    "{\"a\":\"\xc2\x80\"}",
	    "{\"a\":\"\xc1\xbf\"}",
	    "{\"a\":é}",
	    "{\"a\":\"\\u00\"}",
	    "{\"a\":\"\\"};
	char b[4096];
	size_t n;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		check_line(lines[i], strlen(lines[i]));
	/* NUL bytes: skipped by jansson after a number or literal only */
	check_line("{\"a\":1\0}", 8);
	check_line("{\"a\":[true\0,null\0]}", 19);
	check_line("{\"a\":1\0\0}", 9);
	check_line("{\"a\":\"x\0\"}", 10);
	check_line("{\"a\":\"x\"\0}", 10);
	check_line("{\0\"a\":1}", 8);
	/* nesting around the limit, objects and arrays */
	for (int d = 30; d <= 36; d++)
		for (int arrays = 0; arrays < 2; arrays++) {
			deep(b, &n, d, arrays);
			check_line(b, n);
		}
	/* names around DECODE_JSON_MAX_NAME */
	for (int k = 505; k <= 515; k++) {
		n = (size_t)sprintf(b, "{\"ab\":{\"%0*d\":1}}", k - 3, 7);
		check_line(b, n);
		n = (size_t)sprintf(b, "{\"ab\":[[{\"%0*d\":1}]]}", k - 7, 7);
		check_line(b, n);
	}
	/* big objects: the sorted duplicate check, and its escaped keys */
	for (int dup = 0; dup < 3; dup++) {
		n = (size_t)sprintf(b, "{");
		for (int i = 0; i < 40; i++)
			n += (size_t)sprintf(b + n, "%s\"k%d\":%d",
					     i ? "," : "", i, i);
		if (dup == 1)
			n += (size_t)sprintf(b + n, ",\"k3\":{}");
		if (dup == 2)
			n += (size_t)sprintf(b + n, ",\"\\u006b39\":[]");
		b[n++] = '}';
		check_line(b, n);
	}
}

static void test_generated(void)
{
	char *line = malloc(LINE_CAP);
	struct out o = {line, 0};

	CHECK(line != NULL);
	if (line == NULL)
		return;
	for (int i = 0; i < N_LINES; i++) {
		o.len = 0;
		gen_ws(&o);
		gen_object(&o, 0);
		gen_ws(&o);
		if (rnd(3) == 0)
			damage(&o);
		if (i % 7 == 3)
			set_limits(3 + rnd(8), 40 + rnd(300));
		check_line(line, o.len);
		if (i % 7 == 3)
			set_limits(EVENT_BUF_MAX_FIELDS, EVENT_BUF_MAX_BYTES);
	}
	free(line);
}

/* One line of a shape: its keys in order, each now and then replaced by
 * another key of the pool (a miss part-way, or a duplicate key) or written
 * with an escape; values of any kind. */
static void gen_shaped(struct out *o, const uint8_t *shape, size_t n,
		       const char *const *pool, size_t n_pool)
{
	puts0(o, "{");
	for (size_t i = 0; i < n; i++) {
		const char *k = pool[shape[i]];
		uint32_t r = rnd(60);
		if (i > 0)
			puts0(o, ",");
		if (r == 0)
			k = pool[rnd((uint32_t)n_pool)];
		puts0(o, "\"");
		if (r == 1 && k[0] >= 'a' && k[0] <= 'z') {
			char e[8];
			snprintf(e, sizeof(e), "\\u%04x", (unsigned)k[0]);
			puts0(o, e);
			k++;
		}
		puts0(o, k);
		puts0(o, "\":");
		if (rnd(4) == 0)
			gen_value(o, 1);
		else if (rnd(2) == 0)
			gen_string(o, 0);
		else
			gen_number(o);
	}
	puts0(o, "}");
}

/* 1 to max distinct keys of the pool (of n_pool > 40), in random order;
 * a third of the shapes then repeat one key.  Returns the length. */
static size_t gen_shape(uint8_t *shape, size_t n_pool, uint32_t max)
{
	uint8_t idx[64];
	size_t n = 1 + rnd(max);

	for (size_t i = 0; i < n_pool; i++)
		idx[i] = (uint8_t)i;
	for (size_t i = 0; i < n; i++) {
		size_t j = i + rnd((uint32_t)(n_pool - i));
		uint8_t t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
		shape[i] = idx[i];
	}
	if (rnd(3) == 0)
		shape[rnd((uint32_t)n)] = shape[rnd((uint32_t)n)];
	return n;
}

/* Lines that repeat a few key sequences, so that decode_json's key cache
 * (json_keys.h) hits, misses part-way, meets duplicates after a cached
 * prefix (small and big objects), escaped spellings of cached keys, keys
 * that are prefixes of cached ones, and fills up (many shapes). */
static void test_key_cache(void)
{
	static const char *const pool[] = {
	    "a",
	    "b",
	    "c",
	    "tags",
	    "",
	    "a.b",
	    "ab",
	    "abc",
	    "x",
	    "\xc3\xa9",
	    "k0",
	    "k1",
	    "k2",
	    "k3",
	    "k4",
	    "k5",
	    "k6",
	    "k7",
	    "k8",
	    "k9",
	    "k10",
	    "k11",
	    "k12",
	    "k13",
	    "k14",
	    "k15",
	    "k16",
	    "k17",
	    "k18",
	    "k19",
	    "k20",
	    "k21",
	    "k22",
	    "k23",
	    "k24",
	    "k25",
	    "k26",
	    "k27",
	    "k28",
	    "k29",
	    "long.name.of.a.field.that.is.longer.than.sixteen.bytes"};
	size_t n_pool = sizeof(pool) / sizeof(pool[0]);
	uint8_t shapes[6][40] = {{0}};
	size_t len[6];
	char *line = malloc(LINE_CAP);
	struct out o = {line, 0};

	CHECK(line != NULL);
	if (line == NULL)
		return;
	for (int round = 0; round < 2; round++) {
		/* round 0: six shapes; round 1: a new shape per line */
		for (int i = 0; i < N_LINES / 2; i++) {
			int sh = round == 0 ? (int)rnd(6) : 0;
			if (i == 0 || round == 1) {
				for (int j = 0; j < 6; j++)
					len[j] = gen_shape(shapes[j], n_pool,
							   j < 3 ? 14 : 40);
				/* shapes 1 and 2 share a prefix with 0 */
				memcpy(shapes[1], shapes[0], 5);
				memcpy(shapes[2], shapes[0], 2);
			}
			o.len = 0;
			gen_shaped(&o, shapes[sh], len[sh], pool, n_pool);
			if (rnd(6) == 0)
				damage(&o);
			check_line(line, o.len);
			if (rnd(3) == 0) /* the same line again: all hits */
				check_line(line, o.len);
		}
	}
	free(line);
	CHECK(fast->json_keys != NULL && fast->json_keys->n_clear > 0);
}

/* The comparison itself notices a difference. */
static void test_checker(void)
{
	struct event f, r;
	char err[200], why[256];

	CHECK_INT(decode_json(fast, "{\"a\":1}", 7, &f, err, sizeof(err)), 0);
	CHECK_INT(decode_json_ref(ref, "{\"a\":2}", 7, &r, err, sizeof(err)),
		  0);
	CHECK(!diff_events(fast, &f, ref, &r, why, sizeof(why)));
	CHECK(strstr(why, "field 0") != NULL);
	CHECK_INT(decode_json_ref(ref, "{\"a\":1}", 7, &r, err, sizeof(err)),
		  0);
	CHECK(diff_events(fast, &f, ref, &r, why, sizeof(why)));
	CHECK_INT(decode_json_ref(ref, "{\"b\":[1]}", 9, &r, err, sizeof(err)),
		  0);
	CHECK(!diff_events(fast, &f, ref, &r, why, sizeof(why)));
}

int main(void)
{
	struct fieldtab *tab = diff_table();

	CHECK(tab != NULL);
	fast = event_buf_new(tab);
	ref = event_buf_new(tab);
	CHECK(fast != NULL && ref != NULL);

	test_checker();
	test_edge_cases();
	test_generated();
	test_key_cache();
	printf("lines: %u accepted by both, %u rejected by both, %u with "
	       "the NUL difference, %u different\n",
	       n_result[DIFF_SAME_ACCEPT], n_result[DIFF_SAME_REJECT],
	       n_result[DIFF_NUL_SKIPPED], n_result[DIFF_DIFFERENT]);
	/* the generator must exercise both outcomes and the limits */
	CHECK(n_result[DIFF_SAME_ACCEPT] > N_LINES / 3);
	CHECK(n_result[DIFF_SAME_REJECT] > N_LINES / 5);
	CHECK(n_result[DIFF_NUL_SKIPPED] >= 2);
	CHECK(fast->n_field_overflow > 0 && fast->n_byte_overflow > 0);

	event_buf_free(fast);
	event_buf_free(ref);
	fieldtab_free(tab);
	return check_done();
}
