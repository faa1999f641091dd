/*
 * siem_roundtrip: builds an alert from raw (hostile) values and checks that
 * every SIEM format decodes (siem_decode.h) back to exactly those values,
 * with exactly the expected fields — the shared oracle of test_siem_format
 * and fuzz_siem_format.
 *
 * Expected values follow the documented transformations only: a value is
 * what the alert JSON says (invalid UTF-8 -> U+FFFD, by jsonw), then, in
 * structured fields, control characters without an escape -> U+FFFD
 * (siem_format.h); RFC 5424 header fields are PRINTUSASCII ('_').
 */
#ifndef CUSTOS_SIEM_ROUNDTRIP_H
#define CUSTOS_SIEM_ROUNDTRIP_H

#include <jansson.h>
#include <stdio.h>

#include "alert.h"
#include "jsonw.h"
#include "siem_decode.h"
#include "siem_format.h"

struct rt_text {
	const char *s; /* NULL: absent */
	size_t len;
};

struct rt_in {
	struct rt_text rule_id, title, agent, customer, action, decoy;
	int level;
	bool in_group; /* agent/customer in the group, else in the event */
	double value;
	uint64_t count;
	int64_t ts_ms;
	const char *hostname;
};

struct rt_alert {
	struct alert a;
	struct rule r;
	char *owned[8];
};

static inline char *rt_dup(struct rt_text t)
{
	char *p = malloc(t.len + 1);
	memcpy(p, t.s, t.len);
	p[t.len] = '\0';
	return p;
}

static inline void rt_kv(struct jsonw *w, const char *k, struct rt_text t)
{
	if (t.s == NULL)
		return;
	jsonw_key(w, k);
	jsonw_stringn(w, t.s, t.len);
}

/* Builds x->a from in (rule id and title must not contain NUL: they are C
 * strings in struct rule). */
static inline void rt_build(struct rt_alert *x, const struct rt_in *in)
{
	struct jsonw w;

	memset(x, 0, sizeof(*x));
	x->r.id = x->owned[0] = rt_dup(in->rule_id);
	x->r.title = x->owned[1] = rt_dup(in->title);
	x->r.level = (enum rule_level)in->level;
	x->a.rule = &x->r;
	x->a.ts_ms = in->ts_ms;
	x->a.value = in->value;
	x->a.n_evidence_total = in->count;
	jsonw_init(&w, 1 << 20);
	jsonw_object_begin(&w);
	rt_kv(&w, "action", in->action);
	if (!in->in_group) {
		rt_kv(&w, "agent", in->agent);
		rt_kv(&w, "customer", in->customer);
	} else
		rt_kv(&w, "customer", in->decoy);
	jsonw_object_end(&w);
	x->a.event_json = jsonw_take(&w);
	if (in->in_group) {
		x->a.group = calloc(2, sizeof(*x->a.group));
		if (in->agent.s)
			x->a.group[x->a.n_group++] = (struct alert_kv){
			    strdup("agent"), rt_dup(in->agent)};
		if (in->customer.s)
			x->a.group[x->a.n_group++] = (struct alert_kv){
			    strdup("customer"), rt_dup(in->customer)};
	}
	x->a.source_input = strdup("in");
	alert_compute_id(&x->a);
}

static inline void rt_free(struct rt_alert *x)
{
	alert_clear(&x->a);
	for (int i = 0; i < 8; i++)
		free(x->owned[i]);
}

/* The JSON-normalized form of t (as the alert JSON carries it), then
 * control characters -> U+FFFD except LF/CR when keep_nl, '|' too when
 * bar.  NULL for an absent value. */
