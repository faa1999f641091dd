/*
 * window: per-group correlation state — a time-ordered window of entries
 * with incremental aggregates (count, distinct values, sum, per-rule tags,
 * an evidence sample), and the table of groups of one correlation rule
 * (hash by group key, least-recently-updated list for eviction, a min-heap
 * of window close times for lt/lte/eq conditions).
 *
 * Everything here is plain data owned by the window or the table: strings
 * are copied in, entries refer to distinct values by slot number, never to
 * events, so a group can be serialised (checkpointed) as it is.
 *
 * Time is event time only (the caller's timestamps); nothing reads a clock.
 * A sliding window holds the entries with ts in (newest - timespan, newest];
 * a closing window (for upper-bound conditions) holds [open, open+timespan)
 * and never slides.  Every limit that is hit is reported to the caller,
 * which counts it.
 */
#ifndef CUSTOS_WINDOW_H
#define CUSTOS_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WINDOW_NONE UINT32_MAX

struct window_params {
	int64_t timespan_ms;
	size_t max_events;	 /* entries kept; the oldest is dropped */
	size_t max_distinct;	 /* distinct values kept */
	size_t evidence_sample;	 /* evidence strings kept (0: none) */
	int64_t max_lateness_ms; /* older than newest - this: refused */
	uint32_t n_tags;	 /* tags 0..n_tags-1 (referenced rules) */
	bool sliding;		 /* false: a closing window, see above */
};

struct window_entry {
	int64_t ts_ms;
	double num;    /* added to the sum (0 when unused) */
	uint32_t slot; /* distinct value slot or WINDOW_NONE */
	uint32_t tag;  /* tag or WINDOW_NONE */
};

/* Values shorter than this are kept in their slot (no allocation). */
#define WINDOW_VALUE_INLINE 16

struct window_value {
	union {
		char *str; /* owned copy, when len >= WINDOW_VALUE_INLINE */
		char inl[WINDOW_VALUE_INLINE]; /* when shorter */
	} u;	      /* NUL-terminated; see window_value_str() */
	uint32_t len; /* 0 in a free slot */
	uint32_t hash;
	uint64_t count; /* entries in the window with this value;
			   0 = free slot */
	uint32_t next_free;
};

struct window_bucket {
	uint32_t idx; /* WINDOW_NONE when empty */
	uint32_t hash;
};

struct evidence;

struct window_sample {
	int64_t ts_ms;
	struct evidence *ev; /* one reference (evidence.h) */
};

struct window {
	struct window_entry *ring; /* capacity a power of two, time order */
	size_t head, n, cap;
	bool has_events; /* newest/open are set */
	int64_t newest_ts;
	int64_t open_ts; /* first event since the window (re)started */
	double sum;
	struct window_value *vals;
	size_t n_vals, cap_vals, n_distinct;
	uint32_t free_head;
	struct window_bucket *buckets;
	size_t n_buckets;
	uint32_t *tag_count; /* n_tags entries, allocated on first tag */
	uint32_t n_tags_present;
	struct window_sample *samples; /* ring of evidence_sample entries */
	size_t sample_head, n_samples;
	/* Room kept by the window's owner (a group's block), used before
	 * anything is allocated and never freed here: the first
	 * WINDOW_RING_INLINE entries' ring and n_samples_inl samples.  NULL /
	 * 0 when none; kept across window_clear(). */
	struct window_entry *ring_inl;
	struct window_sample *samples_inl;
	size_t n_samples_inl;
	/* likewise, for windows that count distinct values: the first
	 * WINDOW_VALS_INLINE value slots and WINDOW_BUCKETS_INLINE buckets */
	struct window_value *vals_inl;
	struct window_bucket *buckets_inl;
};

/* Entries of a group's first ring, kept in the group's block. */
#define WINDOW_RING_INLINE 8
/* The first distinct-value slots and buckets, kept there too when the
 * table's groups count distinct values (window_groups.distinct_room). */
#define WINDOW_VALS_INLINE 4
#define WINDOW_BUCKETS_INLINE 16

