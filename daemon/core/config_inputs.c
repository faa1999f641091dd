/*
 * config_inputs: the `inputs:` section of the config (one entry per log
 * source: type, path or listen address, decoder format, field map, pcap
 * section) and its dump.  Each entry is checked against input_keys, then
 * against what its type needs; names are unique.  The config owns every
 * string, field map and pcap section filled here.
 */
#include "config.h"

#include "config_int.h"
#include "pcap_http.h"

#include <stdlib.h>
#include <string.h>

static const char *const input_formats[] = {"json", "csv", "kv", NULL};
static const char *const input_types[] = {"file", "stdin", "syslog", "pcap",
					  NULL};
static const char *const syslog_protocols[] = {"udp", "tcp", NULL};

int config_parse_fieldmap(const struct yaml_node *v, void *member,
			  struct diag *d)
{
	struct fieldmap **m = member;

	fieldmap_free(*m);
	*m = fieldmap_compile(yamltree_is_null(v) ? NULL : v, v->file, d);
	return *m ? 0 : -1;
}

static const struct config_key input_keys[] = {
    {.name = "name",
     .type = CONFIG_STRING,
     .required = true,
     .offset = offsetof(struct config_input, name)},
    {.name = "type",
     .type = CONFIG_ENUM,
     .def = -1, /* decided by check_input() */
     .values = input_types,
     .offset = offsetof(struct config_input, type)},
    {.name = "path",
     .type = CONFIG_STRING,
     .offset = offsetof(struct config_input, path)},
    {.name = "listen",
     .type = CONFIG_STRING,
     .offset = offsetof(struct config_input, listen)},
    {.name = "protocol",
     .type = CONFIG_ENUM,
     .def = SYSLOG_UDP,
     .values = syslog_protocols,
     .offset = offsetof(struct config_input, protocol)},
    {.name = "format",
     .type = CONFIG_ENUM,
     .def = INPUT_JSON,
     .values = input_formats,
     .offset = offsetof(struct config_input, format)},
    {.name = "field_map",
     .type = CONFIG_CUSTOM,
     .parse = config_parse_fieldmap,
     .offset = offsetof(struct config_input, field_map)},
    {.name = "pcap",
     .type = CONFIG_CUSTOM,
     .parse = pcap_config_parse,
     .offset = offsetof(struct config_input, pcap)},
    {.name = "max_message_bytes",
     .type = CONFIG_SIZE,
     .min = 256,
     .max = 16LL * 1024 * 1024,
     .def = 0,
     .offset = offsetof(struct config_input, max_message_bytes)},
    {.name = "max_connections",
     .type = CONFIG_SIZE,
     .min = 1,
     .max = 4096,
     .def = 0,
     .offset = offsetof(struct config_input, max_connections)},
    {.name = "idle_timeout",
     .type = CONFIG_DURATION,
     .min = 1000,
     .max = 86400000,
     .def = 0,
     .offset = offsetof(struct config_input, idle_timeout_ms)},
};

/* Keys that only some input types take: key, the types (bit per enum
 * input_type) that accept it. */
static const struct {
	const char *key;
	unsigned types;
} input_key_types[] = {
    {"path", 1u << INPUT_FILE | 1u << INPUT_STDIN | 1u << INPUT_PCAP},
    {"listen", 1u << INPUT_SYSLOG},
    {"protocol", 1u << INPUT_SYSLOG},
    {"max_message_bytes", 1u << INPUT_SYSLOG},
    {"max_connections", 1u << INPUT_SYSLOG},
    {"idle_timeout", 1u << INPUT_SYSLOG},
    {"format", 1u << INPUT_FILE | 1u << INPUT_STDIN | 1u << INPUT_SYSLOG},
    {"field_map", 1u << INPUT_FILE | 1u << INPUT_STDIN | 1u << INPUT_SYSLOG},
    {"pcap", 1u << INPUT_PCAP},
};

/* Rejects keys given for a type that ignores them, and csv where there is
 * no file whose first line is the header (syslog). */
static void check_input_keys(const struct config_input *in,
			     const struct yaml_node *it, struct diag *d)
{
	for (size_t i = 0;
	     i < sizeof(input_key_types) / sizeof(input_key_types[0]); i++) {
		const struct yaml_node *k =
		    yamltree_get(it, input_key_types[i].key);
		if (k == NULL || (input_key_types[i].types & 1u << in->type))
			continue;
		diag_add(d, k->file, k->line, k->column,
			 "'%s' does not apply to inputs of type %s",
			 input_key_types[i].key, input_types[in->type]);
	}
	const struct yaml_node *f = yamltree_get(it, "format");
	if (f != NULL && in->type == INPUT_SYSLOG && in->format == INPUT_CSV)
		diag_add(d, f->file, f->line, f->column,
			 "format csv needs a header line: file and stdin "
			 "inputs only (use json or kv over syslog)");
}

/* The keys each input type needs: a file needs a path, syslog a listen
 * address of the form host:port. */
