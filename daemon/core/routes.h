/*
 * routes: the route map of a pcap input, turning an HTTP exchange into the
 * fields of a canonical access event.
 *
 * YAML (under an input's `pcap:` section, see pcap_http.h):
 *
 *     defaults:                  # fields for every route that lacks them
 *       agent: [header.X-Agent, cookie.agent, basic.user, jwt.sub]
 *       ticket: { from: header.Referer, regex: '/tickets/([0-9]+)' }
 *       tool: console
 *     routes:                    # first match wins
 *       - match: GET /api/customers/{customer}/documents/{object}
 *         action: view_document
 *       - match: GET|POST /api/customers/{customer}/search
 *         action: search
 *         rows: [response.X-Total-Count, query.limit]
 *         ticket: body.ticket_id
 *
 * `match`: methods (`|`-separated, or `*`) and a path template; `{name}`
 * matches one or more characters up to the next '/' (or the template's
 * next literal); the query string is not part of the match.  A placeholder
 * named like a canonical field fills that field unless the route sets it.
 * Field values (keys: agent team site action object customer ticket rows
 * query session tool) are sources, tried in order (a list) until one
 * gives a non-empty value:
 *   path.NAME      a placeholder of the template (percent-decoded)
 *   query.NAME     a query-string parameter (percent-decoded, '+' = ' ')
 *   body.A.B       a JSON body member (dotted path; strings, numbers,
 *                  booleans), or a parameter of a form-encoded body
 *   header.NAME    a request header; response.NAME a response header
 *   cookie.NAME    a cookie of the Cookie header
 *   basic.user     the user of HTTP Basic authorization
 *   jwt.CLAIM      a claim of a Bearer JWT (payload base64url-decoded, the
 *                  signature NOT verified: the token is only a label)
 *   anything else  a literal (or { value: TEXT } for text that looks like a
 *                  source)
 * A source may be refined: { from: SOURCE, regex: RE } takes capture group
 * 1 (or the whole match) of a PCRE2 regex; { from: SOURCE, template: T }
 * matches T (same placeholder syntax) at the start of the value and takes
 * its first placeholder.  rows must come out as digits, else it is
 * dropped (counted by the caller via routes_apply's result).
 *
 * Compilation reports every problem as file:line:column through diag; a
 * compiled map is immutable and may be shared.  Evaluation is pure.
 */
#ifndef CUSTOS_ROUTES_H
#define CUSTOS_ROUTES_H

#include <stddef.h>

#include "decode.h"
#include "diag.h"
#include "http_parse.h"
#include "yamltree.h"

struct routes;

/* config_apply CUSTOM parsers: member is a struct routes ** (allocated on
 * first use).  `routes:` takes a list of routes, `defaults:` a mapping of
 * fields.  Return 0, or -1 with problems added to d. */
int routes_parse_list(const struct yaml_node *v, void *member, struct diag *d);
int routes_parse_defaults(const struct yaml_node *v, void *member,
			  struct diag *d);

void routes_free(struct routes *r);
size_t routes_count(const struct routes *r);

/* Result of routes_apply. */
struct routes_result {
	int route;	     /* index of the matching route, -1 if none */
	unsigned n_bad_rows; /* rows values dropped (not digits) */
	unsigned n_nomem;    /* fields not added: out of memory */
	unsigned n_re_limit; /* refinements stopped by the regex limits */
};

/* Matches the exchange's request against the routes and, on a match, adds
 * the route's fields to b (event_buf_add, canonical names).  r may be NULL
 * (nothing matches).  Returns the result; fields added only on a match. */
struct routes_result routes_apply(const struct routes *r,
				  const struct http_exchange *x,
				  struct event_buf *b);

#endif
