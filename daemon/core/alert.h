/*
 * alert: what the engine raises — the shared alert type, its stable id, and
 * its JSON form (the `custos replay` output line and the store's columns).
 *
 * An alert owns every string in it (copied out of the borrowed event), so it
 * may outlive the event and be queued to sinks.  The id is a SHA-256 over
 * what identifies the alert in the input — rule, event time, group values,
 * the triggering event's normalized JSON and its line/offset — never over
 * the clock or a file's path, so replaying the same input gives the same
 * ids (and the store drops the repeat).
 */
#ifndef CUSTOS_ALERT_H
#define CUSTOS_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "rules.h"

#define ALERT_ID_LEN 32 /* hex characters (128 bits of the SHA-256) */

struct alert_kv {
	char *key;
	char *value;
};

struct alert {
	char id[ALERT_ID_LEN + 1];
	const struct rule *rule; /* borrowed from the ruleset */
	int64_t ts_ms;		 /* event time of the triggering event */
	struct alert_kv *group;	 /* group-by values (correlations) */
	size_t n_group;
	double value;	  /* count/sum/avg that fired; 1 for a
			     detection */
	char *event_json; /* the triggering event, a JSON object */
	char *source_input;
	char *source_path; /* may be NULL */
	uint64_t source_line;
	uint64_t source_offset;
	char **evidence_json; /* sample of events in the window (JSON
				 objects), oldest first */
	size_t n_evidence;
	uint64_t n_evidence_total; /* events in the window when it fired */
};

/* Serializes every field of ev as one compact JSON object.  Canonical `ts`
 * is written as RFC 3339 UTC with milliseconds; numbers and booleans keep
 * their JSON types; array fields become arrays.  Returns a malloc'd string
 * or NULL on allocation failure. */
char *alert_event_to_json(const struct event *ev);

/* Fills a->id from the alert's identifying fields (see above).  On
 * allocation failure a->id is left empty (""), which sinks refuse. */
void alert_compute_id(struct alert *a);

/* The rule's Sigma id, else its name, else its title (NULL without a
 * rule): the `rule_id` of the JSON and of the store. */
const char *alert_rule_id(const struct alert *a);

/* The rule's level as its Sigma name ("informational" ... "critical");
 * "medium" (the Sigma default) when the alert has no rule. */
const char *alert_level_name(const struct alert *a);

/* One JSON line (no newline) with: id, rule_id, rule_title, level, ts,
 * group, value, event, source, tags, evidence.  Malloc'd; NULL on failure. */
char *alert_to_json(const struct alert *a);

/* Frees everything the alert owns (not the struct itself). */
void alert_clear(struct alert *a);

/* Formats ms since the epoch as "2025-05-01T12:00:00.000Z" into buf (at
 * least 32 bytes). */
void alert_format_ts(int64_t ts_ms, char *buf, size_t size);

#endif
