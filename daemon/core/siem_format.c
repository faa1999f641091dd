/*
 * siem_format: alert -> RFC 5424 / CEF / LEEF 2.0 / JSON record (contract
 * and escaping rules in siem_format.h).
 *
 * The alert is serialized once (alert_to_json) and parsed back with jansson
 * (JSON_ALLOW_NUL: lengths are explicit everywhere), so the structured
 * fields are the JSON's values, pseudonymisation is a walk over the tree,
 * and a record never depends on how a sink got the alert.  Records are
 * built in a small growable buffer (struct sb) whose first allocation
 * failure is sticky.  No clock, no I/O.
 */
#include "siem_format.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

#define SIEM_MAX_BYTES (64u * 1024 * 1024)
#define SIEM_PSEUDO_IDS_MAX 4096 /* distinct customer ids in one alert */

static const char *const format_names[] = {"json", "rfc5424", "cef", "leef"};

/* ---- a growable string ---- */

struct sb {
	char *buf;
	size_t len, cap;
	size_t mark; /* where the CEF extension / LEEF attributes start */
	bool failed;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = cap > SIEM_MAX_BYTES ? NULL : realloc(b->buf, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_printf(struct sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sb *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(b, tmp,
		       (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* ---- escaping ---- */

enum esc_mode {
	ESC_SD,	      /* RFC 5424 PARAM-VALUE */
	ESC_CEF_HDR,  /* CEF header field */
	ESC_CEF_EXT,  /* CEF extension value */
	ESC_LEEF_HDR, /* LEEF header field */
	ESC_LEEF_VAL, /* LEEF attribute value */
};

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/* Length of a character that must not appear raw in a structured value at
 * s (C0, DEL, C1 U+0080..U+009F, U+2028, U+2029), else 0. */
static size_t control_len(const unsigned char *s, size_t left)
{
	if (s[0] < 0x20 || s[0] == 0x7f)
		return 1;
	if (left >= 2 && s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	if (left >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] == 0xa8 || s[2] == 0xa9))
		return 3;
	return 0;
}

static bool needs_backslash(enum esc_mode m, char c)
{
	switch (m) {
	case ESC_SD:
		return c == '"' || c == '\\' || c == ']';
	case ESC_CEF_HDR:
		return c == '|' || c == '\\';
	case ESC_CEF_EXT:
		return c == '=' || c == '\\';
	default:
		return false;
	}
}

static void sb_escaped(struct sb *b, const char *s, size_t n, enum esc_mode m)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = 0;

	for (size_t i = 0; i < n;) {
		size_t cl = control_len(u + i, n - i);
		bool bs = cl == 0 && needs_backslash(m, s[i]);
		bool bar = cl == 0 && m == ESC_LEEF_HDR && s[i] == '|';
		if (cl == 0 && !bs && !bar) {
			i++;
			continue;
		}
		sb_add(b, s + start, i - start);
		if (bs) {
			sb_add(b, "\\", 1);
			sb_add(b, s + i, 1);
		} else if (m == ESC_CEF_EXT && s[i] == '\n')
			sb_str(b, "\\n");
		else if (m == ESC_CEF_EXT && s[i] == '\r')
			sb_str(b, "\\r");
		else
			sb_str(b, REPLACEMENT);
		i += cl ? cl : 1;
		start = i;
	}
	sb_add(b, s + start, n - start);
}

/* RFC 5424 header field: PRINTUSASCII, at most max, "-" when empty. */
static void sb_header_field(struct sb *b, const char *s, size_t n, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; s != NULL && i < n && k < max; i++, k++) {
		char c = s[i] > 32 && s[i] < 127 ? s[i] : '_';
		sb_add(b, &c, 1);
	}
	if (k == 0)
		sb_add(b, "-", 1);
}

/* ---- fields ---- */

struct text {
	const char *s; /* NULL: absent */
	size_t len;
};

struct fields {
	struct text id, rule, title, level, ts, agent, customer, action;
	char value[40];
	unsigned long long count;
	int level_index;
};

static struct text str_of(const json_t *v)
{
	if (json_is_string(v))
		return (struct text){json_string_value(v),
				     json_string_length(v)};
	return (struct text){NULL, 0};
}

/* A canonical field from the group (correlations) or else the event. */
static struct text pick(const json_t *root, const char *name, char *num,
			size_t num_size)
{
	const json_t *v = json_object_get(json_object_get(root, "group"), name);

	if (v == NULL)
		v = json_object_get(json_object_get(root, "event"), name);
	if (json_is_integer(v)) {
		int n = snprintf(num, num_size, "%" JSON_INTEGER_FORMAT,
				 json_integer_value(v));
		return (struct text){num, (size_t)n};
	}
	return str_of(v);
}

static void fields_fill(struct fields *f, const json_t *root,
			const struct alert *a, char nums[3][32])
{
	struct jsonw w;

	memset(f, 0, sizeof(*f));
	f->id = str_of(json_object_get(root, "id"));
	f->rule = str_of(json_object_get(root, "rule_id"));
	f->title = str_of(json_object_get(root, "rule_title"));
	f->level = str_of(json_object_get(root, "level"));
	f->ts = str_of(json_object_get(root, "ts"));
	f->agent = pick(root, "agent", nums[0], 32);
	f->customer = pick(root, "customer", nums[1], 32);
	f->action = pick(root, "action", nums[2], 32);
	f->count = (unsigned long long)json_integer_value(
	    json_object_get(json_object_get(root, "evidence"), "count"));
	jsonw_init(&w, sizeof(f->value));
	jsonw_double(&w, a->value);
	snprintf(f->value, sizeof(f->value), "%s",
		 jsonw_str(&w) ? jsonw_str(&w) : "null");
	jsonw_clear(&w);
	enum rule_level lv = LEVEL_MEDIUM;
	if (f->level.s != NULL)
		rule_level_parse(f->level.s, &lv);
	f->level_index =
	    (int)lv >= 0 && lv <= LEVEL_CRITICAL ? (int)lv : LEVEL_MEDIUM;
}

/* ---- pseudonymisation ---- */

int siem_pseudonymize(const unsigned char *key, size_t key_len, const char *id,
		      size_t len, char out[SIEM_PSEUDO_LEN + 1])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	out[0] = '\0';
	if (HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)id,
		 len, mac, &mac_len) == NULL ||
	    mac_len < 8)
		return -1;
	memcpy(out, "cust_", 5);
	for (int i = 0; i < 8; i++)
		snprintf(out + 5 + 2 * i, 3, "%02x", mac[i]);
	return 0;
}

