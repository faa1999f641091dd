/*
 * routes: compiling a route map from YAML, and freeing it (contract in
 * routes.h; the compiled form is in routes_int.h, its evaluation in
 * routes_eval.c).
 *
 * Compilation reports every problem through diag with file:line:column;
 * a map is owned by the struct routes * the config member points to.
 */
#include "routes.h"

#include "config.h"
#include "match.h"
#include "routes_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const src_prefixes[] = {"",	      "path.",	 "query.",
					   "body.",   "header.", "response.",
					   "cookie.", "basic.",	 "jwt."};
const enum canonical_field routes_fields[N_ROUTE_FIELDS] = {
    FIELD_AGENT,  FIELD_TEAM,	  FIELD_SITE,	FIELD_ACTION,
    FIELD_OBJECT, FIELD_CUSTOMER, FIELD_TICKET, FIELD_ROWS,
    FIELD_QUERY,  FIELD_SESSION,  FIELD_TOOL};

/* ---- freeing ---- */

static void tpl_clear(struct tpl *t)
{
	for (size_t i = 0; i < t->n_parts; i++)
		free(t->parts[i].text);
	t->n_parts = 0;
}

static void rule_clear(struct field_rule *fr)
{
	for (size_t i = 0; i < fr->n_alts; i++) {
		free(fr->alts[i].name);
		pcre2_code_free(fr->alts[i].re);
		pcre2_match_context_free(fr->alts[i].re_mctx);
		if (fr->alts[i].tpl)
			tpl_clear(fr->alts[i].tpl);
		free(fr->alts[i].tpl);
	}
	free(fr->alts);
	fr->alts = NULL;
	fr->n_alts = 0;
}

static void route_clear(struct route *r)
{
	for (size_t i = 0; i < MAX_METHODS && r->methods[i]; i++)
		free(r->methods[i]);
	tpl_clear(&r->path);
	for (size_t i = 0; i < N_ROUTE_FIELDS; i++)
		rule_clear(&r->f[i]);
	memset(r, 0, sizeof(*r));
}

void routes_free(struct routes *r)
{
	if (r == NULL)
		return;
	route_clear(&r->defaults);
	for (size_t i = 0; i < r->n; i++)
		route_clear(&r->list[i]);
	free(r->list);
	free(r);
}

size_t routes_count(const struct routes *r)
{
	return r ? r->n : 0;
}

/* ---- compiling ---- */

static int tpl_compile(const char *s, struct tpl *t, const struct yaml_node *v,
		       struct diag *d)
{
	const char *p = s;

	while (*p) {
		bool ph = *p == '{';
		const char *e = ph ? strchr(p, '}') : strchr(p, '{');
		if (ph && (e == NULL || e == p + 1)) {
			diag_add(d, v->file, v->line, v->column,
				 "unterminated or empty '{' in template '%s'",
				 s);
			return -1;
		}
		if (e == NULL)
			e = p + strlen(p);
		if (t->n_parts == MAX_PARTS) {
			diag_add(d, v->file, v->line, v->column,
				 "template '%s' has more than %d parts", s,
				 MAX_PARTS);
			return -1;
		}
		size_t len = ph ? (size_t)(e - p - 1) : (size_t)(e - p);
		t->parts[t->n_parts].text = strndup(ph ? p + 1 : p, len);
		if (t->parts[t->n_parts].text == NULL) {
			diag_add(d, v->file, v->line, v->column,
				 "out of memory");
			return -1;
		}
		t->parts[t->n_parts++].placeholder = ph;
		if (ph && t->n_parts > 1 &&
		    t->parts[t->n_parts - 2].placeholder) {
			diag_add(d, v->file, v->line, v->column,
				 "template '%s': two placeholders in a row", s);
			return -1;
		}
		p = ph ? e + 1 : e;
	}
	return 0;
}

static int source_compile(const char *s, struct source *src)
{
	src->kind = SRC_LITERAL;
	for (size_t k = 1; k < sizeof(src_prefixes) / sizeof(*src_prefixes);
	     k++) {
		size_t l = strlen(src_prefixes[k]);
		if (strncmp(s, src_prefixes[k], l) == 0 && s[l]) {
			src->kind = (enum src_kind)k;
			s += l;
			break;
		}
	}
	src->name = strdup(s);
	return src->name ? 0 : -1;
}

