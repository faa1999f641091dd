/*
 * test_detection: Sigma detection compilation and matching, from YAML text
 * to a match decision on hand-built events.  Every modifier and search
 * identifier form is checked with positive and negative events; bad rules
 * are checked for the right line:column.
 */
#include "check.h"
#include "detection.h"
#include "match.h"
#include "yamltree.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_F 32

/* ---- hand-built events ---- */

struct tev {
	struct event ev;
	struct event_field f[MAX_F];
	int32_t slot[512];
};

static struct fieldtab *ft;
static struct rule_lists lists;

static void ev_init(struct tev *t)
{
	memset(t, 0, sizeof(*t));
	t->ev.fields = t->f;
	t->ev.slot = t->slot;
	t->ev.n_slots = fieldtab_count(ft);
	for (size_t i = 0; i < 512; i++)
		t->slot[i] = -1;
}

/* Appends a field; a repeated name becomes the next array element. */
static void ev_add(struct tev *t, const char *name, const char *value,
		   enum value_kind kind)
{
	size_t i = t->ev.n_fields++;
	struct event_field *f = &t->f[i];

	f->name = name;
	f->value = value;
	f->value_len = (uint32_t)strlen(value);
	f->kind = (uint8_t)kind;
	f->id = fieldtab_find(ft, name, strlen(name));
	f->next_same = -1;
	if (f->id < 0)
		return;
	if (t->slot[f->id] < 0) {
		t->slot[f->id] = (int32_t)i;
		return;
	}
	struct event_field *p = &t->f[t->slot[f->id]];
	while (p->next_same >= 0)
		p = &t->f[p->next_same];
	p->next_same = (int32_t)i;
}

/* ev1("name", "value", ...): string fields, NULL-terminated */
static const struct event *evs(struct tev *t, ...)
{
	va_list ap;
	const char *n;

	ev_init(t);
	va_start(ap, t);
	while ((n = va_arg(ap, const char *)) != NULL)
		ev_add(t, n, va_arg(ap, const char *), VALUE_STRING);
	va_end(ap);
	return &t->ev;
}

/* ---- compiling ---- */

static struct yaml_docs *docs[256];
static size_t n_docs;

static struct detection *compile_d(const char *yaml, struct diag *d)
{
	struct yaml_docs *y =
	    yamltree_load_buffer("t.yml", yaml, strlen(yaml), d);
	struct rule_ctx ctx = {.fields = ft, .lists = &lists, .file = "t.yml"};

	if (y == NULL)
		return NULL;
	docs[n_docs++] = y;
	return detection_compile(y->docs[0], &ctx, d);
}

static struct detection *compile(const char *yaml)
{
	struct diag d;

	diag_init(&d);
	struct detection *det = compile_d(yaml, &d);
	if (det == NULL) {
		fprintf(stderr, "unexpected compile failure for:\n%s\n", yaml);
		diag_print(&d, stderr);
	}
	diag_clear(&d);
	return det;
}

/* Compile must fail with a first message at line:col containing `what`. */
static void check_error(const char *yaml, int line, int col, const char *what)
{
	struct diag d;

	diag_init(&d);
	struct detection *det = compile_d(yaml, &d);
	if (det != NULL)
		fprintf(stderr, "compiled but should not:\n%s\n", yaml);
	CHECK(det == NULL);
	CHECK(d.n_entries > 0);
	if (d.n_entries > 0) {
		CHECK_STR(d.entries[0].file, "t.yml");
		CHECK_INT(d.entries[0].line, line);
		CHECK_INT(d.entries[0].column, col);
		if (strstr(d.entries[0].message, what) == NULL) {
			CHECK(!"message mismatch");
			fprintf(stderr, "  got '%s', want '%s'\n",
				d.entries[0].message, what);
		}
	}
	detection_free(det);
	diag_clear(&d);
}

/* M(det, event-builder-args...) */
#define M(det, ...) detection_match((det), evs(&tv, __VA_ARGS__, NULL))

static struct tev tv;

/* ---- tests ---- */

static void test_plain_and_wildcards(void)
{
	struct detection *det = compile("sel:\n  action: view\n"
					"  object: 'id_*'\ncondition: sel\n");
	CHECK(det != NULL);
	if (!det)
		return;
	CHECK(M(det, "action", "view", "object", "id_document"));
	CHECK(M(det, "action", "VIEW", "object", "ID_Doc"));
	CHECK(!M(det, "action", "view", "object", "profile"));
	CHECK(!M(det, "action", "views", "object", "id_document"));
	CHECK(!M(det, "object", "id_document"));
	detection_free(det);

	det = compile("sel:\n  query: 'a?c*f'\ncondition: sel\n");
	CHECK(M(det, "query", "abcdef"));
	CHECK(M(det, "query", "aXcf"));
	CHECK(M(det, "query",
		"a\xc3\xa9"
		"cf")); /* ? is one UTF-8 char */
	CHECK(!M(det, "query", "acf"));
	CHECK(!M(det, "query", "abcdefg"));
	detection_free(det);

	det = compile("sel:\n  query: '*'\ncondition: sel\n");
	CHECK(M(det, "query", "anything"));
	CHECK(M(det, "query", ""));
	CHECK(!M(det, "agent", "x"));
	detection_free(det);
}

