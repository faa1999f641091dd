/*
 * yamltree: libyaml events -> struct yaml_node tree with positions.
 *
 * The builder keeps a stack of open collections.  Each finished node is
 * appended to its parent (a sequence item, or a mapping key/value).  Aliases
 * share the anchored node (no copy); to stop "billion laughs" documents,
 * every node records how many nodes it stands for with aliases expanded and
 * the document's expanded total must stay under YAMLTREE_MAX_NODES.
 * All nodes are listed in docs->all, which alone is used for freeing.
 */
#include "yamltree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

struct anchor {
	char *name;
	struct yaml_node *node;
};

struct builder {
	struct yaml_docs *docs;
	struct diag *diag;
	struct yaml_node *stack[YAMLTREE_MAX_DEPTH + 1];
	struct yaml_node *pending_key[YAMLTREE_MAX_DEPTH + 1];
	char *stack_anchor[YAMLTREE_MAX_DEPTH + 1];
	int depth;
	size_t n_expanded; /* current document, aliases expanded */
	struct anchor *anchors;
	size_t n_anchors;
	int failed;
};

static void fail_at(struct builder *b, const yaml_mark_t *m, const char *msg)
{
	if (!b->failed)
		diag_add(b->diag, b->docs->file, (int)m->line + 1,
			 (int)m->column + 1, "%s", msg);
	b->failed = 1;
}

static struct yaml_node *node_new(struct builder *b, enum yaml_kind kind,
				  const yaml_mark_t *m)
{
	struct yaml_docs *docs = b->docs;

	if (docs->n_all == docs->cap_all) {
		size_t cap = docs->cap_all ? docs->cap_all * 2 : 64;
		struct yaml_node **all = realloc(docs->all, cap * sizeof(*all));
		if (all == NULL)
			return NULL;
		docs->all = all;
		docs->cap_all = cap;
	}
	struct yaml_node *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->kind = kind;
	n->file = docs->file;
	n->line = (int)m->line + 1;
	n->column = (int)m->column + 1;
	n->n_expanded = 1;
	docs->all[docs->n_all++] = n;
	return n;
}

static int grow(void **arr, size_t n, size_t elem)
{
	/* grows to the next power of two when n is one */
	if (n == 0 || (n & (n - 1)) == 0) {
		size_t cap = n ? n * 2 : 4;
		void *p = realloc(*arr, cap * elem);
		if (p == NULL)
			return -1;
		*arr = p;
	}
	return 0;
}

static int has_key(const struct yaml_node *map, const struct yaml_node *key)
{
	for (size_t i = 0; i < map->n_pairs; i++) {
		const struct yaml_node *k = map->pairs[i].key;
		if (k->scalar_len == key->scalar_len &&
		    memcmp(k->scalar, key->scalar, k->scalar_len) == 0)
			return 1;
	}
	return 0;
}

/* Attaches a finished node to the open collection (or as document root). */
static int attach(struct builder *b, struct yaml_node *n, const yaml_mark_t *m)
{
	b->n_expanded += n->n_expanded;
	if (b->n_expanded > YAMLTREE_MAX_NODES) {
		fail_at(b, m,
			"document too large (node limit reached; "
			"alias expansion?)");
		return -1;
	}
	if (b->depth == 0) {
		if (grow((void **)&b->docs->docs, b->docs->n_docs,
			 sizeof(*b->docs->docs)) < 0)
			goto oom;
		b->docs->docs[b->docs->n_docs++] = n;
		return 0;
	}
	struct yaml_node *parent = b->stack[b->depth - 1];
	parent->n_expanded += n->n_expanded;
	if (parent->kind == YAML_SEQUENCE) {
		if (grow((void **)&parent->items, parent->n_items,
			 sizeof(*parent->items)) < 0)
			goto oom;
		parent->items[parent->n_items++] = n;
		return 0;
	}
	struct yaml_node **key = &b->pending_key[b->depth - 1];
	if (*key == NULL) {
		if (n->kind != YAML_SCALAR) {
			fail_at(b, m, "mapping key must be a scalar");
			return -1;
		}
		if (has_key(parent, n)) {
			char msg[200];
			snprintf(msg, sizeof(msg), "duplicate key '%.100s'",
				 n->scalar);
			fail_at(b, m, msg);
			return -1;
		}
		*key = n;
		return 0;
	}
	if (grow((void **)&parent->pairs, parent->n_pairs,
		 sizeof(*parent->pairs)) < 0)
		goto oom;
	parent->pairs[parent->n_pairs].key = *key;
	parent->pairs[parent->n_pairs].value = n;
	parent->n_pairs++;
	*key = NULL;
	return 0;
oom:
	fail_at(b, m, "out of memory");
	return -1;
}

