/*
 * rule_index: the detection prefilter.  Most detection rules require some
 * fields (`action`, `object`, `outcome`, ...) to equal one of a few literal
 * values.  For each of up to RULE_INDEX_MAX_FIELDS such fields the index
 * maps each value to the set of detection rules that an event carrying it
 * may still match (the rules keyed on the field with that value, plus every
 * rule not keyed on the field); an event's candidates are the intersection
 * over the fields, so it is only matched against those instead of against
 * every rule.  Which rules match is unchanged: a rule is left out only when
 * detection_literals() proves it cannot match.
 *
 * The fields are chosen at build time, the ones keying the most detections
 * first.  Candidates come out as rule indexes in ascending order (rule
 * order, so alerts come out in the same order as without the index).
 *
 * Ownership: the index borrows the rule set (which must outlive it) and
 * owns its tables.  Read-only after rule_index_new(), so it may be shared
 * by threads (candidates go to a caller buffer); no clock is read.
 */
#ifndef CUSTOS_RULE_INDEX_H
#define CUSTOS_RULE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "rules.h"

#define RULE_INDEX_MAX_FIELDS 8
/* memo slots for shared results; units past it are evaluated unshared */
#define RULE_INDEX_MAX_SHARED 4096

struct rule_index;

/* Builds the index over rs's detection rules.  NULL on allocation
 * failure. */
struct rule_index *rule_index_new(const struct ruleset *rs);

void rule_index_free(struct rule_index *ix);

/* Writes the detection rules (indexes into rs->rules, ascending) that may
 * match ev to out, which has room for rs->n_detections; returns their
 * count. */
size_t rule_index_candidates(const struct rule_index *ix,
			     const struct event *ev, uint32_t *out);

/* rule_index_candidates(), and memo (rule_index_n_shared() bytes) made
 * ready for detection_match_shared() on this event: every entry 0 (not
 * evaluated) but the results of the field items the index decides from
 * the same look-up.  An item detection_unit_equality() accepts on a key
 * field is true when the event's value is one of its literals, false when
 * it is another value, null or absent, and left unevaluated when the field
 * holds several elements.  memo may be NULL. */
size_t rule_index_candidates_memo(const struct rule_index *ix,
				  const struct event *ev, uint32_t *out,
				  uint8_t *memo);

/* Shared results (detection_match_shared()): units (field items, whole
 * detections) that occur in several places of the rule
 * set (`action: view` in most rules) get one memo slot, so an event
 * evaluates each at most once.  The number of slots (<=
 * RULE_INDEX_MAX_SHARED; the caller's memo has that many bytes), detection
 * i's slot array (one entry per unit, detection_n_units(); valid as long
 * as the index), and the number of units left unshared because the slots
 * ran out. */
size_t rule_index_n_shared(const struct rule_index *ix);
const uint32_t *rule_index_slots(const struct rule_index *ix, size_t i);
size_t rule_index_n_unshared(const struct rule_index *ix);

/* The number of key fields, and for field i < that number its id and the
 * number of detections keyed on it. */
size_t rule_index_n_fields(const struct rule_index *ix);
int32_t rule_index_field(const struct rule_index *ix, size_t i,
			 size_t *n_keyed);

#endif
