/*
 * chain: hash chain over the alert store's rows.  See chain.h for the
 * construction; this file hashes rows read back from SQLite, appends to the
 * chain, and verifies it.
 *
 * Invariant: chain_head.seq is the highest chain_seq in use, counting
 * purged skeletons; chain_seq values are 1..head.seq without gaps.
 * Verification holds every entry (seq, kind, ref, row hash, stored chain:
 * about 200 bytes) in memory, sorted by seq.
 */
#include "chain.h"

#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const alert_cols =
    "SELECT id, rule_id, rule_title, level, level_num, ts_ms, ts,"
    " group_json, value, event_json, source_input, source_path,"
    " source_line, source_offset, tags_json, evidence_count, created_ms,"
    " agent, customer FROM alerts WHERE id = ?1";
static const char *const evidence_cols =
    "SELECT seq, event_json FROM evidence WHERE alert_id = ?1 ORDER BY seq";
static const char *const triage_cols =
    "SELECT id, alert_id, ts_ms, user, action, value, note FROM triage"
    " WHERE id = CAST(?1 AS INTEGER)";
static const char *const purge_cols =
    "SELECT id, ts_ms, cutoff_ms, user, n_alerts, n_triage, n_events,"
    " list_hash FROM purges WHERE id = CAST(?1 AS INTEGER)";

static void set_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

