/*
 * http_parse: HTTP/1.x for a passive observer: one connection's two
 * reassembled byte streams -> request/response exchanges, in order.
 *
 * Requests: request line, headers (obs-fold continuation lines are joined
 * with one space), body by Content-Length or chunked transfer coding
 * (Transfer-Encoding wins over Content-Length, trailers skipped), several
 * per connection (pipelining).  The first max_body_bytes of a request body
 * are kept (for route fields such as body.ticket_id); the rest is skipped.
 * Responses: status line and headers; the body is skipped (Content-Length,
 * chunked, or until the connection ends; none for HEAD, 1xx, 204, 304).
 * 1xx (except 101) responses are interim and pair with nothing; 101 and a
 * successful CONNECT end HTTP parsing on the connection.
 *
 * Pairing: responses pair with requests in order.  An exchange is handed to
 * the callback once its request is complete and its response head has been
 * seen, or, without a response (status 0), when the connection ends, when
 * bytes of the response stream were lost, or when more than max_pending
 * requests wait.  Exchanges come out in request order.
 *
 * Lost bytes (http_conn_gap): on the request side the request being read
 * is kept if its head was complete (its body marked incomplete), else
 * dropped; parsing resumes at the next line that starts with a known method
 * and reads as a request line.  On the response side, waiting requests are
 * released without status and parsing resumes at the next "HTTP/1." line.
 *
 * Limits: a message head longer than max_header_bytes, more than
 * HTTP_MAX_HEADERS headers, a chunk-size line over 1 KiB, and malformed
 * syntax are counted in struct http_stats and lead to resynchronisation,
 * never to unbounded buffering.  Buffered bytes per direction stay below
 * max_header_bytes plus the size of one data call.
 *
 * Ownership: the connection owns its buffers and waiting requests; the
 * exchange given to the callback is valid only during the call.  The
 * stats are the caller's (shared by many connections).  Not thread-safe.
 */
#ifndef CUSTOS_HTTP_PARSE_H
#define CUSTOS_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 100

struct http_limits {
	size_t max_header_bytes; /* request/status line + headers */
	size_t max_body_bytes;	 /* request body bytes kept */
	size_t max_pending;	 /* requests waiting for their response */
};

struct http_header {
	const char *name, *value; /* NUL-terminated; value trimmed */
	size_t name_len, value_len;
};

struct http_request {
	const char *method, *uri; /* NUL-terminated */
	int version_minor;	  /* HTTP/1.x */
	const struct http_header *headers;
	size_t n_headers;
	const uint8_t *body; /* kept bytes (body_len <= max_body_bytes) */
	size_t body_len;
	bool body_truncated; /* longer than max_body_bytes */
	bool incomplete;     /* bytes lost or connection ended mid-body */
	int64_t ts_us;	     /* packet time of the request's first byte */
	uint64_t pkt_no;     /* its packet number */
};

struct http_exchange {
	const struct http_request *req;
	int status; /* 0: no response seen */
	const struct http_header *resp_headers;
	size_t n_resp_headers;
};

struct http_stats {
	uint64_t n_requests, n_responses, n_exchanges;
	uint64_t n_unanswered; /* exchanges without status */
	uint64_t n_unpaired;   /* responses with no request */
	uint64_t n_bad_requests, n_bad_responses;
	uint64_t n_header_limit;    /* head over max_header_bytes */
	uint64_t n_headers_dropped; /* over HTTP_MAX_HEADERS */
	uint64_t n_body_truncated;
	uint64_t n_pending_limit;
	uint64_t n_resyncs;
	uint64_t n_upgrades; /* 101 / CONNECT: rest not parsed */
	uint64_t n_nomem;    /* allocation failures: data or messages lost */
};

typedef void (*http_exchange_fn)(void *arg, const struct http_exchange *x);

/* A connection.  lim is copied; stats is borrowed (must outlive it).
 * Returns NULL on allocation failure. */
struct http_conn *http_conn_new(const struct http_limits *lim,
				struct http_stats *stats, http_exchange_fn fn,
				void *arg);

/* Bytes of direction dir (0 client->server, 1 server->client) that follow
 * the previous ones; ts_us/pkt_no: the packet that carried the first. */
void http_conn_data(struct http_conn *c, int dir, const uint8_t *data,
		    size_t len, int64_t ts_us, uint64_t pkt_no);

/* Some bytes of direction dir were lost before the next data. */
void http_conn_gap(struct http_conn *c, int dir);

/* The connection ended: completes what can be and hands out every waiting
 * request.  The connection can then only be freed. */
void http_conn_finish(struct http_conn *c);

/* Frees without handing anything out.  NULL is a no-op. */
void http_conn_free(struct http_conn *c);

/* The value of the first header named `name` (case-insensitive), or NULL. */
const struct http_header *http_header_find(const struct http_header *h,
					   size_t n, const char *name);

#endif
