/*
 * pipeline_int: what the parts of the pipeline module share: pipeline.c
 * (life cycle, inputs, polling, decoding, reload), pipeline_csv.c (CSV
 * headers per file), pipeline_alerts.c (the pending-alert list and the
 * sink ring) and pipeline_status.c (figures for status and the log).  Not
 * for other modules: their interface is pipeline.h.
 */
#ifndef CUSTOS_PIPELINE_INT_H
#define CUSTOS_PIPELINE_INT_H

#include "pipeline.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct csv_file {
	char *path; /* "" for stdin */
	struct csv_header *h;
	uint64_t used; /* tick of the last use, for eviction */
};

struct pipeline_csv {
	struct csv_file files[PIPELINE_CSV_MAX_FILES];
	size_t n_files;
	uint64_t tick;
	uint64_t n_headers;	  /* header lines parsed */
	uint64_t n_header_reads;  /* headers read back from disk */
	uint64_t n_header_errors; /* bad or unreadable header lines */
	uint64_t n_evicted;	  /* headers dropped at the bound */
};

struct sink_slot {
	const char *name;
	pipeline_sink_fn fn;
	void *arg;
};

struct pipeline {
	const struct config *cfg;
	struct ruleset *rules;
	struct engine *engine;
	struct event_buf *buf;
	struct pipeline_input *inputs;
	size_t n_inputs;
	struct alert *pending;
	bool *pending_held; /* cap_pending flags */
	size_t n_pending, cap_pending;
	pipeline_event_fn event_hook;
	void *event_hook_arg;
	pipeline_filter_fn filter;
	void *filter_arg;
	struct alert ring[PIPELINE_SINK_QUEUE_MAX];
	size_t ring_head, ring_len;
	struct sink_slot sinks[PIPELINE_MAX_SINKS];
	size_t n_sinks;
	uint64_t n_records_since_checkpoint;
	uint64_t n_alerts, n_nomem;
	uint64_t n_sink_dropped, n_sink_delivered, n_sink_failed;
	int64_t now_ms;
};

/* ---- pipeline_csv.c ---- */

/* Frees c and its headers; NULL is a no-op. */
void pipeline_csv_free(struct pipeline_csv *c);
/* A CSV record of input pi: its file's header line (kept, no event:
 * returns 1), or decoded against that header into *ev (0), or -1 with
 * err filled. */
int pipeline_csv_decode_record(struct pipeline_input *pi,
			       const struct input_record *r, struct event *ev,
			       char *err, size_t err_size);

/* ---- pipeline_alerts.c ---- */

/* The engine's alert callback (arg: the pipeline; a is borrowed): a deep
 * copy of a into the pending list, held if the alert filter says so;
 * counted and logged as lost when out of memory. */
void pipeline_alerts_on_alert(const struct alert *a, void *arg);
/* Clears every alert left in the sink ring. */
void pipeline_alerts_drop_ring(struct pipeline *p);

#endif
