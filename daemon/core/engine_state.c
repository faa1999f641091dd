/*
 * engine_state: the engine's checkpoints (see engine.h, engine_int.h).
 *
 * Rule key: "<id|name|title>:<32 hex>" where the hex is a SHA-256 prefix of
 * the rule's compiled definition: for a detection its dump
 * (detection_dump()), for a correlation its type, timespan, condition
 * (exact hex floats), field, group-by, aliases and the rule keys of its
 * inputs (so a changed detection changes the key of every correlation over
 * it).  Title, level, tags do not enter: they do not change window state.
 * A key equal to an earlier rule's gets "#<index>" appended.
 *
 * Blobs (state_codec, version STATE_VERSION): a kind byte, then either a
 * group record (window_codec.c) or the engine scalars: watermark, the
 * counters that survive a restart, and per-rule hits keyed by rule key.
 * The scalars travel under rule key "" with an empty group key.
 *
 * Emission order is deterministic: deletions in the order the groups were
 * removed, then changed groups in the order they were first touched since
 * the last save (or, for a full snapshot, rule order then slot order),
 * then the scalars.  Nothing here reads the clock.
 */
#include "engine_int.h"

#include "correlation.h"
#include "detection.h"
#include "ext_rule.h"
#include "ext_state.h"
#include "state_codec.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_VERSION 1
#define STATE_KIND_GROUP 'G'
#define STATE_KIND_SCALARS 'S'
#define STATE_MAX_BYTES ((size_t)1 << 30)
#define STATE_MAX_RULE_KEY 4096

/* ---- rule keys ---- */

static void dump_correlation(const struct engine *e, const struct rule *r,
			     FILE *f)
{
	const struct correlation *c = r->correlation;

	fprintf(f, "correlation %d %lld\n", (int)c->type,
		(long long)c->timespan_ms);
	for (int op = 0; op < N_CORRELATION_OPS; op++)
		if (c->has_op[op])
			fprintf(f, "op %d %a\n", op, c->op_value[op]);
	fprintf(f, "field %s\n", c->field ? c->field : "-");
	for (size_t j = 0; j < c->n_group_by; j++)
		fprintf(f, "by %zu:%s\n", strlen(c->group_by[j]),
			c->group_by[j]);
	for (size_t a = 0; a < c->n_aliases; a++) {
		fprintf(f, "alias %s\n", c->aliases[a].alias);
		for (size_t k = 0; k < c->aliases[a].n; k++)
			fprintf(f, " %s=%s\n", c->aliases[a].rule_names[k],
				c->aliases[a].fields[k]);
	}
	for (size_t i = 0; i < c->n_refs; i++) {
		const struct rule *in = c->inputs ? c->inputs[i] : NULL;
		const char *k = in ? e->rule_keys[in->index] : NULL;
		fprintf(f, "input %s\n", k ? k : c->refs[i].name);
	}
}

static char *rule_key_make(const struct engine *e, const struct rule *r)
{
	char *text = NULL, *key = NULL;
	size_t len = 0;
	unsigned char md[SHA256_DIGEST_LENGTH];
	FILE *f = open_memstream(&text, &len);
	const char *name = r->id ? r->id : r->name ? r->name : r->title;

	if (f == NULL)
		return NULL;
	if (r->kind == RULE_DETECTION && r->detection)
		detection_dump(r->detection, e->rs->fields, f);
	else if (r->kind == RULE_CORRELATION && r->correlation)
		dump_correlation(e, r, f);
	ext_rule_dump(r->ext, f); /* nothing for plain Sigma rules */
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	/* OpenSSL 3's one-shot SHA256 allocates: NULL when out of memory
	 * (md is then unset and the key would be garbage) */
	unsigned char *ok = SHA256((const unsigned char *)text, len, md);
	free(text);
	if (ok == NULL)
		return NULL;
	name = name ? name : "";
	key = malloc(strlen(name) + 1 + 32 + 24);
	if (key == NULL)
		return NULL;
	size_t at = (size_t)sprintf(key, "%s:", name);
	for (int i = 0; i < 16; i++)
		at += (size_t)sprintf(key + at, "%02x", md[i]);
	return key;
}

