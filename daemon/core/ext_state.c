/*
 * ext_state: per-agent state of the custos extensions (see ext_state.h).
 *
 * Invariants: an agent's `ring` holds its past active days, oldest first,
 * each day at most once, all before `day` (today); `today` holds today's
 * distinct customers.  Ticket assignments older than the largest
 * require_ticket window and first-seen keys older than the largest
 * horizon are swept when the agent's day changes.  Clock: event time only.
 */
#include "ext_state.h"

#include "agentdir.h"
#include "ext_map.h"
#include "ext_rule.h"
#include "ext_sequence.h"
#include "roster.h"
#include "state_codec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
	struct ext_sequence *seq; /* NULL: no sequence rule */
	const struct agentdir *dir; /* rosters (borrowed), or NULL */
};

static int64_t day_of(int64_t ts)
{
	return ts >= 0 ? ts / DAY_MS : -((-ts + DAY_MS - 1) / DAY_MS);
}

static int slot_of(int64_t ts)
{
	return (int)((ts - day_of(ts) * DAY_MS) / SLOT_MS);
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double ext_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double ext_mad(double *v, size_t n, double median)
{
	for (size_t i = 0; i < n; i++)
		v[i] = fabs(v[i] - median);
	return ext_median(v, n);
}

double ext_quantile(double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	size_t k = (size_t)ceil(p * (double)n);
	return v[k ? k - 1 : 0];
}

/* ---- life cycle ---- */

static void agent_free(struct agent *a)
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

static struct agent *agent_new(const char *id, size_t len)
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
		agent_free(en->ptr);
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
		return;
	}
	if (created && (en->ptr = calloc(1, sizeof(struct team))) == NULL) {
		ext_map_del(&x->teams, en);
		return;
	}
	t = en->ptr;
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 16;
		struct agent **m = nc <= MAX_MEMBERS
				       ? realloc(t->members, nc * sizeof(*m))
				       : NULL;
		if (m == NULL) {
			x->st.n_cap_hits++;
			return;
		}
		t->members = m;
		t->cap = nc;
	}
	t->members[t->n++] = a;
	a->team = t;
	t->cache_day = NO_DAY;
}

static void team_leave(struct agent *a)
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
static void set_team(struct ext_state *x, struct agent *a, const char *name,
		     size_t len)
{
	if (a->team_name && strlen(a->team_name) == len &&
	    memcmp(a->team_name, name, len) == 0)
		return;
	team_leave(a);
	free(a->team_name);
	a->team_name = strndup(name, len);
	if (a->team_name)
		team_join(x, a, name, len);
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
		return NULL;
	}
	if (created) {
		struct agent *a = agent_new(id, len);
		if (a == NULL) {
			ext_map_del(&x->agents, en);
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

	if (ext_map_put(m, k, len, &created, &full) == NULL)
		x->st.n_cap_hits += full;
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
		set_team(x, a, team->value, team->value_len);
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
		return;
	}
	if (created || ev->ts_ms > en->num)
		en->num = ev->ts_ms;
}

/* ---- gates ---- */

/* A stream without ticket assignments (none within the window, by any
 * agent) cannot justify anything: the gate then stays closed rather than
 * flag every access. */
static bool gate_ticket(const struct ext_state *x, const struct agent *a,
			const struct ext_rule *r, const struct event *ev)
{
	const struct event_field *cu = event_get(ev, FIELD_CUSTOMER);

	if (cu == NULL || cu->kind == VALUE_NULL ||
	    x->last_assign_ts == INT64_MIN ||
	    ev->ts_ms - x->last_assign_ts > r->ticket_window_ms)
		return false;
	const struct ext_map_entry *en =
	    ext_map_find(&a->tickets, cu->value, cu->value_len);
	return !(en && en->num <= ev->ts_ms &&
		 ev->ts_ms - en->num <= r->ticket_window_ms);
}

