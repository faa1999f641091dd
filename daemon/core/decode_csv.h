/*
 * decode_csv: one CSV record (one log line) -> the fields of one event,
 * against a header line parsed once per input (csv_header_parse).
 *
 * Syntax (RFC 4180): fields separated by ',', a field may be quoted with
 * '"', a '"' inside a quoted field is written '""', a quoted field may hold
 * ',' and line breaks; a trailing "\r\n", "\n" or "\r" ends the record.  A
 * '"' inside an unquoted field, text after a closing quote, an unterminated
 * quoted field, and a record with a different number of fields than the
 * header are errors.  A UTF-8 BOM before the header is skipped.
 *
 * Fields: one per column, named by the header (names must be non-empty,
 * unique, at most DECODE_CSV_MAX_NAME bytes; at most DECODE_CSV_MAX_COLUMNS
 * columns).  Values: a field whose whole text is a decimal integer that
 * fits in 64 bits ("-12", "0", "2500"; no leading zero, no '+') is
 * VALUE_NUMBER, anything else VALUE_STRING, whether quoted or not (CSV
 * writers quote for syntax, not for type).  An empty field is the empty
 * string.  Pure: never prints, never reads the clock.
 */
#ifndef CUSTOS_DECODE_CSV_H
#define CUSTOS_DECODE_CSV_H

#include <stddef.h>

#include "decode.h"
#include "event.h"

#define DECODE_CSV_MAX_COLUMNS 1024
#define DECODE_CSV_MAX_NAME 512

struct csv_header;

/* Parses the header line (len bytes, not NUL-terminated).  Returns a new
 * header (free with csv_header_free), or NULL with a reason in err. */
struct csv_header *csv_header_parse(const char *line, size_t len, char *err,
				    size_t err_size);
void csv_header_free(struct csv_header *h);

size_t csv_header_count(const struct csv_header *h);
/* The name of column i (< count), NUL-terminated, owned by h. */
const char *csv_header_name(const struct csv_header *h, size_t i);

/* Decodes one record against h into b and fills *ev (fields, slots, raw;
 * ts_ms = 0; ev->source is not touched), a view into b valid until the next
 * decode into b.  Field names point into h, which must outlive the event.
 * Returns 0, or -1 with a short reason in err ("3 fields, header has 4",
 * "unterminated quoted field at column 7"); b then holds no event. */
int decode_csv(struct event_buf *b, const struct csv_header *h,
	       const char *line, size_t len, struct event *ev, char *err,
	       size_t err_size);

/* 1 when s[0..len) is a decimal integer that fits in 64 bits (how the CSV
 * and key=value decoders type numbers), else 0. */
int decode_csv_is_integer(const char *s, size_t len);

#endif
