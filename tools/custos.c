/*
 * custos: the analyst and detection-engineer CLI.  Dispatches to one
 * cmd_<verb>() per subcommand.
 */
#include "cli_util.h"
#include "custos.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"replay", cmd_replay,
     "evaluate rules over log files in event time, print alerts"},
    {"lint", cmd_lint, "validate rule files; report file:line:column"},
    {"status", cmd_status, "figures of the running custosd"},
    {"alerts", cmd_alerts, "list, show and triage stored alerts"},
    {"agent", cmd_agent,
     "an agent's timeline: alerts, evidence, daily customers"},
    {"customer", cmd_customer,
     "who accessed a customer, when, with/without ticket"},
    {"blast-radius", cmd_blast, "every customer the given agents touched"},
    {"verify", cmd_verify,
     "check the alert store's hash chain (tamper evidence)"},
    {"purge", cmd_purge, "delete old alerts and access events (retention)"},
    {"stats", cmd_stats, "alert counts per rule, level, agent, status"},
    {"report", cmd_report, "one self-contained HTML report with charts"},
    {"pcap-events", cmd_pcap_events,
     "print the access events found in an HTTP capture (JSON lines)"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: custos COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\n'custos COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("custos %s\n", CUSTOS_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			int rc = commands[i].run(argc - 1, argv + 1);
			/* an error printed on the way: the output is partial */
			return rc == 0 && cli_errors() ? 1 : rc;
		}
	fprintf(stderr, "custos: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
