/*
 * config: the custos configuration file (read by `custos replay --config`
 * and by custosd), YAML validated against declarative key tables.
 *
 * Shape (every key optional unless marked; defaults in brackets):
 *
 *     field_map:                 # default map for inputs without their own
 *       ts: { field: time, format: epoch_ms }   # see normalize.h
 *       agent: actor.id
 *     inputs:
 *       - name: crm              # required, unique
 *         type: file             # file | stdin | syslog | pcap  [pcap if
 *                                #  a `pcap:` section is given, else
 *                                #  stdin if path is "-", else file]
 *         path: /var/log/crm/access.json        # file: required
 *         listen: 0.0.0.0:514    # syslog: required, host:port
 *         protocol: udp          # syslog: udp | tcp  [udp]
 *         max_message_bytes: 64KiB  # syslog: 256..16MiB, longer cut
 *         max_connections: 256   # syslog tcp: 1..4096
 *         idle_timeout: 5m       # syslog tcp: 1s..1d
 *         format: json           # json | csv | kv  [json] (decoders are
 *                                #  looked up by name by the daemon);
 *                                #  csv: file and stdin only (the header
 *                                #  is each file's first line); pcap
 *                                #  inputs take no format
 *         field_map: { ... }     # replaces the top-level map entirely
 *         pcap: { ... }          # HTTP capture input: interface, filter,
 *                                #  limits and route map (pcap_http.h);
 *                                #  required for type pcap, which reads
 *                                #  `path` (a capture file) when no
 *                                #  pcap.interface is set
 *     rules: [ /etc/custos/rules, extra.yml ]   # files or directories
 *     lists:                     # for the Sigma `expand` modifier
 *       vip_customers: [ c-1, c-2 ]
 *       decoy_customers: { file: decoys.txt }  # one value a line
 *                                #  (listfile.h); re-read on reload
 *     lookups:
 *       agents: agents.csv       # agent directory CSV (agentdir.h), loaded
 *                                #  with the config; events of listed
 *                                #  agents get agent.team, agent.site,
 *                                #  agent.role, agent.tz, agent.status
 *     limits:
 *       max_groups: 100000       # per correlation rule, 1..100M
 *       max_window_events: 10000 # 1..10M
 *       max_distinct: 10000      # 1..10M
 *       evidence_sample: 10      # 0..1000
 *       max_lateness: 5m         # 0..7d; ms|s|m|h|d suffix, bare = seconds
 *       max_line_bytes: 1MiB     # 256..64MiB; k|KiB|M|MiB|G|GiB suffix
 *     store:
 *       path: /var/lib/custos/alerts.db   # [state_dir/alerts.db]
 *     state_dir: /var/lib/custos # created 0750 by custosd
 *     control_socket: /run/custos/control.sock
 *     user: custos               # custosd drops to these when started as
 *     group: custos              #  root [none: keep running as started]
 *     control_group: adm         # may query the control socket [group]
 *     checkpoint:
 *       every_records: 10000     # 1..10M
 *       every_ms: 2s             # 10ms..1h (a duration)
 *       alerts_every_ms: 200ms   # 0 (off: alerts wait for a checkpoint)
 *                                #  ..1h; new alerts alone, between
 *                                #  checkpoints (checkpoint.h)
 *     status_log_interval: 5m    # 0 (off)..1d
 *     sinks:
 *       syslog:
 *         enabled: false         # true | false
 *         facility: local0       # auth authpriv daemon user local0..7
 *         ident: custos
 *         priority:              # syslog priority per rule level
 *           informational: info  # emerg alert crit err warning notice
 *           low: notice          #  info debug
 *           medium: warning
 *           high: err
 *           critical: crit
 *         queue_max: 10000       # lines waiting for syslog, 1..1M
 *         socket_path: /dev/log  # the unix datagram socket custosd
 *                                #  writes alert lines to [/dev/log]
 *                                #  (not syslog(3): its ident and
 *                                #  facility are process-wide, shared
 *                                #  with custosd's own log)
 *         format: json           # json | rfc5424 | cef | leef [json]
 *       forward:                 # remote SIEM collectors (docs/siem.md)
 *         - name: siem           # required, unique ([A-Za-z0-9_-])
 *           address: 10.0.0.5:6514   # required, host:port
 *           transport: tls       # udp | tcp | tls  [tcp]
 *           format: rfc5424      # rfc5424 | cef | leef | json [rfc5424]
 *           ca_file: /etc/custos/siem-ca.pem    # tls
 *           cert_file: ..., key_file: ...       # tls client auth
 *           pseudonymize_key_file: /etc/custos/pseudo.key
 *           outbox_max: 100000   # records waiting, 1..10M
 *     retention:                 # what custosd keeps in the store
 *       access_events: true      # retain every evaluated event's agent,
 *                                #  customer, action, object, ticket, team
 *                                #  (for `custos agent|customer|
 *                                #  blast-radius`), written with each
 *                                #  checkpoint
 *       max_events: 10000000     # keep at most the newest N (0: no
 *                                #  count limit), 0..1G
 *       max_age: 90d             # custosd purges everything older: alerts
 *                                #  (with evidence and triage), access
 *                                #  events, expired suppressions (as
 *                                #  `custos purge --older-than`); 0: no
 *                                #  age limit, ..100y
 *       purge_interval: 1h       # how often custosd purges; 0: never
 *                                #  (leave it to custos-purge.timer)
 *     seal_interval: 1h          # how often custosd seals the hash chain
 *                                #  and logs the head (the outside
 *                                #  witness); also at exit; 0: exit only
 *
 * Relative paths (inputs, rules, store, lookups) are taken relative to the
 * directory of the config file, so the daemon does not depend on its working
 * directory.  Validation reports every problem in one run, each at
 * file:line:column: unknown keys (with a "did you mean" suggestion), wrong
 * types, out-of-range values, missing required keys, duplicate names.
 *
 * The key-table validator is public so that other YAML-fed modules can
 * share it (normalize uses it for field maps).
 */
