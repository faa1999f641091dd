/*
 * yamltree: YAML text -> a tree of nodes that each carry file:line:column.
 *
 * Every later stage (config validation, rule compilation) works on this tree
 * so that any problem can be reported at the exact place in the source.
 * Built with libyaml's event parser.  Hostile input is bounded: nesting depth
 * (YAMLTREE_MAX_DEPTH), total node count (YAMLTREE_MAX_NODES, which also
 * stops alias "billion laughs" expansion since aliases are expanded by
 * reference counting nodes) and file size (YAMLTREE_MAX_FILE_BYTES).
 *
 * A document list owns all its nodes and strings; node pointers stay valid
 * until yamltree_free().  Anchors/aliases: an alias node points at a copy
 * flagged as such and counts against the node budget by the size of the
 * aliased subtree.
 */
#ifndef CUSTOS_YAMLTREE_H
#define CUSTOS_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

#define YAMLTREE_MAX_DEPTH 64
#define YAMLTREE_MAX_NODES 200000
#define YAMLTREE_MAX_FILE_BYTES (16u * 1024 * 1024)

enum yaml_kind { YAML_SCALAR, YAML_SEQUENCE, YAML_MAPPING };

struct yaml_pair;

struct yaml_node {
	enum yaml_kind kind;
	const char *file; /* shared, owned by the document list */
	int line, column; /* 1-based position of the node's start */
	/* YAML_SCALAR */
	char *scalar; /* NUL-terminated; may contain NULs if quoted */
	size_t scalar_len;
	bool quoted; /* single/double quoted or block scalar */
	/* YAML_SEQUENCE */
	struct yaml_node **items;
	size_t n_items;
	/* YAML_MAPPING, in source order */
	struct yaml_pair *pairs;
	size_t n_pairs;
	/* nodes reachable from here, aliases expanded (for the node budget) */
	size_t n_expanded;
};

struct yaml_pair {
	struct yaml_node *key; /* always a scalar (others are rejected) */
	struct yaml_node *value;
};

struct yaml_docs {
	struct yaml_node **docs; /* one root per "---" document */
	size_t n_docs;
	char *file;
	/* private: every allocated node, for freeing */
	struct yaml_node **all;
	size_t n_all, cap_all;
};

/* Parses a whole file.  Returns NULL and adds "file:line:col: ..." to d on
 * any error (I/O, syntax, limits, non-scalar mapping keys, duplicate keys). */
struct yaml_docs *yamltree_load_file(const char *path, struct diag *d);

/* Same, from memory; `name` is used as the file name in diagnostics. */
struct yaml_docs *yamltree_load_buffer(const char *name, const char *buf,
				       size_t len, struct diag *d);

void yamltree_free(struct yaml_docs *docs);

/* Mapping lookup by key; NULL if absent or if `map` is not a mapping. */
const struct yaml_node *yamltree_get(const struct yaml_node *map,
				     const char *key);

/* True for a plain (unquoted) scalar "null", "Null", "NULL", "~" or empty. */
bool yamltree_is_null(const struct yaml_node *n);

/* Human name of a node kind, for messages: "scalar", "list", "mapping". */
const char *yamltree_kind_name(enum yaml_kind kind);

#endif
