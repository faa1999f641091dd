/*
 * match: compiled Sigma value matchers and their evaluation.  See match.h
 * for the contract.
 *
 * Invariants: a case-insensitive matcher's pattern is already lower-cased
 * (ASCII), so matching folds only the event's bytes.  `?` matches one UTF-8
 * character (one byte when the byte is not a valid lead byte).  String
 * matchers never match a null event value; only MATCH_NULL does.  No clock
 * is read; the time modifiers use the event's own timestamp.
 */
#include "match.h"

#include "strset.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MATCH_MAX_NUM_TEXT 64
#define MATCH_MAX_IP_TEXT 64

static _Thread_local pcre2_match_data *tl_match_data;
/* regex evaluations that ran out of memory (see match_nomem()) */
static _Thread_local uint64_t tl_n_nomem;
/* regex evaluations stopped by a PCRE2 limit (see match_re_limit_hits()) */
static _Thread_local uint64_t tl_n_re_limit;

/* ---- helpers ---- */

static inline unsigned char fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* a (event bytes) equals p (pattern, already folded unless cased).  A
 * plain loop: patterns are short, and a library call costs more. */
static inline bool bytes_eq(const unsigned char *a, const unsigned char *p,
			    size_t n, bool cased)
{
	if (cased) {
		for (size_t i = 0; i < n; i++)
			if (a[i] != p[i])
				return false;
		return true;
	}
	for (size_t i = 0; i < n; i++)
		if (fold(a[i]) != p[i])
			return false;
	return true;
}

/* both sides from the event: fold both unless cased */
static bool bytes_eq2(const unsigned char *a, const unsigned char *b, size_t n,
		      bool cased)
{
	if (cased)
		return memcmp(a, b, n) == 0;
	for (size_t i = 0; i < n; i++)
		if (fold(a[i]) != fold(b[i]))
			return false;
	return true;
}

static bool ci_contains(const unsigned char *h, size_t n,
			const unsigned char *p, size_t m, bool fold_p)
{
	if (m == 0)
		return true;
	if (m > n)
		return false;
	unsigned char first = fold_p ? fold(p[0]) : p[0];
	bool letter = first >= 'a' && first <= 'z';
	for (size_t i = 0; i + m <= n; i++) {
		if (!letter) {
			const unsigned char *q =
			    memchr(h + i, first, n - m + 1 - i);
			if (q == NULL)
				return false;
			i = (size_t)(q - h);
		} else if (fold(h[i]) != first) {
			continue;
		}
		bool ok = fold_p ? bytes_eq2(h + i + 1, p + 1, m - 1, false)
				 : bytes_eq(h + i + 1, p + 1, m - 1, false);
		if (ok)
			return true;
	}
	return false;
}

static bool contains(const unsigned char *h, size_t n, const unsigned char *p,
		     size_t m, bool cased)
{
	if (cased)
		return m == 0 || memmem(h, n, p, m) != NULL;
	return ci_contains(h, n, p, m, false);
}

static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t l = 1;

	if (s[0] >= 0xf0 && s[0] <= 0xf4)
		l = 4;
	else if (s[0] >= 0xe0)
		l = 3;
	else if (s[0] >= 0xc2 && s[0] <= 0xdf)
		l = 2;
	if (l > n)
		return 1;
	for (size_t i = 1; i < l; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	return l;
}

/* Iterative wildcard match with backtracking to the last star: O(n*m). */
static bool glob_match(const struct matcher *m, const unsigned char *v,
		       size_t n)
{
	const unsigned char *p = m->pat, *w = m->wild;
	size_t plen = m->pat_len, pi = 0, si = 0;
	size_t star_p = (size_t)-1, star_s = 0;

	while (si < n) {
		if (pi < plen && w[pi] == MATCH_STAR) {
			star_p = ++pi;
			star_s = si;
		} else if (pi < plen && w[pi] == MATCH_QMARK) {
			pi++;
			si += utf8_len(v + si, n - si);
		} else if (pi < plen &&
			   (m->cased ? v[si] : fold(v[si])) == p[pi]) {
			pi++;
			si++;
		} else if (star_p != (size_t)-1) {
			pi = star_p;
			star_s += utf8_len(v + star_s, n - star_s);
			si = star_s;
		} else {
			return false;
		}
	}
	while (pi < plen && w[pi] == MATCH_STAR)
		pi++;
	return pi == plen;
}

