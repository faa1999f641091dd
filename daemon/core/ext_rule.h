/*
 * ext_rule: the custos extensions of one rule — the optional top-level
 * `custos:` mapping of a Sigma rule, compiled.  Plain Sigma rules have no
 * `custos:` key and no ext_rule (rule.ext == NULL).
 *
 *   custos:
 *     suppress: 4h            # correlations: after an alert, the same
 *                             # rule + group raises none for this long
 *     risk: 20                # added to the agent's risk (field
 *                             # `custos.risk` of this rule's alerts, read
 *                             # by value_sum correlations)
 *     require_ticket:         # detections: match only accesses that no
 *       window: 24h           # ticket_assign of (agent, customer) within
 *                             # `window` before justifies
 *     first_seen:             # detections: match only the first time the
 *       by: [action, object]  # agent does this (values of `by`) within
 *       horizon: 30d          # `horizon`, once the agent has
 *       min_history: 7d       # `min_history` of history
 *     off_shift:              # detections: match only outside the hours
 *       margin: 60m           # the agent worked on its last `days` active
 *       days: 14              # days (learned, UTC half-hour slots), once
 *       min_days: 5           # `min_days` are known; agents with a roster
 *       roster_margin: 30m    # in the agent directory: outside their
 *                             # shift +- roster_margin, local time
 *     baseline:               # detections: match only when the agent's
 *       of: self              # distinct customers today exceed its own
 *       min_days: 10          # history (self: median + z * 1.4826 * MAD
 *       z: 3.5                # and ratio * median) or its team's
 *       ratio: 2              # (peers: p99 and ratio * median; with
 *       consecutive: 2        # `consecutive`, the agent's previous
 *                             # active days were above p99 as well)
 *     sequence:               # detections: match when the agent's views
 *       gap: 3                # of customers with near-consecutive ids
 *       min_run: 10           # (trailing digits, steps of 1..gap) reach
 *       timespan: 60m         # min_run within timespan (ext_sequence.h)
 *
 * Compilation is pure; errors go to the diag as file:line:column.  The
 * structure is plain data owned by the rule.
 */
#ifndef CUSTOS_EXT_RULE_H
#define CUSTOS_EXT_RULE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "rules.h"
#include "yamltree.h"

enum ext_baseline_of {
	EXT_BASELINE_NONE,
	EXT_BASELINE_SELF,
	EXT_BASELINE_PEERS
};

#define EXT_MAX_BY 4
#define EXT_MAX_DAYS 60

struct ext_rule {
	int64_t suppress_ms; /* 0: none */
	double risk;	     /* 0: none */
	bool has_risk;
	bool require_ticket;
	int64_t ticket_window_ms;
	bool first_seen;
	char *fs_by[EXT_MAX_BY];
	int32_t fs_ids[EXT_MAX_BY];
	size_t n_fs_by;
	int64_t fs_horizon_ms, fs_min_history_ms;
	bool off_shift;
	int64_t shift_margin_ms;
	int shift_days, shift_min_days;
	int64_t roster_margin_ms; /* agents with a roster (agentdir.h) */
	enum ext_baseline_of baseline;
	int bl_min_days;
	int bl_consecutive; /* peers: active days in a row above */
	double bl_z, bl_ratio;
	bool sequence;
	int seq_gap, seq_min_run;
	int64_t seq_timespan_ms;
};

/* Compiles the mapping under `custos:` of rule r (kind already set).
 * Returns NULL and adds problems to d (unknown key with a suggestion,
 * bad duration, an option that does not apply to the rule's kind). */
struct ext_rule *ext_rule_compile(const struct yaml_node *node,
				  const struct rule *r,
				  const struct rule_ctx *ctx, struct diag *d);

void ext_rule_free(struct ext_rule *x);

/* True when the rule needs per-agent state (any gate). */
bool ext_rule_has_gate(const struct ext_rule *x);

/* Writes a canonical text form (rule keys, lint -v). */
void ext_rule_dump(const struct ext_rule *x, FILE *f);

#endif
