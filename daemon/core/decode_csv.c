/*
 * decode_csv: CSV record -> event fields (contract in decode_csv.h).
 *
 * A cursor walks the record one field at a time (next_field) and yields the
 * raw span of each field; a quoted span is copied into the event_buf arena
 * and its '""' pairs collapsed in place.  The header owns its column names
 * (one malloc'd array of strings); events borrow them.
 */
#include "decode_csv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct csv_header {
	char **names;
	size_t n;
};

struct cursor {
	const char *s;
	size_t len, i;
	bool done;
};

struct span {
	const char *p;
	size_t n;
	bool quoted;
	size_t column; /* 1-based, of the field's first byte */
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

int decode_csv_is_integer(const char *s, size_t len)
{
	size_t i = (len > 0 && s[0] == '-') ? 1 : 0;
	char tmp[24];

	if (i == len || len >= sizeof(tmp) || (s[i] == '0' && len - i > 1))
		return 0;
	for (size_t k = i; k < len; k++)
		if (s[k] < '0' || s[k] > '9')
			return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	(void)strtoll(tmp, NULL, 10);
	return errno == 0;
}

static void cursor_init(struct cursor *c, const char *s, size_t len)
{
	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	c->s = s;
	c->len = len;
	c->i = 0;
	c->done = false;
}

/* A quoted field at c->s[c->i] == '"'. */
static int quoted_field(struct cursor *c, struct span *f, char *err,
			size_t err_size)
{
	size_t j = c->i + 1;

	while (j < c->len) {
		if (c->s[j] == '"' && j + 1 < c->len && c->s[j + 1] == '"')
			j += 2;
		else if (c->s[j] == '"')
			break;
		else
			j++;
	}
	if (j >= c->len)
		return fail(err, err_size,
			    "unterminated quoted field at column %zu",
			    f->column);
	f->p = c->s + c->i + 1;
	f->n = j - c->i - 1;
	f->quoted = true;
	c->i = j + 1;
	if (c->i < c->len && c->s[c->i] != ',')
		return fail(err, err_size,
			    "text after closing quote at column %zu", c->i + 1);
	return 0;
}

/* Returns 1 with the next field, 0 after the last, -1 on error. */
static int next_field(struct cursor *c, struct span *f, char *err,
		      size_t err_size)
{
	if (c->done)
		return 0;
	f->column = c->i + 1;
	if (c->i < c->len && c->s[c->i] == '"') {
		if (quoted_field(c, f, err, err_size) < 0)
			return -1;
	} else {
		size_t j = c->i;
		while (j < c->len && c->s[j] != ',') {
			if (c->s[j] == '"')
				return fail(err, err_size,
					    "quote inside unquoted field at "
					    "column %zu",
					    j + 1);
			j++;
		}
		f->p = c->s + c->i;
		f->n = j - c->i;
		f->quoted = false;
		c->i = j;
	}
	if (c->i < c->len)
		c->i++; /* the ',' */
	else
		c->done = true;
	return 1;
}

/* Collapses '""' into '"' in s[0..n); returns the new length. */
static size_t unquote(char *s, size_t n)
{
	size_t o = 0;

	for (size_t k = 0; k < n; k++) {
		s[o++] = s[k];
		if (s[k] == '"' && k + 1 < n && s[k + 1] == '"')
			k++;
	}
	s[o] = '\0';
	return o;
}

void csv_header_free(struct csv_header *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++)
		free(h->names[i]);
	free(h->names);
	free(h);
}

static int header_add(struct csv_header *h, const struct span *f, char *err,
		      size_t err_size)
{
	if (h->n == DECODE_CSV_MAX_COLUMNS)
		return fail(err, err_size, "more than %d columns",
			    DECODE_CSV_MAX_COLUMNS);
	if (f->n == 0 || f->n > DECODE_CSV_MAX_NAME)
		return fail(err, err_size,
			    "column name at column %zu is empty or longer "
			    "than %d bytes",
			    f->column, DECODE_CSV_MAX_NAME);
	char *name = malloc(f->n + 1); /* not strndup: f may hold a NUL */
	if (name == NULL)
		return fail(err, err_size, "out of memory");
	memcpy(name, f->p, f->n);
	name[f->n] = '\0';
	size_t n = f->quoted ? unquote(name, f->n) : f->n;
	bool bad = n == 0 || n != strlen(name); /* "" or a NUL byte */
	for (size_t i = 0; i < h->n && !bad; i++)
		bad = strcmp(h->names[i], name) == 0;
	if (bad) {
		free(name);
		return fail(err, err_size,
			    "duplicate or invalid column name at column %zu",
			    f->column);
	}
	h->names[h->n++] = name;
	return 0;
}

struct csv_header *csv_header_parse(const char *line, size_t len, char *err,
				    size_t err_size)
{
	struct csv_header *h = calloc(1, sizeof(*h));
	struct cursor c;
	struct span f;
	int rc;

	if (h == NULL || (h->names = calloc(DECODE_CSV_MAX_COLUMNS,
					    sizeof(char *))) == NULL) {
		free(h);
		fail(err, err_size, "out of memory");
		return NULL;
	}
	if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		len -= 3;
	}
	cursor_init(&c, line, len);
	while ((rc = next_field(&c, &f, err, err_size)) == 1)
		if (header_add(h, &f, err, err_size) < 0)
			break;
	if (rc != 0) {
		csv_header_free(h);
		return NULL;
	}
	return h;
}

size_t csv_header_count(const struct csv_header *h)
{
	return h->n;
}

const char *csv_header_name(const struct csv_header *h, size_t i)
{
	return i < h->n ? h->names[i] : NULL;
}

static int add_field(struct event_buf *b, const char *name,
		     const struct span *f, char *err, size_t err_size)
{
	char *v = event_buf_strdup(b, f->p, f->n);
	size_t n = f->n;

	if (v == NULL)
		return fail(err, err_size, "event too large (max %zu bytes)",
			    b->max_bytes);
	if (f->quoted)
		n = unquote(v, n);
	enum value_kind kind =
	    decode_csv_is_integer(v, n) ? VALUE_NUMBER : VALUE_STRING;
	if (event_buf_add(b, name, v, n, kind, -1) < 0)
		return fail(err, err_size, "too many fields (max %zu)",
			    b->max_fields);
	return 0;
}

static int decode_fields(struct event_buf *b, const struct csv_header *h,
			 struct cursor *c, char *err, size_t err_size)
{
	struct span f;
	size_t n = 0;
	int rc;

	while ((rc = next_field(c, &f, err, err_size)) == 1) {
		if (n == h->n)
			return fail(err, err_size,
				    "more fields than the header's %zu", h->n);
		if (add_field(b, h->names[n++], &f, err, err_size) < 0)
			return -1;
	}
	if (rc < 0)
		return -1;
	if (n != h->n)
		return fail(err, err_size, "%zu fields, header has %zu", n,
			    h->n);
	return 0;
}

int decode_csv(struct event_buf *b, const struct csv_header *h,
	       const char *line, size_t len, struct event *ev, char *err,
	       size_t err_size)
{
	struct cursor c;

	event_buf_reset(b);
	cursor_init(&c, line, len);
	if (decode_fields(b, h, &c, err, err_size) < 0) {
		event_buf_reset(b);
		return -1;
	}
	event_buf_view(b, ev);
	ev->ts_ms = 0;
	ev->raw = line;
	ev->raw_len = len;
	return 0;
}
