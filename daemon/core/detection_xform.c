/*
 * detection_xform: the compile-time value transformations of a Sigma
 * modifier chain (base64, base64offset, windash, utf16le/utf16be/utf16/wide,
 * contains/startswith/endswith as wildcards) and the expansion of %list%
 * placeholders (`expand`).  Each turns a vector of literal values into a
 * vector of alternatives, bounded by DET_MAX_ALTS.  Pure: no I/O, no clock;
 * the caller owns every vector.  Rules for each modifier: detection.c's
 * header.
 */
#include "detection_int.h"

#include "match.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- string vectors ---- */

struct match_str *xform_vec_add(struct strvec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		struct match_str *p = realloc(v->v, cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		v->v = p;
		v->cap = cap;
	}
	memset(&v->v[v->n], 0, sizeof(v->v[0]));
	return &v->v[v->n++];
}

void xform_vec_clear(struct strvec *v)
{
	for (size_t i = 0; i < v->n; i++)
		match_str_clear(&v->v[i]);
	free(v->v);
	memset(v, 0, sizeof(*v));
}

/* ---- value transformations ---- */

static int push_str(struct strvec *out, const struct match_str *s)
{
	struct match_str *d;

	if (out->n >= DET_MAX_ALTS)
		return -2;
	d = xform_vec_add(out);
	return d == NULL ? -1 : match_str_copy(d, s);
}

static int b64_encode(struct match_str *out, const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		if (match_str_append(out, q, 4) < 0)
			return -1;
	}
	return 0;
}

/* base64offset: the value encoded at offsets 0, 1 and 2 within a base64
 * stream, keeping only the characters that do not depend on the
 * neighbouring bytes. */
static int b64_offsets(struct strvec *out, const struct match_str *s)
{
	static const size_t start[3] = {0, 2, 3};
	static const size_t cut[3] = {0, 3, 2};
	unsigned char *buf = malloc(s->len + 2);

	if (buf == NULL)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		struct match_str enc = {0}, part = {0};
		memset(buf, ' ', i);
		if (s->len > 0)
			memcpy(buf + i, s->b, s->len);
		int rc = b64_encode(&enc, buf, s->len + i);
		size_t end = enc.len - cut[(s->len + i) % 3];
		if (rc == 0 && end > start[i])
			rc = match_str_append(&part, enc.b + start[i],
					      end - start[i]);
		if (rc == 0)
			rc = push_str(out, &part);
		match_str_clear(&enc);
		match_str_clear(&part);
		if (rc < 0) {
			free(buf);
			return rc;
		}
	}
	free(buf);
	return 0;
}

/* One UTF-8 character -> code point; returns its length or 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t l;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		l = 2, *cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		l = 3, *cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		l = 4, *cp = s[0] & 0x07;
	else
		return 0;
	if (l > n)
		return 0;
	for (size_t i = 1; i < l; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return l;
}

static int push_unit(struct match_str *o, uint32_t u, bool be)
{
	unsigned char b[2] = {(unsigned char)(u & 0xff),
			      (unsigned char)(u >> 8)};

	if (be) {
		b[0] = (unsigned char)(u >> 8);
		b[1] = (unsigned char)(u & 0xff);
	}
	return match_str_append(o, b, 2);
}

static int utf16_encode(struct match_str *o, const struct match_str *s, bool be,
			bool bom)
{
	if (bom && match_str_append(o, "\xff\xfe", 2) < 0)
		return -1;
	for (size_t i = 0; i < s->len;) {
		uint32_t cp;
		size_t l;
		if (s->w[i] != MATCH_PLAIN) {
			int n = s->w[i] == MATCH_QMARK ? 2 : 1;
			for (int k = 0; k < n; k++)
				if (match_str_push(o, s->b[i], s->w[i]) < 0)
					return -1;
			i++;
			continue;
		}
		l = utf8_decode(s->b + i, s->len - i, &cp);
		if (l == 0)
			return -3;
		i += l;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			if (push_unit(o, 0xd800 | (cp >> 10), be) < 0 ||
			    push_unit(o, 0xdc00 | (cp & 0x3ff), be) < 0)
				return -1;
		} else if (push_unit(o, cp, be) < 0) {
			return -1;
		}
	}
	return 0;
}

/* Length of the dash-like character at s[i], or 0. */
static size_t dash_at(const struct match_str *s, size_t i)
{
	if (s->w[i] != MATCH_PLAIN)
		return 0;
	if (s->b[i] == '-' || s->b[i] == '/')
		return 1;
	if (i + 2 < s->len && s->b[i] == 0xe2 && s->b[i + 1] == 0x80 &&
	    s->b[i + 2] >= 0x93 && s->b[i + 2] <= 0x95 &&
	    s->w[i + 1] == MATCH_PLAIN && s->w[i + 2] == MATCH_PLAIN)
		return 3;
	return 0;
}

