/*
 * tcp_reasm: TCP stream reassembly per flow, both directions, for a
 * passive observer (a capture), with hard limits.
 *
 * Each flow (one TCP connection, keyed by both endpoints) has a client
 * direction (0: client -> server) and a server direction (1).  The client is
 * the sender of the SYN; for flows whose handshake was not captured, the
 * side whose first payload does not start with "HTTP/".  In-order bytes of
 * each direction are handed to the data callback exactly once:
 *   - retransmitted bytes are dropped, overlapping segments trimmed (the
 *     first copy seen wins);
 *   - out-of-order segments wait in a per-direction list until the hole
 *     before them is filled;
 *   - a hole is declared lost (gap callback, then delivery goes on after
 *     it) when the peer acknowledges bytes beyond it, when the flow ends
 *     (FIN, RST, idle timeout, eviction, end of capture), or when waiting
 *     data exceeds the per-flow or global byte limit;
 *   - bytes cut by the capture's snap length are a gap too.
 * Limits: max_flows (the least recently active flow is evicted to make
 * room), max_flow_bytes (waiting out-of-order bytes per flow), and
 * max_buffered_bytes (waiting bytes over all flows).  Hitting a limit is
 * counted in the stats, never an error.
 *
 * Clock: packet time only (ts_us given with each packet); flows idle for
 * idle_timeout_ms of packet time are closed when a later packet arrives or
 * on tcp_reasm_expire(), so offline replay is deterministic.
 *
 * Ownership: the reassembler owns flows and waiting segments; each flow
 * carries one user pointer returned by the open callback, handed back to
 * every callback and finally to close (which must release it).  Data
 * pointers are valid only during the callback.  Not thread-safe.
 */
#ifndef CUSTOS_TCP_REASM_H
#define CUSTOS_TCP_REASM_H

#include <stddef.h>
#include <stdint.h>

#include "pcap_decode.h"

struct tcp_reasm_limits {
	size_t max_flows;	   /* >= 1 */
	size_t max_flow_bytes;	   /* waiting out-of-order bytes, per flow */
	size_t max_buffered_bytes; /* waiting bytes, all flows */
	int64_t idle_timeout_ms;   /* packet time */
};

struct tcp_flow_info {
	int af;
	uint8_t client[16], server[16];
	uint16_t client_port, server_port;
};

enum tcp_close_reason {
	TCP_CLOSE_FIN, /* both directions finished */
	TCP_CLOSE_RST,
	TCP_CLOSE_IDLE,	   /* idle timeout */
	TCP_CLOSE_EVICTED, /* max_flows reached */
	TCP_CLOSE_END,	   /* tcp_reasm_flush (end of capture) */
};

struct tcp_reasm_callbacks {
	/* A new flow; returns its user pointer (NULL is allowed). */
	void *(*open)(void *arg, const struct tcp_flow_info *info);
	/* In-order bytes of direction dir; ts_us and pkt_no are those of the
	 * packet that carried the first of them. */
	void (*data)(void *arg, void *user, int dir, const uint8_t *data,
		     size_t len, int64_t ts_us, uint64_t pkt_no);
	/* Bytes of direction dir were lost before the next data. */
	void (*gap)(void *arg, void *user, int dir);
	/* The flow ends; release user. */
	void (*close)(void *arg, void *user, enum tcp_close_reason why);
};

struct tcp_reasm_stats {
	uint64_t n_packets, n_flows;
	uint64_t n_retransmits, n_overlaps, n_out_of_order;
	uint64_t n_gaps, n_truncated;
	uint64_t n_flows_evicted, n_flows_expired;
	uint64_t n_flow_bytes_limit, n_buffer_limit;
	size_t n_active_flows, n_buffered_bytes;
};

/* limits and cb are copied.  Returns NULL on allocation failure. */
struct tcp_reasm *tcp_reasm_new(const struct tcp_reasm_limits *limits,
				const struct tcp_reasm_callbacks *cb,
				void *arg);
/* Closes every flow (TCP_CLOSE_END) and frees.  NULL is a no-op. */
void tcp_reasm_free(struct tcp_reasm *r);

/* Feeds one decoded segment seen at ts_us (packet time), packet number
 * pkt_no (1-based in the capture). */
void tcp_reasm_packet(struct tcp_reasm *r, const struct pcap_pkt *p,
		      int64_t ts_us, uint64_t pkt_no);

/* Closes flows idle since before now_us - idle timeout. */
void tcp_reasm_expire(struct tcp_reasm *r, int64_t now_us);

/* Closes every flow (end of capture), delivering what is waiting. */
void tcp_reasm_flush(struct tcp_reasm *r);

void tcp_reasm_get_stats(const struct tcp_reasm *r,
			 struct tcp_reasm_stats *out);

#endif
