/*
 * test_chain: the store's hash chain, triage, suppressions, seals, purge
 * and verification.  A reference store is built once (alerts, triage, a
 * seal); then, many times with a fixed seed, a copy gets one random
 * tampering (UPDATE of a column, DELETE, INSERT, reordering, evidence or
 * triage edit, status change) with plain SQLite, and verify must name the
 * row and position that was touched.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "store.h"

#define N_ALERTS 40
#define N_ROUNDS 300

static char dir[] = "/tmp/custos-test-chain-XXXXXX";
static char ref_path[256], work_path[256];
static char ids[N_ALERTS][ALERT_ID_LEN + 1];
static uint64_t rng = 0x9e3779b97f4a7c15ULL; /* fixed seed */

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static struct alert make_alert(const struct rule *r, int i, char *ev,
			       size_t ev_size, char **evidence)
{
	struct alert a;

	memset(&a, 0, sizeof(a));
	a.rule = r;
	a.ts_ms = 1740990000000LL + (int64_t)i * 60000;
	snprintf(ev, ev_size,
		 "{\"agent\":\"a%d\",\"customer\":\"c%d\",\"action\":\"view\"}",
		 i % 3, i);
	a.event_json = ev;
	a.value = i;
	a.source_input = "replay";
	a.source_line = (uint64_t)i + 1;
	a.evidence_json = evidence;
	a.n_evidence = 2;
	a.n_evidence_total = 2;
	alert_compute_id(&a);
	return a;
}

static void build_reference(void)
{
	static char *evidence[] = {"{\"n\":1}", "{\"n\":2}"};
	struct rule r = {
	    .id = "r-1", .title = "Bulk view", .level = LEVEL_HIGH};
	char err[256], ev[128], head[65];
	struct store *s = store_open(ref_path, err, sizeof(err));

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(store_begin(s), 0);
	for (int i = 0; i < N_ALERTS; i++) {
		struct alert a = make_alert(&r, i, ev, sizeof(ev), evidence);
		CHECK_INT(store_add_alert(s, &a, 5), 1);
		/* a duplicate must not advance the chain */
		CHECK_INT(store_add_alert(s, &a, 6), 0);
		memcpy(ids[i], a.id, sizeof(ids[i]));
		if (i % 4 == 0) {
			struct store_triage t = {a.id,	7,    "alice",
						 "ack", NULL, "looking"};
			CHECK_INT(store_triage(s, &t), 1);
		}
	}
	struct store_triage none = {"feedfeed", 7, "alice", "ack", NULL, NULL};
	CHECK_INT(store_triage(s, &none), 0);
	CHECK_INT(store_seal(s, 8, head), 0);
	CHECK_INT(store_commit(s), 0);
	CHECK_INT(strlen(head), 64);
	store_close(s);
}