void chain_hex(const uint8_t h[32], char out[CHAIN_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[CHAIN_HEX_LEN] = '\0';
}

/* Parses 64 hex digits; -1 if text is not exactly that. */
static int unhex(const char *text, uint8_t out[32])
{
	if (text == NULL || strlen(text) != CHAIN_HEX_LEN)
		return -1;
	for (int i = 0; i < 64; i++) {
		char c = text[i];
		int v = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
					       : -1;
		if (v < 0)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return 0;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Feeds one column, canonically encoded, into the digest; -1 when
 * SQLite ran out of memory converting it. */
static int hash_value(EVP_MD_CTX *md, sqlite3_stmt *st, int col)
{
	uint8_t b[9];
	double d;
	uint64_t bits;

	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL:
		EVP_DigestUpdate(md, "N", 1);
		return 0;
	case SQLITE_INTEGER:
		b[0] = 'I';
		put_be64(b + 1, (uint64_t)sqlite3_column_int64(st, col));
		EVP_DigestUpdate(md, b, 9);
		return 0;
	case SQLITE_FLOAT:
		d = sqlite3_column_double(st, col);
		memcpy(&bits, &d, sizeof(bits));
		b[0] = 'R';
		put_be64(b + 1, bits);
		EVP_DigestUpdate(md, b, 9);
		return 0;
	default: {
		const unsigned char *t = sqlite3_column_text(st, col);
		uint32_t n = (uint32_t)sqlite3_column_bytes(st, col);
		if (t == NULL &&
		    sqlite3_errcode(sqlite3_db_handle(st)) == SQLITE_NOMEM)
			return -1;
		b[0] = 'T';
		b[1] = (uint8_t)(n >> 24);
		b[2] = (uint8_t)(n >> 16);
		b[3] = (uint8_t)(n >> 8);
		b[4] = (uint8_t)n;
		EVP_DigestUpdate(md, b, 5);
		EVP_DigestUpdate(md, t ? (const void *)t : "", t ? n : 0);
		return 0;
	}
	}
}

/* Hashes every row the statement returns (bound with key); counts rows. */
static int hash_rows(sqlite3 *db, const char *sql, const char *key,
		     EVP_MD_CTX *md, int *n_rows)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*n_rows = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int n = sqlite3_column_count(st);
		EVP_DigestUpdate(md, "(", 1);
		for (int i = 0; i < n; i++)
			if (hash_value(md, st, i) < 0) {
				sqlite3_finalize(st);
				return -1;
			}
		(*n_rows)++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int chain_row_hash(sqlite3 *db, const char *kind, const char *key,
		   uint8_t row_hash[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const char *sql = strcmp(kind, "alert") == 0	? alert_cols
			  : strcmp(kind, "triage") == 0 ? triage_cols
			  : strcmp(kind, "purge") == 0	? purge_cols
							: NULL;
	int n = 0, n_ev = 0, ret = -1;

	if (md == NULL || sql == NULL ||
	    !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		goto out;
	EVP_DigestUpdate(md, kind, strlen(kind) + 1);
	if (hash_rows(db, sql, key, md, &n) < 0)
		goto out;
	if (n == 1 && sql == alert_cols) {
		EVP_DigestUpdate(md, "E", 1);
		if (hash_rows(db, evidence_cols, key, md, &n_ev) < 0)
			goto out;
	}
	EVP_DigestFinal_ex(md, row_hash, NULL);
	ret = n == 1;
out:
	EVP_MD_CTX_free(md);
	return ret;
}

void chain_link(const uint8_t prev[32], int64_t seq, const char *kind,
		const char *ref, const uint8_t row_hash[32], uint8_t out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t b[8];

	put_be64(b, (uint64_t)seq);
	if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		memset(out, 0, 32); /* cannot happen short of OOM; verify
				       then reports a mismatch */
		EVP_MD_CTX_free(md);
		return;
	}
	EVP_DigestUpdate(md, prev, 32);
	EVP_DigestUpdate(md, b, 8);
	EVP_DigestUpdate(md, kind, strlen(kind) + 1);
	EVP_DigestUpdate(md, ref, strlen(ref) + 1);
	EVP_DigestUpdate(md, row_hash, 32);
	EVP_DigestFinal_ex(md, out, NULL);
	EVP_MD_CTX_free(md);
}

int chain_head(sqlite3 *db, int64_t *seq, char hex[CHAIN_HEX_LEN + 1])
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (sqlite3_prepare_v2(db, "SELECT seq, chain FROM chain_head", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 1);
		*seq = sqlite3_column_int64(st, 0);
		snprintf(hex, CHAIN_HEX_LEN + 1, "%s", t ? t : "");
		ret = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

/* Runs an UPDATE with (seq, chain hex, key) bound. */
static int write_link(sqlite3 *db, const char *sql, int64_t seq,
		      const char *hex, const char *key)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, hex, -1, SQLITE_STATIC);
	if (key)
		sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static const char *row_update_sql(const char *kind)
{
	if (strcmp(kind, "alert") == 0)
		return "UPDATE alerts SET chain_seq = ?1, chain = ?2"
		       " WHERE id = ?3";
	if (strcmp(kind, "triage") == 0)
		return "UPDATE triage SET chain_seq = ?1, chain = ?2"
		       " WHERE id = CAST(?3 AS INTEGER)";
	return "UPDATE purges SET chain_seq = ?1, chain = ?2"
	       " WHERE id = CAST(?3 AS INTEGER)";
}

int chain_append(sqlite3 *db, const char *kind, const char *key, char *err,
		 size_t err_size)
{
	uint8_t row[32], prev[32], next[32];
	char hex[CHAIN_HEX_LEN + 1];
	int64_t seq;

	if (chain_head(db, &seq, hex) < 0 || unhex(hex, prev) < 0) {
		set_err(err, err_size, "chain head unreadable: %s",
			sqlite3_errmsg(db));
		return -1;
	}
	if (chain_row_hash(db, kind, key, row) != 1) {
		set_err(err, err_size, "chain: cannot hash %s %s: %s", kind,
			key, sqlite3_errmsg(db));
		return -1;
	}
	seq++;
	chain_link(prev, seq, kind, key, row, next);
	chain_hex(next, hex);
	if (write_link(db, row_update_sql(kind), seq, hex, key) < 0 ||
	    write_link(db, "UPDATE chain_head SET seq = ?1, chain = ?2", seq,
		       hex, NULL) < 0) {
		set_err(err, err_size, "chain: cannot write link: %s",
			sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int64_t chain_adopt(sqlite3 *db, char *err, size_t err_size)
{
	static const char sql[] =
	    "SELECT 'alert', id, rowid FROM alerts WHERE chain_seq IS NULL"
	    " UNION ALL SELECT 'triage', CAST(id AS TEXT), id FROM triage"
	    " WHERE chain_seq IS NULL ORDER BY 1, 3";
	sqlite3_stmt *st = NULL;
	int64_t n = 0;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		set_err(err, err_size, "chain adopt: %s", sqlite3_errmsg(db));
		return -1;
	}
	/* the UPDATEs touch the chain columns only, not the scanned key */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char kind[8], key[80];
		snprintf(kind, sizeof(kind), "%s", sqlite3_column_text(st, 0));
		snprintf(key, sizeof(key), "%s", sqlite3_column_text(st, 1));
		if (chain_append(db, kind, key, err, err_size) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		set_err(err, err_size, "chain adopt: %s", sqlite3_errmsg(db));
		return -1;
	}
	return n;
}

int chain_skeleton_add(sqlite3 *db, const char *kind, const char *key,
		       int64_t purge_seq)
{
	static const char *const sel[] = {
	    "SELECT chain_seq, chain FROM alerts WHERE id = ?1",
	    "SELECT chain_seq, chain FROM triage WHERE id = CAST(?1 AS "
	    "INTEGER)"};
	sqlite3_stmt *st = NULL, *ins = NULL;
	uint8_t row[32];
	char hex[CHAIN_HEX_LEN + 1];
	int rc = -1;

	if (chain_row_hash(db, kind, key, row) != 1)
		return -1;
	chain_hex(row, hex);
	if (sqlite3_prepare_v2(db, sel[strcmp(kind, "alert") != 0], -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO chain_purged (seq, kind, ref,"
			       " row_hash, chain, purge_seq)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			       -1, &ins, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	rc = 0;
	if (sqlite3_column_type(st, 0) == SQLITE_NULL)
		goto out; /* never chained: nothing to keep */
	sqlite3_bind_int64(ins, 1, sqlite3_column_int64(st, 0));
	sqlite3_bind_text(ins, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, hex, -1, SQLITE_STATIC);
	sqlite3_bind_value(ins, 5, sqlite3_column_value(st, 1));
	sqlite3_bind_int64(ins, 6, purge_seq);
	rc = sqlite3_step(ins) == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ins);
	return rc;
}

int chain_purge_list_hash(sqlite3 *db, int64_t purge_seq,
			  char hex[CHAIN_HEX_LEN + 1])
{
	sqlite3_stmt *st = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t b[8], h[32];
	int rc = SQLITE_ERROR;

	if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
	    sqlite3_prepare_v2(db,
			       "SELECT seq, row_hash FROM chain_purged"
			       " WHERE purge_seq = ?1 ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, purge_seq);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 1);
		put_be64(b, (uint64_t)sqlite3_column_int64(st, 0));
		EVP_DigestUpdate(md, b, 8);
		if (unhex(t, h) < 0)
			memset(h, 0xff, 32); /* garbage: cannot match */
		EVP_DigestUpdate(md, h, 32);
	}
	if (rc == SQLITE_DONE) {
		EVP_DigestFinal_ex(md, h, NULL);
		chain_hex(h, hex);
	}
out:
	sqlite3_finalize(st);
	EVP_MD_CTX_free(md);
	return rc == SQLITE_DONE ? 0 : -1;
}
