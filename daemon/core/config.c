/*
 * config: the custos configuration file (shape in config.h).
 *
 * Two phases: yamltree gives nodes with positions; then each mapping is
 * checked against a static key table (name, type, bounds, default,
 * required) by config_apply(), which reports every problem and carries on,
 * so one run shows them all.  Mappings whose values need more than a scalar
 * (inputs, lists, field maps) have a CUSTOM entry whose parse function gets
 * the member to fill.  A config owns every string and field map in it;
 * config_free() accepts a half-built one.  Relative paths are resolved
 * against the config file's directory after validation.
 *
 * This file loads, holds the top-level table and the small sections
 * (rules, lists, lookups, limits, store, checkpoint, retention) and dumps;
 * the validator is in config_keys.c, `inputs:` in config_inputs.c,
 * `sinks:` in config_sinks.c (shared declarations: config_int.h).
 */
#include "config.h"

#include "agentdir.h"
#include "config_int.h"

#include "lines.h"
#include "listfile.h"
#include "pcap_http.h"

#include <stdlib.h>
#include <string.h>

/* ---- sections ---- */

/* A list of non-empty strings (or one string); *out is NULL-terminated. */
static int string_list(const struct yaml_node *v, const char *name, char ***out,
		       size_t *n, struct diag *d)
{
	const struct yaml_node *one[1] = {v};
	const struct yaml_node *const *items = one;
	size_t count = 1;

	if (v->kind == YAML_SEQUENCE) {
		items = (const struct yaml_node *const *)v->items;
		count = v->n_items;
	} else if (v->kind != YAML_SCALAR) {
		diag_add(d, v->file, v->line, v->column,
			 "'%s' must be a list of strings, not a mapping", name);
		return -1;
	}
	bool oom = (*out = calloc(count + 1, sizeof(**out))) == NULL;
	*n = 0;
	for (size_t i = 0; !oom && i < count; i++) {
		if (!config_want_scalar(items[i], name, "a list of strings", d))
			continue;
		if (((*out)[*n] = strdup(items[i]->scalar)) == NULL)
			oom = true;
		else
			(*n)++;
	}
	if (oom)
		diag_add(d, v->file, v->line, v->column, "out of memory");
	return oom ? -1 : 0;
}

static int parse_rules(const struct yaml_node *v, void *member, struct diag *d)
{
	struct config *c = member;

	return string_list(v, "rules", &c->rule_paths, &c->n_rule_paths, d);
}

static int resolve(const char *file, char **path);

static const struct config_key list_file_keys[] = {
    {.name = "file", .type = CONFIG_STRING, .required = true, .offset = 0},
};

/* lists.NAME: { file: PATH }: the values of list i from a list file
 * (listfile.h), PATH relative to the config file's directory. */
static void list_from_file(struct config *c, size_t i,
			   const struct yaml_node *v, struct diag *d)
{
	char *path = NULL, what[128];
	size_t n;

	snprintf(what, sizeof(what), "lists.%s", c->lists.names[i]);
	if (config_apply(v, list_file_keys, 1, &path, what, d) != 0 ||
	    path == NULL)
		goto out;
	if (resolve(v->file, &path) < 0) {
		diag_add(d, v->file, v->line, v->column, "out of memory");
		goto out;
	}
	const struct yaml_node *at = yamltree_get(v, "file");
	c->lists.values[i] =
	    listfile_load(path, at->file, at->line, at->column, &n, d);
	c->list_files[i] = path;
	path = NULL;
out:
	free(path);
}

static int parse_lists(const struct yaml_node *v, void *member, struct diag *d)
{
	struct rule_lists *l = &((struct config *)member)->lists;

	if (v->kind != YAML_MAPPING) {
		diag_add(d, v->file, v->line, v->column,
			 "'lists' must be a mapping of name: [values], not %s",
			 yamltree_kind_name(v->kind));
		return -1;
	}
	l->names = calloc(v->n_pairs + 1, sizeof(*l->names));
	l->values = calloc(v->n_pairs + 1, sizeof(*l->values));
	if (l->names == NULL || l->values == NULL)
		return -1;
	struct config *c = member;
	if ((c->list_files = calloc(v->n_pairs + 1, sizeof(char *))) == NULL)
		return -1;
	for (size_t i = 0; i < v->n_pairs; i++) {
		const struct yaml_pair *p = &v->pairs[i];
		size_t n;
		if ((l->names[i] = strdup(p->key->scalar)) == NULL)
			return -1;
		l->n_lists++;
		if (p->value->kind == YAML_MAPPING)
			list_from_file(c, i, p->value, d);
		else
			string_list(p->value, p->key->scalar, &l->values[i], &n,
				    d);
	}
	return 0;
}

