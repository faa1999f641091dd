/*
 * test_roster: rostered shifts — tzfile offsets against the C library's
 * localtime_r() (the reference model: a sweep 1970..2100 over several
 * zones, with summer time north and south, negative DST, 30/45-minute
 * offsets) and at the exact DST changes of Europe/Lisbon and
 * America/New_York; roster_on_shift() at the margin edges, across a DST
 * change, for a night shift and days off; the agent directory's roster
 * checks (file:line:column); the off_shift gate through the engine with a
 * directory (roster agents, the learned-hours fallback, roster_margin).
 */
#define _DEFAULT_SOURCE
#include "agentdir.h"
#include "check.h"
#include "engine.h"
#include "roster.h"
#include "rules.h"
#include "tzfile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_harness.h"

#define H 3600
#define DAY 86400
#define MS 1000

static struct tzfile_zone *zone(const char *name)
{
	char err[200];
	struct tzfile_zone *z = tzfile_load(name, err, sizeof(err));

	if (z == NULL)
		fprintf(stderr, "%s\n", err);
	CHECK(z != NULL);
	return z;
}

/* tzfile_offset() equals tm_gmtoff of localtime_r() under TZ=name. */
static void sweep(const char *name)
{
	struct tzfile_zone *z = zone(name);
	char tz[160];
	long bad = 0, n = 0;

	if (z == NULL)
		return;
	snprintf(tz, sizeof(tz), ":%s", name);
	setenv("TZ", tz, 1);
	tzset();
	/* 1970..2100 in steps of 5 h 7 min 13 s, to land at odd times */
	for (int64_t t = 0; t < INT64_C(4102444800); t += 5 * H + 7 * 60 + 13) {
		time_t tt = (time_t)t;
		struct tm tm;
		localtime_r(&tt, &tm);
		n++;
		if (tm.tm_gmtoff != tzfile_offset(z, t) && bad++ < 3)
			fprintf(stderr, "%s at %lld: libc %ld, tzfile %d\n",
				name, (long long)t, tm.tm_gmtoff,
				tzfile_offset(z, t));
	}
	CHECK_INT(bad, 0);
	CHECK(n > 200000);
	tzfile_free(z);
}

static void test_against_libc(void)
{
	static const char *const zones[] = {"Europe/Lisbon",
					    "America/New_York",
					    "Asia/Manila",
					    "America/Bogota",
					    "Australia/Sydney",
					    "Europe/Dublin",
					    "Asia/Kolkata",
					    "Pacific/Chatham",
					    "America/Sao_Paulo",
					    "Africa/Casablanca",
					    "UTC"};

	for (size_t i = 0; i < sizeof(zones) / sizeof(*zones); i++)
		sweep(zones[i]);
	unsetenv("TZ");
	tzset();
}

static void test_dst_edges(void)
{
	struct tzfile_zone *lis = zone("Europe/Lisbon");
	struct tzfile_zone *ny = zone("America/New_York");

	if (lis == NULL || ny == NULL)
		return;
	/* 2025-03-30 01:00Z: Lisbon 01:00 WET -> 02:00 WEST */
	CHECK_INT(tzfile_offset(lis, 1743296400 - 1), 0);
	CHECK_INT(tzfile_offset(lis, 1743296400), 3600);
	CHECK_INT(tzfile_offset(lis, 1761440400 - 1), 3600);
	CHECK_INT(tzfile_offset(lis, 1761440400), 0);
	/* 2025-03-09 07:00Z and 2025-11-02 06:00Z in New York */
	CHECK_INT(tzfile_offset(ny, 1741503600 - 1), -18000);
	CHECK_INT(tzfile_offset(ny, 1741503600), -14400);
	CHECK_INT(tzfile_offset(ny, 1762063200 - 1), -14400);
	CHECK_INT(tzfile_offset(ny, 1762063200), -18000);
	/* 2090: past the file's table, from the footer's rule */
	CHECK_INT(tzfile_offset(ny, INT64_C(3792985200) - 1), -18000);
	CHECK_INT(tzfile_offset(ny, INT64_C(3792985200)), -14400);
	CHECK_INT(tzfile_offset(lis, INT64_C(3812922000) - 1), 3600);
	CHECK_INT(tzfile_offset(lis, INT64_C(3812922000)), 0);
	CHECK(tzfile_count(ny) < TZFILE_MAX_TRANSITIONS);
	tzfile_free(lis);
	tzfile_free(ny);
}

