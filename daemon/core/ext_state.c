/*
 * ext_state: per-agent state of the custos extensions (see ext_state.h).
 *
 * Invariants: an agent's `ring` holds its past active days, oldest first,
 * each day at most once, all before `day` (today); `today` holds today's
 * distinct customers.  Ticket assignments older than the largest
 * require_ticket window and first-seen keys older than the largest
 * horizon are swept when the agent's day changes.  Clock: event time only.
 *
 * This file: life cycle, agents and teams, the per-event bookkeeping and
 * suppression; the gates are in ext_state_gate.c, save and restore in
 * ext_state_codec.c (shared declarations: ext_state_int.h).
 */
#include "ext_state.h"

#include "ext_state_int.h"
#include "ext_sequence.h"

#include <stdlib.h>
#include <string.h>

/* ---- life cycle ---- */

void ext_state_agent_free(struct agent *a)
{
	if (a == NULL)
		return;
	free(a->id);
	free(a->team_name);
	ext_map_clear(&a->today);
	ext_map_clear(&a->tickets);
	ext_map_clear(&a->seen);
	free(a);
}

struct agent *ext_state_agent_new(const char *id, size_t len)
{
	struct agent *a = calloc(1, sizeof(*a));

	if (a == NULL || (a->id = strndup(id, len)) == NULL) {
		free(a);
		return NULL;
	}
	a->first_ts = INT64_MAX;
	a->day = NO_DAY;
	a->self_day = NO_DAY;
	ext_map_init(&a->today, MAX_TODAY);
	ext_map_init(&a->tickets, MAX_TICKETS);
	ext_map_init(&a->seen, MAX_SEEN);
	return a;
}

bool ext_state_needed(const struct ruleset *rs)
{
	for (size_t i = 0; i < rs->n_rules; i++)
		if (rs->rules[i]->ext)
			return true;
	return false;
}

struct ext_state *ext_state_new(const struct ruleset *rs, size_t max_agents)
{
	struct ext_state *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL;
	ext_map_init(&x->agents, max_agents);
	ext_map_init(&x->teams, max_agents);
	ext_map_init(&x->suppress, MAX_SUPPRESS);
	ext_map_init(&x->dels, MAX_SUPPRESS);
	x->last_assign_ts = INT64_MIN;
	x->busy = -1;
	for (size_t i = 0; i < rs->n_rules; i++) {
		const struct ext_rule *r = rs->rules[i]->ext;
		if (r && r->require_ticket &&
		    r->ticket_window_ms > x->ticket_window_ms)
			x->ticket_window_ms = r->ticket_window_ms;
		if (r && r->first_seen && r->fs_horizon_ms > x->horizon_ms)
			x->horizon_ms = r->fs_horizon_ms;
		if (r && r->sequence && x->seq == NULL &&
		    (x->seq = ext_sequence_new(max_agents)) == NULL) {
			ext_state_free(x);
			return NULL;
		}
	}
	return x;
}

static void clear_all(struct ext_state *x)
{
	size_t i = 0;
	struct ext_map_entry *en;

	while ((en = ext_map_next(&x->agents, &i)) != NULL)
		ext_state_agent_free(en->ptr);
	i = 0;
	while ((en = ext_map_next(&x->teams, &i)) != NULL) {
		struct team *t = en->ptr;
		free(t->members);
		free(t);
	}
	ext_map_clear(&x->agents);
	ext_map_clear(&x->teams);
	ext_map_clear(&x->suppress);
	ext_map_clear(&x->dels);
	x->cur = NULL;
}

void ext_state_free(struct ext_state *x)
{
	if (x == NULL)
		return;
	clear_all(x);
	ext_sequence_free(x->seq);
	free(x);
}

void ext_state_get_stats(const struct ext_state *x, struct ext_state_stats *s)
{
	*s = x->st;
	s->n_agents = x->agents.n;
	if (x->seq)
		s->n_cap_hits += ext_sequence_cap_hits(x->seq);
	s->n_nomem = ext_state_nomem(x);
}

uint64_t ext_state_nomem(const struct ext_state *x)
{
	return x->st.n_nomem + (x->seq ? ext_sequence_nomem(x->seq) : 0);
}

/* ---- agents and teams ---- */