static inline char *rt_expect_(struct rt_text t, bool keep_nl, bool bar,
			       bool raw)
{
	struct jsonw w;
	json_error_t je;

	if (t.s == NULL)
		return NULL;
	jsonw_init(&w, 1 << 20);
	jsonw_stringn(&w, t.s, t.len);
	json_t *j =
	    json_loads(jsonw_str(&w), JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	jsonw_clear(&w);
	const unsigned char *u = (const unsigned char *)json_string_value(j);
	size_t n = json_string_length(j);
	char *out = malloc(n * 3 + 1);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		size_t cl = 0;
		if (raw)
			cl = 0;
		else if (u[i] < 0x20 || u[i] == 0x7f || (bar && u[i] == '|'))
			cl =
			    (keep_nl && (u[i] == '\n' || u[i] == '\r')) ? 0 : 1;
		else if (i + 1 < n && u[i] == 0xc2 && u[i + 1] >= 0x80 &&
			 u[i + 1] <= 0x9f)
			cl = 2;
		else if (i + 2 < n && u[i] == 0xe2 && u[i + 1] == 0x80 &&
			 (u[i + 2] == 0xa8 || u[i + 2] == 0xa9))
			cl = 3;
		if (cl == 0) {
			out[m++] = (char)u[i];
			continue;
		}
		memcpy(out + m, "\xef\xbf\xbd", 3);
		m += 3;
		i += cl - 1;
	}
	out[m] = '\0';
	json_decref(j);
	return out;
}

static inline char *rt_expect(struct rt_text t, bool keep_nl, bool bar)
{
	return rt_expect_(t, keep_nl, bar, false);
}

/* RFC 5424 header form: bytes outside 33..126 -> '_', at most max, "-"
 * when empty. */
static inline char *rt_header(const char *s, size_t max)
{
	size_t n = strlen(s) < max ? strlen(s) : max;
	char *out = malloc(n + 2);
	for (size_t i = 0; i < n; i++)
		out[i] = s[i] > 32 && s[i] < 127 ? s[i] : '_';
	strcpy(out + n, n ? "" : "-");
	return out;
}

/* Compares the decoded pairs with want (key, value; NULL values absent):
 * same keys in the same order, same values.  0 or -1 with why. */
static inline int rt_same(const struct siem_dec *d, const char *const *k,
			  char *const *v, int n, char *why, size_t why_size)
{
	int j = 0;
	for (int i = 0; i < n; i++) {
		if (v[i] == NULL)
			continue;
		if (j >= d->n_kv || strcmp(d->key[j], k[i]) != 0 ||
		    strcmp(d->val[j], v[i]) != 0) {
			snprintf(why, why_size,
				 "field %s: got '%s'='%s', want '%s'", k[i],
				 j < d->n_kv ? d->key[j] : "(none)",
				 j < d->n_kv ? d->val[j] : "", v[i]);
			return -1;
		}
		j++;
	}
	if (j != d->n_kv) {
		snprintf(why, why_size, "%d extra fields (first %s)",
			 d->n_kv - j, d->key[j]);
		return -1;
	}
	return 0;
}

struct rt_want {
	char *id, *rule, *title, *level, *agent, *customer, *action, *value;
	char ts[32], count[24], rt[24];
};

static inline void rt_want_free(struct rt_want *w)
{
	free(w->id), free(w->rule), free(w->title), free(w->level);
	free(w->agent), free(w->customer), free(w->action), free(w->value);
}

/* The values every format must carry, with the structured-value rule
 * (keep_nl: CEF extension; bar: LEEF header). */
static inline void rt_want_init(struct rt_want *w, const struct rt_in *in,
				const struct rt_alert *x, bool keep_nl)
{
	struct jsonw j;

	w->id = strdup(x->a.id);
	w->rule = rt_expect(in->rule_id, keep_nl, false);
	w->title = rt_expect(in->title, keep_nl, false);
	w->level = strdup(alert_level_name(&x->a));
	w->agent = rt_expect(in->agent, keep_nl, false);
	/* a group without customer: the event's customer is the one */
	w->customer = rt_expect(
	    in->in_group && in->customer.s == NULL ? in->decoy : in->customer,
	    keep_nl, false);
	w->action = rt_expect(in->action, keep_nl, false);
	jsonw_init(&j, 64);
	jsonw_double(&j, in->value);
	w->value = strdup(jsonw_str(&j));
	jsonw_clear(&j);
	alert_format_ts(in->ts_ms, w->ts, sizeof(w->ts));
	snprintf(w->count, sizeof(w->count), "%llu",
		 (unsigned long long)in->count);
	snprintf(w->rt, sizeof(w->rt), "%lld", (long long)in->ts_ms);
}

