/*
 * pipeline: records -> decode -> normalize -> engine -> alerts (see
 * pipeline.h).  Alerts handed over by the engine are borrowed for one
 * callback, so they are deep-copied into the pending list (the store, at
 * the next commit); the commit copies each newly stored one into the sink
 * ring (pipeline_queue_sink).
 * Copies borrow alert.rule from the current ruleset, which is why a
 * reload drains both before freeing the old rules.
 */
#include "pipeline.h"

#include "agentdir.h"
#include "enrich.h"
#include "decode_csv.h"
#include "decode_json.h"
#include "decode_kv.h"
#include "input_pcap.h"
#include "input_syslog.h"
#include "normalize.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const input_type_names[] = {"file", "stdin", "syslog",
					       "pcap"};
static const char *const format_names[] = {"json", "csv", "kv"};

/* One line per format.  csv has no one-record decoder: its records are
 * decoded against their file's header (csv_decode_record below). */
static const struct {
	const char *name;
	pipeline_decode_fn fn;
} decoders[] = {
    {"json", decode_json},
    {"csv", NULL},
    {"kv", decode_kv},
};

struct csv_file {
	char *path; /* "" for stdin */
	struct csv_header *h;
	uint64_t used; /* tick of the last use, for eviction */
};

struct pipeline_csv {
	struct csv_file files[PIPELINE_CSV_MAX_FILES];
	size_t n_files;
	uint64_t tick;
	uint64_t n_headers;	  /* header lines parsed */
	uint64_t n_header_reads;  /* headers read back from disk */
	uint64_t n_header_errors; /* bad or unreadable header lines */
	uint64_t n_evicted;	  /* headers dropped at the bound */
};

struct sink_slot {
	const char *name;
	pipeline_sink_fn fn;
	void *arg;
};

struct pipeline {
	const struct config *cfg;
	struct ruleset *rules;
	struct engine *engine;
	struct event_buf *buf;
	struct pipeline_input *inputs;
	size_t n_inputs;
	struct alert *pending;
	bool *pending_held; /* cap_pending flags */
	size_t n_pending, cap_pending;
	pipeline_event_fn event_hook;
	void *event_hook_arg;
	pipeline_filter_fn filter;
	void *filter_arg;
	struct alert ring[PIPELINE_SINK_QUEUE_MAX];
	size_t ring_head, ring_len;
	struct sink_slot sinks[PIPELINE_MAX_SINKS];
	size_t n_sinks;
	uint64_t n_records_since_checkpoint;
	uint64_t n_alerts, n_nomem;
	uint64_t n_sink_dropped, n_sink_delivered, n_sink_failed;
	int64_t now_ms;
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

/* ---- CSV headers, one per file (see pipeline.h) ---- */

static void csv_free(struct pipeline_csv *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_files; i++) {
		free(c->files[i].path);
		csv_header_free(c->files[i].h);
	}
	free(c);
}

static struct csv_file *csv_find(struct pipeline_csv *c, const char *path)
{
	for (size_t i = 0; i < c->n_files; i++)
		if (strcmp(c->files[i].path, path) == 0)
			return &c->files[i];
	return NULL;
}

static void csv_forget(struct pipeline_csv *c, const char *path)
{
	struct csv_file *f = csv_find(c, path);

	if (f == NULL)
		return;
	free(f->path);
	csv_header_free(f->h);
	*f = c->files[--c->n_files];
}

/* Keeps h (takes ownership) as path's header; 0, or -1 on allocation
 * failure (h freed). */
static int csv_keep(struct pipeline_csv *c, const char *path,
		    struct csv_header *h)
{
	struct csv_file *f = csv_find(c, path);

	if (f == NULL && c->n_files == PIPELINE_CSV_MAX_FILES) {
		size_t old = 0;
		for (size_t i = 1; i < c->n_files; i++)
			if (c->files[i].used < c->files[old].used)
				old = i;
		c->n_evicted++;
		csv_forget(c, c->files[old].path);
	}
	if (f == NULL) {
		char *dup = strdup(path);
		if (dup == NULL) {
			csv_header_free(h);
			return -1;
		}
		f = &c->files[c->n_files++];
		*f = (struct csv_file){.path = dup};
	}
	csv_header_free(f->h);
	f->h = h;
	f->used = ++c->tick;
	return 0;
}

/* Reads up to size bytes of fd until a newline; the length of the first
 * line (without the newline), or -1 when there is none in size bytes. */
static ssize_t read_first_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n < size) {
		ssize_t got = read(fd, buf + n, size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		char *nl = memchr(buf + n, '\n', (size_t)got);
		n += (size_t)got;
		if (nl != NULL)
			return nl - buf;
	}
	return -1;
}

/* The first line of the file at path (at most max bytes) parsed as a
 * header, or NULL with err filled. */
