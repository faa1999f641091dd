/*
 * config_int: what the config modules share and nothing else uses:
 * config.c (loading, top-level table, rules/lists/limits/store/retention,
 * dump), config_keys.c (the key-table validator and value parsers),
 * config_inputs.c (`inputs:` and field maps) and config_sinks.c (`sinks:`).
 * Not part of the public interface (config.h).
 */
#ifndef CUSTOS_CONFIG_INT_H
#define CUSTOS_CONFIG_INT_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define N_KEYS(k) (sizeof(k) / sizeof((k)[0]))

/* ---- config_keys.c ---- */

/* True if v is a non-empty scalar; else adds "'name' must be what_kind, not
 * ..." to d and returns false. */
bool config_want_scalar(const struct yaml_node *v, const char *name,
			const char *what_kind, struct diag *d);

/* Writes ms with the largest unit that divides it exactly ("5m",
 * "1500ms") to out (size bytes, NUL-terminated). */
void config_format_duration(int64_t ms, char *out, size_t size);

/* ---- config_inputs.c ---- */

/* CONFIG_CUSTOM parser of a field map; member: a struct fieldmap * (owned,
 * replaced). */
int config_parse_fieldmap(const struct yaml_node *v, void *member,
			  struct diag *d);

/* CONFIG_CUSTOM parser of `inputs:`; member: the struct config. */
int config_parse_inputs(const struct yaml_node *v, void *member,
			struct diag *d);

/* Writes the `inputs:` section of config_dump(). */
void config_dump_inputs(const struct config *c, FILE *f);

/* ---- config_sinks.c ---- */

/* Sets the defaults of sinks.syslog in s (also when `sinks:` is absent). */
void config_sink_syslog_defaults(struct config_sink_syslog *s, struct diag *d);

/* CONFIG_CUSTOM parser of `sinks:`; member: the struct config. */
int config_parse_sinks(const struct yaml_node *v, void *member, struct diag *d);

/* The name of a LOG_* facility code ("local0"), "?" if unknown. */
const char *config_facility_name(int code);

/* Syslog priority names; index = LOG_* priority (LOG_EMERG 0 ..
 * LOG_DEBUG 7), NULL-terminated. */
extern const char *const config_syslog_priorities[];

#endif