#define RT_FAIL(...)                                                           \
	do {                                                                   \
		snprintf(why, why_size, __VA_ARGS__);                          \
		goto out;                                                      \
	} while (0)

static inline int rt_check_5424(const struct rt_in *in,
				const struct rt_alert *x, const char *rec,
				const char *json, char *why, size_t why_size)
{
	static const char *const keys[] = {"id",    "rule",	"level",
					   "agent", "customer", "value"};
	struct siem_dec d = {0};
	struct rt_want w = {0};
	int rc = -1;

	rt_want_init(&w, in, x, false);
	char *v[] = {w.id, w.rule, w.level, w.agent, w.customer, w.value};
	char *norm = rt_expect_(in->rule_id, false, false, true);
	char *msgid = rt_header(norm, SIEM_MSGID_MAX);
	free(norm);
	char *host = rt_header(in->hostname ? in->hostname : "", 255);
	if (siem_dec_rfc5424(rec, &d) < 0 || d.n_hdr != 7)
		RT_FAIL("rfc5424 does not parse: %s", rec);
	bool nil_ts = in->ts_ms < 0 || in->ts_ms > 253402300799999LL;
	if (strcmp(d.hdr[1], nil_ts ? "-" : w.ts) != 0 ||
	    strcmp(d.hdr[2], host) != 0 || strcmp(d.hdr[3], "custos") != 0 ||
	    strcmp(d.hdr[5], msgid) != 0 || strcmp(d.hdr[6], SIEM_SD_ID) != 0 ||
	    strcmp(d.msg, json) != 0)
		RT_FAIL("rfc5424 header/msg mismatch: %s", rec);
	rc = rt_same(&d, keys, v, 6, why, why_size);
out:
	free(msgid);
	free(host);
	rt_want_free(&w);
	siem_dec_clear(&d);
	return rc;
}

static inline int rt_check_cef(const struct rt_in *in, const struct rt_alert *x,
			       const char *rec, char *why, size_t why_size)
{
	static const char *const keys[] = {
	    "externalId", "rt",	      "cs1Label", "cs1",   "cs2Label",
	    "cs2",	  "cs3Label", "cs3",	  "suser", "duser",
	    "act",	  "cnt",      "msg"};
	static const char *const sev[] = {"1", "3", "5", "8", "10"};
	struct siem_dec d = {0};
	struct rt_want w = {0}, h = {0};
	int rc = -1;

	rt_want_init(&w, in, x, true);
	rt_want_init(&h, in, x, false);
	char *v[] = {w.id,    w.rt,	  "level",  w.level, "value", w.value,
		     w.agent, w.customer, w.action, w.count, w.title};
	char *vv[13] = {v[0], v[1], "ruleId", w.rule};
	memcpy(vv + 4, v + 2, sizeof(v) - 2 * sizeof(v[0]));
	if (siem_dec_cef(rec, &d) < 0)
		RT_FAIL("cef does not parse: %s", rec);
	if (strcmp(d.hdr[1], "custos") || strcmp(d.hdr[2], "custos") ||
	    strcmp(d.hdr[4], h.rule) || strcmp(d.hdr[5], h.title) ||
	    strcmp(d.hdr[6], sev[in->level]))
		RT_FAIL("cef header mismatch: %s", rec);
	rc = rt_same(&d, keys, vv, 13, why, why_size);
	if (rc < 0 && getenv("RT_DEBUG"))
		fprintf(stderr, "record: %s\n", rec);
out:
	rt_want_free(&w);
	rt_want_free(&h);
	siem_dec_clear(&d);
	return rc;
}

