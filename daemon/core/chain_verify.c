/*
 * chain_verify: recomputes the store's hash chain (chain.h) and reports
 * what does not fit, in chain order.
 *
 * Every entry is loaded (live alerts, triage rows and purge markers are
 * re-hashed from their columns; purged skeletons bring their stored row
 * hash), sorted by chain_seq, and walked: each link is recomputed from the
 * previous entry's *stored* chain value, so one altered row is reported
 * once, at its own position, rather than breaking every later link.
 * A rewrite of the chain from some row on keeps the links consistent; the
 * head and the seals (copied to syslog when taken) catch that.
 */
#include "chain.h"

#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	int64_t seq; /* 0: the row has no chain position */
	char kind[8];
	char ref[48];
	uint8_t row_hash[32];
	char chain[CHAIN_HEX_LEN + 1];
	int64_t purge_seq; /* skeletons: the purge marker; else 0 */
	int hash_ok;	   /* row hash could be computed / parsed */
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static void problem(struct chain_report *r, int64_t seq, const char *kind,
		    const char *ref, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void problem(struct chain_report *r, int64_t seq, const char *kind,
		    const char *ref, const char *fmt, ...)
{
	va_list ap;

	if (r->n_problems++ >= CHAIN_MAX_PROBLEMS)
		return;
	struct chain_problem *p = &r->problems[r->n_problems - 1];
	p->seq = seq;
	snprintf(p->kind, sizeof(p->kind), "%s", kind);
	snprintf(p->ref, sizeof(p->ref), "%s", ref ? ref : "");
	va_start(ap, fmt);
	vsnprintf(p->what, sizeof(p->what), fmt, ap);
	va_end(ap);
}

static int unhex32(const char *t, uint8_t out[32])
{
	if (t == NULL || strlen(t) != CHAIN_HEX_LEN)
		return -1;
	for (int i = 0; i < 32; i++) {
		unsigned v;
		if (sscanf(t + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static struct entry *push(struct entries *es)
{
	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 256;
		struct entry *v = realloc(es->v, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		es->v = v;
		es->cap = cap;
	}
	memset(&es->v[es->n], 0, sizeof(es->v[0]));
	return &es->v[es->n++];
}

static const char *text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? t : "";
}

/* Loads live rows of one kind and re-hashes them. */
static int load_live(sqlite3 *db, const char *kind, const char *sql,
		     struct entries *es)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct entry *e = push(es);
		if (e == NULL)
			break;
		e->seq = sqlite3_column_int64(st, 0);
		snprintf(e->kind, sizeof(e->kind), "%s", kind);
		snprintf(e->ref, sizeof(e->ref), "%s", text(st, 1));
		snprintf(e->chain, sizeof(e->chain), "%s", text(st, 2));
		int h = chain_row_hash(db, kind, e->ref, e->row_hash);
		if (h < 0) { /* out of memory: not evidence of tampering */
			sqlite3_finalize(st);
			return -1;
		}
		e->hash_ok = h == 1;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int load_purged(sqlite3 *db, struct entries *es)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT seq, kind, ref, row_hash, chain,"
			       " purge_seq FROM chain_purged",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct entry *e = push(es);
		if (e == NULL)
			break;
		e->seq = sqlite3_column_int64(st, 0);
		snprintf(e->kind, sizeof(e->kind), "%s", text(st, 1));
		snprintf(e->ref, sizeof(e->ref), "%s", text(st, 2));
		e->hash_ok = unhex32(text(st, 3), e->row_hash) == 0;
		snprintf(e->chain, sizeof(e->chain), "%s", text(st, 4));
		e->purge_seq = sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int by_seq(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return strcmp(x->ref, y->ref);
}

/* Walks the sorted entries; returns the last seq seen and its chain. */
static void walk(const struct entries *es, struct chain_report *r,
		 int64_t *last_seq, const char **last_chain)
{
	static const uint8_t zero[32];
	uint8_t prev[32], link[32], stored[32];
	int64_t expect = 1;
	int prev_ok = 1;

	memcpy(prev, zero, 32);
	*last_seq = 0;
	*last_chain = NULL;
	for (size_t i = 0; i < es->n; i++) {
		const struct entry *e = &es->v[i];
		if (e->seq <= 0) {
			problem(r, 0, e->kind, e->ref,
				"inserted: row has no chain position");
			continue;
		}
		if (e->seq < expect) {
			problem(r, e->seq, e->kind, e->ref,
				"inserted: a second row claims chain "
				"position %lld",
				(long long)e->seq);
			continue;
		}
		if (e->seq > expect) {
			problem(r, expect, "-", "",
				"deleted: chain positions %lld..%lld missing",
				(long long)expect, (long long)e->seq - 1);
			prev_ok = 0; /* cannot check the link over a gap */
		}
		int stored_ok = unhex32(e->chain, stored) == 0;
		if (prev_ok) {
			chain_link(prev, e->seq, e->kind, e->ref, e->row_hash,
				   link);
			if (!e->hash_ok || !stored_ok ||
			    memcmp(link, stored, 32) != 0)
				problem(r, e->seq, e->kind, e->ref,
					"%s: row or chain value does not "
					"match the chain",
					e->purge_seq ? "altered skeleton"
						     : "altered or reordered");
		}
		memcpy(prev, stored, 32);
		prev_ok = stored_ok;
		expect = e->seq + 1;
		*last_seq = e->seq;
		*last_chain = e->chain;
	}
}

static void check_head(sqlite3 *db, struct chain_report *r, int64_t last_seq,
		       const char *last_chain)
{
	char hex[CHAIN_HEX_LEN + 1];
	int64_t seq;

	if (chain_head(db, &seq, hex) < 0) {
		problem(r, 0, "head", "", "chain head row missing");
		return;
	}
	if (seq > last_seq)
		problem(r, last_seq + 1, "head", "",
			"deleted: the newest rows %lld..%lld are missing",
			(long long)last_seq + 1, (long long)seq);
	else if (seq < last_seq)
		problem(r, seq + 1, "head", "",
			"inserted: rows beyond the chain head (%lld)",
			(long long)seq);
	else if (seq > 0 && (last_chain == NULL || strcmp(hex, last_chain)))
		problem(r, seq, "head", "", "chain head value altered");
}

static const struct entry *find_seq(const struct entries *es, int64_t seq)
{
	size_t lo = 0, hi = es->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (es->v[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < es->n && es->v[lo].seq == seq ? &es->v[lo] : NULL;
}

static int check_seals(sqlite3 *db, const struct entries *es,
		       struct chain_report *r)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT id, seq, head FROM seals ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char ref[32];
		int64_t seq = sqlite3_column_int64(st, 1);
		const struct entry *e = find_seq(es, seq);
		r->n_seals++;
		snprintf(ref, sizeof(ref), "seal %lld",
			 (long long)sqlite3_column_int64(st, 0));
		if (seq == 0)
			continue;
		if (e == NULL)
			problem(r, seq, "seal", ref,
				"deleted: sealed chain position %lld is gone",
				(long long)seq);
		else if (strcmp(e->chain, text(st, 2)) != 0)
			problem(r, seq, "seal", ref,
				"chain rewritten: value at %lld differs from "
				"the seal",
				(long long)seq);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Each purge marker's list_hash must cover exactly its skeletons. */
static int check_purges(sqlite3 *db, const struct entries *es,
			struct chain_report *r)
{
	sqlite3_stmt *st = NULL;
	int rc;

	for (size_t i = 0; i < es->n; i++) {
		const struct entry *e = &es->v[i], *m;
		if (e->purge_seq == 0)
			continue;
		m = find_seq(es, e->purge_seq);
		if (m == NULL || strcmp(m->kind, "purge") != 0 ||
		    e->purge_seq <= e->seq)
			problem(r, e->seq, e->kind, e->ref,
				"deleted: removed without a purge marker");
	}
	if (sqlite3_prepare_v2(
		db,
		"SELECT p.chain_seq, p.id, p.list_hash,"
		" (SELECT count(*) FROM chain_purged c"
		" WHERE c.purge_seq = p.chain_seq) FROM purges p",
		-1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char want[CHAIN_HEX_LEN + 1];
		int64_t seq = sqlite3_column_int64(st, 0);
		if (chain_purge_list_hash(db, seq, want) < 0)
			break;
		if (strcmp(want, text(st, 2)) != 0)
			problem(r, seq, "purge", text(st, 1),
				"purge marker does not match the %lld rows "
				"recorded as purged",
				(long long)sqlite3_column_int64(st, 3));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* alerts.status must be the last status set by a (chained) triage row. */
static int check_status(sqlite3 *db, struct chain_report *r)
{
	static const char sql[] =
	    "SELECT a.id, a.chain_seq, a.status, coalesce((SELECT t.value"
	    " FROM triage t WHERE t.alert_id = a.id AND t.action IN"
	    " ('ack', 'resolve', 'reopen') ORDER BY t.id DESC LIMIT 1),"
	    " 'open') FROM alerts a";
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (strcmp(text(st, 2), text(st, 3)) != 0)
			problem(r, sqlite3_column_int64(st, 1), "status",
				text(st, 0),
				"status '%s' does not match its triage "
				"history ('%s')",
				text(st, 2), text(st, 3));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int chain_verify(sqlite3 *db, struct chain_report *r, char *err,
		 size_t err_size)
{
	struct entries es = {0};
	int64_t last_seq;
	const char *last_chain;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (load_live(db, "alert", "SELECT chain_seq, id, chain FROM alerts",
		      &es) < 0 ||
	    load_live(db, "triage", "SELECT chain_seq, id, chain FROM triage",
		      &es) < 0 ||
	    load_live(db, "purge", "SELECT chain_seq, id, chain FROM purges",
		      &es) < 0)
		goto out;
	r->n_live = (int64_t)es.n;
	if (load_purged(db, &es) < 0)
		goto out;
	r->n_purged = (int64_t)es.n - r->n_live;
	r->n_entries = (int64_t)es.n;
	if (es.n)
		qsort(es.v, es.n, sizeof(es.v[0]), by_seq);
	walk(&es, r, &last_seq, &last_chain);
	check_head(db, r, last_seq, last_chain);
	if (check_seals(db, &es, r) < 0 || check_purges(db, &es, r) < 0 ||
	    check_status(db, r) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		snprintf(err, err_size, "verify: %s", sqlite3_errmsg(db));
	free(es.v);
	return ret;
}