static void team_join(struct ext_state *x, struct agent *a, const char *name,
		      size_t len)
{
	int created, full;
	struct ext_map_entry *en =
	    ext_map_put(&x->teams, name, len, &created, &full);
	struct team *t;

	if (en == NULL) {
		x->st.n_cap_hits += full;
		x->st.n_nomem += !full;
		return;
	}
	if (created && (en->ptr = calloc(1, sizeof(struct team))) == NULL) {
		ext_map_del(&x->teams, en);
		x->st.n_nomem++;
		return;
	}
	t = en->ptr;
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 16;
		struct agent **m = nc <= MAX_MEMBERS
				       ? realloc(t->members, nc * sizeof(*m))
				       : NULL;
		if (m == NULL) {
			x->st.n_cap_hits += nc > MAX_MEMBERS;
			x->st.n_nomem += nc <= MAX_MEMBERS;
			return;
		}
		t->members = m;
		t->cap = nc;
	}
	t->members[t->n++] = a;
	a->team = t;
	t->cache_day = NO_DAY;
}

void ext_state_team_leave(struct agent *a)
{
	struct team *t = a->team;

	for (size_t i = 0; t && i < t->n; i++)
		if (t->members[i] == a) {
			t->members[i] = t->members[--t->n];
			t->cache_day = NO_DAY;
			break;
		}
	a->team = NULL;
}

/* Sets the agent's team (from the event's `team`) if it changed. */
void ext_state_set_team(struct ext_state *x, struct agent *a, const char *name,
			size_t len)
{
	if (a->team_name && strlen(a->team_name) == len &&
	    memcmp(a->team_name, name, len) == 0)
		return;
	ext_state_team_leave(a);
	free(a->team_name);
	a->team_name = strndup(name, len);
	if (a->team_name)
		team_join(x, a, name, len);
	else
		x->st.n_nomem++;
}

static int expired_before(struct ext_map_entry *en, void *arg)
{
	return en->num < *(const int64_t *)arg;
}

static void ring_push(struct agent *a, struct day_rec rec)
{
	if (a->n_ring == N_RING) {
		memmove(a->ring, a->ring + 1, (N_RING - 1) * sizeof(*a->ring));
		a->n_ring--;
	}
	a->ring[a->n_ring++] = rec;
}

/* The agent's first event of a later day: today becomes history. */
static void roll_day(struct ext_state *x, struct agent *a, int64_t day,
		     int64_t ts)
{
	if (a->day != NO_DAY && (a->today.n > 0 || a->today_slots))
		ring_push(a, (struct day_rec){a->day, (uint32_t)a->today.n,
					      a->today_slots});
	ext_map_clear(&a->today);
	a->today_slots = 0;
	a->day = day;
	int64_t cut = ts - x->ticket_window_ms;
	ext_map_sweep(&a->tickets, expired_before, &cut);
	cut = ts - x->horizon_ms;
	ext_map_sweep(&a->seen, expired_before, &cut);
}

static struct agent *get_agent(struct ext_state *x, const char *id, size_t len)
{
	int created, full;
	struct ext_map_entry *en =
	    ext_map_put(&x->agents, id, len, &created, &full);

	if (en == NULL) {
		x->st.n_cap_hits += full;
		x->st.n_nomem += !full;
		return NULL;
	}
	if (created) {
		struct agent *a = ext_state_agent_new(id, len);
		if (a == NULL) {
			ext_map_del(&x->agents, en);
			x->st.n_nomem++;
			return NULL;
		}
		en->ptr = a;
	}
	return en->ptr;
}

static bool is_ticket_action(const struct event_field *act)
{
	return act && (strcmp(act->value, "ticket_assign") == 0 ||
		       strcmp(act->value, "ticket_close") == 0);
}

static void count(struct ext_state *x, struct ext_map *m, const char *k,
		  size_t len)
{
	int created, full;

	if (ext_map_put(m, k, len, &created, &full) == NULL) {
		x->st.n_cap_hits += full;
		x->st.n_nomem += !full;
	}
}

void ext_state_begin(struct ext_state *x, const struct event *ev)
{
	const struct event_field *ag = event_get(ev, FIELD_AGENT);
	const struct event_field *team = event_get(ev, FIELD_TEAM);
	const struct event_field *cu = event_get(ev, FIELD_CUSTOMER);
	int64_t day = day_of(ev->ts_ms);
	struct agent *a;

	x->cur = NULL;
	x->busy = -1;
	if (ag == NULL || ag->kind == VALUE_NULL)
		return;
	if ((a = get_agent(x, ag->value, ag->value_len)) == NULL)
		return;
	x->cur = a;
	a->flags |= F_DIRTY;
	if (ev->ts_ms < a->first_ts)
		a->first_ts = ev->ts_ms;
	if (team && team->kind == VALUE_STRING)
		ext_state_set_team(x, a, team->value, team->value_len);
	if (a->day == NO_DAY || day > a->day)
		roll_day(x, a, day, ev->ts_ms);
	if (cu && cu->kind != VALUE_NULL && day == a->day &&
	    !is_ticket_action(event_get(ev, FIELD_ACTION)))
		count(x, &a->today, cu->value, cu->value_len);
}

