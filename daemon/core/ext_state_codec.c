/*
 * ext_state_codec: checkpoints of the extension state: per agent under
 * "custos:agent", suppression entries under "custos:suppress" (deleted
 * ones as empty blobs), sequence runs via ext_sequence; blobs in the
 * state_codec format (CODEC_VERSION).  Saving emits dirty entries (or all)
 * and clears the marks only after every emit succeeded; restoring rejects
 * a blob that does not decode exactly.
 */
#include "ext_state.h"

#include "ext_sequence.h"
#include "ext_state_int.h"
#include "state_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- persistence ---- */

static void put_map(struct codec_writer *w, const struct ext_map *m)
{
	size_t i = 0;
	struct ext_map_entry *en;

	codec_put_u64(w, m->n);
	while ((en = ext_map_next(m, &i)) != NULL) {
		codec_put_bytes(w, ext_map_key(en), en->key_len);
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
		if (blob == NULL || emit(fn, arg, "agent", ext_map_key(en),
					 en->key_len, blob, len) < 0)
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
		if (emit(fn, arg, "suppress", ext_map_key(en), en->key_len,
			 NULL, 0) < 0)
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
		if (blob == NULL || emit(fn, arg, "suppress", ext_map_key(en),
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
	struct agent *a = ext_state_agent_new(id, len);
	const char *team = NULL;
	size_t team_len = 0;
	int created, full;

	if (a == NULL || decode_agent(r, a, &team, &team_len) < 0) {
		ext_state_agent_free(a);
		return -1;
	}
	struct ext_map_entry *en =
	    ext_map_put(&x->agents, id, len, &created, &full);
	if (en == NULL) {
		ext_state_agent_free(a);
		x->st.n_cap_hits += full;
		return full ? 1 : -1;
	}
	if (!created) {
		ext_state_team_leave(en->ptr);
		ext_state_agent_free(en->ptr);
	}
	en->ptr = a;
	a->flags = F_SAVED;
	size_t i = 0;
	const struct ext_map_entry *t;
	while ((t = ext_map_next(&a->tickets, &i)) != NULL)
		if (t->num > x->last_assign_ts)
			x->last_assign_ts = t->num;
	if (team)
		ext_state_set_team(x, a, team, team_len);
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
