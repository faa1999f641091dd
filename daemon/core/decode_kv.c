/*
 * decode_kv: key=value line -> event fields (contract in decode_kv.h).
 *
 * One pass over the line: each pair's key and value are copied into the
 * event_buf arena (a quoted value is unescaped in place in its copy, which
 * is never longer than the source).  Duplicate keys are found by comparing
 * with the fields already added: at most max_fields per line, so bounded.
 */
#include "decode_kv.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "decode_csv.h"

struct pair {
	const char *key, *val;
	size_t key_len, val_len;
	char quote; /* 0 when unquoted */
	size_t column;
};

static int fail(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_size > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_key_char(char c)
{
	return !is_space(c) && c != '=' && c != '"' && c != '\'' && c != '\n' &&
	       c != '\r';
}

/* A quoted value at s[*i] (the quote); *i ends past the closing quote. */
static int quoted_value(const char *s, size_t len, size_t *i, struct pair *p,
			char *err, size_t err_size)
{
	char q = s[*i];
	size_t j = *i + 1;

	while (j < len && s[j] != q)
		j += (s[j] == '\\' && j + 1 < len) ? 2 : 1;
	if (j >= len)
		return fail(err, err_size, "unterminated quote at column %zu",
			    *i + 1);
	p->quote = q;
	p->val = s + *i + 1;
	p->val_len = j - *i - 1;
	*i = j + 1;
	if (*i < len && !is_space(s[*i]))
		return fail(err, err_size,
			    "text after closing quote at column %zu", *i + 1);
	return 0;
}

/* The pair starting at s[*i] (not a space). */
static int next_pair(const char *s, size_t len, size_t *i, struct pair *p,
		     char *err, size_t err_size)
{
	size_t k = *i;

	p->column = *i + 1;
	while (k < len && is_key_char(s[k]))
		k++;
	if (k == *i || k >= len || s[k] != '=')
		return fail(err, err_size, "expected key=value at column %zu",
			    *i + 1);
	if (k - *i > DECODE_KV_MAX_NAME)
		return fail(err, err_size,
			    "key longer than %d bytes at column %zu",
			    DECODE_KV_MAX_NAME, *i + 1);
	p->key = s + *i;
	p->key_len = k - *i;
	*i = k + 1;
	if (*i < len && (s[*i] == '"' || s[*i] == '\''))
		return quoted_value(s, len, i, p, err, err_size);
	p->quote = 0;
	p->val = s + *i;
	while (*i < len && !is_space(s[*i]))
		(*i)++;
	p->val_len = (size_t)(s + *i - p->val);
	return 0;
}

/* Removes the backslash before q and before '\\' in v[0..n). */
static size_t unescape(char *v, size_t n, char q)
{
	size_t o = 0;

	for (size_t k = 0; k < n; k++) {
		if (v[k] == '\\' && k + 1 < n &&
		    (v[k + 1] == q || v[k + 1] == '\\'))
			k++;
		v[o++] = v[k];
	}
	v[o] = '\0';
	return o;
}

static bool seen(const struct event_buf *b, const char *key, size_t n)
{
	for (size_t i = 0; i < b->n_fields; i++)
		if (strncmp(b->fields[i].name, key, n) == 0 &&
		    b->fields[i].name[n] == '\0')
			return true;
	return false;
}

static int add_pair(struct event_buf *b, const struct pair *p, char *err,
		    size_t err_size)
{
	if (memchr(p->key, '\0', p->key_len) != NULL ||
	    seen(b, p->key, p->key_len))
		return fail(err, err_size,
			    "duplicate or invalid key at column %zu",
			    p->column);
	char *key = event_buf_strdup(b, p->key, p->key_len);
	char *val = key ? event_buf_strdup(b, p->val, p->val_len) : NULL;
	if (val == NULL)
		return fail(err, err_size, "event too large (max %zu bytes)",
			    b->max_bytes);
	size_t n = p->quote ? unescape(val, p->val_len, p->quote) : p->val_len;
	enum value_kind kind = (!p->quote && decode_csv_is_integer(val, n))
				   ? VALUE_NUMBER
				   : VALUE_STRING;
	if (event_buf_add(b, key, val, n, kind, -1) < 0)
		return fail(err, err_size, "too many fields (max %zu)",
			    b->max_fields);
	return 0;
}

static int decode_pairs(struct event_buf *b, const char *s, size_t len,
			char *err, size_t err_size)
{
	size_t i = 0;
	struct pair p = {0};

	for (;;) {
		while (i < len && is_space(s[i]))
			i++;
		if (i == len)
			break;
		if (next_pair(s, len, &i, &p, err, err_size) < 0 ||
		    add_pair(b, &p, err, err_size) < 0)
			return -1;
	}
	if (b->n_fields == 0)
		return fail(err, err_size, "no key=value pair");
	return 0;
}

int decode_kv(struct event_buf *b, const char *line, size_t len,
	      struct event *ev, char *err, size_t err_size)
{
	size_t n = len;

	event_buf_reset(b);
	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (decode_pairs(b, line, n, err, err_size) < 0) {
		event_buf_reset(b);
		return -1;
	}
	event_buf_view(b, ev);
	ev->ts_ms = 0;
	ev->raw = line;
	ev->raw_len = len;
	return 0;
}
