/*
 * tzfile: TZif reader and POSIX TZ footer expansion (see tzfile.h).
 *
 * The table holds entries sorted by `at`; entry 0 has at = INT64_MIN and
 * the offset of time type 0 (RFC 8536: local time before the first
 * transition).  Version 2+ files are read from their 64-bit block; version
 * 1 files from the 32-bit block (no footer).  Leap-second records are
 * skipped: the offsets apply to POSIX time, as the event timestamps are.
 */
#include "tzfile.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct trans {
	int64_t at; /* UTC seconds */
	int32_t off;
};

struct tzfile_zone {
	char *name;
	struct trans *t;
	size_t n, cap;
};

struct counts {
	uint32_t isut, isstd, leap, time, type, chars;
};

/* One transition rule of a POSIX TZ string. */
struct prule {
	char kind; /* 'J' (1..365, no Feb 29), 'N' (0..365), 'M' */
	int n, m, w, d;
	int32_t secs; /* local time of day of the change */
};

struct ptz {
	int32_t std_off, dst_off; /* east of UTC */
	bool has_dst;
	struct prule start, end;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

int64_t tzfile_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : n[m - 1];
}

/* The year of UTC second t, for t within years 1800..TZFILE_LAST_YEAR
 * (callers clamp). */
static int64_t year_of(int64_t t)
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t y = 1970 + days * 400 / 146097;

	while (tzfile_days_from_civil(y, 1, 1) > days)
		y--;
	while (tzfile_days_from_civil(y + 1, 1, 1) <= days)
		y++;
	return y;
}

static int push(struct tzfile_zone *z, int64_t at, int32_t off)
{
	if (z->n == TZFILE_MAX_TRANSITIONS)
		return -1;
	if (z->n == z->cap) {
		size_t cap = z->cap ? 2 * z->cap : 64;
		struct trans *t = realloc(z->t, cap * sizeof(*t));
		if (t == NULL)
			return -1;
		z->t = t;
		z->cap = cap;
	}
	z->t[z->n++] = (struct trans){at, off};
	return 0;
}

/* ---- POSIX TZ strings ---- */

static const char *skip_name(const char *s)
{
	if (*s == '<') {
		const char *e = strchr(s, '>');
		return e ? e + 1 : NULL;
	}
	const char *b = s;
	while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
		s++;
	return s - b >= 3 ? s : NULL;
}

static const char *get_num(const char *s, int lo, int hi, int *v)
{
	if (*s < '0' || *s > '9')
		return NULL;
	int n = 0;
	while (*s >= '0' && *s <= '9' && n <= hi)
		n = n * 10 + (*s++ - '0');
	if (n < lo || n > hi)
		return NULL;
	*v = n;
	return s;
}

/* [+-]hh[:mm[:ss]], hours at most max_h; seconds into *secs. */
static const char *get_time(const char *s, int max_h, int32_t *secs)
{
	int sign = 1, h, m = 0, sec = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if ((s = get_num(s, 0, max_h, &h)) == NULL)
		return NULL;
	if (*s == ':' && (s = get_num(s + 1, 0, 59, &m)) == NULL)
		return NULL;
	if (*s == ':' && (s = get_num(s + 1, 0, 59, &sec)) == NULL)
		return NULL;
	*secs = sign * (h * 3600 + m * 60 + sec);
	return s;
}

static const char *get_rule(const char *s, struct prule *r)
{
	r->secs = 7200;
	if (*s == 'J') {
		r->kind = 'J';
		s = get_num(s + 1, 1, 365, &r->n);
	} else if (*s == 'M') {
		r->kind = 'M';
		if ((s = get_num(s + 1, 1, 12, &r->m)) == NULL || *s != '.' ||
		    (s = get_num(s + 1, 1, 5, &r->w)) == NULL || *s != '.')
			return NULL;
		s = get_num(s + 1, 0, 6, &r->d);
	} else {
		r->kind = 'N';
		s = get_num(s, 0, 365, &r->n);
	}
	if (s && *s == '/')
		s = get_time(s + 1, 167, &r->secs);
	return s;
}

