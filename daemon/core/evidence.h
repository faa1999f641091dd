/*
 * evidence: an event kept as an alert's evidence sample, shared by every
 * correlation window that samples it and serialised to JSON only when an
 * alert or a checkpoint needs it.
 *
 * A correlation window keeps its last few inputs as evidence.  Most are
 * never shown (their group never fires), so the engine keeps a compact
 * copy of the event (one allocation: the field table and its strings)
 * instead of its JSON, and every window that samples the same event holds
 * a reference to the same copy.  evidence_json() makes the JSON with
 * alert_event_to_json() on first use and caches it, so the text is exactly
 * what the eager path produced.  Evidence restored from a checkpoint or
 * fed by an upstream alert holds its JSON only.
 *
 * Ownership: reference counted (evidence_ref / evidence_unref); not
 * thread-safe (one engine per thread).
 */
#ifndef CUSTOS_EVIDENCE_H
#define CUSTOS_EVIDENCE_H

#include "event.h"

#include <stddef.h>

struct evidence;

/* A compact copy of ev's timestamp and fields (not its source, raw record
 * or slot index); one reference.  NULL on allocation failure. */
struct evidence *evidence_from_event(const struct event *ev);

/* Evidence that is the JSON text json[0..len); one reference.  NULL on
 * allocation failure. */
struct evidence *evidence_from_json(const char *json, size_t len);

/* Adds a reference; returns ev. */
struct evidence *evidence_ref(struct evidence *ev);

/* Drops a reference; the last one frees.  NULL is a no-op. */
void evidence_unref(struct evidence *ev);

/* The JSON (alert_event_to_json() of the copied event), made on first use
 * and kept until the evidence is freed.  NULL on allocation failure. */
const char *evidence_json(struct evidence *ev);

#endif
