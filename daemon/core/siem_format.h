/*
 * siem_format: one alert -> one record for a SIEM, in RFC 5424 syslog,
 * ArcSight CEF, QRadar LEEF 2.0 or JSON (docs-siem.md has the full field
 * tables and the escaping rules, with examples).
 *
 * Pure: no I/O, no clock, no logging.  Every record is built from the
 * alert's JSON (alert_to_json), so all formats agree on every value, and
 * every record carries the stable alert id (RFC 5424 SD `id`, CEF
 * `externalId`, LEEF `alertId`, JSON `id`) for de-duplication.
 *
 * Invariant (tested by round trip and fuzzing): a record is exactly one
 * line and no value can end it, start a second record or inject a field.
 * Escaping per format:
 *   RFC 5424  SD PARAM-VALUE: '"', '\' and ']' get a backslash (§6.3.3);
 *             header fields are PRINTUSASCII ('_' for anything else);
 *             MSG is the alert JSON (jsonw escapes every control
 *             character), sent without a BOM.
 *   CEF       header: '|' and '\' get a backslash; extension values: '\'
 *             and '=' get a backslash, LF -> "\n", CR -> "\r".
 *   LEEF 2.0  attributes separated by TAB (declared "x09" in the header);
 *             '=' needs no escape (keys are fixed, a value ends at the
 *             next TAB); '|' in header fields -> U+FFFD.
 * In every structured value, C0 controls and DEL that have no escape above
 * (all of them for RFC 5424 SD and LEEF, all but LF and CR for CEF
 * extensions) are replaced by U+FFFD.  Values are valid UTF-8 (jsonw
 * already replaced invalid bytes by U+FFFD).
 *
 * Time: the RFC 5424 TIMESTAMP, CEF rt and LEEF devTime are the alert's
 * event time (the triggering event's ts), never the send time, so a record
 * replayed from an outbox is byte-identical to the first attempt.
 *
 * Pseudonymisation (optional): with a key, every `customer` value in the
 * record — group, event, evidence sample, SD/CEF/LEEF fields — becomes
 * "cust_" + the first 16 hex digits of HMAC-SHA-256(key, customer).  The
 * customer ids so found (strings, integers, arrays of them) are then
 * replaced wherever else they occur in the alert: as a whole string or
 * integer value of any field (a raw `target.customer_id` kept next to the
 * mapped `customer`), and inside any string (a URL, a search text, a rule
 * title) when at least SIEM_PSEUDO_MIN_SUBSTR bytes long.  Not rewritten:
 * the alert id, the `ts` members (RFC 3339, written by custos), object
 * keys, and ids that occur in no `customer` field of this alert.  More than
 * 4096 distinct customer ids in one alert: the record is refused (NULL).
 */
#ifndef CUSTOS_SIEM_FORMAT_H
#define CUSTOS_SIEM_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "alert.h"

enum siem_format { SIEM_JSON, SIEM_RFC5424, SIEM_CEF, SIEM_LEEF };

#define SIEM_PSEUDO_LEN 21	  /* "cust_" + 16 hex digits */
#define SIEM_PSEUDO_MIN_SUBSTR 4  /* shorter ids: whole values only */
#define SIEM_SD_ID "custos@32473" /* 32473: the example PEN of RFC 5612 */
#define SIEM_MSGID_MAX 32	  /* RFC 5424 MSGID length */
#define SIEM_HOSTNAME_MAX 255

struct siem_opts {
	int format;	      /* enum siem_format [SIEM_JSON] */
	const char *hostname; /* RFC 5424 HOSTNAME; NULL/"" -> "-" */
	const char *app_name; /* RFC 5424 APP-NAME [custos] */
	long procid;	      /* RFC 5424 PROCID; <= 0 -> "-" */
	int facility;	      /* syslog facility code 0..23 [10, authpriv] */
	/* syslog severity (0..7) per enum rule_level; defaults: info 6,
	 * low 5, medium 4, high 3, critical 2 */
	int severity[LEVEL_CRITICAL + 1];
	const char *version; /* product version in CEF/LEEF [0.1.0] */
	/* CEF, LEEF and JSON records get an RFC 5424 HEADER and a NILVALUE
	 * STRUCTURED-DATA in front ("<PRI>1 TS HOST APP PROCID MSGID - "),
	 * making them syslog messages for a collector [false] */
	bool syslog_header;
	const unsigned char *pseudo_key; /* NULL: customer ids as they are */
	size_t pseudo_key_len;
};

/* Fills o with the defaults above. */
void siem_opts_init(struct siem_opts *o);

/* "json", "rfc5424", "cef", "leef" -> enum siem_format, or -1. */
int siem_format_parse(const char *name);

/* The name of f ("json"...), "?" when out of range. */
const char *siem_format_name(int f);

/* The record for a (no trailing newline), malloc'd; NULL with a reason in
 * err when the alert cannot be serialized (no id, allocation failure, an
 * event/evidence text that is not JSON). */
char *siem_format_alert(const struct alert *a, const struct siem_opts *o,
			char *err, size_t err_size);

/* out = "cust_" + 16 hex digits of HMAC-SHA-256(key, id[0..len)).
 * Returns 0, or -1 (OpenSSL failure; out is then ""). */
int siem_pseudonymize(const unsigned char *key, size_t key_len, const char *id,
		      size_t len, char out[SIEM_PSEUDO_LEN + 1]);

#endif
