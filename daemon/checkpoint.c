/*
 * checkpoint: the store transaction that ties alerts, engine state and
 * input positions together (see checkpoint.h).
 */
#include "checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void checkpoint_init(struct checkpoint *c, struct store *store)
{
	memset(c, 0, sizeof(*c));
	c->store = store;
}

static int put_state(void *arg, const char *rule_key, const void *group_key,
		     size_t group_key_len, const void *blob, size_t blob_len)
{
	struct checkpoint *c = arg;

	if (store_state_put(c->store, rule_key, group_key, group_key_len, blob,
			    blob_len) < 0)
		return -1;
	c->n_groups_written++;
	return 0;
}

static int put_positions(struct checkpoint *c, struct pipeline *p)
{
	for (size_t i = 0; i < pipeline_n_inputs(p); i++) {
		struct pipeline_input *pi = pipeline_input_at(p, i);
		size_t len = 0;
		if (pi->in == NULL)
			continue;
		void *blob = pi->ops->position(pi->in, &len);
		if (blob == NULL)
			continue; /* cannot resume (stdin, UDP) */
		int rc = store_position_put(c->store, pi->cfg->name, blob, len);
		free(blob);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* A newly stored alert that a suppression held back from the sinks:
 * resolved by custosd, with the scope in the note.  0 or -1. */
static int resolve_suppressed(struct checkpoint *c, const struct alert *a,
			      int64_t wall_ms)
{
	char note[256];
	const char *rule = alert_rule_id(a);
	struct store_triage t = {.alert_id = a->id,
				 .ts_ms = wall_ms,
				 .user = "custosd",
				 .action = "resolve",
				 .note = note};

	snprintf(note, sizeof(note),
		 "suppressed: rule %.80s for this agent is covered by a "
		 "suppression (not sent to the sinks)",
		 rule ? rule : "?");
	return store_triage(c->store, &t) < 0 ? -1 : 0;
}

static int put_alerts(struct checkpoint *c, struct pipeline *p, int64_t wall_ms,
		      uint64_t *n_new, uint64_t *n_held)
{
	size_t n;
	const struct alert *a = pipeline_pending(p, &n);

	for (size_t i = 0; i < n; i++) {
		int rc = store_add_alert(c->store, &a[i], wall_ms);
		if (rc < 0)
			return -1;
		*n_new += (uint64_t)rc;
		if (rc == 1 && pipeline_pending_held(p, i)) {
			if (resolve_suppressed(c, &a[i], wall_ms) < 0)
				return -1;
			(*n_held)++;
		}
	}
	return 0;
}

int checkpoint_commit(struct checkpoint *c, struct pipeline *p, int64_t wall_ms,
		      int64_t mono_ms, char *err, size_t err_size)
{
	struct engine *e = pipeline_engine(p);
	uint64_t n_new = 0, n_held = 0;
	size_t n_pending;

	pipeline_pending(p, &n_pending);
	if (store_begin(c->store) < 0)
		goto fail;
	if (put_alerts(c, p, wall_ms, &n_new, &n_held) < 0)
		goto fail;
	if (c->retain && retain_write(c->retain, c->store) < 0)
		goto fail;
	if ((c->need_full ? engine_save_all(e, put_state, c)
			  : engine_save_changes(e, put_state, c)) < 0)
		goto fail;
	if (put_positions(c, p) < 0 || store_commit(c->store) < 0)
		goto fail;
	c->need_full = false;
	c->n_commits++;
	c->n_alerts_stored += n_new;
	c->n_alerts_repeated += n_pending - n_new;
	c->n_suppressed_stored += n_held;
	c->last_ms = mono_ms;
	if (c->retain)
		retain_committed(c->retain);
	pipeline_checkpointed(p);
	return 0;
fail:
	snprintf(err, err_size, "checkpoint: %s", store_errmsg(c->store));
	store_rollback(c->store);
	/* the engine may have cleared change marks for rows now rolled
	 * back: write everything next time */
	c->need_full = true;
	c->n_failures++;
	return -1;
}

/* ---- restore ---- */

#define MAX_STALE_RULES 256

struct restore_ctx {
	struct engine *e;
	struct checkpoint_restored *out;
	char *stale[MAX_STALE_RULES];
	size_t n_stale_rules;
	bool oom;
};

static void note_stale(struct restore_ctx *r, const char *rule_key)
{
	for (size_t i = 0; i < r->n_stale_rules; i++)
		if (strcmp(r->stale[i], rule_key) == 0)
			return;
	if (r->n_stale_rules == MAX_STALE_RULES)
		return; /* deleted at a later start */
	if ((r->stale[r->n_stale_rules] = strdup(rule_key)) == NULL)
		r->oom = true;
	else
		r->n_stale_rules++;
}

static int restore_one(void *arg, const char *rule_key, const void *group_key,
		       size_t group_key_len, const void *blob, size_t blob_len)
{
	struct restore_ctx *r = arg;
	int rc = engine_restore_group(r->e, rule_key, group_key, group_key_len,
				      blob, blob_len);

	if (rc > 0) {
		r->out->n_groups++;
	} else if (rc == 0) {
		r->out->n_stale++;
		note_stale(r, rule_key);
	} else {
		r->out->n_rejected++;
	}
	return r->oom ? -1 : 0;
}

static int drop_stale(struct store *store, struct restore_ctx *r)
{
	if (r->n_stale_rules == 0)
		return 0;
	if (store_begin(store) < 0)
		return -1;
	for (size_t i = 0; i < r->n_stale_rules; i++) {
		if (store_state_drop_rule(store, r->stale[i]) < 0) {
			store_rollback(store);
			return -1;
		}
	}
	return store_commit(store);
}

int checkpoint_restore(struct store *store, struct engine *e,
		       struct checkpoint_restored *out, char *err,
		       size_t err_size)
{
	struct restore_ctx r = {.e = e, .out = out};
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (store_state_load(store, restore_one, &r) < 0 || r.oom) {
		snprintf(err, err_size, "restoring engine state: %s",
			 r.oom ? "out of memory" : store_errmsg(store));
		rc = -1;
	} else if (drop_stale(store, &r) < 0) {
		snprintf(err, err_size, "deleting stale engine state: %s",
			 store_errmsg(store));
		rc = -1;
	}
	for (size_t i = 0; i < r.n_stale_rules; i++)
		free(r.stale[i]);
	return rc;
}
