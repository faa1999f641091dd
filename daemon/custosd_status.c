/*
 * custosd_status.c: what custosd reports about itself: the status object
 * served on the control socket (`custos status`), and the one-line totals
 * logged every status_log_interval and sent to systemd as STATUS=.  Reads
 * the daemon's state, changes nothing.  Monotonic clock (uptime, ages).
 */
#include "custosd_int.h"

#include "agentdir.h"
#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

/* "forward": [{name, connected, sent, queued, ...}] in sinks. */
static void forward_status(const struct daemon *d, json_t *sinks)
{
	json_t *fwd = json_array();

	for (size_t i = 0; i < d->n_fwd; i++) {
		struct sink_forward_stats fs;
		sink_forward_stats(d->fwd[i], &fs);
		json_array_append_new(
		    fwd,
		    json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I}",
			      "name", sink_forward_name(d->fwd[i]), "connected",
			      fs.connected, "sent", (json_int_t)fs.n_sent,
			      "queued", (json_int_t)fs.n_queued, "outbox_bytes",
			      (json_int_t)fs.outbox_bytes, "dropped",
			      (json_int_t)fs.n_dropped, "reconnects",
			      (json_int_t)fs.n_reconnects, "errors",
			      (json_int_t)fs.n_errors));
	}
	json_object_set_new(sinks, "forward", fwd);
}

/* "sinks": {"syslog": {...}} in the status object. */
static void sink_status(const struct daemon *d, json_t *o)
{
	json_t *sinks = json_object_get(o, "sinks");
	struct sink_syslog_stats st = {0};

	if (sinks == NULL)
		return;
	if (d->sink)
		sink_syslog_stats(d->sink, &st);
	json_object_set_new(
	    sinks, "syslog",
	    json_pack("{s:b, s:s?, s:I, s:I, s:I, s:I}", "enabled",
		      d->sink != NULL, "socket_path",
		      d->sink ? d->cfg_inputs->sink_syslog.socket_path : NULL,
		      "queued", (json_int_t)st.n_queued, "sent",
		      (json_int_t)st.n_sent, "dropped",
		      (json_int_t)st.n_dropped, "errors",
		      (json_int_t)st.n_errors));
	forward_status(d, sinks);
}

/* "store": suppressions, retained access events, seals, purges. */
static void store_status(const struct daemon *d, json_t *o, int64_t now)
{
	json_t *st = storekeep_status(&d->keep, now);

	if (st == NULL)
		return;
	json_object_set_new(
	    st, "suppressed_stored",
	    json_integer((json_int_t)d->ck.n_suppressed_stored));
	json_object_set_new(o, "store", st);
}

char *custosd_status_json(void *arg)
{
	struct daemon *d = arg;
	json_t *o = json_object();
	int64_t now = loop_now_ms();
	char *s;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "version", json_string(CUSTOS_VERSION));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "uptime_s",
			    json_integer((now - d->start_ms) / 1000));
	json_object_set_new(o, "config", json_string(d->cfg->file));
	pipeline_status(d->p, o);
	/* not yet stored: pending, and those of the commit in flight */
	json_object_set_new(o, "pending_alerts",
			    json_integer(json_integer_value(json_object_get(
					     o, "pending_alerts")) +
					 (json_int_t)d->ck.n_in_flight_alerts));
	sink_status(d, o);
	json_object_set_new(
	    o, "checkpoint",
	    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "commits",
		      (json_int_t)d->ck.n_commits, "alert_commits",
		      (json_int_t)d->ck.n_alert_commits, "failures",
		      (json_int_t)d->ck.n_failures, "alerts_stored",
		      (json_int_t)d->ck.n_alerts_stored, "alerts_repeated",
		      (json_int_t)d->ck.n_alerts_repeated, "groups_written",
		      (json_int_t)d->ck.n_groups_written, "last_age_ms",
		      (json_int_t)(d->ck.last_ms ? now - d->ck.last_ms : -1)));
	store_status(d, o, now);
	json_object_set_new(
	    o, "lookups",
	    json_pack("{s:I, s:I, s:I}", "lists",
		      (json_int_t)d->cfg->lists.n_lists, "list_values",
		      (json_int_t)config_list_values(d->cfg), "agents",
		      (json_int_t)agentdir_count(d->cfg->agents)));
	json_object_set_new(o, "reloads",
			    json_pack("{s:I, s:I}", "ok",
				      (json_int_t)d->n_reloads, "failed",
				      (json_int_t)d->n_reload_failures));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

void custosd_status_line(struct daemon *d, char *buf, size_t size)
{
	struct pipeline_totals t;

	pipeline_totals(d->p, &t);
	snprintf(buf, size,
		 "%llu records, %llu malformed, %llu read errors, %llu alerts, "
		 "%zu groups, sink queue %zu (%llu dropped), %llu checkpoints",
		 (unsigned long long)t.n_records,
		 (unsigned long long)t.n_malformed,
		 (unsigned long long)t.n_errors, (unsigned long long)t.n_alerts,
		 t.n_groups, t.sink_queue_depth,
		 (unsigned long long)t.n_sink_dropped,
		 (unsigned long long)d->ck.n_commits);
}

void custosd_status_on_timer(struct loop *l, void *arg)
{
	struct daemon *d = arg;
	char line[512];

	custosd_status_line(d, line, sizeof(line));
	log_info("status: %s", line);
	sd_notifyf(0, "STATUS=%s", line);
}
