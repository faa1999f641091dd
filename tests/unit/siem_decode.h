/*
 * siem_decode: strict decoders of the three structured SIEM formats, for
 * the round-trip tests only (test_siem_format, fuzz_siem_format).  They
 * follow the specifications, not siem_format.c: RFC 5424 §6 (HEADER,
 * STRUCTURED-DATA with PARAM-VALUE escapes), CEF (header '|' fields with
 * \| and \\, extension key=value with \= \\ \n \r), LEEF 2.0 (header, then
 * attributes separated by the declared delimiter, split at the first '=').
 * A decoded record is a list of header fields, a list of key/value pairs
 * and (RFC 5424) the MSG; all malloc'd, freed by siem_dec_clear.
 */
#ifndef CUSTOS_SIEM_DECODE_H
#define CUSTOS_SIEM_DECODE_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SIEM_DEC_MAX 32

struct siem_dec {
	char *hdr[SIEM_DEC_MAX];
	int n_hdr;
	char *key[SIEM_DEC_MAX], *val[SIEM_DEC_MAX];
	int n_kv;
	char *msg;
};

static inline void siem_dec_clear(struct siem_dec *d)
{
	for (int i = 0; i < d->n_hdr; i++)
		free(d->hdr[i]);
	for (int i = 0; i < d->n_kv; i++) {
		free(d->key[i]);
		free(d->val[i]);
	}
	free(d->msg);
	memset(d, 0, sizeof(*d));
}

static inline char *siem_dec_dup(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static inline const char *siem_dec_get(const struct siem_dec *d,
				       const char *key)
{
	for (int i = 0; i < d->n_kv; i++)
		if (strcmp(d->key[i], key) == 0)
			return d->val[i];
	return NULL;
}

static inline int siem_dec_hdr(struct siem_dec *d, const char *s, size_t n)
{
	if (d->n_hdr == SIEM_DEC_MAX)
		return -1;
	d->hdr[d->n_hdr++] = siem_dec_dup(s, n);
	return 0;
}

static inline bool siem_dec_printusascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 33 || s[i] > 126)
			return false;
	return n > 0;
}

/* RFC 5424: "<PRI>1 TS HOST APP PROCID MSGID [SD] MSG", one SD-ELEMENT.
 * hdr: pri, ts, host, app, procid, msgid, sd-id; kv: the params. */
static inline int siem_dec_rfc5424(const char *line, struct siem_dec *d)
{
	static const size_t max[] = {0, 128, 255, 48, 128, 32};
	const char *p = line, *e;
	if (*p++ != '<' || strchr(line, '\n') || strchr(line, '\r'))
		return -1;
	e = p;
	while (*e >= '0' && *e <= '9')
		e++;
	if (e == p || e - p > 3 || atoi(p) > 191 || *e != '>' ||
	    strncmp(e + 1, "1 ", 2) != 0)
		return -1;
	siem_dec_hdr(d, p, (size_t)(e - p));
	p = e + 3;
	for (int f = 1; f <= 5; f++) {
		e = strchr(p, ' ');
		if (e == NULL || !siem_dec_printusascii(p, (size_t)(e - p)) ||
		    (size_t)(e - p) > max[f])
			return -1;
		siem_dec_hdr(d, p, (size_t)(e - p));
		p = e + 1;
	}
	if (*p++ != '[')
		return -1;
	e = p;
	while (*e && *e != ' ' && *e != ']' && *e != '=' && *e != '"')
		e++;
	siem_dec_hdr(d, p, (size_t)(e - p));
	p = e;
	while (*p == ' ') {
		p++;
		e = p;
		while (*e && *e != '=' && *e != ' ' && *e != ']' && *e != '"')
			e++;
		if (e == p || e - p > 32 || e[0] != '=' || e[1] != '"' ||
		    d->n_kv == SIEM_DEC_MAX)
			return -1;
		char *v = malloc(strlen(e) + 1);
		size_t n = 0;
		const char *q = e + 2;
		for (; *q && *q != '"'; q++) {
			if (*q == ']')
				break; /* must be escaped */
			if (*q == '\\' &&
			    (q[1] == '"' || q[1] == '\\' || q[1] == ']'))
				q++;
			v[n++] = *q;
		}
		v[n] = '\0';
		d->key[d->n_kv] = siem_dec_dup(p, (size_t)(e - p));
		d->val[d->n_kv++] = v;
		if (*q != '"')
			return -1;
		p = q + 1;
	}
	if (*p != ']' || p[1] != ' ')
		return -1;
	d->msg = siem_dec_dup(p + 2, strlen(p + 2));
	return 0;
}

