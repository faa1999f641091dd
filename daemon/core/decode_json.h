/*
 * decode_json: one JSON object (one log line) -> the fields of one event.
 *
 * Flattening (what rules and field maps see):
 *   - nested objects become dotted names: {"actor":{"id":"a1"}} -> actor.id;
 *   - an array of scalars becomes repeated fields with the array's name,
 *     in order, chained through next_same: {"tags":["x","y"]} -> tags=x,
 *     tags=y;
 *   - an array element that is an object or an array is flattened with its
 *     index as a path segment: {"items":[{"id":1}]} -> items.0.id;
 *   - empty objects and empty arrays produce no field;
 *   - a key that itself contains '.' is used as is, so {"a.b":1} and
 *     {"a":{"b":2}} both give the name a.b (then two fields of that name).
 * Values: strings are unescaped UTF-8 (\u0000 is rejected, so no value holds
 * a NUL; a leading UTF-8 BOM is skipped); numbers are VALUE_NUMBER with
 * their text — integers as %lld, reals in the shortest form that reads back
 * to the same double (so "1.0" becomes "1" and "1e3" becomes "1000");
 * true/false are VALUE_BOOL "true"/"false"; null is VALUE_NULL "".
 * Rejected lines: not a JSON object, invalid JSON, duplicate keys in one
 * object (different consumers would pick different values: an evasion
 * vector), integers beyond 64 bits, nesting deeper than
 * DECODE_JSON_MAX_DEPTH, names longer than DECODE_JSON_MAX_NAME bytes, and
 * the event_buf limits (fields, bytes).
 *
 * Implementation: decode_json() is a single-pass scanner that writes the
 * fields straight into the buffer (no tree, no per-field allocation).
 * decode_json_ref() is the jansson-based decoder it replaced, kept as the
 * reference model for tests, the differential fuzzer and benchmarks.  Both
 * give the same fields (names, values, kinds, chains, slots) and the same
 * arena use (decode_json() takes the name of a field the table knows from
 * the table instead of copying it, but charges the bytes of the copy:
 * event_buf_charge), and accept the same lines, except that decode_json()
 * rejects any NUL byte outside a string, where jansson skips one NUL that
 * directly follows a number or true/false/null.  Error texts have the same
 * form; for a line with several faults the scanner names the first one in the
 * line, while the reference names syntax errors before limit errors, and
 * columns may differ.  decode_json() remembers the top-level key sequences
 * of the lines it decoded in the buffer (json_keys.h), so the result of a
 * line never depends on the lines before it, only its cost.  Pure: never
 * prints, never reads the clock.
 */
#ifndef CUSTOS_DECODE_JSON_H
#define CUSTOS_DECODE_JSON_H

#include <stddef.h>

#include "decode.h"
#include "event.h"

#define DECODE_JSON_MAX_DEPTH 32
#define DECODE_JSON_MAX_NAME 512

/* Decodes one JSON object (line, len bytes, not NUL-terminated) into b and
 * fills *ev (fields, slots, raw; ts_ms = 0; ev->source is not touched), a
 * view into b valid until the next decode into b.  Returns 0, or -1 with a
 * short reason in err ("line is not a JSON object", "invalid JSON at column
 * 17: ...", "too many fields (max 1024)"); b then holds no event. */
int decode_json(struct event_buf *b, const char *line, size_t len,
		struct event *ev, char *err, size_t err_size);

/* The jansson-based reference decoder: same contract as decode_json()
 * (see the differences above).  For tests and benchmarks only; slower, and
 * it allocates per value. */
int decode_json_ref(struct event_buf *b, const char *line, size_t len,
		    struct event *ev, char *err, size_t err_size);

#endif