static inline int rt_check_leef(const struct rt_in *in,
				const struct rt_alert *x, const char *rec,
				char *why, size_t why_size)
{
	static const char *const keys[] = {
	    "alertId",	 "devTime", "devTimeFormat", "ruleId",
	    "ruleTitle", "cat",	    "sev",	     "usrName",
	    "customer",	 "action",  "value",	     "evidenceCount"};
	static const char *const sev[] = {"1", "3", "5", "8", "10"};
	struct siem_dec d = {0};
	struct rt_want w = {0};
	int rc = -1;

	rt_want_init(&w, in, x, false);
	char *hrule = rt_expect(in->rule_id, false, true);
	char *v[] = {w.id,
		     w.ts,
		     "yyyy-MM-dd'T'HH:mm:ss.SSSX",
		     w.rule,
		     w.title,
		     w.level,
		     (char *)sev[in->level],
		     w.agent,
		     w.customer,
		     w.action,
		     w.value,
		     w.count};
	if (siem_dec_leef(rec, &d) < 0)
		RT_FAIL("leef does not parse: %s", rec);
	if (strcmp(d.hdr[1], "custos") || strcmp(d.hdr[4], hrule))
		RT_FAIL("leef header mismatch: %s", rec);
	rc = rt_same(&d, keys, v, 12, why, why_size);
out:
	free(hrule);
	rt_want_free(&w);
	siem_dec_clear(&d);
	return rc;
}

/* Formats in's alert in the four formats and checks each.  0 or -1. */
static inline int rt_check(const struct rt_in *in, char *why, size_t why_size)
{
	struct rt_alert x;
	struct siem_opts o;
	char err[128], *rec[4] = {0};
	int rc = -1;

	rt_build(&x, in);
	char *json = alert_to_json(&x.a);
	siem_opts_init(&o);
	o.hostname = in->hostname;
	for (int f = 0; f < 4; f++) {
		o.format = f;
		if ((rec[f] = siem_format_alert(&x.a, &o, err, sizeof(err))) ==
		    NULL)
			RT_FAIL("%s: %s", siem_format_name(f), err);
	}
	if (json == NULL || strcmp(rec[SIEM_JSON], json) != 0)
		RT_FAIL("json record differs from the alert JSON");
	/* with a syslog header: the RFC 5424 record's HEADER, "-", record */
	o.syslog_header = true;
	for (int f = 0; f < 4; f++) {
		o.format = f;
		char *h = siem_format_alert(&x.a, &o, err, sizeof(err));
		/* the HEADER: six fields, none holding a space */
		const char *sd = rec[SIEM_RFC5424];
		for (int sp = 0; sp < 6 && sd; sp++)
			sd = strchr(sd + (sp > 0), ' ');
		size_t hl = sd ? (size_t)(sd - rec[SIEM_RFC5424]) : 0;
		bool ok = h != NULL &&
			  (f == SIEM_RFC5424
			       ? strcmp(h, rec[f]) == 0
			       : strncmp(h, rec[SIEM_RFC5424], hl) == 0 &&
				     strncmp(h + hl, " - ", 3) == 0 &&
				     strcmp(h + hl + 3, rec[f]) == 0);
		if (!ok && h && getenv("RT_DEBUG"))
			fprintf(stderr, "with header: %s\nplain: %s\n", h,
				rec[f]);
		free(h);
		if (!ok)
			RT_FAIL("%s with a syslog header", siem_format_name(f));
	}
	if (rt_check_5424(in, &x, rec[SIEM_RFC5424], json, why, why_size) ||
	    rt_check_cef(in, &x, rec[SIEM_CEF], why, why_size) ||
	    rt_check_leef(in, &x, rec[SIEM_LEEF], why, why_size)) {
		for (int f = 1; f < 4 && getenv("RT_DEBUG"); f++)
			fprintf(stderr, "record: %s\n", rec[f]);
		goto out;
	}
	rc = 0;
out:
	for (int f = 0; f < 4; f++)
		free(rec[f]);
	free(json);
	rt_free(&x);
	return rc;
}

#endif
