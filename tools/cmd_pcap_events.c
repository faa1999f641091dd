/*
 * custos pcap-events [--config FILE] [--input NAME] [--unmatched] [--quiet]
 *                    FILE.pcap...
 *
 * Extracts access events from captured HTTP traffic (.pcap or .pcapng) with
 * the route map of a pcap input of the config, and prints them as JSON
 * lines (the event as an alert would show it).  Used to build and check
 * route maps: --unmatched also prints requests no route matches (with
 * their http.method and http.uri only).  A summary of the counters goes to
 * stderr unless --quiet.  No clock is read: times are packet times.
 */
#include "custos.h"

#include "alert.h"
#include "config.h"
#include "pcap_source.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pcap_events_opts {
	const char *config_path, *input_name;
	int unmatched, quiet;
};

static void pe_usage(FILE *f)
{
	fprintf(f, "usage: custos pcap-events [--config FILE] [--input NAME] "
		   "[--unmatched] [--quiet] FILE.pcap...\n"
		   "  Prints the access events found in captured HTTP "
		   "traffic as JSON lines.\n"
		   "  --config FILE  the route map: the first input with a "
		   "pcap: section\n"
		   "  --input NAME   that input instead\n"
		   "  --unmatched    also print requests no route matches\n"
		   "  --quiet        no summary on stderr\n");
}

static int pe_args(struct pcap_events_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, 0, 'c'},
	    {"input", required_argument, 0, 'i'},
	    {"unmatched", no_argument, 0, 'u'},
	    {"quiet", no_argument, 0, 'q'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	int c;

	while ((c = getopt_long(argc, argv, "c:i:uqh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config_path = optarg;
			break;
		case 'i':
			o->input_name = optarg;
			break;
		case 'u':
			o->unmatched = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			pe_usage(stdout);
			return -1;
		default:
			pe_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		pe_usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

static int print_event(void *arg, const struct event *ev)
{
	int *failed = arg;
	char *json = alert_event_to_json(ev);

	if (json == NULL) {
		*failed = 1;
		return 0;
	}
	puts(json);
	free(json);
	return 0;
}

int cmd_pcap_events(int argc, char **argv)
{
	struct pcap_events_opts o = {0};
	struct pcap_source src;
	int failed = 0, rc = pe_args(&o, argc, argv);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (pcap_source_load(&src, o.config_path, o.input_name) < 0)
		return EXIT_USAGE;
	struct fieldtab *tab = fieldtab_new();
	if (tab == NULL) {
		fprintf(stderr, "custos: out of memory\n");
		pcap_source_clear(&src);
		return EXIT_RUNTIME;
	}
	fieldtab_freeze(tab);
	for (int i = optind; i < argc; i++) {
		struct pcap_http_stats st;
		if (pcap_source_run(&src, tab, argv[i], o.unmatched != 0,
				    print_event, &failed, &st) < 0)
			failed = 1;
		else if (!o.quiet)
			pcap_source_print_stats(argv[i], &st, stderr);
	}
	if (fflush(stdout) != 0)
		failed = 1;
	fieldtab_free(tab);
	pcap_source_clear(&src);
	return failed ? EXIT_RUNTIME : 0;
}
