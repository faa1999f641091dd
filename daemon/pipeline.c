/*
 * pipeline: records -> decode -> normalize -> engine -> alerts (see
 * pipeline.h).  Alerts handed over by the engine are borrowed for one
 * callback, so they are deep-copied into the pending list (the store, at
 * the next commit); the commit copies each newly stored one into the sink
 * ring (pipeline_queue_sink).
 * Copies borrow alert.rule from the current ruleset, which is why a
 * reload drains both before freeing the old rules.
 *
 * This file: life cycle, inputs, records and polling, reload.  Its parts
 * (pipeline_int.h): CSV headers in pipeline_csv.c, the pending list and
 * the sink ring in pipeline_alerts.c, figures in pipeline_status.c.
 */
#include "pipeline_int.h"

#include "agentdir.h"
#include "enrich.h"
#include "decode_json.h"
#include "decode_kv.h"
#include "input_syslog.h"
#include "normalize.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const input_type_names[] = {"file", "stdin", "syslog",
					       "pcap"};
static const char *const format_names[] = {"json", "csv", "kv"};

/* One line per format.  csv has no one-record decoder: its records are
 * decoded against their file's header (pipeline_csv_decode_record,
 * pipeline_csv.c). */
static const struct {
	const char *name;
	pipeline_decode_fn fn;
} decoders[] = {
    {"json", decode_json},
    {"csv", NULL},
    {"kv", decode_kv},
};

pipeline_decode_fn pipeline_decoder(const char *format)
{
	for (size_t i = 0; i < sizeof(decoders) / sizeof(decoders[0]); i++)
		if (strcmp(decoders[i].name, format) == 0)
			return decoders[i].fn;
	return NULL;
}

bool pipeline_format_supported(const char *format)
{
	for (size_t i = 0; i < sizeof(decoders) / sizeof(decoders[0]); i++)
		if (strcmp(decoders[i].name, format) == 0)
			return true;
	return false;
}

/* ---- life cycle ---- */

static int make_engine(struct pipeline *p, const struct config *cfg,
		       struct ruleset *rules, struct engine **e,
		       struct event_buf **b)
{
	*e = engine_new(rules, &cfg->limits, pipeline_alerts_on_alert, p);
	*b = event_buf_new(rules->fields);
	if (*e == NULL || *b == NULL) {
		engine_free(*e);
		event_buf_free(*b);
		return -1;
	}
	engine_set_agentdir(*e, cfg->agents);
	return 0;
}

struct pipeline *pipeline_new(const struct config *cfg, struct ruleset *rules,
			      char *err, size_t err_size)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (p == NULL || make_engine(p, cfg, rules, &p->engine, &p->buf) < 0) {
		snprintf(err, err_size, "out of memory");
		free(p);
		ruleset_free(rules);
		return NULL;
	}
	p->cfg = cfg;
	p->rules = rules;
	return p;
}

void pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n_inputs; i++) {
		if (p->inputs[i].in)
			p->inputs[i].ops->close(p->inputs[i].in);
		pipeline_csv_free(p->inputs[i].csv);
	}
	free(p->inputs);
	pipeline_checkpointed(p);
	free(p->pending);
	free(p->pending_held);
	pipeline_alerts_drop_ring(p);
	engine_free(p->engine);
	event_buf_free(p->buf);
	ruleset_free(p->rules);
	free(p);
}

struct engine *pipeline_engine(struct pipeline *p)
{
	return p->engine;
}

const struct ruleset *pipeline_rules(const struct pipeline *p)
{
	return p->rules;
}

size_t pipeline_n_inputs(const struct pipeline *p)
{
	return p->n_inputs;
}

struct pipeline_input *pipeline_input_at(struct pipeline *p, size_t i)
{
	return i < p->n_inputs ? &p->inputs[i] : NULL;
}

/* ---- inputs ---- */

static void on_input_event(void *arg, const struct event *ev);

static int event_sink(void *arg, const struct event *ev)
{
	on_input_event(arg, ev);
	return 0;
}

/* What the generic open() cannot be told: syslog limits, the field table
 * of event inputs.  0 or -1. */
static int configure_input(struct pipeline_input *pi)
{
	const struct config_input *ci = pi->cfg;

	if (ci->type == INPUT_SYSLOG) {
		struct input_syslog_limits l = {
		    .max_msg_bytes = ci->max_message_bytes,
		    .max_conns = ci->max_connections,
		    .idle_ms = ci->idle_timeout_ms};
		if (input_syslog_set_limits(pi->in, &l) < 0)
			return -1;
	}
	if (pi->ops->set_event_sink)
		pi->ops->set_event_sink(pi->in, event_sink, pi,
					pi->p->rules->fields);
	return 0;
}

