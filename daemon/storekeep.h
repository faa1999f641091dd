/*
 * storekeep: custosd's duties toward the store's analyst side (store v3):
 *
 *   - suppressions: storekeep_filter() is the pipeline's alert filter: an
 *     alert whose (rule id, event agent, event time) a suppression covers
 *     (store_suppressed) is held back from the sinks and counted; the
 *     checkpoint stores it as resolved (checkpoint.h).  A lookup error lets
 *     the alert through (an alert too many beats one lost) and is counted.
 *     The lookup runs outside any transaction (alerts are raised between
 *     checkpoints), so it sees every suppression committed by `custos
 *     alerts resolve --suppress` at once;
 *   - retained access events: storekeep_on_event() is the pipeline's event
 *     hook, copying each event into the retain buffer the checkpoint
 *     writes (retain.h), when retention.access_events is on;
 *   - seals: storekeep_seal() records the chain head in its own
 *     transaction and, once committed, logs "custos: seal seq=N head=HEX"
 *     at LOG_NOTICE and queues the same line to the syslog sink (the
 *     outside witness a rewrite of the whole store cannot reach);
 *   - retention: storekeep_purge() runs store_purge with retention.max_age
 *     and retention.max_events (secure delete; the chain stays
 *     verifiable).
 *
 * Ownership: borrows the store, the config and the sink (may be NULL);
 * owns the retain buffer.  Clock: callers pass the wall clock (ms since
 * the epoch) for seals and purge cut-offs, CLOCK_MONOTONIC for ages shown
 * in the status.
 */
#ifndef CUSTOS_STOREKEEP_H
#define CUSTOS_STOREKEEP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "alert.h"
#include "config.h"
#include "event.h"
#include "retain.h"
#include "sink_syslog.h"
#include "store.h"

struct storekeep {
	struct store *store;	  /* borrowed */
	struct store *lookup;	  /* borrowed, may be NULL: suppression lookups'
				   * connection (custosd's loop thread) */
	const struct config *cfg; /* borrowed; the current config */
	struct sink_syslog *sink; /* borrowed, may be NULL */
	struct retain *retain;	  /* owned; NULL when not retaining */
	uint64_t n_suppressed;	  /* alerts held back from the sinks */
	uint64_t n_suppress_errors;  /* lookups that failed */
	int64_t n_events_in_store;   /* at the last count (start, purge) */
	uint64_t n_written_at_count; /* retain's n_written then */
	uint64_t n_seals, n_seal_failures;
	int64_t last_seal_seq; /* -1: none by this process */
	char last_seal_head[CHAIN_HEX_LEN + 1];
	int64_t last_seal_mono_ms;
	uint64_t n_purges, n_purge_failures;
	struct store_purge_counts purged; /* totals */
	int64_t last_purge_mono_ms;
};

/* Sets k up for store and cfg (retain buffer when cfg->retention.
 * access_events).  0, or -1 with err (out of memory, store error). */
int storekeep_init(struct storekeep *k, struct store *store,
		   const struct config *cfg, char *err, size_t err_size);
void storekeep_clear(struct storekeep *k);

/* pipeline_filter_fn: true when a suppression covers a (arg: k). */
bool storekeep_filter(void *arg, const struct alert *a);

/* pipeline_event_fn: retains ev (arg: k). */
void storekeep_on_event(void *arg, const struct event *ev);

/* Seals the chain head at wall_ms in a transaction of its own, then logs
 * it (see above).  0, or -1 (logged, counted). */
int storekeep_seal(struct storekeep *k, int64_t wall_ms, int64_t mono_ms);

/* Purges by the retention config at wall_ms (nothing when max_age and
 * max_events are both 0).  0, or -1 (logged, counted). */
int storekeep_purge(struct storekeep *k, int64_t wall_ms, int64_t mono_ms);

/* The "store" object of `custos status`: suppressed alerts, access events
 * retained, last seal, purges. */
json_t *storekeep_status(const struct storekeep *k, int64_t mono_ms);

#endif
