/*
 * correlation: compiles the `correlation:` section of a Sigma correlation
 * rule and links it to the rules it consumes.  The window state that the
 * rule drives lives in window.c; engine.c evaluates it.
 *
 * Where the Sigma correlation specification (v2.0.x) leaves room, custos
 * decides as follows (see also engine.c):
 *   - types: event_count, value_count, value_sum, value_avg, temporal,
 *     temporal_ordered.  value_sum/value_avg (listed by the JSON schema)
 *     need `field` like value_count.
 *   - `condition` is a mapping of gt/gte/lt/lte/eq (numbers) plus `field`;
 *     several operators must all hold (a range).  A list of fields and
 *     condition expressions (strings) are refused.
 *   - temporal: without a condition every referenced rule must match in the
 *     window; with one, the count of distinct referenced rules that matched
 *     is compared.  temporal_ordered takes no condition: all rules, in the
 *     listed order.
 *   - `group-by` may be omitted: then the whole stream is one group.
 *   - `timespan` is digits followed by s, m, h or d; nothing else.
 *   - `aliases`: alias -> {rule name -> field}.  Every alias must be used in
 *     group-by and name only referenced rules (by `name` or `id`).  For a
 *     referenced rule an alias does not list, the field read is the alias
 *     name itself.
 *   - `generate` is a top-level key: rules.c reads it and applies it after
 *     resolving (a referenced rule raises its own alerts only if a
 *     correlation using it says `generate: true`).
 *   - a rule may be listed once per correlation; a correlation may not use
 *     itself (cycles across rules are rejected by rules.c).
 *
 * Ownership: struct correlation owns all its strings and arrays;
 * c->inputs borrows rules of the ruleset; resolve appends to each input's
 * rule->consumers (malloc'd, freed with the rule by the ruleset).
 */
#include "correlation.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
    "event_count", "value_count", "value_sum",
    "value_avg",   "temporal",	  "temporal_ordered",
};

static const char *const op_names[N_CORRELATION_OPS] = {"gt", "gte", "lt",
							"lte", "eq"};

static const char *const corr_keys[] = {
    "type", "rules", "aliases", "group-by", "timespan", "condition", NULL};

const char *correlation_type_name(enum correlation_type t)
{
	return type_names[t];
}

static bool is_value_type(enum correlation_type t)
{
	return t == CORRELATION_VALUE_COUNT || t == CORRELATION_VALUE_SUM ||
	       t == CORRELATION_VALUE_AVG;
}

static bool is_temporal(enum correlation_type t)
{
	return t == CORRELATION_TEMPORAL || t == CORRELATION_TEMPORAL_ORDERED;
}

#define ERR(d, c, n, ...)                                                      \
	diag_add((d), (c)->file, (n) ? (n)->line : (c)->line,                  \
		 (n) ? (n)->column : (c)->column, __VA_ARGS__)

