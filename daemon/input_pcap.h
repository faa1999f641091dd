/*
 * input_pcap: the HTTP capture input (input_pcap_ops, declared in
 * input.h).  This header adds what input.h cannot say: the counters
 * specific to capturing, for `custos status` and tests.
 */
#ifndef CUSTOS_INPUT_PCAP_H
#define CUSTOS_INPUT_PCAP_H

#include <stdbool.h>
#include <stdint.h>

#include "input.h"

struct input_pcap_stats {
	bool live;		   /* capturing from an interface */
	uint64_t n_kernel_recv;	   /* pcap_stats ps_recv (live only) */
	uint64_t n_kernel_drop;	   /* ps_drop: no room in the buffer */
	uint64_t n_if_drop;	   /* ps_ifdrop: dropped by the interface */
	uint64_t n_frames;	   /* frames handed to the decoder */
	uint64_t n_unmatched;	   /* requests no route matches */
	uint64_t n_re_limit;	   /* route regexes stopped by limits */
	uint64_t n_malformed;	   /* HTTP that did not parse */
	uint64_t n_flows_evicted;  /* flows dropped at max_flows */
	uint64_t n_rebind_dropped; /* requests in progress at a reload */
};

/* Capture counters.  `in` must come from input_pcap_ops.open. */
void input_pcap_counters(const struct input *in, struct input_pcap_stats *out);

#endif
