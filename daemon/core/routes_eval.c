/*
 * routes_eval: matching an HTTP exchange against a compiled route map and
 * extracting the route's field values (contract of routes_apply in
 * routes.h; the compiled form is in routes_int.h).
 *
 * Evaluation keeps a small context per exchange: the path's placeholder
 * captures, and lazily the parsed JSON body and JWT payload (jansson),
 * freed before returning.  Every value comes from the exchange (borrowed)
 * and is copied into the event buffer's arena by event_buf_add; one value
 * is at most MAX_VALUE bytes.  Pure: no clock, no output.
 */
#include "routes.h"

#include "routes_int.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- matching ---- */

struct cap {
	const char *name;
	const char *val;
	size_t len;
};

/* Matches t against s[0..n); whole: the template must consume all of s.
 * Fills caps (at most MAX_CAPS). */
static bool tpl_match(const struct tpl *t, const char *s, size_t n, bool whole,
		      struct cap *caps, size_t *n_caps)
{
	size_t pos = 0;

	*n_caps = 0;
	for (size_t i = 0; i < t->n_parts; i++) {
		const struct tpl_part *p = &t->parts[i];
		if (!p->placeholder) {
			size_t l = strlen(p->text);
			if (n - pos < l || memcmp(s + pos, p->text, l) != 0)
				return false;
			pos += l;
			continue;
		}
		const char *next =
		    i + 1 < t->n_parts ? t->parts[i + 1].text : "";
		size_t e = pos;
		while (e < n && !strchr("/?#", s[e]) &&
		       (next[0] == '\0' || next[0] == '/' || s[e] != next[0]))
			e++;
		if (e == pos)
			return false;
		if (*n_caps < MAX_CAPS)
			caps[(*n_caps)++] =
			    (struct cap){p->text, s + pos, e - pos};
		pos = e;
	}
	return !whole || pos == n;
}

static bool method_ok(const struct route *r, const char *method)
{
	if (r->methods[0] == NULL)
		return true;
	for (size_t i = 0; i < MAX_METHODS && r->methods[i]; i++)
		if (strcmp(r->methods[i], method) == 0)
			return true;
	return false;
}

/* ---- value extraction ---- */

struct ctx {
	const struct http_exchange *x;
	const char *query;
	size_t query_len;
	struct cap caps[MAX_CAPS];
	size_t n_caps;
	json_t *body, *jwt;
	bool body_tried, jwt_tried;
};

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Percent-decodes s[0..n) into out (NUL-terminated); returns the length. */
static size_t pct_decode(const char *s, size_t n, bool plus, char *out,
			 size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < size; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			out[o++] = (char)(hexval((unsigned char)s[i + 1]) * 16 +
					  hexval((unsigned char)s[i + 2]));
			i += 2;
		} else {
			out[o++] = plus && s[i] == '+' ? ' ' : s[i];
		}
	}
	out[o] = '\0';
	return o;
}

/* Parameter `name` of an a=b&c=d string, decoded into out; -1 if absent. */
static long form_param(const char *s, size_t n, const char *name, char *out,
		       size_t size)
{
	size_t nl = strlen(name), i = 0;

	while (i < n) {
		const char *amp = memchr(s + i, '&', n - i);
		size_t e = amp ? (size_t)(amp - s) : n;
		const char *eq = memchr(s + i, '=', e - i);
		size_t kl = eq ? (size_t)(eq - (s + i)) : e - i;
		if (kl == nl && memcmp(s + i, name, nl) == 0) {
			size_t vs = eq ? (size_t)(eq - s) + 1 : e;
			return (long)pct_decode(s + vs, e - vs, true, out,
						size);
		}
		i = e + 1;
	}
	return -1;
}

static long copy_out(const char *s, size_t n, char *out, size_t size)
{
	if (n >= size)
		n = size - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return (long)n;
}

/* A JSON member at a dotted path, as text; -1 if absent or not scalar. */
static long json_path(json_t *root, const char *path, char *out, size_t size)
{
	char key[256];
	json_t *j = root;

	while (j && *path) {
		size_t l = strcspn(path, ".");
		if (l >= sizeof(key) || !json_is_object(j))
			return -1;
		memcpy(key, path, l);
		key[l] = '\0';
		j = json_object_get(j, key);
		path += l + (path[l] == '.');
	}
	if (json_is_string(j))
		return copy_out(json_string_value(j), json_string_length(j),
				out, size);
	if (json_is_integer(j))
		return snprintf(out, size, "%lld",
				(long long)json_integer_value(j));
	if (json_is_real(j))
		return snprintf(out, size, "%.17g", json_real_value(j));
	if (json_is_boolean(j))
		return snprintf(out, size, "%s",
				json_is_true(j) ? "true" : "false");
	return -1;
}

