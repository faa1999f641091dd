/*
 * rules: a loaded rule set — Sigma detection rules and Sigma correlation
 * rules, compiled from YAML files and linked together.
 *
 * Loading is two-phase: every file (or every *.yml / *.yaml file under a
 * directory, recursively, in sorted order) is parsed into yamltree
 * documents; each document is compiled into a struct rule (a detection rule
 * when it has `detection:`, a correlation rule when it has `correlation:`).
 * Then references are resolved: correlation `rules:` entries name other
 * rules by `name` or `id`; a rule referenced by a correlation does not
 * generate alerts of its own unless it sets `generate: true`
 * (Sigma correlation specification).  Correlations are ordered so that a
 * correlation over correlations comes after the ones it uses; cycles are an
 * error.
 *
 * All problems are reported to the diag as file:line:column; loading goes on
 * after an error so that one run reports every problem, and the caller
 * refuses a ruleset whose diag is not empty.
 *
 * A ruleset owns its rules, the field table they were compiled against, and
 * the lists used by the `expand` modifier.  It is immutable after
 * ruleset_finish() and may be shared by engines.
 */
#ifndef CUSTOS_RULES_H
#define CUSTOS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "event.h"
#include "yamltree.h"

enum rule_level {
	LEVEL_INFORMATIONAL,
	LEVEL_LOW,
	LEVEL_MEDIUM,
	LEVEL_HIGH,
	LEVEL_CRITICAL,
};

const char *rule_level_name(enum rule_level level);
/* Returns 0 and sets *out, or -1 for an unknown name. */
int rule_level_parse(const char *name, enum rule_level *out);

enum rule_kind { RULE_DETECTION, RULE_CORRELATION };

struct detection;   /* detection.h */
struct correlation; /* correlation.h */
struct ext_rule;    /* ext_rule.h */
struct strset;	    /* strset.h */

struct rule {
	enum rule_kind kind;
	char *id;   /* Sigma `id` (UUID), may be NULL */
	char *name; /* Sigma `name`, may be NULL */
	char *title;
	char *description;     /* may be NULL */
	char *status;	       /* may be NULL */
	enum rule_level level; /* default: medium */
	char **tags;
	size_t n_tags;
	bool generate;		     /* emits alerts itself (see above) */
	bool generate_explicit;	     /* `generate:` was present in the rule */
	const char *file;	     /* owned by the ruleset */
	int line, column;	     /* position of the document */
	size_t index;		     /* position in ruleset.rules */
	struct detection *detection; /* RULE_DETECTION */
	struct correlation *correlation; /* RULE_CORRELATION */
	/* correlations that consume this rule's matches, filled by resolve */
	struct rule **consumers;
	size_t n_consumers;
	/* the `custos:` extensions (ext_rule.h); NULL for plain Sigma */
	struct ext_rule *ext;
};

/* Named value lists for the `expand` modifier (%name% placeholders), from
 * the configuration's `lists:` mapping. */
struct rule_lists {
	char **names;
	char ***values; /* values[i] is NULL-terminated */
	size_t n_lists;
	/* NULL, or 2 * n_lists entries: sets[2 * i + cased] is the hash set of
	 * list i's plain values (detection.c), built by the first rule using
	 * the list whole and shared by every later one (one reference each,
	 * plus the one held here); freed with the lists */
	struct strset **sets;
};

struct ruleset {
	struct rule **rules; /* detections first in file order, then
				correlations in dependency order */
	size_t n_rules;
	size_t n_detections;
	struct fieldtab *fields;
	struct rule_lists lists;
	char **files; /* loaded file names, owned */
	size_t n_files;
};

/* The context a rule compiler gets: where to intern field names, which
 * lists exist. */
struct rule_ctx {
	struct fieldtab *fields;
	const struct rule_lists *lists;
	const char *file;
};

struct ruleset *ruleset_new(void);
void ruleset_free(struct ruleset *rs);

/* Copies `lists` into the set (call before loading rules that use expand). */
int ruleset_set_lists(struct ruleset *rs, const struct rule_lists *lists);

/* Loads a file or a directory tree of rule files.  Returns the number of
 * rules added, or -1 if any problem was added to d. */
int ruleset_load_path(struct ruleset *rs, const char *path, struct diag *d);

/* Same, from memory (tests, fuzzing). */
int ruleset_load_buffer(struct ruleset *rs, const char *name, const char *buf,
			size_t len, struct diag *d);

/* Resolves correlation references, orders rules, freezes the field table.
 * Returns 0, or -1 with problems added to d. */
int ruleset_finish(struct ruleset *rs, struct diag *d);

/* Lookup by Sigma name or id; NULL if none. */
struct rule *ruleset_find(const struct ruleset *rs, const char *name_or_id);

#endif
