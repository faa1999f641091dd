/*
 * normalize: field maps and the canonical event (contract in normalize.h).
 *
 * A compiled map is N_CANONICAL_FIELDS raw names (NULL = identity) and the
 * ts format; it owns its strings and is immutable after compilation, so one
 * map may serve many buffers.  normalize_event works in three passes so that
 * a map may read a raw field whose name is another canonical field
 * (customer: agent) whatever the order: resolve every source first, add the
 * aliases unbound, then bind them to their canonical ids.  Time comes only
 * from the event's ts: no clock is read.
 */
#include "normalize.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct fieldmap {
	char *raw[N_CANONICAL_FIELDS]; /* first member: see parse_ts_entry */
	int ts_format;
	/* raw[i] names another field than the canonical one (set by
	 * fieldmap_compile, so that events need no string compare) */
	bool mapped[N_CANONICAL_FIELDS];
	bool any_mapped;
};

static const char *const ts_format_names[] = {"auto", "rfc3339", "epoch_s",
					      "epoch_ms", NULL};

const char *ts_format_name(enum ts_format fmt)
{
	return (unsigned)fmt <= TS_EPOCH_MS ? ts_format_names[fmt] : "?";
}

int ts_format_parse(const char *name, enum ts_format *out)
{
	for (int i = 0; ts_format_names[i] != NULL; i++) {
		if (strcmp(name, ts_format_names[i]) == 0) {
			*out = (enum ts_format)i;
			return 0;
		}
	}
	return -1;
}

/* ---- compiling a map ---- */

struct entry {
	char *field;
	int format;
};

/* A map value: "raw.name" or { field: raw.name[, format: F] }. */
static int parse_entry(const struct yaml_node *v, char **raw, int *format,
		       struct diag *d)
{
	static const struct config_key keys[] = {
	    {.name = "field",
	     .type = CONFIG_STRING,
	     .required = true,
	     .offset = offsetof(struct entry, field)},
	    {.name = "format",
	     .type = CONFIG_ENUM,
	     .offset = offsetof(struct entry, format),
	     .values = ts_format_names},
	};
	struct entry e = {0};

	if (v->kind == YAML_SCALAR && !yamltree_is_null(v)) {
		free(*raw);
		*raw = strdup(v->scalar);
		return *raw ? 0 : -1;
	}
	if (v->kind != YAML_MAPPING) {
		diag_add(d, v->file, v->line, v->column,
			 "a field_map entry must be a field name or "
			 "{ field: NAME%s }",
			 format ? ", format: F" : "");
		return -1;
	}
	int n = config_apply(v, keys, format ? 2 : 1, &e, "field_map entry", d);
	free(*raw);
	*raw = e.field;
	if (format)
		*format = e.format;
	return n ? -1 : 0;
}

static int parse_ts_entry(const struct yaml_node *v, void *member,
			  struct diag *d)
{
	struct fieldmap *m = member; /* ts is at offset 0 */

	return parse_entry(v, &m->raw[FIELD_TS], &m->ts_format, d);
}

static int parse_field_entry(const struct yaml_node *v, void *member,
			     struct diag *d)
{
	return parse_entry(v, member, NULL, d);
}

struct fieldmap *fieldmap_compile(const struct yaml_node *map, const char *file,
				  struct diag *d)
{
	struct config_key keys[N_CANONICAL_FIELDS];
	struct fieldmap *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		diag_add(d, file, 0, 0, "out of memory");
		return NULL;
	}
	for (int i = 0; i < N_CANONICAL_FIELDS; i++) {
		keys[i] = (struct config_key){
		    .name = canonical_field_names[i],
		    .type = CONFIG_CUSTOM,
		    .offset = i == FIELD_TS ? 0
					    : offsetof(struct fieldmap, raw) +
						  (size_t)i * sizeof(char *),
		    .parse = i == FIELD_TS ? parse_ts_entry : parse_field_entry,
		};
	}
	if (map != NULL &&
	    config_apply(map, keys, N_CANONICAL_FIELDS, m, "field_map", d)) {
		fieldmap_free(m);
		return NULL;
	}
	for (int i = 0; i < N_CANONICAL_FIELDS; i++) {
		m->mapped[i] = m->raw[i] &&
			       strcmp(m->raw[i], canonical_field_names[i]) != 0;
		m->any_mapped |= m->mapped[i];
	}
	return m;
}