static const struct config_key limit_keys[] = {
    {.name = "max_groups",
     .type = CONFIG_SIZE,
     .min = 1,
     .max = 100000000,
     .def = 100000,
     .offset = offsetof(struct config, limits.max_groups)},
    {.name = "max_window_events",
     .type = CONFIG_SIZE,
     .min = 1,
     .max = 10000000,
     .def = 10000,
     .offset = offsetof(struct config, limits.max_window_events)},
    {.name = "max_distinct",
     .type = CONFIG_SIZE,
     .min = 1,
     .max = 10000000,
     .def = 10000,
     .offset = offsetof(struct config, limits.max_distinct)},
    {.name = "evidence_sample",
     .type = CONFIG_SIZE,
     .min = 0,
     .max = 1000,
     .def = 10,
     .offset = offsetof(struct config, limits.evidence_sample)},
    {.name = "max_lateness",
     .type = CONFIG_DURATION,
     .min = 0,
     .max = 7LL * 86400000,
     .def = 5 * 60000,
     .offset = offsetof(struct config, limits.max_lateness_ms)},
    {.name = "max_line_bytes",
     .type = CONFIG_SIZE,
     .min = 256,
     .max = 64LL * 1024 * 1024,
     .def = 1024 * 1024,
     .offset = offsetof(struct config, max_line_bytes)},
};

static const struct config_key store_keys[] = {
    {.name = "path",
     .type = CONFIG_STRING,
     .offset = offsetof(struct config, store_path)},
};

static const struct config_key checkpoint_keys[] = {
    {.name = "every_records",
     .type = CONFIG_SIZE,
     .min = 1,
     .max = 10000000,
     .def = 200000,
     .offset = offsetof(struct config, checkpoint.every_records)},
    {.name = "every_ms",
     .type = CONFIG_DURATION,
     .min = 10,
     .max = 3600000,
     .def = 1000,
     .offset = offsetof(struct config, checkpoint.every_ms)},
    {.name = "alerts_every_ms",
     .type = CONFIG_DURATION,
     .min = 0,
     .max = 3600000,
     .def = 200,
     .offset = offsetof(struct config, checkpoint.alerts_every_ms)},
};

static const struct config_key retention_keys[] = {
    {.name = "access_events",
     .type = CONFIG_BOOL,
     .def = 1,
     .offset = offsetof(struct config, retention.access_events)},
    {.name = "max_events",
     .type = CONFIG_SIZE,
     .min = 0,
     .max = 1LL << 30,
     .def = 10000000,
     .offset = offsetof(struct config, retention.max_events)},
    {.name = "max_age",
     .type = CONFIG_DURATION,
     .min = 0,
     .max = 36500LL * 86400000,
     .def = 90LL * 86400000,
     .offset = offsetof(struct config, retention.max_age_ms)},
    {.name = "purge_interval",
     .type = CONFIG_DURATION,
     .min = 0,
     .max = 7LL * 86400000,
     .def = 3600000,
     .offset = offsetof(struct config, retention.purge_interval_ms)},
};

static int parse_retention(const struct yaml_node *v, void *member,
			   struct diag *d)
{
	config_apply(v, retention_keys, N_KEYS(retention_keys), member,
		     "retention", d);
	return 0;
}

static int parse_checkpoint(const struct yaml_node *v, void *member,
			    struct diag *d)
{
	config_apply(v, checkpoint_keys, N_KEYS(checkpoint_keys), member,
		     "checkpoint", d);
	return 0;
}

static int parse_limits(const struct yaml_node *v, void *member, struct diag *d)
{
	config_apply(v, limit_keys, N_KEYS(limit_keys), member, "limits", d);
	return 0;
}

static int parse_store(const struct yaml_node *v, void *member, struct diag *d)
{
	config_apply(v, store_keys, N_KEYS(store_keys), member, "store", d);
	return 0;
}

static const struct config_key lookup_keys[] = {
    {.name = "agents",
     .type = CONFIG_STRING,
     .offset = offsetof(struct config, lookup_agents)},
};

