/*
 * alert: the JSON forms of events and alerts, and the alert's stable id.
 *
 * alert_event_to_json() runs for every event that enters a correlation
 * window, so it makes one allocation per event (the output buffer, sized
 * from the record up front) and none per field.  Field order is
 * deterministic: `ts` (from ev->ts_ms, RFC 3339 UTC with milliseconds),
 * the other canonical fields in enum order, then every other field in
 * event order.  Array fields (fields of one name chained by next_same,
 * always forward) are written once, as an array, at their first element.
 *
 * Output is bounded by ALERT_JSON_MAX_BYTES; a larger document is refused
 * (NULL), like an allocation failure.  Nothing here reads the clock or the
 * file system: ids and JSON depend only on the alert's own content.
 */
#include "alert.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

#define ALERT_JSON_MAX_BYTES ((size_t)16 << 20)
#define ALERT_STACK_FIELDS 512 /* follower bitmap on the stack up to this */

const char *alert_level_name(const struct alert *a)
{
	if (a->rule == NULL)
		return rule_level_name(LEVEL_MEDIUM);
	return rule_level_name(a->rule->level);
}

const char *alert_rule_id(const struct alert *a)
{
	if (a->rule == NULL)
		return NULL;
	if (a->rule->id != NULL)
		return a->rule->id;
	return a->rule->name != NULL ? a->rule->name : a->rule->title;
}

/* ---- time ---- */

/* Howard Hinnant's days -> civil date, proleptic Gregorian calendar. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Times outside years 0000..9999 cannot be written in RFC 3339; they are
 * clamped to the nearest representable instant. */
#define TS_MIN_MS (-62167219200000LL) /* 0000-01-01T00:00:00.000Z */
#define TS_MAX_MS 253402300799999LL   /* 9999-12-31T23:59:59.999Z */

void alert_format_ts(int64_t ts_ms, char *buf, size_t size)
{
	char t[] = "0000-00-00T00:00:00.000Z";
	int64_t y, days, ms;
	unsigned mo, d;

	if (size == 0)
		return;
	ts_ms = ts_ms < TS_MIN_MS   ? TS_MIN_MS
		: ts_ms > TS_MAX_MS ? TS_MAX_MS
				    : ts_ms;
	days =
	    ts_ms >= 0 ? ts_ms / 86400000 : -((-ts_ms + 86399999) / 86400000);
	ms = ts_ms - days * 86400000;
	civil_from_days(days, &y, &mo, &d);
	put_digits(t, (unsigned)y, 4);
	put_digits(t + 5, mo, 2);
	put_digits(t + 8, d, 2);
	put_digits(t + 11, (unsigned)(ms / 3600000), 2);
	put_digits(t + 14, (unsigned)(ms / 60000 % 60), 2);
	put_digits(t + 17, (unsigned)(ms / 1000 % 60), 2);
	put_digits(t + 20, (unsigned)(ms % 1000), 3);
	size_t n = sizeof(t) - 1 < size - 1 ? sizeof(t) - 1 : size - 1;
	memcpy(buf, t, n);
	buf[n] = '\0';
}

/* ---- event JSON ---- */

/* The canonical field a field is, or -1.  Ids below N_CANONICAL_FIELDS
 * are the canonical fields in every fieldtab; fields without an id (events
 * built without a table) are recognized by name. */
static int canonical_index(const struct event_field *f)
{
	if (f->id >= 0)
		return f->id < N_CANONICAL_FIELDS ? f->id : -1;
	for (int i = 0; i < N_CANONICAL_FIELDS; i++)
		if (strcmp(f->name, canonical_field_names[i]) == 0)
			return i;
	return -1;
}

static void write_value(struct jsonw *w, const struct event_field *f)
{
	switch (f->kind) {
	case VALUE_NUMBER:
		jsonw_number_text(w, f->value, f->value_len);
		break;
	case VALUE_BOOL:
		if ((f->value_len == 4 && memcmp(f->value, "true", 4) == 0) ||
		    (f->value_len == 5 && memcmp(f->value, "false", 5) == 0))
			jsonw_raw(w, f->value, f->value_len);
		else
			jsonw_stringn(w, f->value, f->value_len);
		break;
	case VALUE_NULL:
		jsonw_null(w);
		break;
	default:
		jsonw_stringn(w, f->value, f->value_len);
		break;
	}
}

/* Writes field i (the head of its chain) as "name":value or
 * "name":[v1,v2,...]. */