static bool gate_first_seen(struct ext_state *x, struct agent *a,
			    const struct ext_rule *r, const struct event *ev)
{
	char key[512];
	size_t at = 0;
	int created, full;

	for (size_t i = 0; i < r->n_fs_by; i++) {
		const struct event_field *f = event_get(ev, r->fs_ids[i]);
		const char *v = f ? f->value : "";
		int n = snprintf(key + at, sizeof(key) - at, "%s=%s\x1f",
				 r->fs_by[i], v);
		if (n < 0 || (size_t)n >= sizeof(key) - at)
			return false; /* too long to be a category */
		at += (size_t)n;
	}
	struct ext_map_entry *en =
	    ext_map_put(&a->seen, key, at, &created, &full);
	if (en == NULL) {
		x->st.n_cap_hits += full;
		return false;
	}
	bool first = created || ev->ts_ms - en->num > r->fs_horizon_ms;
	if (created || ev->ts_ms > en->num)
		en->num = ev->ts_ms;
	return first && ev->ts_ms - a->first_ts >= r->fs_min_history_ms;
}

/* The agent's roster decides when it has one; else its learned hours. */
static bool gate_off_shift(const struct ext_state *x, const struct agent *a,
			   const struct ext_rule *r, const struct event *ev)
{
	const struct roster *ro = agentdir_roster(x->dir, a->id, strlen(a->id));
	uint64_t known = 0;
	int n_days = 0;

	if (ro)
		return !roster_on_shift(ro, ev->ts_ms, r->roster_margin_ms);
	for (size_t i = 0; i < a->n_ring; i++)
		if (a->ring[i].day >= a->day - r->shift_days &&
		    a->ring[i].day < a->day) {
			known |= a->ring[i].slots;
			n_days++;
		}
	if (n_days < r->shift_min_days)
		return false;
	int s = slot_of(ev->ts_ms);
	int m = (int)((r->shift_margin_ms + SLOT_MS - 1) / SLOT_MS);
	for (int d = -m; d <= m; d++)
		if (known & (UINT64_C(1) << ((s + d + N_SLOTS) % N_SLOTS)))
			return false;
	return true;
}

/* Customers per active day of agent a in the last BASE_DAYS, into v. */
static size_t history(const struct agent *a, int64_t today, double *v,
		      size_t cap, size_t n)
{
	for (size_t i = 0; i < a->n_ring && n < cap; i++)
		if (a->ring[i].n > 0 && a->ring[i].day >= today - BASE_DAYS &&
		    a->ring[i].day < today)
			v[n++] = a->ring[i].n;
	return n;
}

/* The team's median and p99 of agent-days (cached per day); needs
 * min_samples agent-days. */
static void team_stats(struct team *t, int64_t today, size_t min_samples)
{
	size_t cap = t->n * N_RING, n = 0;
	double *v;

	if (t->cache_day == today)
		return;
	t->cache_day = today;
	t->ok = false;
	if (cap == 0 || (v = malloc(cap * sizeof(*v))) == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		n = history(t->members[i], today, v, cap, n);
	if (n >= min_samples) {
		t->median = ext_median(v, n);
		t->p_hi = ext_quantile(v, n, 0.99);
		t->ok = true;
	}
	free(v);
}

/* True on a day when the whole team is busy: the median of the
 * team-mates' distinct customers so far today exceeds BUSY_RATIO times
 * their usual median.  Baselines are not applied then.
 *
 * Runs on every gated event, so it does not sort: the median of the
 * sorted counts v[0..n) is above thr iff enough counts are; at the odd/even
 * boundary the two middle values are the largest count <= thr and the
 * smallest count > thr, and their mean is compared as ext_median() would
 * compute it (counts are small integers, so every sum is exact). */
static bool team_busy(const struct agent *a, struct team *t)
{
	double thr = BUSY_RATIO * t->median, lo = -INFINITY, hi = INFINITY;
	size_t n = 0, n_gt = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct agent *m = t->members[i];
		if (m == a || m->day != a->day || m->today.n == 0)
			continue;
		double v = (double)m->today.n;
		n++;
		if (v > thr) {
			n_gt++;
			hi = v < hi ? v : hi;
		} else {
			lo = v > lo ? v : lo;
		}
	}
	if (n < 3)
		return false;
	size_t first_gt = n - n_gt; /* sorted index of the smallest > thr */
	if (n % 2)
		return n / 2 >= first_gt;
	if (n / 2 - 1 >= first_gt)
		return true;
	if (n / 2 < first_gt)
		return false;
	return (lo + hi) / 2 > thr;
}