void ext_state_end(struct ext_state *x, const struct event *ev)
{
	struct agent *a = x->cur;
	const struct event_field *cu = event_get(ev, FIELD_CUSTOMER);
	const struct event_field *act = event_get(ev, FIELD_ACTION);
	int created, full;

	x->cur = NULL;
	if (a == NULL)
		return;
	if (day_of(ev->ts_ms) == a->day)
		a->today_slots |= UINT64_C(1) << slot_of(ev->ts_ms);
	if (x->ticket_window_ms == 0 || cu == NULL || cu->kind == VALUE_NULL ||
	    act == NULL || strcmp(act->value, "ticket_assign") != 0)
		return;
	if (ev->ts_ms > x->last_assign_ts)
		x->last_assign_ts = ev->ts_ms;
	struct ext_map_entry *en =
	    ext_map_put(&a->tickets, cu->value, cu->value_len, &created, &full);
	if (en == NULL && full) {
		int64_t cut = ev->ts_ms - x->ticket_window_ms;
		ext_map_sweep(&a->tickets, expired_before, &cut);
		en = ext_map_put(&a->tickets, cu->value, cu->value_len,
				 &created, &full);
	}
	if (en == NULL) {
		x->st.n_cap_hits += full;
		x->st.n_nomem += !full;
		return;
	}
	if (created || ev->ts_ms > en->num)
		en->num = ev->ts_ms;
}

/* ---- suppression ---- */

struct sweep_ctx {
	struct ext_state *x;
	int64_t now;
};

/* Expired suppression entries go; the store forgets saved ones. */
static int suppress_expired(struct ext_map_entry *en, void *arg)
{
	struct sweep_ctx *c = arg;
	int created, full;

	if (en->num > c->now)
		return 0;
	if ((eflags(en) & F_SAVED) &&
	    ext_map_put(&c->x->dels, ext_map_key(en), en->key_len, &created,
			&full) == NULL) {
		c->x->st.n_cap_hits += full;
		c->x->st.n_nomem += !full;
	}
	return 1;
}

bool ext_state_suppressed(struct ext_state *x, const char *rule_key,
			  const char *gkey, size_t gkey_len, int64_t ts,
			  int64_t suppress_ms)
{
	size_t rl = strlen(rule_key), len = rl + 1 + gkey_len;
	char *k = malloc(len + 1);
	int created, full;

	if (k == NULL) {
		x->st.n_nomem++;
		return false;
	}
	memcpy(k, rule_key, rl + 1);
	memcpy(k + rl + 1, gkey, gkey_len);
	struct ext_map_entry *en = ext_map_find(&x->suppress, k, len);
	if (en && ts < en->num) {
		free(k);
		return true;
	}
	if (en == NULL && x->suppress.n >= x->suppress.max) {
		struct sweep_ctx c = {x, ts};
		ext_map_sweep(&x->suppress, suppress_expired, &c);
	}
	en = ext_map_put(&x->suppress, k, len, &created, &full);
	free(k);
	if (en == NULL) {
		x->st.n_cap_hits += full;
		x->st.n_nomem += !full;
		return false;
	}
	en->num = ts + suppress_ms;
	en->ptr = (void *)(intptr_t)(eflags(en) | F_DIRTY);
	if (created) {
		struct ext_map_entry *d =
		    ext_map_find(&x->dels, ext_map_key(en), len);
		if (d)
			ext_map_del(&x->dels, d);
	}
	return false;
}

void ext_state_transfer(struct ext_state *from, struct ext_state *to)
{
	struct ext_state tmp;

	clear_all(to);
	tmp = *to;
	to->agents = from->agents;
	to->teams = from->teams;
	to->suppress = from->suppress;
	to->dels = from->dels;
	to->st = from->st;
	to->last_assign_ts = from->last_assign_ts;
	from->agents = tmp.agents;
	from->teams = tmp.teams;
	from->suppress = tmp.suppress;
	from->dels = tmp.dels;
	memset(&from->st, 0, sizeof(from->st));
	if (from->seq && to->seq) {
		struct ext_sequence *s = to->seq;
		to->seq = from->seq;
		from->seq = s;
	}
}

void ext_state_set_agentdir(struct ext_state *x, const struct agentdir *dir)
{
	x->dir = dir;
}
