/*
 * engine: evaluates a ruleset over a stream of events in event time.
 *
 * For each event every detection rule is matched; a match raises an alert
 * (when the rule generates alerts) and is fed to the correlations that use
 * the rule.  Correlation windows slide in event time: a correlation fires at
 * the first event at which its condition holds over (t - timespan, t].  The
 * engine never reads the clock; time advances only with event timestamps,
 * so replaying a log yields exactly the alerts the live run did.
 *
 * All state is bounded by struct engine_limits; hitting a limit is counted in
 * struct engine_stats, never silent.  The engine borrows the ruleset (which
 * must outlive it) and the events (only during engine_process()).
 */
#ifndef CUSTOS_ENGINE_H
#define CUSTOS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "event.h"
#include "rules.h"

struct engine_limits {
	size_t max_groups;	  /* per correlation rule */
	size_t max_window_events; /* entries kept per group window */
	size_t max_distinct;	  /* distinct values per group window */
	size_t evidence_sample;	  /* events kept as evidence per group */
	int64_t max_lateness_ms;  /* events older than the newest seen by more
				     than this are counted and skipped by
				     correlations */
};

/* Defaults used when a config says nothing. */
void engine_limits_default(struct engine_limits *lim);

struct engine_stats {
	uint64_t n_events;
	uint64_t n_detection_matches;
	uint64_t n_alerts;
	uint64_t n_late_events;
	uint64_t n_groups_evicted;    /* max_groups reached */
	uint64_t n_window_overflow;   /* max_window_events reached */
	uint64_t n_distinct_overflow; /* max_distinct reached */
	size_t n_groups;	      /* live groups, all correlations */
	uint64_t n_non_numeric;	      /* value_sum/avg inputs whose field is
					 missing or not a number: skipped */
	uint64_t n_nomem;	      /* allocation failures (an event then
					 is only partly evaluated) */
	uint64_t n_state_rejected;    /* saved state blobs refused */
	uint64_t n_ext_cap_hits;      /* a bound of the custos extensions'
					 state refused an entry */
	uint64_t n_suppressed;	      /* alerts withheld by custos.suppress */
	uint64_t n_re_limit; /* regex evaluations stopped by the match or
				depth limit (match.h): taken as no match */
	size_t n_unshared;   /* detection units evaluated unshared: the
				index's memo slots ran out (rule_index.h) */
};

/* Called for every alert.  The alert is valid only during the call; the
 * callee copies what it keeps. */
typedef void (*engine_alert_fn)(const struct alert *a, void *arg);

struct engine *engine_new(const struct ruleset *rs,
			  const struct engine_limits *lim,
			  engine_alert_fn on_alert, void *arg);
void engine_free(struct engine *e);

/* Evaluates one event.  Returns 0, or -1 on allocation failure (the event
 * is then only partly evaluated, which is counted). */
int engine_process(struct engine *e, const struct event *ev);

/* End of input: closes every open window, firing the correlations whose
 * lt/lte condition holds at window close. */
void engine_finish(struct engine *e);

void engine_get_stats(const struct engine *e, struct engine_stats *out);

/* Hits per rule (indexed like ruleset.rules); n entries. */
const uint64_t *engine_rule_hits(const struct engine *e, size_t *n);

/* ---- persistent state (checkpoints) ----
 *
 * The daemon saves engine state in the same store transaction as the
 * alerts and input offsets it corresponds to, so a restart resumes exactly.
 * State is saved per (rule key, group key): only groups changed since the
 * last save are written.  The rule key names the rule and a hash of its
 * compiled definition, so state of a rule whose definition changed is
 * never restored into the new definition.  The engine's own scalars (the
 * event-time watermark, counters) travel under the rule key "" .
 * Blobs are a versioned, self-checking binary encoding; a blob that does
 * not decode is refused (counted), never trusted. */

/* Called once per changed group: blob == NULL means the group is gone
 * (delete it).  Return 0 to go on, -1 to stop (the save then fails and the
 * changes stay marked for the next save). */
typedef int (*engine_state_fn)(void *arg, const char *rule_key,
			       const void *group_key, size_t group_key_len,
			       const void *blob, size_t blob_len);

/* Emits every group changed since the last successful save, then clears
 * the change marks.  Returns 0, or -1 if fn failed or memory ran out. */
int engine_save_changes(struct engine *e, engine_state_fn fn, void *arg);

/* Emits every group (a full snapshot), e.g. after a reload. */
int engine_save_all(struct engine *e, engine_state_fn fn, void *arg);

/* Restores one saved group.  Returns 1 if restored, 0 if the rule key
 * matches no rule of this engine (stale state: the caller deletes it), -1
 * if the blob is invalid (counted in n_state_rejected). */
int engine_restore_group(struct engine *e, const char *rule_key,
			 const void *group_key, size_t group_key_len,
			 const void *blob, size_t blob_len);

/* Reload: moves the windows of every rule whose rule key is unchanged from
 * `from` to `to` (same definition => same state); `from` is then empty.
 * The watermark and counters move too. */
int engine_transfer(struct engine *from, struct engine *to);

struct agentdir;

/* Lets the off_shift extension use the rosters of the agent directory dir
 * (borrowed: it must outlive e; NULL: learned hours only).  Call before the
 * first event. */
void engine_set_agentdir(struct engine *e, const struct agentdir *dir);

#endif
