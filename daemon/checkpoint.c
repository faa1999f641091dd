/*
 * checkpoint: the store transaction that ties alerts, engine state and
 * input positions together (see checkpoint.h), committed on the caller's
 * thread or, pipelined, on a writer thread.  Ownership: a snapshot owns
 * its alerts and encoded rows; the writer touches only the snapshot
 * handed over (job) and the store, and the main thread touches neither
 * until it takes the snapshot back (done), both under the writer's mutex.
 */
#include "checkpoint.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* One encoded row (a group's state or an input's position): key, group
 * key and blob in one allocation. */
struct snap_row {
	char *key;
	unsigned char *gkey, *blob;
	size_t gkey_len, blob_len;
};

struct snap_rows {
	struct snap_row *v;
	size_t n, cap;
};

/* An immutable checkpoint handed to the writer (see checkpoint.h). */
struct checkpoint_snap {
	int64_t wall_ms; /* the store's created_ms of its new alerts */
	bool full;	 /* false: alerts only (checkpoint_begin_alerts) */
	struct alert *alerts;
	bool *held;
	bool *is_new; /* filled by the writer: not stored before */
	size_t n_alerts;
	struct retain *events; /* c->batch, or NULL */
	struct snap_rows groups, positions;
	/* filled by the writer */
	int rc;
	uint64_t n_new, n_held;
	char err[480];
};

struct checkpoint_writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct checkpoint_snap *job, *done;   /* a checkpoint; under mu */
	struct checkpoint_snap *ajob, *adone; /* alerts only; under mu */
	bool quit;
	struct store *store;
	int efd;
};

void checkpoint_init(struct checkpoint *c, struct store *store)
{
	memset(c, 0, sizeof(*c));
	c->store = store;
	c->efd = -1;
}

static int add_row(struct snap_rows *r, const char *key, const void *gkey,
		   size_t gkey_len, const void *blob, size_t blob_len)
{
	size_t klen = strlen(key) + 1;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 256;
		struct snap_row *v = realloc(r->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		r->v = v;
		r->cap = cap;
	}
	char *m = malloc(klen + gkey_len + blob_len + 1);
	if (m == NULL)
		return -1;
	struct snap_row *row = &r->v[r->n++];
	/* NULL stays NULL (a NULL blob binds as SQL NULL) */
	row->key = memcpy(m, key, klen);
	row->gkey = gkey ? (unsigned char *)m + klen : NULL;
	row->blob = blob ? (unsigned char *)m + klen + gkey_len : NULL;
	if (gkey_len)
		memcpy(row->gkey, gkey, gkey_len);
	if (blob_len)
		memcpy(row->blob, blob, blob_len);
	row->gkey_len = gkey_len;
	row->blob_len = blob_len;
	return 0;
}

static void free_rows(struct snap_rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].key);
	free(r->v);
}

static void snap_free(struct checkpoint_snap *s)
{
	for (size_t i = 0; i < s->n_alerts; i++)
		alert_clear(&s->alerts[i]);
	free(s->alerts);
	free(s->held);
	free(s->is_new);
	free_rows(&s->groups);
	free_rows(&s->positions);
	free(s);
}

static int copy_state(void *arg, const char *rule_key, const void *group_key,
		      size_t group_key_len, const void *blob, size_t blob_len)
{
	return add_row(arg, rule_key, group_key, group_key_len, blob, blob_len);
}