static void test_bad_zones(void)
{
	char err[200];
	static const unsigned char junk[] = "TZif2 not really";

	CHECK(tzfile_load("Mars/Olympus_Mons", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "unknown time zone 'Mars/Olympus_Mons'") != NULL);
	CHECK(tzfile_load("../../etc/passwd", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "is not a time zone name") != NULL);
	CHECK(tzfile_load("/etc/localtime", err, sizeof(err)) == NULL);
	CHECK(tzfile_load("Europe", err, sizeof(err)) == NULL);
	CHECK(tzfile_load_buffer("x", junk, sizeof(junk), err, sizeof(err)) ==
	      NULL);
	CHECK(strstr(err, "not a TZif file") != NULL);
	CHECK_INT(roster_parse_hhmm("08:00", false), 480);
	CHECK_INT(roster_parse_hhmm("24:00", true), 1440);
	CHECK_INT(roster_parse_hhmm("24:00", false), -1);
	CHECK_INT(roster_parse_hhmm("8:00", false), -1);
	CHECK_INT(roster_parse_hhmm("12:60", false), -1);
}

/* A roster from directory cells, zone loaded into zs. */
static int mk(struct roster *r, struct roster_zones *zs, const char *tz,
	      const char *start, const char *end, const char *off)
{
	const char *cells[4] = {tz, start, end, off};
	char err[200];
	int bad = -1;
	int rc = roster_parse(r, zs, cells, &bad, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "cell %d: %s\n", bad, err);
	return rc;
}

#define M30 (30 * 60 * MS)
#define ON(r, t_ms) roster_on_shift(&(r), (t_ms), M30)

static void test_day_shift(void)
{
	struct roster_zones zs = {0};
	struct roster r;
	int64_t fri = INT64_C(1743120000) * MS; /* 2025-03-28 00:00Z, Fri */
	int64_t mon = INT64_C(1743379200) * MS; /* 2025-03-31, WEST (+1) */

	CHECK_INT(mk(&r, &zs, "Europe/Lisbon", "08:00", "16:00", "Sat;Sun"), 0);
	/* Friday, WET = UTC: 07:30 and 16:30 exactly are inside */
	CHECK(ON(r, fri + (7 * H + 30 * 60) * MS));
	CHECK(!ON(r, fri + (7 * H + 30 * 60) * MS - 1));
	CHECK(ON(r, fri + (16 * H + 30 * 60) * MS));
	CHECK(!ON(r, fri + (16 * H + 30 * 60) * MS + 1));
	CHECK(ON(r, fri + 12 * H * MS));
	/* Saturday and Sunday are days off */
	CHECK(!ON(r, fri + (DAY + 12 * H) * MS));
	CHECK(!ON(r, fri + (2 * DAY + 9 * H) * MS));
	/* Monday after the change: local 07:30 is 06:30Z */
	CHECK(ON(r, mon + (6 * H + 30 * 60) * MS));
	CHECK(!ON(r, mon + (6 * H + 30 * 60) * MS - 1));
	CHECK(ON(r, mon + (15 * H + 30 * 60) * MS));
	CHECK(!ON(r, mon + (16 * H) * MS)); /* 17:00 local */
	/* 00:00-24:00 is the whole day; 08:00-08:00 is refused */
	struct roster all;
	CHECK_INT(mk(&all, &zs, "Europe/Lisbon", "00:00", "24:00", "Sun"), 0);
	CHECK(roster_on_shift(&all, fri + 23 * H * MS, 0));
	CHECK(!roster_on_shift(&all, fri + (2 * DAY + 12 * H) * MS, 0));
	const char *same[4] = {"UTC", "08:00", "08:00", ""};
	char err[100];
	int bad = -1;
	CHECK_INT(roster_parse(&all, &zs, same, &bad, err, sizeof(err)), -1);
	CHECK_INT(bad, ROSTER_END);
	/* a zero margin */
	CHECK(roster_on_shift(&r, mon + 7 * H * MS, 0));
	CHECK(!roster_on_shift(&r, mon + 7 * H * MS - 1, 0));
	roster_zones_clear(&zs);
}