static void test_escapes(void)
{
	struct detection *det =
	    compile("sel:\n  query: 'a\\*b'\ncondition: sel\n");
	CHECK(M(det, "query", "a*b"));
	CHECK(!M(det, "query", "axb"));
	detection_free(det);

	det = compile("sel:\n  query: 'a\\?'\ncondition: sel\n");
	CHECK(M(det, "query", "a?"));
	CHECK(!M(det, "query", "ab"));
	detection_free(det);

	/* \\* = backslash then wildcard */
	det = compile("sel:\n  query: 'C:\\\\*'\ncondition: sel\n");
	CHECK(M(det, "query", "C:\\Windows"));
	CHECK(!M(det, "query", "C:Windows"));
	detection_free(det);

	/* plain backslash not before a wildcard stays */
	det = compile("sel:\n  query: 'C:\\Windows\\cmd.exe'\n"
		      "condition: sel\n");
	CHECK(M(det, "query", "c:\\windows\\CMD.EXE"));
	detection_free(det);

	/* \\\* = backslash + literal star; \\\\ = two backslashes */
	det = compile("sel:\n  query: 'x\\\\\\*'\ncondition: sel\n");
	CHECK(M(det, "query", "x\\*"));
	CHECK(!M(det, "query", "x\\abc"));
	detection_free(det);
	det = compile("sel:\n  query: 'x\\\\\\\\y'\ncondition: sel\n");
	CHECK(M(det, "query", "x\\\\y"));
	CHECK(!M(det, "query", "x\\y"));
	detection_free(det);
}

static void test_lists_and_maps(void)
{
	struct detection *det = compile("sel:\n  action:\n    - view\n"
					"    - export\ncondition: sel\n");
	CHECK(M(det, "action", "view"));
	CHECK(M(det, "action", "export"));
	CHECK(!M(det, "action", "search"));
	detection_free(det);

	det = compile("sel:\n  - action: export\n  - object: id_document\n"
		      "condition: sel\n");
	CHECK(M(det, "action", "export", "object", "profile"));
	CHECK(M(det, "action", "view", "object", "id_document"));
	CHECK(!M(det, "action", "view", "object", "profile"));
	detection_free(det);

	/* numbers and booleans as text */
	det = compile("sel:\n  rows: 1\n  flag: true\ncondition: sel\n");
	CHECK(M(det, "rows", "1", "flag", "true"));
	CHECK(M(det, "rows", "1", "flag", "True"));
	CHECK(!M(det, "rows", "1.0", "flag", "true"));
	CHECK(!M(det, "rows", "10", "flag", "true"));
	detection_free(det);
}

static void test_arrays(void)
{
	struct detection *det = compile("sel:\n  tag: vip\ncondition: sel\n");
	struct tev *t = &tv;

	ev_init(t);
	ev_add(t, "tag", "normal", VALUE_STRING);
	ev_add(t, "action", "view", VALUE_STRING);
	ev_add(t, "tag", "VIP", VALUE_STRING);
	CHECK(detection_match(det, &t->ev));
	ev_init(t);
	ev_add(t, "tag", "normal", VALUE_STRING);
	ev_add(t, "tag", "other", VALUE_STRING);
	CHECK(!detection_match(det, &t->ev));
	detection_free(det);

	det = compile("sel:\n  tag|all:\n    - vip\n    - kyc\n"
		      "condition: sel\n");
	ev_init(t);
	ev_add(t, "tag", "kyc", VALUE_STRING);
	ev_add(t, "tag", "vip", VALUE_STRING);
	CHECK(detection_match(det, &t->ev));
	ev_init(t);
	ev_add(t, "tag", "kyc", VALUE_STRING);
	CHECK(!detection_match(det, &t->ev));
	detection_free(det);
}

static void test_null_empty_exists(void)
{
	struct detection *det = compile("sel:\n  ticket: null\n"
					"condition: sel\n");
	struct tev *t = &tv;

	CHECK(M(det, "agent", "a"));
	ev_init(t);
	ev_add(t, "ticket", "", VALUE_NULL);
	CHECK(detection_match(det, &t->ev));
	CHECK(!M(det, "ticket", "T-1"));
	CHECK(!M(det, "ticket", ""));
	detection_free(det);

	det = compile("sel:\n  ticket: ''\ncondition: sel\n");
	CHECK(M(det, "ticket", ""));
	CHECK(!M(det, "ticket", "x"));
	CHECK(!M(det, "agent", "a"));
	ev_init(t);
	ev_add(t, "ticket", "", VALUE_NULL);
	CHECK(!detection_match(det, &t->ev));
	detection_free(det);

	det = compile("sel:\n  ticket|exists: true\ncondition: sel\n");
	CHECK(M(det, "ticket", "x"));
	ev_init(t);
	ev_add(t, "ticket", "", VALUE_NULL);
	CHECK(detection_match(det, &t->ev));
	CHECK(!M(det, "agent", "a"));
	detection_free(det);

	det = compile("sel:\n  ticket|exists: false\ncondition: sel\n");
	CHECK(!M(det, "ticket", "x"));
	CHECK(M(det, "agent", "a"));
	detection_free(det);

	/* not null = a negated selection */
	det = compile("sel:\n  action: view\nf:\n  ticket: null\n"
		      "condition: sel and not f\n");
	CHECK(M(det, "action", "view", "ticket", "T1"));
	CHECK(!M(det, "action", "view"));
	detection_free(det);
}

