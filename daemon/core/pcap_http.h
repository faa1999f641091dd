/*
 * pcap_http: captured packets -> canonical access events, for the pcap
 * input, `custos pcap-events` and `custos replay --pcap`.
 *
 * Pipeline: pcap_decode (link/IP/TCP) -> tcp_reasm (per-flow streams) ->
 * http_parse (request/response exchanges) -> routes (fields) -> an event
 * in an event_buf, normalized with the identity field map, handed to the
 * caller's callback.  Event fields: ts (packet time of the request's first
 * segment, epoch ms), src_ip (the client), the route's fields, outcome
 * (2xx/3xx success, 401/403 denied, other statuses error; absent when no
 * response was seen), and http.method, http.uri, http.status.  source is
 * {input name, capture file or interface, 0, packet number of the
 * request's first segment}.  Requests no route matches are counted and
 * dropped (or, with emit_unmatched, emitted without route fields, to help
 * writing route maps).  Exchanges come out when their response head is
 * seen, so events of different connections may be slightly out of time
 * order (the engine's max_lateness absorbs it).
 *
 * Honest limits: only cleartext HTTP/1.x is seen — TLS must be captured
 * behind the TLS terminator (or on a loopback/cleartext hop), and HTTP/2
 * (h2c or in TLS) is out of scope; IP fragments are not reassembled;
 * bytes lost by the capture make the affected request incomplete or lost
 * (counted) until the stream resynchronises at the next request line.
 *
 * Config (an input's `pcap:` mapping; bounds in pcap_http.c):
 *     pcap:
 *       interface: eth0            # live capture; else the input's path
 *       filter: tcp port 8080      # BPF
 *       snaplen: 262144
 *       buffer_size: 4MiB          # kernel capture buffer
 *       max_flows: 10000
 *       max_flow_bytes: 1MiB       # waiting out-of-order bytes per flow
 *       max_buffer_bytes: 64MiB    # same, all flows
 *       idle_timeout: 2m           # packet time
 *       max_header_bytes: 64KiB
 *       max_body_bytes: 64KiB      # request body kept for body.* fields
 *       max_pending: 64            # requests awaiting a response
 *       defaults: { ... }          # see routes.h
 *       routes: [ ... ]
 *
 * Clock: packet time only.  Not thread-safe.
 */
#ifndef CUSTOS_PCAP_HTTP_H
#define CUSTOS_PCAP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "diag.h"
#include "event.h"
#include "http_parse.h"
#include "routes.h"
#include "tcp_reasm.h"
#include "yamltree.h"

struct pcap_config {
	char *interface;
	char *filter;
	size_t snaplen, buffer_size;
	size_t max_flows, max_flow_bytes, max_buffer_bytes;
	int64_t idle_timeout_ms;
	size_t max_header_bytes, max_body_bytes, max_pending;
	struct routes *routes; /* NULL: no routes */
};

/* config_apply CUSTOM parser for an input's `pcap:` mapping; member is a
 * struct pcap_config ** (allocated here, defaults filled).  Returns 0, or
 * -1 on allocation failure; problems go to d as file:line:column. */
int pcap_config_parse(const struct yaml_node *v, void *member, struct diag *d);

/* A config with every default and no routes; NULL on allocation failure. */
struct pcap_config *pcap_config_new_default(void);
void pcap_config_free(struct pcap_config *c);

struct pcap_http_stats {
	uint64_t n_frames, n_tcp, n_not_tcp, n_bad_frames, n_fragments;
	uint64_t n_events, n_unmatched, n_bad_rows, n_malformed;
	uint64_t n_re_limit; /* route regexes stopped by their limits */
	uint64_t n_nomem;    /* flows or events lost: allocation failures */
	struct tcp_reasm_stats tcp;
	struct http_stats http;
};

/* Called with each event (valid during the call).  Return value ignored
 * for now (0). */
typedef int (*pcap_http_event_fn)(void *arg, const struct event *ev);

/* cfg and tab (frozen) are borrowed and must outlive the object;
 * input_name too.  Returns NULL on allocation failure. */
struct pcap_http *pcap_http_new(const struct pcap_config *cfg,
				const struct fieldtab *tab,
				const char *input_name, pcap_http_event_fn fn,
				void *arg);
/* Ends the open flows (emitting their waiting requests), then frees.
 * NULL is a no-op. */
void pcap_http_free(struct pcap_http *p);

/* Emit requests no route matches (without route fields). */
void pcap_http_set_emit_unmatched(struct pcap_http *p, bool on);

/* The source path put in events (borrowed), e.g. the capture file. */
void pcap_http_set_source_path(struct pcap_http *p, const char *path);

/* One captured frame of link type linktype (DLT_*), packet time ts_us.
 * Frames are numbered from 1 in call order. */
void pcap_http_frame(struct pcap_http *p, int linktype, int64_t ts_us,
		     const uint8_t *data, size_t caplen);

/* Closes flows idle in packet time as of now_us. */
void pcap_http_expire(struct pcap_http *p, int64_t now_us);

/* End of capture: ends every flow, emitting waiting requests. */
void pcap_http_flush(struct pcap_http *p);

/* Reads a whole .pcap / .pcapng file (pcap_open_offline), then flushes.
 * Returns 0, or -1 with err filled (open error, unsupported link type,
 * read error). */
int pcap_http_read_file(struct pcap_http *p, const char *path, char *err,
			size_t err_size);

void pcap_http_get_stats(const struct pcap_http *p,
			 struct pcap_http_stats *out);

#endif
