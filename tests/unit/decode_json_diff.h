/*
 * decode_json_diff.h: the differential check shared by
 * tests/unit/test_decode_json_diff.c and tests/fuzz/fuzz_decode_json_diff.c:
 * one line decoded by decode_json() (the scanner) and decode_json_ref()
 * (jansson), each into its own event_buf over the same frozen table, must
 * give the same answer.
 *
 * "The same" means: both accept or both reject; when both accept, the same
 * fields (name, value bytes, value_len, kind, id, next_same), the same slots
 * and the same arena use (n_bytes), so limits trip on the same lines; when
 * the reference rejects a line that is valid JSON (a limit, nesting or name
 * error) or is not an object at all, the very same message; when it
 * rejects invalid JSON, an "invalid JSON at column N: " message or a limit
 * message (the scanner stops at the first fault in the line).
 *
 * The one allowed difference (decode_json.h): jansson skips one NUL byte
 * right after a number or literal, the scanner rejects it.  Then the
 * reference must have accepted, the scanner rejected, and the scanner must
 * accept the line with every NUL removed, giving the reference's fields.
 *
 * Header-only (static functions) so that both programs build it without a
 * library; test code, not part of libcustos.
 */
#ifndef CUSTOS_TEST_DECODE_JSON_DIFF_H
#define CUSTOS_TEST_DECODE_JSON_DIFF_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "decode_json.h"
#include "event.h"

enum diff_result {
	DIFF_SAME_ACCEPT,
	DIFF_SAME_REJECT,
	DIFF_NUL_SKIPPED, /* the documented NUL difference, checked */
	DIFF_DIFFERENT,
};

/* Names the generated lines and fuzz inputs use, interned so that both
 * chaining modes (by id, by array link) are compared. */
static inline struct fieldtab *diff_table(void)
{
	static const char *const names[] = {"a",   "a.b", "b.0.c", "tags",
					    "a.a", "c",	  "x.y",   ""};
	struct fieldtab *t = fieldtab_new();

	for (size_t i = 0; t != NULL && i < sizeof(names) / sizeof(*names); i++)
		fieldtab_intern(t, names[i], strlen(names[i]));
	if (t != NULL)
		fieldtab_freeze(t);
	return t;
}

static inline bool diff_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline bool diff_limit_error(const char *err)
{
	return diff_starts(err, "too many fields (max ") ||
	       diff_starts(err, "event too large (max ") ||
	       diff_starts(err, "nesting deeper than ") ||
	       diff_starts(err, "field name longer than ");
}

/* Same fields, slots and arena use; else writes the difference to why. */
static inline bool diff_events(const struct event_buf *fb,
			       const struct event *f,
			       const struct event_buf *rb,
			       const struct event *r, char *why, size_t size)
{
	if (f->n_fields != r->n_fields || f->n_slots != r->n_slots) {
		snprintf(why, size,
			 "%zu fields / %zu slots, reference %zu / %zu",
			 f->n_fields, f->n_slots, r->n_fields, r->n_slots);
		return false;
	}
	for (size_t i = 0; i < f->n_fields; i++) {
		const struct event_field *x = &f->fields[i], *y = &r->fields[i];
		if (strcmp(x->name, y->name) != 0 ||
		    x->value_len != y->value_len ||
		    memcmp(x->value, y->value, x->value_len) != 0 ||
		    x->value[x->value_len] != '\0' || x->kind != y->kind ||
		    x->id != y->id || x->next_same != y->next_same) {
			snprintf(why, size,
				 "field %zu: %s=%.*s kind %d id %d next %d, "
				 "reference %s=%.*s kind %d id %d next %d",
				 i, x->name, (int)x->value_len, x->value,
				 x->kind, x->id, x->next_same, y->name,
				 (int)y->value_len, y->value, y->kind, y->id,
				 y->next_same);
			return false;
		}
	}
	for (size_t id = 0; id < f->n_slots; id++)
		if (f->slot[id] != r->slot[id]) {
			snprintf(why, size, "slot %zu: %d, reference %d", id,
				 f->slot[id], r->slot[id]);
			return false;
		}
	if (fb->n_bytes != rb->n_bytes) {
		snprintf(why, size, "arena %zu bytes, reference %zu",
			 fb->n_bytes, rb->n_bytes);
		return false;
	}
	return true;
}

/* Both rejected: the scanner's message must fit the reference's. */
static inline bool diff_messages(const char *fe, const char *re, char *why,
				 size_t size)
{
	bool ok;

	if (diff_starts(re, "invalid JSON at column "))
		ok = diff_starts(fe, "invalid JSON at column ") ||
		     diff_limit_error(fe);
	else
		ok = strcmp(fe, re) == 0;
	if (!ok)
		snprintf(why, size, "error \"%s\", reference \"%s\"", fe, re);
	return ok;
}

/* The NUL exception: the reference accepted (its event is r), the scanner
 * rejected; the scanner must accept the line without NULs, the same way. */
static inline enum diff_result diff_nul(struct event_buf *fast,
					const struct event_buf *rb,
					const struct event *r, const char *line,
					size_t len, char *why, size_t size)
{
	struct event f;
	char err[256];
	char *stripped = malloc(len ? len : 1);
	size_t n = 0;

	if (stripped == NULL) {
		snprintf(why, size, "out of memory");
		return DIFF_DIFFERENT;
	}
	for (size_t i = 0; i < len; i++)
		if (line[i] != '\0')
			stripped[n++] = line[i];
	int rc = decode_json(fast, stripped, n, &f, err, sizeof(err));
	bool same = rc == 0 && diff_events(fast, &f, rb, r, why, size);
	if (rc != 0)
		snprintf(why, size, "without NULs: error \"%s\"", err);
	free(stripped);
	return same ? DIFF_NUL_SKIPPED : DIFF_DIFFERENT;
}

/* Decodes line with both decoders and compares (see the top of the file).
 * why gets the difference when the result is DIFF_DIFFERENT. */
static inline enum diff_result diff_decode(struct event_buf *fast,
					   struct event_buf *ref,
					   const char *line, size_t len,
					   char *why, size_t size)
{
	struct event f, r;
	char fe[256] = "", re[256] = "";
	int frc = decode_json(fast, line, len, &f, fe, sizeof(fe));
	int rrc = decode_json_ref(ref, line, len, &r, re, sizeof(re));

	why[0] = '\0';
	if (frc == 0 && rrc == 0) {
		if (f.raw != line || f.raw_len != len || f.ts_ms != 0) {
			snprintf(why, size, "raw/ts not set");
			return DIFF_DIFFERENT;
		}
		return diff_events(fast, &f, ref, &r, why, size)
			   ? DIFF_SAME_ACCEPT
			   : DIFF_DIFFERENT;
	}
	if (frc != 0 && rrc != 0) {
		if (fe[0] == '\0' || fast->n_fields != 0) {
			snprintf(why, size, "rejected without a reason");
			return DIFF_DIFFERENT;
		}
		if (memchr(line, '\0', len) != NULL)
			return DIFF_SAME_REJECT; /* messages may differ */
		return diff_messages(fe, re, why, size) ? DIFF_SAME_REJECT
							: DIFF_DIFFERENT;
	}
	if (frc != 0 && memchr(line, '\0', len) != NULL)
		return diff_nul(fast, ref, &r, line, len, why, size);
	snprintf(why, size, "scanner %s (%s), reference %s (%s)",
		 frc ? "rejects" : "accepts", fe, rrc ? "rejects" : "accepts",
		 re);
	return DIFF_DIFFERENT;
}

#endif
