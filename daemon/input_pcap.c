/*
 * input_pcap: the custosd input for HTTP traffic captured with libpcap
 * (type pcap; config in the input's `pcap:` section, see pcap_http.h).
 *
 * Live: pcap_create on pcap.interface, snap length, kernel buffer size,
 * immediate mode, non-blocking, pcap_activate, then the BPF filter; the
 * loop watches pcap_get_selectable_fd() and poll() drains it with
 * pcap_dispatch.  Offline: without an interface the input's path (a
 * .pcap/.pcapng file) is replayed once, max_records frames per poll.
 *
 * Records are already-decoded events, not bytes: poll() hands each one to
 * emit_event (struct input_ops, below) — the daemon must evaluate it
 * directly (engine_process), skipping decode and normalize.  The `emit`
 * callback is not used.  Events are built against the field table given to
 * set_event_sink (the daemon's ruleset table, so ids match the rules);
 * until then against the input's own table.  A new table (reload) means a
 * new decoder: requests in progress are dropped and counted.  No position: a
 * capture cannot be resumed (position() returns NULL); restart loses the flows
 * in progress. Statistics: n_records = events, n_errors = frames that did not
 * decode, n_dropped = the kernel's and the interface's drops (pcap_stats).
 *
 * Limits: TLS traffic must be captured behind the TLS terminator; HTTP/2
 * is not parsed (see pcap_http.h).  Clock: packet time for flows;
 * idle flows are also expired on each poll using the last packet time.
 */
#include "input_pcap.h"

#include "pcap_decode.h"
#include "pcap_http.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct input {
	pcap_t *pc;
	int linktype;
	bool offline, eof;
	struct pcap_http *http;
	const struct pcap_config *cfg;
	struct fieldtab *tab;	      /* own table, until set_event_sink */
	const struct fieldtab *bound; /* the table http builds against */
	struct pcap_http_stats prev;  /* of the decoders replaced */
	uint64_t n_rebind_dropped;
	bool rebinding, failed;
	const char *source;
	char name[128];
	input_event_fn emit_event;
	void *arg;
	size_t n_emitted;
	uint64_t n_events;
	int64_t last_us;
};

static int on_event(void *arg, const struct event *ev)
{
	struct input *in = arg;

	if (in->rebinding) {
		in->n_rebind_dropped++;
		return 0;
	}
	in->n_events++;
	in->n_emitted++;
	if (in->emit_event)
		in->emit_event(in->arg, ev);
	return 0;
}

static int open_live(struct input *in, const struct pcap_config *pc, char *err,
		     size_t err_size)
{
	char eb[PCAP_ERRBUF_SIZE] = "";

	in->pc = pcap_create(pc->interface, eb);
	if (in->pc == NULL || pcap_set_snaplen(in->pc, (int)pc->snaplen) != 0 ||
	    pcap_set_buffer_size(in->pc, (int)pc->buffer_size) != 0 ||
	    pcap_set_immediate_mode(in->pc, 1) != 0 ||
	    pcap_setnonblock(in->pc, 1, eb) != 0) {
		snprintf(err, err_size, "%s: %s", pc->interface,
			 in->pc ? pcap_geterr(in->pc) : eb);
		return -1;
	}
	if (pcap_activate(in->pc) < 0) {
		snprintf(err, err_size, "%s: %s", pc->interface,
			 pcap_geterr(in->pc));
		return -1;
	}
	if (pc->filter) {
		struct bpf_program prog;
		if (pcap_compile(in->pc, &prog, pc->filter, 1,
				 PCAP_NETMASK_UNKNOWN) < 0 ||
		    pcap_setfilter(in->pc, &prog) < 0) {
			snprintf(err, err_size, "filter '%s': %s", pc->filter,
				 pcap_geterr(in->pc));
			return -1;
		}
		pcap_freecode(&prog);
	}
	return 0;
}

static void pcap_close_input(struct input *in)
{
	if (in == NULL)
		return;
	in->emit_event = NULL; /* the requests still waiting go nowhere */
	pcap_http_free(in->http);
	fieldtab_free(in->tab);
	if (in->pc)
		pcap_close(in->pc);
	free(in);
}

static struct input *pcap_open_input(const struct config_input *cfg,
				     const void *position, size_t position_len,
				     char *err, size_t err_size)
{
	const struct pcap_config *pc = cfg->pcap;
	char eb[PCAP_ERRBUF_SIZE] = "";
	struct input *in = calloc(1, sizeof(*in));

	if (in == NULL || pc == NULL) {
		snprintf(err, err_size, "%s", in ? "no pcap: section" : "oom");
		free(in);
		return NULL;
	}
	/* source.input: the input name, as for the other inputs */
	snprintf(in->name, sizeof(in->name), "%s", cfg->name);
	in->offline = pc->interface == NULL;
	in->source = in->offline ? cfg->path : pc->interface;
	if (in->offline)
		in->pc = pcap_open_offline(cfg->path, eb);
	if (in->offline ? in->pc == NULL
			: open_live(in, pc, err, err_size) < 0) {
		if (in->offline)
			snprintf(err, err_size, "%s", eb);
		goto fail;
	}
	in->linktype = pcap_datalink(in->pc);
	if (!pcap_decode_linktype_ok(in->linktype)) {
		snprintf(err, err_size, "unsupported link type %d",
			 in->linktype);
		goto fail;
	}
	/* the daemon re-binds events to its own table: see emit_event */
	if ((in->tab = fieldtab_new()) == NULL)
		goto fail;
	fieldtab_freeze(in->tab);
	in->cfg = pc;
	in->bound = in->tab;
	in->http = pcap_http_new(pc, in->tab, in->name, on_event, in);
	if (in->http == NULL)
		goto fail;
	pcap_http_set_source_path(in->http, in->source);
	return in;
fail:
	pcap_close_input(in);
	return NULL;
}

