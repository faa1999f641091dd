/*
 * ext_state_gate: the gates of the custos extensions (ext_rule.h), asked
 * by ext_state_gate() after a rule's detection matched: ticket
 * justification, first-seen keys, off-shift (roster or learned hours),
 * volume baselines (self and team, with the busy-team exception) and
 * sequence runs; plus the robust statistics the baselines use.  A gate
 * sees the agent's history before the event.  Clock: event time only.
 */
#include "ext_state.h"

#include "agentdir.h"
#include "ext_sequence.h"
#include "ext_state_int.h"
#include "roster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

	/* "<name>=<value>\x1f" per field, as snprintf("%s=%s\x1f") wrote it
	 * (a value ends at its first NUL), without a call per event */
	for (size_t i = 0; i < r->n_fs_by; i++) {
		const struct event_field *f = event_get(ev, r->fs_ids[i]);
		const char *v = f ? f->value : "";
		size_t nl = strlen(r->fs_by[i]), vl = strlen(v);
		if (nl + vl + 2 >= sizeof(key) - at)
			return false; /* too long to be a category */
		memcpy(key + at, r->fs_by[i], nl);
		key[at + nl] = '=';
		memcpy(key + at + nl + 1, v, vl);
		key[at + nl + 1 + vl] = '\x1f';
		at += nl + vl + 2;
	}
	struct ext_map_entry *en =
	    ext_map_put(&a->seen, key, at, &created, &full);
	if (en == NULL) {
		x->st.n_cap_hits += full;
		x->st.n_nomem += !full;
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
 * min_samples agent-days.  -1 when out of memory (nothing cached: the
 * next event tries again). */
static int team_stats(struct team *t, int64_t today, size_t min_samples)
{
	size_t cap = t->n * N_RING, n = 0;
	double *v;

	if (t->cache_day == today)
		return 0;
	t->cache_day = today;
	t->ok = false;
	if (cap == 0)
		return 0;
	if ((v = malloc(cap * sizeof(*v))) == NULL) {
		t->cache_day = NO_DAY;
		return -1;
	}
	for (size_t i = 0; i < t->n; i++)
		n = history(t->members[i], today, v, cap, n);
	if (n >= min_samples) {
		t->median = ext_median(v, n);
		t->p_hi = ext_quantile(v, n, 0.99);
		t->ok = true;
	}
	free(v);
	return 0;
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

	if (t && team_stats(t, a->day, (size_t)r->bl_min_days) < 0)
		x->st.n_nomem++;
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
