/*
 * decode_kv: one key=value line -> the fields of one event.
 *
 * Syntax: pairs separated by spaces or tabs, `key=value`.  A key is 1 to
 * DECODE_KV_MAX_NAME bytes of anything but space, tab, '=' and quotes.  A
 * value is either unquoted (the bytes up to the next space or tab, possibly
 * none: `key=` is the empty string) or quoted with '"' or '\'': inside, a
 * backslash escapes the quote character and the backslash itself (`"a
 * \"b\""` is `a "b"`); any other backslash is kept as is.  A closing quote
 * must be followed by a space, a tab or the end.  A trailing "\r\n" or "\n"
 * is ignored.
 * Errors: a word without '=', an empty key, an unterminated quote, text
 * right after a closing quote, a key given twice (different consumers would
 * read different values: an evasion vector), a line without any pair, and
 * the event_buf limits.
 * Values: an unquoted value that is a decimal integer fitting in 64 bits is
 * VALUE_NUMBER (see decode_csv_is_integer); every other value, and every
 * quoted value, is VALUE_STRING (quoting says "this is text").  Pure:
 * never prints, never reads the clock.
 */
#ifndef CUSTOS_DECODE_KV_H
#define CUSTOS_DECODE_KV_H

#include <stddef.h>

#include "decode.h"
#include "event.h"

#define DECODE_KV_MAX_NAME 512

/* Decodes one line (len bytes, not NUL-terminated) into b and fills *ev
 * (fields, slots, raw; ts_ms = 0; ev->source is not touched), a view into
 * b valid until the next decode into b.  Returns 0, or -1 with a short
 * reason in err ("expected key=value at column 5"); b then holds no
 * event. */
int decode_kv(struct event_buf *b, const char *line, size_t len,
	      struct event *ev, char *err, size_t err_size);

#endif