struct refine {
	char *from, *regex, *template, *value;
};

static const struct config_key refine_keys[] = {
    {.name = "from",
     .type = CONFIG_STRING,
     .offset = offsetof(struct refine, from)},
    {.name = "regex",
     .type = CONFIG_STRING,
     .offset = offsetof(struct refine, regex)},
    {.name = "template",
     .type = CONFIG_STRING,
     .offset = offsetof(struct refine, template)},
    {.name = "value",
     .type = CONFIG_STRING,
     .offset = offsetof(struct refine, value)},
};

static int refine_build(const struct refine *rf, struct source *src,
			const struct yaml_node *v, struct diag *d)
{
	if (rf->value) {
		if (rf->from || rf->regex || rf->template)
			goto shape;
		src->kind = SRC_LITERAL;
		return (src->name = strdup(rf->value)) ? 0 : -1;
	}
	if (rf->from == NULL || (rf->regex && rf->template))
		goto shape;
	if (source_compile(rf->from, src) < 0)
		return -1;
	if (rf->regex) {
		int err;
		PCRE2_SIZE off;
		src->re =
		    pcre2_compile((PCRE2_SPTR)rf->regex, PCRE2_ZERO_TERMINATED,
				  0, &err, &off, NULL);
		if (src->re == NULL) {
			PCRE2_UCHAR msg[128];
			pcre2_get_error_message(err, msg, sizeof(msg));
			diag_add(d, v->file, v->line, v->column,
				 "bad regex at offset %zu: %s", (size_t)off,
				 (char *)msg);
			return -1;
		}
		if ((src->re_mctx = pcre2_match_context_create(NULL)) == NULL)
			return -1;
		pcre2_set_match_limit(src->re_mctx, MATCH_RE_MATCH_LIMIT);
		pcre2_set_depth_limit(src->re_mctx, MATCH_RE_DEPTH_LIMIT);
	}
	if (rf->template) {
		if ((src->tpl = calloc(1, sizeof(*src->tpl))) == NULL)
			return -1;
		return tpl_compile(rf->template, src->tpl, v, d);
	}
	return 0;
shape:
	diag_add(d, v->file, v->line, v->column,
		 "a source mapping is { from: SOURCE, regex: RE } or { from: "
		 "SOURCE, template: T } or { value: TEXT }");
	return -1;
}

static int alt_compile(const struct yaml_node *v, struct source *src,
		       struct diag *d)
{
	if (v->kind == YAML_SCALAR && v->scalar_len && !yamltree_is_null(v))
		return source_compile(v->scalar, src);
	if (v->kind != YAML_MAPPING) {
		diag_add(d, v->file, v->line, v->column,
			 "a field source must be a string or a mapping, not %s",
			 yamltree_kind_name(v->kind));
		return -1;
	}
	struct refine rf = {0};
	int rc = config_apply(v, refine_keys,
			      sizeof(refine_keys) / sizeof(refine_keys[0]), &rf,
			      "field source", d)
		     ? -1
		     : refine_build(&rf, src, v, d);
	free(rf.from);
	free(rf.regex);
	free(rf.template);
	free(rf.value);
	return rc;
}

/* CUSTOM parser for one field: member is a struct field_rule. */
static int parse_field(const struct yaml_node *v, void *member, struct diag *d)
{
	struct field_rule *fr = member;
	const struct yaml_node *one[1] = {v};
	const struct yaml_node *const *items = one;
	size_t n = 1, before = diag_count(d);

	if (v->kind == YAML_SEQUENCE) {
		items = (const struct yaml_node *const *)v->items;
		n = v->n_items;
	}
	rule_clear(fr);
	if (n == 0 || (fr->alts = calloc(n, sizeof(*fr->alts))) == NULL) {
		if (n == 0)
			diag_add(d, v->file, v->line, v->column,
				 "empty list of sources");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		fr->n_alts++;
		if (alt_compile(items[i], &fr->alts[i], d) < 0 &&
		    diag_count(d) == before)
			return -1;
	}
	return diag_count(d) > before ? -1 : 0;
}

