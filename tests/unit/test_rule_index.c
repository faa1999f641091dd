/*
 * test_rule_index: the detection prefilter.  Rules with literal equalities,
 * negations, OR of mixed matchers, `1 of`, cased values and keywords; for
 * each hand-built event the exact candidate list, and the soundness
 * property (every detection that matches the event is a candidate).
 */
#include "check.h"
#include "detection.h"
#include "rule_index.h"
#include "rules.h"

#include "engine_harness.h"

#define DET(name, body)                                                        \
	"---\ntitle: " name "\nlogsource:\n  product: t\ndetection:\n" body    \
	"level: low\n"

static const char *const rules_text =
    DET("r0", "  sel:\n    action: view\n  condition: sel\n") DET(
	"r1", "  sel:\n    action: [export, Download]\n"
	      "  filter:\n    team: qa\n  condition: sel and not filter\n")
	DET("r2", "  a:\n    action: print\n  b:\n    action|contains: sea\n"
		  "  condition: a or b\n")
	    DET("r3", "  sel:\n    action: view\n  condition: not sel\n")
		DET("r4", "  sel_a:\n    action: login\n"
			  "  sel_b:\n    action|cased: LogOut\n"
			  "  condition: 1 of sel_*\n")
		    DET("r5", "  sel:\n    outcome: denied\n  condition: sel\n")
			DET("r6", "  kw:\n    - secret\n  condition: kw\n");

static void check_case(const struct ruleset *rs, const struct rule_index *ix,
		       const char *spec, const char *want)
{
	struct evbuf b;
	const struct event *ev = mkev(&b, rs, 0, spec);
	uint32_t c[16];
	size_t n = rule_index_candidates(ix, ev, c);
	char got[64] = "";

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(got);
		snprintf(got + l, sizeof(got) - l, "%s%u", i ? "," : "", c[i]);
	}
	CHECK_STR(got, want);
	/* soundness: a matching detection is always a candidate */
	for (size_t r = 0; r < rs->n_detections; r++) {
		bool cand = false;
		for (size_t i = 0; i < n; i++)
			cand = cand || c[i] == r;
		if (detection_match(rs->rules[r]->detection, ev) && !cand) {
			fprintf(stderr,
				"%s: rule %zu matches, not a candidate\n", spec,
				r);
			CHECK(false);
		}
	}
}

static void test_candidates(void)
{
	struct ruleset *rs = load(rules_text);
	CHECK(rs != NULL);
	if (!rs)
		return;
	struct rule_index *ix = rule_index_new(rs);
	size_t n_keyed;
	CHECK(ix != NULL);
	if (!ix)
		return;
	CHECK_INT(rule_index_n_fields(ix), 2);
	CHECK_INT(rule_index_field(ix, 0, &n_keyed),
		  fieldtab_find(rs->fields, "action", 6));
	CHECK_INT(n_keyed, 3); /* r0, r1, r4 */
	CHECK_INT(rule_index_field(ix, 1, &n_keyed),
		  fieldtab_find(rs->fields, "outcome", 7));
	CHECK_INT(n_keyed, 1); /* r5 */
	/* never keyed: r2 (contains), r3 (not), r6 (keyword) */
	check_case(rs, ix, "action=view", "0,2,3,6");
	check_case(rs, ix, "action=VIEW", "0,2,3,6");
	check_case(rs, ix, "action=view outcome=denied", "0,2,3,5,6");
	check_case(rs, ix, "action=view outcome=success", "0,2,3,6");
	check_case(rs, ix, "action=export team=qa", "1,2,3,6");
	check_case(rs, ix, "action=download", "1,2,3,6");
	check_case(rs, ix, "action=login", "2,3,4,6");
	check_case(rs, ix, "action=LogOut", "2,3,4,6");
	check_case(rs, ix, "action=logout", "2,3,4,6"); /* fold: superset */
	check_case(rs, ix, "action=search query=secret", "2,3,6");
	check_case(rs, ix, "outcome=denied", "2,3,5,6");
	check_case(rs, ix, "action=print", "2,3,6");
	/* lengths no key has (3, 7): not looked up, the field's free set */
	check_case(rs, ix, "action=vie", "2,3,6");
	check_case(rs, ix, "action=viewing", "2,3,6");
	rule_index_free(ix);
	ruleset_free(rs);
}

