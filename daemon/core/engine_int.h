/*
 * engine_int: the engine's private state, shared by engine.c (evaluation)
 * and engine_state.c (checkpoints: rule keys, change tracking, save,
 * restore, transfer).  Not part of the public interface (engine.h).
 *
 * Change tracking (engine_state.c) is off until the engine's state is
 * first saved or restored, so `custos replay` pays nothing for it.  While
 * on: every group touched since the last successful save is on the dirty
 * list (intrusive, window_group.dirty_prev/next, in touch order); every
 * group removed after it was saved leaves a deletion record (owned copies
 * of its rule key and group key).  Both are bounded by the work done since
 * the last save.
 */
#ifndef CUSTOS_ENGINE_INT_H
#define CUSTOS_ENGINE_INT_H

#include "engine.h"
#include "window.h"

#include <stdbool.h>

struct corr_state {
	const struct rule *rule;
	const struct correlation *c;
	struct window_params wp;
	struct window_groups groups;
	bool closes;
	struct engine *e;
};

/* A group to delete from the store: buf = rule key, NUL, group key. */
struct state_del {
	char *buf;
	size_t rule_key_len, key_len;
};

struct engine {
	const struct ruleset *rs;
	struct engine_limits lim;
	engine_alert_fn on_alert;
	void *arg;
	uint64_t *hits;
	struct corr_state *corr; /* by rule index; NULL c for
				    detections */
	struct engine_stats stats;
	bool has_watermark;
	int64_t watermark;
	const struct event *ev;	      /* during engine_process() */
	char *ev_json;		      /* its JSON, made on first use */
	struct evidence *ev_evidence; /* its evidence copy, made on first
					 use; shared by the windows */
	char *key;		      /* group key scratch */
	size_t key_size;
	const char **vals; /* group values scratch */
	size_t *lens;
	/* checkpoints (engine_state.c) */
	char **rule_keys; /* by rule index, owned */
	bool tracking;
	bool quiet_remove; /* removing without recording a deletion */
	struct window_group *dirty_head, *dirty_tail;
	struct state_del *dels;
	size_t n_dels, cap_dels;
	/* custos rule extensions (ext_state.h); NULL when no rule has any */
	struct ext_state *ext;
	/* detection prefilter (rule_index.h) */
	struct rule_index *index;
	uint32_t *cand; /* its candidates, n_detections scratch */
	/* rule_index_slots() of each detection */
	const uint32_t **det_slots;
	/* rule indices of the closing correlations, ascending (close_due) */
	uint32_t *closing;
	size_t n_closing;
};

/* Appends "<len>:<bytes>" to the group key scratch at *at (engine.c). */
int engine_key_append(struct engine *e, size_t *at, const char *v, size_t len);

/* Computes every rule's key (engine_new).  0 or -1 (out of memory). */
int engine_rule_keys_compute(struct engine *e);
/* Frees rule keys and pending changes (engine_free). */
void engine_state_free(struct engine *e);
/* A group was touched (engine.c): put it on the dirty list. */
void engine_state_touch(struct engine *e, struct window_group *g);
/* window_groups.on_remove hook; arg is the struct corr_state. */
void engine_state_removed(void *arg, struct window_group *g);

#endif