static struct csv_header *csv_read_header(const char *path, size_t max,
					  char *err, size_t err_size)
{
	char *buf = malloc(max + 1);
	int fd = buf ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	struct csv_header *h = NULL;
	ssize_t len;

	if (fd < 0)
		snprintf(err, err_size, "no CSV header: %s: %s", path,
			 strerror(buf ? errno : ENOMEM));
	else if ((len = read_first_line(fd, buf, max + 1)) < 0)
		snprintf(err, err_size,
			 "no CSV header: first line of %s unreadable, "
			 "unfinished or longer than max_line_bytes",
			 path);
	else
		h = csv_header_parse(buf, (size_t)len, err, err_size);
	if (fd >= 0)
		close(fd);
	free(buf);
	return h;
}

/* The header for a record of path; NULL with err filled. */
static const struct csv_header *csv_header_for(struct pipeline_input *pi,
					       const char *path, char *err,
					       size_t err_size)
{
	struct pipeline_csv *c = pi->csv;
	struct csv_file *f = csv_find(c, path);

	if (f != NULL) {
		f->used = ++c->tick;
		return f->h;
	}
	if (path[0] == '\0') {
		snprintf(err, err_size, "no CSV header (first line lost)");
		return NULL;
	}
	struct csv_header *h =
	    csv_read_header(path, pi->cfg->max_line_bytes, err, err_size);
	if (h == NULL) {
		c->n_header_errors++;
		return NULL;
	}
	c->n_header_reads++;
	if (csv_keep(c, path, h) < 0) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	return csv_find(c, path)->h;
}

/* A CSV record: its file's header line (kept, no event: returns 1), or
 * decoded against that header (0), or -1 with err filled. */
static int csv_decode_record(struct pipeline_input *pi,
			     const struct input_record *r, struct event *ev,
			     char *err, size_t err_size)
{
	struct pipeline_csv *c = pi->csv;
	const char *path = r->source.path ? r->source.path : "";

	if (r->source.line == 1) {
		struct csv_header *h =
		    csv_header_parse(r->data, r->len, err, err_size);
		if (h == NULL) {
			c->n_header_errors++;
			csv_forget(c, path);
			return -1;
		}
		c->n_headers++;
		if (csv_keep(c, path, h) < 0) {
			snprintf(err, err_size, "out of memory");
			return -1;
		}
		return 1;
	}
	const struct csv_header *h = csv_header_for(pi, path, err, err_size);
	if (h == NULL)
		return -1;
	return decode_csv(pi->p->buf, h, r->data, r->len, ev, err, err_size);
}

/* ---- alert copies ---- */

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

static void on_alert(const struct alert *a, void *arg)
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

/* ---- life cycle ---- */

static int make_engine(struct pipeline *p, const struct config *cfg,
		       struct ruleset *rules, struct engine **e,
		       struct event_buf **b)
{
	*e = engine_new(rules, &cfg->limits, on_alert, p);
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

static void drop_ring(struct pipeline *p)
{
	while (p->ring_len) {
		alert_clear(&p->ring[p->ring_head]);
		p->ring_head = (p->ring_head + 1) % PIPELINE_SINK_QUEUE_MAX;
		p->ring_len--;
	}
}

void pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n_inputs; i++) {
		if (p->inputs[i].in)
			p->inputs[i].ops->close(p->inputs[i].in);
		csv_free(p->inputs[i].csv);
	}
	free(p->inputs);
	pipeline_checkpointed(p);
	free(p->pending);
	free(p->pending_held);
	drop_ring(p);
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
	int rc = pi->csv      ? csv_decode_record(pi, r, &ev, err, sizeof(err))
		 : pi->decode ? pi->decode(p->buf, r->data, r->len, &ev, err,
					   sizeof(err))
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

/* ---- figures ---- */

/* The counters only some inputs have, added to the input's object. */
static void input_json_extra(const struct pipeline_input *pi, json_t *o)
{
	const struct pipeline_csv *c = pi->csv;

	if (c != NULL)
		json_object_set_new(
		    o, "csv",
		    json_pack("{s:I, s:I, s:I, s:I, s:I}", "files",
			      (json_int_t)c->n_files, "headers",
			      (json_int_t)c->n_headers, "header_reads",
			      (json_int_t)c->n_header_reads, "header_errors",
			      (json_int_t)c->n_header_errors, "evicted",
			      (json_int_t)c->n_evicted));
	if (pi->in == NULL)
		return;
	if (pi->cfg->type == INPUT_SYSLOG) {
		struct input_syslog_stats x;
		input_syslog_counters(pi->in, &x);
		json_object_set_new(
		    o, "syslog",
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			      "connections", (json_int_t)x.n_conns, "accepted",
			      (json_int_t)x.n_accepted, "refused",
			      (json_int_t)x.n_refused, "idle_closed",
			      (json_int_t)x.n_idle_closed, "frame_errors",
			      (json_int_t)x.n_frame_errors, "parse_errors",
			      (json_int_t)x.n_parse_errors, "recv_errors",
			      (json_int_t)x.n_recv_errors, "rxq_dropped",
			      (json_int_t)x.n_rxq_dropped));
	} else if (pi->cfg->type == INPUT_PCAP) {
		struct input_pcap_stats x;
		input_pcap_counters(pi->in, &x);
		json_object_set_new(
		    o, "pcap",
		    json_pack(
			"{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			"live", x.live, "kernel_received",
			(json_int_t)x.n_kernel_recv, "kernel_dropped",
			(json_int_t)x.n_kernel_drop, "interface_dropped",
			(json_int_t)x.n_if_drop, "frames",
			(json_int_t)x.n_frames, "unmatched",
			(json_int_t)x.n_unmatched, "malformed_http",
			(json_int_t)x.n_malformed, "flows_evicted",
			(json_int_t)x.n_flows_evicted, "reload_dropped",
			(json_int_t)x.n_rebind_dropped, "regex_limit",
			(json_int_t)x.n_re_limit));
	}
}

