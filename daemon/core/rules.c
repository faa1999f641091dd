/*
 * rules: loading a rule set from YAML files (see rules.h).
 *
 * Each YAML document is one rule.  The common Sigma attributes (title, id,
 * name, status, description, level, tags, generate) are read here; the
 * `detection:` section goes to detection.c and `correlation:` to
 * correlation.c.  Sigma allows custom top-level attributes, so an unknown
 * key is accepted unless it is one edit away from a known key, in which case
 * it is almost surely a typo ("detecton") and reported.
 *
 * `generate` (correlation rules, Sigma correlation spec): when a correlation
 * says `generate: true`, the rules it references keep raising their own
 * alerts; by default they do not.  A rule referenced by no correlation
 * always raises alerts.
 */
#include "rules.h"

#include "correlation.h"
#include "detection.h"
#include "ext_rule.h"
#include "strset.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const level_names[] = {"informational", "low", "medium",
					  "high", "critical"};

static const char *const known_keys[] = {
    "title",	   "id",	"name",	     "related",	   "status",
    "description", "license",	"author",    "references", "date",
    "modified",	   "logsource", "detection", "fields",	   "falsepositives",
    "level",	   "tags",	"scope",     "taxonomy",   "correlation",
    "generate",	   "custos",
};

const char *rule_level_name(enum rule_level level)
{
	if ((size_t)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "unknown";
	return level_names[level];
}

int rule_level_parse(const char *name, enum rule_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++)
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum rule_level)i;
			return 0;
		}
	return -1;
}

struct ruleset *ruleset_new(void)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));

	if (rs == NULL)
		return NULL;
	rs->fields = fieldtab_new();
	if (rs->fields == NULL) {
		free(rs);
		return NULL;
	}
	return rs;
}

static void rule_free(struct rule *r)
{
	if (r == NULL)
		return;
	free(r->id);
	free(r->name);
	free(r->title);
	free(r->description);
	free(r->status);
	for (size_t i = 0; i < r->n_tags; i++)
		free(r->tags[i]);
	free(r->tags);
	detection_free(r->detection);
	correlation_free(r->correlation);
	ext_rule_free(r->ext);
	free(r->consumers);
	free(r);
}

static void lists_clear(struct rule_lists *l)
{
	for (size_t i = 0; l->sets && i < 2 * l->n_lists; i++)
		strset_free(l->sets[i]);
	free(l->sets);
	for (size_t i = 0; i < l->n_lists; i++) {
		free(l->names[i]);
		for (char **v = l->values[i]; v && *v; v++)
			free(*v);
		free(l->values[i]);
	}
	free(l->names);
	free(l->values);
	memset(l, 0, sizeof(*l));
}

void ruleset_free(struct ruleset *rs)
{
	if (rs == NULL)
		return;
	for (size_t i = 0; i < rs->n_rules; i++)
		rule_free(rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; i < rs->n_files; i++)
		free(rs->files[i]);
	free(rs->files);
	lists_clear(&rs->lists);
	fieldtab_free(rs->fields);
	free(rs);
}

static char **copy_strv(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	char **out = calloc(n + 1, sizeof(*out));
	for (size_t i = 0; out && i < n; i++)
		if ((out[i] = strdup(v[i])) == NULL) {
			for (size_t j = 0; j < i; j++)
				free(out[j]);
			free(out);
			return NULL;
		}
	return out;
}

int ruleset_set_lists(struct ruleset *rs, const struct rule_lists *lists)
{
	struct rule_lists l = {0};
	size_t n = lists->n_lists;

	l.names = calloc(n + 1, sizeof(*l.names));
	l.values = calloc(n + 1, sizeof(*l.values));
	l.sets = calloc(2 * (n + 1), sizeof(*l.sets));
	if (l.names == NULL || l.values == NULL || l.sets == NULL)
		goto fail;
	for (; l.n_lists < n; l.n_lists++) {
		l.names[l.n_lists] = strdup(lists->names[l.n_lists]);
		l.values[l.n_lists] = copy_strv(lists->values[l.n_lists]);
		if (!l.names[l.n_lists] || !l.values[l.n_lists]) {
			l.n_lists++;
			goto fail;
		}
	}
	lists_clear(&rs->lists);
	rs->lists = l;
	return 0;
fail:
	lists_clear(&l);
	return -1;
}

