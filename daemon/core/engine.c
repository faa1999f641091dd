/*
 * engine: evaluates a ruleset over events in event time (see engine.h).
 *
 * Per event: every detection rule is matched; a match is an "input" to the
 * correlations that consume the rule (rule->consumers); a correlation that
 * fires raises an alert and is in turn an input to its own consumers
 * (chaining).  Inputs from a correlation carry the alert's group values and
 * its triggering event; a consumer reads a field from the group values
 * first, then from the triggering event.
 *
 * Semantics (decided here, where the Sigma specification is silent):
 *   - Group key: the group-by values, each written as "<length>:<bytes>",
 *     so no value can forge another key.  An input lacking a group-by field
 *     (absent or null) does not take part (as a SIEM's "by" clause drops
 *     it).  The first value of an array field is used.
 *   - Lower-bound conditions (gt/gte only) slide: after each input the
 *     group's window is (newest - timespan, newest] and the rule fires at
 *     the first input at which the condition holds.  The alert's ts and
 *     event are that input's.  Then the group's state is dropped: the
 *     window restarts empty, so a sustained burst gives about one alert
 *     per `threshold` events, not one per event.
 *   - Upper-bound conditions (any lt/lte/eq) close: a group's window opens
 *     at its first input and holds [open, open + timespan); it closes when
 *     the watermark (the largest event ts seen) reaches open + timespan, or
 *     at engine_finish(); the condition is tested then, and the alert's ts
 *     and event are those of the last input added.  A group that never
 *     had an input cannot fire ("fewer than N" means 1..N-1).  Closing
 *     uses a heap by close time per correlation, not a scan.
 *   - value_count counts distinct values of `field` (an input without it
 *     does not take part); value_sum/value_avg skip inputs whose field is
 *     missing or not a number (counted in n_non_numeric).
 *   - temporal: the count of distinct referenced rules with an input in
 *     the window (default: all).  temporal_ordered: all rules, the first
 *     of each in the listed order, within the window; value = n rules.
 *   - Late inputs (older than the group's newest by more than
 *     max_lateness_ms, or already outside its window) are counted and
 *     dropped; others are inserted in time order and the condition is
 *     evaluated over the window ending at the group's newest input.
 *   - Alerts of a closing window raised while an event is processed are
 *     raised before that event's own alerts.
 *
 * Ownership: alerts passed to the callback borrow everything (the rule,
 * the cached event JSON, window strings); they are valid during the call.
 * The engine never reads the clock.
 */
#include "engine.h"

#include "correlation.h"
#include "detection.h"
#include "engine_int.h"
#include "evidence.h"
#include "ext_rule.h"
#include "ext_state.h"
#include "match.h"
#include "rule_index.h"
#include "window.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a correlation consumes: a detection match or an upstream alert. */
struct corr_input {
	const struct rule *rule;
	int64_t ts_ms;
	const struct event *ev;	      /* triggering event, may be NULL */
	const struct alert_kv *group; /* upstream group values */
	size_t n_group;
	const char *json; /* NULL: the current event's */
	const char *src_input, *src_path;
	uint64_t line, offset;
};

void engine_limits_default(struct engine_limits *lim)
{
	lim->max_groups = 100000;
	lim->max_window_events = 100000;
	lim->max_distinct = 100000;
	lim->evidence_sample = 10;
	lim->max_lateness_ms = 60000;
}

static void corr_init(struct engine *e, struct corr_state *cs,
		      const struct rule *r)
{
	const struct correlation *c = r->correlation;

	cs->rule = r;
	cs->c = c;
	cs->e = e;
	cs->closes = correlation_closes(c);
	cs->wp = (struct window_params){
	    .timespan_ms = c->timespan_ms,
	    .max_events =
		e->lim.max_window_events ? e->lim.max_window_events : 1,
	    .max_distinct = e->lim.max_distinct,
	    .evidence_sample = e->lim.evidence_sample,
	    .max_lateness_ms = e->lim.max_lateness_ms,
	    .n_tags = (uint32_t)c->n_refs,
	    .sliding = !cs->closes,
	};
	window_groups_init(&cs->groups, e->lim.max_groups);
	cs->groups.owner = (uint32_t)r->index;
	cs->groups.evidence_sample = cs->wp.evidence_sample;
	cs->groups.distinct_room = c->type == CORRELATION_VALUE_COUNT;
	cs->groups.on_remove = engine_state_removed;
	cs->groups.on_remove_arg = cs;
}

