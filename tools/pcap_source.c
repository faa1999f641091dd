/*
 * pcap_source: config -> pcap input -> capture file, for the CLI (see
 * pcap_source.h).
 */
#include "pcap_source.h"

#include <stdlib.h>
#include <string.h>

int pcap_source_from_config(struct pcap_source *s, const struct config *c,
			    const char *input_name)
{
	memset(s, 0, sizeof(*s));
	s->input_name = input_name ? input_name : "pcap";
	for (size_t i = 0; c && i < c->n_inputs; i++) {
		const struct config_input *in = &c->inputs[i];
		if (input_name ? strcmp(in->name, input_name) == 0
			       : in->pcap != NULL) {
			if (in->pcap == NULL) {
				fprintf(stderr,
					"custos: input '%s' has no pcap: "
					"section\n",
					in->name);
				return -1;
			}
			s->pcap = in->pcap;
			s->input_name = in->name;
			return 0;
		}
	}
	if (input_name) {
		fprintf(stderr, "custos: no input named '%s'\n", input_name);
		return -1;
	}
	if ((s->owned = pcap_config_new_default()) == NULL)
		return -1;
	s->pcap = s->owned;
	return 0;
}

int pcap_source_load(struct pcap_source *s, const char *config_path,
		     const char *input_name)
{
	struct config *c = NULL;
	struct diag d;

	diag_init(&d);
	if (config_path && (c = config_load(config_path, &d)) == NULL) {
		diag_print(&d, stderr);
		diag_clear(&d);
		return -1;
	}
	diag_clear(&d);
	if (pcap_source_from_config(s, c, input_name) < 0) {
		config_free(c);
		return -1;
	}
	s->config = c;
	return 0;
}

void pcap_source_clear(struct pcap_source *s)
{
	pcap_config_free(s->owned);
	config_free(s->config);
	memset(s, 0, sizeof(*s));
}

int pcap_source_run(const struct pcap_source *s, const struct fieldtab *tab,
		    const char *path, bool unmatched, pcap_http_event_fn fn,
		    void *arg, struct pcap_http_stats *st)
{
	char err[512];
	struct pcap_http *p =
	    pcap_http_new(s->pcap, tab, s->input_name, fn, arg);

	if (p == NULL) {
		fprintf(stderr, "custos: out of memory\n");
		return -1;
	}
	pcap_http_set_emit_unmatched(p, unmatched);
	pcap_http_set_source_path(p, path);
	int rc = pcap_http_read_file(p, path, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "custos: %s: %s\n", path, err);
	pcap_http_get_stats(p, st);
	pcap_http_free(p);
	uint64_t lost = st->n_nomem + st->http.n_nomem;
	if (rc == 0 && lost) {
		fprintf(stderr,
			"custos: %s: %llu connections, requests or events "
			"lost: out of memory\n",
			path, (unsigned long long)lost);
		rc = -1;
	}
	return rc;
}

void pcap_source_print_stats(const char *path, const struct pcap_http_stats *st,
			     FILE *f)
{
	fprintf(f,
		"custos: %s: %llu frames, %llu flows, %llu requests, %llu "
		"events, %llu unmatched, %llu unanswered, %llu gaps, %llu "
		"resyncs, %llu bad requests\n",
		path, (unsigned long long)st->n_frames,
		(unsigned long long)st->tcp.n_flows,
		(unsigned long long)st->http.n_requests,
		(unsigned long long)st->n_events,
		(unsigned long long)st->n_unmatched,
		(unsigned long long)st->http.n_unanswered,
		(unsigned long long)st->tcp.n_gaps,
		(unsigned long long)st->http.n_resyncs,
		(unsigned long long)st->http.n_bad_requests);
	if (st->tcp.n_flows_evicted || st->tcp.n_flow_bytes_limit ||
	    st->tcp.n_buffer_limit || st->http.n_header_limit ||
	    st->http.n_pending_limit || st->n_bad_rows || st->n_re_limit)
		fprintf(f,
			"custos: %s: limits hit: %llu flows evicted, %llu "
			"flow-bytes, %llu buffer, %llu header, %llu pending, "
			"%llu bad rows, %llu regex limits\n",
			path, (unsigned long long)st->tcp.n_flows_evicted,
			(unsigned long long)st->tcp.n_flow_bytes_limit,
			(unsigned long long)st->tcp.n_buffer_limit,
			(unsigned long long)st->http.n_header_limit,
			(unsigned long long)st->http.n_pending_limit,
			(unsigned long long)st->n_bad_rows,
			(unsigned long long)st->n_re_limit);
}