static void write_field(struct jsonw *w, const struct event *ev, size_t i)
{
	const struct event_field *f = &ev->fields[i];

	jsonw_key(w, f->name);
	if (f->next_same < 0 || (size_t)f->next_same <= i ||
	    (size_t)f->next_same >= ev->n_fields) {
		write_value(w, f);
		return;
	}
	jsonw_array_begin(w);
	for (;;) {
		write_value(w, &ev->fields[i]);
		int32_t next = ev->fields[i].next_same;
		if (next < 0 || (size_t)next <= i ||
		    (size_t)next >= ev->n_fields)
			break;
		i = (size_t)next;
	}
	jsonw_array_end(w);
}

/* Marks in `follower` every field reached through another's next_same:
 * those are written inside their head's array. */
static void mark_followers(const struct event *ev, uint64_t *follower)
{
	for (size_t i = 0; i < ev->n_fields; i++) {
		int32_t next = ev->fields[i].next_same;
		if (next >= 0 && (size_t)next > i &&
		    (size_t)next < ev->n_fields)
			follower[(size_t)next / 64] |= 1ull
						       << ((size_t)next % 64);
	}
}

static size_t event_size_hint(const struct event *ev)
{
	size_t n = 64 + ev->n_fields * 24;

	for (size_t i = 0; i < ev->n_fields; i++)
		n += ev->fields[i].value_len;
	return n + n / 8;
}

static void write_event(struct jsonw *w, const struct event *ev,
			const uint64_t *follower)
{
	int32_t first[N_CANONICAL_FIELDS];
	int8_t canon[ALERT_STACK_FIELDS];
	char ts[32];

	for (int c = 0; c < N_CANONICAL_FIELDS; c++)
		first[c] = -1;
	for (size_t i = 0; i < ev->n_fields; i++) {
		int c = canonical_index(&ev->fields[i]);
		if (i < ALERT_STACK_FIELDS)
			canon[i] = (int8_t)c;
		if (c >= 0 && first[c] < 0 &&
		    !(follower[i / 64] >> (i % 64) & 1))
			first[c] = (int32_t)i;
	}
	alert_format_ts(ev->ts_ms, ts, sizeof(ts));
	jsonw_object_begin(w);
	jsonw_key(w, "ts");
	jsonw_stringn(w, ts, strlen(ts));
	for (int c = FIELD_TS + 1; c < N_CANONICAL_FIELDS; c++)
		if (first[c] >= 0)
			write_field(w, ev, (size_t)first[c]);
	for (size_t i = 0; i < ev->n_fields; i++) {
		int c = i < ALERT_STACK_FIELDS
			    ? canon[i]
			    : canonical_index(&ev->fields[i]);
		if (c < 0 && !(follower[i / 64] >> (i % 64) & 1))
			write_field(w, ev, i);
	}
	jsonw_object_end(w);
}

char *alert_event_to_json(const struct event *ev)
{
	uint64_t stack_bits[ALERT_STACK_FIELDS / 64] = {0};
	uint64_t *follower = stack_bits;
	struct jsonw w;

	if (ev->n_fields > ALERT_STACK_FIELDS) {
		follower = calloc((ev->n_fields + 63) / 64, sizeof(*follower));
		if (follower == NULL)
			return NULL;
	}
	mark_followers(ev, follower);
	jsonw_init(&w, ALERT_JSON_MAX_BYTES);
	jsonw_reserve(&w, event_size_hint(ev));
	write_event(&w, ev, follower);
	if (follower != stack_bits)
		free(follower);
	return jsonw_take(&w);
}

/* ---- id ---- */

/* Every item is a tag byte, then either a 64-bit big-endian integer, or a
 * 64-bit big-endian length and that many bytes; NULL strings have their
 * own tag bit.  So no two different alerts encode the same byte string. */
static void hash_u64(EVP_MD_CTX *c, unsigned char tag, uint64_t v)
{
	unsigned char b[9];

	b[0] = tag;
	for (int i = 0; i < 8; i++)
		b[1 + i] = (unsigned char)(v >> (56 - 8 * i));
	EVP_DigestUpdate(c, b, sizeof(b));
}

static void hash_str(EVP_MD_CTX *c, unsigned char tag, const char *s)
{
	if (s == NULL) {
		unsigned char t = tag | 0x80;
		EVP_DigestUpdate(c, &t, 1);
		return;
	}
	size_t n = strlen(s);
	hash_u64(c, tag, n);
	EVP_DigestUpdate(c, s, n);
}

