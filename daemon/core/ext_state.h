/*
 * ext_state: the engine-side state of the custos rule extensions
 * (ext_rule.h) — per agent: ticket assignments (agent x customer -> last
 * ticket_assign time), first-seen keys, today's distinct customers and a
 * ring of past active days (distinct customers, worked half-hour slots);
 * per team: its members (peer baselines are computed from their rings);
 * per rule + group: alert suppression.
 *
 * The engine calls, per event: ext_state_begin() (rolls the agent's day,
 * counts the customer), then ext_state_gate() for each detection rule with
 * gates whose detection matched, then ext_state_end() (records ticket
 * assignments and the worked slot).  A gate sees the history before the
 * event.  Days are UTC days of event time; nothing reads the clock.
 * The off_shift gate of an agent with a roster in the agent directory
 * (ext_state_set_agentdir()) uses the roster, in the agent's local time,
 * instead of the learned (UTC) slots.
 *
 * Bounds (counted in n_cap_hits): agents (max_agents), tickets per agent,
 * first-seen keys per agent, distinct customers per agent-day, suppression
 * entries, members per team.  Expired entries are swept at day changes.
 *
 * Persistence: per agent under rule key "custos:agent" (group key = the
 * agent id), suppression entries under "custos:suppress" (group key =
 * rule key, NUL, group key), sequence runs under "custos:sequence"
 * (ext_sequence.h); blobs in the state_codec format.  Team
 * membership is rebuilt from restored agents.
 */
#ifndef CUSTOS_EXT_STATE_H
#define CUSTOS_EXT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "event.h"
#include "rules.h"

#define EXT_STATE_PREFIX "custos:"

struct ext_state;

struct ext_state_stats {
	uint64_t n_cap_hits; /* a bound refused an entry */
	uint64_t n_nomem;    /* an entry lost to an allocation failure */
	size_t n_agents;
};

/* NULL on allocation failure.  Reads the rules' extensions for the
 * largest ticket window / first-seen horizon. */
struct ext_state *ext_state_new(const struct ruleset *rs, size_t max_agents);
void ext_state_free(struct ext_state *x);

/* True when some rule of rs needs ext_state (gates or suppression). */
bool ext_state_needed(const struct ruleset *rs);

void ext_state_begin(struct ext_state *x, const struct event *ev);
/* True if the event passes every gate of rule r (call after its detection
 * matched).  First-seen keys are recorded here. */
bool ext_state_gate(struct ext_state *x, const struct rule *r,
		    const struct event *ev);
void ext_state_end(struct ext_state *x, const struct event *ev);

/* Suppression: true if (rule key, group key) alerted less than
 * suppress_ms before ts (then the caller raises nothing); otherwise
 * records ts as the last alert and returns false. */
bool ext_state_suppressed(struct ext_state *x, const char *rule_key,
			  const char *gkey, size_t gkey_len, int64_t ts,
			  int64_t suppress_ms);

void ext_state_get_stats(const struct ext_state *x, struct ext_state_stats *s);

/* The n_nomem of the stats (cheap: the engine reads it around every
 * event, to report an event whose extension state is incomplete). */
uint64_t ext_state_nomem(const struct ext_state *x);

/* Emits changed entries (all of them if `all`), then clears the marks
 * after fn succeeded for each.  0 or -1. */
int ext_state_save(struct ext_state *x, bool all, engine_state_fn fn,
		   void *arg);
/* Restores one saved entry (rule key starts with "custos:").  1 restored,
 * 0 unknown kind (stale), -1 invalid blob. */
int ext_state_restore(struct ext_state *x, const char *rule_key,
		      const void *key, size_t key_len, const void *blob,
		      size_t blob_len);
/* Moves all state from `from` to `to` (reload). */
void ext_state_transfer(struct ext_state *from, struct ext_state *to);

/* Robust statistics over v[0..n) (sorted in place): median and MAD. */
double ext_median(double *v, size_t n);
double ext_mad(double *v, size_t n, double median);
/* The p-quantile (0..1, nearest rank) of v (sorted in place). */
double ext_quantile(double *v, size_t n, double p);

struct agentdir;

/* The agent directory whose rosters the off_shift gate uses (agents with a
 * roster: their shift in their time zone; others: learned hours).  dir is
 * borrowed and must outlive x (or be replaced); NULL: learned hours only. */
void ext_state_set_agentdir(struct ext_state *x, const struct agentdir *dir);

#endif
