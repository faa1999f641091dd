/*
 * window_codec: a correlation group as a checkpoint record, and back.
 *
 * Record (inside a state_codec blob; see window_group_encode()):
 *   touched, n_values, values[], flags (bit 0: closing window),
 *   newest_ts, open_ts, sum (exact bits),
 *   closing only: close_ts, trigger (ts, json?, input?, path?, line, offset),
 *   n_distinct, distinct values[] (renumbered in order of first use),
 *   n_entries, entries[] (ts, num, distinct index + 1 or 0, tag + 1 or 0),
 *   n_samples, samples[] (ts, json), oldest first.
 *
 * Decoding validates the whole record into temporaries first (bounds come
 * from the window params and from the bytes left, so no count can make us
 * allocate more than the blob could describe), then rebuilds the window
 * through window_add() itself, so every invariant of window.c (hash
 * tables, counts, tags) holds by construction; only sum, open and newest
 * are then set to the saved values, which keeps sums bit-identical to
 * those of an uninterrupted run.
 */
#include "window.h"

#include "evidence.h"

#include "state_codec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ENTRY_MIN_BYTES 11 /* ts 1 + num 8 + slot 1 + tag 1 */

static bool ts_ok(int64_t ts)
{
	return ts >= -WINDOW_CODEC_MAX_TS && ts <= WINDOW_CODEC_MAX_TS;
}

/* ---- encoding ---- */

static void encode_trigger(struct codec_writer *w,
			   const struct window_trigger *tr)
{
	codec_put_i64(w, tr->ts_ms);
	codec_put_str(w, tr->json);
	codec_put_str(w, tr->input);
	codec_put_str(w, tr->path);
	codec_put_u64(w, tr->line);
	codec_put_u64(w, tr->offset);
}

/* Distinct values in order of first use by the entries; map[slot] is the
 * new number.  map may be NULL when the window has no values. */
static void encode_values(struct codec_writer *w, const struct window *win,
			  uint32_t *map)
{
	uint32_t next = 0;

	codec_put_u64(w, win->n_distinct);
	for (size_t i = 0; map != NULL && i < win->n; i++) {
		uint32_t s = window_entry_at(win, i)->slot;
		if (s == WINDOW_NONE || map[s] != WINDOW_NONE)
			continue;
		map[s] = next++;
		codec_put_bytes(w, window_value_str(&win->vals[s]),
				win->vals[s].len);
	}
}

static void encode_entries(struct codec_writer *w, const struct window *win,
			   const uint32_t *map)
{
	codec_put_u64(w, win->n);
	for (size_t i = 0; i < win->n; i++) {
		const struct window_entry *e = window_entry_at(win, i);
		codec_put_i64(w, e->ts_ms);
		codec_put_f64(w, e->num);
		codec_put_u64(w, e->slot == WINDOW_NONE || map == NULL
				     ? 0
				     : (uint64_t)map[e->slot] + 1);
		codec_put_u64(w,
			      e->tag == WINDOW_NONE ? 0 : (uint64_t)e->tag + 1);
	}
}

void window_group_encode(struct codec_writer *w, const struct window_group *g,
			 const struct window_params *p)
{
	const struct window *win = &g->win;
	uint32_t *map = NULL;

	codec_put_u64(w, g->touched);
	codec_put_u64(w, g->n_values);
	for (size_t i = 0; i < g->n_values; i++)
		codec_put_bytes(w, g->values[i], strlen(g->values[i]));
	codec_put_u8(w, p->sliding ? 0 : 1);
	codec_put_i64(w, win->newest_ts);
	codec_put_i64(w, win->open_ts);
	codec_put_f64(w, win->sum);
	if (!p->sliding) {
		codec_put_i64(w, g->close_ts);
		encode_trigger(w, &g->last);
	}
	if (win->n_vals > 0) {
		map = malloc(win->n_vals * sizeof(*map));
		if (map == NULL) {
			w->failed = true;
			return;
		}
		for (size_t i = 0; i < win->n_vals; i++)
			map[i] = WINDOW_NONE;
	}
	encode_values(w, win, map);
	encode_entries(w, win, map);
	free(map);
	codec_put_u64(w, win->n_samples);
	for (size_t i = 0; i < win->n_samples; i++) {
		const struct window_sample *s =
		    &win->samples[(win->sample_head + i) % p->evidence_sample];
		const char *json = evidence_json(s->ev);
		if (json == NULL) {
			w->failed = true;
			return;
		}
		codec_put_i64(w, s->ts_ms);
		codec_put_bytes(w, json, strlen(json));
	}
}

/* ---- decoding ---- */

struct span {
	const char *p;
	size_t len;
};

/* The record, read and validated, pointing into the blob. */
struct image {
	uint64_t touched;
	struct span values[WINDOW_CODEC_MAX_VALUES];
	size_t n_values;
	bool closing;
	int64_t newest_ts, open_ts, close_ts;
	double sum;
	int64_t tr_ts;
	struct span tr_json, tr_input, tr_path;
	bool has_json, has_input, has_path;
	uint64_t tr_line, tr_offset;
	struct span *distinct;
	size_t n_distinct;
	struct window_entry *entries;
	size_t n_entries;
	struct window_sample *samples; /* json: unused; see sample_json */
	struct span *sample_json;
	size_t n_samples;
};

