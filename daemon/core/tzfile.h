/*
 * tzfile: UTC offsets of IANA time zones ("Europe/Lisbon"), read from the
 * system time zone database: the TZif files (RFC 8536) under $TZDIR, else
 * /usr/share/zoneinfo.  A zone is read once into a sorted table of
 * transitions (UTC second -> offset); instants past the file's last
 * transition follow its POSIX TZ footer ("EST5EDT,M3.2.0,M11.1.0"), which
 * is expanded into explicit transitions up to the end of
 * TZFILE_LAST_YEAR at load (later instants keep the last offset).
 *
 * Why not setenv("TZ") + tzset() + localtime_r(): that changes process-wide
 * state, is not thread-safe and costs a lock and a tz check per call.  A
 * loaded zone is immutable: tzfile_offset() is a binary search over at most
 * a few hundred entries, without locks or allocation.  No clock is read.
 * Bounds: TZFILE_MAX_BYTES a file, TZFILE_MAX_TRANSITIONS transitions.
 */
#ifndef CUSTOS_TZFILE_H
#define CUSTOS_TZFILE_H

#include <stddef.h>
#include <stdint.h>

#define TZFILE_MAX_BYTES (256 * 1024)
#define TZFILE_MAX_TRANSITIONS 4096
#define TZFILE_LAST_YEAR 2100
#define TZFILE_MAX_NAME 128

struct tzfile_zone;

/* Loads zone `name` (an IANA name: letters, digits, '_', '-', '+', '/'; no
 * "..", no leading '/').  Returns NULL with a message in err ("unknown time
 * zone", "not a TZif file", ...). */
struct tzfile_zone *tzfile_load(const char *name, char *err, size_t err_size);

/* Same from a TZif image in memory (tests); name is kept for messages. */
struct tzfile_zone *tzfile_load_buffer(const char *name,
				       const unsigned char *buf, size_t len,
				       char *err, size_t err_size);

void tzfile_free(struct tzfile_zone *z);

/* The name given to tzfile_load() (owned by z). */
const char *tzfile_name(const struct tzfile_zone *z);

/* Seconds east of UTC in zone z at UTC second t. */
int32_t tzfile_offset(const struct tzfile_zone *z, int64_t t);

/* Number of transitions in the table (figures, tests). */
size_t tzfile_count(const struct tzfile_zone *z);

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12). */
int64_t tzfile_days_from_civil(int64_t y, int m, int d);

#endif