/* The real customer ids of one alert, longest first, with their
 * pseudonyms: every `customer` value (string, integer, or array of them)
 * of the group, the event and the evidence sample. */
struct pseudo_ids {
	struct text *id; /* owned copies */
	char (*out)[SIEM_PSEUDO_LEN + 1];
	size_t n, cap;
	bool first[256]; /* some id starts with this byte */
};

static void pseudo_ids_clear(struct pseudo_ids *p)
{
	for (size_t i = 0; i < p->n; i++)
		free((char *)p->id[i].s);
	free(p->id);
	free(p->out);
}

/* The text of a string or integer value into num; .s NULL otherwise. */
static struct text value_text(const json_t *v, char *num, size_t num_size)
{
	if (json_is_integer(v)) {
		int n = snprintf(num, num_size, "%" JSON_INTEGER_FORMAT,
				 json_integer_value(v));
		return (struct text){num, (size_t)n};
	}
	return str_of(v);
}

static int pseudo_ids_add(struct pseudo_ids *p, const json_t *v,
			  const struct siem_opts *o)
{
	char num[32];
	struct text t = value_text(v, num, sizeof(num));

	if (t.s == NULL || t.len == 0)
		return 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->id[i].len == t.len &&
		    memcmp(p->id[i].s, t.s, t.len) == 0)
			return 0;
	if (p->n == p->cap) {
		if (p->cap >= SIEM_PSEUDO_IDS_MAX)
			return -1; /* refuse the record rather than leak */
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct text *id = realloc(p->id, cap * sizeof(*id));
		if (id != NULL)
			p->id = id;
		char(*out)[SIEM_PSEUDO_LEN + 1] =
		    id ? realloc(p->out, cap * sizeof(*out)) : NULL;
		if (out == NULL)
			return -1;
		p->out = out;
		p->cap = cap;
	}
	char *copy = malloc(t.len + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, t.s, t.len);
	copy[t.len] = '\0';
	p->id[p->n] = (struct text){copy, t.len};
	if (siem_pseudonymize(o->pseudo_key, o->pseudo_key_len, copy, t.len,
			      p->out[p->n++]) < 0)
		return -1;
	p->first[(unsigned char)copy[0]] = true;
	return 0;
}