#ifndef CUSTOS_CONFIG_H
#define CUSTOS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "engine.h"
#include "normalize.h"
#include "rules.h"
#include "yamltree.h"

enum input_format { INPUT_JSON, INPUT_CSV, INPUT_KV };
enum input_type { INPUT_FILE, INPUT_STDIN, INPUT_SYSLOG, INPUT_PCAP };

struct pcap_config; /* pcap_http.h */
struct agentdir;    /* agentdir.h */
enum syslog_protocol { SYSLOG_UDP, SYSLOG_TCP };
/* Where a file input starts in files that exist at its first start (no
 * saved position); files that appear later are always read from the
 * beginning. */
enum input_start_at { INPUT_START_BEGINNING, INPUT_START_END };

struct config_input {
	char *name;
	/* type (enum input_type): as written, else file (stdin when path
	 * is "-"). */
	int type;     /* enum input_type (daemon) */
	char *listen; /* syslog: "host:port" (daemon) */
	int protocol; /* enum syslog_protocol (daemon) */
	char *path;
	int format;		    /* enum input_format */
	struct fieldmap *field_map; /* owned; NULL = use config's */
	struct pcap_config *pcap;   /* `pcap:` section (owned), or NULL */
	int line, column;	    /* where the entry starts */
	/* File input (daemon fills these; zero = default): */
	int start_at;		/* enum input_start_at [beginning] */
	size_t max_line_bytes;	/* 0: LINES_DEFAULT_MAX_BYTES; the
				   daemon copies config.max_line_bytes */
	int64_t rotate_wait_ms; /* keep reading a rotated file this long
				   after its rotation; 0: 5 s */
	/* Syslog input limits (0 = the input's default): */
	size_t max_message_bytes;
	size_t max_connections;
	int64_t idle_timeout_ms;
};

/* sinks.syslog: read by the syslog alert sink.  facility is the LOG_*
 * code (<syslog.h>); priority[level] the LOG_* priority (LOG_EMERG ..
 * LOG_DEBUG) for alerts of each enum rule_level. */
struct config_sink_syslog {
	bool enabled;
	int facility;
	char *ident;
	int priority[LEVEL_CRITICAL + 1];
	size_t queue_max;  /* lines queued for syslog at most */
	char *socket_path; /* never NULL after config_load */
	int format;	   /* enum siem_format (siem_format.h) [json] */
};

/* sinks.forward[i]: a remote SIEM collector (sink_forward.h). */
enum config_forward_transport { FORWARD_T_UDP, FORWARD_T_TCP, FORWARD_T_TLS };
struct config_sink_forward {
	char *name;    /* required, unique */
	char *address; /* required, host:port */
	int transport; /* enum config_forward_transport [tcp] */
	int format;    /* enum siem_format [rfc5424] */
	char *ca_file, *cert_file, *key_file; /* tls; NULL: none */
	char *pseudonymize_key_file;	      /* NULL: real customer ids */
	size_t outbox_max;		      /* records [100000] */
	int line, column;
};