static int add_anchor(struct builder *b, const char *name, struct yaml_node *n,
		      const yaml_mark_t *m)
{
	if (name == NULL)
		return 0;
	if (grow((void **)&b->anchors, b->n_anchors, sizeof(*b->anchors)) < 0)
		goto oom;
	char *copy = strdup(name);
	if (copy == NULL)
		goto oom;
	b->anchors[b->n_anchors].name = copy;
	b->anchors[b->n_anchors].node = n;
	b->n_anchors++;
	return 0;
oom:
	fail_at(b, m, "out of memory");
	return -1;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	struct yaml_node *n = node_new(b, YAML_SCALAR, &ev->start_mark);

	if (n == NULL ||
	    (n->scalar = malloc(ev->data.scalar.length + 1)) == NULL) {
		fail_at(b, &ev->start_mark, "out of memory");
		return -1;
	}
	memcpy(n->scalar, ev->data.scalar.value, ev->data.scalar.length);
	n->scalar[ev->data.scalar.length] = '\0';
	n->scalar_len = ev->data.scalar.length;
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	if (add_anchor(b, (const char *)ev->data.scalar.anchor, n,
		       &ev->start_mark) < 0)
		return -1;
	return attach(b, n, &ev->start_mark);
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;

	for (size_t i = b->n_anchors; i-- > 0;)
		if (strcmp(b->anchors[i].name, name) == 0)
			return attach(b, b->anchors[i].node, &ev->start_mark);
	fail_at(b, &ev->start_mark, "unknown alias");
	return -1;
}

static int on_start(struct builder *b, const yaml_event_t *ev,
		    enum yaml_kind kind, const yaml_char_t *anchor)
{
	if (b->depth >= YAMLTREE_MAX_DEPTH) {
		fail_at(b, &ev->start_mark, "nesting too deep");
		return -1;
	}
	struct yaml_node *n = node_new(b, kind, &ev->start_mark);
	if (n == NULL) {
		fail_at(b, &ev->start_mark, "out of memory");
		return -1;
	}
	b->stack_anchor[b->depth] =
	    anchor ? strdup((const char *)anchor) : NULL;
	if (anchor && b->stack_anchor[b->depth] == NULL) {
		fail_at(b, &ev->start_mark, "out of memory");
		return -1; /* n is in docs->all: freed with the docs */
	}
	b->pending_key[b->depth] = NULL;
	b->stack[b->depth++] = n;
	return 0;
}

static int on_end(struct builder *b, const yaml_event_t *ev)
{
	struct yaml_node *n = b->stack[--b->depth];
	char *anchor = b->stack_anchor[b->depth];
	int rc = 0;

	b->stack_anchor[b->depth] = NULL;
	/* the collection's own nodes were counted as they attached; count
	 * it once more as a whole only through its parent */
	b->n_expanded -= n->n_expanded - 1;
	if (anchor && add_anchor(b, anchor, n, &ev->start_mark) < 0)
		rc = -1;
	free(anchor);
	return rc < 0 ? rc : attach(b, n, &ev->start_mark);
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, YAML_SEQUENCE,
				ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, YAML_MAPPING,
				ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(b, ev);
	case YAML_DOCUMENT_START_EVENT:
		b->n_expanded = 0;
		return 0;
	default:
		return 0;
	}
}