static size_t pcap_fds(struct input *in, int *fds, size_t max)
{
	int fd = in->offline ? -1 : pcap_get_selectable_fd(in->pc);

	if (fd < 0 || max == 0)
		return 0;
	fds[0] = fd;
	return 1;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h,
		      const u_char *bytes)
{
	struct input *in = (struct input *)user;

	in->last_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
	pcap_http_frame(in->http, in->linktype, in->last_us, bytes, h->caplen);
}

static int pcap_poll(struct input *in, input_emit_fn emit, void *arg,
		     size_t max_records, char *err, size_t err_size)
{
	(void)emit;
	(void)arg;
	in->n_emitted = 0;
	if (in->failed) {
		snprintf(err, err_size,
			 "out of memory binding the field table");
		return -1;
	}
	if (in->eof)
		return 0;
	int cnt =
	    max_records > 0 && max_records < 100000 ? (int)max_records : 1000;
	int rc = pcap_dispatch(in->pc, cnt, on_packet, (u_char *)in);
	if (rc == PCAP_ERROR) {
		snprintf(err, err_size, "%s", pcap_geterr(in->pc));
		return -1;
	}
	if (in->offline && rc == 0) {
		in->eof = true;
		pcap_http_flush(in->http);
	} else {
		pcap_http_expire(in->http, in->last_us);
	}
	return (int)in->n_emitted;
}

static void *pcap_position(struct input *in, size_t *len)
{
	(void)in;
	*len = 0;
	return NULL;
}

static void add_stats(struct pcap_http_stats *sum,
		      const struct pcap_http_stats *st)
{
	sum->n_frames += st->n_frames;
	sum->n_bad_frames += st->n_bad_frames;
	sum->n_malformed += st->n_malformed;
	sum->n_unmatched += st->n_unmatched;
	sum->n_re_limit += st->n_re_limit;
	sum->tcp.n_truncated += st->tcp.n_truncated;
	sum->tcp.n_flows_evicted += st->tcp.n_flows_evicted;
}

static void pcap_input_stats(const struct input *in, struct input_stats *out)
{
	struct pcap_http_stats st;
	struct pcap_stat ps;

	pcap_http_get_stats(in->http, &st);
	add_stats(&st, &in->prev);
	memset(out, 0, sizeof(*out));
	out->n_records = in->n_events;
	out->n_errors = st.n_bad_frames + st.n_malformed;
	out->n_truncated = st.tcp.n_truncated;
	out->lag_bytes = -1;
	if (!in->offline && pcap_stats(in->pc, &ps) == 0)
		out->n_dropped = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
}

/* A new decoder against tab; the old one's waiting requests are dropped
 * (counted): their field ids refer to the old table. */
static void input_pcap_set_event_sink(struct input *in, input_event_fn fn,
				      void *arg, const struct fieldtab *tab)
{
	in->emit_event = fn;
	in->arg = arg;
	if (tab == NULL || tab == in->bound)
		return;
	struct pcap_http *h =
	    pcap_http_new(in->cfg, tab, in->name, on_event, in);
	struct pcap_http_stats st;
	if (h == NULL) {
		in->failed = true; /* ids would not match: stop */
		return;
	}
	pcap_http_set_source_path(h, in->source);
	pcap_http_get_stats(in->http, &st);
	add_stats(&in->prev, &st);
	in->rebinding = true;
	pcap_http_free(in->http);
	in->rebinding = false;
	in->http = h;
	in->bound = tab;
}

void input_pcap_counters(const struct input *in, struct input_pcap_stats *out)
{
	struct pcap_http_stats st;
	struct pcap_stat ps;

	memset(out, 0, sizeof(*out));
	pcap_http_get_stats(in->http, &st);
	add_stats(&st, &in->prev);
	out->live = !in->offline;
	if (!in->offline && pcap_stats(in->pc, &ps) == 0) {
		out->n_kernel_recv = ps.ps_recv;
		out->n_kernel_drop = ps.ps_drop;
		out->n_if_drop = ps.ps_ifdrop;
	}
	out->n_frames = st.n_frames;
	out->n_unmatched = st.n_unmatched;
	out->n_re_limit = st.n_re_limit;
	out->n_malformed = st.n_malformed;
	out->n_flows_evicted = st.tcp.n_flows_evicted;
	out->n_rebind_dropped = in->n_rebind_dropped;
}

const struct input_ops input_pcap_ops = {
    .type = "pcap",
    .open = pcap_open_input,
    .fds = pcap_fds,
    .poll = pcap_poll,
    .position = pcap_position,
    .stats = pcap_input_stats,
    .close = pcap_close_input,
    .set_event_sink = input_pcap_set_event_sink,
};