struct config_checkpoint {
	size_t every_records;
	int64_t every_ms;
	int64_t alerts_every_ms; /* 0: off */
};

/* retention: see above. */
struct config_retention {
	bool access_events;
	size_t max_events;	   /* 0: no count limit */
	int64_t max_age_ms;	   /* 0: no age limit */
	int64_t purge_interval_ms; /* 0: custosd does not purge */
};

struct config {
	char *file;
	struct fieldmap *field_map; /* never NULL after config_load */
	struct config_input *inputs;
	size_t n_inputs;
	char **rule_paths; /* `rules:` files or directories */
	size_t n_rule_paths;
	struct rule_lists lists;
	char **list_files;	 /* list i's file (resolved), NULL: inline */
	char *lookup_agents;	 /* lookups.agents (resolved), or NULL */
	struct agentdir *agents; /* loaded from it (owned), or NULL */
	struct engine_limits limits;
	size_t max_line_bytes;
	char *store_path;     /* default: state_dir/alerts.db */
	char *state_dir;      /* never NULL after config_load */
	char *control_socket; /* never NULL after config_load */
	char *user, *group;   /* NULL: no privilege drop */
	char *control_group;  /* NULL: group */
	struct config_checkpoint checkpoint;
	int64_t status_log_interval_ms; /* 0: off */
	struct config_sink_syslog sink_syslog;
	struct config_retention retention;
	int64_t seal_interval_ms;		  /* 0: seal at exit only */
	struct config_sink_forward *sink_forward; /* sinks.forward */
	size_t n_sink_forward;
};

/* Loads and validates a config file.  Returns NULL with every problem in d.
 * An empty file is a valid config with all defaults. */
struct config *config_load(const char *path, struct diag *d);

/* Same, from memory (tests, fuzzing); name is the file name in messages
 * and the base of relative paths. */
struct config *config_load_buffer(const char *name, const char *buf, size_t len,
				  struct diag *d);

void config_free(struct config *c);

/* The field map for input i (its own, or the config's default). */
const struct fieldmap *config_input_fieldmap(const struct config *c, size_t i);

/* Number of values in every list (inline and from files). */
size_t config_list_values(const struct config *c);

/* Writes the compiled config (defaults filled in) as YAML, for golden tests
 * and `check -v`. */
void config_dump(const struct config *c, FILE *f);

/* ---- key tables ---- */

enum config_type {
	CONFIG_STRING,	 /* non-empty scalar -> char * (malloc'd) */
	CONFIG_SIZE,	 /* integer (suffix k/M/G[iB]) -> size_t */
	CONFIG_DURATION, /* "5m", "30s", "250ms", "2h", "1d", bare
			    seconds -> int64_t ms */
	CONFIG_ENUM,	 /* one of values[] -> int (index) */
	CONFIG_CUSTOM,	 /* parse(value, target + offset, d) */
	CONFIG_BOOL,	 /* true/false (yes/no, on/off) -> bool; def */
};

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;	     /* of the member filled, in the target */
	long long min, max;  /* SIZE: value; DURATION: ms */
	long long def;	     /* SIZE, DURATION, ENUM default */
	const char *def_str; /* STRING default (NULL: none) */
	bool required;
	const char *const *values; /* ENUM, NULL-terminated */
	int (*parse)(const struct yaml_node *v, void *member, struct diag *d);
};

/* Sets every key's default in target, then, if map is not NULL, checks that
 * it is a mapping of known keys and fills target from it.  `what` names the
 * mapping in messages ("limits").  Returns the number of problems added to
 * d (0 = valid). */
int config_apply(const struct yaml_node *map, const struct config_key *keys,
		 size_t n_keys, void *target, const char *what, struct diag *d);

/* The candidate closest to word by edit distance (with transpositions),
 * when close enough to be a likely typo; NULL otherwise. */
const char *config_suggest(const char *word, const char *const *candidates,
			   size_t n);

/* Parses a duration ("5m") / size ("1MiB") text; 0 or -1. */
int config_parse_duration(const char *s, int64_t *ms);
int config_parse_size(const char *s, unsigned long long *out);

#endif