static void check_input(struct config_input *in, const struct yaml_node *it,
			const char *what, struct diag *d)
{
	if (in->type < 0 && in->pcap != NULL)
		in->type = INPUT_PCAP;
	if (in->type < 0)
		in->type = in->path && strcmp(in->path, "-") == 0 ? INPUT_STDIN
								  : INPUT_FILE;
	check_input_keys(in, it, d);
	if (in->type == INPUT_PCAP && in->pcap == NULL)
		diag_add(d, it->file, it->line, it->column,
			 "missing required key 'pcap' in %s (type pcap)", what);
	if (in->type == INPUT_PCAP && in->pcap && !in->pcap->interface &&
	    (in->path == NULL || strcmp(in->path, "-") == 0))
		diag_add(d, it->file, it->line, it->column,
			 "%s (type pcap) needs pcap.interface (live capture) "
			 "or 'path' (a capture file)",
			 what);
	if (in->type == INPUT_FILE && in->path == NULL)
		diag_add(d, it->file, it->line, it->column,
			 "missing required key 'path' in %s", what);
	if (in->type == INPUT_SYSLOG && in->listen == NULL)
		diag_add(d, it->file, it->line, it->column,
			 "missing required key 'listen' in %s (type syslog)",
			 what);
	if (in->listen != NULL) {
		const char *colon = strrchr(in->listen, ':');
		const struct yaml_node *v = yamltree_get(it, "listen");
		char *end = NULL;
		long port = colon ? strtol(colon + 1, &end, 10) : 0;
		/* ":port" and "*:port" listen on every address */
		if (colon == NULL || end == colon + 1 || *end != '\0' ||
		    port < 1 || port > 65535)
			diag_add(d, v->file, v->line, v->column,
				 "'listen' must be host:port, not '%s'",
				 in->listen);
	}
}

static void check_unique_inputs(const struct config *c, struct diag *d)
{
	for (size_t i = 0; i < c->n_inputs; i++) {
		for (size_t j = 0; j < i; j++) {
			const struct config_input *a = &c->inputs[j];
			const struct config_input *b = &c->inputs[i];
			if (a->name && b->name &&
			    strcmp(a->name, b->name) == 0) {
				diag_add(d, c->file, b->line, b->column,
					 "duplicate input name '%s' (first at "
					 "line %d)",
					 b->name, a->line);
				break;
			}
		}
	}
}

/* member: the struct config (offset 0). */
int config_parse_inputs(const struct yaml_node *v, void *member, struct diag *d)
{
	struct config *c = member;

	if (v->kind != YAML_SEQUENCE) {
		diag_add(d, v->file, v->line, v->column,
			 "'inputs' must be a list, not %s",
			 yamltree_kind_name(v->kind));
		return -1;
	}
	c->inputs = calloc(v->n_items ? v->n_items : 1, sizeof(*c->inputs));
	if (c->inputs == NULL)
		return -1;
	for (size_t i = 0; i < v->n_items; i++) {
		struct config_input *in = &c->inputs[c->n_inputs++];
		const struct yaml_node *it = v->items[i];
		char what[32];
		in->line = it->line;
		in->column = it->column;
		snprintf(what, sizeof(what), "inputs[%zu]", i);
		if (config_apply(it, input_keys,
				 sizeof(input_keys) / sizeof(input_keys[0]), in,
				 what, d) == 0)
			check_input(in, it, what, d);
	}
	check_unique_inputs(c, d);
	return 0;
}

/* ---- dump ---- */

static void dump_syslog_input(const struct config_input *in, FILE *f)
{
	fprintf(f, "    listen: %s\n    protocol: %s\n", in->listen,
		syslog_protocols[in->protocol]);
	if (in->max_message_bytes)
		fprintf(f, "    max_message_bytes: %zu\n",
			in->max_message_bytes);
	if (in->max_connections)
		fprintf(f, "    max_connections: %zu\n", in->max_connections);
	if (in->idle_timeout_ms) {
		char t[32];
		config_format_duration(in->idle_timeout_ms, t, sizeof(t));
		fprintf(f, "    idle_timeout: %s\n", t);
	}
}

void config_dump_inputs(const struct config *c, FILE *f)
{
	fprintf(f, "inputs:%s\n", c->n_inputs ? "" : " []");
	for (size_t i = 0; i < c->n_inputs; i++) {
		const struct config_input *in = &c->inputs[i];
		fprintf(f, "  - name: %s\n    type: %s\n", in->name,
			input_types[in->type]);
		if (in->path != NULL)
			fprintf(f, "    path: %s\n", in->path);
		if (in->type == INPUT_SYSLOG)
			dump_syslog_input(in, f);
		if (in->type != INPUT_PCAP)
			fprintf(f, "    format: %s\n",
				input_formats[in->format]);
		if (in->field_map != NULL) {
			fprintf(f, "    field_map:\n");
			fieldmap_dump(in->field_map, f, 6);
		}
	}
}
