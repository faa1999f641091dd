/*
 * config_keys: the table-driven validator behind every custos YAML mapping
 * (config_apply(), public in config.h for other YAML-fed modules such as
 * normalize's field maps), its value parsers (sizes, durations, enums,
 * booleans) and the "did you mean" suggestion for unknown keys and values.
 * Pure: problems go to the caller's diag, nothing is printed.
 */
#include "config.h"

#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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
void config_format_duration(int64_t ms, char *out, size_t size)
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

bool config_want_scalar(const struct yaml_node *v, const char *name,
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

	if (!config_want_scalar(v, k->name, dur ? "a duration" : "an integer",
				d))
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
		config_format_duration(k->min, lo, sizeof(lo));
		config_format_duration(k->max, hi, sizeof(hi));
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

	if (!config_want_scalar(v, k->name, "a name", d))
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

	if (!config_want_scalar(v, k->name, "true or false", d))
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
		if (config_want_scalar(v, k->name, "a string", d)) {
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
