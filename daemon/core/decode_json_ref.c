/*
 * decode_json_ref: the reference JSON line decoder, built on jansson
 * (contract and flattening rules in decode_json.h).  decode_json() is the
 * fast hand-written scanner; this one is kept as the model it is tested
 * against (tests/unit/test_decode_json_diff.c, the differential fuzzer) and
 * as the baseline of bench/bench_decode.c.
 *
 * Two steps: jansson parses the line into a tree (parse_line), then walk()
 * emits one field per scalar into the event_buf, building dotted names in a
 * fixed-size path buffer.  Names are copied into the buffer's arena once per
 * path and shared by array elements.  Recursion depth is bounded by
 * DECODE_JSON_MAX_DEPTH, every emitted byte and field by the buffer limits.
 */
#include "decode_json.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct walk {
	struct event_buf *b;
	char path[DECODE_JSON_MAX_NAME + 1];
	char *err;
	size_t err_size;
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

/* Shortest %.Ng (N = 15..17) that reads back as the same double. */
static void format_real(double d, char *out, size_t size)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, size, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}

/* The value's text and kind; text points into tmp or into jansson. */
static const char *scalar_text(const json_t *v, char *tmp, size_t tmp_size,
			       size_t *len, enum value_kind *kind)
{
	const char *s = tmp;

	switch (json_typeof(v)) {
	case JSON_STRING:
		*kind = VALUE_STRING;
		*len = json_string_length(v);
		return json_string_value(v);
	case JSON_INTEGER:
		*kind = VALUE_NUMBER;
		snprintf(tmp, tmp_size, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		break;
	case JSON_REAL:
		*kind = VALUE_NUMBER;
		format_real(json_real_value(v), tmp, tmp_size);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		*kind = VALUE_BOOL;
		s = json_is_true(v) ? "true" : "false";
		break;
	default:
		*kind = VALUE_NULL;
		s = "";
		break;
	}
	*len = strlen(s);
	return s;
}

/* Emits scalar v under name (an arena string); returns the field index. */
static int32_t emit_scalar(struct walk *w, const char *name, const json_t *v,
			   int32_t prev_same)
{
	char tmp[64];
	enum value_kind kind;
	size_t len;
	const char *text = scalar_text(v, tmp, sizeof(tmp), &len, &kind);
	const char *value = event_buf_strdup(w->b, text, len);

	if (value == NULL)
		return fail(w->err, w->err_size,
			    "event too large (max %zu bytes)", w->b->max_bytes);
	int32_t i = event_buf_add(w->b, name, value, len, kind, prev_same);
	if (i < 0)
		return fail(w->err, w->err_size, "too many fields (max %zu)",
			    w->b->max_fields);
	return i;
}

static int walk(struct walk *w, const json_t *v, size_t path_len, int depth);

/* Appends ".seg" (or "seg" at the top) to the path; returns the new length
 * or -1 when the name would be too long. */
static int push(struct walk *w, size_t path_len, const char *seg, size_t n)
{
	size_t dot = path_len > 0;

	if (path_len + dot + n > DECODE_JSON_MAX_NAME)
		return fail(w->err, w->err_size,
			    "field name longer than %d bytes",
			    DECODE_JSON_MAX_NAME);
	if (dot)
		w->path[path_len] = '.';
	memcpy(w->path + path_len + dot, seg, n);
	w->path[path_len + dot + n] = '\0';
	return (int)(path_len + dot + n);
}

static int walk_object(struct walk *w, const json_t *obj, size_t path_len,
		       int depth)
{
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)obj, key, v)
	{
		int n = push(w, path_len, key, strlen(key));
		if (n < 0 || walk(w, v, (size_t)n, depth + 1) < 0)
			return -1;
	}
	return 0;
}

static int walk_array(struct walk *w, const json_t *arr, size_t path_len,
		      int depth)
{
	const char *name = NULL;
	int32_t prev = -1;

	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *v = json_array_get(arr, i);
		if (json_is_object(v) || json_is_array(v)) {
			char idx[24];
			int k = snprintf(idx, sizeof(idx), "%zu", i);
			int n = push(w, path_len, idx, (size_t)k);
			if (n < 0 || walk(w, v, (size_t)n, depth + 1) < 0)
				return -1;
			w->path[path_len] = '\0';
			continue;
		}
		if (name == NULL &&
		    (name = event_buf_strdup(w->b, w->path, path_len)) == NULL)
			return fail(w->err, w->err_size,
				    "event too large (max %zu bytes)",
				    w->b->max_bytes);
		if ((prev = emit_scalar(w, name, v, prev)) < 0)
			return -1;
	}
	return 0;
}

static int walk(struct walk *w, const json_t *v, size_t path_len, int depth)
{
	if (depth > DECODE_JSON_MAX_DEPTH)
		return fail(w->err, w->err_size, "nesting deeper than %d",
			    DECODE_JSON_MAX_DEPTH);
	if (json_is_object(v))
		return walk_object(w, v, path_len, depth);
	if (json_is_array(v))
		return walk_array(w, v, path_len, depth);
	const char *name = event_buf_strdup(w->b, w->path, path_len);
	if (name == NULL)
		return fail(w->err, w->err_size,
			    "event too large (max %zu bytes)", w->b->max_bytes);
	return emit_scalar(w, name, v, -1) < 0 ? -1 : 0;
}

/* 1-based byte column of the token jansson complains about: its position
 * is just past the token, which the message quotes as "near 'TOKEN'". */
static int error_column(const json_error_t *je)
{
	const char *near = strstr(je->text, " near '");
	int col = je->position > 0 ? je->position : 1;

	if (near != NULL) {
		size_t tok = strlen(near + 7);
		if (tok > 0 && near[7 + tok - 1] == '\'' && (int)tok - 1 < col)
			col -= (int)tok - 1 - 1;
	}
	return col;
}

/* Parses the line; NULL with err filled when it is not a valid object. */
static json_t *parse_line(const char *line, size_t len, char *err,
			  size_t err_size)
{
	size_t i = 0, bom = 0;
	json_error_t je;

	if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
		i = bom =
		    3; /* a UTF-8 byte-order mark (first line of a file) */
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len) {
		fail(err, err_size, "empty line");
		return NULL;
	}
	if (line[i] != '{') {
		fail(err, err_size, "line is not a JSON object");
		return NULL;
	}
	json_t *root =
	    json_loadb(line + bom, len - bom, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		fail(err, err_size, "invalid JSON at column %d: %s",
		     error_column(&je) + (int)bom, je.text);
		return NULL;
	}
	return root;
}

int decode_json_ref(struct event_buf *b, const char *line, size_t len,
		    struct event *ev, char *err, size_t err_size)
{
	struct walk w = {.b = b, .err = err, .err_size = err_size};

	event_buf_reset(b);
	json_t *root = parse_line(line, len, err, err_size);
	if (root == NULL)
		return -1;
	w.path[0] = '\0';
	int rc = walk(&w, root, 0, 0);
	json_decref(root);
	if (rc < 0) {
		event_buf_reset(b);
		return -1;
	}
	event_buf_view(b, ev);
	ev->ts_ms = 0;
	ev->raw = line;
	ev->raw_len = len;
	return 0;
}