void fieldmap_free(struct fieldmap *m)
{
	if (m == NULL)
		return;
	for (int i = 0; i < N_CANONICAL_FIELDS; i++)
		free(m->raw[i]);
	free(m);
}

const char *fieldmap_source(const struct fieldmap *m, enum canonical_field f)
{
	if (m != NULL && m->raw[f] != NULL)
		return m->raw[f];
	return canonical_field_names[f];
}

enum ts_format fieldmap_ts_format(const struct fieldmap *m)
{
	return m ? (enum ts_format)m->ts_format : TS_AUTO;
}

void fieldmap_dump(const struct fieldmap *m, FILE *f, int indent)
{
	for (int i = 0; i < N_CANONICAL_FIELDS; i++) {
		fprintf(f, "%*s%s: %s", indent, "", canonical_field_names[i],
			fieldmap_source(m, (enum canonical_field)i));
		if (i == FIELD_TS)
			fprintf(f, " (format %s)",
				ts_format_name(fieldmap_ts_format(m)));
		fputc('\n', f);
	}
}

/* ---- timestamps ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30,
				  31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dim[m - 1];
}

/* Reads exactly n digits at s[*i]; -1 if not digits. */
static int digits(const char *s, size_t len, size_t *i, int n)
{
	int v = 0;

	for (int k = 0; k < n; k++, (*i)++) {
		if (*i >= len || !isdigit((unsigned char)s[*i]))
			return -1;
		v = v * 10 + (s[*i] - '0');
	}
	return v;
}

static bool expect(const char *s, size_t len, size_t *i, const char *set)
{
	if (*i < len && s[*i] != '\0' && strchr(set, s[*i]) != NULL) {
		(*i)++;
		return true;
	}
	return false;
}

/* Zone suffix at s[i]: Z, +HH:MM, -HH:MM, +HHMM.  Offset in minutes. */
static int parse_zone(const char *s, size_t len, size_t i, int *off_min)
{
	if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
		*off_min = 0;
		return 0;
	}
	if (i >= len || (s[i] != '+' && s[i] != '-'))
		return -1;
	int sign = s[i++] == '-' ? -1 : 1;
	int hh = digits(s, len, &i, 2);
	expect(s, len, &i, ":");
	int mm = digits(s, len, &i, 2);
	if (hh < 0 || mm < 0 || hh > 23 || mm > 59 || i != len)
		return -1;
	*off_min = sign * (hh * 60 + mm);
	return 0;
}

/* n digits at s (n <= 4), or -1. */
static int fixed_digits(const char *s, int n)
{
	int v = 0;

	for (int k = 0; k < n; k++) {
		unsigned d = (unsigned char)s[k] - (unsigned)'0';
		if (d > 9)
			return -1;
		v = v * 10 + (int)d;
	}
	return v;
}

/* The form most logs write, "YYYY-MM-DDTHH:MM:SS[.fff]Z", read at fixed
 * offsets: 0 with *ms set, 1 for any other text (the general parser below
 * decides, and gives the same result for this form). */
static int parse_rfc3339_common(const char *s, size_t len, int64_t *ms)
{
	if ((len != 20 && len != 24) || s[4] != '-' || s[7] != '-' ||
	    s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len - 1] != 'Z' ||
	    (len == 24 && s[19] != '.'))
		return 1;
	int y = fixed_digits(s, 4), mo = fixed_digits(s + 5, 2);
	int d = fixed_digits(s + 8, 2), h = fixed_digits(s + 11, 2);
	int mi = fixed_digits(s + 14, 2), sec = fixed_digits(s + 17, 2);
	int frac = len == 24 ? fixed_digits(s + 20, 3) : 0;
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || sec < 0 || sec > 60 || frac < 0 ||
	    d > days_in_month(y, mo))
		return 1;
	*ms = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) *
		  1000 +
	      frac;
	return 0;
}