/* Adds obj's "customer" value(s). */
static int pseudo_ids_member(struct pseudo_ids *p, const json_t *obj,
			     const struct siem_opts *o)
{
	const json_t *v = json_object_get(obj, "customer"), *e;
	size_t i;
	int rc = 0;

	if (!json_is_array(v))
		return pseudo_ids_add(p, v, o);
	json_array_foreach(v, i, e) rc |= pseudo_ids_add(p, e, o);
	return rc;
}

/* Longest first, so that an id never shadows a longer one it prefixes. */
static void pseudo_ids_sort(struct pseudo_ids *p)
{
	for (size_t i = 1; i < p->n; i++)
		for (size_t j = i; j > 0 && p->id[j].len > p->id[j - 1].len;
		     j--) {
			struct text t = p->id[j];
			char out[SIEM_PSEUDO_LEN + 1];
			p->id[j] = p->id[j - 1];
			p->id[j - 1] = t;
			memcpy(out, p->out[j], sizeof(out));
			memcpy(p->out[j], p->out[j - 1], sizeof(out));
			memcpy(p->out[j - 1], out, sizeof(out));
		}
}

/* The id at s (whole value when shorter than SIEM_PSEUDO_MIN_SUBSTR), or
 * -1. */
static long pseudo_match(const struct pseudo_ids *p, const char *s, size_t left,
			 bool whole)
{
	if (!p->first[(unsigned char)s[0]])
		return -1;
	for (size_t i = 0; i < p->n; i++) {
		size_t n = p->id[i].len;
		if (n <= left && memcmp(s, p->id[i].s, n) == 0 &&
		    ((whole && n == left) || n >= SIEM_PSEUDO_MIN_SUBSTR))
			return (long)i;
	}
	return -1;
}

/* The text t with every id in it replaced by its pseudonym (one pass,
 * left to right), as a new JSON string; NULL when nothing matched or on
 * failure (*failed). */
static json_t *pseudo_text(const struct pseudo_ids *p, struct text t,
			   bool whole_only, bool *failed)
{
	struct sb b = {0};
	size_t start = 0;

	for (size_t i = 0; i < t.len && (i == 0 || !whole_only);) {
		long k = pseudo_match(p, t.s + i, t.len - i, i == 0);
		if (k >= 0 && whole_only && p->id[k].len != t.len)
			k = -1;
		if (k < 0) {
			i++;
			continue;
		}
		sb_add(&b, t.s + start, i - start);
		sb_str(&b, p->out[k]);
		i += p->id[k].len;
		start = i;
	}
	if (b.buf == NULL && !b.failed)
		return NULL;
	sb_add(&b, t.s + start, t.len - start);
	json_t *s = b.failed ? NULL : json_stringn(b.buf, b.len);
	free(b.buf);
	*failed |= s == NULL;
	return s;
}

/* The replacement for a string or integer e (integers: only a whole
 * match), or NULL. */
static json_t *pseudo_value(const struct pseudo_ids *p, const json_t *e,
			    bool *failed)
{
	char num[32];

	if (!json_is_string(e) && !json_is_integer(e))
		return NULL;
	return pseudo_text(p, value_text(e, num, sizeof(num)),
			   json_is_integer(e), failed);
}

/* Rewrites every string and integer under v, except the alert `id` (top)
 * and the RFC 3339 `ts` members that custos writes itself. */
static void pseudo_walk(const struct pseudo_ids *p, json_t *v, bool top,
			bool *failed)
{
	const char *key;
	json_t *e, *r, *tmp;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach_safe(v, tmp, key, e)
		{
			if (strcmp(key, "ts") == 0 ||
			    (top && strcmp(key, "id") == 0))
				continue;
			if ((r = pseudo_value(p, e, failed)) != NULL)
				*failed |= json_object_set_new(v, key, r) < 0;
			else
				pseudo_walk(p, e, false, failed);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
		{
			if ((r = pseudo_value(p, e, failed)) != NULL)
				*failed |= json_array_set_new(v, i, r) < 0;
			else
				pseudo_walk(p, e, false, failed);
		}
	}
}

static int pseudonymize_tree(json_t *root, const struct siem_opts *o)
{
	json_t *sample =
	    json_object_get(json_object_get(root, "evidence"), "sample");
	struct pseudo_ids p = {0};
	bool failed = false;
	size_t i;
	json_t *ev;
	int rc = 0;

	rc |= pseudo_ids_member(&p, json_object_get(root, "group"), o);
	rc |= pseudo_ids_member(&p, json_object_get(root, "event"), o);
	json_array_foreach(sample, i, ev) rc |= pseudo_ids_member(&p, ev, o);
	if (rc == 0 && p.n > 0) {
		pseudo_ids_sort(&p);
		pseudo_walk(&p, root, true, &failed);
	}
	pseudo_ids_clear(&p);
	return rc < 0 || failed ? -1 : 0;
}