bool match_parse_number(const char *s, size_t len, double *out)
{
	char buf[MATCH_MAX_NUM_TEXT];
	size_t i = 0, digits = 0;

	if (len == 0 || len >= sizeof(buf))
		return false;
	if (s[i] == '-' || s[i] == '+')
		i++;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < len && s[i] == '.')
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t e0;
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		for (e0 = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == e0)
			return false;
	}
	if (i != len)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*out = strtod(buf, NULL);
	return true;
}

/* ---- compilation ---- */

static struct matcher *new_alt(struct match_field *mf)
{
	if (mf->n_alts == mf->cap_alts) {
		size_t cap = mf->cap_alts ? mf->cap_alts * 2 : 4;
		struct matcher *a = realloc(mf->alts, cap * sizeof(*a));
		if (a == NULL)
			return NULL;
		mf->alts = a;
		mf->cap_alts = cap;
	}
	struct matcher *m = &mf->alts[mf->n_alts];
	memset(m, 0, sizeof(*m));
	m->ref_id = -1;
	return m;
}

/* Printable rendering of a Sigma string for dumps: wildcards as * and ?,
 * literal * ? \ escaped, other non-printable bytes as \xNN. */
static char *render(const unsigned char *b, const unsigned char *w, size_t len)
{
	char *out = malloc(len * 4 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		bool plain = w == NULL || w[i] == MATCH_PLAIN;
		if (plain && (b[i] == '*' || b[i] == '?' || b[i] == '\\')) {
			*o++ = '\\';
			*o++ = (char)b[i];
		} else if (b[i] < 0x20 || b[i] == 0x7f || b[i] == '"') {
			o += sprintf(o, "\\x%02x", b[i]);
		} else {
			*o++ = (char)b[i];
		}
	}
	*o = '\0';
	return out;
}

/* Selects the cheapest kind for s: strips leading and trailing star runs
 * and looks at what is left. */
static enum match_kind string_kind(const struct match_str *s, size_t *from,
				   size_t *to)
{
	size_t a = 0, z = s->len;

	while (a < z && s->w[a] == MATCH_STAR)
		a++;
	while (z > a && s->w[z - 1] == MATCH_STAR)
		z--;
	*from = a;
	*to = z;
	for (size_t i = a; i < z; i++)
		if (s->w[i] != MATCH_PLAIN)
			return MATCH_GLOB;
	if (a == z)
		return s->len == 0 ? MATCH_EXACT : MATCH_ANY;
	if (a > 0 && z < s->len)
		return MATCH_CONTAINS;
	if (a > 0)
		return MATCH_SUFFIX;
	if (z < s->len)
		return MATCH_PREFIX;
	return MATCH_EXACT;
}

int match_add_string(struct match_field *mf, const struct match_str *s,
		     bool cased)
{
	struct matcher *m = new_alt(mf);
	size_t from, to;

	if (m == NULL)
		return -1;
	m->kind = (uint8_t)string_kind(s, &from, &to);
	m->cased = cased;
	if (m->kind == MATCH_GLOB) {
		from = 0;
		to = s->len;
		m->wild = malloc(to + 1);
		if (m->wild == NULL)
			return -1;
		memcpy(m->wild, s->w, to);
	}
	m->pat_len = to - from;
	m->pat = malloc(m->pat_len + 1);
	m->src = render(s->b, s->w, s->len);
	if (m->pat == NULL || m->src == NULL) {
		free(m->wild);
		free(m->pat);
		free(m->src);
		return -1;
	}
	for (size_t i = 0; i < m->pat_len; i++)
		m->pat[i] = cased ? s->b[from + i] : fold(s->b[from + i]);
	m->pat[m->pat_len] = '\0';
	mf->n_alts++;
	return 0;
}

int match_add_set(struct match_field *mf, struct strset *set, const char *src,
		  bool cased)
{
	struct matcher *m = new_alt(mf);

	if (m == NULL || (m->src = strdup(src)) == NULL) {
		strset_free(set);
		return -1;
	}
	m->kind = MATCH_SET;
	m->cased = cased;
	m->set = set;
	mf->n_alts++;
	return 0;
}