int engine_rule_keys_compute(struct engine *e)
{
	size_t n = e->rs->n_rules;

	e->rule_keys = calloc(n ? n : 1, sizeof(*e->rule_keys));
	if (e->rule_keys == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		e->rule_keys[i] = rule_key_make(e, e->rs->rules[i]);
		if (e->rule_keys[i] == NULL)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(e->rule_keys[j], e->rule_keys[i]) == 0) {
				/* room was left for the suffix */
				sprintf(e->rule_keys[i] +
					    strlen(e->rule_keys[i]),
					"#%zu", i);
				break;
			}
	}
	return 0;
}

/* ---- change tracking ---- */

static void dels_clear(struct engine *e)
{
	for (size_t i = 0; i < e->n_dels; i++)
		free(e->dels[i].buf);
	e->n_dels = 0;
}

void engine_state_free(struct engine *e)
{
	for (size_t i = 0; e->rule_keys && i < e->rs->n_rules; i++)
		free(e->rule_keys[i]);
	free(e->rule_keys);
	dels_clear(e);
	free(e->dels);
}

static void dirty_unlink(struct engine *e, struct window_group *g)
{
	if (g->dirty_prev)
		g->dirty_prev->dirty_next = g->dirty_next;
	else
		e->dirty_head = g->dirty_next;
	if (g->dirty_next)
		g->dirty_next->dirty_prev = g->dirty_prev;
	else
		e->dirty_tail = g->dirty_prev;
	g->dirty_prev = g->dirty_next = NULL;
	g->dirty = false;
}

static void dirty_append(struct engine *e, struct window_group *g)
{
	g->dirty = true;
	g->dirty_next = NULL;
	g->dirty_prev = e->dirty_tail;
	if (e->dirty_tail)
		e->dirty_tail->dirty_next = g;
	else
		e->dirty_head = g;
	e->dirty_tail = g;
}

void engine_state_touch(struct engine *e, struct window_group *g)
{
	if (e->tracking && !g->dirty)
		dirty_append(e, g);
}

static int del_push(struct engine *e, const char *rule_key, const char *key,
		    size_t key_len)
{
	size_t rl = strlen(rule_key);

	if (e->n_dels == e->cap_dels) {
		size_t nc = e->cap_dels ? e->cap_dels * 2 : 16;
		struct state_del *d = realloc(e->dels, nc * sizeof(*d));
		if (d == NULL)
			return -1;
		e->dels = d;
		e->cap_dels = nc;
	}
	char *buf = malloc(rl + 1 + key_len + 1);
	if (buf == NULL)
		return -1;
	memcpy(buf, rule_key, rl + 1);
	memcpy(buf + rl + 1, key, key_len);
	e->dels[e->n_dels++] = (struct state_del){buf, rl, key_len};
	return 0;
}

/* A saved group that is gone must be deleted from the store; a failure
 * to remember that is counted (the store then keeps a stale group). */
static void forget_group(struct engine *e, const char *rule_key,
			 struct window_group *g)
{
	if (g->dirty)
		dirty_unlink(e, g);
	if (e->tracking && g->saved && !e->quiet_remove &&
	    del_push(e, rule_key, g->key, g->key_len) < 0)
		e->stats.n_nomem++;
}

void engine_state_removed(void *arg, struct window_group *g)
{
	struct corr_state *cs = arg;

	forget_group(cs->e, cs->e->rule_keys[cs->rule->index], g);
}

/* ---- emitting ---- */

static int emit_group(struct engine *e, struct corr_state *cs,
		      struct window_group *g, engine_state_fn fn, void *arg)
{
	struct codec_writer w;
	size_t len = 0;

	codec_writer_init(&w, STATE_MAX_BYTES, STATE_VERSION);
	codec_put_u8(&w, STATE_KIND_GROUP);
	window_group_encode(&w, g, &cs->wp);
	unsigned char *blob = codec_writer_finish(&w, &len);
	if (blob == NULL)
		return -1;
	int rc = fn(arg, e->rule_keys[cs->rule->index], g->key, g->key_len,
		    blob, len);
	free(blob);
	return rc < 0 ? -1 : 0;
}

