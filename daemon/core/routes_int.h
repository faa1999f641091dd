/*
 * routes_int: the compiled form of a route map, shared by routes.c (YAML
 * compilation and freeing) and routes_eval.c (matching an exchange and
 * extracting field values).  Not for other modules: they use routes.h.
 *
 * A route holds its methods, a path template (literal parts and
 * placeholders) and, per canonical field, a list of alternative sources.
 * Everything is owned by the struct routes that holds it and freed by
 * routes_free; once compiled, a map is never written again.
 */
#ifndef CUSTOS_ROUTES_INT_H
#define CUSTOS_ROUTES_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>

#include "event.h"

#define MAX_PARTS 32
#define MAX_CAPS 8
#define MAX_METHODS 8
#define MAX_VALUE 4096 /* bytes of one extracted value */

enum src_kind {
	SRC_LITERAL,
	SRC_PATH,
	SRC_QUERY,
	SRC_BODY,
	SRC_HEADER,
	SRC_RESPONSE,
	SRC_COOKIE,
	SRC_BASIC,
	SRC_JWT,
};

struct tpl_part {
	char *text; /* literal, or placeholder name */
	bool placeholder;
};

struct tpl {
	struct tpl_part parts[MAX_PARTS];
	size_t n_parts;
};

struct source {
	enum src_kind kind;
	char *name;		      /* after the prefix, or the literal */
	pcre2_code *re;		      /* refinement, or NULL */
	pcre2_match_context *re_mctx; /* re's match/depth limits (match.h) */
	struct tpl *tpl;	      /* refinement, or NULL */
};

struct field_rule {
	struct source *alts;
	size_t n_alts;
};

/* canonical fields a route may set, in the order of struct route's f[]
 * (and of the config keys in routes.c) */
#define N_ROUTE_FIELDS 11
extern const enum canonical_field routes_fields[N_ROUTE_FIELDS];

struct route {
	char *methods[MAX_METHODS]; /* NULL-terminated; none = any */
	struct tpl path;
	struct field_rule f[N_ROUTE_FIELDS];
};

struct routes {
	struct route defaults; /* only f[] used */
	struct route *list;
	size_t n;
};

#endif