int match_add_regex(struct match_field *mf, const char *pattern, uint32_t flags,
		    char *err, size_t err_size)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile(
	    (PCRE2_SPTR)pattern, strlen(pattern),
	    flags | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);

	if (re == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, err_size,
			 "bad regular expression at offset %zu: %s",
			 (size_t)off, (const char *)msg);
		return -1;
	}
	pcre2_match_context *mctx = pcre2_match_context_create(NULL);
	struct matcher *m = mctx ? new_alt(mf) : NULL;
	char *src = strdup(pattern);
	if (m == NULL || src == NULL) {
		pcre2_code_free(re);
		pcre2_match_context_free(mctx);
		free(src);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	pcre2_set_match_limit(mctx, MATCH_RE_MATCH_LIMIT);
	pcre2_set_depth_limit(mctx, MATCH_RE_DEPTH_LIMIT);
	m->kind = MATCH_RE;
	m->re = re;
	m->re_mctx = mctx;
	m->src = src;
	m->num = flags;
	m->jit = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
	mf->n_alts++;
	return 0;
}

/* Parses an address into 16 bytes; v4 (and v4-mapped v6) -> family 4. */
static int parse_ip(const char *s, size_t len, unsigned char addr[16],
		    uint8_t *family)
{
	char buf[MATCH_MAX_IP_TEXT];
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return -1;
	*family = 6;
	if (memcmp(addr, mapped, 12) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = 4;
	}
	return 0;
}

static bool prefix_eq(const unsigned char *a, const unsigned char *b,
		      unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	for (unsigned i = 0; i < full; i++)
		if (a[i] != b[i])
			return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

int match_add_cidr(struct match_field *mf, const char *text, char *err,
		   size_t err_size)
{
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned char addr[16];
	uint8_t family;
	long bits;

	if (parse_ip(text, alen, addr, &family) < 0 ||
	    (strchr(text, ':') != NULL && family == 4)) {
		snprintf(err, err_size, "bad CIDR '%s': not an IP address",
			 text);
		return -1;
	}
	bits = family == 4 ? 32 : 128;
	if (slash != NULL) {
		char *end;
		long b = strtol(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || b < 0 ||
		    b > bits) {
			snprintf(err, err_size,
				 "bad CIDR '%s': bad prefix length", text);
			return -1;
		}
		bits = b;
	}
	struct matcher *m = new_alt(mf);
	if (m == NULL || (m->src = strdup(text)) == NULL) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	m->kind = MATCH_CIDR;
	m->family = family;
	m->prefix = (uint8_t)bits;
	memcpy(m->addr, addr, 16);
	mf->n_alts++;
	return 0;
}

int match_add_number(struct match_field *mf, const char *text, enum match_op op,
		     char *err, size_t err_size)
{
	double v;

	if (!match_parse_number(text, strlen(text), &v)) {
		snprintf(err, err_size, "'%s' is not a number", text);
		return -1;
	}
	struct matcher *m = new_alt(mf);
	if (m == NULL || (m->src = strdup(text)) == NULL) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	m->kind = MATCH_NUM;
	m->op = (uint8_t)op;
	m->num = v;
	mf->n_alts++;
	return 0;
}

int match_add_fieldref(struct match_field *mf, int32_t ref_id,
		       const char *ref_name, enum match_kind pos, bool cased)
{
	struct matcher *m = new_alt(mf);

	if (m == NULL || (m->src = strdup(ref_name)) == NULL)
		return -1;
	m->kind = MATCH_FIELDREF;
	m->ref_id = ref_id;
	m->pos = (uint8_t)pos;
	m->cased = cased;
	mf->n_alts++;
	return 0;
}

int match_add_null(struct match_field *mf)
{
	struct matcher *m = new_alt(mf);

	if (m == NULL)
		return -1;
	m->kind = MATCH_NULL;
	mf->has_null = true;
	mf->n_alts++;
	return 0;
}

void match_field_clear(struct match_field *mf)
{
	if (mf == NULL)
		return;
	for (size_t i = 0; i < mf->n_alts; i++) {
		struct matcher *m = &mf->alts[i];
		free(m->pat);
		free(m->wild);
		free(m->src);
		pcre2_code_free(m->re);
		pcre2_match_context_free(m->re_mctx);
		strset_free(m->set);
	}
	free(mf->alts);
	free(mf->name);
	free(mf->mods);
	memset(mf, 0, sizeof(*mf));
}

uint64_t match_nomem(void)
{
	return tl_n_nomem;
}

void match_thread_release(void)
{
	pcre2_match_data_free(tl_match_data);
	tl_match_data = NULL;
}

/* ---- evaluation ---- */

static const struct event_field *next_elem(const struct event *ev,
					   const struct event_field *f)
{
	if (f->next_same < 0 || (size_t)f->next_same >= ev->n_fields)
		return NULL;
	const struct event_field *n = &ev->fields[f->next_same];
	return n > f ? n : NULL; /* elements only go forward: no cycles */
}

static bool re_match(const struct matcher *m, const unsigned char *v, size_t n)
{
	int rc;

	if (tl_match_data == NULL) {
		tl_match_data = pcre2_match_data_create(1, NULL);
		if (tl_match_data == NULL) {
			tl_n_nomem++;
			return false;
		}
	}
	if (m->jit)
		rc = pcre2_jit_match(m->re, v, n, 0, 0, tl_match_data,
				     m->re_mctx);
	else
		rc = pcre2_match(m->re, v, n, 0, 0, tl_match_data, m->re_mctx);
	if (rc == PCRE2_ERROR_NOMEMORY)
		tl_n_nomem++;
	else if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
		 rc == PCRE2_ERROR_HEAPLIMIT)
		tl_n_re_limit++;
	return rc >= 0;
}