/* Remembers a file name for the set's lifetime; returns the stored copy. */
static const char *keep_file_name(struct ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_files; i++)
		if (strcmp(rs->files[i], name) == 0)
			return rs->files[i];
	char **f = realloc(rs->files, (rs->n_files + 1) * sizeof(*f));
	if (f == NULL)
		return NULL;
	rs->files = f;
	if ((f[rs->n_files] = strdup(name)) == NULL)
		return NULL;
	return f[rs->n_files++];
}

static int add_rule(struct ruleset *rs, struct rule *r)
{
	struct rule **v = realloc(rs->rules, (rs->n_rules + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	rs->rules = v;
	r->index = rs->n_rules;
	v[rs->n_rules++] = r;
	return 0;
}

/* Levenshtein distance, bounded to short keys. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void check_unknown_keys(const struct yaml_node *doc, struct diag *d)
{
	size_t n_known = sizeof(known_keys) / sizeof(known_keys[0]);

	for (size_t i = 0; i < doc->n_pairs; i++) {
		const struct yaml_node *k = doc->pairs[i].key;
		const char *best = NULL;
		size_t j;
		for (j = 0; j < n_known; j++) {
			if (strcmp(k->scalar, known_keys[j]) == 0)
				break;
			if (edit_distance(k->scalar, known_keys[j]) <= 1)
				best = known_keys[j];
		}
		if (j == n_known && best)
			diag_add(d, k->file, k->line, k->column,
				 "unknown key '%s' (did you mean '%s'?)",
				 k->scalar, best);
	}
}

/* Copies an optional scalar attribute; -1 if present but not a scalar. */
static int get_string(const struct yaml_node *doc, const char *key, char **out,
		      struct diag *d)
{
	const struct yaml_node *n = yamltree_get(doc, key);

	*out = NULL;
	if (n == NULL)
		return 0;
	if (n->kind != YAML_SCALAR) {
		diag_add(d, n->file, n->line, n->column,
			 "'%s' must be a string, not a %s", key,
			 yamltree_kind_name(n->kind));
		return -1;
	}
	if ((*out = strdup(n->scalar)) == NULL) {
		diag_add(d, n->file, n->line, n->column, "out of memory");
		return -1;
	}
	return 0;
}

static int get_tags(const struct yaml_node *doc, struct rule *r, struct diag *d)
{
	const struct yaml_node *n = yamltree_get(doc, "tags");

	if (n == NULL)
		return 0;
	if (n->kind != YAML_SEQUENCE) {
		diag_add(d, n->file, n->line, n->column,
			 "'tags' must be a list of strings");
		return -1;
	}
	r->tags = calloc(n->n_items + 1, sizeof(*r->tags));
	if (r->tags == NULL) {
		diag_add(d, n->file, n->line, n->column, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n->n_items; i++) {
		const struct yaml_node *t = n->items[i];
		if (t->kind != YAML_SCALAR) {
			diag_add(d, t->file, t->line, t->column,
				 "a tag must be a string");
			return -1;
		}
		if ((r->tags[r->n_tags] = strdup(t->scalar)) == NULL) {
			diag_add(d, t->file, t->line, t->column,
				 "out of memory");
			return -1;
		}
		r->n_tags++;
	}
	return 0;
}

static int get_level(const struct yaml_node *doc, struct rule *r,
		     struct diag *d)
{
	const struct yaml_node *n = yamltree_get(doc, "level");

	r->level = LEVEL_MEDIUM;
	if (n == NULL)
		return 0;
	if (n->kind != YAML_SCALAR || rule_level_parse(n->scalar, &r->level)) {
		diag_add(d, n->file, n->line, n->column,
			 "unknown level '%s' (informational, low, medium, "
			 "high or critical)",
			 n->kind == YAML_SCALAR ? n->scalar : "?");
		return -1;
	}
	return 0;
}

static int get_generate(const struct yaml_node *doc, struct rule *r,
			struct diag *d)
{
	const struct yaml_node *n = yamltree_get(doc, "generate");

	r->generate = true;
	if (n == NULL)
		return 0;
	r->generate_explicit = true;
	if (n->kind == YAML_SCALAR && strcasecmp(n->scalar, "true") == 0)
		return 0;
	if (n->kind == YAML_SCALAR && strcasecmp(n->scalar, "false") == 0) {
		/* for a correlation this concerns the rules it references */
		if (r->kind == RULE_DETECTION)
			r->generate = false;
		return 0;
	}
	diag_add(d, n->file, n->line, n->column,
		 "'generate' must be true or false");
	return -1;
}

static int read_attributes(const struct yaml_node *doc, struct rule *r,
			   struct diag *d)
{
	int rc = 0;

	check_unknown_keys(doc, d);
	rc |= get_string(doc, "title", &r->title, d);
	rc |= get_string(doc, "id", &r->id, d);
	rc |= get_string(doc, "name", &r->name, d);
	rc |= get_string(doc, "description", &r->description, d);
	rc |= get_string(doc, "status", &r->status, d);
	rc |= get_tags(doc, r, d);
	rc |= get_level(doc, r, d);
	rc |= get_generate(doc, r, d);
	if (rc == 0 && r->title == NULL) {
		diag_add(d, doc->file, doc->line, doc->column,
			 "rule has no 'title'");
		rc = -1;
	}
	return rc;
}

/* Makes room in l->sets for one more list (l->n_lists + 1 of them). */
static int grow_sets(struct rule_lists *l)
{
	size_t have = l->sets ? 2 * l->n_lists : 0;
	struct strset **sets =
	    realloc(l->sets, 2 * (l->n_lists + 1) * sizeof(*sets));

	if (sets == NULL)
		return -1;
	memset(sets + have, 0, (2 * (l->n_lists + 1) - have) * sizeof(*sets));
	l->sets = sets;
	return 0;
}

/* custos.watchlists: [NAME...] declares the expand lists a rule uses; a
 * list the configuration does not define becomes an empty list (the rule
 * then matches nothing) instead of an error, so a rule pack with
 * watchlist rules loads without a configuration. */
static int declare_lists(struct ruleset *rs, const struct yaml_node *doc)
{
	const struct yaml_node *w =
	    yamltree_get(yamltree_get(doc, "custos"), "watchlists");
	struct rule_lists *l = &rs->lists;

	for (size_t i = 0; w && w->kind == YAML_SEQUENCE && i < w->n_items;
	     i++) {
		const struct yaml_node *n = w->items[i];
		bool known = n->kind != YAML_SCALAR;
		for (size_t k = 0; !known && k < l->n_lists; k++)
			known = strcmp(l->names[k], n->scalar) == 0;
		if (known)
			continue;
		char **names =
		    realloc(l->names, (l->n_lists + 1) * sizeof(*names));
		if (names == NULL)
			return -1;
		l->names = names;
		char ***values =
		    realloc(l->values, (l->n_lists + 1) * sizeof(*values));
		if (values == NULL)
			return -1;
		l->values = values;
		if (grow_sets(l) < 0)
			return -1;
		names[l->n_lists] = strdup(n->scalar);
		values[l->n_lists] = calloc(1, sizeof(char *));
		if (!names[l->n_lists] || !values[l->n_lists]) {
			free(names[l->n_lists]);
			free(values[l->n_lists]);
			return -1;
		}
		l->n_lists++;
	}
	return 0;
}

/* Compiles one YAML document into a rule and adds it to the set. */
static int compile_document(struct ruleset *rs, const struct yaml_node *doc,
			    const char *file, struct diag *d)
{
	size_t n_before = diag_count(d);
	const struct yaml_node *det = yamltree_get(doc, "detection");
	const struct yaml_node *corr = yamltree_get(doc, "correlation");
	struct rule_ctx ctx = {rs->fields, &rs->lists, file};
	struct rule *r;

	if (doc->kind != YAML_MAPPING) {
		diag_add(d, file, doc->line, doc->column,
			 "a rule must be a mapping, not a %s",
			 yamltree_kind_name(doc->kind));
		return -1;
	}
	if ((det == NULL) == (corr == NULL)) {
		diag_add(d, file, doc->line, doc->column,
			 det ? "a rule has 'detection' or 'correlation', "
			       "not both"
			     : "rule has neither 'detection' nor "
			       "'correlation'");
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL || declare_lists(rs, doc) < 0) {
		diag_add(d, file, doc->line, doc->column, "out of memory");
		free(r);
		return -1;
	}
	r->kind = det ? RULE_DETECTION : RULE_CORRELATION;
	r->file = file;
	r->line = doc->line;
	r->column = doc->column;
	read_attributes(doc, r, d);
	if (det)
		r->detection = detection_compile(det, &ctx, d);
	else
		r->correlation = correlation_compile(corr, &ctx, d);
	const struct yaml_node *ext = yamltree_get(doc, "custos");
	if (ext && (r->ext = ext_rule_compile(ext, r, &ctx, d)) == NULL &&
	    diag_count(d) == n_before) /* never a rule without its custos: */
		diag_add(d, file, ext->line, ext->column, "out of memory");
	if (diag_count(d) != n_before || (!r->detection && !r->correlation) ||
	    add_rule(rs, r) < 0) {
		if (diag_count(d) == n_before)
			diag_add(d, file, doc->line, doc->column,
				 "out of memory");
		rule_free(r);
		return -1;
	}
	return 0;
}

static int load_docs(struct ruleset *rs, struct yaml_docs *y, struct diag *d)
{
	const char *file = keep_file_name(rs, y->file);
	int n_added = 0, failed = 0;

	if (file == NULL) {
		diag_add(d, y->file, 0, 0, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < y->n_docs; i++) {
		if (compile_document(rs, y->docs[i], file, d) < 0)
			failed = 1;
		else
			n_added++;
	}
	return failed ? -1 : n_added;
}

int ruleset_load_buffer(struct ruleset *rs, const char *name, const char *buf,
			size_t len, struct diag *d)
{
	struct yaml_docs *y = yamltree_load_buffer(name, buf, len, d);

	if (y == NULL)
		return -1;
	int n = load_docs(rs, y, d);
	yamltree_free(y);
	return n;
}

static int load_file(struct ruleset *rs, const char *path, struct diag *d)
{
	struct yaml_docs *y = yamltree_load_file(path, d);

	if (y == NULL)
		return -1;
	int n = load_docs(rs, y, d);
	yamltree_free(y);
	return n;
}

static int is_rule_file(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return 0;
	return (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".yaml") == 0);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(struct ruleset *rs, const char *path, int depth,
		    struct diag *d);

/* Loads the entries of a directory in sorted order. */
static int load_entries(struct ruleset *rs, const char *path, char **names,
			size_t n, int depth, struct diag *d)
{
	int total = 0, failed = 0;

	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		char full[4096];
		struct stat st;
		int rc = 0;
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		if (stat(full, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = load_dir(rs, full, depth + 1, d);
		else if (S_ISREG(st.st_mode) && is_rule_file(names[i]))
			rc = load_file(rs, full, d);
		if (rc < 0)
			failed = 1;
		else
			total += rc;
	}
	return failed ? -1 : total;
}

static int load_dir(struct ruleset *rs, const char *path, int depth,
		    struct diag *d)
{
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int rc = -1;

	if (depth > 16) {
		diag_add(d, path, 0, 0, "rule directories nested too deep");
		return -1;
	}
	if ((dir = opendir(path)) == NULL) {
		diag_add(d, path, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char **v = realloc(names, (n + 1) * sizeof(*v));
		if (v == NULL || (v[n] = strdup(de->d_name)) == NULL) {
			names = v ? v : names;
			diag_add(d, path, 0, 0, "out of memory");
			goto out;
		}
		names = v;
		n++;
	}
	rc = load_entries(rs, path, names, n, depth, d);
out:
	closedir(dir);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int ruleset_load_path(struct ruleset *rs, const char *path, struct diag *d)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		diag_add(d, path, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return load_dir(rs, path, 0, d);
	return load_file(rs, path, d);
}

struct rule *ruleset_find(const struct ruleset *rs, const char *name_or_id)
{
	for (size_t i = 0; i < rs->n_rules; i++) {
		struct rule *r = rs->rules[i];
		if ((r->name && strcmp(r->name, name_or_id) == 0) ||
		    (r->id && strcmp(r->id, name_or_id) == 0))
			return r;
	}
	return NULL;
}

static void check_unique(const struct ruleset *rs, struct diag *d)
{
	for (size_t i = 0; i < rs->n_rules; i++)
		for (size_t j = 0; j < i; j++) {
			const struct rule *a = rs->rules[j], *b = rs->rules[i];
			const char *clash = NULL;
			if (a->id && b->id && strcmp(a->id, b->id) == 0)
				clash = b->id;
			else if (a->name && b->name &&
				 strcmp(a->name, b->name) == 0)
				clash = b->name;
			if (clash)
				diag_add(d, b->file, b->line, b->column,
					 "rule '%s' is also defined at %s:%d",
					 clash, a->file, a->line);
		}
}

/* Detections first (file order), then correlations so that every
 * correlation comes after the correlations it consumes.  Returns -1 on a
 * reference cycle. */
static int order_rules(struct ruleset *rs, struct diag *d)
{
	size_t n = rs->n_rules, n_out = 0;
	struct rule **out = calloc(n ? n : 1, sizeof(*out));
	char *placed = calloc(n ? n : 1, 1);
	int rc = -1;

	if (out == NULL || placed == NULL) {
		diag_add(d, NULL, 0, 0, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		if (rs->rules[i]->kind == RULE_DETECTION) {
			out[n_out++] = rs->rules[i];
			placed[i] = 1;
		}
	rs->n_detections = n_out;
	for (int progress = 1; progress && n_out < n;) {
		progress = 0;
		for (size_t i = 0; i < n; i++) {
			size_t n_in, k;
			if (placed[i])
				continue;
			struct rule *const *in = correlation_inputs(
			    rs->rules[i]->correlation, &n_in);
			for (k = 0; k < n_in && placed[in[k]->index]; k++)
				;
			if (k < n_in)
				continue;
			out[n_out++] = rs->rules[i];
			placed[i] = progress = 1;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!placed[i])
			diag_add(
			    d, rs->rules[i]->file, rs->rules[i]->line,
			    rs->rules[i]->column,
			    "correlation '%s' is part of a reference cycle",
			    rs->rules[i]->title);
	if (n_out == n) {
		if (n > 0)
			memcpy(rs->rules, out, n * sizeof(*out));
		for (size_t i = 0; i < n; i++)
			rs->rules[i]->index = i;
		rc = 0;
	}
done:
	free(out);
	free(placed);
	return rc;
}

/* Referenced rules stop raising their own alerts unless a correlation that
 * references them says `generate: true`. */
static int apply_generate(struct ruleset *rs, struct diag *d)
{
	char *keep = calloc(rs->n_rules ? rs->n_rules : 1, 1);
	char *referenced = calloc(rs->n_rules ? rs->n_rules : 1, 1);
	int rc = -1;

	if (keep == NULL || referenced == NULL) {
		diag_add(d, NULL, 0, 0, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < rs->n_rules; i++) {
		const struct rule *c = rs->rules[i];
		size_t n_in;
		if (c->kind != RULE_CORRELATION)
			continue;
		struct rule *const *in =
		    correlation_inputs(c->correlation, &n_in);
		bool gen = c->generate_explicit && c->generate;
		for (size_t k = 0; k < n_in; k++) {
			referenced[in[k]->index] = 1;
			if (gen)
				keep[in[k]->index] = 1;
		}
	}
	for (size_t i = 0; i < rs->n_rules; i++)
		if (referenced[i] && !keep[i])
			rs->rules[i]->generate = false;
	rc = 0;
done:
	free(keep);
	free(referenced);
	return rc;
}

int ruleset_finish(struct ruleset *rs, struct diag *d)
{
	size_t n_before = diag_count(d);

	check_unique(rs, d);
	for (size_t i = 0; i < rs->n_rules; i++)
		if (rs->rules[i]->kind == RULE_CORRELATION)
			correlation_resolve(rs->rules[i], rs, d);
	if (diag_count(d) != n_before)
		return -1;
	if (order_rules(rs, d) < 0 || apply_generate(rs, d) < 0)
		return -1;
	fieldtab_freeze(rs->fields);
	return 0;
}