/* e->det_slots: each detection's memo slots, looked up once. */
static int det_slots_make(struct engine *e)
{
	size_t n = e->rs->n_detections;

	e->det_slots = calloc(n ? n : 1, sizeof(*e->det_slots));
	if (e->det_slots == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		e->det_slots[i] = rule_index_slots(e->index, i);
	return 0;
}

struct engine *engine_new(const struct ruleset *rs,
			  const struct engine_limits *lim,
			  engine_alert_fn on_alert, void *arg)
{
	struct engine *e = calloc(1, sizeof(*e));
	size_t n = rs->n_rules ? rs->n_rules : 1;

	if (e == NULL)
		return NULL;
	e->rs = rs;
	if (lim)
		e->lim = *lim;
	else
		engine_limits_default(&e->lim);
	e->on_alert = on_alert;
	e->arg = arg;
	size_t max_gb = 1;
	for (size_t i = 0; i < rs->n_rules; i++)
		if (rs->rules[i]->kind == RULE_CORRELATION &&
		    rs->rules[i]->correlation->n_group_by > max_gb)
			max_gb = rs->rules[i]->correlation->n_group_by;
	e->hits = calloc(n, sizeof(*e->hits));
	e->corr = calloc(n, sizeof(*e->corr));
	e->vals = calloc(max_gb, sizeof(*e->vals));
	e->lens = calloc(max_gb, sizeof(*e->lens));
	if (!e->hits || !e->corr || !e->vals || !e->lens) {
		engine_free(e);
		return NULL;
	}
	e->closing = calloc(n, sizeof(*e->closing));
	if (e->closing == NULL) {
		engine_free(e);
		return NULL;
	}
	for (size_t i = 0; i < rs->n_rules; i++)
		if (rs->rules[i]->kind == RULE_CORRELATION) {
			corr_init(e, &e->corr[i], rs->rules[i]);
			if (e->corr[i].closes)
				e->closing[e->n_closing++] = (uint32_t)i;
		}
	if (ext_state_needed(rs) &&
	    (e->ext = ext_state_new(rs, e->lim.max_groups)) == NULL) {
		engine_free(e);
		return NULL;
	}
	e->cand =
	    calloc(rs->n_detections ? rs->n_detections : 1, sizeof(*e->cand));
	if (e->cand == NULL || (e->index = rule_index_new(rs)) == NULL ||
	    det_slots_make(e) < 0 || engine_rule_keys_compute(e) < 0) {
		engine_free(e);
		return NULL;
	}
	return e;
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; e->corr && i < e->rs->n_rules; i++)
		if (e->corr[i].c)
			window_groups_clear(&e->corr[i].groups);
	engine_state_free(e);
	ext_state_free(e->ext);
	rule_index_free(e->index);
	free(e->cand);
	free(e->det_slots);
	free(e->closing);
	free(e->corr);
	free(e->hits);
	free(e->key);
	free(e->vals);
	free(e->lens);
	free(e);
}

/* ---- inputs ---- */

/* The input's evidence: the current event's compact copy (one, shared by
 * every window the event enters), or an upstream alert's JSON.  A new
 * reference, or NULL on allocation failure. */
static struct evidence *input_evidence(struct engine *e,
				       const struct corr_input *in)
{
	if (in->json)
		return evidence_from_json(in->json, strlen(in->json));
	if (e->ev_evidence == NULL && e->ev)
		e->ev_evidence = evidence_from_event(e->ev);
	return e->ev_evidence ? evidence_ref(e->ev_evidence) : NULL;
}