static void test_position_and_cased(void)
{
	struct detection *det =
	    compile("a:\n  query|contains: SECRET\nb:\n  query|startswith: "
		    "sel\nc:\n  query|endswith: '.CSV'\ncondition: a\n");
	CHECK(M(det, "query", "my secret list"));
	CHECK(!M(det, "query", "my secre list"));
	detection_free(det);

	det = compile("b:\n  query|startswith: Sel\ncondition: b\n");
	CHECK(M(det, "query", "SELECT *"));
	CHECK(!M(det, "query", "xselect"));
	detection_free(det);

	det = compile("c:\n  query|endswith: '.CSV'\ncondition: c\n");
	CHECK(M(det, "query", "dump.csv"));
	CHECK(!M(det, "query", "dump.csv.gz"));
	detection_free(det);

	det = compile("c:\n  query|contains|cased: Secret\ncondition: c\n");
	CHECK(M(det, "query", "a Secret b"));
	CHECK(!M(det, "query", "a secret b"));
	detection_free(det);

	det = compile("c:\n  query|cased: 'Ab*'\ncondition: c\n");
	CHECK(M(det, "query", "Abc"));
	CHECK(!M(det, "query", "abc"));
	detection_free(det);

	det = compile("c:\n  query|contains|all:\n    - foo\n    - bar\n"
		      "condition: c\n");
	CHECK(M(det, "query", "bar and FOO"));
	CHECK(!M(det, "query", "bar only"));
	detection_free(det);

	/* contains with an inner wildcard: general glob */
	det = compile("c:\n  query|contains: 'a*z'\ncondition: c\n");
	CHECK(M(det, "query", "xxabcz"));
	CHECK(!M(det, "query", "zzza"));
	detection_free(det);
}

static void test_keywords(void)
{
	struct detection *det = compile("kw:\n  - 'passport'\n  - 'dump*all'\n"
					"condition: kw\n");
	CHECK(M(det, "query", "find PASSPORT scans", "agent", "a1"));
	CHECK(M(det, "raw_note", "please dump them all"));
	CHECK(!M(det, "query", "find id scans"));
	detection_free(det);

	/* numbers are not searched by keywords */
	det = compile("kw:\n  - '2500'\ncondition: kw\n");
	ev_init(&tv);
	ev_add(&tv, "rows", "2500", VALUE_NUMBER);
	CHECK(!detection_match(det, &tv.ev));
	CHECK(M(det, "query", "id 2500"));
	detection_free(det);

	det = compile("kw:\n  '|all':\n    - 'Oab'\n    - ' -ExternalUrl '\n"
		      "condition: kw\n");
	CHECK(M(det, "a", "set-oab", "b", "x -externalurl y"));
	CHECK(!M(det, "a", "set-oab"));
	detection_free(det);

	det = compile("kw: single\ncondition: kw\n");
	CHECK(M(det, "x", "a single word"));
	CHECK(!M(det, "x", "sing"));
	detection_free(det);
}

