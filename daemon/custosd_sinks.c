/*
 * custosd_sinks.c: the life cycle of custosd's sinks: the syslog sink
 * (sinks.syslog) and one forward sink per sinks.forward entry (outbox in
 * state_dir), made at start (fatal if one cannot be), registered with the
 * pipeline, their failures logged, and flushed at exit for at most
 * SINK_STOP_WAIT_MS.  The daemon owns the sinks (freed in stop()).
 * Monotonic clock.
 */
#include "custosd_int.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int push_syslog(void *arg, const struct alert *a)
{
	return sink_syslog_push(arg, a);
}

static int push_forward(void *arg, const struct alert *a)
{
	return sink_forward_push(arg, a);
}

/* One sink per sinks.forward entry, outbox in state_dir; fatal if one
 * cannot be made (before serving). */
static void open_forward(struct daemon *d)
{
	char err[256], host[256] = "", *outbox;

	gethostname(host, sizeof(host) - 1);
	for (size_t i = 0; i < d->cfg->n_sink_forward; i++) {
		const struct config_sink_forward *c = &d->cfg->sink_forward[i];
		struct sink_forward_config fc;
		unsigned char *key = NULL;
		sink_forward_config_init(&fc);
		fc.name = c->name;
		fc.address = c->address;
		fc.transport = c->transport;
		fc.siem.format = c->format;
		fc.siem.hostname = host;
		fc.siem.procid = (long)getpid();
		fc.siem.version = CUSTOS_VERSION;
		fc.ca_file = c->ca_file;
		fc.cert_file = c->cert_file;
		fc.key_file = c->key_file;
		fc.outbox_max = c->outbox_max;
		if (c->pseudonymize_key_file &&
		    (fc.siem.pseudo_key = key = sink_forward_read_key(
			 c->pseudonymize_key_file, &fc.siem.pseudo_key_len, err,
			 sizeof(err))) == NULL)
			fatalx("sinks.forward %s: %s", c->name, err);
		if (asprintf(&outbox, "%s/forward-%s.outbox", d->cfg->state_dir,
			     c->name) < 0)
			fatalx("out of memory");
		fc.outbox_path = outbox;
		d->fwd[d->n_fwd] = sink_forward_new(&fc, err, sizeof(err));
		free(outbox);
		free(key);
		if (d->fwd[d->n_fwd] == NULL)
			fatalx("sinks.forward %s: %s", c->name, err);
		if (pipeline_add_sink(d->p, c->name, push_forward,
				      d->fwd[d->n_fwd++]) < 0)
			fatalx("sinks.forward %s: too many sinks", c->name);
		log_info("alerts also go to %s (%s)", c->address, c->name);
	}
}

/* The syslog sink from sinks.syslog, registered with the pipeline;
 * fatal if it cannot be made (before serving). */
void custosd_sinks_open(struct daemon *d)
{
	const struct config_sink_syslog *c = &d->cfg->sink_syslog;
	struct sink_syslog_config sc;
	char err[256];

	open_forward(d);
	if (!c->enabled)
		return;
	sink_syslog_config_init(&sc);
	sc.format = c->format;
	sc.ident = c->ident;
	sc.facility = c->facility;
	for (int l = 0; l < SINK_SYSLOG_N_LEVELS; l++)
		sc.priority[l] = c->priority[l];
	sc.queue_max = c->queue_max;
	sc.socket_path = c->socket_path;
	if (sink_syslog_config_check(&sc, err, sizeof(err)) < 0)
		fatalx("sinks.syslog: %s", err);
	if ((d->sink = sink_syslog_new(&sc)) == NULL ||
	    pipeline_add_sink(d->p, "syslog", push_syslog, d->sink) < 0)
		fatalx("sinks.syslog: out of memory");
	log_info("alerts also go to syslog at %s (%s)", c->socket_path,
		 c->ident);
}

/* At exit: the forward sinks' outboxes, for at most SINK_STOP_WAIT_MS
 * (what is left is sent after the next start). */
static void flush_forward(struct daemon *d)
{
	int64_t start = loop_now_ms();
	bool left = true;

	while (left && loop_now_ms() - start <= SINK_STOP_WAIT_MS) {
		left = false;
		for (size_t i = 0; i < d->n_fwd; i++) {
			struct sink_forward_stats st;
			sink_forward_flush(d->fwd[i], loop_now_ms(),
					   SINK_FLUSH_BATCH);
			sink_forward_stats(d->fwd[i], &st);
			left |= st.n_queued > 0 && st.connected;
		}
		if (left)
			usleep(10000);
	}
}

/* At exit: everything queued to the sink, waiting at most
 * SINK_STOP_WAIT_MS for a receiver that does not take it. */
void custosd_sinks_flush(struct daemon *d)
{
	struct sink_syslog_stats st;
	int64_t last = loop_now_ms();

	pipeline_drain_sinks(d->p, PIPELINE_SINK_QUEUE_MAX);
	flush_forward(d);
	if (d->sink == NULL)
		return;
	for (;;) {
		sink_syslog_stats(d->sink, &st);
		if (st.n_queued == 0 ||
		    loop_now_ms() - last > SINK_STOP_WAIT_MS)
			break;
		if (sink_syslog_flush(d->sink, SINK_FLUSH_BATCH) > 0)
			last = loop_now_ms();
		else
			usleep(10000);
	}
	if (st.n_queued)
		log_warnx("sinks.syslog: %llu alerts not delivered at exit",
			  (unsigned long long)st.n_queued);
}

/* Logs a forward sink's new failure (once per reason) and its recovery. */
void custosd_sinks_report(struct sink_forward *f)
{
	const char *why = sink_forward_take_error(f);

	if (why != NULL)
		log_warnx("sinks.forward %s: %s; alerts wait in the outbox, "
			  "retrying",
			  sink_forward_name(f), why);
	if (sink_forward_take_recovered(f))
		log_info("sinks.forward %s: delivering again",
			 sink_forward_name(f));
}