static bool gate_self(const struct ext_rule *r, struct agent *a)
{
	double v[N_RING];

	if (a->self_day != a->day) {
		size_t n = history(a, a->day, v, N_RING, 0);
		a->self_day = a->day;
		a->self_ok = n >= (size_t)r->bl_min_days;
		double med = ext_median(v, n);
		double mad = ext_mad(v, n, med);
		a->self_thr =
		    fmax(med + r->bl_z * 1.4826 * mad, r->bl_ratio * med);
	}
	return a->self_ok && (double)a->today.n > a->self_thr;
}

/* team_busy() for the current event: the team's counts and median do
 * not change between the gates of one event, so it is computed once. */
static bool cur_team_busy(struct ext_state *x, struct agent *a, struct team *t)
{
	if (x->busy < 0)
		x->busy = team_busy(a, t);
	return x->busy;
}

static bool gate_baseline(struct ext_state *x, const struct ext_rule *r,
			  struct agent *a)
{
	struct team *t = a->team;

	if (t)
		team_stats(t, a->day, (size_t)r->bl_min_days);
	if (t && t->ok && cur_team_busy(x, a, t))
		return false;
	if (r->baseline == EXT_BASELINE_SELF)
		return gate_self(r, a);
	if (!(t && t->ok && (double)a->today.n > t->p_hi &&
	      (double)a->today.n >= r->bl_ratio * t->median))
		return false;
	/* the previous consecutive - 1 active days (within a week) too */
	for (int k = 1; k < r->bl_consecutive; k++) {
		size_t i = a->n_ring;
		if (i < (size_t)k)
			return false;
		const struct day_rec *d = &a->ring[i - (size_t)k];
		if (d->day < a->day - 7 * k || (double)d->n <= t->p_hi)
			return false;
	}
	return true;
}

/* Sequence runs record every matched view, whatever the other gates say. */
static bool gate_sequence(struct ext_state *x, const struct agent *a,
			  const struct rule *r, const struct event *ev)
{
	const struct ext_rule *xr = r->ext;
	const struct event_field *cu = event_get(ev, FIELD_CUSTOMER);
	const char *rk = r->id ? r->id : r->name ? r->name : r->title;
	struct ext_seq_params p = {xr->seq_gap, xr->seq_min_run,
				   xr->seq_timespan_ms};

	if (x->seq == NULL || cu == NULL || cu->kind == VALUE_NULL)
		return false;
	return ext_sequence_step(x->seq, rk, a->id, strlen(a->id), cu->value,
				 cu->value_len, ev->ts_ms, &p);
}

bool ext_state_gate(struct ext_state *x, const struct rule *r,
		    const struct event *ev)
{
	const struct ext_rule *xr = r->ext;
	struct agent *a = x->cur;
	bool pass = true;

	if (!ext_rule_has_gate(xr))
		return true;
	if (a == NULL)
		return false;
	/* first-seen records even when another gate fails */
	if (xr->first_seen)
		pass = gate_first_seen(x, a, xr, ev);
	if (xr->sequence)
		pass = gate_sequence(x, a, r, ev) && pass;
	if (pass && xr->require_ticket)
		pass = gate_ticket(x, a, xr, ev);
	if (pass && xr->off_shift)
		pass = gate_off_shift(x, a, xr, ev);
	if (pass && xr->baseline != EXT_BASELINE_NONE)
		pass = gate_baseline(x, xr, a);
	return pass;
}

/* ---- suppression ---- */

struct sweep_ctx {
	struct ext_state *x;
	int64_t now;
};

static int eflags(const struct ext_map_entry *en)
{
	return (int)(intptr_t)en->ptr;
}

/* Expired suppression entries go; the store forgets saved ones. */
static int suppress_expired(struct ext_map_entry *en, void *arg)
{
	struct sweep_ctx *c = arg;
	int created, full;

	if (en->num > c->now)
		return 0;
	if ((eflags(en) & F_SAVED) &&
	    ext_map_put(&c->x->dels, en->key, en->key_len, &created, &full) ==
		NULL)
		c->x->st.n_cap_hits += full;
	return 1;
}