static int open_one(struct pipeline *p, size_t i, struct store *store,
		    char *err, size_t err_size)
{
	struct pipeline_input *pi = &p->inputs[i];
	const struct config_input *ci = &p->cfg->inputs[i];
	void *pos = NULL;
	size_t pos_len = 0;
	char why[256] = "";

	pi->p = p;
	pi->cfg = ci;
	pi->map = config_input_fieldmap(p->cfg, i);
	pi->ops = input_ops_find(input_type_names[ci->type]);
	pi->decode = pipeline_decoder(format_names[ci->format]);
	if (pi->ops == NULL ||
	    !pipeline_format_supported(format_names[ci->format])) {
		snprintf(err, err_size,
			 "input %s: %s '%s' is not supported "
			 "by this build",
			 ci->name, pi->ops ? "format" : "type",
			 pi->ops ? format_names[ci->format]
				 : input_type_names[ci->type]);
		return -1;
	}
	if (ci->format == INPUT_CSV && ci->type != INPUT_PCAP &&
	    (pi->csv = calloc(1, sizeof(*pi->csv))) == NULL) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	if (store && store_position_get(store, ci->name, &pos, &pos_len) < 0) {
		snprintf(err, err_size, "input %s: reading its position: %s",
			 ci->name, store_errmsg(store));
		return -1;
	}
	pi->in = pi->ops->open(ci, pos, pos_len, why, sizeof(why));
	free(pos);
	if (pi->in == NULL) {
		snprintf(err, err_size, "input %s: %s", ci->name, why);
		return -1;
	}
	if (configure_input(pi) < 0) {
		snprintf(err, err_size, "input %s: out of memory", ci->name);
		return -1;
	}
	pi->ready = true;
	return 0;
}

int pipeline_open_inputs(struct pipeline *p, struct store *store, char *err,
			 size_t err_size)
{
	size_t n = p->cfg->n_inputs;

	if ((p->inputs = calloc(n ? n : 1, sizeof(*p->inputs))) == NULL) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		p->n_inputs++;
		if (open_one(p, i, store, err, err_size) < 0)
			return -1;
	}
	return 0;
}

/* ---- records ---- */

static void malformed(struct pipeline_input *pi, const struct input_record *r,
		      const char *why)
{
	pi->n_malformed++;
	log_bad_input(&pi->limiter, pi->p->now_ms, pi->cfg->name,
		      r->source.line, r->source.offset, why, r->data, r->len);
}

void pipeline_record(struct pipeline_input *pi, const struct input_record *r)
{
	struct pipeline *p = pi->p;
	struct event ev;
	char err[256];

	p->n_records_since_checkpoint++;
	if (r->truncated) {
		malformed(pi, r, "record longer than max_line_bytes");
		return;
	}
	if (r->len == 0)
		return;
	errno = 0;
	int rc =
	    pi->csv ? pipeline_csv_decode_record(pi, r, &ev, err, sizeof(err))
	    : pi->decode
		? pi->decode(p->buf, r->data, r->len, &ev, err, sizeof(err))
		: (snprintf(err, sizeof(err), "no decoder"), -1);
	if (rc == 1)
		return; /* a CSV header line */
	if (rc < 0 ||
	    normalize_event(pi->map, p->buf, &ev, err, sizeof(err)) < 0) {
		if (errno == ENOMEM) { /* not the record's fault: say so */
			p->n_nomem++;
			log_bad_input(&pi->limiter, p->now_ms, pi->cfg->name,
				      r->source.line, r->source.offset,
				      "out of memory: record dropped", r->data,
				      r->len);
		} else {
			malformed(pi, r, err);
		}
		return;
	}
	ev.source = r->source;
	if (agentdir_enrich(p->cfg->agents, p->buf, &ev) < 0) {
		p->n_nomem++;
		log_warnx("input %s line %lld: out of memory adding the agent "
			  "directory's fields: alerts may be lost",
			  pi->cfg->name, (long long)r->source.line);
	}
	if (p->event_hook)
		p->event_hook(p->event_hook_arg, &ev);
	if (engine_process(p->engine, &ev) < 0) /* counted by the engine */
		log_warnx("input %s line %lld: out of memory evaluating the "
			  "record: alerts may be lost or their evidence "
			  "incomplete",
			  pi->cfg->name, (long long)r->source.line);
}