static int parse_lookups(const struct yaml_node *v, void *member,
			 struct diag *d)
{
	config_apply(v, lookup_keys, N_KEYS(lookup_keys), member, "lookups", d);
	return 0;
}

static const struct config_key top_keys[] = {
    {.name = "field_map",
     .type = CONFIG_CUSTOM,
     .parse = config_parse_fieldmap,
     .offset = offsetof(struct config, field_map)},
    {.name = "inputs", .type = CONFIG_CUSTOM, .parse = config_parse_inputs},
    {.name = "rules", .type = CONFIG_CUSTOM, .parse = parse_rules},
    {.name = "lists", .type = CONFIG_CUSTOM, .parse = parse_lists},
    {.name = "lookups", .type = CONFIG_CUSTOM, .parse = parse_lookups},
    {.name = "limits", .type = CONFIG_CUSTOM, .parse = parse_limits},
    {.name = "store", .type = CONFIG_CUSTOM, .parse = parse_store},
    {.name = "state_dir",
     .type = CONFIG_STRING,
     .def_str = "/var/lib/custos",
     .offset = offsetof(struct config, state_dir)},
    {.name = "control_socket",
     .type = CONFIG_STRING,
     .def_str = "/run/custos/control.sock",
     .offset = offsetof(struct config, control_socket)},
    {.name = "user",
     .type = CONFIG_STRING,
     .offset = offsetof(struct config, user)},
    {.name = "group",
     .type = CONFIG_STRING,
     .offset = offsetof(struct config, group)},
    {.name = "control_group",
     .type = CONFIG_STRING,
     .offset = offsetof(struct config, control_group)},
    {.name = "checkpoint", .type = CONFIG_CUSTOM, .parse = parse_checkpoint},
    {.name = "status_log_interval",
     .type = CONFIG_DURATION,
     .min = 0,
     .max = 86400000,
     .def = 300000,
     .offset = offsetof(struct config, status_log_interval_ms)},
    {.name = "sinks", .type = CONFIG_CUSTOM, .parse = config_parse_sinks},
    {.name = "retention", .type = CONFIG_CUSTOM, .parse = parse_retention},
    {.name = "seal_interval",
     .type = CONFIG_DURATION,
     .min = 0,
     .max = 7LL * 86400000,
     .def = 3600000,
     .offset = offsetof(struct config, seal_interval_ms)},
};

/* ---- loading ---- */

/* dir/path for a relative path (not "-"); 0 or -1 on allocation failure. */
static int resolve(const char *file, char **path)
{
	const char *slash = strrchr(file, '/');

	if (*path == NULL || (*path)[0] == '/' || strcmp(*path, "-") == 0 ||
	    slash == NULL)
		return 0;
	int dir_len = (int)(slash - file);
	size_t size = (size_t)dir_len + strlen(*path) + 2;
	char *full = malloc(size);
	if (full == NULL)
		return -1;
	snprintf(full, size, "%.*s/%s", dir_len, file, *path);
	free(*path);
	*path = full;
	return 0;
}

static int resolve_paths(struct config *c)
{
	int rc = resolve(c->file, &c->state_dir);

	rc |= resolve(c->file, &c->control_socket);
	if (c->store_path == NULL && c->state_dir != NULL) {
		size_t size = strlen(c->state_dir) + sizeof("/alerts.db");
		if ((c->store_path = malloc(size)) == NULL)
			return -1;
		snprintf(c->store_path, size, "%s/alerts.db", c->state_dir);
	} else {
		rc |= resolve(c->file, &c->store_path);
	}

	for (size_t i = 0; i < c->n_rule_paths; i++)
		rc |= resolve(c->file, &c->rule_paths[i]);
	for (size_t i = 0; i < c->n_inputs; i++)
		rc |= resolve(c->file, &c->inputs[i].path);
	rc |= resolve(c->file, &c->sink_syslog.socket_path);
	rc |= resolve(c->file, &c->lookup_agents);
	for (size_t i = 0; i < c->n_sink_forward; i++) {
		rc |= resolve(c->file, &c->sink_forward[i].ca_file);
		rc |= resolve(c->file, &c->sink_forward[i].cert_file);
		rc |= resolve(c->file, &c->sink_forward[i].key_file);
		rc |=
		    resolve(c->file, &c->sink_forward[i].pseudonymize_key_file);
	}
	return rc;
}