bool ext_state_suppressed(struct ext_state *x, const char *rule_key,
			  const char *gkey, size_t gkey_len, int64_t ts,
			  int64_t suppress_ms)
{
	size_t rl = strlen(rule_key), len = rl + 1 + gkey_len;
	char *k = malloc(len + 1);
	int created, full;

	if (k == NULL)
		return false;
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
		return false;
	}
	en->num = ts + suppress_ms;
	en->ptr = (void *)(intptr_t)(eflags(en) | F_DIRTY);
	if (created) {
		struct ext_map_entry *d = ext_map_find(&x->dels, en->key, len);
		if (d)
			ext_map_del(&x->dels, d);
	}
	return false;
}

/* ---- persistence ---- */

static void put_map(struct codec_writer *w, const struct ext_map *m)
{
	size_t i = 0;
	struct ext_map_entry *en;

	codec_put_u64(w, m->n);
	while ((en = ext_map_next(m, &i)) != NULL) {
		codec_put_bytes(w, en->key, en->key_len);
		codec_put_i64(w, en->num);
	}
}

static unsigned char *encode_agent(const struct agent *a, size_t *len)
{
	struct codec_writer w;

	codec_writer_init(&w, MAX_BLOB, CODEC_VERSION);
	codec_put_u8(&w, 'A');
	codec_put_str(&w, a->team_name);
	codec_put_i64(&w, a->first_ts);
	codec_put_i64(&w, a->day);
	codec_put_u64(&w, a->today_slots);
	codec_put_u64(&w, a->n_ring);
	for (size_t i = 0; i < a->n_ring; i++) {
		codec_put_i64(&w, a->ring[i].day);
		codec_put_u64(&w, a->ring[i].n);
		codec_put_u64(&w, a->ring[i].slots);
	}
	put_map(&w, &a->today);
	put_map(&w, &a->tickets);
	put_map(&w, &a->seen);
	return codec_writer_finish(&w, len);
}

static int emit(engine_state_fn fn, void *arg, const char *kind,
		const char *key, size_t key_len, unsigned char *blob,
		size_t len)
{
	char rk[64];

	snprintf(rk, sizeof(rk), "%s%s", EXT_STATE_PREFIX, kind);
	int rc = fn(arg, rk, key, key_len, blob, len);
	free(blob);
	return rc < 0 ? -1 : 0;
}

static int save_agents(struct ext_state *x, bool all, engine_state_fn fn,
		       void *arg)
{
	size_t i = 0, len = 0;
	struct ext_map_entry *en;

	while ((en = ext_map_next(&x->agents, &i)) != NULL) {
		struct agent *a = en->ptr;
		if (!all && !(a->flags & F_DIRTY))
			continue;
		unsigned char *blob = encode_agent(a, &len);
		if (blob == NULL ||
		    emit(fn, arg, "agent", en->key, en->key_len, blob, len) < 0)
			return -1;
	}
	return 0;
}

static int save_suppress(struct ext_state *x, bool all, engine_state_fn fn,
			 void *arg)
{
	size_t i = 0, len = 0;
	struct ext_map_entry *en;

	while ((en = ext_map_next(&x->dels, &i)) != NULL)
		if (emit(fn, arg, "suppress", en->key, en->key_len, NULL, 0) <
		    0)
			return -1;
	i = 0;
	while ((en = ext_map_next(&x->suppress, &i)) != NULL) {
		if (!all && !(eflags(en) & F_DIRTY))
			continue;
		struct codec_writer w;
		codec_writer_init(&w, MAX_BLOB, CODEC_VERSION);
		codec_put_u8(&w, 'S');
		codec_put_i64(&w, en->num);
		unsigned char *blob = codec_writer_finish(&w, &len);
		if (blob == NULL || emit(fn, arg, "suppress", en->key,
					 en->key_len, blob, len) < 0)
			return -1;
	}
	return 0;
}

int ext_state_save(struct ext_state *x, bool all, engine_state_fn fn, void *arg)
{
	size_t i = 0;
	struct ext_map_entry *en;

	if (save_agents(x, all, fn, arg) < 0 ||
	    save_suppress(x, all, fn, arg) < 0 ||
	    (x->seq && ext_sequence_save(x->seq, all, fn, arg) < 0))
		return -1;
	while ((en = ext_map_next(&x->agents, &i)) != NULL)
		((struct agent *)en->ptr)->flags = F_SAVED;
	i = 0;
	while ((en = ext_map_next(&x->suppress, &i)) != NULL)
		en->ptr = (void *)(intptr_t)F_SAVED;
	ext_map_clear(&x->dels);
	return 0;
}

