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
 */
#include "config.h"

#include "agentdir.h"

#include "lines.h"
#include "listfile.h"
#include "pcap_http.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

/* ---- suggestions ---- */

/* Optimal string alignment distance (Levenshtein + transpositions). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[3][65];

	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = d[i % 3], *prev = d[(i - 1) % 3];
		size_t *prev2 = d[(i + 1) % 3];
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
	}
	return d[la % 3][lb];
}

const char *config_suggest(const char *word, const char *const *candidates,
			   size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, len = strlen(word);
	size_t limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;

	for (size_t i = 0; i < n; i++) {
		size_t dist = edit_distance(word, candidates[i]);
		if (dist < best_d) {
			best_d = dist;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

/* ---- scalar parsing ---- */

int config_parse_size(const char *s, unsigned long long *out)
{
	static const struct {
		const char *suffix;
		unsigned long long mult;
	} units[] = {
	    {"", 1},	       {"k", 1024},	   {"K", 1024},
	    {"KiB", 1024},     {"M", 1024 * 1024}, {"MiB", 1024 * 1024},
	    {"G", 1ull << 30}, {"GiB", 1ull << 30}};
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (v > ULLONG_MAX / units[i].mult)
				return -1;
			*out = v * units[i].mult;
			return 0;
		}
	}
	return -1;
}

int config_parse_duration(const char *s, int64_t *ms)
{
	static const struct {
		const char *suffix;
		int64_t ms;
	} units[] = {{"", 1000},   {"ms", 1},	   {"s", 1000},
		     {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (v > INT64_MAX / units[i].ms)
				return -1;
			*ms = v * units[i].ms;
			return 0;
		}
	}
	return -1;
}

/* The largest unit that divides ms exactly: "5m", "1500ms". */
static void format_duration(int64_t ms, char *out, size_t size)
{
	static const struct {
		const char *suffix;
		int64_t ms;
	} units[] = {
	    {"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(out, size, "%lld%s",
				 (long long)(ms / units[i].ms),
				 units[i].suffix);
			return;
		}
	}
	snprintf(out, size, "%lldms", (long long)ms);
}

/* ---- the key-table validator ---- */

static bool want_scalar(const struct yaml_node *v, const char *name,
			const char *what_kind, struct diag *d)
{
	if (v->kind == YAML_SCALAR && !yamltree_is_null(v) && v->scalar_len)
		return true;
	diag_add(d, v->file, v->line, v->column, "'%s' must be %s, not %s",
		 name, what_kind,
		 v->kind == YAML_SCALAR ? "empty"
					: yamltree_kind_name(v->kind));
	return false;
}

static void apply_number(const struct config_key *k, const struct yaml_node *v,
			 void *member, struct diag *d)
{
	unsigned long long u = 0;
	int64_t ms = 0;
	bool dur = k->type == CONFIG_DURATION;

	if (!want_scalar(v, k->name, dur ? "a duration" : "an integer", d))
		return;
	int rc = dur ? config_parse_duration(v->scalar, &ms)
		     : config_parse_size(v->scalar, &u);
	long long val = dur ? ms : (long long)u;
	if (rc == 0 && u <= LLONG_MAX && val >= k->min && val <= k->max) {
		if (dur)
			*(int64_t *)member = ms;
		else
			*(size_t *)member = (size_t)u;
		return;
	}
	if (dur) {
		char lo[32], hi[32];
		format_duration(k->min, lo, sizeof(lo));
		format_duration(k->max, hi, sizeof(hi));
		diag_add(d, v->file, v->line, v->column,
			 "'%s' must be a duration between %s and %s (e.g. 30s, "
			 "5m, 2h), not '%s'",
			 k->name, lo, hi, v->scalar);
	} else {
		diag_add(d, v->file, v->line, v->column,
			 "'%s' must be an integer between %lld and %lld, not "
			 "'%s'",
			 k->name, k->min, k->max, v->scalar);
	}
}

static void apply_enum(const struct config_key *k, const struct yaml_node *v,
		       int *member, struct diag *d)
{
	size_t n = 0;
	char list[256] = "";

	if (!want_scalar(v, k->name, "a name", d))
		return;
	for (; k->values[n] != NULL; n++) {
		if (strcmp(v->scalar, k->values[n]) == 0) {
			*member = (int)n;
			return;
		}
		size_t l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%s", n ? ", " : "",
			 k->values[n]);
	}
	const char *s = config_suggest(v->scalar, k->values, n);
	diag_add(d, v->file, v->line, v->column,
		 "'%s' must be one of %s, not '%s'%s%s%s", k->name, list,
		 v->scalar, s ? " (did you mean '" : "", s ? s : "",
		 s ? "'?)" : "");
}