/* ---- records ---- */

static void sd_param(struct sb *b, const char *name, struct text t)
{
	if (t.s == NULL)
		return;
	sb_printf(b, " %s=\"", name);
	sb_escaped(b, t.s, t.len, ESC_SD);
	sb_add(b, "\"", 1);
}

/* "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID" */
static void header5424(struct sb *b, const struct fields *f,
		       const struct siem_opts *o, int64_t ts_ms)
{
	int pri = (o->facility & 0x1f) * 8 + (o->severity[f->level_index] & 7);
	const char *app = o->app_name ? o->app_name : "custos";

	sb_printf(b, "<%d>1 ", pri);
	/* 0000-01-01 .. 9999-12-31: a four-digit FULL-DATE */
	if (ts_ms >= 0 && ts_ms <= 253402300799999LL && f->ts.s != NULL)
		sb_header_field(b, f->ts.s, f->ts.len, 64);
	else
		sb_add(b, "-", 1);
	sb_add(b, " ", 1);
	sb_header_field(b, o->hostname, o->hostname ? strlen(o->hostname) : 0,
			SIEM_HOSTNAME_MAX);
	sb_add(b, " ", 1);
	sb_header_field(b, app, strlen(app), 48);
	if (o->procid > 0)
		sb_printf(b, " %ld ", o->procid);
	else
		sb_str(b, " - ");
	sb_header_field(b, f->rule.s, f->rule.len, SIEM_MSGID_MAX);
}

static void rfc5424(struct sb *b, const struct fields *f, const char *msg,
		    const struct siem_opts *o, int64_t ts_ms)
{
	header5424(b, f, o, ts_ms);
	sb_str(b, " [" SIEM_SD_ID);
	sd_param(b, "id", f->id);
	sd_param(b, "rule", f->rule);
	sd_param(b, "level", f->level);
	sd_param(b, "agent", f->agent);
	sd_param(b, "customer", f->customer);
	sd_param(b, "value", (struct text){f->value, strlen(f->value)});
	sb_str(b, "] ");
	sb_str(b, msg);
}

static void cef_ext(struct sb *b, const char *key, struct text t)
{
	if (t.s == NULL)
		return;
	if (b->len != b->mark)
		sb_add(b, " ", 1);
	sb_str(b, key);
	sb_add(b, "=", 1);
	sb_escaped(b, t.s, t.len, ESC_CEF_EXT);
}

static struct text lit(const char *s)
{
	return (struct text){s, strlen(s)};
}

static void cef(struct sb *b, const struct fields *f, const struct siem_opts *o,
		int64_t ts_ms)
{
	static const int sev[] = {1, 3, 5, 8, 10};
	char num[2][32];

	sb_str(b, "CEF:0|custos|custos|");
	sb_escaped(b, o->version, strlen(o->version), ESC_CEF_HDR);
	sb_add(b, "|", 1);
	sb_escaped(b, f->rule.s ? f->rule.s : "", f->rule.len, ESC_CEF_HDR);
	sb_add(b, "|", 1);
	sb_escaped(b, f->title.s ? f->title.s : "", f->title.len, ESC_CEF_HDR);
	sb_printf(b, "|%d|", sev[f->level_index]);
	b->mark = b->len; /* where the extension starts */
	snprintf(num[0], sizeof(num[0]), "%lld", (long long)ts_ms);
	snprintf(num[1], sizeof(num[1]), "%llu", f->count);
	cef_ext(b, "externalId", f->id);
	cef_ext(b, "rt", lit(num[0]));
	cef_ext(b, "cs1Label", lit("ruleId"));
	cef_ext(b, "cs1", f->rule);
	cef_ext(b, "cs2Label", lit("level"));
	cef_ext(b, "cs2", f->level);
	cef_ext(b, "cs3Label", lit("value"));
	cef_ext(b, "cs3", lit(f->value));
	cef_ext(b, "suser", f->agent);
	cef_ext(b, "duser", f->customer);
	cef_ext(b, "act", f->action);
	cef_ext(b, "cnt", lit(num[1]));
	cef_ext(b, "msg", f->title);
}

static void leef_attr(struct sb *b, const char *key, struct text t)
{
	if (t.s == NULL)
		return;
	if (b->len != b->mark)
		sb_add(b, "\t", 1);
	sb_str(b, key);
	sb_add(b, "=", 1);
	sb_escaped(b, t.s, t.len, ESC_LEEF_VAL);
}