static json_t *input_json(const struct pipeline_input *pi)
{
	struct input_stats st = {.lag_bytes = -1};
	json_t *o;

	if (pi->in)
		pi->ops->stats(pi->in, &st);
	o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
		      "name", pi->cfg->name, "type", pi->ops->type, "records",
		      (json_int_t)st.n_records, "bytes", (json_int_t)st.n_bytes,
		      "errors", (json_int_t)st.n_errors, "malformed",
		      (json_int_t)pi->n_malformed, "truncated",
		      (json_int_t)st.n_truncated, "dropped",
		      (json_int_t)st.n_dropped, "lag_bytes",
		      (json_int_t)st.lag_bytes, "failed", pi->failed);
	if (o != NULL)
		input_json_extra(pi, o);
	return o;
}

static json_t *rules_json(const struct pipeline *p)
{
	size_t n;
	const uint64_t *hits = engine_rule_hits(p->engine, &n);
	json_t *a = json_array();

	for (size_t i = 0; a && i < n && i < p->rules->n_rules; i++) {
		const struct rule *r = p->rules->rules[i];
		const char *id = r->id ? r->id : r->name ? r->name : r->title;
		json_array_append_new(
		    a, json_pack("{s:s?, s:s?, s:I}", "id", id, "title",
				 r->title, "hits", (json_int_t)hits[i]));
	}
	return a;
}

uint64_t pipeline_n_lost(const struct pipeline *p)
{
	struct engine_stats st;

	engine_get_stats(p->engine, &st);
	return st.n_nomem + p->n_nomem;
}

static json_t *engine_json(const struct pipeline *p)
{
	struct engine_stats st;

	engine_get_stats(p->engine, &st);
	json_t *o = json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "events",
	    (json_int_t)st.n_events, "detection_matches",
	    (json_int_t)st.n_detection_matches, "alerts",
	    (json_int_t)st.n_alerts, "late_events",
	    (json_int_t)st.n_late_events, "groups", (json_int_t)st.n_groups,
	    "groups_evicted", (json_int_t)st.n_groups_evicted,
	    "window_overflow", (json_int_t)st.n_window_overflow,
	    "distinct_overflow", (json_int_t)st.n_distinct_overflow,
	    "non_numeric", (json_int_t)st.n_non_numeric, "nomem",
	    (json_int_t)(st.n_nomem + p->n_nomem), "state_rejected",
	    (json_int_t)st.n_state_rejected);
	/* limits hit by the matchers and caches of the hot path */
	if (o)
		json_object_update_new(
		    o, json_pack("{s:I, s:I, s:I}", "regex_limit",
				 (json_int_t)st.n_re_limit, "unshared_units",
				 (json_int_t)st.n_unshared, "key_cache_clears",
				 (json_int_t)event_buf_key_clears(p->buf)));
	return o;
}

void pipeline_status(struct pipeline *p, json_t *obj)
{
	json_t *inputs = json_array();

	for (size_t i = 0; inputs && i < p->n_inputs; i++)
		json_array_append_new(inputs, input_json(&p->inputs[i]));
	json_object_set_new(obj, "inputs", inputs);
	json_object_set_new(obj, "rules", rules_json(p));
	json_object_set_new(obj, "engine", engine_json(p));
	json_object_set_new(
	    obj, "sinks",
	    json_pack("{s:i, s:I, s:I, s:I, s:I, s:I}", "n_sinks",
		      (int)p->n_sinks, "queue_depth", (json_int_t)p->ring_len,
		      "queue_max", (json_int_t)PIPELINE_SINK_QUEUE_MAX,
		      "dropped", (json_int_t)p->n_sink_dropped, "delivered",
		      (json_int_t)p->n_sink_delivered, "failed",
		      (json_int_t)p->n_sink_failed));
	json_object_set_new(obj, "pending_alerts",
			    json_integer((json_int_t)p->n_pending));
}

void pipeline_totals(struct pipeline *p, struct pipeline_totals *t)
{
	struct engine_stats es;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < p->n_inputs; i++) {
		struct input_stats st = {0};
		if (p->inputs[i].in)
			p->inputs[i].ops->stats(p->inputs[i].in, &st);
		t->n_records += st.n_records;
		t->n_bytes += st.n_bytes;
		t->n_errors += st.n_errors;
		t->n_malformed += p->inputs[i].n_malformed;
	}
	engine_get_stats(p->engine, &es);
	t->n_alerts = p->n_alerts;
	t->n_groups = es.n_groups;
	t->n_sink_dropped = p->n_sink_dropped;
	t->sink_queue_depth = p->ring_len;
}
