/*
 * config_sinks: the `sinks:` section of the config: sinks.syslog (facility,
 * ident, priority per rule level, queue, socket, format) and sinks.forward
 * (remote SIEM collectors: address, transport, format, TLS files, outbox
 * bound).  Forward names become outbox file names, so they are restricted
 * to [A-Za-z0-9_-] and unique.  The config owns every string filled here.
 */
#include "config.h"

#include "config_int.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

/* Index = enum siem_format. */
static const char *const siem_formats[] = {"json", "rfc5424", "cef", "leef",
					   NULL};

/* Index = LOG_* priority value (LOG_EMERG 0 .. LOG_DEBUG 7). */
const char *const config_syslog_priorities[] = {"emerg", "alert",   "crit",
						"err",	 "warning", "notice",
						"info",	 "debug",   NULL};

static const struct {
	const char *name;
	int code;
} syslog_facilities[] = {
    {"auth", LOG_AUTH},	    {"authpriv", LOG_AUTHPRIV}, {"daemon", LOG_DAEMON},
    {"user", LOG_USER},	    {"local0", LOG_LOCAL0},	{"local1", LOG_LOCAL1},
    {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},	{"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},	{"local7", LOG_LOCAL7},
};

static int parse_facility(const struct yaml_node *v, void *member,
			  struct diag *d)
{
	const char *names[N_KEYS(syslog_facilities)];

	if (!config_want_scalar(v, "facility", "a syslog facility name", d))
		return 0;
	for (size_t i = 0; i < N_KEYS(syslog_facilities); i++) {
		names[i] = syslog_facilities[i].name;
		if (strcmp(v->scalar, names[i]) == 0) {
			*(int *)member = syslog_facilities[i].code;
			return 0;
		}
	}
	const char *s = config_suggest(v->scalar, names, N_KEYS(names));
	diag_add(d, v->file, v->line, v->column,
		 "'facility' must be one of auth, authpriv, daemon, user, "
		 "local0..local7, not '%s'%s%s%s",
		 v->scalar, s ? " (did you mean '" : "", s ? s : "",
		 s ? "'?)" : "");
	return 0;
}

static const struct config_key priority_keys_raw[] = {
    {.name = "informational",
     .type = CONFIG_ENUM,
     .def = LOG_INFO,
     .values = config_syslog_priorities,
     .offset =
	 offsetof(struct config_sink_syslog, priority[LEVEL_INFORMATIONAL])},
    {.name = "low",
     .type = CONFIG_ENUM,
     .def = LOG_NOTICE,
     .values = config_syslog_priorities,
     .offset = offsetof(struct config_sink_syslog, priority[LEVEL_LOW])},
    {.name = "medium",
     .type = CONFIG_ENUM,
     .def = LOG_WARNING,
     .values = config_syslog_priorities,
     .offset = offsetof(struct config_sink_syslog, priority[LEVEL_MEDIUM])},
    {.name = "high",
     .type = CONFIG_ENUM,
     .def = LOG_ERR,
     .values = config_syslog_priorities,
     .offset = offsetof(struct config_sink_syslog, priority[LEVEL_HIGH])},
    {.name = "critical",
     .type = CONFIG_ENUM,
     .def = LOG_CRIT,
     .values = config_syslog_priorities,
     .offset = offsetof(struct config_sink_syslog, priority[LEVEL_CRITICAL])},
};

static int parse_priority(const struct yaml_node *v, void *member,
			  struct diag *d)
{
	/* member: priority[0]; the table's offsets are from the sink */
	void *sink =
	    (char *)member - offsetof(struct config_sink_syslog, priority);
	config_apply(v, priority_keys_raw, N_KEYS(priority_keys_raw), sink,
		     "sinks.syslog.priority", d);
	return 0;
}

static const struct config_key sink_syslog_keys[] = {
    {.name = "enabled",
     .type = CONFIG_BOOL,
     .def = 0,
     .offset = offsetof(struct config_sink_syslog, enabled)},
    {.name = "facility",
     .type = CONFIG_CUSTOM,
     .parse = parse_facility,
     .offset = offsetof(struct config_sink_syslog, facility)},
    {.name = "ident",
     .type = CONFIG_STRING,
     .def_str = "custos",
     .offset = offsetof(struct config_sink_syslog, ident)},
    {.name = "priority",
     .type = CONFIG_CUSTOM,
     .parse = parse_priority,
     .offset = offsetof(struct config_sink_syslog, priority)},
    {.name = "queue_max",
     .type = CONFIG_SIZE,
     .min = 1,
     .max = 1000000,
     .def = 10000,
     .offset = offsetof(struct config_sink_syslog, queue_max)},
    {.name = "socket_path",
     .type = CONFIG_STRING,
     .def_str = "/dev/log",
     .offset = offsetof(struct config_sink_syslog, socket_path)},
    {.name = "format",
     .type = CONFIG_ENUM,
     .def = 0,
     .values = siem_formats,
     .offset = offsetof(struct config_sink_syslog, format)},
};

static const char *const forward_transports[] = {"udp", "tcp", "tls", NULL};

static const struct config_key sink_forward_keys[] = {
    {.name = "name",
     .type = CONFIG_STRING,
     .required = true,
     .offset = offsetof(struct config_sink_forward, name)},
    {.name = "address",
     .type = CONFIG_STRING,
     .required = true,
     .offset = offsetof(struct config_sink_forward, address)},
    {.name = "transport",
     .type = CONFIG_ENUM,
     .def = FORWARD_T_TCP,
     .values = forward_transports,
     .offset = offsetof(struct config_sink_forward, transport)},
    {.name = "format",
     .type = CONFIG_ENUM,
     .def = 1, /* rfc5424 */
     .values = siem_formats,
     .offset = offsetof(struct config_sink_forward, format)},
    {.name = "ca_file",
     .type = CONFIG_STRING,
     .offset = offsetof(struct config_sink_forward, ca_file)},
    {.name = "cert_file",
     .type = CONFIG_STRING,
     .offset = offsetof(struct config_sink_forward, cert_file)},
    {.name = "key_file",
     .type = CONFIG_STRING,
     .offset = offsetof(struct config_sink_forward, key_file)},
    {.name = "pseudonymize_key_file",
     .type = CONFIG_STRING,
     .offset = offsetof(struct config_sink_forward, pseudonymize_key_file)},
    {.name = "outbox_max",
     .type = CONFIG_SIZE,
     .min = 1,
     .max = 10000000,
     .def = 100000,
     .offset = offsetof(struct config_sink_forward, outbox_max)},
};

/* Names become outbox file names: [A-Za-z0-9_-], unique. */
static void check_forward(const struct config *c, const struct yaml_node *it,
			  const struct config_sink_forward *f, struct diag *d)
{
	if (f->name &&
	    (f->name[strspn(f->name,
			    "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")] != '\0'))
		diag_add(d, it->file, it->line, it->column,
			 "sinks.forward name '%s' may only hold letters, "
			 "digits, '_' and '-'",
			 f->name);
	for (size_t j = 0; f->name && j + 1 < c->n_sink_forward; j++)
		if (c->sink_forward[j].name &&
		    strcmp(c->sink_forward[j].name, f->name) == 0)
			diag_add(d, it->file, it->line, it->column,
				 "duplicate sinks.forward name '%s'", f->name);
	const char *colon = f->address ? strrchr(f->address, ':') : NULL;
	if (f->address && (colon == NULL || colon == f->address ||
			   atoi(colon + 1) < 1 || atoi(colon + 1) > 65535))
		diag_add(d, it->file, it->line, it->column,
			 "'address' must be host:port, not '%s'", f->address);
}

/* member: the struct config's sink_forward. */
static int parse_sink_forward(const struct yaml_node *v, void *member,
			      struct diag *d)
{
	struct config *c =
	    (struct config *)((char *)member -
			      offsetof(struct config, sink_forward));

	if (v->kind != YAML_SEQUENCE) {
		diag_add(d, v->file, v->line, v->column,
			 "'sinks.forward' must be a list, not %s",
			 yamltree_kind_name(v->kind));
		return -1;
	}
	c->sink_forward =
	    calloc(v->n_items ? v->n_items : 1, sizeof(*c->sink_forward));
	if (c->sink_forward == NULL)
		return -1;
	for (size_t i = 0; i < v->n_items; i++) {
		struct config_sink_forward *f =
		    &c->sink_forward[c->n_sink_forward++];
		char what[40];
		f->line = v->items[i]->line;
		f->column = v->items[i]->column;
		snprintf(what, sizeof(what), "sinks.forward[%zu]", i);
		if (config_apply(v->items[i], sink_forward_keys,
				 N_KEYS(sink_forward_keys), f, what, d) == 0)
			check_forward(c, v->items[i], f, d);
	}
	return 0;
}

/* Defaults of sinks.syslog (also when `sinks:` is absent). */
void config_sink_syslog_defaults(struct config_sink_syslog *s, struct diag *d)
{
	config_apply(NULL, sink_syslog_keys, N_KEYS(sink_syslog_keys), s,
		     "sinks.syslog", d);
	config_apply(NULL, priority_keys_raw, N_KEYS(priority_keys_raw), s,
		     "sinks.syslog.priority", d);
	s->facility = LOG_LOCAL0;
}

static int parse_sink_syslog(const struct yaml_node *v, void *member,
			     struct diag *d)
{
	struct config_sink_syslog *s = member;

	config_sink_syslog_defaults(s, d);
	/* CUSTOM keys (facility, priority) keep the defaults just set */
	config_apply(v, sink_syslog_keys, N_KEYS(sink_syslog_keys), s,
		     "sinks.syslog", d);
	return 0;
}

static const struct config_key sink_keys[] = {
    {.name = "syslog",
     .type = CONFIG_CUSTOM,
     .parse = parse_sink_syslog,
     .offset = offsetof(struct config, sink_syslog)},
    {.name = "forward",
     .type = CONFIG_CUSTOM,
     .parse = parse_sink_forward,
     .offset = offsetof(struct config, sink_forward)},
};

int config_parse_sinks(const struct yaml_node *v, void *member, struct diag *d)
{
	config_apply(v, sink_keys, N_KEYS(sink_keys), member, "sinks", d);
	return 0;
}

const char *config_facility_name(int code)
{
	for (size_t i = 0; i < N_KEYS(syslog_facilities); i++)
		if (syslog_facilities[i].code == code)
			return syslog_facilities[i].name;
	return "?";
}
