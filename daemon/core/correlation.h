/*
 * correlation: a compiled Sigma correlation rule (event_count, value_count,
 * value_sum, value_avg, temporal, temporal_ordered) — the rule side only.
 * Window state lives in window.c and is driven by engine.c.
 */
#ifndef CUSTOS_CORRELATION_H
#define CUSTOS_CORRELATION_H

#include "diag.h"
#include "rules.h"
#include "yamltree.h"

/* Compiles the mapping under `correlation:`.  Rule references stay names
 * until correlation_resolve().  NULL with problems added to d. */
struct correlation *correlation_compile(const struct yaml_node *corr_node,
                                        const struct rule_ctx *ctx,
                                        struct diag *d);

/* Links `rules:` names to rules of rs (adds rule->consumers entries).
 * Returns 0 or -1 with problems (unknown rule, ...) added to d. */
int correlation_resolve(struct rule *self, struct ruleset *rs, struct diag *d);

/* The rules this correlation consumes (valid after resolve). */
struct rule *const *correlation_inputs(const struct correlation *c, size_t *n);

void correlation_free(struct correlation *c);

void correlation_dump(const struct correlation *c, void *stdio_file);

#endif
