/*
 * chain: the alert store's tamper-evidence hash chain (schema v3).
 *
 * Every chained row — an alert (with its evidence), a triage change, a
 * purge marker — gets the next sequence number `chain_seq` and a `chain`
 * value, written in the same transaction as the row:
 *
 *   row_hash = SHA-256(canonical encoding of the row's columns)
 *   chain[n] = SHA-256(chain[n-1] || be64(n) || kind || 0 || ref || 0 ||
 *                      row_hash)                       chain[0] = 32 zeros
 *
 * The canonical encoding of a column is a type byte ('N' null, 'I' int64
 * big-endian, 'R' IEEE double bits big-endian, 'T' be32 length + bytes), so
 * it is computed from the values SQLite returns: the writer hashes the row
 * it just inserted, read back, exactly as the verifier will.  An alert's
 * status/assignee columns are not hashed: they change by triage, and every
 * change is a chained triage row.
 *
 * Purging keeps a verifiable skeleton: each removed row leaves (seq, kind,
 * ref, row_hash, chain) in chain_purged, and the purge itself is a chained
 * row (purges) whose list_hash covers the (seq, row_hash) of everything it
 * removed.  Personal data goes; the chain stays checkable end to end.
 *
 * The head (chain_head: last seq and chain) makes deleting the newest rows
 * visible; seals (store_seal) copied to an outside witness (syslog) make a
 * rewrite of the whole chain visible.
 *
 * These functions work on a borrowed sqlite3 handle inside the caller's
 * transaction; they never read the clock and never print.
 */
#ifndef CUSTOS_CHAIN_H
#define CUSTOS_CHAIN_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;

#define CHAIN_HEX_LEN 64
#define CHAIN_MAX_PROBLEMS 100 /* problems kept by chain_verify */

/* Hashes the row of `table` whose key column equals key (alerts: id,
 * triage and purges: id as text) into row_hash.  Alerts include their
 * evidence rows.  Returns 1, 0 if no such row, -1 on error. */
int chain_row_hash(struct sqlite3 *db, const char *kind, const char *key,
		   uint8_t row_hash[32]);

/* The link function above; out is raw (32 bytes). */
void chain_link(const uint8_t prev[32], int64_t seq, const char *kind,
		const char *ref, const uint8_t row_hash[32], uint8_t out[32]);

/* Appends the row (kind "alert" | "triage" | "purge", key as for
 * chain_row_hash, ref = what verify reports) to the chain: hashes it,
 * advances chain_head, writes chain_seq/chain into the row.  Must run in
 * the transaction that inserted the row.  Returns 0 or -1 (err filled). */
int chain_append(struct sqlite3 *db, const char *kind, const char *key,
		 char *err, size_t err_size);

/* Chains every alert and triage row that has no chain_seq yet, in rowid
 * order (stores migrated from schema v1/v2).  Returns how many, or -1. */
int64_t chain_adopt(struct sqlite3 *db, char *err, size_t err_size);

/* Moves a row about to be deleted by a purge into the skeleton
 * (chain_purged: its seq, kind, ref, re-computed row hash, stored chain,
 * and the chain position purge_seq the purge marker will take).  A row
 * without a chain position is skipped.  Returns 0 or -1. */
int chain_skeleton_add(struct sqlite3 *db, const char *kind, const char *key,
		       int64_t purge_seq);

/* SHA-256 over (be64 seq || row hash) of the skeletons of one purge, in
 * seq order, as hex: the purge marker's list_hash.  Returns 0 or -1. */
int chain_purge_list_hash(struct sqlite3 *db, int64_t purge_seq,
			  char hex[CHAIN_HEX_LEN + 1]);

/* Current head: last seq (0 if empty) and chain as hex. */
int chain_head(struct sqlite3 *db, int64_t *seq, char hex[CHAIN_HEX_LEN + 1]);

struct chain_problem {
	int64_t seq;	/* chain position concerned, 0 if none */
	char kind[16];	/* alert, triage, purge, seal, head, status */
	char ref[80];	/* alert id, triage id, ... */
	char what[160]; /* altered, deleted, inserted, ... */
};

struct chain_report {
	int64_t n_entries; /* chain entries seen (live + purged) */
	int64_t n_live, n_purged, n_seals;
	size_t n_problems; /* all found; at most CHAIN_MAX_PROBLEMS kept */
	struct chain_problem problems[CHAIN_MAX_PROBLEMS];
};

/* Recomputes the whole chain and reports, in chain order, every altered,
 * deleted, reordered or inserted row, head and seal mismatches, purge
 * skeletons that their purge marker does not cover, and alerts whose
 * status disagrees with their triage history.  Returns 0 when it could
 * check (r->n_problems tells the verdict), -1 on a database error. */
int chain_verify(struct sqlite3 *db, struct chain_report *r, char *err,
		 size_t err_size);

/* Lower-case hex of 32 bytes into out (65 bytes). */
void chain_hex(const uint8_t h[32], char out[CHAIN_HEX_LEN + 1]);

#endif