static int exec_on(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(path, &db) == SQLITE_OK
		     ? sqlite3_exec(db, sql, NULL, NULL, NULL)
		     : SQLITE_ERROR;
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static int copy_file(const char *from, const char *to)
{
	char cmd[2048];
	int n = snprintf(cmd, sizeof(cmd),
			 "cp '%s' '%s' && rm -f '%s-wal' '%s-shm'", from, to,
			 to, to);

	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	return system(cmd);
}

/* Verifies the working copy; fills the first problem. */
static size_t verify(struct chain_problem *first)
{
	static struct chain_report r;
	char err[256];
	struct store *s = store_open(work_path, err, sizeof(err));

	memset(first, 0, sizeof(*first));
	if (s == NULL || store_verify(s, &r) < 0) {
		store_close(s);
		return (size_t)-1;
	}
	store_close(s);
	if (r.n_problems)
		*first = r.problems[0];
	return r.n_problems;
}

/* One random tampering; returns the seq (and ref) verify must name. */
static int64_t tamper(char *sql, size_t size, char *want_ref)
{
	int i = (int)rnd(N_ALERTS), j = (int)rnd(N_ALERTS - 1);
	int64_t seq_i = 0;

	j += j >= i; /* j != i */
	/* chain positions: alert k is preceded by its own and earlier
	 * triage rows (every 4th alert has one, right after it) */
	seq_i = i + 1 + (i + 3) / 4;
	strcpy(want_ref, ids[i]);
	switch (rnd(6)) {
	case 0:
		snprintf(sql, size,
			 "UPDATE alerts SET value = value + 1 "
			 "WHERE id = '%s'",
			 ids[i]);
		return seq_i;
	case 1:
		snprintf(sql, size,
			 "UPDATE evidence SET event_json = "
			 "'{\"n\":9}' WHERE alert_id = '%s' AND "
			 "seq = 1",
			 ids[i]);
		return seq_i;
	case 2:
		want_ref[0] = '\0';
		snprintf(sql, size, "DELETE FROM alerts WHERE id = '%s'",
			 ids[i]);
		return seq_i;
	case 3:
		strcpy(want_ref, "00000000000000000000000000000bad");
		snprintf(sql, size,
			 "INSERT INTO alerts (id, level, level_num, ts_ms, ts,"
			 " group_json, tags_json, evidence_count, created_ms)"
			 " VALUES ('%s', 'high', 3, 1, 'x', '{}', '[]', 0, 1)",
			 want_ref);
		return 0;
	case 4: { /* swap the chain positions of two alerts */
		int lo = i < j ? i : j, hi = i < j ? j : i;
		strcpy(want_ref, ids[hi]);
		int64_t s_lo = lo + 1 + (lo + 3) / 4;
		int64_t s_hi = hi + 1 + (hi + 3) / 4;
		snprintf(sql, size,
			 "UPDATE alerts SET chain_seq = %lld WHERE id = '%s';"
			 "UPDATE alerts SET chain_seq = %lld WHERE id = '%s'",
			 (long long)s_lo, ids[hi], (long long)s_hi, ids[lo]);
		return lo + 1 + (lo + 3) / 4;
	}
	default: /* the ack of alert 4k: change its note */
		i = 4 * (int)rnd(N_ALERTS / 4);
		snprintf(want_ref, 48, "%d", i / 4 + 1);
		snprintf(sql, size,
			 "UPDATE triage SET note = 'nothing' "
			 "WHERE alert_id = '%s'",
			 ids[i]);
		return i + 2 + (i + 3) / 4;
	}
}

static void test_random_tampering(void)
{
	struct chain_problem p;
	char sql[1024], ref[64];
	int n_named = 0;

	for (int round = 0; round < N_ROUNDS; round++) {
		int64_t want = tamper(sql, sizeof(sql), ref);
		copy_file(ref_path, work_path);
		if (exec_on(work_path, sql) < 0) {
			CHECK(!"tamper SQL failed");
			continue;
		}
		size_t n = verify(&p);
		CHECK(n > 0 && n != (size_t)-1);
		CHECK_INT(p.seq, want);
		if (ref[0])
			CHECK_STR(p.ref, ref);
		if (p.seq == want && (!ref[0] || strcmp(p.ref, ref) == 0))
			n_named++;
		else
			fprintf(stderr, "round %d: %s\n  -> seq %lld %s: %s\n",
				round, sql, (long long)p.seq, p.ref, p.what);
	}
	CHECK_INT(n_named, N_ROUNDS);
}

static void test_intact_and_special_cases(void)
{
	struct chain_problem p;

	copy_file(ref_path, work_path);
	CHECK_INT(verify(&p), 0);
	/* status changed without a triage row */
	exec_on(work_path, "UPDATE alerts SET status = 'resolved' WHERE "
			   "chain_seq = 3");
	CHECK_INT(verify(&p), 1);
	CHECK_STR(p.kind, "status");
	/* the newest row deleted: only the head shows it */
	copy_file(ref_path, work_path);
	exec_on(work_path, "DELETE FROM alerts WHERE chain_seq = (SELECT "
			   "max(chain_seq) FROM alerts)");
	CHECK(verify(&p) >= 1);
	CHECK_STR(p.kind, "head");
	/* a forged seal */
	copy_file(ref_path, work_path);
	exec_on(work_path,
		"UPDATE seals SET head = "
		"'1111111111111111111111111111111111111111111111111111"
		"111111111111'");
	CHECK_INT(verify(&p), 1);
	CHECK_STR(p.kind, "seal");
}

static void test_purge_keeps_chain(void)
{
	struct chain_problem p;
	struct store_purge_counts c;
	char err[256], head[65];
	struct store_purge pg = {.cutoff_ms = 1740990000000LL + 10 * 60000,
				 .now_ms = 9,
				 .user = "bob"};
	struct store *s;

	copy_file(ref_path, work_path);
	s = store_open(work_path, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(store_purge(s, &pg, &c), 0);
	CHECK_INT(c.n_alerts, 10);
	CHECK_INT(c.n_triage, 3);
	CHECK_INT(store_count_alerts(s), N_ALERTS - 10);
	CHECK_INT(store_begin(s), 0);
	CHECK_INT(store_seal(s, 10, head), 0);
	CHECK_INT(store_commit(s), 0);
	store_close(s);
	CHECK_INT(verify(&p), 0);
	/* a row deleted and passed off as purged */
	exec_on(work_path,
		"INSERT INTO chain_purged SELECT chain_seq, 'alert', id,"
		" chain, chain, (SELECT max(chain_seq) FROM purges) FROM alerts"
		" ORDER BY chain_seq LIMIT 1;"
		"DELETE FROM alerts WHERE chain_seq = (SELECT min(chain_seq)"
		" FROM alerts)");
	CHECK(verify(&p) >= 1);
}

static void test_suppressions(void)
{
	char err[256];
	struct store *s = store_open(":memory:", err, sizeof(err));
	struct store_suppression sp = {"r-1", "a1",    1000, 2000,
				       5,     "alice", NULL, "fp"};

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(store_suppressed(s, "r-1", "a1", 1500), 0);
	CHECK_INT(store_suppress(s, &sp), 0);
	CHECK_INT(store_suppressed(s, "r-1", "a1", 1500), 1);
	CHECK_INT(store_suppressed(s, "r-1", "a1", 1000), 1);
	CHECK_INT(store_suppressed(s, "r-1", "a1", 2000), 0);
	CHECK_INT(store_suppressed(s, "r-1", "a1", 999), 0);
	CHECK_INT(store_suppressed(s, "r-1", "a2", 1500), 0);
	CHECK_INT(store_suppressed(s, "r-2", "a1", 1500), 0);
	CHECK_INT(store_suppressed(s, NULL, "a1", 1500), 0);
	store_close(s);
}

int main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(ref_path, sizeof(ref_path), "%s/ref.db", dir);
	snprintf(work_path, sizeof(work_path), "%s/work.db", dir);
	build_reference();
	test_intact_and_special_cases();
	test_random_tampering();
	test_purge_keeps_chain();
	test_suppressions();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		CHECK(!"cleanup");
	return check_done();
}