/* Decodes base64 (url: the base64url alphabet, padding optional). */
static long b64_decode(const char *s, size_t n, bool url, char *out,
		       size_t size)
{
	char in[MAX_VALUE + 4];
	size_t k = 0, pad;

	if (n > MAX_VALUE || (n * 3) / 4 + 3 >= size)
		return -1;
	for (size_t i = 0; i < n && s[i] != '='; i++)
		in[k++] = url && s[i] == '-'   ? '+'
			  : url && s[i] == '_' ? '/'
					       : s[i];
	pad = (4 - k % 4) % 4;
	if (pad == 3)
		return -1;
	for (size_t i = 0; i < pad; i++)
		in[k++] = '=';
	int got =
	    EVP_DecodeBlock((unsigned char *)out, (unsigned char *)in, (int)k);
	if (got < 0)
		return -1;
	got -= (int)pad;
	out[got] = '\0';
	return got;
}

static const struct http_header *req_header(const struct ctx *c,
					    const char *name)
{
	return http_header_find(c->x->req->headers, c->x->req->n_headers, name);
}

static json_t *load_body(struct ctx *c)
{
	const struct http_request *q = c->x->req;

	if (!c->body_tried && q->body_len && !q->body_truncated) {
		c->body_tried = true;
		c->body =
		    json_loadb((const char *)q->body, q->body_len, 0, NULL);
	}
	return c->body;
}

static long from_body(struct ctx *c, const char *name, char *out, size_t size)
{
	const struct http_request *q = c->x->req;
	const struct http_header *ct = req_header(c, "Content-Type");

	if (ct && strcasestr(ct->value, "x-www-form-urlencoded"))
		return form_param((const char *)q->body, q->body_len, name, out,
				  size);
	json_t *j = load_body(c);
	return j ? json_path(j, name, out, size) : -1;
}

static long from_cookie(struct ctx *c, const char *name, char *out, size_t size)
{
	const struct http_header *h = req_header(c, "Cookie");
	size_t nl = strlen(name);

	for (const char *p = h ? h->value : NULL; p && *p;) {
		p += strspn(p, " ;");
		size_t l = strcspn(p, ";");
		if (l > nl && p[nl] == '=' && strncmp(p, name, nl) == 0) {
			const char *v = p + nl + 1;
			size_t vl = l - nl - 1;
			if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
				v++;
				vl -= 2;
			}
			return (long)pct_decode(v, vl, false, out, size);
		}
		p += l;
	}
	return -1;
}

static long from_auth(struct ctx *c, enum src_kind k, const char *name,
		      char *out, size_t size)
{
	const struct http_header *h = req_header(c, "Authorization");
	const char *scheme = k == SRC_BASIC ? "Basic " : "Bearer ";
	size_t sl = strlen(scheme);

	if (h == NULL || strncasecmp(h->value, scheme, sl) != 0)
		return -1;
	const char *tok = h->value + sl + strspn(h->value + sl, " ");
	if (k == SRC_BASIC) {
		long n = b64_decode(tok, strlen(tok), false, out, size);
		char *colon = n > 0 ? memchr(out, ':', (size_t)n) : NULL;
		if (colon == NULL || strcmp(name, "user") != 0)
			return -1;
		*colon = '\0';
		return colon - out;
	}
	if (!c->jwt_tried) {
		c->jwt_tried = true;
		const char *d1 = strchr(tok, '.');
		const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
		char payload[MAX_VALUE];
		long n = d2 ? b64_decode(d1 + 1, (size_t)(d2 - d1 - 1), true,
					 payload, sizeof(payload))
			    : -1;
		if (n > 0)
			c->jwt = json_loadb(payload, (size_t)n, 0, NULL);
	}
	return c->jwt ? json_path(c->jwt, name, out, size) : -1;
}

/* The raw value of src (before refinement); -1 if absent. */
static long raw_value(struct ctx *c, const struct source *src, char *out,
		      size_t size)
{
	const struct http_header *h;

	switch (src->kind) {
	case SRC_LITERAL:
		return copy_out(src->name, strlen(src->name), out, size);
	case SRC_PATH:
		for (size_t i = 0; i < c->n_caps; i++)
			if (strcmp(c->caps[i].name, src->name) == 0)
				return (long)pct_decode(c->caps[i].val,
							c->caps[i].len, false,
							out, size);
		return -1;
	case SRC_QUERY:
		return form_param(c->query, c->query_len, src->name, out, size);
	case SRC_BODY:
		return from_body(c, src->name, out, size);
	case SRC_HEADER:
		h = req_header(c, src->name);
		return h ? copy_out(h->value, h->value_len, out, size) : -1;
	case SRC_RESPONSE:
		h = http_header_find(c->x->resp_headers, c->x->n_resp_headers,
				     src->name);
		return h ? copy_out(h->value, h->value_len, out, size) : -1;
	case SRC_COOKIE:
		return from_cookie(c, src->name, out, size);
	case SRC_BASIC:
	case SRC_JWT:
		return from_auth(c, src->kind, src->name, out, size);
	}
	return -1;
}