static bool num_cmp(double v, const struct matcher *m)
{
	switch (m->op) {
	case MATCH_OP_LT:
		return v < m->num;
	case MATCH_OP_LTE:
		return v <= m->num;
	case MATCH_OP_GT:
		return v > m->num;
	case MATCH_OP_GTE:
		return v >= m->num;
	default:
		return v == m->num;
	}
}

/* The last address text parsed by this thread and its result: an event's
 * address is usually tested by several CIDR rules in a row, and parsing it
 * (inet_pton) costs more than comparing the text. */
static _Thread_local struct {
	char text[MATCH_MAX_IP_TEXT];
	size_t len; /* 0: empty */
	int rc;
	unsigned char addr[16];
	uint8_t family;
} tl_ip;

/* Kept out of line: inlined, it makes every plain item pay for its
 * registers. */
static __attribute__((noinline)) bool
cidr_match(const struct matcher *m, const unsigned char *v, size_t n)
{
	const char *s = (const char *)v;
	unsigned char addr[16];
	uint8_t family;

	if (n == 0 || n >= sizeof(tl_ip.text)) {
		if (parse_ip(s, n, addr, &family) < 0)
			return false;
		return family == m->family &&
		       prefix_eq(addr, m->addr, m->prefix);
	}
	if (n != tl_ip.len || memcmp(s, tl_ip.text, n) != 0) {
		tl_ip.rc = parse_ip(s, n, tl_ip.addr, &tl_ip.family);
		memcpy(tl_ip.text, s, n);
		tl_ip.len = n;
	}
	return tl_ip.rc == 0 && tl_ip.family == m->family &&
	       prefix_eq(tl_ip.addr, m->addr, m->prefix);
}

static bool pos_match(uint8_t pos, const unsigned char *v, size_t n,
		      const unsigned char *p, size_t m, bool cased)
{
	switch (pos) {
	case MATCH_PREFIX:
		return n >= m && bytes_eq2(v, p, m, cased);
	case MATCH_SUFFIX:
		return n >= m && bytes_eq2(v + n - m, p, m, cased);
	case MATCH_CONTAINS:
		if (cased)
			return m == 0 || memmem(v, n, p, m) != NULL;
		return ci_contains(v, n, p, m, true);
	default:
		return n == m && bytes_eq2(v, p, m, cased);
	}
}

static bool fieldref_match(const struct matcher *m, const struct event_field *f,
			   const struct event *ev)
{
	const struct event_field *r = event_get(ev, m->ref_id);

	for (; r != NULL; r = next_elem(ev, r)) {
		if (r->kind == VALUE_NULL)
			continue;
		if (pos_match(m->pos, (const unsigned char *)f->value,
			      f->value_len, (const unsigned char *)r->value,
			      r->value_len, m->cased))
			return true;
	}
	return false;
}

static bool string_match(const struct matcher *m, const unsigned char *v,
			 size_t n)
{
	switch (m->kind) {
	case MATCH_EXACT:
		return n == m->pat_len && bytes_eq(v, m->pat, n, m->cased);
	case MATCH_PREFIX:
		return n >= m->pat_len &&
		       bytes_eq(v, m->pat, m->pat_len, m->cased);
	case MATCH_SUFFIX:
		return n >= m->pat_len && bytes_eq(v + n - m->pat_len, m->pat,
						   m->pat_len, m->cased);
	case MATCH_CONTAINS:
		return contains(v, n, m->pat, m->pat_len, m->cased);
	case MATCH_GLOB:
		return glob_match(m, v, n);
	case MATCH_ANY:
		return true;
	case MATCH_SET:
		return strset_has(m->set, (const char *)v, n);
	default:
		return false;
	}
}

