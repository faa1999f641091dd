/*
 * ext_sequence: runs of near-consecutive customer ids (see ext_sequence.h).
 *
 * Invariants: a key's runs[0..n_runs) are the open runs of that key, each
 * with 1 <= len; `expires` is the latest first_ts + timespan of its runs,
 * so a key past it holds nothing that can grow and may be swept.  Entries
 * of the map own their struct seq_key (ptr).  Clock: event time only.
 */
#include "ext_sequence.h"

#include "ext_map.h"
#include "state_codec.h"

#include <stdlib.h>
#include <string.h>

#define CODEC_VERSION 1
#define MAX_BLOB ((size_t)1 << 16)
#define MAX_KEY 4096
#define MAX_DIGITS 18
#define F_DIRTY 1
#define F_SAVED 2

struct run {
	int64_t last_id;
	int64_t first_ts, last_ts;
	uint32_t prefix;
	uint32_t len;
	int dir; /* +1 up, -1 down, 0 not known yet (len 1) */
};

struct seq_key {
	struct run runs[EXT_SEQ_MAX_RUNS];
	size_t n_runs;
	int64_t expires;
	int flags;
};

struct ext_sequence {
	struct ext_map keys; /* rule key NUL agent -> struct seq_key */
	struct ext_map dels; /* saved keys swept since the last save */
	uint64_t n_cap_hits;
	uint64_t n_nomem; /* entries lost to allocation failures */
};

struct ext_sequence *ext_sequence_new(size_t max_keys)
{
	struct ext_sequence *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	ext_map_init(&s->keys, max_keys ? max_keys : 1);
	ext_map_init(&s->dels, max_keys ? max_keys : 1);
	return s;
}

void ext_sequence_free(struct ext_sequence *s)
{
	size_t i = 0;
	struct ext_map_entry *en;

	if (s == NULL)
		return;
	while ((en = ext_map_next(&s->keys, &i)) != NULL)
		free(en->ptr);
	ext_map_clear(&s->keys);
	ext_map_clear(&s->dels);
	free(s);
}

uint64_t ext_sequence_cap_hits(const struct ext_sequence *s)
{
	return s->n_cap_hits;
}

uint64_t ext_sequence_nomem(const struct ext_sequence *s)
{
	return s->n_nomem;
}

size_t ext_sequence_n_keys(const struct ext_sequence *s)
{
	return s->keys.n;
}

int ext_sequence_parse_id(const char *customer, size_t len, int64_t *id,
			  uint32_t *prefix)
{
	size_t i = len;
	uint32_t h = 2166136261u;
	int64_t v = 0;

	while (i > 0 && customer[i - 1] >= '0' && customer[i - 1] <= '9')
		i--;
	if (i == len || len - i > MAX_DIGITS)
		return -1;
	for (size_t k = i; k < len; k++)
		v = v * 10 + (customer[k] - '0');
	for (size_t k = 0; k < i; k++)
		h = (h ^ (unsigned char)customer[k]) * 16777619u;
	*id = v;
	*prefix = h;
	return 0;
}

/* ---- runs ---- */

/* One pass over the key's runs: drops those whose first view is more than
 * the timespan before ts, and returns the open run that id extends (the
 * longest), or NULL; *same when id is the last id of a run (a repeated
 * view).  Kept runs move down in order, so a returned pointer stays
 * valid. */
static struct run *scan_runs(struct seq_key *k, int64_t id, uint32_t prefix,
			     int64_t ts, const struct ext_seq_params *p,
			     bool *same)
{
	struct run *best = NULL;
	size_t j = 0;

	*same = false;
	for (size_t i = 0; i < k->n_runs; i++) {
		if (ts - k->runs[i].first_ts > p->timespan_ms)
			continue;
		if (j != i)
			k->runs[j] = k->runs[i];
		struct run *r = &k->runs[j++];
		if (*same || r->prefix != prefix)
			continue;
		int64_t d = id - r->last_id;
		if (d == 0) {
			*same = true;
			best = r;
			continue;
		}
		if ((d > 0 ? d : -d) > p->gap ||
		    (r->dir != 0 && r->dir != (d > 0 ? 1 : -1)))
			continue;
		if (best == NULL || r->len > best->len)
			best = r;
	}
	k->n_runs = j;
	return best;
}