static const char *input_json(struct engine *e, const struct corr_input *in)
{
	if (in->json)
		return in->json;
	if (e->ev_json == NULL && e->ev)
		e->ev_json = alert_event_to_json(e->ev);
	return e->ev_json;
}

/* The value of field `name` (id) for an input: upstream group values
 * first, then the triggering event.  NULL when absent or null. */
static const char *input_value(const struct corr_input *in, const char *name,
			       int32_t id, size_t *len)
{
	for (size_t i = 0; i < in->n_group; i++)
		if (strcmp(in->group[i].key, name) == 0) {
			*len = strlen(in->group[i].value);
			return in->group[i].value;
		}
	if (in->ev == NULL)
		return NULL;
	const struct event_field *f = event_get(in->ev, id);
	if (f == NULL && id < 0)
		f = event_find(in->ev, name);
	if (f == NULL || f->kind == VALUE_NULL)
		return NULL;
	*len = f->value_len;
	return f->value;
}

/* Writes "<len>:" (decimal, as "%zu:" would) to head; returns its length.
 * Called for every group-by value of every correlation input, so it avoids
 * snprintf. */
static size_t key_len_prefix(char head[24], size_t len)
{
	char digits[24];
	size_t n = 0;

	if (len < 10) { /* most values */
		head[0] = (char)('0' + len);
		head[1] = ':';
		return 2;
	}
	do {
		digits[n++] = (char)('0' + len % 10);
		len /= 10;
	} while (len > 0);
	for (size_t i = 0; i < n; i++)
		head[i] = digits[n - 1 - i];
	head[n] = ':';
	return n + 1;
}

/* The prefix is at most 21 bytes ("<20 digits>:"): room for it and the
 * value is made first, then the prefix is written in place. */
int engine_key_append(struct engine *e, size_t *at, const char *v, size_t len)
{
	size_t room = *at + 24 + len;

	if (room > e->key_size) {
		size_t ns = room * 2;
		char *k = realloc(e->key, ns);
		if (k == NULL)
			return -1;
		e->key = k;
		e->key_size = ns;
	}
	char *d = e->key + *at;
	size_t hl = key_len_prefix(d, len);
	memcpy(d + hl, v, len);
	*at += hl + len;
	return 0;
}

/* ---- alerts ---- */

struct trigger {
	int64_t ts_ms;
	const struct event *ev;
	const char *json;
	const char *input, *path;
	uint64_t line, offset;
};

static int feed(struct engine *e, const struct rule *r,
		const struct corr_input *in);

/* Raises a (if its rule generates alerts).  -1 when its id could not be
 * computed (out of memory): the alert is still delivered, and sinks that
 * need the id refuse it. */
static int emit(struct engine *e, struct alert *a)
{
	if (!a->rule->generate)
		return 0;
	alert_compute_id(a);
	e->stats.n_alerts++;
	if (e->on_alert)
		e->on_alert(a, e->arg);
	return a->id[0] == '\0' ? -1 : 0;
}

/* The `custos.risk` value a rule's alerts carry downstream (value_sum
 * correlations read it like a group value); 0 or 1 kv written. */
static size_t risk_kv(const struct rule *r, struct alert_kv *kv, char *buf,
		      size_t size)
{
	if (r->ext == NULL || !r->ext->has_risk)
		return 0;
	snprintf(buf, size, "%.15g", r->ext->risk);
	*kv = (struct alert_kv){"custos.risk", buf};
	return 1;
}

