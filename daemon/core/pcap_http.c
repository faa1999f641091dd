/*
 * pcap_http: glue from frames to events (contract in pcap_http.h).
 *
 * Each TCP flow gets a struct conn (the HTTP parser plus the client's
 * address as text), created by tcp_reasm's open callback and freed by its
 * close callback.  Events are built in one event_buf owned here and reset
 * for every exchange.
 */
#include "pcap_http.h"

#include "config.h"
#include "normalize.h"
#include "pcap_decode.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conn {
	struct pcap_http *owner;
	struct http_conn *http;
	char client_ip[64];
};

struct pcap_http {
	const struct pcap_config *cfg;
	const char *input_name, *path;
	pcap_http_event_fn fn;
	void *arg;
	struct tcp_reasm *reasm;
	struct event_buf *buf;
	struct http_limits hlim;
	bool emit_unmatched;
	uint64_t pkt_no;
	struct pcap_http_stats st;
};

/* ---- config ---- */

#define KiB 1024LL
#define MiB (1024LL * 1024)

static const struct config_key pcap_keys[] = {
    {.name = "interface",
     .type = CONFIG_STRING,
     .offset = offsetof(struct pcap_config, interface)},
    {.name = "filter",
     .type = CONFIG_STRING,
     .offset = offsetof(struct pcap_config, filter)},
    {.name = "snaplen",
     .type = CONFIG_SIZE,
     .min = 64,
     .max = 262144,
     .def = 262144,
     .offset = offsetof(struct pcap_config, snaplen)},
    {.name = "buffer_size",
     .type = CONFIG_SIZE,
     .min = 64 * KiB,
     .max = 1024 * MiB,
     .def = 4 * MiB,
     .offset = offsetof(struct pcap_config, buffer_size)},
    {.name = "max_flows",
     .type = CONFIG_SIZE,
     .min = 1,
     .max = 10000000,
     .def = 10000,
     .offset = offsetof(struct pcap_config, max_flows)},
    {.name = "max_flow_bytes",
     .type = CONFIG_SIZE,
     .min = KiB,
     .max = 64 * MiB,
     .def = MiB,
     .offset = offsetof(struct pcap_config, max_flow_bytes)},
    {.name = "max_buffer_bytes",
     .type = CONFIG_SIZE,
     .min = 64 * KiB,
     .max = 4096 * MiB,
     .def = 64 * MiB,
     .offset = offsetof(struct pcap_config, max_buffer_bytes)},
    {.name = "idle_timeout",
     .type = CONFIG_DURATION,
     .min = 1000,
     .max = 86400000,
     .def = 120000,
     .offset = offsetof(struct pcap_config, idle_timeout_ms)},
    {.name = "max_header_bytes",
     .type = CONFIG_SIZE,
     .min = KiB,
     .max = MiB,
     .def = 64 * KiB,
     .offset = offsetof(struct pcap_config, max_header_bytes)},
    {.name = "max_body_bytes",
     .type = CONFIG_SIZE,
     .min = 0,
     .max = 16 * MiB,
     .def = 64 * KiB,
     .offset = offsetof(struct pcap_config, max_body_bytes)},
    {.name = "max_pending",
     .type = CONFIG_SIZE,
     .min = 1,
     .max = 10000,
     .def = 64,
     .offset = offsetof(struct pcap_config, max_pending)},
    {.name = "defaults",
     .type = CONFIG_CUSTOM,
     .parse = routes_parse_defaults,
     .offset = offsetof(struct pcap_config, routes)},
    {.name = "routes",
     .type = CONFIG_CUSTOM,
     .parse = routes_parse_list,
     .offset = offsetof(struct pcap_config, routes)},
};

#define N_PCAP_KEYS (sizeof(pcap_keys) / sizeof(pcap_keys[0]))

int pcap_config_parse(const struct yaml_node *v, void *member, struct diag *d)
{
	struct pcap_config **cp = member;

	pcap_config_free(*cp);
	if ((*cp = calloc(1, sizeof(**cp))) == NULL)
		return -1;
	config_apply(yamltree_is_null(v) ? NULL : v, pcap_keys, N_PCAP_KEYS,
		     *cp, "pcap", d);
	return 0;
}