static void start_run(struct ext_sequence *s, struct seq_key *k, int64_t id,
		      uint32_t prefix, int64_t ts)
{
	size_t at = k->n_runs;

	if (at == EXT_SEQ_MAX_RUNS) {
		at = 0;
		for (size_t i = 1; i < k->n_runs; i++) {
			const struct run *r = &k->runs[i], *o = &k->runs[at];
			if ((r->len == 1) > (o->len == 1) ||
			    ((r->len == 1) == (o->len == 1) &&
			     r->last_ts < o->last_ts))
				at = i;
		}
		s->n_cap_hits += k->runs[at].len > 1;
	} else {
		k->n_runs++;
	}
	k->runs[at] = (struct run){id, ts, ts, prefix, 1, 0};
}

/* ---- keys ---- */

static int key_expired(struct ext_map_entry *en, void *arg)
{
	struct ext_sequence *s = ((void **)arg)[0];
	const int64_t *now = ((void **)arg)[1];
	const struct seq_key *k = en->ptr;
	int created, full;

	if (k->expires >= *now)
		return 0;
	if ((k->flags & F_SAVED) &&
	    ext_map_put(&s->dels, ext_map_key(en), en->key_len, &created,
			&full) == NULL) {
		s->n_cap_hits += full;
		s->n_nomem += !full;
	}
	free(en->ptr);
	return 1;
}

static struct seq_key *get_key(struct ext_sequence *s, const char *key,
			       size_t len, int64_t ts)
{
	int created, full;
	struct ext_map_entry *en =
	    ext_map_put(&s->keys, key, len, &created, &full);

	if (en == NULL && full) {
		void *arg[2] = {s, &ts};
		ext_map_sweep(&s->keys, key_expired, arg);
		en = ext_map_put(&s->keys, key, len, &created, &full);
	}
	if (en == NULL) {
		s->n_cap_hits += full;
		s->n_nomem += !full;
		return NULL;
	}
	if (created) {
		struct ext_map_entry *d = ext_map_find(&s->dels, key, len);
		if (d)
			ext_map_del(&s->dels, d);
		if ((en->ptr = calloc(1, sizeof(struct seq_key))) == NULL) {
			ext_map_del(&s->keys, en);
			s->n_nomem++;
			return NULL;
		}
	}
	return en->ptr;
}

/* "rule key NUL agent" into buf; 0 or -1 when too long. */
static int make_key(char *buf, size_t cap, const char *rule_key,
		    const char *agent, size_t agent_len, size_t *len)
{
	size_t rl = strlen(rule_key);

	if (rl + 1 + agent_len > cap)
		return -1;
	memcpy(buf, rule_key, rl + 1);
	memcpy(buf + rl + 1, agent, agent_len);
	*len = rl + 1 + agent_len;
	return 0;
}

bool ext_sequence_step(struct ext_sequence *s, const char *rule_key,
		       const char *agent, size_t agent_len,
		       const char *customer, size_t customer_len, int64_t ts,
		       const struct ext_seq_params *p)
{
	char kb[MAX_KEY];
	size_t klen;
	int64_t id;
	uint32_t prefix;
	bool same;

	if (ext_sequence_parse_id(customer, customer_len, &id, &prefix) < 0 ||
	    make_key(kb, sizeof(kb), rule_key, agent, agent_len, &klen) < 0)
		return false;
	struct seq_key *k = get_key(s, kb, klen, ts);
	if (k == NULL)
		return false;
	k->flags |= F_DIRTY;
	struct run *r = scan_runs(k, id, prefix, ts, p, &same);
	if (r && same) {
		r->last_ts = ts > r->last_ts ? ts : r->last_ts;
		return false;
	}
	if (r == NULL) {
		start_run(s, k, id, prefix, ts);
	} else {
		r->dir = id > r->last_id ? 1 : -1;
		r->last_id = id;
		r->last_ts = ts > r->last_ts ? ts : r->last_ts;
		r->len++;
	}
	if (r == NULL && ts + p->timespan_ms > k->expires)
		k->expires = ts + p->timespan_ms;
	return r != NULL && r->len == (uint32_t)p->min_run;
}

