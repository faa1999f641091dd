/*
 * rule_index: the detection prefilter.  Most detection rules require one
 * field (typically `action`) to equal one of a few literal values; the
 * index maps each such value to the detection rules that can match an
 * event carrying it, so an event is only matched against its candidates
 * instead of against every rule.  Which rules match is unchanged: a rule is
 * left out only when detection_literals() proves it cannot match.
 *
 * The key field is chosen at build time as the field that keys the most
 * detections.  Candidate lists hold rule indexes in ascending order (rule
 * order, so alerts come out in the same order as without the index).
 *
 * Ownership: the index borrows the rule set (which must outlive it) and
 * owns its tables.  Read-only after rule_index_new(), so it may be shared
 * by threads; no clock is read.
 */
#ifndef CUSTOS_RULE_INDEX_H
#define CUSTOS_RULE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "rules.h"

struct rule_index;

/* Builds the index over rs's detection rules.  NULL on allocation
 * failure. */
struct rule_index *rule_index_new(const struct ruleset *rs);

void rule_index_free(struct rule_index *ix);

/* The detection rules (indexes into rs->rules, ascending) that may match
 * ev; *n is their count.  The array belongs to the index. */
const uint32_t *rule_index_candidates(const struct rule_index *ix,
				      const struct event *ev, size_t *n);

/* The key field's id (-1: no field keys any rule, every event gets every
 * detection) and the number of detections keyed on it. */
int32_t rule_index_field(const struct rule_index *ix, size_t *n_keyed);

#endif