/* Applies a regex/template refinement to out[0..n) in place; a regex
 * stopped by its match/depth/heap limit counts in *n_re_limit and gives
 * no value. */
static long refine(const struct source *src, char *out, long n,
		   unsigned *n_re_limit)
{
	if (src->re) {
		pcre2_match_data *md =
		    pcre2_match_data_create_from_pattern(src->re, NULL);
		int rc = md ? pcre2_match(src->re, (PCRE2_SPTR)out, (size_t)n,
					  0, 0, md, src->re_mctx)
			    : -1;
		long len = -1;
		if (rc == PCRE2_ERROR_MATCHLIMIT ||
		    rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
			(*n_re_limit)++;
		if (rc > 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
			int g = rc > 1 ? 1 : 0;
			if (ov[2 * g] != PCRE2_UNSET) {
				len = (long)(ov[2 * g + 1] - ov[2 * g]);
				memmove(out, out + ov[2 * g], (size_t)len);
				out[len] = '\0';
			}
		}
		pcre2_match_data_free(md);
		return len;
	}
	if (src->tpl) {
		struct cap caps[MAX_CAPS];
		size_t n_caps;
		if (!tpl_match(src->tpl, out, (size_t)n, false, caps,
			       &n_caps) ||
		    n_caps == 0)
			return -1;
		char tmp[MAX_VALUE];
		size_t l = pct_decode(caps[0].val, caps[0].len, false, tmp,
				      sizeof(tmp));
		memcpy(out, tmp, l + 1);
		return (long)l;
	}
	return n;
}

/* First non-empty value of the rule's alternatives; -1 if none. */
static long rule_value(struct ctx *c, const struct field_rule *fr, char *out,
		       size_t size, unsigned *n_re_limit)
{
	for (size_t i = 0; i < fr->n_alts; i++) {
		long n = raw_value(c, &fr->alts[i], out, size);
		if (n > 0)
			n = refine(&fr->alts[i], out, n, n_re_limit);
		if (n > 0)
			return n;
	}
	return -1;
}

static bool all_digits(const char *s, long n)
{
	return n > 0 && n <= 18 && (long)strspn(s, "0123456789") == n;
}

/* Adds field k (index into routes_fields) from route, placeholder or
 * defaults, in that order of precedence. */
static void add_field(struct ctx *c, const struct routes *rs,
		      const struct route *r, size_t k, struct event_buf *b,
		      struct routes_result *res)
{
	enum canonical_field f = routes_fields[k];
	const char *name = canonical_field_names[f];
	char out[MAX_VALUE];
	long n = -1;

	if (r->f[k].n_alts)
		n = rule_value(c, &r->f[k], out, sizeof(out), &res->n_re_limit);
	for (size_t i = 0; n < 0 && !r->f[k].n_alts && i < c->n_caps; i++)
		if (strcmp(c->caps[i].name, name) == 0)
			n = (long)pct_decode(c->caps[i].val, c->caps[i].len,
					     false, out, sizeof(out));
	if (n <= 0 && rs->defaults.f[k].n_alts)
		n = rule_value(c, &rs->defaults.f[k], out, sizeof(out),
			       &res->n_re_limit);
	if (n <= 0)
		return;
	if (f == FIELD_ROWS && !all_digits(out, n)) {
		res->n_bad_rows++;
		return;
	}
	const char *v = event_buf_strdup(b, out, (size_t)n);
	if (v == NULL ||
	    event_buf_add(b, name, v, (size_t)n,
			  f == FIELD_ROWS ? VALUE_NUMBER : VALUE_STRING,
			  -1) < 0)
		res->n_nomem++;
}

struct routes_result routes_apply(const struct routes *rs,
				  const struct http_exchange *x,
				  struct event_buf *b)
{
	struct routes_result res = {-1, 0, 0, 0};
	struct ctx c = {.x = x};
	const char *uri = x->req->uri;
	size_t path_len = strcspn(uri, "?#");

	if (rs == NULL)
		return res;
	if (uri[path_len] == '?') {
		c.query = uri + path_len + 1;
		c.query_len = strcspn(c.query, "#");
	}
	for (size_t i = 0; i < rs->n && res.route < 0; i++) {
		const struct route *r = &rs->list[i];
		if (method_ok(r, x->req->method) &&
		    tpl_match(&r->path, uri, path_len, true, c.caps, &c.n_caps))
			res.route = (int)i;
	}
	if (res.route >= 0)
		for (size_t k = 0; k < N_ROUTE_FIELDS; k++)
			add_field(&c, rs, &rs->list[res.route], k, b, &res);
	json_decref(c.body);
	json_decref(c.jwt);
	return res;
}
