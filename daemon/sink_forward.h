/*
 * sink_forward: alerts straight to a remote SIEM collector over UDP, TCP
 * (RFC 6587 octet counting: "LEN SP MSG") or TLS (RFC 5425: the same
 * framing inside TLS), one record per alert in a siem_format format.
 *
 * Outbox: every pushed alert is first appended, already formatted, to an
 * on-disk outbox (outbox_path: the framed records "LEN SP MSG", append
 * only) whose committed read offset lives next to it (outbox_path +
 * ".offset", replaced by rename).  Records leave the outbox in order once
 * written to the socket; the offset is committed after each flush, and the
 * outbox is truncated whenever it has been read to the end.  So alerts
 * raised while the collector is down, and alerts still queued when custosd
 * stops, are delivered when it comes back, after a restart too:
 * at-least-once — a record may be sent twice (crash before the offset
 * commit, a connection dropping with records in flight; the alert id lets
 * the SIEM de-duplicate).  TCP has no application acknowledgement: records
 * in the kernel's send buffer when the collector dies are lost (use the
 * store, or RELP in front of the SIEM, when that matters).
 *
 * Bound: at most outbox_max records wait in the outbox; when it is full
 * the NEWEST alert is refused and counted (n_dropped): the records of the
 * start of an outage are kept, and the local store keeps every alert.
 * A record longer than SINK_FORWARD_MAX_RECORD (or, over UDP, than one
 * datagram) is dropped and counted.
 *
 * I/O is non-blocking and driven by the daemon loop: sink_forward_flush()
 * connects, completes connects and TLS handshakes, and writes as far as
 * the socket takes, never waiting.  After a failure (connect refused,
 * handshake or certificate error, write error, the peer closing) the sink
 * waits a backoff before reconnecting: backoff_min_ms doubling up to
 * backoff_max_ms, reset by a successful write.  The host name is resolved
 * (getaddrinfo, blocking) at each connect attempt: prefer an IP address or
 * a local resolver.  TLS: certificate verified against ca_file (system
 * store without one), host name (or IP address) checked against the
 * certificate, TLS 1.2 at least; optional client certificate and key.
 * With TLS 1.3 the collector checks the client (its certificate, or its
 * lack of one) after the client's side of the handshake is done, so no
 * record is written before the collector has spoken: its session ticket
 * means accepted, an alert means refused (a failure, records kept); a
 * collector that sends no ticket is taken as accepting after
 * SINK_FORWARD_CONFIRM_MS of silence.
 *
 * Clock: CLOCK_MONOTONIC ms, passed in by the caller (backoff only).
 */
#ifndef CUSTOS_SINK_FORWARD_H
#define CUSTOS_SINK_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "siem_format.h"

#define SINK_FORWARD_MAX_RECORD (1u << 20)
#define SINK_FORWARD_UDP_MAX 65000 /* bytes per datagram */
#define SINK_FORWARD_OUTBOX_MAX 100000
#define SINK_FORWARD_CONFIRM_MS 1000 /* TLS 1.3: wait for a verdict */

enum sink_forward_transport { FORWARD_UDP, FORWARD_TCP, FORWARD_TLS };

struct sink_forward_config {
	const char *name;    /* for messages; copied */
	const char *address; /* "host:port" or "[v6]:port"; copied */
	int transport;	     /* enum sink_forward_transport */
	/* format and header fields; siem.syslog_header is forced on (every
	 * record is a syslog message); pseudo_key and hostname are copied,
	 * app_name and version borrowed (static strings) */
	struct siem_opts siem;
	const char *ca_file, *cert_file, *key_file; /* TLS; may be NULL */
	const char *outbox_path;		    /* required; copied */
	size_t outbox_max; /* records [SINK_FORWARD_OUTBOX_MAX] */
	int64_t backoff_min_ms, backoff_max_ms; /* [500, 60000] */
};

struct sink_forward_stats {
	uint64_t n_sent;       /* records written to the collector */
	uint64_t n_queued;     /* records in the outbox now */
	uint64_t outbox_bytes; /* size of the outbox file */
	uint64_t n_dropped;    /* outbox full, unformattable, too long */
	uint64_t n_reconnects; /* connections made after the first */
	uint64_t n_errors;     /* connect/handshake/write failures */
	bool connected;
};

struct sink_forward;

/* Fills c with the defaults above (siem_opts_init for c->siem). */
void sink_forward_config_init(struct sink_forward_config *c);

/* "udp", "tcp", "tls" -> enum sink_forward_transport, or -1. */
int sink_forward_transport_parse(const char *name);

#define SINK_FORWARD_KEY_MIN 16	  /* pseudonymisation key bytes */
#define SINK_FORWARD_KEY_MAX 4096 /* bytes read from the key file */

/* Why the sink last failed ("connect 127.0.0.1:6514: Connection refused",
 * "TLS: collector refused us: tlsv13 alert certificate required"...), once
 * per failure worth a log line — the first after records flowed, or one
 * with a different reason than the last returned — else NULL.  Valid until
 * the next flush. */
const char *sink_forward_take_error(struct sink_forward *s);

/* True once when records flow again after failures were reported. */
bool sink_forward_take_recovered(struct sink_forward *s);

/* Reads a pseudonymisation key: the file's bytes as they are (a trailing
 * newline is part of the key), at most SINK_FORWARD_KEY_MAX.  The key
 * (malloc'd, *len bytes), or NULL with the reason in err (cannot be read,
 * shorter than SINK_FORWARD_KEY_MIN bytes). */
unsigned char *sink_forward_read_key(const char *path, size_t *len, char *err,
				     size_t err_size);

/* Splits "host:port" / "[v6]:port" into host and port.  0, or -1. */
int sink_forward_parse_address(const char *address, char *host,
			       size_t host_size, char *port, size_t port_size);

/* A new sink: opens (creates, mode 0600) the outbox and reads its offset,
 * sets up TLS.  Connects lazily, at the first flush.  NULL with a reason
 * in err. */
struct sink_forward *sink_forward_new(const struct sink_forward_config *c,
				      char *err, size_t err_size);

/* Closes the connection and the outbox (what is left in it stays for the
 * next start).  NULL is a no-op. */
void sink_forward_free(struct sink_forward *s);

/* Formats a and appends it to the outbox.  0, or -1 (outbox full,
 * unformattable, write error; counted in n_dropped). */
int sink_forward_push(struct sink_forward *s, const struct alert *a);

/* Makes progress without blocking: connects (when the backoff allows),
 * then sends at most max records.  Returns the number sent. */
size_t sink_forward_flush(struct sink_forward *s, int64_t now_ms, size_t max);

void sink_forward_stats(const struct sink_forward *s,
			struct sink_forward_stats *out);

const char *sink_forward_name(const struct sink_forward *s);

#endif