/* CEF: 7 header fields (the first is "CEF:0"), then the extension. */
static inline int siem_dec_cef(const char *line, struct siem_dec *d)
{
	const char *p = line;
	char *f = malloc(strlen(line) + 1);
	size_t n = 0;

	if (strchr(line, '\n') || strchr(line, '\r') ||
	    strncmp(line, "CEF:0|", 6) != 0) {
		free(f);
		return -1;
	}
	while (d->n_hdr < 7 && *p) {
		if (*p == '\\' && (p[1] == '|' || p[1] == '\\'))
			p++;
		else if (*p == '|') {
			siem_dec_hdr(d, f, n);
			n = 0;
			p++;
			continue;
		}
		f[n++] = *p++;
	}
	free(f);
	if (d->n_hdr != 7)
		return -1;
	/* keys: the word before each unescaped '=' */
	size_t len = strlen(p);
	const char *eq[SIEM_DEC_MAX + 1], *ks[SIEM_DEC_MAX + 1];
	int k = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\\') {
			i++;
			continue;
		}
		if (p[i] != '=')
			continue;
		size_t s = i;
		while (s > 0 && p[s - 1] != ' ')
			s--;
		if (k == SIEM_DEC_MAX || s == i)
			return -1;
		ks[k] = p + s;
		eq[k++] = p + i;
	}
	if (len > 0 && (k == 0 || ks[0] != p))
		return -1;
	for (int j = 0; j < k; j++) {
		const char *vs = eq[j] + 1;
		const char *ve = j + 1 < k ? ks[j + 1] - 1 : p + len;
		char *v = malloc((size_t)(ve - vs) + 1);
		size_t m = 0;
		for (const char *q = vs; q < ve; q++) {
			if (*q == '\\' && q + 1 < ve) {
				q++;
				v[m++] = *q == 'n'   ? '\n'
					 : *q == 'r' ? '\r'
						     : *q;
			} else
				v[m++] = *q;
		}
		v[m] = '\0';
		d->key[d->n_kv] = siem_dec_dup(ks[j], (size_t)(eq[j] - ks[j]));
		d->val[d->n_kv++] = v;
	}
	return 0;
}

/* LEEF 2.0: 6 header fields, the delimiter as "xHH", then attributes. */
static inline int siem_dec_leef(const char *line, struct siem_dec *d)
{
	const char *p = line, *e;

	if (strchr(line, '\n') || strchr(line, '\r') ||
	    strncmp(line, "LEEF:2.0|", 9) != 0)
		return -1;
	for (int i = 0; i < 6; i++) {
		if ((e = strchr(p, '|')) == NULL)
			return -1;
		siem_dec_hdr(d, p, (size_t)(e - p));
		p = e + 1;
	}
	if (strcmp(d->hdr[5], "x09") != 0)
		return -1;
	while (*p) {
		e = strchr(p, '\t');
		if (e == NULL)
			e = p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(e - p));
		if (eq == NULL || eq == p || d->n_kv == SIEM_DEC_MAX)
			return -1;
		d->key[d->n_kv] = siem_dec_dup(p, (size_t)(eq - p));
		d->val[d->n_kv++] = siem_dec_dup(eq + 1, (size_t)(e - eq - 1));
		p = *e ? e + 1 : e;
	}
	return 0;
}

#endif
