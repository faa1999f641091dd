/*
 * roster: an agent's rostered shift from the agent directory (agentdir.h
 * columns tz, shift_start, shift_end, days_off) and the question "was this
 * instant inside the shift, give or take a margin?".
 *
 * A shift belongs to the local day it starts on: 22:00-06:00 on Monday runs
 * to Tuesday 06:00.  A day listed in days_off has no shift, so the whole
 * local day is off shift except the tail of the previous day's (night)
 * shift and the margin before the next day's.  Times compare as local wall
 * time in the agent's zone at the instant of the event, so a 08:00 start
 * stays 08:00 across a summer-time change.  00:00-24:00 is a whole-day
 * roster; a shift ending when it starts (08:00-08:00) is refused.  Margin edges
 * are inclusive: with 30 min, 07:30:00.000 and 16:30:00.000 are on shift for
 * 08:00-16:00.
 *
 * Zones are loaded once per distinct name into a roster_zones set (owned
 * by its holder, bounded by ROSTER_MAX_ZONES); rosters borrow them.
 * Everything here is pure: no clock, no output.
 */
#ifndef CUSTOS_ROSTER_H
#define CUSTOS_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tzfile.h"

#define ROSTER_MAX_ZONES 1024

struct roster {
	const struct tzfile_zone *zone; /* NULL: no roster */
	int16_t start_min;		/* local minutes after midnight */
	int16_t end_min;		/* 1..1440; <= start_min: next day */
	uint8_t days_off;		/* bit 0 Monday .. bit 6 Sunday */
};

struct roster_zones {
	struct tzfile_zone **z;
	size_t n, cap;
};

/* The roster cells of one directory row, in this order. */
enum roster_cell { ROSTER_TZ, ROSTER_START, ROSTER_END, ROSTER_DAYS_OFF };

/* Frees the zones of zs (not zs itself). */
void roster_zones_clear(struct roster_zones *zs);

/* Fills r from the cells (NULL or "" = absent; cells[ROSTER_TZ] etc.),
 * loading the zone into zs if needed.  A row with no shift gets
 * r->zone == NULL (a tz alone is still checked).  Returns 0, or -1 with
 * the message in err and the index of the offending cell in *bad. */
int roster_parse(struct roster *r, struct roster_zones *zs,
		 const char *const cells[4], int *bad, char *err,
		 size_t err_size);

/* "HH:MM" (00:00..23:59, and 24:00 when allow_24) into minutes; -1 if not
 * one. */
int roster_parse_hhmm(const char *s, bool allow_24);

/* True if ts_ms (UTC ms) is within the shift of r (r->zone != NULL)
 * extended by margin_ms (0..12h) on each side. */
bool roster_on_shift(const struct roster *r, int64_t ts_ms, int64_t margin_ms);

#endif