/* The counters that survive a restart, in blob order. */
static uint64_t *counter(struct engine_stats *s, int i)
{
	uint64_t *v[] = {&s->n_events,
			 &s->n_detection_matches,
			 &s->n_alerts,
			 &s->n_late_events,
			 &s->n_groups_evicted,
			 &s->n_window_overflow,
			 &s->n_distinct_overflow,
			 &s->n_non_numeric,
			 &s->n_nomem};
	return i < (int)(sizeof(v) / sizeof(*v)) ? v[i] : NULL;
}

static int emit_scalars(struct engine *e, engine_state_fn fn, void *arg)
{
	struct codec_writer w;
	size_t len = 0;
	uint64_t *c;

	codec_writer_init(&w, STATE_MAX_BYTES, STATE_VERSION);
	codec_put_u8(&w, STATE_KIND_SCALARS);
	codec_put_u8(&w, e->has_watermark);
	codec_put_i64(&w, e->watermark);
	for (int i = 0; (c = counter(&e->stats, i)) != NULL; i++)
		codec_put_u64(&w, *c);
	codec_put_u64(&w, e->rs->n_rules);
	for (size_t i = 0; i < e->rs->n_rules; i++) {
		codec_put_bytes(&w, e->rule_keys[i], strlen(e->rule_keys[i]));
		codec_put_u64(&w, e->hits[i]);
	}
	unsigned char *blob = codec_writer_finish(&w, &len);
	if (blob == NULL)
		return -1;
	int rc = fn(arg, "", "", 0, blob, len);
	free(blob);
	return rc < 0 ? -1 : 0;
}

static int emit_dels(struct engine *e, engine_state_fn fn, void *arg)
{
	for (size_t i = 0; i < e->n_dels; i++) {
		const struct state_del *d = &e->dels[i];
		if (fn(arg, d->buf, d->buf + d->rule_key_len + 1, d->key_len,
		       NULL, 0) < 0)
			return -1;
	}
	return 0;
}

/* After a successful save: everything emitted is now in the store. */
static void mark_saved(struct engine *e)
{
	struct window_group *g;

	dels_clear(e);
	while ((g = e->dirty_head) != NULL) {
		dirty_unlink(e, g);
		g->saved = true;
	}
}

static void mark_all_saved(struct engine *e)
{
	mark_saved(e);
	for (size_t i = 0; i < e->rs->n_rules; i++) {
		struct window_groups *t = &e->corr[i].groups;
		for (size_t s = 0; e->corr[i].c && s < t->n_slots; s++)
			if (t->slots[s])
				t->slots[s]->saved = true;
	}
	e->tracking = true;
}

int engine_save_all(struct engine *e, engine_state_fn fn, void *arg)
{
	if (emit_dels(e, fn, arg) < 0)
		return -1;
	for (size_t i = 0; i < e->rs->n_rules; i++) {
		struct corr_state *cs = &e->corr[i];
		for (size_t s = 0; cs->c && s < cs->groups.n_slots; s++) {
			struct window_group *g = cs->groups.slots[s];
			if (g && emit_group(e, cs, g, fn, arg) < 0)
				return -1;
		}
	}
	if (e->ext && ext_state_save(e->ext, true, fn, arg) < 0)
		return -1;
	if (emit_scalars(e, fn, arg) < 0)
		return -1;
	mark_all_saved(e);
	return 0;
}

int engine_save_changes(struct engine *e, engine_state_fn fn, void *arg)
{
	/* not tracked yet: the first save is a full snapshot */
	if (!e->tracking)
		return engine_save_all(e, fn, arg);
	if (emit_dels(e, fn, arg) < 0)
		return -1;
	for (struct window_group *g = e->dirty_head; g; g = g->dirty_next)
		if (emit_group(e, &e->corr[g->owner], g, fn, arg) < 0)
			return -1;
	if (e->ext && ext_state_save(e->ext, false, fn, arg) < 0)
		return -1;
	if (emit_scalars(e, fn, arg) < 0)
		return -1;
	mark_saved(e);
	return 0;
}

