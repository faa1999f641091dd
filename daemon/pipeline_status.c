/*
 * pipeline_status: the pipeline's figures: the inputs, rules and engine
 * objects of the status JSON, and the totals of the status line.  Reads
 * the pipeline, changes nothing (the inputs' stats calls aside).
 */
#include "pipeline_int.h"

#include "input_pcap.h"
#include "input_syslog.h"

#include <jansson.h>
#include <string.h>

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