static void builder_clear(struct builder *b)
{
	for (size_t i = 0; i < b->n_anchors; i++)
		free(b->anchors[i].name);
	free(b->anchors);
	while (b->depth > 0)
		free(b->stack_anchor[--b->depth]);
}

static void report_parser_error(struct builder *b, const yaml_parser_t *p)
{
	const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->mark;
	char msg[300];

	if (p->context)
		snprintf(msg, sizeof(msg),
			 "YAML error: %s %s (started at %zu:%zu)", p->problem,
			 p->context, p->context_mark.line + 1,
			 p->context_mark.column + 1);
	else if (p->error == YAML_MEMORY_ERROR)
		snprintf(msg, sizeof(msg), "out of memory");
	else
		snprintf(msg, sizeof(msg), "YAML error: %s",
			 p->problem ? p->problem : "syntax error");
	fail_at(b, m, msg);
}

struct yaml_docs *yamltree_load_buffer(const char *name, const char *buf,
				       size_t len, struct diag *d)
{
	struct builder b = {.diag = d};
	yaml_parser_t parser;
	int done = 0;

	b.docs = calloc(1, sizeof(*b.docs));
	if (b.docs == NULL || (b.docs->file = strdup(name)) == NULL) {
		diag_add(d, name, 0, 0, "out of memory");
		free(b.docs);
		return NULL;
	}
	if (len > YAMLTREE_MAX_FILE_BYTES) {
		diag_add(d, name, 0, 0, "file too large (%zu bytes, limit %u)",
			 len, YAMLTREE_MAX_FILE_BYTES);
		yamltree_free(b.docs);
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		/* libyaml's buffers: parsing with a half-made parser loops */
		diag_add(d, name, 0, 0, "out of memory");
		yamltree_free(b.docs);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done && !b.failed) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			report_parser_error(&b, &parser);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		on_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	builder_clear(&b);
	if (b.failed) {
		yamltree_free(b.docs);
		return NULL;
	}
	return b.docs;
}

struct yaml_docs *yamltree_load_file(const char *path, struct diag *d)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	struct yaml_docs *docs = NULL;

	if (f == NULL) {
		diag_add(d, path, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	buf = malloc(YAMLTREE_MAX_FILE_BYTES + 1);
	if (buf == NULL) {
		diag_add(d, path, 0, 0, "out of memory");
		goto out;
	}
	len = fread(buf, 1, YAMLTREE_MAX_FILE_BYTES + 1, f);
	if (ferror(f)) {
		diag_add(d, path, 0, 0, "read error: %s", strerror(errno));
		goto out;
	}
	docs = yamltree_load_buffer(path, buf, len, d);
out:
	free(buf);
	fclose(f);
	return docs;
}

void yamltree_free(struct yaml_docs *docs)
{
	if (docs == NULL)
		return;
	for (size_t i = 0; i < docs->n_all; i++) {
		struct yaml_node *n = docs->all[i];
		free(n->scalar);
		free(n->items);
		free(n->pairs);
		free(n);
	}
	free(docs->all);
	free(docs->docs);
	free(docs->file);
	free(docs);
}

const struct yaml_node *yamltree_get(const struct yaml_node *map,
				     const char *key)
{
	if (map == NULL || map->kind != YAML_MAPPING)
		return NULL;
	for (size_t i = 0; i < map->n_pairs; i++)
		if (strcmp(map->pairs[i].key->scalar, key) == 0)
			return map->pairs[i].value;
	return NULL;
}

bool yamltree_is_null(const struct yaml_node *n)
{
	if (n == NULL || n->kind != YAML_SCALAR || n->quoted)
		return false;
	return n->scalar_len == 0 || strcmp(n->scalar, "~") == 0 ||
	       strcmp(n->scalar, "null") == 0 ||
	       strcmp(n->scalar, "Null") == 0 || strcmp(n->scalar, "NULL") == 0;
}

const char *yamltree_kind_name(enum yaml_kind kind)
{
	switch (kind) {
	case YAML_SCALAR:
		return "scalar";
	case YAML_SEQUENCE:
		return "list";
	case YAML_MAPPING:
		return "mapping";
	}
	return "?";
}
