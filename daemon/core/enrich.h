/*
 * enrich: the enrich stage for events that were not decoded into the
 * caller's event buffer, such as the access events the pcap input builds
 * from HTTP traffic (pcap_http.h).  Every input path then gets the same
 * agent directory fields (agentdir_enrich(): agent.team, agent.site,
 * agent.role, agent.tz, agent.status) before the engine sees the event.
 *
 * Ownership: the enriched event borrows the names and values of the event
 * it was copied from (valid as long as those are, i.e. for one dispatch)
 * plus the directory's strings, and lives in the caller's buffer until its
 * next event_buf_reset().  No clock, no output.
 */
#ifndef CUSTOS_ENRICH_H
#define CUSTOS_ENRICH_H

#include "agentdir.h"
#include "decode.h"
#include "event.h"

/* When the agent of *in is in directory a: resets b, copies in's fields
 * into it (in must be built against b's field table), adds the agent.*
 * fields and points *out at the result (ts_ms, source and raw kept);
 * returns the number of fields added, or -1 when b is full (*out then
 * holds the event as far as it was copied).  Otherwise (a NULL, no agent,
 * unknown agent) *out = *in and 0 is returned. */
int enrich_copy(const struct agentdir *a, struct event_buf *b,
		const struct event *in, struct event *out);

#endif
