/*
 * match_time: the calendar arithmetic behind Sigma's time modifiers
 * (minute, hour, day, week, month, year of a timestamp, in UTC; ISO 8601
 * weeks) and RFC 3339 timestamp parsing for event values.  Pure: no clock,
 * no time zone database (UTC and explicit offsets only).
 */
#include "match.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- time ---- */

/* days since 1970-01-01 -> civil date (H. Hinnant's algorithm) */
static void civil_from_days(int64_t z, long *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (long)(yoe + era * 400 + (*m <= 2));
}

static int64_t days_from_civil(long y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* ISO 8601 week number of a day (days since the epoch). */
static long iso_week(int64_t days)
{
	/* 1970-01-01 was a Thursday: this is the Thursday of days' week */
	int64_t thursday = floor_div(days + 3, 7) * 7;
	long y;
	int m, d;
	civil_from_days(thursday, &y, &m, &d);
	int64_t jan1 = days_from_civil(y, 1, 1);
	return (long)((thursday - jan1) / 7 + 1);
}

long match_time_part(int64_t ms, enum match_time part)
{
	int64_t secs = floor_div(ms, 1000);
	int64_t days = floor_div(secs, 86400);
	int64_t sod = secs - days * 86400;
	long y;
	int m, d;

	civil_from_days(days, &y, &m, &d);
	switch (part) {
	case MATCH_TIME_MINUTE:
		return (long)(sod / 60 % 60);
	case MATCH_TIME_HOUR:
		return (long)(sod / 3600);
	case MATCH_TIME_DAY:
		return d;
	case MATCH_TIME_WEEK:
		return iso_week(days);
	case MATCH_TIME_MONTH:
		return m;
	case MATCH_TIME_YEAR:
		return y;
	default:
		return 0;
	}
}

static bool take_digits(const char *s, size_t len, size_t *i, int n, long *v)
{
	*v = 0;
	for (int k = 0; k < n; k++, (*i)++) {
		if (*i >= len || s[*i] < '0' || s[*i] > '9')
			return false;
		*v = *v * 10 + (s[*i] - '0');
	}
	return true;
}

static bool take_char(const char *s, size_t len, size_t *i, const char *set)
{
	if (*i >= len || strchr(set, s[*i]) == NULL || s[*i] == '\0')
		return false;
	(*i)++;
	return true;
}

static int parse_offset(const char *s, size_t len, size_t i, long *off_s)
{
	long oh, om;
	int sign;

	*off_s = 0;
	if (i == len)
		return 0; /* no zone: taken as UTC */
	if (s[i] == 'Z' || s[i] == 'z')
		return i + 1 == len ? 0 : -1;
	if (s[i] != '+' && s[i] != '-')
		return -1;
	sign = s[i++] == '-' ? -1 : 1;
	if (!take_digits(s, len, &i, 2, &oh) || !take_char(s, len, &i, ":") ||
	    !take_digits(s, len, &i, 2, &om) || i != len)
		return -1;
	*off_s = sign * (oh * 3600 + om * 60);
	return 0;
}

int match_parse_rfc3339(const char *s, size_t len, int64_t *ms)
{
	long y, mo, d, h, mi, se, frac = 0, off;
	size_t i = 0;

	if (!take_digits(s, len, &i, 4, &y) || !take_char(s, len, &i, "-") ||
	    !take_digits(s, len, &i, 2, &mo) || !take_char(s, len, &i, "-") ||
	    !take_digits(s, len, &i, 2, &d) || !take_char(s, len, &i, "Tt ") ||
	    !take_digits(s, len, &i, 2, &h) || !take_char(s, len, &i, ":") ||
	    !take_digits(s, len, &i, 2, &mi) || !take_char(s, len, &i, ":") ||
	    !take_digits(s, len, &i, 2, &se))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60)
		return -1;
	if (i < len && s[i] == '.') {
		int nd = 0;
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++)
			if (nd < 3)
				frac = frac * 10 + (s[i] - '0');
		if (nd == 0)
			return -1;
		for (; nd < 3; nd++)
			frac *= 10;
	}
	if (parse_offset(s, len, i, &off) < 0)
		return -1;
	int64_t days = days_from_civil(y, (int)mo, (int)d);
	*ms = ((days * 86400 + h * 3600 + mi * 60 + se) - off) * 1000 + frac;
	return 0;
}