/* CUSTOM parser for `match: METHODS TEMPLATE`: member is the route. */
static int parse_match(const struct yaml_node *v, void *member, struct diag *d)
{
	struct route *r = member;
	char *s, *sp, *tok, *save = NULL;
	size_t n = 0;

	if (v->kind != YAML_SCALAR || (sp = strchr(v->scalar, ' ')) == NULL ||
	    sp[1] != '/') {
		diag_add(
		    d, v->file, v->line, v->column,
		    "'match' must be 'METHOD /path/{placeholder}' (methods "
		    "separated by '|', or '*')");
		return -1;
	}
	if ((s = strndup(v->scalar, (size_t)(sp - v->scalar))) == NULL) {
		diag_add(d, v->file, v->line, v->column, "out of memory");
		return -1;
	}
	for (tok = strtok_r(s, "|", &save); tok && strcmp(s, "*") != 0;
	     tok = strtok_r(NULL, "|", &save)) {
		if (n == MAX_METHODS - 1) {
			diag_add(d, v->file, v->line, v->column,
				 "at most %d methods", MAX_METHODS - 1);
			break;
		}
		/* a method lost would make the route match any method */
		if ((r->methods[n++] = strdup(tok)) == NULL) {
			diag_add(d, v->file, v->line, v->column,
				 "out of memory");
			free(s);
			return -1;
		}
	}
	free(s);
	return tpl_compile(sp + 1, &r->path, v, d);
}

#define FIELD_KEY(nm, idx)                                                     \
	{                                                                      \
		.name = nm, .type = CONFIG_CUSTOM, .parse = parse_field,       \
		.offset = offsetof(struct route, f) +                          \
			  (idx) * sizeof(struct field_rule)                    \
	}

#define FIELD_KEYS                                                             \
	FIELD_KEY("agent", 0), FIELD_KEY("team", 1), FIELD_KEY("site", 2),     \
	    FIELD_KEY("action", 3), FIELD_KEY("object", 4),                    \
	    FIELD_KEY("customer", 5), FIELD_KEY("ticket", 6),                  \
	    FIELD_KEY("rows", 7), FIELD_KEY("query", 8),                       \
	    FIELD_KEY("session", 9), FIELD_KEY("tool", 10)

static const struct config_key route_keys[] = {{.name = "match",
						.type = CONFIG_CUSTOM,
						.parse = parse_match,
						.required = true},
					       FIELD_KEYS};

static const struct config_key default_keys[] = {FIELD_KEYS};

static struct routes *routes_get(void *member)
{
	struct routes **rp = member;

	if (*rp == NULL)
		*rp = calloc(1, sizeof(**rp));
	return *rp;
}

int routes_parse_defaults(const struct yaml_node *v, void *member,
			  struct diag *d)
{
	struct routes *r = routes_get(member);

	if (r == NULL)
		return -1;
	route_clear(&r->defaults);
	config_apply(v, default_keys, N_ROUTE_FIELDS, &r->defaults, "defaults",
		     d);
	return 0;
}

int routes_parse_list(const struct yaml_node *v, void *member, struct diag *d)
{
	struct routes *r = routes_get(member);

	if (r == NULL)
		return -1;
	if (v->kind != YAML_SEQUENCE) {
		diag_add(d, v->file, v->line, v->column,
			 "'routes' must be a list, not %s",
			 yamltree_kind_name(v->kind));
		return 0;
	}
	r->list = calloc(v->n_items ? v->n_items : 1, sizeof(*r->list));
	if (r->list == NULL)
		return -1;
	for (size_t i = 0; i < v->n_items; i++) {
		char what[32];
		snprintf(what, sizeof(what), "routes[%zu]", i);
		config_apply(v->items[i], route_keys,
			     sizeof(route_keys) / sizeof(route_keys[0]),
			     &r->list[r->n++], what, d);
	}
	return 0;
}