static char *dup_str(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Edit distance, for "did you mean" (short keys only). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[32];

	if (la >= 31 || lb >= 31)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

static void check_keys(const struct yaml_node *map, struct correlation *c,
		       struct diag *d)
{
	for (size_t i = 0; i < map->n_pairs; i++) {
		const struct yaml_node *k = map->pairs[i].key;
		const char *best = NULL;
		size_t best_d = 3, j;
		for (j = 0; corr_keys[j]; j++) {
			if (strcmp(k->scalar, corr_keys[j]) == 0)
				break;
			size_t dist = edit_distance(k->scalar, corr_keys[j]);
			if (dist < best_d) {
				best_d = dist;
				best = corr_keys[j];
			}
		}
		if (corr_keys[j] != NULL)
			continue;
		if (best)
			ERR(d, c, k,
			    "unknown correlation key '%s' (did you mean '%s'?)",
			    k->scalar, best);
		else
			ERR(d, c, k, "unknown correlation key '%s'", k->scalar);
	}
}

static int parse_type(const struct yaml_node *n, struct correlation *c,
		      struct diag *d)
{
	if (n == NULL) {
		ERR(d, c, n, "correlation: 'type' is required");
		return -1;
	}
	if (n->kind == YAML_SCALAR)
		for (size_t i = 0; i < sizeof(type_names) / sizeof(*type_names);
		     i++)
			if (strcmp(n->scalar, type_names[i]) == 0) {
				c->type = (enum correlation_type)i;
				return 0;
			}
	ERR(d, c, n,
	    "correlation type must be one of event_count, value_count, "
	    "value_sum, value_avg, temporal, temporal_ordered");
	return -1;
}

int correlation_parse_timespan(const char *s, int64_t *out_ms)
{
	int64_t v = 0, unit = 0;
	size_t i = 0, len = strlen(s);

	while (i < len && s[i] >= '0' && s[i] <= '9' && v < INT64_C(1) << 40)
		v = v * 10 + (s[i++] - '0');
	if (i == 0 || i + 1 != len)
		return -1;
	switch (s[i]) {
	case 's':
		unit = 1000;
		break;
	case 'm':
		unit = 60000;
		break;
	case 'h':
		unit = 3600000;
		break;
	case 'd':
		unit = 86400000;
		break;
	default:
		return -1;
	}
	if (v <= 0 || v > INT64_C(1) << 32)
		return -1;
	*out_ms = v * unit;
	return 0;
}

static int parse_timespan(const struct yaml_node *n, struct correlation *c,
			  struct diag *d)
{
	if (n == NULL) {
		ERR(d, c, n, "correlation: 'timespan' is required");
		return -1;
	}
	if (n->kind != YAML_SCALAR ||
	    correlation_parse_timespan(n->scalar, &c->timespan_ms) < 0) {
		ERR(d, c, n,
		    "timespan must be a positive number followed by s, m, h "
		    "or d (e.g. 90m)");
		return -1;
	}
	return 0;
}

static int parse_names(const struct yaml_node *n, const char *what, char ***out,
		       size_t *n_out, struct correlation *c, struct diag *d)
{
	const struct yaml_node *const *items = &n;
	size_t count = 1;

	if (n->kind == YAML_SEQUENCE) {
		items = (const struct yaml_node *const *)n->items;
		count = n->n_items;
	}
	*out = calloc(count ? count : 1, sizeof(**out));
	if (*out == NULL)
		return -1;
	for (size_t i = 0; i < count; i++) {
		const struct yaml_node *it = items[i];
		if (it->kind != YAML_SCALAR || it->scalar[0] == '\0') {
			ERR(d, c, it, "%s entries must be non-empty strings",
			    what);
			return -1;
		}
		for (size_t j = 0; j < *n_out; j++)
			if (strcmp((*out)[j], it->scalar) == 0) {
				ERR(d, c, it, "%s: '%s' is listed twice", what,
				    it->scalar);
				return -1;
			}
		(*out)[i] = strdup(it->scalar);
		if ((*out)[i] == NULL)
			return -1;
		(*n_out)++;
	}
	return 0;
}

static int parse_rules(const struct yaml_node *n, struct correlation *c,
		       struct diag *d)
{
	char **names = NULL;
	size_t n_names = 0;

	if (n == NULL || (n->kind != YAML_SEQUENCE && n->kind != YAML_SCALAR) ||
	    (n->kind == YAML_SEQUENCE && n->n_items == 0)) {
		ERR(d, c, n,
		    "correlation: 'rules' must list rule names or ids");
		return -1;
	}
	int rc = parse_names(n, "rules", &names, &n_names, c, d);
	c->refs = calloc(n_names ? n_names : 1, sizeof(*c->refs));
	if (c->refs == NULL)
		rc = -1;
	for (size_t i = 0; i < n_names; i++) {
		const struct yaml_node *it =
		    n->kind == YAML_SEQUENCE ? n->items[i] : n;
		if (c->refs)
			c->refs[c->n_refs++] = (struct correlation_ref){
			    names[i], it->line, it->column};
		else
			free(names[i]);
	}
	free(names);
	return rc;
}

static int parse_group_by(const struct yaml_node *n, struct correlation *c,
			  const struct rule_ctx *ctx, struct diag *d)
{
	if (n == NULL || yamltree_is_null(n))
		return 0;
	if (n->kind == YAML_MAPPING) {
		ERR(d, c, n, "group-by must be a list of field names");
		return -1;
	}
	if (parse_names(n, "group-by", &c->group_by, &c->n_group_by, c, d) < 0)
		return -1;
	c->group_ids = malloc((c->n_group_by + 1) * sizeof(*c->group_ids));
	if (c->group_ids == NULL)
		return -1;
	for (size_t i = 0; i < c->n_group_by; i++)
		c->group_ids[i] = fieldtab_intern(ctx->fields, c->group_by[i],
						  strlen(c->group_by[i]));
	return 0;
}

static int parse_number(const struct yaml_node *n, double *out)
{
	char *end;

	if (n->kind != YAML_SCALAR || n->scalar[0] == '\0')
		return -1;
	errno = 0;
	*out = strtod(n->scalar, &end);
	return (*end != '\0' || errno != 0 || !isfinite(*out)) ? -1 : 0;
}

static int parse_cond_pair(const struct yaml_pair *p, struct correlation *c,
			   const struct rule_ctx *ctx, struct diag *d)
{
	const char *k = p->key->scalar;

	if (strcmp(k, "field") == 0) {
		if (p->value->kind != YAML_SCALAR || p->value->scalar[0] == 0) {
			ERR(d, c, p->value,
			    "condition field must be one field name");
			return -1;
		}
		c->field = strdup(p->value->scalar);
		if (c->field == NULL)
			return -1;
		c->field_id =
		    fieldtab_intern(ctx->fields, c->field, strlen(c->field));
		return 0;
	}
	for (int op = 0; op < N_CORRELATION_OPS; op++) {
		if (strcmp(k, op_names[op]) != 0)
			continue;
		if (parse_number(p->value, &c->op_value[op]) < 0) {
			ERR(d, c, p->value, "condition %s must be a number", k);
			return -1;
		}
		c->has_op[op] = true;
		return 0;
	}
	ERR(d, c, p->key,
	    "unknown condition key '%s' (gt, gte, lt, lte, eq, field)", k);
	return -1;
}

static bool any_op(const struct correlation *c)
{
	for (int op = 0; op < N_CORRELATION_OPS; op++)
		if (c->has_op[op])
			return true;
	return false;
}

static int parse_condition(const struct yaml_node *n, struct correlation *c,
			   const struct rule_ctx *ctx, struct diag *d)
{
	int rc = 0;

	if (n == NULL && is_temporal(c->type)) {
		c->has_op[CORRELATION_GTE] = true;
		c->op_value[CORRELATION_GTE] = (double)c->n_refs;
		return 0;
	}
	if (n == NULL) {
		ERR(d, c, n, "correlation: 'condition' is required for %s",
		    type_names[c->type]);
		return -1;
	}
	if (c->type == CORRELATION_TEMPORAL_ORDERED) {
		ERR(d, c, n,
		    "temporal_ordered takes no condition (all rules, in "
		    "order)");
		return -1;
	}
	if (n->kind != YAML_MAPPING) {
		ERR(d, c, n,
		    "condition must be a mapping of gt/gte/lt/lte/eq "
		    "(condition expressions are not supported)");
		return -1;
	}
	for (size_t i = 0; i < n->n_pairs; i++)
		if (parse_cond_pair(&n->pairs[i], c, ctx, d) < 0)
			rc = -1;
	if (rc == 0 && !any_op(c)) {
		ERR(d, c, n, "condition needs one of gt, gte, lt, lte, eq");
		rc = -1;
	}
	if (rc == 0 && is_value_type(c->type) && c->field == NULL) {
		ERR(d, c, n, "%s needs a condition 'field'",
		    type_names[c->type]);
		rc = -1;
	}
	if (rc == 0 && !is_value_type(c->type) && c->field != NULL) {
		ERR(d, c, n, "'field' is only for value_* correlations");
		rc = -1;
	}
	return rc;
}

static bool in_group_by(const struct correlation *c, const char *name)
{
	for (size_t i = 0; i < c->n_group_by; i++)
		if (strcmp(c->group_by[i], name) == 0)
			return true;
	return false;
}

static int parse_alias(const struct yaml_pair *p, struct correlation_alias *a,
		       struct correlation *c, const struct rule_ctx *ctx,
		       struct diag *d)
{
	const struct yaml_node *m = p->value;

	a->alias = strdup(p->key->scalar);
	a->line = p->key->line;
	a->column = p->key->column;
	if (a->alias == NULL)
		return -1;
	if (!in_group_by(c, a->alias)) {
		ERR(d, c, p->key, "alias '%s' is not used in group-by",
		    a->alias);
		return -1;
	}
	if (m->kind != YAML_MAPPING) {
		ERR(d, c, m, "alias '%s' must map rule names to fields",
		    a->alias);
		return -1;
	}
	a->rule_names = calloc(m->n_pairs + 1, sizeof(char *));
	a->fields = calloc(m->n_pairs + 1, sizeof(char *));
	a->field_ids = calloc(m->n_pairs + 1, sizeof(int32_t));
	if (!a->rule_names || !a->fields || !a->field_ids)
		return -1;
	for (size_t i = 0; i < m->n_pairs; i++) {
		const struct yaml_node *v = m->pairs[i].value;
		if (v->kind != YAML_SCALAR || v->scalar[0] == '\0') {
			ERR(d, c, v, "alias field must be a field name");
			return -1;
		}
		a->rule_names[i] = strdup(m->pairs[i].key->scalar);
		a->fields[i] = strdup(v->scalar);
		a->n++;
		if (!a->rule_names[i] || !a->fields[i])
			return -1;
		a->field_ids[i] = fieldtab_intern(ctx->fields, a->fields[i],
						  strlen(a->fields[i]));
	}
	return 0;
}

static int parse_aliases(const struct yaml_node *n, struct correlation *c,
			 const struct rule_ctx *ctx, struct diag *d)
{
	int rc = 0;

	if (n == NULL || yamltree_is_null(n))
		return 0;
	if (n->kind != YAML_MAPPING) {
		ERR(d, c, n, "aliases must be a mapping");
		return -1;
	}
	c->aliases = calloc(n->n_pairs + 1, sizeof(*c->aliases));
	if (c->aliases == NULL)
		return -1;
	for (size_t i = 0; i < n->n_pairs; i++) {
		c->n_aliases++;
		if (parse_alias(&n->pairs[i], &c->aliases[i], c, ctx, d) < 0)
			rc = -1;
	}
	return rc;
}

struct correlation *correlation_compile(const struct yaml_node *corr_node,
					const struct rule_ctx *ctx,
					struct diag *d)
{
	struct correlation *c = calloc(1, sizeof(*c));
	size_t n_diag = diag_count(d);
	int rc = 0;

	if (c == NULL)
		return NULL;
	c->field_id = -1;
	c->file = dup_str(ctx->file);
	c->line = corr_node ? corr_node->line : 0;
	c->column = corr_node ? corr_node->column : 0;
	if (corr_node == NULL || corr_node->kind != YAML_MAPPING) {
		ERR(d, c, corr_node, "correlation must be a mapping");
		goto fail;
	}
	check_keys(corr_node, c, d);
	rc |= parse_type(yamltree_get(corr_node, "type"), c, d);
	rc |= parse_rules(yamltree_get(corr_node, "rules"), c, d);
	rc |= parse_group_by(yamltree_get(corr_node, "group-by"), c, ctx, d);
	rc |= parse_timespan(yamltree_get(corr_node, "timespan"), c, d);
	if (rc == 0)
		rc |= parse_condition(yamltree_get(corr_node, "condition"), c,
				      ctx, d);
	rc |= parse_aliases(yamltree_get(corr_node, "aliases"), c, ctx, d);
	if (rc != 0 || diag_count(d) > n_diag)
		goto fail;
	return c;
fail:
	correlation_free(c);
	return NULL;
}

/* ---- resolve ---- */

static bool rule_is(const struct rule *r, const char *name)
{
	return (r->name && strcmp(r->name, name) == 0) ||
	       (r->id && strcmp(r->id, name) == 0);
}

static int add_consumer(struct rule *r, struct rule *self)
{
	struct rule **nc =
	    realloc(r->consumers, (r->n_consumers + 1) * sizeof(*nc));

	if (nc == NULL)
		return -1;
	r->consumers = nc;
	r->consumers[r->n_consumers++] = self;
	return 0;
}

static int resolve_refs(struct rule *self, struct ruleset *rs, struct diag *d)
{
	struct correlation *c = self->correlation;
	int rc = 0;

	for (size_t i = 0; i < c->n_refs; i++) {
		const struct correlation_ref *ref = &c->refs[i];
		struct rule *r = ruleset_find(rs, ref->name);
		if (r == NULL || r == self) {
			diag_add(d, c->file, ref->line, ref->column,
				 r ? "correlation uses itself ('%s')"
				   : "unknown rule '%s' (no rule has this name "
				     "or id)",
				 ref->name);
			rc = -1;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (c->inputs[j] == r) {
				diag_add(d, c->file, ref->line, ref->column,
					 "rule '%s' is listed twice",
					 ref->name);
				rc = -1;
			}
		c->inputs[i] = r;
		if (rc == 0 && add_consumer(r, self) < 0) {
			diag_add(d, c->file, ref->line, ref->column,
				 "out of memory");
			return -1;
		}
	}
	return rc;
}

/* The field input i reads for group-by j: an alias entry or the name. */
static void resolve_field(struct correlation *c, size_t i, size_t j)
{
	size_t at = i * c->n_group_by + j;

	c->input_fields[at] = c->group_by[j];
	c->input_field_ids[at] = c->group_ids[j];
	for (size_t a = 0; a < c->n_aliases; a++) {
		const struct correlation_alias *al = &c->aliases[a];
		if (strcmp(al->alias, c->group_by[j]) != 0)
			continue;
		for (size_t k = 0; k < al->n; k++)
			if (rule_is(c->inputs[i], al->rule_names[k])) {
				c->input_fields[at] = al->fields[k];
				c->input_field_ids[at] = al->field_ids[k];
			}
	}
}

static int resolve_aliases(struct correlation *c, struct diag *d)
{
	int rc = 0;

	for (size_t a = 0; a < c->n_aliases; a++) {
		const struct correlation_alias *al = &c->aliases[a];
		for (size_t k = 0; k < al->n; k++) {
			bool found = false;
			for (size_t i = 0; i < c->n_refs; i++)
				found |=
				    rule_is(c->inputs[i], al->rule_names[k]);
			if (!found) {
				diag_add(
				    d, c->file, al->line, al->column,
				    "alias '%s' names rule '%s', which the "
				    "correlation does not use",
				    al->alias, al->rule_names[k]);
				rc = -1;
			}
		}
	}
	return rc;
}

int correlation_resolve(struct rule *self, struct ruleset *rs, struct diag *d)
{
	struct correlation *c = self->correlation;
	size_t n = c->n_refs * c->n_group_by + 1;

	free(c->inputs);
	free(c->input_fields);
	free(c->input_field_ids);
	c->inputs = calloc(c->n_refs + 1, sizeof(*c->inputs));
	c->input_fields = calloc(n, sizeof(*c->input_fields));
	c->input_field_ids = calloc(n, sizeof(*c->input_field_ids));
	if (!c->inputs || !c->input_fields || !c->input_field_ids) {
		diag_add(d, c->file, c->line, c->column, "out of memory");
		return -1;
	}
	if (resolve_refs(self, rs, d) < 0 || resolve_aliases(c, d) < 0)
		return -1;
	for (size_t i = 0; i < c->n_refs; i++)
		for (size_t j = 0; j < c->n_group_by; j++)
			resolve_field(c, i, j);
	return 0;
}

struct rule *const *correlation_inputs(const struct correlation *c, size_t *n)
{
	*n = c->inputs ? c->n_refs : 0;
	return c->inputs;
}

int correlation_input_index(const struct correlation *c, const struct rule *r)
{
	for (size_t i = 0; c->inputs && i < c->n_refs; i++)
		if (c->inputs[i] == r)
			return (int)i;
	return -1;
}

bool correlation_condition_holds(const struct correlation *c, double v)
{
	const double *x = c->op_value;
	const bool *h = c->has_op;

	return (!h[CORRELATION_GT] || v > x[CORRELATION_GT]) &&
	       (!h[CORRELATION_GTE] || v >= x[CORRELATION_GTE]) &&
	       (!h[CORRELATION_LT] || v < x[CORRELATION_LT]) &&
	       (!h[CORRELATION_LTE] || v <= x[CORRELATION_LTE]) &&
	       (!h[CORRELATION_EQ] || v == x[CORRELATION_EQ]);
}

bool correlation_closes(const struct correlation *c)
{
	return c->has_op[CORRELATION_LT] || c->has_op[CORRELATION_LTE] ||
	       c->has_op[CORRELATION_EQ];
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void correlation_free(struct correlation *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_refs; i++)
		free(c->refs[i].name);
	free(c->refs);
	free_strv(c->group_by, c->n_group_by);
	free(c->group_ids);
	for (size_t a = 0; a < c->n_aliases; a++) {
		free(c->aliases[a].alias);
		free_strv(c->aliases[a].rule_names, c->aliases[a].n);
		free_strv(c->aliases[a].fields, c->aliases[a].n);
		free(c->aliases[a].field_ids);
	}
	free(c->aliases);
	free(c->field);
	free(c->file);
	free(c->inputs);
	free(c->input_fields);
	free(c->input_field_ids);
	free(c);
}

void correlation_dump(const struct correlation *c, void *stdio_file)
{
	FILE *f = stdio_file;

	fprintf(f, "correlation %s timespan=%lldms%s\n", type_names[c->type],
		(long long)c->timespan_ms,
		correlation_closes(c) ? " (at window close)" : "");
	fprintf(f, "  rules:");
	for (size_t i = 0; i < c->n_refs; i++)
		fprintf(f, " %s", c->refs[i].name);
	fprintf(f, "\n  group-by:");
	for (size_t i = 0; i < c->n_group_by; i++)
		fprintf(f, " %s", c->group_by[i]);
	fprintf(f, "\n  condition:");
	for (int op = 0; op < N_CORRELATION_OPS; op++)
		if (c->has_op[op])
			fprintf(f, " %s %g", op_names[op], c->op_value[op]);
	if (c->field)
		fprintf(f, " field %s", c->field);
	fprintf(f, "\n");
	for (size_t a = 0; a < c->n_aliases; a++) {
		fprintf(f, "  alias %s:", c->aliases[a].alias);
		for (size_t k = 0; k < c->aliases[a].n; k++)
			fprintf(f, " %s=%s", c->aliases[a].rule_names[k],
				c->aliases[a].fields[k]);
		fprintf(f, "\n");
	}
}