static int parse_rfc3339(const char *s, size_t len, int64_t *ms)
{
	if (parse_rfc3339_common(s, len, ms) == 0)
		return 0;
	size_t i = 0;
	int y = digits(s, len, &i, 4), mo = 0, d = 0, h = 0, mi = 0, sec = 0;
	int frac = 0, off = 0;

	if (y < 0 || !expect(s, len, &i, "-") ||
	    (mo = digits(s, len, &i, 2)) < 1 || mo > 12 ||
	    !expect(s, len, &i, "-") || (d = digits(s, len, &i, 2)) < 1 ||
	    d > days_in_month(y, mo) || !expect(s, len, &i, "Tt ") ||
	    (h = digits(s, len, &i, 2)) < 0 || h > 23 ||
	    !expect(s, len, &i, ":") || (mi = digits(s, len, &i, 2)) < 0 ||
	    mi > 59 || !expect(s, len, &i, ":") ||
	    (sec = digits(s, len, &i, 2)) < 0 || sec > 60)
		return -1;
	if (expect(s, len, &i, ".")) {
		int n = 0;
		for (; i < len && isdigit((unsigned char)s[i]); i++, n++)
			if (n < 3)
				frac = frac * 10 + (s[i] - '0');
		if (n == 0)
			return -1;
		for (; n < 3; n++)
			frac *= 10;
	}
	if (parse_zone(s, len, i, &off) < 0)
		return -1;
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
		    sec - (int64_t)off * 60;
	*ms = t * 1000 + frac;
	return 0;
}

/* Non-negative decimal "123" or "123.456"; unit_ms = 1000 for seconds. */
static int parse_epoch(const char *s, size_t len, int64_t unit_ms, int64_t *ms)
{
	size_t i = 0;
	int64_t whole = 0, frac = 0, scale = 1;

	for (; i < len && isdigit((unsigned char)s[i]); i++) {
		if (whole > INT64_MAX / 10000 / unit_ms)
			return -1;
		whole = whole * 10 + (s[i] - '0');
	}
	if (i == 0)
		return -1;
	if (i < len && s[i] == '.') {
		size_t start = ++i;
		for (; i < len && isdigit((unsigned char)s[i]); i++) {
			if (scale < 1000000000) {
				frac = frac * 10 + (s[i] - '0');
				scale *= 10;
			}
		}
		if (i == start)
			return -1;
	}
	if (i != len)
		return -1;
	*ms = whole * unit_ms + frac * unit_ms / scale;
	return 0;
}

int normalize_parse_ts(const char *s, size_t len, enum ts_format fmt,
		       int64_t *ms)
{
	switch (fmt) {
	case TS_RFC3339:
		return parse_rfc3339(s, len, ms);
	case TS_EPOCH_S:
		return parse_epoch(s, len, 1000, ms);
	case TS_EPOCH_MS:
		return parse_epoch(s, len, 1, ms);
	case TS_AUTO:
	default:
		break;
	}
	if (len > 4 && s[4] == '-')
		return parse_rfc3339(s, len, ms);
	size_t int_digits = 0;
	while (int_digits < len && isdigit((unsigned char)s[int_digits]))
		int_digits++;
	return parse_epoch(s, len, int_digits >= 12 ? 1 : 1000, ms);
}

/* ---- the event ---- */

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

