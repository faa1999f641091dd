/*
 * agentdir: the agent directory (config `lookups: { agents: FILE }`), a CSV
 * table of agents with a header line, as custos-gen --directory writes it:
 *
 *     agent,team,site,role,tz,shift_start,shift_end,status,days_off
 *     a-001,billing-1,lisbon,agent,Europe/Lisbon,08:00,16:00,active,Sat;Sun
 *
 * The `agent` column is required and unique; every other column (known or
 * not) is kept.  Fields are plain (no quoting; a '"' is an error).  Bounded:
 * AGENTDIR_MAX_ROWS rows, AGENTDIR_MAX_LINE bytes a line,
 * AGENTDIR_MAX_COLUMNS columns, AGENTDIR_MAX_FILE bytes.  Errors go to the diag
 * as file:line:column (column: 1-based byte offset of the offending field).
 *
 * Enrichment: agentdir_enrich() adds the directory's `team`, `site`, `role`,
 * `tz` and `status` of the event's agent as fields `agent.team`, ... (those
 * columns the directory has, non-empty values only).  Events of agents not in
 * the directory get nothing.  The directory is immutable after loading and
 * owns every string; enriched fields borrow them (the directory must outlive
 * the events).
 *
 * Rosters: the columns tz (an IANA zone of the system tz database),
 * shift_start and shift_end (HH:MM local; an end at or before the start
 * ends the next day) and days_off ("Sat;Sun") are checked at load (bad
 * values are errors at their cell) and compiled into a struct roster per
 * agent (roster.h), for the off_shift extension.  A row without
 * shift_start/shift_end has no roster.
 */
#ifndef CUSTOS_AGENTDIR_H
#define CUSTOS_AGENTDIR_H

#include <stddef.h>

#include "decode.h"
#include "diag.h"
#include "event.h"

#define AGENTDIR_MAX_ROWS 1000000
#define AGENTDIR_MAX_LINE 65536
#define AGENTDIR_MAX_COLUMNS 64
#define AGENTDIR_MAX_FILE (256u * 1024 * 1024)

struct agentdir;

/* Loads the CSV file at path (messages name it `path`).  Returns NULL with
 * every problem in d (at most 20 row errors are listed, then a count). */
struct agentdir *agentdir_load(const char *path, struct diag *d);

/* Same, from memory; name is the file name in messages. */
struct agentdir *agentdir_load_buffer(const char *name, const char *buf,
				      size_t len, struct diag *d);

void agentdir_free(struct agentdir *a);

size_t agentdir_count(const struct agentdir *a);

/* The value of column `column` for agent (len bytes); NULL when the agent or
 * the column is unknown.  "" for an empty cell. */
const char *agentdir_get(const struct agentdir *a, const char *agent,
			 size_t len, const char *column);

/* Adds the agent.* fields of ev's agent to b and re-points ev at b's fields
 * (ts_ms, source and raw are kept).  a may be NULL (nothing to do).  Returns
 * the number of fields added (0: no directory, no agent, unknown agent), or
 * -1 when b is full (the event keeps the fields added so far). */
int agentdir_enrich(const struct agentdir *a, struct event_buf *b,
		    struct event *ev);

struct roster;

/* Number of agents with a roster. */
size_t agentdir_roster_count(const struct agentdir *a);

/* The roster of agent (len bytes), owned by a; NULL when a is NULL, the
 * agent is unknown or has no roster. */
const struct roster *agentdir_roster(const struct agentdir *a,
				     const char *agent, size_t len);

#endif