static void test_regex(void)
{
	struct detection *det = compile(
	    "s:\n  query|re: '^sel.*from\\s+customers$'\ncondition: s\n");
	CHECK(M(det, "query", "select * from  customers"));
	CHECK(!M(det, "query", "SELECT * from customers"));
	detection_free(det);

	det = compile("s:\n  query|re|i: '^select'\ncondition: s\n");
	CHECK(M(det, "query", "SELECT 1"));
	detection_free(det);

	det = compile("s:\n  query|re|m: '^two$'\ncondition: s\n");
	CHECK(M(det, "query", "one\ntwo\nthree"));
	detection_free(det);
	det = compile("s:\n  query|re: '^two$'\ncondition: s\n");
	CHECK(!M(det, "query", "one\ntwo\nthree"));
	detection_free(det);

	det = compile("s:\n  query|re|s: 'a.b'\ncondition: s\n");
	CHECK(M(det, "query", "a\nb"));
	detection_free(det);
	det = compile("s:\n  query|re: 'a.b'\ncondition: s\n");
	CHECK(!M(det, "query", "a\nb"));
	CHECK(M(det, "query", "axb"));
	/* invalid UTF-8 in the event: no crash, no match */
	CHECK(!M(det, "query", "\xff\xfe"));
	detection_free(det);

	/* catastrophic backtracking ends (match limit), and is counted */
	uint64_t hits = match_re_limit_hits();
	det = compile("s:\n  query|re: '^(a+)+$'\ncondition: s\n");
	CHECK(!M(det, "query", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"));
	CHECK(match_re_limit_hits() == hits + 1);
	CHECK(M(det, "query", "aaaa"));
	CHECK(!M(det, "query", "aaaa!")); /* a plain no match: not counted */
	CHECK(match_re_limit_hits() == hits + 1);
	/* the same on a 64 KiB value */
	char *big = malloc(65536);
	CHECK(big != NULL);
	if (big) {
		memset(big, 'a', 65534);
		big[65534] = '!';
		big[65535] = '\0';
		CHECK(!M(det, "query", big));
		CHECK(match_re_limit_hits() == hits + 2);
		free(big);
	}
	detection_free(det);
}

static void test_cidr(void)
{
	struct detection *det = compile(
	    "s:\n  src_ip|cidr:\n    - 10.0.0.0/8\n    - '192.168.1.0/24'\n"
	    "    - 'fe80::/10'\n    - '2001:db8::1'\ncondition: s\n");
	CHECK(M(det, "src_ip", "10.2.3.4"));
	CHECK(M(det, "src_ip", "192.168.1.200"));
	CHECK(!M(det, "src_ip", "192.168.2.1"));
	CHECK(!M(det, "src_ip", "11.0.0.1"));
	CHECK(M(det, "src_ip", "fe80::1"));
	CHECK(M(det, "src_ip", "FEBF::1"));
	CHECK(!M(det, "src_ip", "fec0::1"));
	CHECK(M(det, "src_ip", "2001:db8::1"));
	CHECK(!M(det, "src_ip", "2001:db8::2"));
	CHECK(M(det, "src_ip", "::ffff:10.1.1.1"));
	CHECK(!M(det, "src_ip", "not an ip"));
	CHECK(!M(det, "src_ip", ""));
	detection_free(det);

	det = compile("s:\n  src_ip|cidr: 10.1.2.3/31\ncondition: s\n");
	CHECK(M(det, "src_ip", "10.1.2.2"));
	CHECK(!M(det, "src_ip", "10.1.2.4"));
	detection_free(det);

	/* the last parsed address is reused: same-length texts, repeats,
	 * an invalid text between valid ones, another rule in between */
	det = compile("s:\n  src_ip|cidr: 10.1.2.0/24\ncondition: s\n");
	struct detection *d2 =
	    compile("s:\n  src_ip|cidr: 10.1.3.0/24\ncondition: s\n");
	CHECK(M(det, "src_ip", "10.1.2.9"));
	CHECK(!M(d2, "src_ip", "10.1.2.9"));
	CHECK(!M(det, "src_ip", "10.1.3.9"));
	CHECK(M(d2, "src_ip", "10.1.3.9"));
	CHECK(!M(det, "src_ip", "10.1.2.x"));
	CHECK(M(det, "src_ip", "10.1.2.9"));
	CHECK(M(det, "src_ip", "10.1.2.9"));
	CHECK(!M(det, "src_ip", "10.1.2.x"));
	CHECK(!M(det, "src_ip", "10.1.2.x"));
	detection_free(det);
	detection_free(d2);
}

static void test_numeric(void)
{
	struct detection *det = compile("s:\n  rows|gt: 100\ncondition: s\n");
	CHECK(M(det, "rows", "101"));
	CHECK(M(det, "rows", "1e3"));
	CHECK(!M(det, "rows", "100"));
	CHECK(!M(det, "rows", "abc"));
	CHECK(!M(det, "rows", ""));
	CHECK(!M(det, "rows", "0x200"));
	CHECK(!M(det, "rows", "nan"));
	CHECK(!M(det, "agent", "x"));
	detection_free(det);

	det = compile("s:\n  rows|gte: 100\ncondition: s\n");
	CHECK(M(det, "rows", "100"));
	CHECK(M(det, "rows", "100.5"));
	CHECK(!M(det, "rows", "99.9"));
	detection_free(det);

	det = compile("s:\n  rows|lt: -1.5\ncondition: s\n");
	CHECK(M(det, "rows", "-2"));
	CHECK(!M(det, "rows", "-1.5"));
	detection_free(det);

	det = compile("s:\n  rows|lte: 10\ncondition: s\n");
	CHECK(M(det, "rows", "10"));
	CHECK(!M(det, "rows", "10.01"));
	detection_free(det);
}

static void test_neq(void)
{
	struct detection *det = compile(
	    "s:\n  outcome|neq:\n    - success\n    - ok\ncondition: s\n");
	CHECK(M(det, "outcome", "denied"));
	CHECK(!M(det, "outcome", "SUCCESS"));
	CHECK(!M(det, "outcome", "ok"));
	CHECK(M(det, "agent", "x")); /* absent differs too */
	detection_free(det);
}

static void test_fieldref(void)
{
	struct detection *det =
	    compile("s:\n  agent|fieldref: customer\ncondition: s\n");
	CHECK(M(det, "agent", "Bob", "customer", "bob"));
	CHECK(!M(det, "agent", "bob", "customer", "alice"));
	CHECK(!M(det, "agent", "bob"));
	detection_free(det);

	det = compile("s:\n  agent|fieldref|cased: customer\ncondition: s\n");
	CHECK(!M(det, "agent", "Bob", "customer", "bob"));
	CHECK(M(det, "agent", "bob", "customer", "bob"));
	detection_free(det);

	det = compile("s:\n  query|fieldref|contains: customer\n"
		      "condition: s\n");
	CHECK(M(det, "query", "lookup C123 now", "customer", "c123"));
	CHECK(!M(det, "query", "lookup C12 now", "customer", "c123"));
	detection_free(det);

	det = compile("s:\n  query|fieldref|startswith: customer\n"
		      "condition: s\n");
	CHECK(M(det, "query", "c123 now", "customer", "C123"));
	CHECK(!M(det, "query", "now c123", "customer", "C123"));
	detection_free(det);

	det = compile("s:\n  query|fieldref|endswith: customer\n"
		      "condition: s\n");
	CHECK(M(det, "query", "now c123", "customer", "C123"));
	CHECK(!M(det, "query", "c123 now", "customer", "C123"));
	detection_free(det);
}

static void test_expand(void)
{
	struct detection *det =
	    compile("s:\n  agent|expand: '%vips%'\ncondition: s\n");
	CHECK(M(det, "agent", "ceo"));
	CHECK(M(det, "agent", "cfo-office"));
	CHECK(!M(det, "agent", "intern"));
	detection_free(det);

	det = compile("s:\n  query|expand|contains: 'x\\%y%vips%'\n"
		      "condition: s\n");
	CHECK(M(det, "query", "..x%yceo.."));
	CHECK(!M(det, "query", "..x\\%yceo.."));
	CHECK(!M(det, "query", "..xyceo.."));
	detection_free(det);

	/* without expand, %name% is literal */
	det = compile("s:\n  agent: '%vips%'\ncondition: s\n");
	CHECK(M(det, "agent", "%vips%"));
	CHECK(!M(det, "agent", "ceo"));
	detection_free(det);

	/* two placeholders: every combination */
	det = compile("s:\n  agent|expand: '%vips%/%sites%'\ncondition: s\n");
	CHECK(M(det, "agent", "ceo/ber"));
	CHECK(M(det, "agent", "cfo-x/lis"));
	CHECK(!M(det, "agent", "ceo/"));
	detection_free(det);
}

static void test_base64(void)
{
	struct detection *det =
	    compile("s:\n  query|base64: 'secret'\ncondition: s\n");
	CHECK(M(det, "query", "c2VjcmV0")); /* case-insensitive default */
	CHECK(!M(det, "query", "secret"));
	detection_free(det);

	/* "xsecret" -> eHNlY3JldA==; "xxsecret" -> eHhzZWNyZXQ=; offsets */
	det = compile("s:\n  query|base64offset|contains: 'secret'\n"
		      "condition: s\n");
	CHECK(M(det, "query", "c2VjcmV0"));
	CHECK(M(det, "query", "eHNlY3JldA=="));
	CHECK(M(det, "query", "eHhzZWNyZXQ="));
	CHECK(!M(det, "query", "aGVsbG8="));
	detection_free(det);

	det = compile("s:\n  query|wide|base64offset|contains: 'ab'\n"
		      "condition: s\n");
	/* "ab" utf16le = 61 00 62 00 -> YQBiAA== */
	CHECK(M(det, "query", "YQBiAA=="));
	detection_free(det);
}

static void test_utf16(void)
{
	struct detection *det = compile("s:\n  query|utf16le: 'cmd'\n"
					"condition: s\n");
	ev_init(&tv);
	ev_add(&tv, "query", "", VALUE_STRING);
	tv.f[0].value = "c\0m\0d\0";
	tv.f[0].value_len = 6;
	CHECK(detection_match(det, &tv.ev));
	tv.f[0].value = "\0c\0m\0d";
	CHECK(!detection_match(det, &tv.ev));
	detection_free(det);

	det = compile("s:\n  query|utf16be: 'cmd'\ncondition: s\n");
	CHECK(detection_match(det, &tv.ev));
	detection_free(det);

	det = compile("s:\n  query|utf16: 'cm'\ncondition: s\n");
	tv.f[0].value = "\xff\xfe"
			"c\0m\0";
	tv.f[0].value_len = 6;
	CHECK(detection_match(det, &tv.ev));
	detection_free(det);

	/* non-ASCII and astral characters: UTF-16 code units */
	det = compile("s:\n  query|utf16le: \"\\xe9\\U0001F600\"\n"
		      "condition: s\n");
	tv.f[0].value = "\xe9\0\x3d\xd8\x00\xde";
	CHECK(detection_match(det, &tv.ev));
	tv.f[0].value = "\xe9\0\x3d\xd8\x01\xde";
	CHECK(!detection_match(det, &tv.ev));
	detection_free(det);

	det = compile("s:\n  query|wide|contains: 'md'\ncondition: s\n");
	tv.f[0].value = "c\0m\0d\0";
	CHECK(detection_match(det, &tv.ev));
	detection_free(det);
}

static void test_windash(void)
{
	struct detection *det = compile(
	    "s:\n  query|windash|contains: ' -export '\ncondition: s\n");
	CHECK(M(det, "query", "tool -export x"));
	CHECK(M(det, "query", "tool /export x"));
	CHECK(M(det, "query",
		"tool \xe2\x80\x93"
		"export x"));
	CHECK(M(det, "query",
		"tool \xe2\x80\x94"
		"export x"));
	CHECK(M(det, "query",
		"tool \xe2\x80\x95"
		"export x"));
	CHECK(!M(det, "query", "tool export x"));
	CHECK(!M(det, "query", "tool +export x"));
	detection_free(det);

	det = compile("s:\n  query|windash: '-a -b'\ncondition: s\n");
	CHECK(M(det, "query",
		"/a \xe2\x80\x94"
		"b"));
	CHECK(M(det, "query", "-a /b"));
	CHECK(!M(det, "query", "-a b"));
	detection_free(det);
}

static void test_time(void)
{
	struct detection *det = compile("s:\n  ts|hour|gte: 22\n"
					"condition: s\n");
	ev_init(&tv);
	ev_add(&tv, "ts", "2025-03-01T23:10:00Z", VALUE_STRING);
	tv.ev.ts_ms = 1740870600000; /* 2025-03-01T23:10:00Z */
	CHECK(detection_match(det, &tv.ev));
	tv.ev.ts_ms = 1740870600000 - 3 * 3600000; /* 20:10 */
	CHECK(!detection_match(det, &tv.ev));
	detection_free(det);

	/* other fields: parsed from RFC 3339, offset applied (UTC) */
	det = compile("s:\n  seen|hour: 21\ncondition: s\n");
	CHECK(M(det, "seen", "2025-03-01T23:10:00+02:00"));
	CHECK(!M(det, "seen", "2025-03-01T23:10:00Z"));
	CHECK(!M(det, "seen", "yesterday"));
	detection_free(det);

	det = compile("s:\n  seen|minute: 10\ncondition: s\n");
	CHECK(M(det, "seen", "2025-03-01 23:10:59.5Z"));
	detection_free(det);
	det = compile("s:\n  seen|day: 1\ncondition: s\n");
	CHECK(M(det, "seen", "2025-03-01T23:10:00Z"));
	CHECK(!M(det, "seen", "2025-03-02T00:00:00Z"));
	detection_free(det);
	det = compile("s:\n  seen|month: 12\ncondition: s\n");
	CHECK(M(det, "seen", "2024-12-31T00:00:00Z"));
	detection_free(det);
	det = compile("s:\n  seen|year|lt: 2025\ncondition: s\n");
	CHECK(M(det, "seen", "2024-12-31T23:59:59Z"));
	CHECK(!M(det, "seen", "2025-01-01T00:00:00Z"));
	detection_free(det);
	/* ISO weeks: 2024-12-30 is in week 1 of 2025, 2021-01-03 in 53 */
	det = compile("s:\n  seen|week: 1\ncondition: s\n");
	CHECK(M(det, "seen", "2024-12-30T12:00:00Z"));
	CHECK(!M(det, "seen", "2024-12-29T12:00:00Z"));
	detection_free(det);
	CHECK_INT(match_time_part(1609632000000, MATCH_TIME_WEEK), 53);
	CHECK_INT(match_time_part(-1, MATCH_TIME_YEAR), 1969);
	CHECK_INT(match_time_part(-1, MATCH_TIME_MINUTE), 59);
}

static void test_conditions(void)
{
	const char *sels = "sel_a:\n  a: 1\nsel_b:\n  b: 1\n_hidden:\n  c: 1\n"
			   "filter:\n  d: 1\n";
	char buf[512];
	struct detection *det;

	snprintf(buf, sizeof(buf), "%scondition: 1 of sel_* and not filter\n",
		 sels);
	det = compile(buf);
	CHECK(M(det, "b", "1"));
	CHECK(!M(det, "b", "1", "d", "1"));
	CHECK(!M(det, "c", "1"));
	detection_free(det);

	snprintf(buf, sizeof(buf), "%scondition: all of them\n", sels);
	det = compile(buf);
	CHECK(M(det, "a", "1", "b", "1", "d", "1"));
	CHECK(!M(det, "a", "1", "b", "1"));
	detection_free(det);

	snprintf(buf, sizeof(buf), "%scondition: 1 of them\n", sels);
	det = compile(buf);
	CHECK(!M(det, "c", "1")); /* _hidden is not in them */
	CHECK(M(det, "d", "1"));
	detection_free(det);

	snprintf(buf, sizeof(buf), "%scondition: any of _h*\n", sels);
	det = compile(buf);
	CHECK(M(det, "c", "1"));
	detection_free(det);

	snprintf(buf, sizeof(buf),
		 "%scondition:\n  - sel_a and sel_b\n  - filter\n", sels);
	det = compile(buf);
	CHECK(M(det, "a", "1", "b", "1"));
	CHECK(M(det, "d", "1"));
	CHECK(!M(det, "a", "1"));
	detection_free(det);

	snprintf(buf, sizeof(buf), "%scondition: sel_a or sel_b and filter\n",
		 sels);
	det = compile(buf);
	CHECK(M(det, "a", "1"));
	CHECK(!M(det, "b", "1"));
	CHECK(M(det, "b", "1", "d", "1"));
	detection_free(det);

	snprintf(buf, sizeof(buf),
		 "%scondition: (sel_a or sel_b) and not (filter)\n", sels);
	det = compile(buf);
	CHECK(M(det, "b", "1"));
	CHECK(!M(det, "a", "1", "d", "1"));
	detection_free(det);
}

/* A condition that names an identifier n times: items n * 4, so that a
 * large n exceeds the item program (DET_MAX_OPS) and the detection is
 * evaluated identifier by identifier; both give the same answers. */
static void check_repeated(size_t n)
{
	size_t size = 64 + n * 16;
	char *buf = malloc(size);
	size_t len;

	CHECK(buf != NULL);
	if (buf == NULL)
		return;
	len = (size_t)snprintf(buf, size,
			       "sel:\n  a: 1\n  b: 1\n  c: 1\n"
			       "  d: 1\ncondition: sel");
	for (size_t i = 1; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len,
					i % 2 ? " and (sel" : " or sel)");
	if (n % 2 == 0)
		len += (size_t)snprintf(buf + len, size - len, ")");
	snprintf(buf + len, size - len, "\n");
	struct detection *det = compile(buf);
	CHECK(det != NULL);
	if (det != NULL) {
		CHECK(M(det, "a", "1", "b", "1", "c", "1", "d", "1"));
		CHECK(!M(det, "a", "1", "b", "1", "c", "1"));
		CHECK(!M(det, "d", "1"));
	}
	detection_free(det);
	free(buf);
}

static void test_large_conditions(void)
{
	check_repeated(3);
	check_repeated(1100);
}

static void test_errors(void)
{
	check_error("sel:\n  action|contain: x\ncondition: sel\n", 2, 3,
		    "unknown modifier 'contain'");
	check_error("sel:\n  action: x\ncondition: sel and nope\n", 3, 12,
		    "unknown identifier 'nope' (at column 20)");
	check_error("sel:\n  action: x\ncondition: 'sel and nope'\n", 3, 12,
		    "unknown identifier 'nope' (at column 21)");
	check_error("sel:\n  action: x\ncondition: 1 of foo*\n", 3, 12,
		    "matches no identifier (at column 17)");
	check_error("sel:\n  action: x\ncondition: (sel\n", 3, 12,
		    "unbalanced '(' (at column 12)");
	check_error("sel:\n  action: x\n", 1, 1, "no condition");
	check_error("sel:\n  a|contains|startswith: x\ncondition: sel\n", 2, 3,
		    "only one of contains");
	check_error("sel:\n  a|re|cidr: x\ncondition: sel\n", 2, 3,
		    "cannot be combined");
	check_error("sel:\n  a|i: x\ncondition: sel\n", 2, 3,
		    "only allowed with re");
	check_error("sel:\n  a|contains|base64: x\ncondition: sel\n", 2, 22,
		    "cannot be encoded");
	check_error("sel:\n  a|re: '(x'\ncondition: sel\n", 2, 9,
		    "bad regular expression");
	check_error("sel:\n  a|cidr: 10.0.0.0/33\ncondition: sel\n", 2, 11,
		    "bad prefix length");
	check_error("sel:\n  a|cidr: 10.0.0.300\ncondition: sel\n", 2, 11,
		    "not an IP address");
	check_error("sel:\n  a|gt: many\ncondition: sel\n", 2, 9,
		    "not a number");
	check_error("sel:\n  a|exists: maybe\ncondition: sel\n", 2, 13,
		    "true or false");
	check_error("sel:\n  a|all: x\ncondition: sel\n", 2, 3,
		    "at least two values");
	check_error("sel:\n  a|expand: '%nolist%'\ncondition: sel\n", 2, 13,
		    "unknown placeholder list '%nolist%'");
	check_error("sel:\n  a|cased|gt: 1\ncondition: sel\n", 2, 3,
		    "cased only applies");
	check_error("sel:\n  a: x\n  b:\n    c: d\ncondition: sel\n", 4, 5,
		    "not a mapping");
	check_error("sel:\n  - a: x\n  - y\ncondition: sel\n", 3, 5,
		    "mixes maps");
	check_error("sel:\n  a: x\ntimeframe: 5m\ncondition: sel\n", 3, 1,
		    "timeframe");
	check_error("sel:\n  a|hour|contains: 3\ncondition: sel\n", 2, 3,
		    "cannot be combined");
	check_error("sel:\n  a: []\ncondition: sel\n", 2, 6, "empty value");
	check_error("sel:\ncondition: sel\n", 1, 5, "must be a mapping");
	check_error(
	    "sel:\n  a: x\ncondition: sel and\n", 3, 12,
	    "expected an identifier, got 'end of condition' (at column 19)");
	check_error("sel:\n  a: x\ncondition: sel sel\n", 3, 12,
		    "unexpected 'sel' (at column 16)");
	check_error("sel:\n  a: x\ncondition: 2 of sel\n", 3, 12,
		    "unknown identifier '2'");
	check_error("sel:\n  a: x\ncondition: sel*\n", 3, 12,
		    "only allowed after");
	check_error("sel:\n  a: x\ncondition: sel & sel\n", 3, 12,
		    "unexpected character '&' (at column 16)");
	check_error("sel:\n  a|windash|windash: x\ncondition: sel\n", 2, 3,
		    "given twice");
	check_error("sel:\n  '|exists': true\ncondition: sel\n", 2, 3,
		    "need a field name");
	check_error("'not':\n  a: x\ncondition: sel\n", 1, 1,
		    "cannot be used as a search identifier");
}

static void test_edges(void)
{
	struct detection *det = compile("s:\n  query|contains: ''\n"
					"condition: s\n");
	CHECK(M(det, "query", "anything"));
	CHECK(M(det, "query", ""));
	CHECK(!M(det, "agent", "a"));
	ev_init(&tv);
	ev_add(&tv, "query", "", VALUE_NULL);
	CHECK(!detection_match(det, &tv.ev));
	detection_free(det);

	det = compile("s:\n  agent|expand: ''\ncondition: s\n");
	CHECK(M(det, "agent", ""));
	CHECK(!M(det, "agent", "x"));
	detection_free(det);

	/* a null among values: absent field or one of the values */
	det = compile("s:\n  ticket:\n    - null\n    - 'T-*'\n"
		      "condition: s\n");
	CHECK(M(det, "agent", "a"));
	CHECK(M(det, "ticket", "T-9"));
	CHECK(!M(det, "ticket", "X-9"));
	detection_free(det);

	/* every problem of a rule is reported in one run */
	struct diag d;
	diag_init(&d);
	det = compile_d("a:\n  x|bogus: 1\nb:\n  y|re: '('\n"
			"condition: a and c\n",
			&d);
	CHECK(det == NULL);
	CHECK_INT(d.n_entries, 3);
	diag_clear(&d);
}

static void test_dump(void)
{
	struct detection *det = compile(
	    "sel:\n  action|contains:\n    - exp\n    - 'a*b'\n"
	    "  src_ip|cidr: 10.0.0.0/8\n  query|re|i: '^x'\n"
	    "  rows|gte: 5\nkw:\n  - 'x?'\ncondition: sel and not kw\n");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	detection_dump(det, ft, f);
	fclose(f);
	if (getenv("DUMP"))
		fputs(buf, stderr);
	CHECK(strstr(buf, "sel: maps, 1 map(s) ORed") != NULL);
	CHECK(strstr(buf, "field action#4|contains [any]") != NULL);
	CHECK(strstr(buf, "        contains \"*exp*\"\n") != NULL);
	CHECK(strstr(buf, "        glob \"*a*b*\"\n") != NULL);
	CHECK(strstr(buf, "        cidr 10.0.0.0/8\n") != NULL);
	CHECK(strstr(buf, "        re /^x/i\n") != NULL);
	CHECK(strstr(buf, "        num >= 5\n") != NULL);
	CHECK(strstr(buf, "keywords [any]\n        glob \"*x?*\"") != NULL);
	CHECK(strstr(buf, "condition: (sel and not kw)\n") != NULL);
	/* deterministic */
	char *buf2 = NULL;
	size_t len2 = 0;
	f = open_memstream(&buf2, &len2);
	detection_dump(det, ft, f);
	fclose(f);
	CHECK_STR(buf, buf2);
	free(buf);
	free(buf2);
	detection_free(det);
}

int main(void)
{
	static char *names[] = {"vips", "sites"};
	static char *vips[] = {"ceo", "cfo*", NULL};
	static char *sites[] = {"ber", "lis", NULL};
	static char **values[] = {vips, sites};

	lists.names = names;
	lists.values = values;
	lists.n_lists = 2;
	ft = fieldtab_new();
	/* intern everything the events use, then compile rules */
	const char *extra[] = {"tag", "flag", "raw_note", "a",	 "b",
			       "c",   "d",    "x",	  "seen"};
	for (size_t i = 0; i < sizeof(extra) / sizeof(*extra); i++)
		fieldtab_intern(ft, extra[i], strlen(extra[i]));

	test_plain_and_wildcards();
	test_escapes();
	test_lists_and_maps();
	test_arrays();
	test_null_empty_exists();
	test_position_and_cased();
	test_keywords();
	test_regex();
	test_cidr();
	test_numeric();
	test_neq();
	test_fieldref();
	test_expand();
	test_base64();
	test_utf16();
	test_windash();
	test_time();
	test_conditions();
	test_large_conditions();
	test_errors();
	test_edges();
	test_dump();

	for (size_t i = 0; i < n_docs; i++)
		yamltree_free(docs[i]);
	fieldtab_free(ft);
	match_thread_release();
	return check_done();
}
