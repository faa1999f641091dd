/*
 * sink_syslog: alerts to syslog, one line per alert (the alert's JSON, see
 * alert_to_json), at a priority chosen by the rule's level.
 *
 * A bounded queue sits in front of syslog so that a slow or absent syslog
 * daemon never holds up ingestion: sink_syslog_push() only serializes the
 * alert into the queue (or drops it, counted, when the queue is full), and
 * the daemon loop calls sink_syslog_flush() to send a bounded number of
 * queued lines.
 *
 * Delivery: by default through syslog(3) (openlog(ident, LOG_PID |
 * LOG_NDELAY, facility) at sink_syslog_new(), closelog() at free; syslog(3)
 * is process-wide, so one sink per process).  With socket_path set, the
 * sink writes itself to that unix datagram socket, non-blocking, in the
 * format syslog(3) uses ("<PRI>Mmm dd hh:mm:ss ident[pid]: line"): for a
 * dedicated rsyslog imuxsock socket, containers, and tests.  A send that
 * would block leaves the line queued for the next flush.
 *
 * Format: see sink_syslog_config.format.
 * Lines: any byte below 0x20 left in the JSON (there should be none:
 * jsonw escapes control characters) is replaced by a space, so an alert is
 * always exactly one syslog line.  Receivers must accept long lines
 * (rsyslog: $MaxMessageSize) when alerts carry much evidence.
 * Clock: the wall clock, only for the timestamp of socket_path lines.
 */
#ifndef CUSTOS_SINK_SYSLOG_H
#define CUSTOS_SINK_SYSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "rules.h"

#define SINK_SYSLOG_QUEUE_MAX 10000
#define SINK_SYSLOG_N_LEVELS 5 /* LEVEL_INFORMATIONAL .. LEVEL_CRITICAL */

struct sink_syslog_config {
	const char *ident; /* copied; default "custosd" */
	int facility;	   /* a LOG_* facility (LOG_LOCAL0...); default
			      LOG_AUTHPRIV: alerts carry customer data */
	/* severity (LOG_INFO...) per enum rule_level; defaults:
	 * informational->info, low->notice, medium->warning, high->err,
	 * critical->crit */
	int priority[SINK_SYSLOG_N_LEVELS];
	size_t queue_max;	 /* lines; default SINK_SYSLOG_QUEUE_MAX */
	const char *socket_path; /* copied; NULL: syslog(3) */
	/* enum siem_format [SIEM_JSON]: the line is the alert JSON, or its
	 * CEF / LEEF record (siem_format.h), after the usual syslog header;
	 * SIEM_RFC5424 lines are whole RFC 5424 messages (their own PRI,
	 * HEADER and STRUCTURED-DATA), written to socket_path as they are
	 * (with syslog(3) they become the message text) */
	int format;
};

struct sink_syslog_stats {
	uint64_t n_queued;  /* in the queue now */
	uint64_t n_sent;    /* handed to syslog */
	uint64_t n_dropped; /* queue full, or not serializable */
	uint64_t n_errors;  /* send failures (socket_path mode) */
};

struct sink_syslog;

/* Fills c with the defaults above. */
void sink_syslog_config_init(struct sink_syslog_config *c);

/* Facility / severity names as in syslog.conf ("local0", "authpriv",
 * "daemon", "user"...; "emerg", "alert", "crit", "err", "warning",
 * "notice", "info", "debug").  Return 0 and set *out, or -1. */
int sink_syslog_facility_parse(const char *name, int *out);
int sink_syslog_severity_parse(const char *name, int *out);

/* Checks c: facility and priorities in range, queue_max >= 1.  Returns 0,
 * or -1 with a reason in err. */
int sink_syslog_config_check(const struct sink_syslog_config *c, char *err,
			     size_t err_size);

/* A new sink.  Returns NULL on an invalid config (see
 * sink_syslog_config_check) or allocation failure.  In socket_path mode
 * the socket is connected lazily, at the first flush, and again after a
 * send failure. */
struct sink_syslog *sink_syslog_new(const struct sink_syslog_config *cfg);

/* Frees the sink and the lines still queued (counted as dropped in no
 * stats: call sink_syslog_flush() first to send them).  NULL is a no-op. */
void sink_syslog_free(struct sink_syslog *s);

/* Queues a's JSON line (a is not kept).  Returns 0, or -1 when the queue
 * is full or the alert cannot be serialized (counted in n_dropped). */
int sink_syslog_push(struct sink_syslog *s, const struct alert *a);

/* Queues one line of text (copied; control bytes become spaces) at
 * severity (LOG_NOTICE...) with the sink's facility: daemon messages
 * meant for the same receiver as the alerts (chain seals).  Returns 0, or
 * -1 when the queue is full or memory is short (counted in n_dropped). */
int sink_syslog_push_line(struct sink_syslog *s, int severity,
			  const char *text);

/* Sends at most max queued lines, oldest first.  Returns the number sent;
 * fewer than queued when the socket would block or fails (the rest stays
 * queued). */
size_t sink_syslog_flush(struct sink_syslog *s, size_t max);

/* The priority (facility | severity) a line for level gets. */
int sink_syslog_priority(const struct sink_syslog *s, enum rule_level level);

void sink_syslog_stats(const struct sink_syslog *s,
		       struct sink_syslog_stats *out);

#endif
