/*
 * pipeline: custosd's data path, from records to alerts.
 *
 *     input record -> decode (by the input's format) -> normalize (the
 *     input's field map) -> engine -> alert -> pending list (written to
 *     the store by the next commit) -> sink queue (alerts newly stored,
 *     delivered to the sinks between polls)
 *
 * Inputs of already-decoded events (pcap) skip decode and normalize: they
 * get the ruleset's field table through set_event_sink (again after a
 * reload) and their events go straight to the engine.
 *
 * CSV (file and stdin inputs): the header is each file's first line.  The
 * pipeline keeps one parsed header per file path (at most
 * PIPELINE_CSV_MAX_FILES per input, least recently used evicted, counted):
 * a record at line 1 replaces its file's header and is not an event (a new
 * file, a rotated-in file or a truncated one each bring their own); a
 * record of a file whose header is not known (resumed from a checkpoint
 * past line 1, a file renamed by rotation, an evicted entry) reads the
 * header from the file's first line on disk, at most max_line_bytes.  A
 * file whose first line was rewritten in place between our reads cannot
 * be told apart.  Records without a usable header are malformed.
 *
 * A malformed record (undecodable, bad ts, line too long) is counted per
 * input and logged through a per-input rate limiter with its line and
 * offset; it is never fatal.  Late events (older than the engine's
 * max_lateness) are the engine's business and are counted there.
 *
 * Bounds: the pending list holds at most PIPELINE_MAX_PENDING alerts
 * (pipeline_need_checkpoint() says when to flush it; past the bound,
 * polling pauses until a checkpoint has emptied it, so nothing is lost);
 * the sink queue holds at most PIPELINE_SINK_QUEUE_MAX alerts and is
 * delivered to the sinks (whose own queues drop, counted) when full, so a
 * slow sink never blocks ingestion.
 *
 * Ownership: the pipeline owns its ruleset, engine, event buffer, inputs
 * and the alert copies it queues; it borrows the configs (the one the
 * inputs were opened with must outlive the pipeline, because inputs keep
 * pointers into their config entry).  Clock: callers pass CLOCK_MONOTONIC
 * ms for rate limiting; event time comes from the events.
 */
#ifndef CUSTOS_PIPELINE_H
#define CUSTOS_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "decode.h"
#include "engine.h"
#include "input.h"
#include "log.h"
#include "store.h"

#define PIPELINE_MAX_PENDING 50000
#define PIPELINE_SINK_QUEUE_MAX 4096
#define PIPELINE_MAX_SINKS 8
#define PIPELINE_POLL_BATCH 512	  /* records per input per poll */
#define PIPELINE_CSV_MAX_FILES 16 /* CSV headers kept per input */

/* A decoder: one record -> fields of one event in b (decode_json's
 * contract, decode_json.h). */
typedef int (*pipeline_decode_fn)(struct event_buf *b, const char *data,
				  size_t len, struct event *ev, char *err,
				  size_t err_size);

/* The decoder for a format name ("json", "kv"), or NULL when this build
 * has none or the format needs more than one record (csv: see above). */
pipeline_decode_fn pipeline_decoder(const char *format);

/* True when this build can decode `format` ("json", "csv", "kv"). */
bool pipeline_format_supported(const char *format);

/* A sink: called with each queued alert (valid during the call).  Returns
 * 0, or -1 if the alert could not be delivered (counted, not retried). */
typedef int (*pipeline_sink_fn)(void *arg, const struct alert *a);

struct pipeline;
struct pipeline_csv; /* per-file CSV headers of one input */

struct pipeline_input {
	struct pipeline *p;
	const struct config_input *cfg; /* the entry it was opened with */
	const struct input_ops *ops;
	struct input *in;
	pipeline_decode_fn decode;  /* NULL for csv and event inputs */
	struct pipeline_csv *csv;   /* csv inputs only */
	const struct fieldmap *map; /* from the current config */
	bool ready;		    /* poll it at the next turn */
	bool failed;		    /* a poll failed: no more polling */
	uint64_t n_malformed;
	struct log_limiter limiter;
};

/* A pipeline evaluating rules (takes ownership) with cfg's limits and
 * field maps.  NULL with err filled on failure (rules are then freed). */
struct pipeline *pipeline_new(const struct config *cfg, struct ruleset *rules,
			      char *err, size_t err_size);
void pipeline_free(struct pipeline *p);

struct engine *pipeline_engine(struct pipeline *p);
const struct ruleset *pipeline_rules(const struct pipeline *p);

/* Opens every input of cfg (the pipeline's config), resuming each from
 * its position in store (may be NULL).  Returns 0, or -1 with err naming
 * the input. */
int pipeline_open_inputs(struct pipeline *p, struct store *store, char *err,
			 size_t err_size);
size_t pipeline_n_inputs(const struct pipeline *p);
struct pipeline_input *pipeline_input_at(struct pipeline *p, size_t i);