/* What window_add() did. */
enum window_status {
	WINDOW_ADDED,
	WINDOW_OVERFLOW,      /* added; the oldest entry was dropped */
	WINDOW_LATE,	      /* refused: too old (lateness, expired, or
				 before a closing window opened) */
	WINDOW_DISTINCT_FULL, /* refused: a new value past max_distinct */
	WINDOW_NOMEM,
};

/* One event's contribution.  value may be NULL (no distinct counting). */
struct window_item {
	int64_t ts_ms;
	const char *value;
	size_t value_len;
	double num;
	uint32_t tag;
};

void window_init(struct window *w);
/* Frees everything the window owns and re-initialises it. */
void window_clear(struct window *w);

/* Adds one entry in time order (a late one within lateness is inserted
 * where it belongs), then, for a sliding window, drops the entries at or
 * before newest - timespan. */
enum window_status window_add(struct window *w, const struct window_params *p,
			      const struct window_item *it);

/* Sliding windows: drops entries with ts <= now_ms - timespan. */
void window_expire(struct window *w, const struct window_params *p,
		   int64_t now_ms);

/* Keeps a new reference to `ev` (evidence.h; the caller keeps its own) as
 * evidence; the oldest sample goes when evidence_sample are kept.  Nothing
 * is kept when evidence_sample is 0 or ev is NULL.  Returns 0, or -1 when
 * the sample ring cannot be allocated (nothing kept: the caller counts the
 * lost sample). */
int window_add_sample(struct window *w, const struct window_params *p,
		      int64_t ts_ms, struct evidence *ev);

/* Fills out[] (up to max) with the JSON of the kept samples that are still
 * inside the window, in insertion order; returns how many.  The JSON is
 * made on first use (evidence_json()); a sample whose JSON cannot be made
 * (out of memory) is left out and added to *n_nomem.  Borrowed pointers,
 * valid until the window changes. */
size_t window_samples(const struct window *w, const struct window_params *p,
		      char **out, size_t max, size_t *n_nomem);

static inline size_t window_count(const struct window *w)
{
	return w->n;
}
static inline size_t window_distinct(const struct window *w)
{
	return w->n_distinct;
}
static inline double window_sum(const struct window *w)
{
	return w->sum;
}
static inline uint32_t window_tags_present(const struct window *w)
{
	return w->n_tags_present;
}
/* The bytes of a distinct value (len of them, then a NUL). */
static inline const char *window_value_str(const struct window_value *v)
{
	return v->len < WINDOW_VALUE_INLINE ? v->u.inl : v->u.str;
}
/* The i-th entry in time order (0 = oldest). */
const struct window_entry *window_entry_at(const struct window *w, size_t i);

/* ---- groups of one correlation rule ---- */

/* The triggering event kept for a closing window (the last one added). */
struct window_trigger {
	int64_t ts_ms;
	char *json;
	char *input;
	char *path;
	uint64_t line, offset;
};

struct window_group {
	/* what a look-up, a touch and an eviction read first, together (58
	 * bytes: one or two cache lines) */
	char *key; /* length-prefixed values, see engine.c */
	size_t key_len;
	uint32_t hash;
	uint32_t self;	  /* index in the table */
	uint64_t touched; /* table clock at the last window_groups_get() */
	uint32_t lru_prev, lru_next; /* slots, WINDOW_NONE at the ends */
	uint32_t block_size;	     /* bytes of the group's block (window.c) */
	/* for the table's user (the engine's change tracking) */
	uint32_t owner; /* copied from window_groups.owner */
	bool dirty, saved;
	/* the rest */
	int64_t close_ts; /* closing windows: open + timespan */
	size_t heap_pos;  /* SIZE_MAX when not scheduled */
	char **values;	  /* group-by values, owned */
	size_t n_values;
	struct window win;
	struct window_trigger last;
	struct window_group *dirty_prev, *dirty_next;
};

struct window_groups {
	struct window_group **slots; /* NULL = free */
	size_t n_slots, n_groups, max_groups;
	uint32_t *free_ids; /* stack of free slots (n_slots cap) */
	size_t n_free_ids;
	struct window_bucket *buckets;
	size_t n_buckets;
	uint32_t lru_head, lru_tail; /* head = least recently updated */
	struct window_group **heap;  /* by close_ts, then key */
	size_t n_heap, cap_heap;
	uint64_t clock;	   /* last `touched` given */
	bool lru_unsorted; /* restored groups: sort before evicting */
	uint32_t owner;	   /* given to every new group */
	/* samples room in each new group's block (window.ring_inl); kept
	 * across window_groups_clear() */
	size_t evidence_sample;
	bool distinct_room; /* room for distinct values too; kept likewise */
	/* called by window_groups_remove() before a group is freed (not by
	 * window_groups_clear()); kept across window_groups_clear() */
	void (*on_remove)(void *arg, struct window_group *g);
	void *on_remove_arg;
};