static void image_free(struct image *im)
{
	free(im->distinct);
	free(im->entries);
	free(im->samples);
	free(im->sample_json);
}

static int read_head(struct codec_reader *r, const struct window_params *p,
		     size_t n_values, struct image *im)
{
	im->touched = codec_get_u64(r);
	if (codec_get_u64(r) != n_values || n_values > WINDOW_CODEC_MAX_VALUES)
		return -1;
	im->n_values = n_values;
	for (size_t i = 0; i < n_values; i++) {
		im->values[i].p = codec_get_bytes(r, &im->values[i].len,
						  WINDOW_CODEC_MAX_VALUE);
		if (im->values[i].p == NULL ||
		    memchr(im->values[i].p, '\0', im->values[i].len))
			return -1;
	}
	uint8_t flags = codec_get_u8(r);
	im->closing = flags == 1;
	im->newest_ts = codec_get_i64(r);
	im->open_ts = codec_get_i64(r);
	im->sum = codec_get_f64(r);
	if (r->failed || flags > 1 || im->closing == p->sliding ||
	    !ts_ok(im->newest_ts) || !ts_ok(im->open_ts) ||
	    im->open_ts > im->newest_ts || !isfinite(im->sum))
		return -1;
	return 0;
}

static int read_span_str(struct codec_reader *r, struct span *s, bool *present)
{
	s->p = codec_get_str(r, &s->len, WINDOW_CODEC_MAX_JSON, present);
	return r->failed || (*present && memchr(s->p, '\0', s->len)) ? -1 : 0;
}

static int read_trigger(struct codec_reader *r, const struct window_params *p,
			struct image *im)
{
	if (!im->closing)
		return 0;
	im->close_ts = codec_get_i64(r);
	im->tr_ts = codec_get_i64(r);
	if (read_span_str(r, &im->tr_json, &im->has_json) < 0 ||
	    read_span_str(r, &im->tr_input, &im->has_input) < 0 ||
	    read_span_str(r, &im->tr_path, &im->has_path) < 0)
		return -1;
	im->tr_line = codec_get_u64(r);
	im->tr_offset = codec_get_u64(r);
	if (r->failed || !ts_ok(im->tr_ts) || im->tr_ts < im->open_ts ||
	    im->tr_ts > im->newest_ts ||
	    im->close_ts != im->open_ts + p->timespan_ms)
		return -1;
	return 0;
}

static int read_distinct(struct codec_reader *r, const struct window_params *p,
			 struct image *im)
{
	uint64_t n = codec_get_u64(r);

	if (r->failed || n > p->max_distinct || n > codec_remaining(r))
		return -1;
	im->n_distinct = (size_t)n;
	im->distinct = calloc(n ? n : 1, sizeof(*im->distinct));
	if (im->distinct == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct span *s = &im->distinct[i];
		s->p = codec_get_bytes(r, &s->len, WINDOW_CODEC_MAX_VALUE);
		if (s->p == NULL || memchr(s->p, '\0', s->len))
			return -1;
	}
	return 0;
}

static bool entry_in_window(const struct window_params *p,
			    const struct image *im, int64_t ts)
{
	if (!ts_ok(ts) || ts > im->newest_ts)
		return false;
	if (p->sliding)
		return ts > im->newest_ts - p->timespan_ms;
	return ts >= im->open_ts;
}

/* Entries: time order, inside the window, valid slots and tags; every
 * distinct value used at least once. */
static int read_entries(struct codec_reader *r, const struct window_params *p,
			struct image *im)
{
	uint64_t n = codec_get_u64(r);
	bool *used = calloc(im->n_distinct + 1, sizeof(*used));
	size_t n_used = 0;
	int rc = -1;

	if (used == NULL || r->failed || n == 0 || n > p->max_events ||
	    n > codec_remaining(r) / ENTRY_MIN_BYTES)
		goto done;
	im->entries = malloc((size_t)n * sizeof(*im->entries));
	if (im->entries == NULL)
		goto done;
	im->n_entries = (size_t)n;
	for (size_t i = 0; i < n; i++) {
		struct window_entry *e = &im->entries[i];
		e->ts_ms = codec_get_i64(r);
		e->num = codec_get_f64(r);
		uint64_t slot = codec_get_u64(r), tag = codec_get_u64(r);
		if (r->failed || !entry_in_window(p, im, e->ts_ms) ||
		    !isfinite(e->num) || slot > im->n_distinct ||
		    tag > p->n_tags ||
		    (i > 0 && e->ts_ms < im->entries[i - 1].ts_ms))
			goto done;
		e->slot = slot ? (uint32_t)(slot - 1) : WINDOW_NONE;
		e->tag = tag ? (uint32_t)(tag - 1) : WINDOW_NONE;
		if (slot && !used[slot - 1]) {
			used[slot - 1] = true;
			n_used++;
		}
	}
	rc = n_used == im->n_distinct ? 0 : -1;
done:
	free(used);
	return rc;
}