/* Evaluates one record of input i (tests; the poll path uses it). */
void pipeline_record(struct pipeline_input *pi, const struct input_record *r);

/* Evaluates one decoded event of input i, whose field ids refer to the
 * current ruleset's table (the event-input path). */
void pipeline_event(struct pipeline_input *pi, const struct event *ev);

/* Marks every input ready (the poll timer: rotation checks, inputs whose
 * fds cannot be watched). */
void pipeline_mark_ready(struct pipeline *p);

/* Polls the ready inputs once each (at most `budget` records each).
 * Returns true if some input may have more right now. */
bool pipeline_poll(struct pipeline *p, size_t budget, int64_t now_ms);

/* True when the pending alerts or the records since the last checkpoint
 * reach their bound. */
bool pipeline_need_checkpoint(const struct pipeline *p);

/* Records evaluated since the last checkpoint. */
uint64_t pipeline_records_since_checkpoint(const struct pipeline *p);

/* Records and alerts lost to allocation failures so far (decoding,
 * enrichment, evaluation -- an alert, an evidence sample or extension
 * state --, the pending list): the "nomem" of the status.  custosd does
 * not commit a checkpoint past such a loss. */
uint64_t pipeline_n_lost(const struct pipeline *p);

/* Alerts raised since the last checkpoint (owned by the pipeline), and
 * forgetting them once stored. */
const struct alert *pipeline_pending(const struct pipeline *p, size_t *n);
void pipeline_checkpointed(struct pipeline *p);

/* Moves the pending alerts and their held flags out (the caller owns
 * them: alert_clear each, free both arrays; n 0 may give NULLs) and
 * starts a new interval (records since the last checkpoint: 0). */
void pipeline_take_pending(struct pipeline *p, struct alert **alerts,
			   bool **held, size_t *n);

/* The same without starting a new interval: an alerts-only commit
 * (checkpoint.h), which commits no input position. */
void pipeline_take_alerts(struct pipeline *p, struct alert **alerts,
			  bool **held, size_t *n);

/* Puts alerts taken by pipeline_take_pending back in front of the pending
 * list (their commit failed); takes ownership of both arrays.  Out of
 * memory, they are lost and counted. */
void pipeline_return_pending(struct pipeline *p, struct alert *alerts,
			     bool *held, size_t n);

int pipeline_add_sink(struct pipeline *p, const char *name, pipeline_sink_fn fn,
		      void *arg);
/* Queues a copy of a for the sinks (the checkpoint, for each alert it
 * newly stored that no suppression holds back).  A full queue is first
 * delivered, so a commit's burst is not dropped; out of memory, counted
 * as dropped. */
void pipeline_queue_sink(struct pipeline *p, const struct alert *a);
/* Delivers up to max queued alerts to every sink; returns how many. */
size_t pipeline_drain_sinks(struct pipeline *p, size_t max);
size_t pipeline_sink_queue_depth(const struct pipeline *p);

/* Hooks for the store's analyst side (custosd's storekeep and retain).
 * The event hook sees every event handed to the engine (borrowed for the
 * call).  The alert filter is asked about every alert before it is queued
 * for the sinks: true holds it back from the sinks (it stays pending for
 * the store, marked: pipeline_pending_held).  Either fn may be NULL. */
typedef void (*pipeline_event_fn)(void *arg, const struct event *ev);
typedef bool (*pipeline_filter_fn)(void *arg, const struct alert *a);
void pipeline_set_event_hook(struct pipeline *p, pipeline_event_fn fn,
			     void *arg);
void pipeline_set_alert_filter(struct pipeline *p, pipeline_filter_fn fn,
			       void *arg);

/* Whether pending alert i (pipeline_pending) was held back from the
 * sinks by the alert filter. */
bool pipeline_pending_held(const struct pipeline *p, size_t i);

/* Reload: evaluates with `rules` (takes ownership) and cfg's limits and
 * field maps from now on, moving the state of unchanged rules (engine_
 * transfer).  The caller checkpoints first (pending must be empty); queued
 * sink alerts are delivered before the old rules go.  0, or -1 with err
 * (the old rules keep running, `rules` is freed). */
int pipeline_reload(struct pipeline *p, const struct config *cfg,
		    struct ruleset *rules, char *err, size_t err_size);

/* Adds "inputs", "rules", "engine", "sinks" and "records" members to obj
 * (the figures of `custos status`). */
void pipeline_status(struct pipeline *p, json_t *obj);

/* Totals over inputs, for one-line status messages. */
struct pipeline_totals {
	uint64_t n_records, n_bytes, n_malformed, n_errors;
	uint64_t n_alerts, n_sink_dropped;
	size_t sink_queue_depth;
	size_t n_groups;
};
void pipeline_totals(struct pipeline *p, struct pipeline_totals *t);

#endif