/* Raises the alert of a correlation group and feeds it downstream. */
static int fire(struct engine *e, struct corr_state *cs, struct window_group *g,
		const struct trigger *tr, double v)
{
	const struct correlation *c = cs->c;
	size_t n_ev = cs->wp.evidence_sample;
	struct alert_kv *kv = calloc(c->n_group_by + 1, sizeof(*kv));
	char **evidence = calloc(n_ev + 1, sizeof(*evidence));
	struct alert a = {0};
	char risk_buf[32];
	size_t n_lost = 0; /* evidence samples left out: out of memory */
	int rc = 0;

	if (kv == NULL || evidence == NULL) {
		rc = -1;
		goto done;
	}
	for (size_t j = 0; j < c->n_group_by; j++)
		kv[j] = (struct alert_kv){c->group_by[j], g->values[j]};
	size_t n_down = c->n_group_by + risk_kv(cs->rule, &kv[c->n_group_by],
						risk_buf, sizeof(risk_buf));
	a.rule = cs->rule;
	a.ts_ms = tr->ts_ms;
	a.group = kv;
	a.n_group = c->n_group_by;
	a.value = v;
	a.event_json = (char *)tr->json;
	a.source_input = (char *)tr->input;
	a.source_path = (char *)tr->path;
	a.source_line = tr->line;
	a.source_offset = tr->offset;
	a.evidence_json = evidence;
	a.n_evidence =
	    window_samples(&g->win, &cs->wp, evidence, n_ev, &n_lost);
	a.n_evidence_total = window_count(&g->win);
	e->hits[cs->rule->index]++;
	rc = emit(e, &a) < 0 || n_lost ? -1 : 0;
	struct corr_input in = {cs->rule, tr->ts_ms, tr->ev,	kv,
				n_down,	  tr->json,  tr->input, tr->path,
				tr->line, tr->offset};
	if (feed(e, cs->rule, &in) < 0)
		rc = -1;
done:
	free(kv);
	free(evidence);
	return rc;
}

static double group_value(const struct corr_state *cs,
			  const struct window_group *g)
{
	const struct window *w = &g->win;

	switch (cs->c->type) {
	case CORRELATION_EVENT_COUNT:
		return (double)window_count(w);
	case CORRELATION_VALUE_COUNT:
		return (double)window_distinct(w);
	case CORRELATION_VALUE_SUM:
		return window_sum(w);
	case CORRELATION_VALUE_AVG:
		return window_count(w) ? window_sum(w) / (double)window_count(w)
				       : 0;
	case CORRELATION_TEMPORAL:
	case CORRELATION_TEMPORAL_ORDERED:
		return (double)window_tags_present(w);
	}
	return 0;
}

/* temporal_ordered: do the window's inputs contain rule 0, then rule 1,
 * ... in time order?  Scanned only once every rule is present. */
static bool in_order(const struct corr_state *cs, const struct window *w)
{
	uint32_t need = 0, n = (uint32_t)cs->c->n_refs;

	if (window_tags_present(w) < n)
		return false;
	for (size_t i = 0; i < window_count(w) && need < n; i++)
		if (window_entry_at(w, i)->tag == need)
			need++;
	return need == n;
}

/* ---- feeding a correlation ---- */

static bool parse_number(const char *s, size_t len, double *out)
{
	char buf[64], *end;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	return *end == '\0' && errno == 0 && isfinite(*out);
}

/* Fills the window item from the input; 0 = take part, 1 = skip. */
static int make_item(struct engine *e, const struct corr_state *cs, int k,
		     const struct corr_input *in, struct window_item *it)
{
	const struct correlation *c = cs->c;
	size_t len = 0;

	*it = (struct window_item){in->ts_ms, NULL, 0, 0, WINDOW_NONE};
	if (c->type == CORRELATION_TEMPORAL ||
	    c->type == CORRELATION_TEMPORAL_ORDERED)
		it->tag = (uint32_t)k;
	if (c->type == CORRELATION_EVENT_COUNT || c->field == NULL)
		return 0;
	const char *v = input_value(in, c->field, c->field_id, &len);
	if (c->type == CORRELATION_VALUE_COUNT) {
		it->value = v;
		it->value_len = len;
		return v ? 0 : 1;
	}
	if (v == NULL || !parse_number(v, len, &it->num)) {
		e->stats.n_non_numeric++;
		return 1;
	}
	return 0;
}

