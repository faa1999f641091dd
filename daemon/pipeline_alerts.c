/*
 * pipeline_alerts: the pipeline's alerts after the engine.  Alerts handed
 * over by the engine are borrowed for one callback, so they are
 * deep-copied into the pending list (at most PIPELINE_MAX_PENDING; the
 * store takes them at the next commit, and gives back those it could not
 * store); the commit copies each newly stored one into the sink ring
 * (PIPELINE_SINK_QUEUE_MAX, oldest dropped and counted), which
 * pipeline_drain_sinks() hands to the registered sinks.  Copies borrow
 * alert.rule from the current ruleset.  The pipeline owns the copies.
 */
#include "pipeline_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;

	if (s && d == NULL)
		*oom = true;
	return d;
}

static int alert_copy(struct alert *dst, const struct alert *src)
{
	bool oom = false;

	*dst = *src;
	dst->group = NULL;
	dst->n_group = 0;
	dst->evidence_json = NULL;
	dst->n_evidence = 0;
	dst->event_json = dup_or_null(src->event_json, &oom);
	dst->source_input = dup_or_null(src->source_input, &oom);
	dst->source_path = dup_or_null(src->source_path, &oom);
	if (src->n_group &&
	    (dst->group = calloc(src->n_group, sizeof(*dst->group))) == NULL)
		oom = true;
	for (size_t i = 0; !oom && i < src->n_group; i++, dst->n_group++) {
		dst->group[i].key = dup_or_null(src->group[i].key, &oom);
		dst->group[i].value = dup_or_null(src->group[i].value, &oom);
	}
	if (src->n_evidence && !oom &&
	    (dst->evidence_json = calloc(src->n_evidence, sizeof(char *))) ==
		NULL)
		oom = true;
	for (size_t i = 0; !oom && i < src->n_evidence; i++, dst->n_evidence++)
		dst->evidence_json[i] =
		    dup_or_null(src->evidence_json[i], &oom);
	if (oom) {
		alert_clear(dst);
		return -1;
	}
	return 0;
}

static void queue_pending(struct pipeline *p, const struct alert *a, bool held)
{
	if (p->n_pending == p->cap_pending) {
		size_t cap = p->cap_pending ? 2 * p->cap_pending : 64;
		struct alert *n = realloc(p->pending, cap * sizeof(*n));
		if (n != NULL)
			p->pending = n;
		bool *h = n ? realloc(p->pending_held, cap * sizeof(*h)) : NULL;
		if (h == NULL) {
			p->n_nomem++;
			log_warnx("out of memory: an alert of rule '%s' is "
				  "lost",
				  a->rule && a->rule->title ? a->rule->title
							    : "?");
			return;
		}
		p->pending_held = h;
		p->cap_pending = cap;
	}
	p->pending_held[p->n_pending] = held;
	if (alert_copy(&p->pending[p->n_pending], a) == 0) {
		p->n_pending++;
	} else {
		p->n_nomem++;
		log_warnx("out of memory: an alert of rule '%s' is lost",
			  a->rule && a->rule->title ? a->rule->title : "?");
	}
}

void pipeline_queue_sink(struct pipeline *p, const struct alert *a)
{
	if (p->n_sinks == 0)
		return;
	if (p->ring_len == PIPELINE_SINK_QUEUE_MAX) /* a commit's burst */
		pipeline_drain_sinks(p, PIPELINE_SINK_QUEUE_MAX);
	size_t at = (p->ring_head + p->ring_len) % PIPELINE_SINK_QUEUE_MAX;
	if (alert_copy(&p->ring[at], a) == 0)
		p->ring_len++;
	else
		p->n_sink_dropped++;
}

void pipeline_alerts_on_alert(const struct alert *a, void *arg)
{
	struct pipeline *p = arg;

	bool held = p->filter && p->filter(p->filter_arg, a);

	p->n_alerts++;
	/* the sinks get it once stored (pipeline_queue_sink), so that an
	 * alert raised again after a restart is not sent twice */
	queue_pending(p, a, held);
}