static void test_night_shift(void)
{
	struct roster_zones zs = {0};
	struct roster r, w;
	int64_t sat = INT64_C(1741392000) * MS; /* 2025-03-08 00:00Z, Sat */
	int64_t sun = sat + DAY * MS;		/* DST starts 07:00Z */
	int64_t mon = sun + DAY * MS;

	CHECK_INT(mk(&r, &zs, "America/New_York", "22:00", "06:00", "Sun"), 0);
	CHECK_INT(mk(&w, &zs, "America/New_York", "22:00", "06:00", "Wed"), 0);
	CHECK_INT((int)zs.n, 1); /* one zone, loaded once */
	/* Saturday 06:30 EST = 11:30Z is the end of Friday's shift + 30 */
	CHECK(ON(r, sat + (11 * H + 30 * 60) * MS));
	CHECK(!ON(r, sat + (11 * H + 31 * 60) * MS));
	/* Saturday's shift (Sunday off) runs into Sunday: 03:00 EDT */
	CHECK(ON(r, sun + 7 * H * MS));
	/* and ends 06:00 EDT = 10:00Z: 06:30 EDT = 10:30Z, not 11:30Z */
	CHECK(ON(r, sun + (10 * H + 30 * 60) * MS));
	CHECK(!ON(r, sun + (10 * H + 31 * 60) * MS));
	CHECK(!ON(r, sun + (11 * H + 20 * 60) * MS));
	/* Sunday's own shift does not exist: 22:00 EDT Sunday = 02:00Z Mon */
	CHECK(!ON(r, mon + 2 * H * MS));
	CHECK(!ON(r, mon + (1 * H + 45 * 60) * MS));
	CHECK(!ON(r, mon + 8 * H * MS)); /* Monday 04:00 EDT */
	/* w works on Sundays: the same instants are on shift */
	CHECK(ON(w, mon + 2 * H * MS));
	CHECK(ON(w, mon + (1 * H + 30 * 60) * MS)); /* 21:30 EDT */
	CHECK(!ON(w, mon + (1 * H + 29 * 60) * MS));
	CHECK(ON(w, mon + 8 * H * MS));
	CHECK(!ON(w, mon + 16 * H * MS)); /* Monday noon */
	roster_zones_clear(&zs);
}

static int has(const struct diag *d, int line, int col, const char *text)
{
	for (size_t i = 0; i < d->n_entries; i++)
		if (d->entries[i].line == line && d->entries[i].column == col &&
		    strstr(d->entries[i].message, text))
			return 1;
	if (d->n_entries)
		diag_print(d, stderr);
	return 0;
}

static void test_directory_checks(void)
{
	static const char csv[] =
	    "agent,team,tz,shift_start,shift_end,days_off\n"
	    "a1,t,Europe/Lisbon,08:00,16:00,Sat;Sun\n"
	    "a2,t,Mars/Base,08:00,16:00,\n"
	    "a3,t,Asia/Manila,8:00,16:00,\n"
	    "a4,t,Asia/Manila,08:00,25:00,\n"
	    "a5,t,,08:00,16:00,\n"
	    "a6,t,Asia/Manila,08:00,,\n"
	    "a7,t,Asia/Manila,22:00,06:00,Sat;Funday\n"
	    "a8,t,Asia/Manila,,,\n"
	    "a9,t,,,,\n";
	struct diag d;

	diag_init(&d);
	CHECK(agentdir_load_buffer("agents.csv", csv, strlen(csv), &d) == NULL);
	CHECK(has(&d, 3, 6, "unknown time zone 'Mars/Base'"));
	CHECK(has(&d, 4, 18, "shift_start is not a time"));
	CHECK(has(&d, 5, 24, "shift_end is not a time"));
	CHECK(has(&d, 6, 6, "a shift needs the agent's tz"));
	CHECK(has(&d, 7, 24, "needs both shift_start and shift_end"));
	CHECK(has(&d, 8, 30, "days_off is not"));
	CHECK_INT(diag_count(&d), 6);
	diag_clear(&d);

	/* the valid rows alone: rosters for a1 and a7 only */
	static const char ok[] =
	    "agent,team,tz,shift_start,shift_end,days_off\n"
	    "a1,t,Europe/Lisbon,08:00,16:00,Sat;Sun\n"
	    "a7,t,Asia/Manila,22:00,06:00,sat;SUN\n"
	    "a8,t,Asia/Manila,,,\n"
	    "a9,t,,,,\n";
	diag_init(&d);
	struct agentdir *a =
	    agentdir_load_buffer("agents.csv", ok, strlen(ok), &d);
	CHECK(a != NULL);
	CHECK_INT(agentdir_roster_count(a), 2);
	const struct roster *r = agentdir_roster(a, "a7", 2);
	CHECK(r && r->start_min == 22 * 60 && r->end_min == 6 * 60 &&
	      r->days_off == 0x60);
	CHECK(agentdir_roster(a, "a8", 2) == NULL);
	CHECK(agentdir_roster(a, "zz", 2) == NULL);
	CHECK(agentdir_roster(NULL, "a1", 2) == NULL);
	agentdir_free(a);
	diag_clear(&d);
}

