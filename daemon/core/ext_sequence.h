/*
 * ext_sequence: the state of the `custos: sequence:` extension — runs of
 * views of customers whose ids are numerically consecutive or nearly so
 * (enumeration: c-100234, c-100235, c-100237, ...).
 *
 * The id of a customer is its trailing digits (1 to 18 of them); the rest
 * (the prefix, e.g. "c-") must be the same along a run.  Per (rule, agent)
 * key the module keeps up to EXT_SEQ_MAX_RUNS open runs, so an agent's
 * ticket work interleaved with an enumeration does not break it.  A run
 * grows when a customer's id is 1..gap away from the run's last id, in the
 * run's direction (up or down, fixed by its second step), and its first
 * view is at most `timespan` old; the same id again changes nothing.  The
 * step that makes a run `min_run` long reports it, once per run.
 *
 * Bounds: EXT_SEQ_MAX_RUNS runs per key: a new run evicts the least
 * recently seen single view (not counted: one view is no run yet, and busy
 * agents open more than EXT_SEQ_MAX_RUNS customers an hour), else the
 * least recently extended run (counted in cap hits); max_keys keys
 * (expired keys are swept when the map is full; counted when still full).
 * Clock: event time only, from the caller.
 *
 * Persistence: one blob per key under rule key "custos:sequence" (group
 * key = rule key, NUL, agent), state_codec format; swept saved keys are
 * deleted at the next save.
 */
#ifndef CUSTOS_EXT_SEQUENCE_H
#define CUSTOS_EXT_SEQUENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define EXT_SEQ_MAX_RUNS 32
#define EXT_SEQ_KIND "sequence"

struct ext_sequence;

struct ext_seq_params {
	int64_t gap;	     /* largest id step inside a run (>= 1) */
	int min_run;	     /* run length that reports (>= 2) */
	int64_t timespan_ms; /* first to last view of a run */
};

/* NULL on allocation failure.  max_keys >= 1. */
struct ext_sequence *ext_sequence_new(size_t max_keys);
void ext_sequence_free(struct ext_sequence *s);

/* Parses the id of a customer: its trailing digits into *id and a hash of
 * the prefix into *prefix.  -1 when there are no trailing digits or more
 * than 18. */
int ext_sequence_parse_id(const char *customer, size_t len, int64_t *id,
			  uint32_t *prefix);

/* Feeds one view of `customer` at ts to the runs of (rule_key, agent).
 * True when this view makes a run exactly p->min_run long.  Customers
 * without an id change nothing (false). */
bool ext_sequence_step(struct ext_sequence *s, const char *rule_key,
		       const char *agent, size_t agent_len,
		       const char *customer, size_t customer_len, int64_t ts,
		       const struct ext_seq_params *p);

/* Number of refused or evicted entries so far. */
uint64_t ext_sequence_cap_hits(const struct ext_sequence *s);
/* Number of entries lost to allocation failures so far (a run not
 * followed, a swept key the store keeps). */
uint64_t ext_sequence_nomem(const struct ext_sequence *s);
/* Number of keys held. */
size_t ext_sequence_n_keys(const struct ext_sequence *s);

/* Emits the keys changed since the last save (all of them if `all`) and
 * the deletions of swept keys, through fn with rule key
 * "custos:sequence".  0 or -1 (marks kept for the next save). */
int ext_sequence_save(struct ext_sequence *s, bool all, engine_state_fn fn,
		      void *arg);
/* Restores one saved key.  1 restored (or refused by the bound, counted),
 * -1 invalid blob. */
int ext_sequence_restore(struct ext_sequence *s, const void *key,
			 size_t key_len, const void *blob, size_t blob_len);

#endif
