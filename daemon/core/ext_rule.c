/*
 * ext_rule: compiling a rule's `custos:` mapping (see ext_rule.h).
 * Pure: no I/O, no clock.  Every key is checked; an unknown key is an
 * error (with a suggestion when one edit away from a known key), so a
 * typo never silently disables an extension.
 */
#include "ext_rule.h"

#include "correlation.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define XERR(d, ctx, n, ...)                                                   \
	diag_add((d), (ctx)->file, (n) ? (n)->line : 0, (n) ? (n)->column : 0, \
		 __VA_ARGS__)

static int get_duration(const struct yaml_node *map, const char *key,
			int64_t *out, const struct rule_ctx *ctx,
			struct diag *d)
{
	const struct yaml_node *n = yamltree_get(map, key);

	if (n == NULL)
		return 0;
	if (n->kind != YAML_SCALAR ||
	    correlation_parse_timespan(n->scalar, out) < 0) {
		XERR(d, ctx, n,
		     "custos: '%s' must be a duration: a positive number "
		     "followed by s, m, h or d (e.g. 4h)",
		     key);
		return -1;
	}
	return 0;
}

static int get_number(const struct yaml_node *map, const char *key, double *out,
		      double lo, double hi, const struct rule_ctx *ctx,
		      struct diag *d)
{
	const struct yaml_node *n = yamltree_get(map, key);
	char *end = NULL;