void pipeline_set_event_hook(struct pipeline *p, pipeline_event_fn fn,
			     void *arg)
{
	p->event_hook = fn;
	p->event_hook_arg = arg;
}

void pipeline_set_alert_filter(struct pipeline *p, pipeline_filter_fn fn,
			       void *arg)
{
	p->filter = fn;
	p->filter_arg = arg;
}

bool pipeline_pending_held(const struct pipeline *p, size_t i)
{
	return i < p->n_pending && p->pending_held[i];
}

void pipeline_alerts_drop_ring(struct pipeline *p)
{
	while (p->ring_len) {
		alert_clear(&p->ring[p->ring_head]);
		p->ring_head = (p->ring_head + 1) % PIPELINE_SINK_QUEUE_MAX;
		p->ring_len--;
	}
}

const struct alert *pipeline_pending(const struct pipeline *p, size_t *n)
{
	*n = p->n_pending;
	return p->pending;
}

void pipeline_take_alerts(struct pipeline *p, struct alert **alerts,
			  bool **held, size_t *n)
{
	*alerts = p->pending;
	*held = p->pending_held;
	*n = p->n_pending;
	p->pending = NULL;
	p->pending_held = NULL;
	p->n_pending = p->cap_pending = 0;
}

void pipeline_take_pending(struct pipeline *p, struct alert **alerts,
			   bool **held, size_t *n)
{
	pipeline_take_alerts(p, alerts, held, n);
	p->n_records_since_checkpoint = 0;
}

void pipeline_return_pending(struct pipeline *p, struct alert *alerts,
			     bool *held, size_t n)
{
	size_t total = n + p->n_pending;
	struct alert *a = n ? realloc(alerts, total * sizeof(*a)) : NULL;
	bool *h = a ? realloc(held, total * sizeof(*h)) : NULL;

	if (a != NULL)
		alerts = a;
	if (h == NULL) { /* the returned alerts are lost: counted */
		for (size_t i = 0; i < n; i++)
			alert_clear(&alerts[i]);
		p->n_nomem += n;
		free(alerts);
		free(h ? h : held);
		return;
	}
	if (p->n_pending) {
		memcpy(a + n, p->pending, p->n_pending * sizeof(*a));
		memcpy(h + n, p->pending_held, p->n_pending * sizeof(*h));
	}
	free(p->pending);
	free(p->pending_held);
	p->pending = a;
	p->pending_held = h;
	p->n_pending = p->cap_pending = total;
}

void pipeline_checkpointed(struct pipeline *p)
{
	for (size_t i = 0; i < p->n_pending; i++)
		alert_clear(&p->pending[i]);
	p->n_pending = 0;
	p->n_records_since_checkpoint = 0;
}

/* ---- sinks ---- */

int pipeline_add_sink(struct pipeline *p, const char *name, pipeline_sink_fn fn,
		      void *arg)
{
	if (p->n_sinks == PIPELINE_MAX_SINKS) {
		errno = ENOSPC;
		return -1;
	}
	p->sinks[p->n_sinks++] = (struct sink_slot){name, fn, arg};
	return 0;
}

size_t pipeline_drain_sinks(struct pipeline *p, size_t max)
{
	size_t n = 0;

	for (; n < max && p->ring_len; n++) {
		struct alert *a = &p->ring[p->ring_head];
		for (size_t s = 0; s < p->n_sinks; s++) {
			if (p->sinks[s].fn(p->sinks[s].arg, a) < 0)
				p->n_sink_failed++;
			else
				p->n_sink_delivered++;
		}
		alert_clear(a);
		p->ring_head = (p->ring_head + 1) % PIPELINE_SINK_QUEUE_MAX;
		p->ring_len--;
	}
	return n;
}

size_t pipeline_sink_queue_depth(const struct pipeline *p)
{
	return p->ring_len;
}