static void leef(struct sb *b, const struct fields *f,
		 const struct siem_opts *o)
{
	static const int sev[] = {1, 3, 5, 8, 10};
	char num[2][32];

	sb_str(b, "LEEF:2.0|custos|custos|");
	sb_escaped(b, o->version, strlen(o->version), ESC_LEEF_HDR);
	sb_add(b, "|", 1);
	sb_escaped(b, f->rule.s ? f->rule.s : "", f->rule.len, ESC_LEEF_HDR);
	sb_str(b, "|x09|");
	b->mark = b->len;
	snprintf(num[0], sizeof(num[0]), "%d", sev[f->level_index]);
	snprintf(num[1], sizeof(num[1]), "%llu", f->count);
	leef_attr(b, "alertId", f->id);
	leef_attr(b, "devTime", f->ts);
	leef_attr(b, "devTimeFormat", lit("yyyy-MM-dd'T'HH:mm:ss.SSSX"));
	leef_attr(b, "ruleId", f->rule);
	leef_attr(b, "ruleTitle", f->title);
	leef_attr(b, "cat", f->level);
	leef_attr(b, "sev", lit(num[0]));
	leef_attr(b, "usrName", f->agent);
	leef_attr(b, "customer", f->customer);
	leef_attr(b, "action", f->action);
	leef_attr(b, "value", lit(f->value));
	leef_attr(b, "evidenceCount", lit(num[1]));
}

/* ---- entry points ---- */

void siem_opts_init(struct siem_opts *o)
{
	static const int sev[] = {6, 5, 4, 3, 2};

	memset(o, 0, sizeof(*o));
	o->format = SIEM_JSON;
	o->app_name = "custos";
	o->facility = 10; /* authpriv: alerts carry customer data */
	memcpy(o->severity, sev, sizeof(sev));
	o->version = "0.1.0";
}

int siem_format_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, format_names[i]) == 0)
			return i;
	return -1;
}

const char *siem_format_name(int f)
{
	return f >= 0 && f < 4 ? format_names[f] : "?";
}

/* The alert's JSON as a tree (pseudonymised if asked) and as text. */
static json_t *alert_tree(const struct alert *a, const struct siem_opts *o,
			  char **text, char *err, size_t err_size)
{
	json_error_t je;
	json_t *root = NULL;

	if ((*text = alert_to_json(a)) == NULL) {
		snprintf(err, err_size, "alert not serializable");
		return NULL;
	}
	root = json_loads(*text, JSON_ALLOW_NUL, &je);
	if (root == NULL) {
		snprintf(err, err_size, "alert JSON unreadable: %s", je.text);
		return NULL;
	}
	if (o->pseudo_key != NULL) {
		char *dumped = NULL;
		if (pseudonymize_tree(root, o) < 0 ||
		    (dumped = json_dumps(
			 root, JSON_COMPACT | JSON_ENSURE_ASCII |
				   JSON_REAL_PRECISION(17))) == NULL) {
			snprintf(err, err_size, "pseudonymisation failed");
			json_decref(root);
			return NULL;
		}
		free(*text);
		*text = dumped;
	}
	return root;
}

char *siem_format_alert(const struct alert *a, const struct siem_opts *o,
			char *err, size_t err_size)
{
	struct sb b = {0};
	struct fields f;
	char nums[3][32], *text = NULL;

	if (a->id[0] == '\0') {
		snprintf(err, err_size, "alert without an id");
		return NULL;
	}
	json_t *root = alert_tree(a, o, &text, err, err_size);
	if (root == NULL) {
		free(text);
		return NULL;
	}
	fields_fill(&f, root, a, nums);
	if (o->format != SIEM_RFC5424 && o->syslog_header) {
		header5424(&b, &f, o, a->ts_ms);
		sb_str(&b, " - ");
	}
	if (o->format == SIEM_RFC5424)
		rfc5424(&b, &f, text, o, a->ts_ms);
	else if (o->format == SIEM_CEF)
		cef(&b, &f, o, a->ts_ms);
	else if (o->format == SIEM_LEEF)
		leef(&b, &f, o);
	else
		sb_str(&b, text);
	json_decref(root);
	free(text);
	if (b.failed || b.buf == NULL) {
		snprintf(err, err_size, "record too large or out of memory");
		free(b.buf);
		return NULL;
	}
	return b.buf;
}
