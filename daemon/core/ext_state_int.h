/*
 * ext_state_int: the private state of the custos extensions, shared by
 * ext_state.c (life cycle, agents and teams, per-event bookkeeping,
 * suppression), ext_state_gate.c (the gates and their statistics) and
 * ext_state_codec.c (save and restore).  Not part of the public interface
 * (ext_state.h).  Clock: event time only.
 */
#ifndef CUSTOS_EXT_STATE_INT_H
#define CUSTOS_EXT_STATE_INT_H

#include "ext_state.h"

#include "ext_map.h"
#include "ext_rule.h"

#include <stdbool.h>
#include <stdint.h>

#define DAY_MS INT64_C(86400000)
#define SLOT_MS INT64_C(1800000)
#define N_SLOTS 48
#define N_RING EXT_MAX_DAYS
#define MAX_TICKETS 8192
#define MAX_SEEN 512
#define MAX_TODAY 10000
#define MAX_SUPPRESS 100000
#define MAX_MEMBERS 512
#define BASE_DAYS 28 /* history used by baselines */
#define BUSY_RATIO 1.5
#define CODEC_VERSION 1
#define MAX_BLOB ((size_t)64 << 20)
#define NO_DAY INT64_MIN
#define F_DIRTY 1
#define F_SAVED 2

struct day_rec {
	int64_t day;
	uint32_t n;	/* distinct customers */
	uint64_t slots; /* worked half-hour slots (UTC) */
};

struct team;

struct agent {
	char *id, *team_name;
	struct team *team;
	int64_t first_ts, day;
	struct ext_map today, tickets, seen;
	uint64_t today_slots;
	struct day_rec ring[N_RING];
	size_t n_ring;
	int flags;
	int64_t self_day; /* cache of the self threshold */
	double self_thr;
	bool self_ok;
};

struct team {
	struct agent **members;
	size_t n, cap;
	int64_t cache_day;
	double p_hi, median;
	bool ok;
};

struct ext_state {
	struct ext_map agents;	 /* id -> struct agent */
	struct ext_map teams;	 /* name -> struct team */
	struct ext_map suppress; /* rule key NUL group key -> last alert */
	struct ext_map dels;	 /* saved suppression entries removed */
	int64_t ticket_window_ms, horizon_ms;
	int64_t last_assign_ts; /* any agent's; INT64_MIN: none yet */
	struct ext_state_stats st;
	struct agent *cur;
	int busy; /* team_busy() of cur for this event; -1: not known */
	struct ext_sequence *seq;   /* NULL: no sequence rule */
	const struct agentdir *dir; /* rosters (borrowed), or NULL */
};

static inline int64_t day_of(int64_t ts)
{
	return ts >= 0 ? ts / DAY_MS : -((-ts + DAY_MS - 1) / DAY_MS);
}

static inline int slot_of(int64_t ts)
{
	return (int)((ts - day_of(ts) * DAY_MS) / SLOT_MS);
}

/* Flags of a suppression entry (F_DIRTY, F_SAVED), kept in its ptr. */
static inline int eflags(const struct ext_map_entry *en)
{
	return (int)(intptr_t)en->ptr;
}

/* ---- ext_state.c ---- */

/* A new agent with empty maps (bounded by MAX_TODAY, MAX_TICKETS,
 * MAX_SEEN), or NULL on allocation failure. */
struct agent *ext_state_agent_new(const char *id, size_t len);
/* Frees a and its maps (it does not leave its team); NULL: no-op. */
void ext_state_agent_free(struct agent *a);
/* Removes a from its team, if any. */
void ext_state_team_leave(struct agent *a);
/* Sets the agent's team (name[0..len)) if it changed. */
void ext_state_set_team(struct ext_state *x, struct agent *a, const char *name,
			size_t len);

#endif
