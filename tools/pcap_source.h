/*
 * pcap_source: the CLI's shared use of a pcap input — load the route map
 * from a config (or defaults without one) and run a capture file through
 * pcap_http.  Used by `custos pcap-events` and `custos replay --pcap`.
 * Errors are printed on stderr (this is CLI code).
 */
#ifndef CUSTOS_PCAP_SOURCE_H
#define CUSTOS_PCAP_SOURCE_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "pcap_http.h"

struct pcap_source {
	struct config *config;	   /* owned, or NULL */
	struct pcap_config *owned; /* defaults when there is no pcap input */
	const struct pcap_config *pcap;
	const char *input_name;
};

/* Loads config_path (may be NULL) and picks the input named input_name
 * (or the first with a pcap: section).  Returns 0, or -1 after printing
 * the problems. */
int pcap_source_load(struct pcap_source *s, const char *config_path,
		     const char *input_name);

/* Uses an already loaded config (borrowed; NULL for defaults). */
int pcap_source_from_config(struct pcap_source *s, const struct config *c,
			    const char *input_name);

void pcap_source_clear(struct pcap_source *s);

/* Runs one capture file; events go to fn.  Returns 0, or -1 after
 * printing the error (also when requests were lost to allocation
 * failures: the events are incomplete).  *st receives the counters. */
int pcap_source_run(const struct pcap_source *s, const struct fieldtab *tab,
		    const char *path, bool unmatched, pcap_http_event_fn fn,
		    void *arg, struct pcap_http_stats *st);

/* One summary line of the counters that matter. */
void pcap_source_print_stats(const char *path, const struct pcap_http_stats *st,
			     FILE *f);

#endif