static void apply_bool(const struct config_key *k, const struct yaml_node *v,
		       bool *member, struct diag *d)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};

	if (!want_scalar(v, k->name, "true or false", d))
		return;
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(v->scalar, yes[i]) == 0 ||
		    strcmp(v->scalar, no[i]) == 0) {
			*member = strcmp(v->scalar, yes[i]) == 0;
			return;
		}
	}
	diag_add(d, v->file, v->line, v->column,
		 "'%s' must be true or false, not '%s'", k->name, v->scalar);
}

static void apply_one(const struct config_key *k, const struct yaml_node *v,
		      void *target, struct diag *d)
{
	void *member = (char *)target + k->offset;
	size_t before = diag_count(d);

	switch (k->type) {
	case CONFIG_STRING:
		if (want_scalar(v, k->name, "a string", d)) {
			char *s = strdup(v->scalar);
			if (s == NULL)
				break;
			free(*(char **)member);
			*(char **)member = s;
		}
		return;
	case CONFIG_SIZE:
	case CONFIG_DURATION:
		apply_number(k, v, member, d);
		return;
	case CONFIG_ENUM:
		apply_enum(k, v, member, d);
		return;
	case CONFIG_BOOL:
		apply_bool(k, v, member, d);
		return;
	case CONFIG_CUSTOM:
		if (k->parse(v, member, d) == 0 || diag_count(d) > before)
			return;
		break;
	}
	diag_add(d, v->file, v->line, v->column, "out of memory");
}

static void set_default(const struct config_key *k, void *target)
{
	void *member = (char *)target + k->offset;

	switch (k->type) {
	case CONFIG_STRING:
		free(*(char **)member);
		*(char **)member = k->def_str ? strdup(k->def_str) : NULL;
		break;
	case CONFIG_SIZE:
		*(size_t *)member = (size_t)k->def;
		break;
	case CONFIG_DURATION:
		*(int64_t *)member = k->def;
		break;
	case CONFIG_ENUM:
		*(int *)member = (int)k->def;
		break;
	case CONFIG_BOOL:
		*(bool *)member = k->def != 0;
		break;
	case CONFIG_CUSTOM:
		break;
	}
}

static void unknown_key(const struct yaml_node *key,
			const struct config_key *keys, size_t n_keys,
			const char *what, struct diag *d)
{
	const char *names[64];
	size_t n = n_keys < 64 ? n_keys : 64;

	for (size_t i = 0; i < n; i++)
		names[i] = keys[i].name;
	const char *s = config_suggest(key->scalar, names, n);
	if (s != NULL)
		diag_add(d, key->file, key->line, key->column,
			 "unknown key '%s' in %s (did you mean '%s'?)",
			 key->scalar, what, s);
	else
		diag_add(d, key->file, key->line, key->column,
			 "unknown key '%s' in %s", key->scalar, what);
}

int config_apply(const struct yaml_node *map, const struct config_key *keys,
		 size_t n_keys, void *target, const char *what, struct diag *d)
{
	size_t before = diag_count(d);

	for (size_t i = 0; i < n_keys; i++)
		set_default(&keys[i], target);
	if (map == NULL || (map->kind == YAML_SCALAR && yamltree_is_null(map)))
		goto required;
	if (map->kind != YAML_MAPPING) {
		diag_add(d, map->file, map->line, map->column,
			 "%s must be a mapping, not %s", what,
			 map->kind == YAML_SCALAR ? "a scalar" : "a list");
		return (int)(diag_count(d) - before);
	}
	for (size_t p = 0; p < map->n_pairs; p++) {
		const struct yaml_pair *pr = &map->pairs[p];
		size_t i = 0;
		while (i < n_keys && strcmp(keys[i].name, pr->key->scalar) != 0)
			i++;
		if (i == n_keys)
			unknown_key(pr->key, keys, n_keys, what, d);
		else
			apply_one(&keys[i], pr->value, target, d);
	}
required:
	for (size_t i = 0; i < n_keys; i++) {
		if (keys[i].required && yamltree_get(map, keys[i].name) == NULL)
			diag_add(d, map ? map->file : NULL, map ? map->line : 0,
				 map ? map->column : 0,
				 "missing required key '%s' in %s",
				 keys[i].name, what);
	}
	return (int)(diag_count(d) - before);
}

/* ---- sections ---- */

static const char *const input_formats[] = {"json", "csv", "kv", NULL};
static const char *const input_types[] = {"file", "stdin", "syslog", "pcap",
					  NULL};
static const char *const syslog_protocols[] = {"udp", "tcp", NULL};

static int parse_fieldmap(const struct yaml_node *v, void *member,
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
     .parse = parse_fieldmap,
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
static int parse_inputs(const struct yaml_node *v, void *member, struct diag *d)
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
		if (!want_scalar(items[i], name, "a list of strings", d))
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
};

