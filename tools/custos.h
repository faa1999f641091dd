/*
 * custos: the command-line tool's command table.  Each subcommand lives in
 * cmd_<verb>.c and is called with argv starting at the verb.  Exit codes
 * follow DESIGN.md: 0 ok, 1 runtime failure, 2 usage or config/rule error.
 */
#ifndef CUSTOS_TOOL_H
#define CUSTOS_TOOL_H

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

int cmd_replay(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_customer(int argc, char **argv);
int cmd_blast(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_purge(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_pcap_events(int argc, char **argv);

#endif