/* ---- restoring ---- */

static int find_rule(const struct engine *e, const char *rule_key)
{
	for (size_t i = 0; i < e->rs->n_rules; i++)
		if (strcmp(e->rule_keys[i], rule_key) == 0)
			return (int)i;
	return -1;
}

static int restore_scalars(struct engine *e, struct codec_reader *r)
{
	struct engine_stats st = e->stats;
	uint8_t has_wm = codec_get_u8(r);
	int64_t wm = codec_get_i64(r);
	uint64_t *c;

	for (int i = 0; (c = counter(&st, i)) != NULL; i++)
		*c = codec_get_u64(r);
	uint64_t n = codec_get_u64(r);
	if (r->failed || has_wm > 1 || wm < -WINDOW_CODEC_MAX_TS ||
	    wm > WINDOW_CODEC_MAX_TS || n > codec_remaining(r))
		return -1;
	uint64_t *hits = calloc(e->rs->n_rules + 1, sizeof(*hits));
	if (hits == NULL)
		return -1;
	memcpy(hits, e->hits, e->rs->n_rules * sizeof(*hits));
	for (uint64_t i = 0; i < n && !r->failed; i++) {
		size_t len = 0;
		const char *k = codec_get_bytes(r, &len, STATE_MAX_RULE_KEY);
		uint64_t h = codec_get_u64(r);
		for (size_t j = 0; k && j < e->rs->n_rules; j++)
			if (strlen(e->rule_keys[j]) == len &&
			    memcmp(e->rule_keys[j], k, len) == 0)
				hits[j] = h;
	}
	if (!codec_reader_done(r)) {
		free(hits);
		return -1;
	}
	memcpy(e->hits, hits, e->rs->n_rules * sizeof(*hits));
	free(hits);
	st.n_state_rejected = e->stats.n_state_rejected;
	e->stats = st;
	e->has_watermark = has_wm;
	e->watermark = wm;
	return 1;
}

/* The group key must be the one the values make (engine.c's format). */
static bool key_matches(struct engine *e, const struct window_group *g,
			const void *key, size_t key_len)
{
	size_t at = 0;

	for (size_t j = 0; j < g->n_values; j++)
		if (engine_key_append(e, &at, g->values[j],
				      strlen(g->values[j])) < 0)
			return false;
	return at == key_len && (at == 0 || memcmp(e->key, key, at) == 0);
}

static int restore_group(struct engine *e, struct corr_state *cs,
			 struct codec_reader *r, const void *key,
			 size_t key_len)
{
	struct window_group *g, *old;

	old = window_groups_find(&cs->groups, key, key_len);
	if (old) {
		/* replaced: the store row is overwritten, not deleted */
		e->quiet_remove = true;
		window_groups_remove(&cs->groups, old);
		e->quiet_remove = false;
	}
	int rc = window_group_decode(r, &cs->wp, cs->c->n_group_by, &cs->groups,
				     key, key_len, &g);
	if (rc == 0) {
		e->stats.n_groups_evicted++;
		return 1;
	}
	if (rc < 0)
		return -1;
	if (!key_matches(e, g, key, key_len)) {
		window_groups_remove(&cs->groups, g);
		return -1;
	}
	g->saved = true;
	return 1;
}

