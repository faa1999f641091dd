/*
 * test_watchlist: watchlists from files and their matching — list files
 * (comments, blanks, trimming, CRLF; a NUL byte, an over-long line, too
 * many values, a file over the size limit, each at file:line:column), the
 * config key `lists: { NAME: { file: PATH } }` (relative to the config's
 * directory, a missing file reported where the config names it), the hash
 * set (strset) and `expand` of a whole list compiled to one set look-up
 * (100k values, case folding, cased, neq, wildcard values kept as
 * alternatives), and enrich_copy() of an event built outside the buffer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentdir.h"
#include "check.h"
#include "config.h"
#include "decode.h"
#include "detection.h"
#include "enrich.h"
#include "listfile.h"
#include "rules.h"
#include "strset.h"
#include "yamltree.h"

static char **load(const char *text, size_t *n, struct diag *d)
{
	diag_init(d);
	return listfile_load_buffer("vip.txt", text, strlen(text), n, d);
}

static void test_good_file(void)
{
	struct diag d;
	size_t n;
	char **v = load("# VIPs\n  c-1 \n\n\tc-2\r\n   # indented comment\n"
			"c 3\nc-4",
			&n, &d);

	CHECK(v != NULL);
	CHECK_INT(diag_count(&d), 0);
	CHECK_INT(n, 4);
	CHECK_STR(v ? v[0] : NULL, "c-1");
	CHECK_STR(v ? v[1] : NULL, "c-2");
	CHECK_STR(v ? v[2] : NULL, "c 3"); /* inner blanks kept */
	CHECK_STR(v ? v[3] : NULL, "c-4"); /* no final newline */
	CHECK(v && v[4] == NULL);
	listfile_free(v);
	diag_clear(&d);

	v = load("# only comments\n\n", &n, &d);
	CHECK(v != NULL && v[0] == NULL);
	CHECK_INT(n, 0);
	listfile_free(v);
	diag_clear(&d);
	listfile_free(NULL);
}

static void test_bad_lines(void)
{
	char *text = malloc(LISTFILE_MAX_LINE + 64);
	struct diag d;
	size_t n;

	/* line 2: NUL at column 3; line 4: too long */
	size_t len = 0;
	len += (size_t)sprintf(text + len, "ok\nab");
	text[len++] = '\0';
	len += (size_t)sprintf(text + len, "c\nfine\n");
	memset(text + len, 'x', LISTFILE_MAX_LINE + 1);
	len += LISTFILE_MAX_LINE + 1;
	text[len++] = '\n';
	diag_init(&d);
	char **v = listfile_load_buffer("vip.txt", text, len, &n, &d);
	CHECK(v == NULL);
	CHECK_INT(n, 0);
	CHECK_INT(diag_count(&d), 2);
	if (d.n_entries == 2) {
		CHECK_STR(d.entries[0].file, "vip.txt");
		CHECK_INT(d.entries[0].line, 2);
		CHECK_INT(d.entries[0].column, 3);
		CHECK(strstr(d.entries[0].message, "NUL") != NULL);
		CHECK_INT(d.entries[1].line, 4);
		CHECK_INT(d.entries[1].column, LISTFILE_MAX_LINE + 1);
		CHECK(strstr(d.entries[1].message, "longer than 4096") != NULL);
	}
	diag_clear(&d);
	free(text);

	/* a line of exactly the limit is fine */
	text = calloc(1, LISTFILE_MAX_LINE + 2);
	memset(text, 'y', LISTFILE_MAX_LINE);
	v = load(text, &n, &d);
	CHECK(v != NULL && n == 1);
	listfile_free(v);
	diag_clear(&d);
	free(text);
}