/* Builds the group key; 1 when a group-by field is missing. */
static int make_key(struct engine *e, const struct corr_state *cs, int k,
		    const struct corr_input *in, const char **vals,
		    size_t *lens, size_t *key_len)
{
	const struct correlation *c = cs->c;
	size_t at = 0;

	for (size_t j = 0; j < c->n_group_by; j++) {
		size_t idx = (size_t)k * c->n_group_by + j;
		vals[j] = input_value(in, c->input_fields[idx],
				      c->input_field_ids[idx], &lens[j]);
		if (vals[j] == NULL)
			return 1;
		if (engine_key_append(e, &at, vals[j], lens[j]) < 0)
			return -1;
	}
	*key_len = at;
	return 0;
}

static int count_status(struct engine *e, enum window_status st)
{
	switch (st) {
	case WINDOW_ADDED:
		return 0;
	case WINDOW_OVERFLOW:
		e->stats.n_window_overflow++;
		return 0;
	case WINDOW_LATE:
		e->stats.n_late_events++;
		return 1;
	case WINDOW_DISTINCT_FULL:
		e->stats.n_distinct_overflow++;
		return 1;
	case WINDOW_NOMEM:
		break;
	}
	return -1;
}

/* An input prepared for one consumer before any consumer is fed (see
 * feed()): its item, and its group key in feed()'s own buffer, hashed, so
 * that the look-ups of all the consumers can start loading their buckets
 * at once.  Everything here depends on the input and the correlation
 * only, never on a table, so feeding an earlier consumer (which may chain
 * alerts, evict and remove groups) does not make it stale. */
#define FEED_BATCH 8	    /* consumers prepared ahead */
#define FEED_MAX_GROUP_BY 4 /* group-by fields of a prepared input */
#define FEED_KEY_ROOM 512   /* bytes of all the prepared keys */

struct feed_prep {
	int state; /* PREP_NONE, PREP_SKIP, PREP_ITEM, PREP_KEY */
	int k;
	struct window_item it;
	const char *key;
	size_t key_len;
	uint32_t hash;
	const char *vals[FEED_MAX_GROUP_BY];
	size_t lens[FEED_MAX_GROUP_BY];
};

enum {
	PREP_NONE, /* nothing prepared: add_input() does it all */
	PREP_SKIP, /* the input does not take part */
	PREP_ITEM, /* k and it are set (the key did not fit) */
	PREP_KEY,  /* k, it, the key, its values and hash are set */
};

/* The group of input `in` for item k (made and hashed here unless p has
 * it), found or created.  NULL with *rc = 0 (a group-by field missing)
 * or -1 (allocation failure). */
static struct window_group *lookup_group(struct engine *e,
					 struct corr_state *cs, int k,
					 const struct corr_input *in,
					 const struct feed_prep *p,
					 bool *created, bool *evicted, int *rc)
{
	const struct correlation *c = cs->c;
	size_t key_len = 0;
	struct window_group *g;

	if (p && p->state == PREP_KEY) {
		g = window_groups_get_hashed(&cs->groups, p->key, p->key_len,
					     p->hash, p->vals, p->lens,
					     c->n_group_by, created, evicted);
	} else {
		*rc = make_key(e, cs, k, in, e->vals, e->lens, &key_len);
		if (*rc != 0) {
			*rc = *rc < 0 ? -1 : 0;
			return NULL;
		}
		g = window_groups_get(&cs->groups, e->key ? e->key : "",
				      key_len, e->vals, e->lens, c->n_group_by,
				      created, evicted);
	}
	if (g == NULL)
		*rc = -1;
	return g;
}

/* Adds the input to its group; returns the group, or NULL with *rc = 0
 * (the input does not take part) or -1 (allocation failure).  p: what
 * feed() prepared, or NULL. */