int engine_restore_group(struct engine *e, const char *rule_key,
			 const void *group_key, size_t group_key_len,
			 const void *blob, size_t blob_len)
{
	struct codec_reader r;
	int rc = -1;

	e->tracking = true;
	if (rule_key == NULL || (group_key == NULL && group_key_len > 0))
		goto done;
	if (strncmp(rule_key, EXT_STATE_PREFIX, strlen(EXT_STATE_PREFIX)) ==
	    0) {
		rc = e->ext ? ext_state_restore(e->ext, rule_key, group_key,
						group_key_len, blob, blob_len)
			    : 0;
		goto done;
	}
	int i = rule_key[0] ? find_rule(e, rule_key) : -1;
	if (rule_key[0] && i < 0)
		return 0;
	if (codec_reader_init(&r, blob, blob_len, STATE_VERSION) < 0)
		goto done;
	uint8_t kind = codec_get_u8(&r);
	if (rule_key[0] == '\0')
		rc = kind == STATE_KIND_SCALARS && group_key_len == 0
			 ? restore_scalars(e, &r)
			 : -1;
	else if (kind == STATE_KIND_GROUP && e->corr[i].c)
		rc = restore_group(e, &e->corr[i], &r,
				   group_key ? group_key : "", group_key_len);
done:
	if (rc < 0)
		e->stats.n_state_rejected++;
	return rc;
}

/* ---- reload: moving state between engines ---- */

static bool same_params(const struct corr_state *a, const struct corr_state *b)
{
	const struct window_params *p = &a->wp, *q = &b->wp;

	return p->timespan_ms == q->timespan_ms &&
	       p->max_events == q->max_events &&
	       p->max_distinct == q->max_distinct &&
	       p->evidence_sample == q->evidence_sample &&
	       p->max_lateness_ms == q->max_lateness_ms &&
	       p->n_tags == q->n_tags && p->sliding == q->sliding &&
	       a->groups.max_groups == b->groups.max_groups &&
	       a->c->n_group_by == b->c->n_group_by;
}

/* Empties a table whose groups were moved away (no free, no hook). */
static void table_forget(struct window_groups *t)
{
	struct window_groups keep = *t;

	window_groups_init(t, keep.max_groups);
	t->owner = keep.owner;
	t->on_remove = keep.on_remove;
	t->on_remove_arg = keep.on_remove_arg;
}

/* Same rule key and limits: the table itself moves; its groups keep
 * their dirty links (spliced into `to`'s list by the caller). */
static void move_table(struct corr_state *to, struct corr_state *from)
{
	struct window_groups *t = &to->groups;
	struct window_groups keep = *t;

	for (size_t s = 0; s < t->n_slots; s++)
		if (t->slots[s] && t->slots[s]->dirty)
			dirty_unlink(to->e, t->slots[s]);
	window_groups_clear(t);
	*t = from->groups;
	t->owner = keep.owner;
	t->on_remove = keep.on_remove;
	t->on_remove_arg = keep.on_remove_arg;
	for (size_t s = 0; s < t->n_slots; s++) {
		struct window_group *g = t->slots[s];
		if (g == NULL)
			continue;
		g->owner = t->owner;
		/* from did not track: nothing of it is in the store yet */
		if (!from->e->tracking)
			engine_state_touch(to->e, g);
	}
	table_forget(&from->groups);
}

/* Same rule key, other limits: each group is re-read under the new ones
 * (a group they no longer admit is dropped and counted). */
static int copy_group(struct corr_state *to, struct corr_state *from,
		      struct window_group *g)
{
	struct engine *e = to->e;
	struct codec_writer w;
	struct codec_reader r;
	struct window_group *ng = NULL;
	size_t len = 0;
	int rc = -1;

	codec_writer_init(&w, STATE_MAX_BYTES, STATE_VERSION);
	window_group_encode(&w, g, &from->wp);
	unsigned char *blob = codec_writer_finish(&w, &len);
	if (blob && codec_reader_init(&r, blob, len, STATE_VERSION) == 0)
		rc = window_group_decode(&r, &to->wp, to->c->n_group_by,
					 &to->groups, g->key, g->key_len, &ng);
	free(blob);
	if (rc == 1) {
		ng->saved = g->saved;
		engine_state_touch(e, ng);
		return 0;
	}
	e->stats.n_state_rejected++;
	if (e->tracking && g->saved &&
	    del_push(e, e->rule_keys[to->rule->index], g->key, g->key_len) < 0)
		return -1;
	return 0;
}