/* No detection keyed: every event gets every detection. */
static void test_no_key(void)
{
	struct ruleset *rs = load(
	    DET("n0", "  sel:\n    action|startswith: vi\n"
		      "  condition: sel\n")
		DET("n1", "  sel:\n    action: view\n  condition: not sel\n"));
	CHECK(rs != NULL);
	if (!rs)
		return;
	struct rule_index *ix = rule_index_new(rs);
	CHECK(ix != NULL);
	if (!ix)
		return;
	CHECK_INT(rule_index_n_fields(ix), 0);
	check_case(rs, ix, "action=view", "0,1");
	check_case(rs, ix, "agent=a", "0,1");
	rule_index_free(ix);
	ruleset_free(rs);
}

/* Through the engine: alerts, in rule order, from keyed and unkeyed
 * rules alike. */
static void test_engine_alerts(void)
{
	struct ruleset *rs = load(rules_text);
	CHECK(rs != NULL);
	if (!rs)
		return;
	struct engine *e = start(rs, NULL);
	CHECK(e != NULL);
	feed(e, rs, 1, "action=View outcome=denied");
	feed(e, rs, 2, "action=Download team=qa");
	feed(e, rs, 3, "action=LogOut query=top-secret");
	feed(e, rs, 4, "action=logout");
	engine_finish(e);
	CHECK_INT(n_alerts, 7);
	CHECK_ALERT(0, "r0", 1, "", 1);
	CHECK_ALERT(1, "r5", 1, "", 1);
	CHECK_ALERT(2, "r3", 2, "", 1); /* r1 filtered by team=qa */
	CHECK_ALERT(3, "r3", 3, "", 1);
	CHECK_ALERT(4, "r4", 3, "", 1);
	CHECK_ALERT(5, "r6", 3, "", 1);
	CHECK_ALERT(6, "r3", 4, "", 1); /* LogOut is cased */
	engine_free(e);
	ruleset_free(rs);
}

static uint32_t lcg(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 8;
}

#define PICK(x, arr) arr[lcg(x) % (sizeof(arr) / sizeof(arr[0]))]

/* The shipped pack (rules/, tests run from the source directory) against
 * pseudo-random events: no matching detection is ever left out, and the
 * index does leave rules out. */
static void test_pack_soundness(void)
{
	static const char *const actions[] = {
	    "view",	"VIEW",	 "search", "update", "export",	    "Export",
	    "download", "print", "login",  "logout", "ticket_close"};
	static const char *const objects[] = {
	    "profile", "contact", "id_document", "bank_account",
	    "balance", "notes",	  "report",	 "ID_Document"};
	static const char *const teams[] = {"kyc", "vip", "kyc-qa",
					    "id-verification", "payments"};
	static const char *const outcomes[] = {"success", "denied", "DENIED"};
	struct diag d;
	struct ruleset *rs = ruleset_new();
	diag_init(&d);
	CHECK(ruleset_load_path(rs, "rules", &d) > 0 &&
	      ruleset_finish(rs, &d) == 0);
	diag_print(&d, stderr);
	diag_clear(&d);
	struct rule_index *ix = rule_index_new(rs);
	CHECK(ix != NULL && rs->n_detections > 10 && rs->n_detections <= 64);
	uint32_t x = 42, cand[64];
	uint64_t n_cand = 0, n_match = 0, n_missed = 0, n_differ = 0;
	for (int i = 0; ix && i < 20000; i++) {
		char spec[256];
		snprintf(spec, sizeof(spec),
			 "agent=a%u action=%s object=%s team=%s outcome=%s "
			 "rows=%u%s",
			 lcg(&x) % 50, PICK(&x, actions), PICK(&x, objects),
			 PICK(&x, teams), PICK(&x, outcomes), lcg(&x) % 5000,
			 lcg(&x) % 4 ? " customer=C1" : "");
		struct evbuf b;
		const struct event *ev = mkev(&b, rs, i, spec);
		size_t n = rule_index_candidates(ix, ev, cand);
		uint8_t memo[RULE_INDEX_MAX_SHARED] = {0};
		uint8_t pre[RULE_INDEX_MAX_SHARED] = {0};
		uint32_t cand2[64];
		/* the same candidates, and item results decided up front */
		n_differ += n != rule_index_candidates_memo(ix, ev, cand2, pre);
		n_differ += memcmp(cand, cand2, n * sizeof(*cand)) != 0;
		n_cand += n;
		for (size_t r = 0; r < rs->n_detections; r++) {
			bool m = detection_match(rs->rules[r]->detection, ev);
			n_differ += m != detection_match_shared(
					     rs->rules[r]->detection, ev,
					     rule_index_slots(ix, r), memo);
			n_differ += m != detection_match_shared(
					     rs->rules[r]->detection, ev,
					     rule_index_slots(ix, r), pre);
			if (!m)
				continue;
			size_t k = 0;
			while (k < n && cand[k] != r)
				k++;
			n_match++;
			n_missed += k == n;
		}
	}
	CHECK(n_match > 1000);
	CHECK_INT(n_missed, 0);
	/* shared item results give the same answers as evaluating alone */
	CHECK_INT(n_differ, 0);
	CHECK(rule_index_n_shared(ix) > 0);
	/* the index leaves out more than half of the rule evaluations */
	CHECK(n_cand < 20000u * rs->n_detections / 2);
	rule_index_free(ix);
	ruleset_free(rs);
}