static int windash_from(struct strvec *out, const struct match_str *s,
			size_t from, struct match_str *acc)
{
	static const char *const dashes[5] = {"-", "/", "\xe2\x80\x93",
					      "\xe2\x80\x94", "\xe2\x80\x95"};
	size_t i = from, l = 0;

	while (i < s->len && (l = dash_at(s, i)) == 0)
		i++;
	size_t keep = acc->len;
	for (size_t k = from; k < i; k++)
		if (match_str_push(acc, s->b[k], s->w[k]) < 0)
			return -1;
	if (i >= s->len) {
		int rc = push_str(out, acc);
		acc->len = keep;
		return rc;
	}
	size_t mid = acc->len;
	for (int d = 0; d < 5; d++) {
		acc->len = mid;
		if (match_str_append(acc, dashes[d], strlen(dashes[d])) < 0)
			return -1;
		int rc = windash_from(out, s, i + l, acc);
		if (rc < 0)
			return rc;
	}
	acc->len = keep;
	return 0;
}

static int add_star(struct match_str *s, bool front)
{
	if (front) {
		if (s->len > 0 && s->w[0] == MATCH_STAR)
			return 0;
		struct match_str t = {0};
		int rc = match_str_push(&t, '*', MATCH_STAR);
		for (size_t i = 0; rc == 0 && i < s->len; i++)
			rc = match_str_push(&t, s->b[i], s->w[i]);
		if (rc == 0) {
			match_str_clear(s);
			*s = t;
		} else {
			match_str_clear(&t);
		}
		return rc;
	}
	if (s->len > 0 && s->w[s->len - 1] == MATCH_STAR)
		return 0;
	return match_str_push(s, '*', MATCH_STAR);
}

/* Applies one chain step to one value, appending results to out.
 * Returns 0, -1 (memory), -2 (too many), -3 (invalid UTF-8), -4 (wildcard
 * cannot be encoded). */
static int apply_one(enum mod m, const struct match_str *s, struct strvec *out)
{
	struct match_str t = {0};
	int rc = 0;

	switch (m) {
	case MOD_CONTAINS:
	case MOD_STARTSWITH:
	case MOD_ENDSWITH:
		rc = match_str_copy(&t, s);
		if (rc == 0 && m != MOD_STARTSWITH)
			rc = add_star(&t, true);
		if (rc == 0 && m != MOD_ENDSWITH)
			rc = add_star(&t, false);
		break;
	case MOD_BASE64:
		if (match_str_has_wild(s))
			return -4;
		rc = b64_encode(&t, s->b, s->len);
		break;
	case MOD_BASE64OFFSET:
		return match_str_has_wild(s) ? -4 : b64_offsets(out, s);
	case MOD_WINDASH:
		rc = windash_from(out, s, 0, &t);
		match_str_clear(&t);
		return rc;
	case MOD_UTF16LE:
	case MOD_WIDE:
	case MOD_UTF16BE:
	case MOD_UTF16:
		rc = utf16_encode(&t, s, m == MOD_UTF16BE, m == MOD_UTF16);
		break;
	default:
		return push_str(out, s); /* not a value transformation */
	}
	if (rc == 0)
		rc = push_str(out, &t);
	match_str_clear(&t);
	return rc;
}