static void test_limits(void)
{
	/* LISTFILE_MAX_ENTRIES values are fine, one more is an error at its
	 * line; many bad lines: the first LISTFILE_MAX_ERRORS, then a count */
	size_t max = LISTFILE_MAX_ENTRIES, n;
	char *text = malloc(2 * (max + 30) + 1);
	for (size_t i = 0; i < max + 30; i++)
		memcpy(text + 2 * i, "v\n", 2);
	struct diag d;
	diag_init(&d);
	char **v = listfile_load_buffer("big.txt", text, 2 * max, &n, &d);
	CHECK(v != NULL);
	CHECK_INT(n, max);
	listfile_free(v);
	v = listfile_load_buffer("big.txt", text, 2 * (max + 30), &n, &d);
	CHECK(v == NULL);
	CHECK_INT(diag_count(&d), LISTFILE_MAX_ERRORS + 1);
	if (d.n_entries > 0) {
		CHECK_INT(d.entries[0].line, (long long)max + 1);
		CHECK(strstr(d.entries[0].message, "more than 1000000") !=
		      NULL);
		CHECK(strstr(d.entries[d.n_entries - 1].message,
			     "10 more bad lines") != NULL);
	}
	diag_clear(&d);
	free(text);

	/* a file over LISTFILE_MAX_FILE (sparse: no disk used) */
	char path[] = "/tmp/test_watchlist.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0 && ftruncate(fd, LISTFILE_MAX_FILE + 1) == 0);
	close(fd);
	diag_init(&d);
	v = listfile_load(path, "c.yml", 3, 9, &n, &d);
	CHECK(v == NULL);
	CHECK_INT(diag_count(&d), 1);
	if (d.n_entries == 1) {
		CHECK_STR(d.entries[0].file, path);
		CHECK(strstr(d.entries[0].message, "larger than") != NULL);
	}
	diag_clear(&d);
	unlink(path);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_config(void)
{
	char dir[] = "/tmp/test_watchlist.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char vip[64], yml[64];
	snprintf(vip, sizeof(vip), "%s/vip.txt", dir);
	snprintf(yml, sizeof(yml), "%s/custos.yml", dir);
	write_file(vip, "# VIPs\nc-1\nc-2\n");

	struct diag d;
	diag_init(&d);
	const char *y = "lists:\n"
			"  vip: { file: vip.txt }\n"
			"  decoy: [c-9]\n";
	struct config *c = config_load_buffer(yml, y, strlen(y), &d);
	CHECK(c != NULL);
	CHECK_INT(diag_count(&d), 0);
	if (c != NULL) {
		CHECK_INT(c->lists.n_lists, 2);
		CHECK_STR(c->list_files[0], vip); /* resolved */
		CHECK(c->list_files[1] == NULL);  /* inline */
		CHECK_STR(c->lists.values[0][1], "c-2");
		CHECK(c->lists.values[0][2] == NULL);
		CHECK_INT(config_list_values(c), 3);
		char *dump = NULL;
		size_t dump_len = 0;
		FILE *m = open_memstream(&dump, &dump_len);
		config_dump(c, m);
		fclose(m);
		char want[128];
		snprintf(
		    want, sizeof(want),
		    "  vip: { file: %s }  # 2 values\n  decoy:\n    - c-9\n",
		    vip);
		CHECK(dump && strstr(dump, want) != NULL);
		free(dump);
	}
	config_free(c);

	/* missing file: at the config's `file:` value; a bad line: in the
	 * list file; both in one run */
	write_file(vip, "c-1\nc\x01-2\n\n\n");
	FILE *f = fopen(vip, "a");
	fputc('c', f);
	fputc('\0', f);
	fputc('\n', f);
	fclose(f);
	y = "lists:\n"
	    "  gone: { file: nosuch.txt }\n"
	    "  vip: { file: vip.txt }\n";
	c = config_load_buffer(yml, y, strlen(y), &d);
	CHECK(c == NULL);
	CHECK_INT(diag_count(&d), 2);
	if (d.n_entries == 2) {
		CHECK_STR(d.entries[0].file, yml);
		CHECK_INT(d.entries[0].line, 2);
		CHECK_INT(d.entries[0].column, 17);
		CHECK(strstr(d.entries[0].message, "nosuch.txt") != NULL);
		CHECK_STR(d.entries[1].file, vip);
		CHECK_INT(d.entries[1].line, 5);
		CHECK_INT(d.entries[1].column, 2);
	}
	diag_clear(&d);

	/* absolute paths are kept */
	write_file(vip, "c-1\n");
	char y2[256];
	snprintf(y2, sizeof(y2), "lists: { v: { file: %s } }\n", vip);
	c = config_load_buffer("/elsewhere/custos.yml", y2, strlen(y2), &d);
	CHECK(c != NULL);
	CHECK_STR(c ? c->list_files[0] : NULL, vip);
	config_free(c);
	diag_clear(&d);
	unlink(vip);
	rmdir(dir);
}

static void test_strset(void)
{
	struct strset *s = strset_new(false);

	CHECK_INT(strset_add(s, "C-1", 3), 1);
	CHECK_INT(strset_add(s, "c-1", 3), 0); /* folded: the same */
	CHECK(strset_has(s, "c-1", 3));
	CHECK(strset_has(s, "C-1", 3));
	CHECK(!strset_has(s, "c-", 2));
	CHECK(!strset_has(s, "c-10", 4));
	int added = 0;
	for (int i = 0; i < 5000; i++) {
		char b[16];
		int n = snprintf(b, sizeof(b), "k%d", i);
		added += strset_add(s, b, (size_t)n);
	}
	CHECK_INT(added, 5000);
	CHECK_INT(strset_count(s), 5001);
	CHECK(strset_has(s, "K4999", 5));
	CHECK(!strset_has(s, "k5000", 5));
	strset_free(s);

	s = strset_new(true);
	CHECK_INT(strset_add(s, "Ab", 2), 1);
	CHECK_INT(strset_add(s, "ab", 2), 1);
	CHECK(strset_has(s, "Ab", 2) && !strset_has(s, "AB", 2));
	CHECK(!strset_has(s, "", 0));
	strset_free(s);
	strset_free(NULL);
}

/* ---- expand with a whole list ---- */

static struct fieldtab *ft;

static struct detection *compile(const char *yaml,
				 const struct rule_lists *lists)
{
	struct diag d;
	diag_init(&d);
	struct yaml_docs *y =
	    yamltree_load_buffer("t.yml", yaml, strlen(yaml), &d);
	struct rule_ctx ctx = {.fields = ft, .lists = lists, .file = "t.yml"};
	struct detection *det =
	    y ? detection_compile(y->docs[0], &ctx, &d) : NULL;
	if (det == NULL)
		diag_print(&d, stderr);
	yamltree_free(y);
	diag_clear(&d);
	return det;
}

static bool matches(const struct detection *det, const char *customer)
{
	struct event_field f = {.name = "customer",
				.value = customer,
				.value_len = (uint32_t)strlen(customer),
				.kind = VALUE_STRING,
				.id = FIELD_CUSTOMER,
				.next_same = -1};
	int32_t slot[N_CANONICAL_FIELDS];
	for (size_t i = 0; i < N_CANONICAL_FIELDS; i++)
		slot[i] = -1;
	slot[FIELD_CUSTOMER] = 0;
	struct event ev = {.fields = &f,
			   .n_fields = 1,
			   .slot = slot,
			   .n_slots = N_CANONICAL_FIELDS};
	return detection_match(det, &ev);
}

static void test_expand_set(void)
{
	size_t big = 100000;
	char **vals = calloc(big + 3, sizeof(*vals));
	for (size_t i = 0; i < big; i++) {
		vals[i] = malloc(16);
		snprintf(vals[i], 16, "C%zu", i * 7);
	}
	vals[big] = strdup("VIP-*"); /* a wildcard value */
	char *names[] = {"vip"};
	char **values[] = {vals};
	struct rule_lists lists = {names, values, 1, NULL};

	struct detection *det =
	    compile("s:\n  customer|expand: '%vip%'\ncondition: s\n", &lists);
	CHECK(det != NULL); /* past DET_MAX_ALTS (4096) */
	if (det != NULL) {
		CHECK(matches(det, "C0"));
		CHECK(matches(det, "C699993"));
		CHECK(matches(det, "c7")); /* case-insensitive by default */
		CHECK(!matches(det, "C1"));
		CHECK(!matches(det, "C700000"));
		CHECK(matches(det, "vip-anything"));
		CHECK(!matches(det, "xvip-"));
	}
	detection_free(det);

	det = compile("s:\n  customer|expand|cased: '%vip%'\ncondition: s\n",
		      &lists);
	CHECK(det && matches(det, "C7") && !matches(det, "c7"));
	detection_free(det);

	det = compile("s:\n  customer|expand|neq: '%vip%'\ncondition: s\n",
		      &lists);
	CHECK(det && !matches(det, "C7") && matches(det, "C8"));
	detection_free(det);

	det = compile("s:\n  customer|expand:\n    - '%vip%'\n    - other\n"
		      "condition: s\n",
		      &lists);
	CHECK(det && matches(det, "other") && matches(det, "C14"));
	detection_free(det);

	/* not a whole-list item: still one alternative per value, bounded */
	CHECK(compile("s:\n  customer|expand|contains: '%vip%'\ncondition: "
		      "s\n",
		      &lists) == NULL);

	/* an empty list matches nothing */
	char *none[] = {NULL};
	char **ev[] = {none};
	struct rule_lists empty = {names, ev, 1, NULL};
	det = compile("s:\n  customer|expand: '%vip%'\ncondition: s\n", &empty);
	CHECK(det && !matches(det, "") && !matches(det, "C0"));
	detection_free(det);
	listfile_free(vals);
}

/* Lists that keep a set cache (rule_lists.sets, as a rule set's do): the
 * detections using a whole list share one set per case mode, which lives
 * as long as its last user. */
static void test_shared_set(void)
{
	char *vals[] = {"C1", "C2", "VIP-*", NULL};
	char *names[] = {"vip"};
	char **values[] = {vals};
	struct strset *sets[2] = {NULL, NULL};
	struct rule_lists lists = {names, values, 1, sets};
	const char *rule = "s:\n  customer|expand: '%vip%'\ncondition: s\n";

	struct detection *d1 = compile(rule, &lists);
	CHECK(d1 != NULL && sets[0] != NULL && sets[1] == NULL);
	struct strset *first = sets[0];
	struct detection *d2 = compile(rule, &lists);
	struct detection *d3 = compile(
	    "s:\n  customer|expand|cased: '%vip%'\ncondition: s\n", &lists);
	CHECK(d2 != NULL && d3 != NULL);
	CHECK(sets[0] == first && sets[1] != NULL && sets[1] != first);
	CHECK_INT(strset_count(first), 2); /* plain values only */
	if (!d1 || !d2 || !d3 || !first) {
		detection_free(d1);
		detection_free(d2);
		detection_free(d3);
		strset_free(sets[0]);
		strset_free(sets[1]);
		return;
	}
	/* a value added to the cached set is seen by both detections: they
	 * look it up, not copies of it; the cased one has its own set */
	CHECK_INT(strset_add(first, "C9", 2), 1);
	CHECK(matches(d1, "c9") && matches(d2, "C9") && !matches(d3, "C9"));
	CHECK(matches(d2, "vip-x") && matches(d3, "VIP-x"));
	/* the set outlives the detections that used it, and the cache's
	 * reference is the last one (ASan would see a use after free) */
	detection_free(d1);
	CHECK(matches(d2, "C1"));
	detection_free(d2);
	detection_free(d3);
	CHECK(strset_has(first, "C2", 2));
	strset_free(sets[0]);
	strset_free(sets[1]);
}

/* A rule set keeps that cache: its rules using a list share one set. */
static void test_ruleset_shares(void)
{
	char *vals[] = {"C1", "C2", NULL};
	char *names[] = {"vip"};
	char **values[] = {vals};
	struct rule_lists lists = {names, values, 1, NULL};
	static const char text[] =
	    "title: A\ndetection:\n  s:\n    customer|expand: '%vip%'\n"
	    "  condition: s\n---\ntitle: B\ndetection:\n  s:\n"
	    "    customer|expand: '%vip%'\n  t:\n    customer|startswith: C\n"
	    "  condition: s and t\n";
	struct diag d;
	struct ruleset *rs = ruleset_new();

	diag_init(&d);
	CHECK(rs && ruleset_set_lists(rs, &lists) == 0);
	CHECK(rs &&
	      ruleset_load_buffer(rs, "t.yml", text, strlen(text), &d) == 2 &&
	      ruleset_finish(rs, &d) == 0);
	struct strset *set = rs && rs->lists.sets ? rs->lists.sets[0] : NULL;
	CHECK(set != NULL && rs->n_rules == 2);
	if (set && rs->n_rules == 2) {
		CHECK_INT(strset_add(set, "C9", 2), 1);
		CHECK(matches(rs->rules[0]->detection, "C9"));
		CHECK(matches(rs->rules[1]->detection, "C9"));
		CHECK(!matches(rs->rules[1]->detection, "C3"));
	}
	diag_clear(&d);
	ruleset_free(rs);
}

/* ---- enrichment of an event built elsewhere ---- */

static void test_enrich_copy(void)
{
	struct diag d;
	const char *csv = "agent,team,role\na-1,billing,contractor\n";
	diag_init(&d);
	struct agentdir *a =
	    agentdir_load_buffer("agents.csv", csv, strlen(csv), &d);
	struct fieldtab *tab = fieldtab_new();
	int32_t role = fieldtab_intern(tab, "agent.role", 10);
	fieldtab_freeze(tab);
	struct event_buf *src = event_buf_new(tab), *b = event_buf_new(tab);
	struct event in, out;

	event_buf_add(src, "agent", "a-1", 3, VALUE_STRING, -1);
	int32_t t0 = event_buf_add(src, "tags", "x", 1, VALUE_STRING, -1);
	event_buf_add(src, "tags", "y", 1, VALUE_STRING, t0);
	event_buf_add(src, "customer", "c-1", 3, VALUE_STRING, -1);
	event_buf_view(src, &in);
	in.ts_ms = 42;
	in.source.line = 7;
	CHECK_INT(enrich_copy(a, b, &in, &out), 2);
	CHECK_INT(out.ts_ms, 42);
	CHECK_INT(out.source.line, 7);
	CHECK_INT(out.n_fields, 6);
	CHECK_STR(event_get(&out, role) ? event_get(&out, role)->value : NULL,
		  "contractor");
	CHECK_STR(event_find(&out, "agent.team")->value, "billing");
	CHECK_STR(event_get(&out, FIELD_CUSTOMER)->value, "c-1");
	CHECK_INT(out.fields[1].next_same, 2); /* the array stays chained */

	/* an unlisted agent, or no directory: the event as it was */
	event_buf_reset(src);
	event_buf_add(src, "agent", "a-2", 3, VALUE_STRING, -1);
	event_buf_view(src, &in);
	CHECK_INT(enrich_copy(a, b, &in, &out), 0);
	CHECK(out.fields == in.fields && out.n_fields == 1);
	CHECK_INT(enrich_copy(NULL, b, &in, &out), 0);
	CHECK(out.fields == in.fields);

	event_buf_free(src);
	event_buf_free(b);
	fieldtab_free(tab);
	agentdir_free(a);
	diag_clear(&d);
}

int main(void)
{
	test_good_file();
	test_bad_lines();
	test_limits();
	test_config();
	test_strset();
	ft = fieldtab_new();
	test_expand_set();
	test_shared_set();
	test_ruleset_shares();
	fieldtab_free(ft);
	test_enrich_copy();
	return check_done();
}
