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

#include <stdbool.h>
#include <stdint.h>

/* ---- compiled form, read by engine.c (plain data, owned by the rule) ---- */

enum correlation_type {
	CORRELATION_EVENT_COUNT,
	CORRELATION_VALUE_COUNT,
	CORRELATION_VALUE_SUM,
	CORRELATION_VALUE_AVG,
	CORRELATION_TEMPORAL,
	CORRELATION_TEMPORAL_ORDERED,
};

/* Condition operators; several given together must all hold (a range). */
enum correlation_op {
	CORRELATION_GT,
	CORRELATION_GTE,
	CORRELATION_LT,
	CORRELATION_LTE,
	CORRELATION_EQ,
	N_CORRELATION_OPS
};

struct correlation_ref {
	char *name; /* as written under `rules:` */
	int line, column;
};

/* One `aliases:` entry: the group-by name `alias` is read from fields[k]
 * in events of the rule named rule_names[k]. */
struct correlation_alias {
	char *alias;
	char **rule_names;
	char **fields;
	int32_t *field_ids;
	size_t n;
	int line, column;
};

struct correlation {
	enum correlation_type type;
	struct correlation_ref *refs;
	size_t n_refs;
	char **group_by;
	int32_t *group_ids;
	size_t n_group_by;
	struct correlation_alias *aliases;
	size_t n_aliases;
	int64_t timespan_ms;
	bool has_op[N_CORRELATION_OPS];
	double op_value[N_CORRELATION_OPS];
	char *field; /* value_*: the condition's `field`; else NULL */
	int32_t field_id;
	char *file;
	int line, column;
	/* filled by correlation_resolve() */
	struct rule **inputs; /* n_refs entries, in `rules:` order */
	/* the field read for group-by j in events of input i:
	 * input_fields[i * n_group_by + j] (borrowed names) and its id */
	const char **input_fields;
	int32_t *input_field_ids;
};

const char *correlation_type_name(enum correlation_type t);

/* True if the condition holds for value v. */
bool correlation_condition_holds(const struct correlation *c, double v);

/* True if the condition has an upper bound (lt, lte, eq): it is then
 * evaluated when a group's window closes, not at each event. */
bool correlation_closes(const struct correlation *c);

/* Index of rule r in c->inputs, or -1. */
int correlation_input_index(const struct correlation *c, const struct rule *r);

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

/* Parses a Sigma timespan, "<digits><s|m|h|d>" (e.g. "90m"), into
 * milliseconds.  Returns 0, or -1 for anything else. */
int correlation_parse_timespan(const char *s, int64_t *out_ms);

void correlation_free(struct correlation *c);

void correlation_dump(const struct correlation *c, void *stdio_file);

#endif