static struct window_group *add_input(struct engine *e, struct corr_state *cs,
				      const struct corr_input *in,
				      const struct feed_prep *p, int *rc)
{
	const struct correlation *c = cs->c;
	int state = p ? p->state : PREP_NONE;
	int k =
	    state >= PREP_ITEM ? p->k : correlation_input_index(c, in->rule);
	struct window_item it;
	bool created, evicted;

	*rc = 0;
	if (state == PREP_SKIP || k < 0)
		return NULL;
	if (state >= PREP_ITEM)
		it = p->it;
	else if (make_item(e, cs, k, in, &it) != 0)
		return NULL;
	struct window_group *g =
	    lookup_group(e, cs, k, in, p, &created, &evicted, rc);
	if (g == NULL)
		return NULL;
	if (evicted)
		e->stats.n_groups_evicted++;
	/* touched even if the input is then refused: the LRU order moved */
	engine_state_touch(e, g);
	if (created && cs->closes &&
	    window_groups_schedule(&cs->groups, g, in->ts_ms + c->timespan_ms) <
		0) {
		window_groups_remove(&cs->groups, g);
		*rc = -1;
		return NULL;
	}
	*rc = count_status(e, window_add(&g->win, &cs->wp, &it));
	if (*rc != 0) {
		if (created)
			window_groups_remove(&cs->groups, g);
		*rc = *rc < 0 ? -1 : 0;
		return NULL;
	}
	return g;
}

/* custos.suppress: the group alerted less than `suppress` ago. */
static bool suppressed(struct engine *e, const struct corr_state *cs,
		       const struct window_group *g, int64_t ts)
{
	const struct ext_rule *x = cs->rule->ext;

	if (x == NULL || x->suppress_ms == 0 || e->ext == NULL)
		return false;
	return ext_state_suppressed(e->ext, e->rule_keys[cs->rule->index],
				    g->key, g->key_len, ts, x->suppress_ms);
}

/* A lost evidence sample (out of memory) does not stop the evaluation:
 * it is returned as -1 once the input has been counted and the group
 * evaluated, so that no alert is lost with it. */
static int corr_feed(struct engine *e, struct corr_state *cs,
		     const struct corr_input *in, const struct feed_prep *p)
{
	int rc, lost = 0;
	struct window_group *g = add_input(e, cs, in, p, &rc);

	if (g == NULL)
		return rc;
	if (cs->wp.evidence_sample > 0) {
		struct evidence *ev = input_evidence(e, in);
		if (ev == NULL ||
		    window_add_sample(&g->win, &cs->wp, in->ts_ms, ev) < 0)
			lost = -1;
		evidence_unref(ev);
	}
	if (cs->closes) {
		const char *json = input_json(e, in);
		if (json == NULL)
			return -1;
		rc =
		    window_trigger_set(&g->last, in->ts_ms, json, in->src_input,
				       in->src_path, in->line, in->offset);
		return rc < 0 ? rc : lost;
	}
	double v = group_value(cs, g);
	if (!correlation_condition_holds(cs->c, v))
		return lost;
	if (cs->c->type == CORRELATION_TEMPORAL_ORDERED &&
	    !in_order(cs, &g->win))
		return lost;
	const char *json = input_json(e, in);
	if (json == NULL)
		return -1;
	struct trigger tr = {in->ts_ms,	   in->ev,   json,	in->src_input,
			     in->src_path, in->line, in->offset};
	if (suppressed(e, cs, g, in->ts_ms))
		e->stats.n_suppressed++;
	else
		rc = fire(e, cs, g, &tr, v);
	window_groups_remove(&cs->groups, g);
	return rc < 0 ? rc : lost;
}

/* Appends a key part to buf (FEED_KEY_ROOM bytes); -1 when it is full. */
static int prep_key_append(char *buf, size_t *at, const char *v, size_t len)
{
	if (len > FEED_KEY_ROOM || *at + 24 + len > FEED_KEY_ROOM)
		return -1;
	size_t hl = key_len_prefix(buf + *at, len);
	memcpy(buf + *at + hl, v, len);
	*at += hl + len;
	return 0;
}

/* Prepares the input for consumer cs (see struct feed_prep): keys go to
 * buf from *used on. */