/* Index = enum siem_format. */
static const char *const siem_formats[] = {"json", "rfc5424", "cef", "leef",
					   NULL};

/* Index = LOG_* priority value (LOG_EMERG 0 .. LOG_DEBUG 7). */
static const char *const syslog_priorities[] = {"emerg", "alert",   "crit",
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

#define N_KEYS(k) (sizeof(k) / sizeof((k)[0]))

static int parse_facility(const struct yaml_node *v, void *member,
			  struct diag *d)
{
	const char *names[N_KEYS(syslog_facilities)];

	if (!want_scalar(v, "facility", "a syslog facility name", d))
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
     .values = syslog_priorities,
     .offset =
	 offsetof(struct config_sink_syslog, priority[LEVEL_INFORMATIONAL])},
    {.name = "low",
     .type = CONFIG_ENUM,
     .def = LOG_NOTICE,
     .values = syslog_priorities,
     .offset = offsetof(struct config_sink_syslog, priority[LEVEL_LOW])},
    {.name = "medium",
     .type = CONFIG_ENUM,
     .def = LOG_WARNING,
     .values = syslog_priorities,
     .offset = offsetof(struct config_sink_syslog, priority[LEVEL_MEDIUM])},
    {.name = "high",
     .type = CONFIG_ENUM,
     .def = LOG_ERR,
     .values = syslog_priorities,
     .offset = offsetof(struct config_sink_syslog, priority[LEVEL_HIGH])},
    {.name = "critical",
     .type = CONFIG_ENUM,
     .def = LOG_CRIT,
     .values = syslog_priorities,
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
static void sink_syslog_defaults(struct config_sink_syslog *s, struct diag *d)
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

	sink_syslog_defaults(s, d);
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

static int parse_sinks(const struct yaml_node *v, void *member, struct diag *d)
{
	config_apply(v, sink_keys, N_KEYS(sink_keys), member, "sinks", d);
	return 0;
}

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
     .parse = parse_fieldmap,
     .offset = offsetof(struct config, field_map)},
    {.name = "inputs", .type = CONFIG_CUSTOM, .parse = parse_inputs},
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
    {.name = "sinks", .type = CONFIG_CUSTOM, .parse = parse_sinks},
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
	sink_syslog_defaults(&c->sink_syslog, d);
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
		format_duration(in->idle_timeout_ms, t, sizeof(t));
		fprintf(f, "    idle_timeout: %s\n", t);
	}
}

static void dump_inputs(const struct config *c, FILE *f)
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

static const char *facility_name(int code)
{
	for (size_t i = 0; i < N_KEYS(syslog_facilities); i++)
		if (syslog_facilities[i].code == code)
			return syslog_facilities[i].name;
	return "?";
}

static void dump_daemon(const struct config *c, FILE *f)
{
	const struct config_sink_syslog *s = &c->sink_syslog;
	char every[32], status[32];

	format_duration(c->checkpoint.every_ms, every, sizeof(every));
	format_duration(c->status_log_interval_ms, status, sizeof(status));
	fprintf(f,
		"state_dir: %s\ncontrol_socket: %s\nuser: %s\ngroup: %s\n"
		"control_group: %s\ncheckpoint:\n  every_records: %zu\n"
		"  every_ms: %s\nstatus_log_interval: %s\n",
		c->state_dir, c->control_socket, c->user ? c->user : "~",
		c->group ? c->group : "~",
		c->control_group ? c->control_group : "~",
		c->checkpoint.every_records, every,
		c->status_log_interval_ms ? status : "0");
	fprintf(f,
		"sinks:\n  syslog:\n    enabled: %s\n    facility: %s\n"
		"    ident: %s\n    priority:\n",
		s->enabled ? "true" : "false", facility_name(s->facility),
		s->ident);
	for (int l = LEVEL_INFORMATIONAL; l <= LEVEL_CRITICAL; l++)
		fprintf(f, "      %s: %s\n", rule_level_name(l),
			syslog_priorities[s->priority[l]]);
	fprintf(f, "    queue_max: %zu\n    socket_path: %s\n", s->queue_max,
		s->socket_path ? s->socket_path : "~");
}

static void dump_retention(const struct config *c, FILE *f)
{
	const struct config_retention *r = &c->retention;
	char age[32], purge[32], seal[32];

	format_duration(r->max_age_ms, age, sizeof(age));
	format_duration(r->purge_interval_ms, purge, sizeof(purge));
	format_duration(c->seal_interval_ms, seal, sizeof(seal));
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
	dump_inputs(c, f);
	dump_lists(c, f);
	format_duration(c->limits.max_lateness_ms, lateness, sizeof(lateness));
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