void window_groups_init(struct window_groups *t, size_t max_groups);
void window_groups_clear(struct window_groups *t);

/* Finds the group for key, or creates it (values copied; *created set).
 * When max_groups are live the least recently updated group is dropped
 * first (*evicted set).  The group becomes the most recently updated.
 * NULL on allocation failure.  Pointers stay valid until the group is
 * removed. */
struct window_group *
window_groups_get(struct window_groups *t, const char *key, size_t key_len,
		  const char *const *values, const size_t *value_lens,
		  size_t n_values, bool *created, bool *evicted);

/* window_groups_get() with the key's hash already computed (it must be
 * window_groups_hash(key, key_len)). */
struct window_group *
window_groups_get_hashed(struct window_groups *t, const char *key,
			 size_t key_len, uint32_t hash,
			 const char *const *values, const size_t *value_lens,
			 size_t n_values, bool *created, bool *evicted);

/* The hash of a group key, as the table computes it. */
uint32_t window_groups_hash(const char *key, size_t key_len);

/* A hint: starts loading what a look-up of a key with this hash reads
 * first, so that several tables' look-ups can overlap their cache misses.
 * Changes nothing. */
void window_groups_prefetch(const struct window_groups *t, uint32_t hash);

/* Finds the group for key without touching it; NULL if none. */
struct window_group *window_groups_find(const struct window_groups *t,
					const char *key, size_t key_len);

/* Adds a group being restored from a checkpoint: like window_groups_get()
 * for a new key, but with the saved `touched` (the least-recently-updated
 * order is rebuilt before the next eviction) and without evicting: NULL
 * with *full set when max_groups are live, NULL on allocation failure. */
struct window_group *
window_groups_restore(struct window_groups *t, const char *key, size_t key_len,
		      const char *const *values, const size_t *value_lens,
		      size_t n_values, uint64_t touched, bool *full);

/* Removes and frees a group. */
void window_groups_remove(struct window_groups *t, struct window_group *g);

/* Schedules g to close at close_ts.  -1 on allocation failure. */
int window_groups_schedule(struct window_groups *t, struct window_group *g,
			   int64_t close_ts);

/* The scheduled group with the smallest close_ts, or NULL. */
struct window_group *window_groups_next_close(const struct window_groups *t);

/* Keeps ownership of a trigger's strings: frees the old ones, copies. */
int window_trigger_set(struct window_trigger *tr, int64_t ts_ms,
		       const char *json, const char *input, const char *path,
		       uint64_t line, uint64_t offset);

/* ---- checkpoints (window_codec.c) ---- */

struct codec_writer;
struct codec_reader;

#define WINDOW_CODEC_MAX_VALUE 65536	       /* bytes per group-by value */
#define WINDOW_CODEC_MAX_JSON (1u << 20)       /* bytes per event JSON */
#define WINDOW_CODEC_MAX_VALUES 64	       /* group-by values per group */
#define WINDOW_CODEC_MAX_TS ((int64_t)1 << 60) /* |ts| accepted */

/* Appends group g (its values, window, evidence and trigger) to w. */
void window_group_encode(struct codec_writer *w, const struct window_group *g,
			 const struct window_params *p);

/* Reads a group written by window_group_encode() under the same params
 * and adds it to t under key (see window_groups_restore()).  Everything
 * is validated against p: n_values values, entry and distinct counts,
 * time order, timestamps inside the window, tags, the closing schedule.
 * Returns 1 with *out set, 0 when the table is full (dropped), -1 when
 * the blob is invalid or memory ran out (nothing is added). */
int window_group_decode(struct codec_reader *r, const struct window_params *p,
			size_t n_values, struct window_groups *t,
			const char *key, size_t key_len,
			struct window_group **out);

#endif