void pipeline_event(struct pipeline_input *pi, const struct event *in)
{
	struct pipeline *p = pi->p;
	struct event enriched, *ev = &enriched;

	p->n_records_since_checkpoint++;
	/* the directory's fields, as pipeline_record() adds them */
	if (enrich_copy(p->cfg->agents, p->buf, in, &enriched) < 0) {
		p->n_nomem++;
		log_warnx("input %s: out of memory adding the agent "
			  "directory's fields: alerts may be lost",
			  pi->cfg->name);
	}
	if (p->event_hook)
		p->event_hook(p->event_hook_arg, ev);
	if (engine_process(p->engine, ev) < 0) /* counted by the engine */
		log_warnx("input %s: out of memory evaluating an event: "
			  "alerts may be lost or their evidence incomplete",
			  pi->cfg->name);
}

static void on_input_event(void *arg, const struct event *ev)
{
	pipeline_event(arg, ev);
}

static int emit(void *arg, const struct input_record *r)
{
	pipeline_record(arg, r);
	return 0;
}

void pipeline_mark_ready(struct pipeline *p)
{
	for (size_t i = 0; i < p->n_inputs; i++)
		p->inputs[i].ready = true;
}

bool pipeline_poll(struct pipeline *p, size_t budget, int64_t now_ms)
{
	bool more = false;
	char err[256];

	p->now_ms = now_ms;
	for (size_t i = 0; i < p->n_inputs; i++) {
		struct pipeline_input *pi = &p->inputs[i];
		if (!pi->ready || pi->failed || pi->in == NULL)
			continue;
		if (p->n_pending >= PIPELINE_MAX_PENDING)
			return true; /* checkpoint first */
		err[0] = '\0';
		int n =
		    pi->ops->poll(pi->in, emit, pi, budget, err, sizeof(err));
		if (n < 0) {
			log_warnx("input %s: %s; no longer read", pi->cfg->name,
				  err);
			pi->failed = true;
			continue;
		}
		pi->ready = (size_t)n >= budget;
		more |= pi->ready;
	}
	return more;
}

bool pipeline_need_checkpoint(const struct pipeline *p)
{
	return p->n_pending >= PIPELINE_MAX_PENDING / 2 ||
	       p->n_records_since_checkpoint >=
		   p->cfg->checkpoint.every_records;
}

uint64_t pipeline_records_since_checkpoint(const struct pipeline *p)
{
	return p->n_records_since_checkpoint;
}

/* ---- reload ---- */

static const struct fieldmap *map_by_name(const struct config *cfg,
					  const char *name)
{
	for (size_t i = 0; i < cfg->n_inputs; i++)
		if (strcmp(cfg->inputs[i].name, name) == 0)
			return config_input_fieldmap(cfg, i);
	return cfg->field_map;
}

int pipeline_reload(struct pipeline *p, const struct config *cfg,
		    struct ruleset *rules, char *err, size_t err_size)
{
	struct engine *e;
	struct event_buf *b;

	if (p->n_pending) {
		snprintf(err, err_size, "alerts not yet checkpointed");
		ruleset_free(rules);
		return -1;
	}
	if (make_engine(p, cfg, rules, &e, &b) < 0) {
		snprintf(err, err_size, "out of memory");
		ruleset_free(rules);
		return -1;
	}
	if (engine_transfer(p->engine, e) < 0) {
		snprintf(err, err_size, "out of memory moving engine state");
		engine_free(e);
		event_buf_free(b);
		ruleset_free(rules);
		return -1;
	}
	pipeline_drain_sinks(p, PIPELINE_SINK_QUEUE_MAX);
	/* event inputs move to the new table while the old one still lives
	 * (their requests in progress refer to it) */
	for (size_t i = 0; i < p->n_inputs; i++) {
		struct pipeline_input *pi = &p->inputs[i];
		if (pi->in && pi->ops->set_event_sink)
			pi->ops->set_event_sink(pi->in, event_sink, pi,
						rules->fields);
	}
	engine_free(p->engine);
	event_buf_free(p->buf);
	ruleset_free(p->rules);
	p->engine = e;
	p->buf = b;
	p->rules = rules;
	p->cfg = cfg;
	for (size_t i = 0; i < p->n_inputs; i++)
		p->inputs[i].map = map_by_name(cfg, p->inputs[i].cfg->name);
	return 0;
}