/* Rule gone or changed: its saved groups are deleted from the store. */
static int drop_table(struct engine *to, struct engine *from,
		      struct corr_state *cs)
{
	struct window_groups *t = &cs->groups;
	int rc = 0;

	for (size_t s = 0; s < t->n_slots; s++) {
		struct window_group *g = t->slots[s];
		if (g == NULL)
			continue;
		if (g->dirty)
			dirty_unlink(from, g);
		if (to->tracking && g->saved &&
		    del_push(to, from->rule_keys[cs->rule->index], g->key,
			     g->key_len) < 0)
			rc = -1;
	}
	window_groups_clear(t);
	return rc;
}

static int transfer_rule(struct engine *to, struct engine *from, size_t j)
{
	struct corr_state *fc = &from->corr[j];
	int i = find_rule(to, from->rule_keys[j]);
	struct corr_state *tc = i >= 0 ? &to->corr[i] : NULL;
	int rc = 0;

	if (tc == NULL || tc->c == NULL)
		return drop_table(to, from, fc);
	if (same_params(tc, fc)) {
		move_table(tc, fc);
		return 0;
	}
	for (size_t s = 0; s < fc->groups.n_slots; s++) {
		struct window_group *g = fc->groups.slots[s];
		if (g && copy_group(tc, fc, g) < 0)
			rc = -1;
		if (g && g->dirty)
			dirty_unlink(from, g);
	}
	window_groups_clear(&fc->groups);
	return rc;
}

static void transfer_scalars(struct engine *to, struct engine *from)
{
	uint64_t *a, *b;

	for (int i = 0; (a = counter(&to->stats, i)) != NULL; i++) {
		b = counter(&from->stats, i);
		*a += *b;
		*b = 0;
	}
	to->stats.n_state_rejected += from->stats.n_state_rejected;
	from->stats.n_state_rejected = 0;
	if (from->has_watermark &&
	    (!to->has_watermark || from->watermark > to->watermark)) {
		to->watermark = from->watermark;
		to->has_watermark = true;
	}
	from->has_watermark = false;
	from->watermark = 0;
	for (size_t j = 0; j < from->rs->n_rules; j++) {
		int i = find_rule(to, from->rule_keys[j]);
		if (i >= 0)
			to->hits[i] += from->hits[j];
		from->hits[j] = 0;
	}
}

/* `to` starts tracking with `from`: what it already holds is unsaved. */
static void start_tracking(struct engine *to)
{
	to->tracking = true;
	for (size_t i = 0; i < to->rs->n_rules; i++) {
		struct window_groups *t = &to->corr[i].groups;
		for (size_t s = 0; to->corr[i].c && s < t->n_slots; s++)
			if (t->slots[s])
				engine_state_touch(to, t->slots[s]);
	}
}

static int move_dels(struct engine *to, struct engine *from)
{
	int rc = 0;

	for (size_t i = 0; i < from->n_dels; i++) {
		const struct state_del *d = &from->dels[i];
		if (to->tracking &&
		    del_push(to, d->buf, d->buf + d->rule_key_len + 1,
			     d->key_len) < 0)
			rc = -1;
	}
	dels_clear(from);
	return rc;
}

int engine_transfer(struct engine *from, struct engine *to)
{
	int rc = 0;

	if (from->tracking && !to->tracking)
		start_tracking(to);
	if (move_dels(to, from) < 0)
		rc = -1;
	for (size_t j = 0; j < from->rs->n_rules; j++)
		if (from->corr[j].c && transfer_rule(to, from, j) < 0)
			rc = -1;
	/* what is left on from's dirty list belongs to moved tables */
	if (from->dirty_head) {
		if (to->dirty_tail) {
			to->dirty_tail->dirty_next = from->dirty_head;
			from->dirty_head->dirty_prev = to->dirty_tail;
		} else {
			to->dirty_head = from->dirty_head;
		}
		to->dirty_tail = from->dirty_tail;
		from->dirty_head = from->dirty_tail = NULL;
	}
	transfer_scalars(to, from);
	if (from->ext && to->ext)
		ext_state_transfer(from->ext, to->ext);
	return rc;
}