/* Time part of one element, or -1 when it carries no timestamp. */
static long elem_time(const struct match_field *mf, const struct event_field *f,
		      const struct event *ev)
{
	int64_t ms;

	if (mf->id == FIELD_TS)
		ms = ev->ts_ms;
	else if (match_parse_rfc3339(f->value, f->value_len, &ms) < 0)
		return -1;
	return match_time_part(ms, (enum match_time)mf->time_part);
}

static bool value_match(const struct match_field *mf, const struct matcher *m,
			const struct event_field *f, const struct event *ev)
{
	const unsigned char *v = (const unsigned char *)f->value;
	double num;

	if (f->kind == VALUE_NULL)
		return false;
	if (mf->time_part != MATCH_TIME_NONE) {
		long t = elem_time(mf, f, ev);
		return t >= 0 && m->kind == MATCH_NUM && num_cmp((double)t, m);
	}
	switch (m->kind) {
	case MATCH_RE:
		return re_match(m, v, f->value_len);
	case MATCH_CIDR:
		return cidr_match(m, v, f->value_len);
	case MATCH_NUM:
		return match_parse_number(f->value, f->value_len, &num) &&
		       num_cmp(num, m);
	case MATCH_FIELDREF:
		return fieldref_match(m, f, ev);
	default:
		return string_match(m, v, f->value_len);
	}
}

static bool alt_match(const struct match_field *mf, const struct matcher *m,
		      const struct event *ev)
{
	if (mf->id < 0) {
		/* keyword: any string value of the event */
		for (size_t i = 0; i < ev->n_fields; i++)
			if (ev->fields[i].kind == VALUE_STRING &&
			    value_match(mf, m, &ev->fields[i], ev))
				return true;
		return false;
	}
	const struct event_field *f = event_get(ev, mf->id);
	if (m->kind == MATCH_NULL) {
		if (f == NULL)
			return true;
		for (; f != NULL; f = next_elem(ev, f))
			if (f->kind == VALUE_NULL)
				return true;
		return false;
	}
	for (; f != NULL; f = next_elem(ev, f))
		if (value_match(mf, m, f, ev))
			return true;
	return false;
}

/* One alternative against one non-null element, the plain kinds inline. */
static inline bool elem_match(const struct match_field *mf,
			      const struct matcher *m,
			      const struct event_field *f,
			      const struct event *ev)
{
	const unsigned char *v = (const unsigned char *)f->value;
	size_t n = f->value_len, p = m->pat_len;

	switch (m->kind) {
	case MATCH_EXACT:
		return n == p && bytes_eq(v, m->pat, n, m->cased);
	case MATCH_PREFIX:
		return n >= p && bytes_eq(v, m->pat, p, m->cased);
	case MATCH_SUFFIX:
		return n >= p && bytes_eq(v + n - p, m->pat, p, m->cased);
	case MATCH_CIDR:
		return cidr_match(m, v, n);
	case MATCH_NULL:
		return false; /* handled by the caller */
	default:
		return value_match(mf, m, f, ev);
	}
}

/* The common item: a field (not keywords), any alternative, no time part.
 * Walks the field's elements once and tries every alternative on each,
 * which gives the same result as alternative by alternative since
 * matching has no side effects on the outcome. */
static bool any_alt_match(const struct match_field *mf, const struct event *ev)
{
	const struct event_field *f = event_get(ev, mf->id);

	if (f == NULL)
		return mf->has_null;
	for (; f != NULL; f = next_elem(ev, f)) {
		if (f->kind == VALUE_NULL) {
			if (mf->has_null)
				return true;
			continue;
		}
		for (size_t i = 0; i < mf->n_alts; i++)
			if (elem_match(mf, &mf->alts[i], f, ev))
				return true;
	}
	return false;
}

bool match_field_eval(const struct match_field *mf, const struct event *ev)
{
	bool r;

	if (mf->exists)
		return (event_get(ev, mf->id) != NULL) == mf->exists_want;
	if (mf->n_alts == 0)
		return mf->neq;
	if (!mf->all && mf->id >= 0 && mf->time_part == MATCH_TIME_NONE) {
		r = any_alt_match(mf, ev);
		return mf->neq ? !r : r;
	}
	r = mf->all;
	for (size_t i = 0; i < mf->n_alts; i++) {
		bool hit = alt_match(mf, &mf->alts[i], ev);
		if (hit != mf->all) {
			r = hit;
			break;
		}
	}
	return mf->neq ? !r : r;
}

uint64_t match_re_limit_hits(void)
{
	return tl_n_re_limit;
}
