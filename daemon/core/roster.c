/*
 * roster: rostered shifts in the agent's own time zone (see roster.h).
 * The local time of an event is its UTC time plus the zone's offset at that
 * instant (tzfile_offset(), a binary search); the shifts that can reach it
 * start on the local day before yesterday .. tomorrow (a shift is shorter
 * than a day and the margin at most 12 h).  Pure; no clock.
 */
#include "roster.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIN_MS INT64_C(60000)
#define DAY_MS INT64_C(86400000)

static const char *const weekdays[] = {"Mon", "Tue", "Wed", "Thu",
				       "Fri", "Sat", "Sun"};

void roster_zones_clear(struct roster_zones *zs)
{
	for (size_t i = 0; i < zs->n; i++)
		tzfile_free(zs->z[i]);
	free(zs->z);
	memset(zs, 0, sizeof(*zs));
}

static const struct tzfile_zone *
zone_get(struct roster_zones *zs, const char *name, char *err, size_t err_size)
{
	for (size_t i = 0; i < zs->n; i++)
		if (strcmp(tzfile_name(zs->z[i]), name) == 0)
			return zs->z[i];
	if (zs->n == ROSTER_MAX_ZONES) {
		snprintf(err, err_size, "more than %d time zones",
			 ROSTER_MAX_ZONES);
		return NULL;
	}
	if (zs->n == zs->cap) {
		size_t cap = zs->cap ? 2 * zs->cap : 8;
		struct tzfile_zone **z = realloc(zs->z, cap * sizeof(*z));
		if (z == NULL) {
			snprintf(err, err_size, "out of memory");
			return NULL;
		}
		zs->z = z;
		zs->cap = cap;
	}
	struct tzfile_zone *z = tzfile_load(name, err, err_size);
	if (z)
		zs->z[zs->n++] = z;
	return z;
}

int roster_parse_hhmm(const char *s, bool allow_24)
{
	if (strlen(s) != 5 || s[2] != ':' || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[4]))
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24)))
		return -1;
	return h * 60 + m;
}

/* "Sat;Sun" into a mask (bit 0 Monday); -1 on a bad name. */
static int parse_days(const char *s, uint8_t *mask)
{
	*mask = 0;
	while (*s) {
		size_t n = strcspn(s, ";");
		int day = -1;
		for (int i = 0; i < 7 && day < 0; i++)
			if (n == 3 && strncasecmp(s, weekdays[i], 3) == 0)
				day = i;
		if (day < 0)
			return -1;
		*mask |= (uint8_t)(1u << day);
		s += n + (s[n] == ';');
	}
	return 0;
}

static bool present(const char *s)
{
	return s && s[0] != '\0';
}

static int fail(int *bad, int cell, char *err, size_t err_size, const char *msg)
{
	*bad = cell;
	snprintf(err, err_size, "%s", msg);
	return -1;
}

int roster_parse(struct roster *r, struct roster_zones *zs,
		 const char *const cells[4], int *bad, char *err,
		 size_t err_size)
{
	const struct tzfile_zone *z = NULL;
	bool has_start = present(cells[ROSTER_START]);
	bool has_end = present(cells[ROSTER_END]);
	int start = 0, end = 0;

	memset(r, 0, sizeof(*r));
	if (present(cells[ROSTER_TZ]) &&
	    (z = zone_get(zs, cells[ROSTER_TZ], err, err_size)) == NULL) {
		*bad = ROSTER_TZ;
		return -1;
	}
	if (has_start &&
	    (start = roster_parse_hhmm(cells[ROSTER_START], false)) < 0)
		return fail(bad, ROSTER_START, err, err_size,
			    "shift_start is not a time HH:MM (00:00..23:59)");
	if (has_end && (end = roster_parse_hhmm(cells[ROSTER_END], true)) < 0)
		return fail(bad, ROSTER_END, err, err_size,
			    "shift_end is not a time HH:MM (00:00..24:00)");
	if (has_start != has_end)
		return fail(bad, has_start ? ROSTER_END : ROSTER_START, err,
			    err_size,
			    "a shift needs both shift_start and shift_end");
	if (has_start && start == end)
		return fail(bad, ROSTER_END, err, err_size,
			    "shift_end equals shift_start");
	if (present(cells[ROSTER_DAYS_OFF]) &&
	    parse_days(cells[ROSTER_DAYS_OFF], &r->days_off) < 0)
		return fail(bad, ROSTER_DAYS_OFF, err, err_size,
			    "days_off is not a ';' list of Mon..Sun");
	if (has_start && z == NULL)
		return fail(bad, ROSTER_TZ, err, err_size,
			    "a shift needs the agent's tz");
	if (has_start) {
		r->zone = z;
		r->start_min = (int16_t)start;
		r->end_min = (int16_t)end;
	}
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

bool roster_on_shift(const struct roster *r, int64_t ts_ms, int64_t margin_ms)
{
	int64_t off_s = tzfile_offset(r->zone, floor_div(ts_ms, 1000));
	int64_t local = ts_ms + off_s * 1000;
	int64_t day = floor_div(local, DAY_MS);
	int64_t len = r->end_min > r->start_min
			  ? r->end_min - r->start_min
			  : r->end_min + 1440 - r->start_min;

	/* weekday (0 Monday; 1970-01-01 was a Thursday) of day - 2 */
	int wd = (int)(((day + 1) % 7 + 7) % 7);
	int64_t b = (day - 2) * DAY_MS + r->start_min * MIN_MS;

	for (int i = 0; i < 4; i++, b += DAY_MS, wd = wd == 6 ? 0 : wd + 1)
		if (!(r->days_off & (1u << wd)) && local >= b - margin_ms &&
		    local <= b + len * MIN_MS + margin_ms)
			return true;
	return false;
}