/* Equal units (items, whole detections) share one slot; units that
 * differ in a flag do not. */
static void test_shared(void)
{
	static const char *const text =
	    DET("s0", "  sel:\n    action: view\n    team|endswith: -qa\n"
		      "  condition: sel\n")
		DET("s1",
		    "  a:\n    team|endswith: [-qa]\n  b:\n    action: view\n"
		    "  condition: a and not b\n")
		    DET("s2", "  sel:\n    action|cased: view\n    rows: 1\n"
			      "  condition: sel\n")
			DET("s3", "  other:\n    action: view\n"
				  "    team|endswith: -qa\n"
				  "  condition: other\n");
	struct ruleset *rs = load(text);
	struct rule_index *ix = rs ? rule_index_new(rs) : NULL;

	CHECK(ix != NULL);
	if (ix == NULL) {
		ruleset_free(rs);
		return;
	}
	const uint32_t *s0 = rule_index_slots(ix, 0);
	const uint32_t *s1 = rule_index_slots(ix, 1);
	const uint32_t *s2 = rule_index_slots(ix, 2);
	const uint32_t *s3 = rule_index_slots(ix, 3);
	const uint32_t none = DETECTION_NO_SLOT;
	/* units: items, then the detection */
	/* 3 shared units, and s2's `rows: 1`: used once, but an equality
	 * on a key field that the index decides (test_decided) */
	CHECK_INT(rule_index_n_shared(ix), 4);
	CHECK_INT(rule_index_n_unshared(ix), 0);
	CHECK(s0[0] == s1[1] && s0[1] == s1[0] && s0[0] != s0[1]);
	CHECK(s0[0] == s3[0] && s0[1] == s3[1]);
	CHECK(s0[2] == s3[2] && s0[2] != none && s0[2] != s0[0] &&
	      s0[2] != s0[1]);
	CHECK(s1[2] == none);
	CHECK(s2[0] == none && s2[1] != none && s2[2] == none);
	struct evbuf b;
	const struct event *ev = mkev(&b, rs, 0, "action=VIEW team=kyc-qa");
	uint8_t memo[RULE_INDEX_MAX_SHARED] = {0};
	CHECK(detection_match_shared(rs->rules[0]->detection, ev, s0, memo));
	CHECK(memo[s0[0]] == 2 && memo[s0[1]] == 2 && memo[s0[2]] == 2);
	CHECK(!detection_match_shared(rs->rules[1]->detection, ev, s1, memo));
	CHECK(!detection_match_shared(rs->rules[2]->detection, ev, s2, memo));
	CHECK(detection_match_shared(rs->rules[3]->detection, ev, s3, memo));
	rule_index_free(ix);
	ruleset_free(rs);
}

/* The event of spec (in b), and memo as rule_index_candidates_memo()
 * leaves it for that event.  fix: 1 = the first field becomes a two-element
 * array with the second, 2 = the first field's value becomes null. */