static int parse_ptz(const char *s, struct ptz *p)
{
	int32_t secs;

	memset(p, 0, sizeof(*p));
	if ((s = skip_name(s)) == NULL || (s = get_time(s, 24, &secs)) == NULL)
		return -1;
	p->std_off = -secs;
	if (*s == '\0')
		return 0;
	if ((s = skip_name(s)) == NULL)
		return -1;
	p->has_dst = true;
	p->dst_off = p->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if ((s = get_time(s, 24, &secs)) == NULL)
			return -1;
		p->dst_off = -secs;
	}
	if (*s == '\0') /* no rules: the US rules, as tzcode assumes */
		s = ",M3.2.0,M11.1.0";
	if (*s != ',' || (s = get_rule(s + 1, &p->start)) == NULL ||
	    *s != ',' || (s = get_rule(s + 1, &p->end)) == NULL)
		return -1;
	return *s == '\0' ? 0 : -1;
}

/* Local seconds since the epoch (wall time of the rule) of rule r in y. */
static int64_t rule_local(const struct prule *r, int64_t y)
{
	int64_t day = tzfile_days_from_civil(y, 1, 1);

	if (r->kind == 'J')
		day += r->n - 1 + (is_leap(y) && r->n >= 60);
	else if (r->kind == 'N')
		day += r->n;
	else {
		int64_t first = tzfile_days_from_civil(y, r->m, 1);
		int wd = (int)(((first + 4) % 7 + 7) % 7); /* 0 = Sunday */
		int dom = 1 + (r->d - wd + 7) % 7 + (r->w - 1) * 7;
		while (dom > month_days(y, r->m))
			dom -= 7;
		day = first + dom - 1;
	}
	return day * 86400 + r->secs;
}

/* Appends the transitions of p after the table's last one, through
 * TZFILE_LAST_YEAR. */
static int expand_ptz(struct tzfile_zone *z, const struct ptz *p)
{
	int64_t last = z->t[z->n - 1].at;

	if (!p->has_dst) /* nothing can follow a change at INT64_MAX */
		return z->t[z->n - 1].off == p->std_off || last == INT64_MAX
			   ? 0
			   : push(z,
				  last == INT64_MIN ? INT64_MIN + 1 : last + 1,
				  p->std_off);
	int64_t lo = tzfile_days_from_civil(1800, 1, 1) * 86400;
	int64_t hi = tzfile_days_from_civil(TZFILE_LAST_YEAR + 1, 1, 1) * 86400;
	if (last >= hi)
		return 0;
	for (int64_t y = last == INT64_MIN ? 1970
					   : year_of(last < lo ? lo : last);
	     y <= TZFILE_LAST_YEAR; y++) {
		struct trans a = {rule_local(&p->start, y) - p->std_off,
				  p->dst_off};
		struct trans b = {rule_local(&p->end, y) - p->dst_off,
				  p->std_off};
		if (a.at > b.at) {
			struct trans tmp = a;
			a = b;
			b = tmp;
		}
		if (a.at > z->t[z->n - 1].at && push(z, a.at, a.off) < 0)
			return -1;
		if (b.at > z->t[z->n - 1].at && push(z, b.at, b.off) < 0)
			return -1;
	}
	return 0;
}

/* ---- TZif ---- */

static int get_counts(const unsigned char *p, size_t len, struct counts *c)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	c->isut = be32(p + 20);
	c->isstd = be32(p + 24);
	c->leap = be32(p + 28);
	c->time = be32(p + 32);
	c->type = be32(p + 36);
	c->chars = be32(p + 40);
	if (c->type == 0 || c->type > 256 ||
	    c->time > TZFILE_MAX_TRANSITIONS / 2 || c->leap > 100000 ||
	    c->chars > 100000 || c->isut > 256 || c->isstd > 256)
		return -1;
	return 0;
}