	if (n == NULL)
		return 0;
	double v = n->kind == YAML_SCALAR ? strtod(n->scalar, &end) : NAN;
	if (end == NULL || end == n->scalar || *end != '\0' || !isfinite(v) ||
	    v < lo || v > hi) {
		XERR(d, ctx, n, "custos: '%s' must be a number from %g to %g",
		     key, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int edit1(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i = 0;

	if (la > lb + 1 || lb > la + 1)
		return 0;
	while (i < la && i < lb && a[i] == b[i])
		i++;
	if (la == lb)
		return strcmp(a + i + (i < la), b + i + (i < lb)) == 0;
	return la > lb ? strcmp(a + i + 1, b + i) == 0
		       : strcmp(a + i, b + i + 1) == 0;
}

/* Every key of map must be in known (NULL-terminated). */
static int check_keys(const struct yaml_node *map, const char *what,
		      const char *const *known, const struct rule_ctx *ctx,
		      struct diag *d)
{
	int rc = 0;

	if (map->kind != YAML_MAPPING) {
		XERR(d, ctx, map, "custos: '%s' must be a mapping, not a %s",
		     what, yamltree_kind_name(map->kind));
		return -1;
	}
	for (size_t i = 0; i < map->n_pairs; i++) {
		const struct yaml_node *k = map->pairs[i].key;
		const char *hint = NULL;
		bool ok = false;
		for (size_t j = 0; known[j] && !ok; j++) {
			ok = strcmp(k->scalar, known[j]) == 0;
			if (!ok && edit1(k->scalar, known[j]))
				hint = known[j];
		}
		if (ok)
			continue;
		if (hint)
			XERR(d, ctx, k,
			     "custos: unknown key '%s' in '%s' (did you mean "
			     "'%s'?)",
			     k->scalar, what, hint);
		else
			XERR(d, ctx, k, "custos: unknown key '%s' in '%s'",
			     k->scalar, what);
		rc = -1;
	}
	return rc;
}

static int need_detection(const struct yaml_node *n, const char *key,
			  const struct rule *r, const struct rule_ctx *ctx,
			  struct diag *d)
{
	if (r->kind == RULE_DETECTION)
		return 0;
	XERR(d, ctx, n, "custos: '%s' applies to detection rules only", key);
	return -1;
}

static int compile_ticket(const struct yaml_node *n, struct ext_rule *x,
			  const struct rule_ctx *ctx, struct diag *d)
{
	static const char *const keys[] = {"window", NULL};

	x->require_ticket = true;
	x->ticket_window_ms = 24 * INT64_C(3600000);
	if (n->kind == YAML_SCALAR && strcmp(n->scalar, "true") == 0)
		return 0;
	if (check_keys(n, "require_ticket", keys, ctx, d) < 0)
		return -1;
	return get_duration(n, "window", &x->ticket_window_ms, ctx, d);
}

static int compile_first_seen(const struct yaml_node *n, struct ext_rule *x,
			      const struct rule_ctx *ctx, struct diag *d)
{
	static const char *const keys[] = {"by", "horizon", "min_history",
					   NULL};
	const struct yaml_node *by;

	x->first_seen = true;
	x->fs_horizon_ms = 30 * INT64_C(86400000);
	x->fs_min_history_ms = 7 * INT64_C(86400000);
	if (check_keys(n, "first_seen", keys, ctx, d) < 0)
		return -1;
	int rc = get_duration(n, "horizon", &x->fs_horizon_ms, ctx, d);
	rc |= get_duration(n, "min_history", &x->fs_min_history_ms, ctx, d);
	by = yamltree_get(n, "by");
	if (by == NULL || by->kind != YAML_SEQUENCE || by->n_items == 0 ||
	    by->n_items > EXT_MAX_BY) {
		XERR(d, ctx, by ? by : n,
		     "custos: first_seen 'by' must be a list of 1 to %d field "
		     "names",
		     EXT_MAX_BY);
		return -1;
	}
	for (size_t i = 0; i < by->n_items; i++) {
		const struct yaml_node *f = by->items[i];
		if (f->kind != YAML_SCALAR || f->scalar[0] == '\0') {
			XERR(d, ctx, f, "custos: a field name is expected");
			return -1;
		}
		x->fs_by[i] = strdup(f->scalar);
		x->n_fs_by = i + 1;
		if (x->fs_by[i] == NULL)
			return -1;
		x->fs_ids[i] =
		    fieldtab_intern(ctx->fields, f->scalar, strlen(f->scalar));
	}
	return rc;
}

static int compile_off_shift(const struct yaml_node *n, struct ext_rule *x,
			     const struct rule_ctx *ctx, struct diag *d)
{
	static const char *const keys[] = {"margin", "days", "min_days",
					   "roster_margin", NULL};
	double days = 14, min_days = 5;

	x->off_shift = true;
	x->shift_margin_ms = 60 * INT64_C(60000);
	x->roster_margin_ms = 30 * INT64_C(60000);
	if (n->kind == YAML_SCALAR && strcmp(n->scalar, "true") == 0)
		goto done;
	if (check_keys(n, "off_shift", keys, ctx, d) < 0)
		return -1;
	int rc = get_duration(n, "margin", &x->shift_margin_ms, ctx, d);
	rc |= get_number(n, "days", &days, 1, EXT_MAX_DAYS, ctx, d);
	rc |= get_number(n, "min_days", &min_days, 1, EXT_MAX_DAYS, ctx, d);
	rc |= get_duration(n, "roster_margin", &x->roster_margin_ms, ctx, d);
	if (rc)
		return -1;
	if (x->shift_margin_ms > 12 * INT64_C(3600000) ||
	    x->roster_margin_ms > 12 * INT64_C(3600000)) {
		XERR(d, ctx, n,
		     "custos: off_shift 'margin' and 'roster_margin' are at "
		     "most 12h");
		return -1;
	}
done:
	x->shift_days = (int)days;
	x->shift_min_days = (int)min_days;
	return 0;
}

static int compile_baseline(const struct yaml_node *n, struct ext_rule *x,
			    const struct rule_ctx *ctx, struct diag *d)
{
	static const char *const keys[] = {"of",    "min_days",	   "z",
					   "ratio", "consecutive", NULL};
	const struct yaml_node *of;
	double min_days = 10, consecutive = 1;

	x->bl_z = 3.5;
	x->bl_ratio = 2;
	if (check_keys(n, "baseline", keys, ctx, d) < 0)
		return -1;
	of = yamltree_get(n, "of");
	if (of && of->kind == YAML_SCALAR && strcmp(of->scalar, "self") == 0)
		x->baseline = EXT_BASELINE_SELF;
	else if (of && of->kind == YAML_SCALAR &&
		 strcmp(of->scalar, "peers") == 0)
		x->baseline = EXT_BASELINE_PEERS;
	else {
		XERR(d, ctx, of ? of : n,
		     "custos: baseline 'of' must be 'self' or 'peers'");
		return -1;
	}
	int rc = get_number(n, "min_days", &min_days, 1, EXT_MAX_DAYS, ctx, d);
	rc |= get_number(n, "z", &x->bl_z, 0, 100, ctx, d);
	rc |= get_number(n, "ratio", &x->bl_ratio, 0, 100, ctx, d);
	rc |= get_number(n, "consecutive", &consecutive, 1, 7, ctx, d);
	x->bl_min_days = (int)min_days;
	x->bl_consecutive = (int)consecutive;
	return rc;
}

static int compile_sequence(const struct yaml_node *n, struct ext_rule *x,
			    const struct rule_ctx *ctx, struct diag *d)
{
	static const char *const keys[] = {"gap", "min_run", "timespan", NULL};
	double gap = 3, min_run = 10;

	x->sequence = true;
	x->seq_timespan_ms = 60 * INT64_C(60000);
	if (n->kind == YAML_SCALAR && strcmp(n->scalar, "true") == 0)
		goto done;
	/* every problem is reported, not only the first */
	int rc = check_keys(n, "sequence", keys, ctx, d);
	if (n->kind != YAML_MAPPING)
		return -1;
	rc |= get_number(n, "gap", &gap, 1, 1000, ctx, d);
	rc |= get_number(n, "min_run", &min_run, 2, 10000, ctx, d);
	rc |= get_duration(n, "timespan", &x->seq_timespan_ms, ctx, d);
	if (rc)
		return -1;
	if (gap != (int)gap || min_run != (int)min_run) {
		XERR(d, ctx, n,
		     "custos: sequence 'gap' and 'min_run' are whole numbers");
		return -1;
	}
done:
	x->seq_gap = (int)gap;
	x->seq_min_run = (int)min_run;
	return 0;
}

/* Read by rules.c (declare_lists); only checked here. */
static int check_watchlists(const struct yaml_node *n,
			    const struct rule_ctx *ctx, struct diag *d)
{
	for (size_t i = 0; n->kind == YAML_SEQUENCE && i < n->n_items; i++)
		if (n->items[i]->kind != YAML_SCALAR) {
			XERR(d, ctx, n->items[i],
			     "custos: a list name is expected");
			return -1;
		}
	if (n->kind == YAML_SEQUENCE)
		return 0;
	XERR(d, ctx, n, "custos: 'watchlists' must be a list of list names");
	return -1;
}

static int compile_key(const struct yaml_node *map, const struct yaml_pair *p,
		       struct ext_rule *x, const struct rule *r,
		       const struct rule_ctx *ctx, struct diag *d)
{
	const char *k = p->key->scalar;
	const struct yaml_node *v = p->value;

	if (strcmp(k, "suppress") == 0) {
		if (r->kind != RULE_CORRELATION) {
			XERR(d, ctx, p->key,
			     "custos: 'suppress' applies to correlation rules "
			     "only (wrap a detection in an event_count "
			     "correlation)");
			return -1;
		}
		return get_duration(map, k, &x->suppress_ms, ctx, d);
	}
	if (strcmp(k, "risk") == 0) {
		x->has_risk = true;
		return get_number(map, k, &x->risk, 0, 1000000, ctx, d);
	}
	if (strcmp(k, "watchlists") == 0)
		return check_watchlists(v, ctx, d);
	if (need_detection(p->key, k, r, ctx, d) < 0)
		return -1;
	if (strcmp(k, "require_ticket") == 0)
		return compile_ticket(v, x, ctx, d);
	if (strcmp(k, "first_seen") == 0)
		return compile_first_seen(v, x, ctx, d);
	if (strcmp(k, "off_shift") == 0)
		return compile_off_shift(v, x, ctx, d);
	if (strcmp(k, "sequence") == 0)
		return compile_sequence(v, x, ctx, d);
	return compile_baseline(v, x, ctx, d);
}

struct ext_rule *ext_rule_compile(const struct yaml_node *node,
				  const struct rule *r,
				  const struct rule_ctx *ctx, struct diag *d)
{
	static const char *const keys[] = {
	    "suppress",	  "risk",      "require_ticket",
	    "first_seen", "off_shift", "baseline",
	    "watchlists", "sequence",  NULL};
	struct ext_rule *x;
	int rc = 0;

	if (check_keys(node, "custos", keys, ctx, d) < 0)
		return NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	for (size_t i = 0; i < node->n_pairs; i++)
		rc |= compile_key(node, &node->pairs[i], x, r, ctx, d);
	if (rc) {
		ext_rule_free(x);
		return NULL;
	}
	return x;
}

void ext_rule_free(struct ext_rule *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->n_fs_by; i++)
		free(x->fs_by[i]);
	free(x);
}

bool ext_rule_has_gate(const struct ext_rule *x)
{
	return x && (x->require_ticket || x->first_seen || x->off_shift ||
		     x->baseline != EXT_BASELINE_NONE || x->sequence);
}

void ext_rule_dump(const struct ext_rule *x, FILE *f)
{
	if (x == NULL)
		return;
	fprintf(f, "custos suppress=%lld", (long long)x->suppress_ms);
	if (x->has_risk)
		fprintf(f, " risk=%a", x->risk);
	if (x->require_ticket)
		fprintf(f, " require_ticket=%lld",
			(long long)x->ticket_window_ms);
	if (x->first_seen) {
		fprintf(f, " first_seen=%lld/%lld", (long long)x->fs_horizon_ms,
			(long long)x->fs_min_history_ms);
		for (size_t i = 0; i < x->n_fs_by; i++)
			fprintf(f, ",%zu:%s", strlen(x->fs_by[i]), x->fs_by[i]);
	}
	if (x->off_shift)
		fprintf(f, " off_shift=%lld/%d/%d",
			(long long)x->shift_margin_ms, x->shift_days,
			x->shift_min_days);
	if (x->off_shift && x->roster_margin_ms != 30 * INT64_C(60000))
		fprintf(f, " roster_margin=%lld",
			(long long)x->roster_margin_ms);
	if (x->baseline != EXT_BASELINE_NONE)
		fprintf(f, " baseline=%d/%d/%d/%a/%a", (int)x->baseline,
			x->bl_min_days, x->bl_consecutive, x->bl_z,
			x->bl_ratio);
	if (x->sequence)
		fprintf(f, " sequence=%d/%d/%lld", x->seq_gap, x->seq_min_run,
			(long long)x->seq_timespan_ms);
	fputc('\n', f);
}