static struct config *
config_from_docs(const char *name, const struct yaml_docs *docs, struct diag *d)
{
	struct config *c = calloc(1, sizeof(*c));
	size_t before = diag_count(d);

	if (c == NULL || (c->file = strdup(name)) == NULL) {
		diag_add(d, name, 0, 0, "out of memory");
		free(c);
		return NULL;
	}
	if (docs->n_docs > 1)
		diag_add(d, name, docs->docs[1]->line, docs->docs[1]->column,
			 "a config file holds one YAML document, not %zu",
			 docs->n_docs);
	config_apply(NULL, limit_keys, N_KEYS(limit_keys), c, "limits", d);
	config_apply(NULL, store_keys, N_KEYS(store_keys), c, "store", d);
	config_apply(NULL, checkpoint_keys, N_KEYS(checkpoint_keys), c,
		     "checkpoint", d);
	config_sink_syslog_defaults(&c->sink_syslog, d);
	config_apply(NULL, retention_keys, N_KEYS(retention_keys), c,
		     "retention", d);
	config_apply(docs->n_docs ? docs->docs[0] : NULL, top_keys,
		     N_KEYS(top_keys), c, "config", d);
	if (c->field_map == NULL && diag_count(d) == before)
		c->field_map = fieldmap_compile(NULL, name, d);
	for (size_t i = 0; i < c->n_inputs; i++)
		c->inputs[i].max_line_bytes = c->max_line_bytes;
	if (diag_count(d) == before && resolve_paths(c) < 0)
		diag_add(d, name, 0, 0, "out of memory");
	if (diag_count(d) == before && c->lookup_agents)
		c->agents = agentdir_load(c->lookup_agents, d);
	if (diag_count(d) > before) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct config *config_load_buffer(const char *name, const char *buf, size_t len,
				  struct diag *d)
{
	struct yaml_docs *docs = yamltree_load_buffer(name, buf, len, d);

	if (docs == NULL)
		return NULL;
	struct config *c = config_from_docs(name, docs, d);
	yamltree_free(docs);
	return c;
}

struct config *config_load(const char *path, struct diag *d)
{
	struct yaml_docs *docs = yamltree_load_file(path, d);

	if (docs == NULL)
		return NULL;
	struct config *c = config_from_docs(path, docs, d);
	yamltree_free(docs);
	return c;
}

static void free_strings(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_inputs; i++) {
		free(c->inputs[i].name);
		free(c->inputs[i].path);
		free(c->inputs[i].listen);
		fieldmap_free(c->inputs[i].field_map);
		pcap_config_free(c->inputs[i].pcap);
	}
	free(c->inputs);
	free_strings(c->rule_paths, c->n_rule_paths);
	for (size_t i = 0; i < c->lists.n_lists; i++) {
		char **v = c->lists.values[i];
		for (size_t j = 0; v != NULL && v[j] != NULL; j++)
			free(v[j]);
		free(v);
	}
	free_strings(c->lists.names, c->lists.n_lists);
	free_strings(c->list_files, c->lists.n_lists);
	free(c->lookup_agents);
	agentdir_free(c->agents);
	free(c->lists.values);
	fieldmap_free(c->field_map);
	free(c->store_path);
	free(c->state_dir);
	free(c->control_socket);
	free(c->user);
	free(c->group);
	free(c->control_group);
	free(c->sink_syslog.ident);
	free(c->sink_syslog.socket_path);
	for (size_t i = 0; i < c->n_sink_forward; i++) {
		struct config_sink_forward *f = &c->sink_forward[i];
		free(f->name);
		free(f->address);
		free(f->ca_file);
		free(f->cert_file);
		free(f->key_file);
		free(f->pseudonymize_key_file);
	}
	free(c->sink_forward);
	free(c->file);
	free(c);
}

const struct fieldmap *config_input_fieldmap(const struct config *c, size_t i)
{
	if (i < c->n_inputs && c->inputs[i].field_map != NULL)
		return c->inputs[i].field_map;
	return c->field_map;
}

/* ---- dump ---- */