/* Untrusted value for an error message: at most 40 bytes, escaped. */
static const char *shown(const struct event_field *f, char *out, size_t size)
{
	size_t o = 0;

	for (uint32_t i = 0; i < f->value_len && o + 5 < size; i++) {
		unsigned char c = (unsigned char)f->value[i];
		if (i == 40) {
			o += (size_t)snprintf(out + o, size - o, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
	}
	out[o < size ? o : size - 1] = '\0';
	return out;
}

/* First field named `name`: by slot when the table knows it, else by a
 * scan.  -1 when absent. */
static int32_t find_first(const struct event_buf *b, const char *name)
{
	int32_t id = fieldtab_find(b->tab, name, strlen(name));

	if (id >= 0 && (size_t)id < b->n_slots)
		return b->slot[id];
	for (size_t i = 0; i < b->n_fields; i++)
		if (strcmp(b->fields[i].name, name) == 0)
			return (int32_t)i;
	return -1;
}

/* Adds unbound copies of the chain starting at src; returns the first copy
 * (or -1 with nothing added), -2 when the buffer is full. */
static int32_t add_aliases(struct event_buf *b, enum canonical_field c,
			   int32_t src)
{
	int32_t first = -1, prev = -1;

	for (int32_t i = src; i >= 0; i = b->fields[i].next_same) {
		struct event_field f = b->fields[i];
		prev = event_buf_add_id(b, canonical_field_names[c], -1,
					f.value, f.value_len,
					(enum value_kind)f.kind, prev);
		if (prev < 0)
			return -2;
		if (first < 0)
			first = prev;
	}
	return first;
}

/* Binds the unbound chain at first to canonical id c (already unbound). */
static void bind_chain(struct event_buf *b, enum canonical_field c,
		       int32_t first)
{
	for (int32_t i = first; i >= 0;) {
		int32_t next = b->fields[i].next_same;
		b->fields[i].id = c;
		b->fields[i].next_same = -1;
		if (b->slot[c] < 0)
			b->slot[c] = i;
		else
			b->fields[b->last_same[c]].next_same = i;
		b->last_same[c] = i;
		i = next;
	}
}

static int apply_map(const struct fieldmap *m, struct event_buf *b)
{
	int32_t src[N_CANONICAL_FIELDS], alias[N_CANONICAL_FIELDS];
	int i;

	if (m == NULL || !m->any_mapped)
		return 0; /* nothing mapped: the loops below would do nothing */
	for (i = 0; i < N_CANONICAL_FIELDS; i++) {
		src[i] = m->mapped[i] ? find_first(b, m->raw[i]) : -1;
		alias[i] = m->mapped[i] ? -1 : -3; /* -3: not mapped */
	}
	for (i = 0; i < N_CANONICAL_FIELDS; i++)
		if (src[i] >= 0 &&
		    (alias[i] =
			 add_aliases(b, (enum canonical_field)i, src[i])) == -2)
			return -1;
	for (i = 0; i < N_CANONICAL_FIELDS; i++) {
		if (alias[i] == -3)
			continue;
		event_buf_unbind(b, i);
		if (alias[i] >= 0)
			bind_chain(b, (enum canonical_field)i, alias[i]);
	}
	return 0;
}

static bool is_uint(const char *s, size_t len)
{
	if (len == 0 || len > 18)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int check_types(const struct fieldmap *m, struct event_buf *b,
		       struct event *ev, char *err, size_t err_size)
{
	char tmp[200];
	int32_t i = b->slot[FIELD_TS];

	if (i < 0)
		return fail(err, err_size, "missing ts (field '%s')",
			    fieldmap_source(m, FIELD_TS));
	struct event_field *f = &b->fields[i];
	if ((f->kind != VALUE_STRING && f->kind != VALUE_NUMBER) ||
	    normalize_parse_ts(f->value, f->value_len, fieldmap_ts_format(m),
			       &ev->ts_ms) < 0)
		return fail(err, err_size, "bad ts '%s'",
			    shown(f, tmp, sizeof(tmp)));
	for (i = b->slot[FIELD_ROWS]; i >= 0; i = f->next_same) {
		f = &b->fields[i];
		if ((f->kind != VALUE_STRING && f->kind != VALUE_NUMBER) ||
		    !is_uint(f->value, f->value_len))
			return fail(err, err_size,
				    "bad rows '%s' (want an integer >= 0)",
				    shown(f, tmp, sizeof(tmp)));
		f->kind = VALUE_NUMBER;
	}
	return 0;
}

int normalize_event(const struct fieldmap *m, struct event_buf *b,
		    struct event *ev, char *err, size_t err_size)
{
	if (b->n_slots < N_CANONICAL_FIELDS)
		return fail(err, err_size,
			    "field table lacks canonical fields");
	if (apply_map(m, b) < 0)
		return fail(err, err_size, "too many fields (max %zu)",
			    b->max_fields);
	event_buf_view(b, ev);
	return check_types(m, b, ev, err, err_size);
}