static int copy_positions(struct snap_rows *rows, struct pipeline *p)
{
	for (size_t i = 0; i < pipeline_n_inputs(p); i++) {
		struct pipeline_input *pi = pipeline_input_at(p, i);
		size_t len = 0;
		if (pi->in == NULL)
			continue;
		void *blob = pi->ops->position(pi->in, &len);
		if (blob == NULL)
			continue; /* cannot resume (stdin, UDP) */
		int rc = add_row(rows, pi->cfg->name, "", 0, blob, len);
		free(blob);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* A newly stored alert that a suppression held back from the sinks:
 * resolved by custosd, with the scope in the note.  0 or -1. */
static int resolve_suppressed(struct store *st, const struct alert *a,
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
	return store_triage(st, &t) < 0 ? -1 : 0;
}

static int put_alerts(struct store *st, struct checkpoint_snap *s)
{
	for (size_t i = 0; i < s->n_alerts; i++) {
		int rc = store_add_alert(st, &s->alerts[i], s->wall_ms);
		if (rc < 0)
			return -1;
		s->n_new += (uint64_t)rc;
		s->is_new[i] = rc == 1;
		if (rc == 1 && s->held[i]) {
			if (resolve_suppressed(st, &s->alerts[i], s->wall_ms) <
			    0)
				return -1;
			s->n_held++;
		}
	}
	return 0;
}

static int put_rows(struct store *st, const struct snap_rows *r, bool state)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct snap_row *w = &r->v[i];
		int rc =
		    state
			? store_state_put(st, w->key, w->gkey, w->gkey_len,
					  w->blob, w->blob_len)
			: store_position_put(st, w->key, w->blob, w->blob_len);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void run_alerts_job(struct checkpoint_writer *w);

/* One chunk of s's retained events in a transaction of its own, its rowid
 * range recorded (store.h); the first also deletes the rows of ranges left
 * by a checkpoint that did not complete.  1 more to write, 0 done, -1. */
static int write_chunk(struct store *st, struct checkpoint_snap *s,
		       struct retain_cursor *cur)
{
	uint64_t n_undone;
	int n;

	if (store_begin(st) < 0 ||
	    (cur->i == 0 && store_events_pending_undo(st, &n_undone) < 0) ||
	    store_events_pending_begin_chunk(st) < 0 ||
	    (n = retain_write_chunk(s->events, st, cur,
				    CHECKPOINT_EVENTS_PER_CHUNK)) < 0 ||
	    store_events_pending_mark(st) < 0 || store_commit(st) < 0)
		return -1; /* the caller rolls back, after taking the error */
	return n == CHECKPOINT_EVENTS_PER_CHUNK ? 1 : 0;
}

/* The transactions of s (any thread that holds the store; w: the writer,
 * which runs alerts-only jobs between chunks, or NULL).  s->rc. */
static void write_snap(struct store *st, struct checkpoint_snap *s,
		       struct checkpoint_writer *w)
{
	struct retain_cursor cur = {0, 0};
	int more = s->events != NULL;

	s->rc = -1;
	while (more > 0) {
		if ((more = write_chunk(st, s, &cur)) < 0)
			goto fail;
		if (w)
			run_alerts_job(w);
	}
	if (store_begin(st) < 0 || put_alerts(st, s) < 0 ||
	    (s->events && store_events_pending_clear(st) < 0) ||
	    put_rows(st, &s->groups, true) < 0 ||
	    put_rows(st, &s->positions, false) < 0 || store_commit(st) < 0)
		goto fail;
	s->rc = 0;
	return;
fail:
	snprintf(s->err, sizeof(s->err), "checkpoint: %s", store_errmsg(st));
	store_rollback(st);
}

/* Takes the pending alerts into s, with room for their is_new flags.
 * 0, or -1 (out of memory: nothing taken). */
static int take_alerts(struct checkpoint_snap *s, struct pipeline *p)
{
	size_t n;

	pipeline_pending(p, &n);
	if ((s->is_new = calloc(n ? n : 1, sizeof(*s->is_new))) == NULL)
		return -1;
	if (s->full)
		pipeline_take_pending(p, &s->alerts, &s->held, &s->n_alerts);
	else
		pipeline_take_alerts(p, &s->alerts, &s->held, &s->n_alerts);
	return 0;
}

/* The snapshot of p now (main thread): everything when full, else the
 * pending alerts only.  NULL with err: nothing taken (out of memory; after
 * a full one, the next commit writes every group). */
static struct checkpoint_snap *snapshot(struct checkpoint *c,
					struct pipeline *p, bool full,
					int64_t wall_ms, char *err,
					size_t err_size)
{
	struct engine *e = pipeline_engine(p);
	struct checkpoint_snap *s = calloc(1, sizeof(*s));

	if (s == NULL)
		goto oom;
	s->wall_ms = wall_ms;
	s->full = full;
	if (!full) {
		if (take_alerts(s, p) < 0)
			goto oom;
		return s;
	}
	if ((c->retain && c->batch == NULL &&
	     (c->batch = retain_new()) == NULL) ||
	    (c->need_full
		 ? engine_save_all(e, copy_state, &s->groups)
		 : engine_save_changes(e, copy_state, &s->groups)) < 0 ||
	    copy_positions(&s->positions, p) < 0 || take_alerts(s, p) < 0)
		goto oom;
	if (c->retain) {
		retain_take(c->retain, c->batch);
		s->events = c->batch;
	}
	c->need_full = false;
	return s;
oom:
	if (s)
		snap_free(s);
	snprintf(err, err_size, "checkpoint: out of memory");
	if (full)
		c->need_full = true; /* change marks may be cleared */
	c->n_failures++;
	return NULL;
}

static void count_success(struct checkpoint *c, const struct checkpoint_snap *s,
			  int64_t mono_ms)
{
	c->n_alerts_stored += s->n_new;
	c->n_alerts_repeated += s->n_alerts - s->n_new;
	c->n_suppressed_stored += s->n_held;
	if (!s->full) {
		c->n_alert_commits++;
		return;
	}
	c->n_commits++;
	c->n_groups_written += s->groups.n;
	c->last_ms = mono_ms;
}

/* Ends s on the main thread (see checkpoint.h): counts it, and queues
 * the alerts it newly stored for the sinks.  0 or -1 with err. */
static int finish(struct checkpoint *c, struct pipeline *p,
		  struct checkpoint_snap *s, int64_t mono_ms, char *err,
		  size_t err_size)
{
	int rc = s->rc;

	if (rc == 0) {
		count_success(c, s, mono_ms);
		for (size_t i = 0; i < s->n_alerts; i++)
			if (s->is_new[i] && !s->held[i])
				pipeline_queue_sink(p, &s->alerts[i]);
	} else {
		snprintf(err, err_size, "%s", s->err);
		pipeline_return_pending(p, s->alerts, s->held, s->n_alerts);
		s->alerts = NULL;
		s->held = NULL;
		s->n_alerts = 0;
		/* the engine cleared change marks of rows now rolled back,
		 * and groups may have changed since: write everything */
		if (s->full)
			c->need_full = true;
		c->n_failures++;
	}
	if (s->events)
		retain_done(c->retain, s->events, rc == 0);
	snap_free(s);
	return rc;
}

int checkpoint_commit(struct checkpoint *c, struct pipeline *p, int64_t wall_ms,
		      int64_t mono_ms, char *err, size_t err_size)
{
	struct checkpoint_snap *s;

	checkpoint_wait(c, p, mono_ms, err, err_size);
	if ((s = snapshot(c, p, true, wall_ms, err, err_size)) == NULL)
		return -1;
	write_snap(c->store, s, NULL); /* the writer, if any, is idle */
	return finish(c, p, s, mono_ms, err, err_size);
}

/* ---- the writer thread ---- */

static int64_t wall_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs s (taken from *slot) and leaves it in *done (w->mu held on entry
 * and on return). */
static void run_job(struct checkpoint_writer *w, struct checkpoint_snap **slot,
		    struct checkpoint_snap **done)
{
	struct checkpoint_snap *s = *slot;
	uint64_t one = 1;

	pthread_mutex_unlock(&w->mu);
	s->wall_ms = wall_now_ms(); /* created_ms: see checkpoint.h */
	write_snap(w->store, s, s->full ? w : NULL);
	pthread_mutex_lock(&w->mu);
	*slot = NULL;
	*done = s;
	pthread_cond_broadcast(&w->cv);
	if (write(w->efd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow at one per commit */
	}
}

/* Between two chunks of a checkpoint: the alerts-only job handed over
 * meanwhile, if any. */
static void run_alerts_job(struct checkpoint_writer *w)
{
	pthread_mutex_lock(&w->mu);
	if (w->ajob != NULL)
		run_job(w, &w->ajob, &w->adone);
	pthread_mutex_unlock(&w->mu);
}

static void *writer_main(void *arg)
{
	struct checkpoint_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->job == NULL && w->ajob == NULL && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->ajob != NULL)
			run_job(w, &w->ajob, &w->adone);
		else if (w->job != NULL)
			run_job(w, &w->job, &w->done);
		else
			break;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int checkpoint_start_writer(struct checkpoint *c, char *err, size_t err_size)
{
	struct checkpoint_writer *w = calloc(1, sizeof(*w));
	int rc;

	if (w == NULL) {
		snprintf(err, err_size, "checkpoint writer: out of memory");
		return -1;
	}
	w->store = c->store;
	if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		snprintf(err, err_size, "checkpoint writer: eventfd: %s",
			 strerror(errno));
		free(w);
		return -1;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((rc = pthread_create(&w->thread, NULL, writer_main, w)) != 0) {
		snprintf(err, err_size, "checkpoint writer: %s", strerror(rc));
		close(w->efd);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return -1;
	}
	c->w = w;
	c->efd = w->efd;
	c->has_writer = true;
	return 0;
}

void checkpoint_stop_writer(struct checkpoint *c)
{
	struct checkpoint_writer *w = c->w;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	if (w->done) /* not completed by the caller: counted as written */
		snap_free(w->done);
	if (w->adone)
		snap_free(w->adone);
	close(w->efd);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	c->w = NULL;
	c->efd = -1;
	c->has_writer = false;
	c->in_flight = NULL;
	c->a_in_flight = NULL;
	c->n_in_flight_alerts = 0;
	retain_free(c->batch);
	c->batch = NULL;
}

/* Hands s to the writer. */
static void hand_over(struct checkpoint *c, struct checkpoint_snap *s)
{
	*(s->full ? &c->in_flight : &c->a_in_flight) = s;
	c->n_in_flight_alerts += s->n_alerts;
	pthread_mutex_lock(&c->w->mu);
	*(s->full ? &c->w->job : &c->w->ajob) = s;
	pthread_cond_broadcast(&c->w->cv);
	pthread_mutex_unlock(&c->w->mu);
}

int checkpoint_begin(struct checkpoint *c, struct pipeline *p, int64_t wall_ms,
		     int64_t mono_ms, char *err, size_t err_size)
{
	struct checkpoint_snap *s;

	if (c->w == NULL)
		return checkpoint_commit(c, p, wall_ms, mono_ms, err, err_size);
	/* after an alerts-only commit in flight: should it fail, its alerts
	 * must not end up behind the positions of this checkpoint */
	if (c->in_flight != NULL || c->a_in_flight != NULL)
		return 1;
	if ((s = snapshot(c, p, true, wall_ms, err, err_size)) == NULL)
		return -1;
	hand_over(c, s);
	return 0;
}

int checkpoint_begin_alerts(struct checkpoint *c, struct pipeline *p,
			    int64_t wall_ms, char *err, size_t err_size)
{
	struct checkpoint_snap *s;
	size_t n;

	pipeline_pending(p, &n);
	if (c->w == NULL || c->a_in_flight != NULL || n == 0)
		return 1;
	if ((s = snapshot(c, p, false, wall_ms, err, err_size)) == NULL)
		return -1;
	hand_over(c, s);
	return 0;
}

/* Takes a finished commit, the alerts-only one first (waiting for one
 * in flight when wait).  NULL: none. */
static struct checkpoint_snap *take_done(struct checkpoint *c, bool wait)
{
	struct checkpoint_writer *w = c->w;
	struct checkpoint_snap *s = NULL;
	uint64_t n;

	if (w == NULL || (c->in_flight == NULL && c->a_in_flight == NULL))
		return NULL;
	pthread_mutex_lock(&w->mu);
	while (wait && w->done == NULL && w->adone == NULL)
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->adone != NULL) {
		s = w->adone;
		w->adone = NULL;
		c->a_in_flight = NULL;
	} else if (w->done != NULL) {
		s = w->done;
		w->done = NULL;
		c->in_flight = NULL;
	}
	pthread_mutex_unlock(&w->mu);
	if (s != NULL) {
		c->n_in_flight_alerts -= s->n_alerts;
		if (read(w->efd, &n, sizeof(n)) < 0) {
			/* EAGAIN: already read by the loop */
		}
	}
	return s;
}

/* Ends every finished commit (all in flight when wait): 1 none, else the
 * worst outcome (-1 with err of the first failure). */
static int end_done(struct checkpoint *c, struct pipeline *p, bool wait,
		    int64_t mono_ms, char *err, size_t err_size)
{
	struct checkpoint_snap *s;
	int rc = 1;

	while ((s = take_done(c, wait)) != NULL) {
		char e[512];
		if (finish(c, p, s, mono_ms, e, sizeof(e)) < 0) {
			if (rc != -1)
				snprintf(err, err_size, "%s", e);
			rc = -1;
		} else if (rc == 1) {
			rc = 0;
		}
	}
	return rc;
}

int checkpoint_complete(struct checkpoint *c, struct pipeline *p,
			int64_t mono_ms, char *err, size_t err_size)
{
	return end_done(c, p, false, mono_ms, err, err_size);
}

int checkpoint_wait(struct checkpoint *c, struct pipeline *p, int64_t mono_ms,
		    char *err, size_t err_size)
{
	return end_done(c, p, true, mono_ms, err, err_size);
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

/* Deletes the state of rules gone, and the retained events of a
 * checkpoint that did not complete (store.h): they are read again. */
static int drop_stale(struct store *store, struct restore_ctx *r)
{
	if (store_begin(store) < 0 ||
	    store_events_pending_undo(store, &r->out->n_events_undone) < 0) {
		store_rollback(store);
		return -1;
	}
	for (size_t i = 0; i < r->n_stale_rules; i++) {
		if (store_state_drop_rule(store, r->stale[i]) < 0) {
			store_rollback(store);
			return -1;
		}
	}
	if (store_commit(store) < 0) {
		store_rollback(store);
		return -1;
	}
	return 0;
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