struct pcap_config *pcap_config_new_default(void)
{
	struct pcap_config *c = calloc(1, sizeof(*c));
	struct diag d;

	if (c == NULL)
		return NULL;
	diag_init(&d);
	config_apply(NULL, pcap_keys, N_PCAP_KEYS, c, "pcap", &d);
	diag_clear(&d);
	return c;
}

void pcap_config_free(struct pcap_config *c)
{
	if (c == NULL)
		return;
	free(c->interface);
	free(c->filter);
	routes_free(c->routes);
	free(c);
}

/* ---- events ---- */

static const char *outcome_of(int status)
{
	if (status >= 200 && status < 400)
		return "success";
	if (status == 401 || status == 403)
		return "denied";
	return "error";
}

/* -1 when out of memory. */
static int add_str(struct event_buf *b, const char *name, const char *v,
		   enum value_kind kind)
{
	size_t n = strlen(v);
	const char *copy = event_buf_strdup(b, v, n);

	return copy != NULL && event_buf_add(b, name, copy, n, kind, -1) >= 0
		   ? 0
		   : -1;
}

static void on_exchange(void *arg, const struct http_exchange *x)
{
	struct conn *c = arg;
	struct pcap_http *p = c->owner;
	struct event_buf *b = p->buf;
	struct event ev;
	char num[32], err[128];

	event_buf_reset(b);
	struct routes_result r = routes_apply(p->cfg->routes, x, b);
	p->st.n_bad_rows += r.n_bad_rows;
	p->st.n_re_limit += r.n_re_limit;
	if (r.route < 0) {
		p->st.n_unmatched++;
		if (!p->emit_unmatched)
			return;
	}
	snprintf(num, sizeof(num), "%lld", (long long)(x->req->ts_us / 1000));
	int nomem = r.n_nomem || add_str(b, "ts", num, VALUE_NUMBER) ||
		    add_str(b, "src_ip", c->client_ip, VALUE_STRING);
	if (x->status) {
		nomem |=
		    add_str(b, "outcome", outcome_of(x->status), VALUE_STRING);
		snprintf(num, sizeof(num), "%d", x->status);
		nomem |= add_str(b, "http.status", num, VALUE_NUMBER);
	}
	nomem |= add_str(b, "http.method", x->req->method, VALUE_STRING) ||
		 add_str(b, "http.uri", x->req->uri, VALUE_STRING);
	if (nomem) { /* never an event with fields missing */
		p->st.n_nomem++;
		return;
	}
	event_buf_view(b, &ev);
	if (normalize_event(NULL, b, &ev, err, sizeof(err)) < 0) {
		p->st.n_malformed++;
		return;
	}
	ev.source =
	    (struct event_source){p->input_name, p->path, 0, x->req->pkt_no};
	ev.raw = x->req->uri;
	ev.raw_len = strlen(x->req->uri);
	p->st.n_events++;
	p->fn(p->arg, &ev);
}

/* ---- reassembly callbacks ---- */

static void *flow_open(void *arg, const struct tcp_flow_info *info)
{
	struct pcap_http *p = arg;
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		p->st.n_nomem++; /* the flow's requests are lost */
		return NULL;
	}
	c->owner = p;
	c->http = http_conn_new(&p->hlim, &p->st.http, on_exchange, c);
	if (c->http == NULL) {
		p->st.n_nomem++;
		free(c);
		return NULL;
	}
	pcap_decode_addr(info->af, info->client, c->client_ip,
			 sizeof(c->client_ip));
	return c;
}

static void flow_data(void *arg, void *user, int dir, const uint8_t *data,
		      size_t len, int64_t ts_us, uint64_t pkt_no)
{
	struct conn *c = user;

	if (c)
		http_conn_data(c->http, dir, data, len, ts_us, pkt_no);
}