/* ---- persistence ---- */

static unsigned char *encode_key(const struct seq_key *k, size_t *len)
{
	struct codec_writer w;

	codec_writer_init(&w, MAX_BLOB, CODEC_VERSION);
	codec_put_u8(&w, 'Q');
	codec_put_i64(&w, k->expires);
	codec_put_u64(&w, k->n_runs);
	for (size_t i = 0; i < k->n_runs; i++) {
		const struct run *r = &k->runs[i];
		codec_put_i64(&w, r->last_id);
		codec_put_i64(&w, r->first_ts);
		codec_put_i64(&w, r->last_ts);
		codec_put_u64(&w, r->prefix);
		codec_put_u64(&w, r->len);
		codec_put_i64(&w, r->dir);
	}
	return codec_writer_finish(&w, len);
}

static int emit(engine_state_fn fn, void *arg, const struct ext_map_entry *en,
		unsigned char *blob, size_t len)
{
	int rc = fn(arg, "custos:" EXT_SEQ_KIND, ext_map_key(en), en->key_len,
		    blob, len);
	free(blob);
	return rc < 0 ? -1 : 0;
}

int ext_sequence_save(struct ext_sequence *s, bool all, engine_state_fn fn,
		      void *arg)
{
	size_t i = 0, len = 0;
	struct ext_map_entry *en;

	while ((en = ext_map_next(&s->dels, &i)) != NULL)
		if (emit(fn, arg, en, NULL, 0) < 0)
			return -1;
	i = 0;
	while ((en = ext_map_next(&s->keys, &i)) != NULL) {
		struct seq_key *k = en->ptr;
		if (!all && !(k->flags & F_DIRTY))
			continue;
		unsigned char *blob = encode_key(k, &len);
		if (blob == NULL || emit(fn, arg, en, blob, len) < 0)
			return -1;
	}
	i = 0;
	while ((en = ext_map_next(&s->keys, &i)) != NULL)
		((struct seq_key *)en->ptr)->flags = F_SAVED;
	ext_map_clear(&s->dels);
	return 0;
}

static int decode_key(struct codec_reader *r, struct seq_key *k)
{
	if (codec_get_u8(r) != 'Q')
		return -1;
	k->expires = codec_get_i64(r);
	uint64_t n = codec_get_u64(r);
	if (r->failed || n > EXT_SEQ_MAX_RUNS)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct run *u = &k->runs[i];
		u->last_id = codec_get_i64(r);
		u->first_ts = codec_get_i64(r);
		u->last_ts = codec_get_i64(r);
		uint64_t prefix = codec_get_u64(r), len = codec_get_u64(r);
		int64_t dir = codec_get_i64(r);
		if (prefix > UINT32_MAX || len == 0 || len > UINT32_MAX ||
		    dir < -1 || dir > 1 || u->last_ts < u->first_ts)
			return -1;
		u->prefix = (uint32_t)prefix;
		u->len = (uint32_t)len;
		u->dir = (int)dir;
	}
	k->n_runs = n;
	return codec_reader_done(r) ? 0 : -1;
}

int ext_sequence_restore(struct ext_sequence *s, const void *key,
			 size_t key_len, const void *blob, size_t blob_len)
{
	struct codec_reader r;
	struct seq_key *k = calloc(1, sizeof(*k));
	int created, full;

	if (k == NULL || key_len == 0 || key_len > MAX_KEY ||
	    memchr(key, '\0', key_len) == NULL ||
	    codec_reader_init(&r, blob, blob_len, CODEC_VERSION) < 0 ||
	    decode_key(&r, k) < 0) {
		free(k);
		return -1;
	}
	struct ext_map_entry *en =
	    ext_map_put(&s->keys, key, key_len, &created, &full);
	if (en == NULL) {
		free(k);
		s->n_cap_hits += full;
		return full ? 1 : -1;
	}
	if (!created)
		free(en->ptr);
	k->flags = F_SAVED;
	en->ptr = k;
	return 1;
}
