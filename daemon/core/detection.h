/*
 * detection: a compiled Sigma `detection:` section — search identifiers
 * (field maps, lists of maps, keyword lists) with their modifiers, and the
 * `condition` expression over them — and the matcher that evaluates it
 * against one event.
 *
 * Compilation interns every field name in the rule context's field table so
 * that matching reads event.slot[] by id.  Matching is pure: it reads only
 * the event and the compiled rule, allocates nothing, and never reads the
 * clock, so a compiled detection may be shared by threads.
 */
#ifndef CUSTOS_DETECTION_H
#define CUSTOS_DETECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "event.h"
#include "rules.h"
#include "yamltree.h"

/* Compiles `detection_node` (the mapping under `detection:`).  Returns NULL
 * and adds every problem (unknown modifier, bad condition, reference to an
 * undefined identifier, bad regex, ...) to d with its position. */
struct detection *detection_compile(const struct yaml_node *detection_node,
				    const struct rule_ctx *ctx, struct diag *d);

void detection_free(struct detection *det);

/* True if the event satisfies the rule's condition. */
bool detection_match(const struct detection *det, const struct event *ev);

/* ---- results shared between detections (rule_index.h) ---- */

#define DETECTION_NO_SLOT UINT32_MAX

/* The units whose results can be shared, numbered 0 .. n-1: first the
 * field items (a keyword list counts as one), in identifier, map, item
 * order, then the whole detection (the last). */
size_t detection_n_units(const struct detection *det);

/* True when unit ka of a and unit kb of b are of the same kind and always
 * give the same result on the same event (match_field_equal(); an
 * identifier's name does not matter).  Both in one rule set. */
bool detection_unit_equal(const struct detection *a, size_t ka,
			  const struct detection *b, size_t kb);

/* A hash consistent with detection_unit_equal(). */
uint64_t detection_unit_hash(const struct detection *det, size_t k);

/* detection_match() that shares unit results between the detections
 * matched against one event: slot[k] is unit k's entry in memo, or
 * DETECTION_NO_SLOT for a unit evaluated every time.  memo[s] is 0 (not
 * evaluated for this event yet), 1 (false) or 2 (true); the caller zeroes
 * it before each event and the call fills what it evaluates.  Same result
 * as detection_match(). */
bool detection_match_shared(const struct detection *det, const struct event *ev,
			    const uint32_t *slot, uint8_t *memo);

/* A literal value the prefilter (rule_index.h) keys on: len bytes,
 * lower-cased unless cased (then exact). */
struct detection_literal {
	const unsigned char *b;
	size_t len;
	bool cased;
};

/* The values of field `field` one of which the event must hold for det to
 * match: when this returns n >= 0, det can only match an event in which
 * some element of `field` equals out[i] for some i < n (exactly if cased,
 * else ASCII case-insensitively).  Returns -1 when the detection gives no
 * such set (negations, keyword searches, non-literal matchers on the field)
 * or it has more than max values.  The bytes are owned by det. */
int detection_literals(const struct detection *det, int32_t field,
		       struct detection_literal *out, size_t max);

/* When unit k of det is a field item that is true exactly when the field
 * holds one value (not an array), not null, equal ASCII case-insensitively
 * to one of the item's literals (`field: value` or a list of values, no
 * modifier, not cased): writes the literals to out (at most max) and
 * returns their count, the field id in *field.  Else -1.  The prefilter
 * decides such items from its own look-up (rule_index.h).  The bytes are
 * owned by det. */
int detection_unit_equality(const struct detection *det, size_t k,
			    int32_t *field, struct detection_literal *out,
			    size_t max);

/* The distinct fields of det's literal equality items (candidates for
 * detection_literals()), at most max of them, in first-use order; returns
 * how many were written. */
size_t detection_literal_fields(const struct detection *det, int32_t *out,
				size_t max);

/* Writes a readable form of the compiled detection (for `lint -v` and golden
 * tests) to a stdio FILE. */
void detection_dump(const struct detection *det, const struct fieldtab *t,
		    void *stdio_file);

#endif