#define T0 1742169600 /* 2025-03-17T00:00:00Z, Monday */
#define OFFSHIFT(extra)                                                        \
	"title: O\ndetection:\n  sel:\n    action: view\n  condition: sel\n"   \
	"custos:\n  off_shift:\n    margin: 60m\n    days: 14\n"               \
	"    min_days: 5\n" extra

static void test_gate(void)
{
	static const char csv[] = "agent,tz,shift_start,shift_end,days_off\n"
				  "r,Asia/Manila,08:00,16:00,Sun\n"
				  "n,Asia/Manila,,,\n";
	struct diag d;
	diag_init(&d);
	struct agentdir *dir =
	    agentdir_load_buffer("agents.csv", csv, strlen(csv), &d);
	struct ruleset *rs = load(OFFSHIFT(""));
	struct engine *e = start(rs, NULL);
	CHECK(dir && rs && e);
	if (dir == NULL || rs == NULL || e == NULL)
		return;
	engine_set_agentdir(e, dir);

	/* r, Manila (+08): no history needed; 00:30Z = 08:30 local */
	feed(e, rs, T0 + 30 * 60, "agent=r action=view");
	feed(e, rs, T0 - 30 * 60, "agent=r action=view");	  /* 07:30 */
	feed(e, rs, T0 + 8 * H + 30 * 60, "agent=r action=view"); /* 16:30 */
	CHECK_INT((int)n_alerts, 0);
	feed(e, rs, T0 + 8 * H + 31 * 60, "agent=r action=view");
	CHECK_ALERT(0, "O", T0 + 8 * H + 31 * 60, "", 1);
	/* Sunday 2025-03-23 10:00 local is a day off */
	feed(e, rs, T0 + 6 * DAY + 2 * H, "agent=r action=view");
	CHECK_INT((int)n_alerts, 2);
	/* n (no shift) and u (not listed) fall back to learned hours */
	for (int d0 = 0; d0 < 5; d0++)
		for (int h = 9; h < 17; h++) {
			feed(e, rs, T0 + d0 * DAY + h * H,
			     "agent=n action=login");
			feed(e, rs, T0 + d0 * DAY + h * H,
			     "agent=u action=login");
		}
	feed(e, rs, T0 + 5 * DAY + 8 * H + 10 * 60, "agent=u action=view");
	feed(e, rs, T0 + 5 * DAY + 8 * H + 10 * 60, "agent=n action=view");
	CHECK_INT((int)n_alerts, 2);
	feed(e, rs, T0 + 5 * DAY + 21 * H, "agent=u action=view");
	feed(e, rs, T0 + 5 * DAY + 21 * H, "agent=n action=view");
	CHECK_INT((int)n_alerts, 4);
	engine_free(e);
	ruleset_free(rs);

	/* roster_margin: 1m: 16:01:00 local is on shift, 16:01:01 not */
	rs = load(OFFSHIFT("    roster_margin: 1m\n"));
	CHECK(rs != NULL);
	if (rs == NULL)
		return;
	e = start(rs, NULL);
	engine_set_agentdir(e, dir);
	feed(e, rs, T0 + 8 * H + 60, "agent=r action=view");
	CHECK_INT((int)n_alerts, 0);
	feed(e, rs, T0 + 8 * H + 61, "agent=r action=view");
	CHECK_INT((int)n_alerts, 1);
	/* without the directory r is judged on learned hours: no history */
	engine_set_agentdir(e, NULL);
	feed(e, rs, T0 + 8 * H + 120, "agent=r action=view");
	CHECK_INT((int)n_alerts, 1);
	engine_free(e);
	ruleset_free(rs);
	CHECK(load(OFFSHIFT("    roster_margin: 13h\n")) == NULL);
	agentdir_free(dir);
	diag_clear(&d);
}

int main(void)
{
	test_against_libc();
	test_dst_edges();
	test_bad_zones();
	test_day_shift();
	test_night_shift();
	test_directory_checks();
	test_gate();
	return check_done();
}
