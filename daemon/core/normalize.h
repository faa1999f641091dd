/*
 * normalize: a decoded event -> the canonical access event (DESIGN.md).
 *
 * A field map says, per canonical field, which raw (dotted) field it comes
 * from, and how ts is written.  YAML shape (the `field_map:` of a config or
 * of an input, see config.h):
 *
 *     field_map:
 *       ts: { field: time, format: epoch_ms }   # or  ts: time  (format auto)
 *       agent: actor.id
 *       customer: target.customer_id
 *       action: event.type
 *
 * Keys must be canonical field names (ts agent team site action object
 * customer ticket rows query src_ip session tool outcome); a value is the
 * raw field's dotted name, or a mapping { field: NAME } — plus, for ts only,
 * format: auto | rfc3339 | epoch_s | epoch_ms.  A canonical field the map
 * does not name comes from the raw field of the same name (identity).
 *
 * normalize_event() adds each mapped canonical field as an alias of the raw
 * field (same value and kind; each element of an array), so raw fields stay
 * available under their own names.  A raw field whose name is a mapped
 * canonical name (a raw "agent" when agent maps to actor.id) is shadowed:
 * it stays in ev->fields but loses its id, so rules see the mapped value.
 *
 * ts formats (result: ms since the epoch, UTC, fraction truncated to ms):
 *   rfc3339  YYYY-MM-DD(T|t| )HH:MM:SS[.frac](Z|z|+HH:MM|-HH:MM|+HHMM);
 *            a zone is required (a zone-less time would silently depend on
 *            where custos runs);
 *   epoch_s  seconds, optionally with a fraction: 1700000000.25;
 *   epoch_ms milliseconds (a fraction is dropped);
 *   auto     rfc3339 if the text has '-' at position 4, else a plain number:
 *            ms if its integer part is >= 10^11 (10^11 s is year 5138,
 *            10^11 ms is March 1973), else seconds.
 * Years 0000..9999 only; negative epochs are rejected.
 *
 * Types checked: ts must parse; rows, when present, must be a non-negative
 * integer (string digits from text inputs become VALUE_NUMBER).  src_ip is
 * not validated here.  Pure: never prints, never reads the clock.
 */
#ifndef CUSTOS_NORMALIZE_H
#define CUSTOS_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "decode.h"
#include "diag.h"
#include "event.h"
#include "yamltree.h"

enum ts_format { TS_AUTO, TS_RFC3339, TS_EPOCH_S, TS_EPOCH_MS };

struct fieldmap;

/* Compiles a `field_map:` mapping.  map may be NULL: the identity map (every
 * canonical field from the raw field of its name, ts format auto).  Returns
 * NULL with every problem added to d as file:line:column. */
struct fieldmap *fieldmap_compile(const struct yaml_node *map, const char *file,
				  struct diag *d);
void fieldmap_free(struct fieldmap *m);

/* Raw field name a canonical field is taken from (its own name when not
 * mapped), and the ts format. */
const char *fieldmap_source(const struct fieldmap *m, enum canonical_field f);
enum ts_format fieldmap_ts_format(const struct fieldmap *m);

/* Writes the compiled map as YAML lines indented by `indent` spaces (every
 * canonical field, mapped or not), for config dumps and golden tests. */
void fieldmap_dump(const struct fieldmap *m, FILE *f, int indent);

/* "auto", "rfc3339", "epoch_s", "epoch_ms"; parse returns -1 if unknown. */
const char *ts_format_name(enum ts_format fmt);
int ts_format_parse(const char *name, enum ts_format *out);

/* Parses a timestamp text (len bytes) in format fmt to ms since the epoch.
 * Returns 0, or -1 when it is not valid in that format. */
int normalize_parse_ts(const char *s, size_t len, enum ts_format fmt,
		       int64_t *ms);

/* Call once per decode.  Adds the canonical aliases to the event decoded
 * into b, parses ts into ev->ts_ms, checks types, and refreshes ev's view of
 * b (fields may have moved).  Returns 0, or -1 with err ("missing ts",
 * "bad ts '...'", "bad rows '...'", "too many fields") — the caller counts
 * the line as malformed.  m may be NULL (identity). */
int normalize_event(const struct fieldmap *m, struct event_buf *b,
		    struct event *ev, char *err, size_t err_size);

#endif