static const struct event *decided(const struct ruleset *rs,
				   const struct rule_index *ix, struct evbuf *b,
				   const char *spec, int fix, uint8_t *memo)
{
	const struct event *ev = mkev(b, rs, 0, spec);
	uint32_t c[16];

	if (fix == 1) {
		b->fields[0].next_same = 1;
		b->slots[b->fields[0].id] = 0;
	} else if (fix == 2) {
		b->fields[0].kind = VALUE_NULL;
		b->values[0][0] = '\0';
		b->fields[0].value_len = 0;
	}
	memset(memo, 0xaa, RULE_INDEX_MAX_SHARED); /* written by the call */
	rule_index_candidates_memo(ix, ev, c, memo);
	return ev;
}

/* Equality items on a key field are decided by the index's look-up: true
 * for one of their values (any case), false for another value, null or
 * absent, undecided for an array; cased and non-literal items are left to
 * the matchers.  detection_match_shared() on the decided memo agrees with
 * detection_match(). */
static void test_decided(void)
{
	struct ruleset *rs = load(rules_text);
	struct rule_index *ix = rs ? rule_index_new(rs) : NULL;
	static const char *const specs[] = {
	    "action=VIEW",   "action=Download team=qa",
	    "action=print",  "action=vie",
	    "action=LogOut", "outcome=denied",
	    "action=search", "action=view outcome=DENIED"};
	uint8_t memo[RULE_INDEX_MAX_SHARED];
	struct evbuf b;

	CHECK(ix != NULL);
	if (ix == NULL) {
		ruleset_free(rs);
		return;
	}
	const uint32_t *s0 = rule_index_slots(ix, 0); /* action: view */
	const uint32_t *s1 = rule_index_slots(ix, 1); /* [export, Download] */
	const uint32_t *s2 = rule_index_slots(ix, 2); /* print | contains */
	const uint32_t *s4 = rule_index_slots(ix, 4); /* login | cased */
	const uint32_t *s5 = rule_index_slots(ix, 5); /* outcome: denied */
	CHECK(s0[0] != DETECTION_NO_SLOT && s1[0] != DETECTION_NO_SLOT &&
	      s2[0] != DETECTION_NO_SLOT && s4[0] != DETECTION_NO_SLOT &&
	      s5[0] != DETECTION_NO_SLOT);
	CHECK(s2[1] == DETECTION_NO_SLOT && s4[1] == DETECTION_NO_SLOT);
	decided(rs, ix, &b, "action=VIEW", 0, memo);
	CHECK(memo[s0[0]] == 2 && memo[s1[0]] == 1 && memo[s2[0]] == 1);
	CHECK(memo[s4[0]] == 1 && memo[s5[0]] == 1);
	decided(rs, ix, &b, "action=download outcome=Denied", 0, memo);
	CHECK(memo[s0[0]] == 1 && memo[s1[0]] == 2 && memo[s5[0]] == 2);
	decided(rs, ix, &b, "action=print", 0, memo);
	CHECK(memo[s2[0]] == 2 && memo[s0[0]] == 1);
	decided(rs, ix, &b, "agent=a1", 0, memo);
	CHECK(memo[s0[0]] == 1 && memo[s2[0]] == 1 && memo[s5[0]] == 1);
	decided(rs, ix, &b, "action=view", 2, memo);
	CHECK(memo[s0[0]] == 1 && memo[s2[0]] == 1);
	const struct event *ev =
	    decided(rs, ix, &b, "action=export action=view", 1, memo);
	CHECK(memo[s0[0]] == 0 && memo[s1[0]] == 0);
	CHECK(detection_match_shared(rs->rules[0]->detection, ev, s0, memo));
	CHECK(detection_match_shared(rs->rules[1]->detection, ev, s1, memo));
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		for (int fix = 0; fix < 3; fix++) {
			ev = decided(rs, ix, &b, specs[i], fix, memo);
			for (size_t r = 0; r < rs->n_detections; r++) {
				const struct detection *det =
				    rs->rules[r]->detection;
				CHECK(detection_match(det, ev) ==
				      detection_match_shared(
					  det, ev, rule_index_slots(ix, r),
					  memo));
			}
		}
	rule_index_free(ix);
	ruleset_free(rs);
}

int main(void)
{
	test_decided();
	test_shared();
	test_pack_soundness();
	test_candidates();
	test_engine_alerts();
	test_no_key();
	return check_done();
}