int xform_apply_chain(const struct chain *ch, struct strvec *vals)
{
	bool pos = false;

	for (size_t k = 0; k < ch->n; k++) {
		enum mod m = ch->mods[k];
		if (!(BIT(m) & (POS_MODS | XFORM_MODS)))
			continue;
		pos = pos || (BIT(m) & POS_MODS);
		struct strvec next = {0};
		for (size_t i = 0; i < vals->n; i++) {
			int rc = apply_one(m, &vals->v[i], &next);
			if (rc < 0) {
				xform_vec_clear(&next);
				return rc;
			}
		}
		xform_vec_clear(vals);
		*vals = next;
	}
	if (ch->keyword && !pos)
		for (size_t i = 0; i < vals->n; i++) {
			struct match_str t = {0};
			struct strvec one = {0};
			if (apply_one(MOD_CONTAINS, &vals->v[i], &one) < 0) {
				xform_vec_clear(&one);
				return -1;
			}
			t = one.v[0];
			free(one.v);
			match_str_clear(&vals->v[i]);
			vals->v[i] = t;
		}
	return 0;
}

/* ---- expand ---- */

const char *const *xform_find_list(const struct rule_lists *l, const char *name,
				   size_t len)
{
	if (l == NULL)
		return NULL;
	for (size_t i = 0; i < l->n_lists; i++)
		if (strlen(l->names[i]) == len &&
		    memcmp(l->names[i], name, len) == 0)
			return (const char *const *)l->values[i];
	return NULL;
}

/* Appends `p` (n bytes) to every raw string in v (as plain bytes). */
static int vec_append_all(struct strvec *v, const char *p, size_t n)
{
	for (size_t i = 0; i < v->n; i++)
		if (match_str_append(&v->v[i], p, n) < 0)
			return -1;
	return 0;
}

static int vec_product(struct strvec *v, const char *const *vals)
{
	struct strvec next = {0};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < v->n; i++)
		for (size_t k = 0; rc == 0 && vals[k] != NULL; k++) {
			rc = push_str(&next, &v->v[i]);
			if (rc == 0)
				rc = match_str_append(&next.v[next.n - 1],
						      vals[k], strlen(vals[k]));
		}
	xform_vec_clear(v);
	*v = next;
	return rc;
}

/* Expands %name% placeholders of raw text into raw texts (stored in
 * match_str.b, wildcards not yet parsed).  Returns 0, -1, -2 (too many) or
 * -5 (unknown list, *bad_name/bad_len set). */
int xform_expand(const struct rule_lists *lists, const char *raw,
		 struct strvec *out, const char **bad, size_t *bad_len)
{
	int rc = xform_vec_add(out) ? 0 : -1;

	for (const char *p = raw; rc == 0 && *p;) {
		const char *end = p[0] == '%' ? strchr(p + 1, '%') : NULL;
		if (p[0] == '\\' && p[1] == '%') {
			rc = vec_append_all(out, "%", 1);
			p += 2;
		} else if (end != NULL && end > p + 1) {
			const char *const *vals = xform_find_list(
			    lists, p + 1, (size_t)(end - p - 1));
			if (vals == NULL) {
				*bad = p + 1;
				*bad_len = (size_t)(end - p - 1);
				return -5;
			}
			rc = vec_product(out, vals);
			p = end + 1;
		} else {
			rc = vec_append_all(out, p, 1);
			p++;
		}
	}
	return rc;
}

const char *xform_error(int rc)
{
	switch (rc) {
	case -2:
		return "too many alternatives (more than 4096)";
	case -3:
		return "value is not valid UTF-8 (needed for utf16 encoding)";
	case -4:
		return "a value with wildcards cannot be encoded; put "
		       "contains/startswith/endswith after the encoding";
	default:
		return "out of memory";
	}
}