static void dump_lists(const struct config *c, FILE *f)
{
	fprintf(f, "rules:%s\n", c->n_rule_paths ? "" : " []");
	for (size_t i = 0; i < c->n_rule_paths; i++)
		fprintf(f, "  - %s\n", c->rule_paths[i]);
	fprintf(f, "lists:%s\n", c->lists.n_lists ? "" : " {}");
	for (size_t i = 0; i < c->lists.n_lists; i++) {
		char **v = c->lists.values[i];
		if (c->list_files && c->list_files[i]) {
			size_t n = 0;
			while (v && v[n])
				n++;
			fprintf(f, "  %s: { file: %s }  # %zu values\n",
				c->lists.names[i], c->list_files[i], n);
			continue;
		}
		fprintf(f, "  %s:%s\n", c->lists.names[i],
			v && v[0] ? "" : " []");
		for (size_t j = 0; v != NULL && v[j] != NULL; j++)
			fprintf(f, "    - %s\n", v[j]);
	}
	if (c->lookup_agents)
		fprintf(f, "lookups:\n  agents: %s  # %zu agents\n",
			c->lookup_agents, agentdir_count(c->agents));
}

static void dump_daemon(const struct config *c, FILE *f)
{
	const struct config_sink_syslog *s = &c->sink_syslog;
	char every[32], status[32], alerts[32];

	config_format_duration(c->checkpoint.every_ms, every, sizeof(every));
	config_format_duration(c->checkpoint.alerts_every_ms, alerts,
			       sizeof(alerts));
	config_format_duration(c->status_log_interval_ms, status,
			       sizeof(status));
	fprintf(f,
		"state_dir: %s\ncontrol_socket: %s\nuser: %s\ngroup: %s\n"
		"control_group: %s\ncheckpoint:\n  every_records: %zu\n"
		"  every_ms: %s\n  alerts_every_ms: %s\n"
		"status_log_interval: %s\n",
		c->state_dir, c->control_socket, c->user ? c->user : "~",
		c->group ? c->group : "~",
		c->control_group ? c->control_group : "~",
		c->checkpoint.every_records, every,
		c->checkpoint.alerts_every_ms ? alerts : "0",
		c->status_log_interval_ms ? status : "0");
	fprintf(f,
		"sinks:\n  syslog:\n    enabled: %s\n    facility: %s\n"
		"    ident: %s\n    priority:\n",
		s->enabled ? "true" : "false",
		config_facility_name(s->facility), s->ident);
	for (int l = LEVEL_INFORMATIONAL; l <= LEVEL_CRITICAL; l++)
		fprintf(f, "      %s: %s\n", rule_level_name(l),
			config_syslog_priorities[s->priority[l]]);
	fprintf(f, "    queue_max: %zu\n    socket_path: %s\n", s->queue_max,
		s->socket_path ? s->socket_path : "~");
}

static void dump_retention(const struct config *c, FILE *f)
{
	const struct config_retention *r = &c->retention;
	char age[32], purge[32], seal[32];

	config_format_duration(r->max_age_ms, age, sizeof(age));
	config_format_duration(r->purge_interval_ms, purge, sizeof(purge));
	config_format_duration(c->seal_interval_ms, seal, sizeof(seal));
	fprintf(f,
		"retention:\n  access_events: %s\n  max_events: %zu\n"
		"  max_age: %s\n  purge_interval: %s\nseal_interval: %s\n",
		r->access_events ? "true" : "false", r->max_events,
		r->max_age_ms ? age : "0", r->purge_interval_ms ? purge : "0",
		c->seal_interval_ms ? seal : "0");
}

void config_dump(const struct config *c, FILE *f)
{
	char lateness[32];

	fprintf(f, "field_map:\n");
	fieldmap_dump(c->field_map, f, 2);
	config_dump_inputs(c, f);
	dump_lists(c, f);
	config_format_duration(c->limits.max_lateness_ms, lateness,
			       sizeof(lateness));
	fprintf(f,
		"limits:\n  max_groups: %zu\n  max_window_events: %zu\n"
		"  max_distinct: %zu\n  evidence_sample: %zu\n"
		"  max_lateness: %s\n  max_line_bytes: %zu\n",
		c->limits.max_groups, c->limits.max_window_events,
		c->limits.max_distinct, c->limits.evidence_sample, lateness,
		c->max_line_bytes);
	fprintf(f, "store:\n  path: %s\n", c->store_path);
	dump_daemon(c, f);
	dump_retention(c, f);
}

size_t config_list_values(const struct config *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->lists.n_lists; i++)
		for (char **v = c->lists.values[i]; v && *v; v++)
			n++;
	return n;
}