static void hash_rule(EVP_MD_CTX *c, const struct rule *r)
{
	if (r == NULL)
		hash_str(c, 'R', NULL);
	else if (r->id != NULL)
		hash_str(c, 'I', r->id);
	else if (r->name != NULL)
		hash_str(c, 'N', r->name);
	else
		hash_str(c, 'T', r->title);
}

void alert_compute_id(struct alert *a)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	a->id[0] = '\0';
	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		goto done;
	hash_str(c, 'V', "custos-alert-id/1");
	hash_rule(c, a->rule);
	hash_u64(c, 't', (uint64_t)a->ts_ms);
	hash_u64(c, 'g', a->n_group);
	for (size_t i = 0; i < a->n_group; i++) {
		hash_str(c, 'k', a->group[i].key);
		hash_str(c, 'v', a->group[i].value);
	}
	hash_str(c, 'e', a->event_json);
	hash_u64(c, 'l', a->source_line);
	hash_u64(c, 'o', a->source_offset);
	if (EVP_DigestFinal_ex(c, md, &md_len) != 1 ||
	    md_len < ALERT_ID_LEN / 2)
		goto done;
	for (int i = 0; i < ALERT_ID_LEN / 2; i++) {
		a->id[2 * i] = hex[md[i] >> 4];
		a->id[2 * i + 1] = hex[md[i] & 0xf];
	}
	a->id[ALERT_ID_LEN] = '\0';
done:
	EVP_MD_CTX_free(c);
}

/* ---- alert JSON ---- */

/* Already-JSON text (an event); null when missing. */
static void write_json_text(struct jsonw *w, const char *json)
{
	if (json == NULL || json[0] == '\0')
		jsonw_null(w);
	else
		jsonw_raw(w, json, strlen(json));
}

static void write_head(struct jsonw *w, const struct alert *a)
{
	char ts[32];

	alert_format_ts(a->ts_ms, ts, sizeof(ts));
	jsonw_key(w, "id");
	jsonw_string(w, a->id);
	jsonw_key(w, "rule_id");
	jsonw_string(w, alert_rule_id(a));
	jsonw_key(w, "rule_title");
	jsonw_string(w, a->rule != NULL ? a->rule->title : NULL);
	jsonw_key(w, "level");
	jsonw_string(w, alert_level_name(a));
	jsonw_key(w, "ts");
	jsonw_string(w, ts);
	jsonw_key(w, "group");
	jsonw_object_begin(w);
	for (size_t i = 0; i < a->n_group; i++) {
		jsonw_key(w, a->group[i].key != NULL ? a->group[i].key : "");
		jsonw_string(w, a->group[i].value);
	}
	jsonw_object_end(w);
	jsonw_key(w, "value");
	jsonw_double(w, a->value);
	jsonw_key(w, "event");
	write_json_text(w, a->event_json);
}

static void write_tail(struct jsonw *w, const struct alert *a)
{
	jsonw_key(w, "source");
	jsonw_object_begin(w);
	jsonw_key(w, "input");
	jsonw_string(w, a->source_input);
	jsonw_key(w, "path");
	jsonw_string(w, a->source_path);
	jsonw_key(w, "line");
	jsonw_uint(w, a->source_line);
	jsonw_key(w, "offset");
	jsonw_uint(w, a->source_offset);
	jsonw_object_end(w);
	jsonw_key(w, "tags");
	jsonw_array_begin(w);
	for (size_t i = 0; a->rule != NULL && i < a->rule->n_tags; i++)
		jsonw_string(w, a->rule->tags[i]);
	jsonw_array_end(w);
	jsonw_key(w, "evidence");
	jsonw_object_begin(w);
	jsonw_key(w, "count");
	jsonw_uint(w, a->n_evidence_total);
	jsonw_key(w, "sample");
	jsonw_array_begin(w);
	for (size_t i = 0; i < a->n_evidence; i++)
		write_json_text(w, a->evidence_json[i]);
	jsonw_array_end(w);
	jsonw_object_end(w);
}

char *alert_to_json(const struct alert *a)
{
	struct jsonw w;

	jsonw_init(&w, ALERT_JSON_MAX_BYTES);
	jsonw_object_begin(&w);
	write_head(&w, a);
	write_tail(&w, a);
	jsonw_object_end(&w);
	return jsonw_take(&w);
}

void alert_clear(struct alert *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n_group; i++) {
		free(a->group[i].key);
		free(a->group[i].value);
	}
	free(a->group);
	free(a->event_json);
	free(a->source_input);
	free(a->source_path);
	for (size_t i = 0; i < a->n_evidence; i++)
		free(a->evidence_json[i]);
	free(a->evidence_json);
	memset(a, 0, sizeof(*a));
}
