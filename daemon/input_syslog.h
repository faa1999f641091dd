/*
 * input_syslog: the "syslog" input of custosd (ops in input.h), a UDP or
 * TCP listener on config_input.listen ("host:port", "[v6addr]:port",
 * "*:port" or ":port" for every address) that turns each syslog message
 * (RFC 5424 or RFC 3164, TCP framed per RFC 6587) into one record whose
 * data is the message's MSG part: the access event, JSON or key=value.
 *
 * Records: source = { input name, "udp:ADDR:PORT" / "tcp:ADDR:PORT" of the
 * sender as path, line 0, offset = the input's message sequence number
 * (1, 2, ...) }.  A message that is not valid syslog is counted
 * (n_errors) and dropped; a message longer than max_msg_bytes is cut
 * (truncated, counted).
 *
 * No resume: position() returns NULL.  A syslog input cannot ask a sender
 * to resend, so what arrives while custosd is down, and UDP datagrams the
 * kernel drops, are lost.  For no loss, senders must buffer: rsyslog with
 * omrelp or TCP forwarding with a disk-assisted action queue.  UDP drops
 * are counted (n_dropped) from the kernel's SO_RXQ_OVFL counter where
 * available.
 *
 * Bounds: at most max_conns TCP connections (beyond: accepted, closed at
 * once, counted), one frame buffer of max_msg_bytes + one read buffer per
 * connection, idle connections closed after idle_ms (CLOCK_MONOTONIC).
 */
#ifndef CUSTOS_INPUT_SYSLOG_H
#define CUSTOS_INPUT_SYSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "input.h"

#define INPUT_SYSLOG_MAX_MSG_BYTES (64u * 1024)
#define INPUT_SYSLOG_MAX_CONNS 256
#define INPUT_SYSLOG_IDLE_MS (5 * 60 * 1000)
#define INPUT_SYSLOG_MAX_LISTEN 4 /* sockets bound for one listen address */

struct input_syslog_limits {
	size_t max_msg_bytes; /* 0 keeps the current value */
	size_t max_conns;     /* 0 keeps the current value */
	int64_t idle_ms;      /* 0 keeps the current value */
};

struct input_syslog_stats {
	uint64_t n_conns;	 /* open now */
	uint64_t n_accepted;	 /* since open */
	uint64_t n_refused;	 /* over max_conns */
	uint64_t n_idle_closed;	 /* closed by the idle timeout */
	uint64_t n_frame_errors; /* RFC 6587 framing errors */
	uint64_t n_parse_errors; /* not RFC 5424 / 3164 */
	uint64_t n_recv_errors;	 /* socket read errors */
	uint64_t n_rxq_dropped;	 /* UDP datagrams dropped by the kernel */
};

/* Changes the limits of a syslog input (defaults: the constants above).
 * Call before the first poll; max_msg_bytes applies to connections
 * accepted after the call.  Returns 0, or -1 on allocation failure. */
int input_syslog_set_limits(struct input *in,
			    const struct input_syslog_limits *l);

/* The local port of the first listening socket (useful with port 0). */
int input_syslog_port(const struct input *in);

void input_syslog_counters(const struct input *in,
			   struct input_syslog_stats *out);

#endif
