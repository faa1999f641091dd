/*
 * input: the interface every custosd input implements (file tail, syslog,
 * stdin, pcap), as a table of operations with designated
 * initializers (OpenSMTPD table.c style).  The event loop owns the inputs.
 *
 * An input produces records (one log line, one syslog message, one HTTP
 * request): raw bytes plus their source position.  The daemon decodes,
 * normalizes and evaluates each record, and later commits the input's
 * position in the same store transaction as the alerts the records raised.
 * So inputs never advance a committed position themselves: they report a
 * position blob on request (position()) and resume from one (the blob
 * given to open()).  Positions are opaque to the daemon.
 *
 * Clock: inputs may read CLOCK_MONOTONIC for idle timeouts and retry
 * backoff; event time comes only from the records.
 */
#ifndef CUSTOS_INPUT_H
#define CUSTOS_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"

struct input;

struct input_record {
	const char *data; /* record bytes, not NUL-terminated; valid
			     only during the emit callback */
	size_t len;
	bool truncated; /* longer than max_line_bytes: cut */
	struct event_source source;
};

/* Called for each record; return 0 to go on, -1 to stop this poll (the
 * input keeps the record and offers it again on the next poll). */
typedef int (*input_emit_fn)(void *arg, const struct input_record *rec);

/* Inputs whose records are already-decoded events (pcap): the event is
 * borrowed for the call; its field ids refer to the table given to
 * set_event_sink() (the daemon's ruleset table, so the daemon evaluates it
 * directly with engine_process).  Return value ignored. */
typedef int (*input_event_fn)(void *arg, const struct event *ev);

struct input_stats {
	uint64_t n_records;
	uint64_t n_bytes;
	uint64_t n_errors; /* read/parse errors at the input level */
	uint64_t n_truncated;
	uint64_t n_dropped; /* records lost (e.g. UDP overrun) */
	int64_t lag_bytes;  /* bytes written but not yet read, -1 if
			       unknown */
};

struct input_ops {
	const char *type; /* "file", "syslog", "stdin", "pcap" */
	/* Opens the input described by cfg, resuming from `position` (a blob
	 * returned earlier by position(), or NULL).  NULL with err filled on
	 * failure. */
	struct input *(*open)(const struct config_input *cfg,
			      const void *position, size_t position_len,
			      char *err, size_t err_size);
	/* File descriptors the loop should watch for readability; returns
	 * how many were written to fds (at most max). */
	size_t (*fds)(struct input *in, int *fds, size_t max);
	/* Reads what is available without blocking, emitting at most
	 * max_records records.  Returns the number emitted, or -1 on a fatal
	 * error (err filled).  Also called on a timer (every poll_ms) for
	 * inputs that need it (rotation checks, idle timeouts). */
	int (*poll)(struct input *in, input_emit_fn emit, void *arg,
		    size_t max_records, char *err, size_t err_size);
	/* The position just after the last record emitted, as a malloc'd
	 * blob, or NULL with *len == 0 for inputs that cannot resume (UDP). */
	void *(*position)(struct input *in, size_t *len);
	void (*stats)(const struct input *in, struct input_stats *out);
	void (*close)(struct input *in);
	/* Optional (pcap): where poll() hands decoded events, and the frozen
	 * field table (borrowed; must outlive the input or the next call)
	 * their field ids refer to.  Called after open() and again after a
	 * reload with the new ruleset's table: events in progress under the
	 * old table are then dropped (counted by the input).  NULL for
	 * inputs that emit raw records. */
	void (*set_event_sink)(struct input *in, input_event_fn fn, void *arg,
			       const struct fieldtab *tab);
};

extern const struct input_ops input_file_ops;
extern const struct input_ops input_stdin_ops;
extern const struct input_ops input_syslog_ops;
extern const struct input_ops input_pcap_ops;

/* The ops for an input type name, or NULL. */
const struct input_ops *input_ops_find(const char *type);

#endif