static void prep_input(struct engine *e, const struct corr_state *cs,
		       const struct corr_input *in, struct feed_prep *p,
		       char *buf, size_t *used)
{
	const struct correlation *c = cs->c;
	size_t at = *used;

	p->state = PREP_NONE;
	if (c->n_group_by > FEED_MAX_GROUP_BY)
		return;
	p->k = correlation_input_index(c, in->rule);
	if (p->k < 0 || make_item(e, cs, p->k, in, &p->it) != 0) {
		p->state = PREP_SKIP;
		return;
	}
	p->state = PREP_ITEM;
	for (size_t j = 0; j < c->n_group_by; j++) {
		size_t idx = (size_t)p->k * c->n_group_by + j;
		p->vals[j] = input_value(in, c->input_fields[idx],
					 c->input_field_ids[idx], &p->lens[j]);
		if (p->vals[j] == NULL) {
			p->state = PREP_SKIP;
			return;
		}
		if (prep_key_append(buf, &at, p->vals[j], p->lens[j]) < 0)
			return;
	}
	p->key = buf + *used;
	p->key_len = at - *used;
	p->hash = window_groups_hash(p->key, p->key_len);
	p->state = PREP_KEY;
	*used = at;
	window_groups_prefetch(&cs->groups, p->hash);
}

/* Preparing costs some instructions an input; it pays only when the
 * look-ups miss the cache, i.e. when a table has grown past this many
 * buckets (8 bytes each: 512 KiB). */
#define FEED_PREP_MIN_BUCKETS 65536

/* Whether two or more of r's consumers are worth preparing for. */
static bool prep_pays(const struct engine *e, const struct rule *r)
{
	if (r->n_consumers < 2)
		return false;
	for (size_t i = 0; i < r->n_consumers && i < FEED_BATCH; i++) {
		const struct corr_state *cs = &e->corr[r->consumers[i]->index];
		if (cs->c && cs->groups.n_buckets >= FEED_PREP_MIN_BUCKETS)
			return true;
	}
	return false;
}

/* Feeds a match or alert of rule r to every correlation that uses r.
 * With several consumers and a large table, all the inputs are prepared
 * first (keys made and hashed, buckets prefetched), then fed in order. */
static int feed(struct engine *e, const struct rule *r,
		const struct corr_input *in)
{
	struct feed_prep prep[FEED_BATCH];
	char keys[FEED_KEY_ROOM];
	size_t n_prep = 0, used = 0;
	int rc = 0;

	if (prep_pays(e, r)) {
		for (; n_prep < r->n_consumers && n_prep < FEED_BATCH;
		     n_prep++) {
			struct corr_state *cs =
			    &e->corr[r->consumers[n_prep]->index];
			prep[n_prep].state = PREP_NONE;
			if (cs->c)
				prep_input(e, cs, in, &prep[n_prep], keys,
					   &used);
		}
	}
	for (size_t i = 0; i < r->n_consumers; i++) {
		struct corr_state *cs = &e->corr[r->consumers[i]->index];
		if (cs->c &&
		    corr_feed(e, cs, in, i < n_prep ? &prep[i] : NULL) < 0)
			rc = -1;
	}
	return rc;
}

/* ---- closing windows ---- */

/* Closes the windows due at the watermark (all of them if `all`), in rule
 * order so that an upstream closing alert reaches its consumers first. */
static int close_due(struct engine *e, bool all)
{
	int rc = 0;

	for (size_t i = 0; i < e->n_closing; i++) {
		struct corr_state *cs = &e->corr[e->closing[i]];
		struct window_group *g;
		while ((g = window_groups_next_close(&cs->groups)) != NULL &&
		       (all || g->close_ts <= e->watermark)) {
			double v = group_value(cs, g);
			struct trigger tr = {g->last.ts_ms, NULL,
					     g->last.json,  g->last.input,
					     g->last.path,  g->last.line,
					     g->last.offset};
			if (g->last.json &&
			    correlation_condition_holds(cs->c, v) &&
			    fire(e, cs, g, &tr, v) < 0)
				rc = -1;
			window_groups_remove(&cs->groups, g);
		}
	}
	return rc;
}

/* ---- the public entry points ---- */