static int read_samples(struct codec_reader *r, const struct window_params *p,
			struct image *im)
{
	uint64_t n = codec_get_u64(r);

	if (r->failed || n > p->evidence_sample || n > codec_remaining(r))
		return -1;
	im->n_samples = (size_t)n;
	im->samples = calloc(n ? n : 1, sizeof(*im->samples));
	im->sample_json = calloc(n ? n : 1, sizeof(*im->sample_json));
	if (im->samples == NULL || im->sample_json == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct span *s = &im->sample_json[i];
		im->samples[i].ts_ms = codec_get_i64(r);
		s->p = codec_get_bytes(r, &s->len, WINDOW_CODEC_MAX_JSON);
		if (s->p == NULL || !ts_ok(im->samples[i].ts_ms) ||
		    memchr(s->p, '\0', s->len))
			return -1;
	}
	return 0;
}

static char *span_dup(const struct span *s)
{
	char *c = malloc(s->len + 1);

	if (c != NULL) {
		memcpy(c, s->p, s->len);
		c[s->len] = '\0';
	}
	return c;
}

/* Rebuilds the window from a valid image; -1 on allocation failure or if
 * the rebuilt window disagrees with the image (e.g. repeated values). */
static int build_window(struct window_group *g, const struct window_params *p,
			const struct image *im)
{
	struct window *w = &g->win;

	for (size_t i = 0; i < im->n_entries; i++) {
		const struct window_entry *e = &im->entries[i];
		const struct span *v =
		    e->slot == WINDOW_NONE ? NULL : &im->distinct[e->slot];
		struct window_item it = {e->ts_ms, v ? v->p : NULL,
					 v ? v->len : 0, e->num, e->tag};
		if (window_add(w, p, &it) != WINDOW_ADDED)
			return -1;
	}
	if (w->n != im->n_entries || w->n_distinct != im->n_distinct)
		return -1;
	w->sum = im->sum;
	w->open_ts = im->open_ts;
	w->newest_ts = im->newest_ts;
	for (size_t i = 0; i < im->n_samples; i++) {
		struct evidence *ev = evidence_from_json(
		    im->sample_json[i].p, im->sample_json[i].len);
		if (ev == NULL)
			return -1;
		window_add_sample(w, p, im->samples[i].ts_ms, ev);
		evidence_unref(ev);
		if (w->n_samples != i + 1)
			return -1;
	}
	return 0;
}

static int build_trigger(struct window_group *g, const struct image *im)
{
	char *j = im->has_json ? span_dup(&im->tr_json) : NULL;
	char *in = im->has_input ? span_dup(&im->tr_input) : NULL;
	char *pa = im->has_path ? span_dup(&im->tr_path) : NULL;
	int rc = -1;

	if ((!im->has_json || j) && (!im->has_input || in) &&
	    (!im->has_path || pa))
		rc = window_trigger_set(&g->last, im->tr_ts, j, in, pa,
					im->tr_line, im->tr_offset);
	free(j);
	free(in);
	free(pa);
	return rc;
}

static int read_image(struct codec_reader *r, const struct window_params *p,
		      size_t n_values, struct image *im)
{
	if (p->timespan_ms <= 0 || read_head(r, p, n_values, im) < 0 ||
	    read_trigger(r, p, im) < 0 || read_distinct(r, p, im) < 0 ||
	    read_entries(r, p, im) < 0 || read_samples(r, p, im) < 0 ||
	    !codec_reader_done(r))
		return -1;
	return 0;
}

int window_group_decode(struct codec_reader *r, const struct window_params *p,
			size_t n_values, struct window_groups *t,
			const char *key, size_t key_len,
			struct window_group **out)
{
	struct image im;
	const char *vals[WINDOW_CODEC_MAX_VALUES];
	size_t lens[WINDOW_CODEC_MAX_VALUES];
	bool full = false;
	int rc = -1;

	memset(&im, 0, sizeof(im));
	*out = NULL;
	if (read_image(r, p, n_values, &im) < 0)
		goto done;
	for (size_t i = 0; i < im.n_values; i++) {
		vals[i] = im.values[i].p;
		lens[i] = im.values[i].len;
	}
	struct window_group *g = window_groups_restore(
	    t, key, key_len, vals, lens, im.n_values, im.touched, &full);
	if (g == NULL) {
		rc = full ? 0 : -1;
		goto done;
	}
	if (build_window(g, p, &im) < 0 ||
	    (im.closing && (build_trigger(g, &im) < 0 ||
			    window_groups_schedule(t, g, im.close_ts) < 0))) {
		window_groups_remove(t, g);
		goto done;
	}
	*out = g;
	rc = 1;
done:
	image_free(&im);
	return rc;
}