static size_t block_size(const struct counts *c, size_t tsize)
{
	return (size_t)c->time * (tsize + 1) + (size_t)c->type * 6 + c->chars +
	       (size_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

/* Fills the table from a data block with tsize-byte times. */
static int read_block(struct tzfile_zone *z, const unsigned char *p,
		      const struct counts *c, size_t tsize)
{
	const unsigned char *idx = p + (size_t)c->time * tsize;
	const unsigned char *types = idx + c->time;

	for (uint32_t i = 0; i < c->type; i++) { /* RFC 8536 3.2 */
		int32_t off = (int32_t)be32(types + 6 * (size_t)i);
		if (off < -89999 || off > 93599)
			return -1;
	}
	if (push(z, INT64_MIN, (int32_t)be32(types)) < 0)
		return -1;
	for (uint32_t i = 0; i < c->time; i++) {
		int64_t at = tsize == 8 ? be64(p + 8 * (size_t)i)
					: (int32_t)be32(p + 4 * (size_t)i);
		if (idx[i] >= c->type || at <= z->t[z->n - 1].at)
			return -1;
		if (push(z, at, (int32_t)be32(types + 6 * (size_t)idx[i])) < 0)
			return -1;
	}
	return 0;
}

static const char *parse_tzif(struct tzfile_zone *z, const unsigned char *p,
			      size_t len)
{
	struct counts c;

	if (get_counts(p, len, &c) < 0 || len - 44 < block_size(&c, 4))
		return "not a TZif file";
	if (p[4] == '\0') /* version 1: 32-bit times, no footer */
		return read_block(z, p + 44, &c, 4) < 0 ? "bad TZif data"
							: NULL;
	size_t at = 44 + block_size(&c, 4);
	if (get_counts(p + at, len - at, &c) < 0 ||
	    len - at - 44 < block_size(&c, 8))
		return "bad TZif version 2 header";
	if (read_block(z, p + at + 44, &c, 8) < 0)
		return "bad TZif data";
	at += 44 + block_size(&c, 8);
	if (at >= len || p[at] != '\n')
		return NULL; /* no footer: the last offset holds */
	const unsigned char *nl = memchr(p + at + 1, '\n', len - at - 1);
	char tz[TZFILE_MAX_NAME];
	size_t n = nl ? (size_t)(nl - p) - at - 1 : 0;
	if (nl == NULL || n >= sizeof(tz))
		return "bad TZif footer";
	memcpy(tz, p + at + 1, n);
	tz[n] = '\0';
	struct ptz ptz;
	if (n == 0)
		return NULL;
	if (parse_ptz(tz, &ptz) < 0)
		return "unsupported TZ string in the TZif footer";
	return expand_ptz(z, &ptz) < 0 ? "too many transitions" : NULL;
}

struct tzfile_zone *tzfile_load_buffer(const char *name,
				       const unsigned char *buf, size_t len,
				       char *err, size_t err_size)
{
	struct tzfile_zone *z = calloc(1, sizeof(*z));
	const char *msg = "out of memory";

	if (z == NULL || (z->name = strdup(name)) == NULL ||
	    (msg = parse_tzif(z, buf, len)) != NULL) {
		snprintf(err, err_size, "time zone '%.64s': %s", name, msg);
		tzfile_free(z);
		return NULL;
	}
	return z;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= TZFILE_MAX_NAME || s[0] == '/' || strstr(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("_-+/.", s[i])))
			return false;
	return true;
}

struct tzfile_zone *tzfile_load(const char *name, char *err, size_t err_size)
{
	const char *dir = getenv("TZDIR");
	char path[512];
	unsigned char *buf;
	size_t len;

	if (!valid_name(name)) {
		snprintf(err, err_size, "'%.64s' is not a time zone name",
			 name);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s",
		 dir && *dir ? dir : "/usr/share/zoneinfo", name);
	FILE *f = fopen(path, "rb");
	if (f == NULL || (buf = malloc(TZFILE_MAX_BYTES + 1)) == NULL) {
		snprintf(err, err_size, "unknown time zone '%.64s'", name);
		if (f)
			fclose(f);
		return NULL;
	}
	len = fread(buf, 1, TZFILE_MAX_BYTES + 1, f);
	fclose(f);
	struct tzfile_zone *z = NULL;
	if (len > TZFILE_MAX_BYTES)
		snprintf(err, err_size, "time zone '%.64s': file too large",
			 name);
	else
		z = tzfile_load_buffer(name, buf, len, err, err_size);
	free(buf);
	return z;
}

void tzfile_free(struct tzfile_zone *z)
{
	if (z == NULL)
		return;
	free(z->name);
	free(z->t);
	free(z);
}

const char *tzfile_name(const struct tzfile_zone *z)
{
	return z->name;
}

size_t tzfile_count(const struct tzfile_zone *z)
{
	return z->n;
}

int32_t tzfile_offset(const struct tzfile_zone *z, int64_t t)
{
	size_t lo = 0, hi = z->n; /* t[lo].at <= t < t[hi].at */

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->t[mid].at <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->t[lo].off;
}
