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

/* Writes a readable form of the compiled detection (for `lint -v` and golden
 * tests) to a stdio FILE. */
void detection_dump(const struct detection *det, const struct fieldtab *t,
		    void *stdio_file);

#endif