static void flow_gap(void *arg, void *user, int dir)
{
	struct conn *c = user;

	if (c)
		http_conn_gap(c->http, dir);
}

static void flow_close(void *arg, void *user, enum tcp_close_reason why)
{
	struct conn *c = user;

	if (c == NULL)
		return;
	http_conn_finish(c->http);
	http_conn_free(c->http);
	free(c);
}

/* ---- public ---- */

struct pcap_http *pcap_http_new(const struct pcap_config *cfg,
				const struct fieldtab *tab,
				const char *input_name, pcap_http_event_fn fn,
				void *arg)
{
	static const struct tcp_reasm_callbacks cb = {flow_open, flow_data,
						      flow_gap, flow_close};
	struct pcap_http *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	*p = (struct pcap_http){
	    .cfg = cfg, .input_name = input_name, .fn = fn, .arg = arg};
	p->hlim = (struct http_limits){cfg->max_header_bytes,
				       cfg->max_body_bytes, cfg->max_pending};
	struct tcp_reasm_limits tl = {cfg->max_flows, cfg->max_flow_bytes,
				      cfg->max_buffer_bytes,
				      cfg->idle_timeout_ms};
	p->reasm = tcp_reasm_new(&tl, &cb, p);
	p->buf = event_buf_new(tab);
	if (p->reasm == NULL || p->buf == NULL) {
		pcap_http_free(p);
		return NULL;
	}
	return p;
}

void pcap_http_free(struct pcap_http *p)
{
	if (p == NULL)
		return;
	tcp_reasm_free(p->reasm); /* closes flows: may still emit */
	event_buf_free(p->buf);
	free(p);
}

void pcap_http_set_emit_unmatched(struct pcap_http *p, bool on)
{
	p->emit_unmatched = on;
}

void pcap_http_set_source_path(struct pcap_http *p, const char *path)
{
	p->path = path;
}

void pcap_http_frame(struct pcap_http *p, int linktype, int64_t ts_us,
		     const uint8_t *data, size_t caplen)
{
	struct pcap_pkt pkt;

	p->pkt_no++;
	p->st.n_frames++;
	switch (pcap_decode_frame(linktype, data, caplen, &pkt)) {
	case PCAP_DECODE_TCP:
		p->st.n_tcp++;
		tcp_reasm_packet(p->reasm, &pkt, ts_us, p->pkt_no);
		return;
	case PCAP_DECODE_SKIP:
		p->st.n_not_tcp++;
		return;
	case PCAP_DECODE_FRAGMENT:
		p->st.n_fragments++;
		return;
	default:
		p->st.n_bad_frames++;
		return;
	}
}

void pcap_http_expire(struct pcap_http *p, int64_t now_us)
{
	tcp_reasm_expire(p->reasm, now_us);
}

void pcap_http_flush(struct pcap_http *p)
{
	tcp_reasm_flush(p->reasm);
}

int pcap_http_read_file(struct pcap_http *p, const char *path, char *err,
			size_t err_size)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(
	    path, PCAP_TSTAMP_PRECISION_MICRO, errbuf);

	if (pc == NULL) {
		snprintf(err, err_size, "%s", errbuf);
		return -1;
	}
	int lt = pcap_datalink(pc);
	if (!pcap_decode_linktype_ok(lt)) {
		snprintf(err, err_size, "unsupported link type %s",
			 pcap_datalink_val_to_name(lt)
			     ? pcap_datalink_val_to_name(lt)
			     : "?");
		pcap_close(pc);
		return -1;
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1)
		pcap_http_frame(p, lt,
				(int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec,
				data, h->caplen);
	if (rc == PCAP_ERROR)
		snprintf(err, err_size, "%s", pcap_geterr(pc));
	pcap_close(pc);
	pcap_http_flush(p);
	return rc == PCAP_ERROR ? -1 : 0;
}

void pcap_http_get_stats(const struct pcap_http *p, struct pcap_http_stats *out)
{
	*out = p->st;
	tcp_reasm_get_stats(p->reasm, &out->tcp);
}