static int get_map(struct codec_reader *r, struct ext_map *m)
{
	uint64_t n = codec_get_u64(r);
	int created, full;

	if (r->failed || n > m->max || n > codec_remaining(r))
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		size_t len = 0;
		const char *k = codec_get_bytes(r, &len, 4096);
		int64_t v = codec_get_i64(r);
		if (r->failed || k == NULL)
			return -1;
		struct ext_map_entry *en =
		    ext_map_put(m, k, len, &created, &full);
		if (en == NULL || !created)
			return -1;
		en->num = v;
	}
	return 0;
}

static int decode_agent(struct codec_reader *r, struct agent *a,
			const char **team, size_t *team_len)
{
	bool present = false;

	if (codec_get_u8(r) != 'A')
		return -1;
	*team = codec_get_str(r, team_len, 4096, &present);
	if (!present)
		*team = NULL;
	a->first_ts = codec_get_i64(r);
	a->day = codec_get_i64(r);
	a->today_slots = codec_get_u64(r);
	uint64_t n = codec_get_u64(r);
	if (r->failed || n > N_RING)
		return -1;
	for (size_t i = 0; i < n; i++) {
		a->ring[i].day = codec_get_i64(r);
		a->ring[i].n = (uint32_t)codec_get_u64(r);
		a->ring[i].slots = codec_get_u64(r);
		if (i > 0 && a->ring[i].day <= a->ring[i - 1].day)
			return -1;
	}
	a->n_ring = n;
	if (get_map(r, &a->today) < 0 || get_map(r, &a->tickets) < 0 ||
	    get_map(r, &a->seen) < 0 || !codec_reader_done(r))
		return -1;
	return 0;
}

static int restore_agent(struct ext_state *x, struct codec_reader *r,
			 const char *id, size_t len)
{
	struct agent *a = agent_new(id, len);
	const char *team = NULL;
	size_t team_len = 0;
	int created, full;

	if (a == NULL || decode_agent(r, a, &team, &team_len) < 0) {
		agent_free(a);
		return -1;
	}
	struct ext_map_entry *en =
	    ext_map_put(&x->agents, id, len, &created, &full);
	if (en == NULL) {
		agent_free(a);
		x->st.n_cap_hits += full;
		return full ? 1 : -1;
	}
	if (!created) {
		team_leave(en->ptr);
		agent_free(en->ptr);
	}
	en->ptr = a;
	a->flags = F_SAVED;
	size_t i = 0;
	const struct ext_map_entry *t;
	while ((t = ext_map_next(&a->tickets, &i)) != NULL)
		if (t->num > x->last_assign_ts)
			x->last_assign_ts = t->num;
	if (team)
		set_team(x, a, team, team_len);
	return 1;
}

int ext_state_restore(struct ext_state *x, const char *rule_key,
		      const void *key, size_t key_len, const void *blob,
		      size_t blob_len)
{
	struct codec_reader r;
	const char *kind = rule_key + strlen(EXT_STATE_PREFIX);
	int created, full;

	if (strncmp(rule_key, EXT_STATE_PREFIX, strlen(EXT_STATE_PREFIX)))
		return 0;
	if (strcmp(kind, EXT_SEQ_KIND) == 0)
		return x->seq ? ext_sequence_restore(x->seq, key, key_len, blob,
						     blob_len)
			      : 0;
	if (strcmp(kind, "agent") && strcmp(kind, "suppress"))
		return 0;
	if (codec_reader_init(&r, blob, blob_len, CODEC_VERSION) < 0 ||
	    key_len == 0)
		return -1;
	if (strcmp(kind, "agent") == 0)
		return restore_agent(x, &r, key, key_len);
	if (codec_get_u8(&r) != 'S')
		return -1;
	int64_t until = codec_get_i64(&r);
	if (!codec_reader_done(&r))
		return -1;
	struct ext_map_entry *en =
	    ext_map_put(&x->suppress, key, key_len, &created, &full);
	if (en == NULL) {
		x->st.n_cap_hits += full;
		return full ? 1 : -1;
	}
	en->num = until;
	en->ptr = (void *)(intptr_t)F_SAVED;
	return 1;
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