static int match_detections(struct engine *e, const struct event *ev)
{
	int rc = 0;
	uint8_t memo[RULE_INDEX_MAX_SHARED]; /* shared results, this event */
	size_t n_cand = rule_index_candidates_memo(e->index, ev, e->cand, memo);
	for (size_t c = 0; c < n_cand; c++) {
		size_t i = e->cand[c];
		const struct rule *r = e->rs->rules[i];
		if (r->kind != RULE_DETECTION ||
		    !detection_match_shared(r->detection, ev, e->det_slots[i],
					    memo))
			continue;
		if (r->ext && e->ext && !ext_state_gate(e->ext, r, ev))
			continue;
		e->stats.n_detection_matches++;
		e->hits[i]++;
		struct alert_kv risk;
		char risk_buf[32];
		size_t n_risk = risk_kv(r, &risk, risk_buf, sizeof(risk_buf));
		struct corr_input in = {r,
					ev->ts_ms,
					ev,
					n_risk ? &risk : NULL,
					n_risk,
					NULL,
					ev->source.input,
					ev->source.path,
					ev->source.line,
					ev->source.offset};
		if (r->generate) {
			struct alert a = {0};
			a.rule = r;
			a.ts_ms = ev->ts_ms;
			a.value = 1;
			a.event_json = (char *)input_json(e, &in);
			a.source_input = (char *)ev->source.input;
			a.source_path = (char *)ev->source.path;
			a.source_line = ev->source.line;
			a.source_offset = ev->source.offset;
			if (a.event_json == NULL || emit(e, &a) < 0)
				rc = -1;
		}
		if (feed(e, r, &in) < 0)
			rc = -1;
	}
	return rc;
}

/* Losses counted by the modules the engine calls instead of returned:
 * extension state entries and regex evaluations lost to allocation
 * failures.  A change across an event makes it partly evaluated. */
static uint64_t callee_nomem(const struct engine *e)
{
	return match_nomem() + (e->ext ? ext_state_nomem(e->ext) : 0);
}

int engine_process(struct engine *e, const struct event *ev)
{
	uint64_t nomem = callee_nomem(e);
	uint64_t re_limit = match_re_limit_hits();
	int rc = 0;

	e->stats.n_events++;
	if (!e->has_watermark || ev->ts_ms > e->watermark) {
		e->watermark = ev->ts_ms;
		e->has_watermark = true;
	}
	if (close_due(e, false) < 0)
		rc = -1;
	e->ev = ev;
	e->ev_json = NULL;
	if (e->ext)
		ext_state_begin(e->ext, ev);
	if (match_detections(e, ev) < 0)
		rc = -1;
	if (e->ext)
		ext_state_end(e->ext, ev);
	free(e->ev_json);
	e->ev_json = NULL;
	evidence_unref(e->ev_evidence);
	e->ev_evidence = NULL;
	e->ev = NULL;
	e->stats.n_re_limit += match_re_limit_hits() - re_limit;
	if (rc < 0 || callee_nomem(e) != nomem) {
		e->stats.n_nomem++;
		rc = -1;
	}
	return rc;
}

void engine_finish(struct engine *e)
{
	uint64_t nomem = callee_nomem(e);

	if (close_due(e, true) < 0 || callee_nomem(e) != nomem)
		e->stats.n_nomem++;
}

void engine_get_stats(const struct engine *e, struct engine_stats *out)
{
	*out = e->stats;
	if (e->ext) {
		struct ext_state_stats xs;
		ext_state_get_stats(e->ext, &xs);
		out->n_ext_cap_hits = xs.n_cap_hits;
	}
	out->n_unshared = rule_index_n_unshared(e->index);
	out->n_groups = 0;
	for (size_t i = 0; i < e->rs->n_rules; i++)
		if (e->corr[i].c)
			out->n_groups += e->corr[i].groups.n_groups;
}

const uint64_t *engine_rule_hits(const struct engine *e, size_t *n)
{
	*n = e->rs->n_rules;
	return e->hits;
}

void engine_set_agentdir(struct engine *e, const struct agentdir *dir)
{
	if (e->ext)
		ext_state_set_agentdir(e->ext, dir);
}
