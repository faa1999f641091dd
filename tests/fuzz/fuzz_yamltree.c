/*
 * fuzz_yamltree: arbitrary bytes -> yamltree_load_buffer().
 *
 * Besides memory errors (ASan/UBSan), checks the loader's contract on every
 * input and aborts when it is broken:
 *   - NULL is returned only with at least one diagnostic, and success adds
 *     none;
 *   - every node lies in the input (line, column >= 1), names the document
 *     list's file, and scalars are NUL-terminated at scalar_len;
 *   - mapping keys are scalars, and yamltree_get() finds every key that has
 *     no NUL inside;
 *   - n_expanded is 1 + the sum over children (keys included), and no
 *     document exceeds YAMLTREE_MAX_NODES with aliases expanded.
 * The nodes are checked through the private docs->all list, once each, so
 * the check stays linear even for alias-heavy documents.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "yamltree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EXPECT(cond)                                                           \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static void check_scalar(const struct yaml_node *n)
{
	EXPECT(n->scalar != NULL);
	EXPECT(n->scalar[n->scalar_len] == '\0');
	EXPECT(n->items == NULL && n->pairs == NULL);
	EXPECT(n->n_expanded == 1);
}

static void check_mapping(const struct yaml_node *n)
{
	size_t sum = 1;

	for (size_t i = 0; i < n->n_pairs; i++) {
		const struct yaml_node *k = n->pairs[i].key;

		EXPECT(k != NULL && n->pairs[i].value != NULL);
		EXPECT(k->kind == YAML_SCALAR);
		if (strlen(k->scalar) == k->scalar_len)
			EXPECT(yamltree_get(n, k->scalar) != NULL);
		sum += k->n_expanded + n->pairs[i].value->n_expanded;
	}
	EXPECT(n->n_expanded == sum);
	EXPECT(!yamltree_is_null(n));
}

static void check_sequence(const struct yaml_node *n)
{
	size_t sum = 1;

	for (size_t i = 0; i < n->n_items; i++) {
		EXPECT(n->items[i] != NULL);
		sum += n->items[i]->n_expanded;
	}
	EXPECT(n->n_expanded == sum);
	EXPECT(yamltree_get(n, "") == NULL);
}

static void check_docs(const struct yaml_docs *y)
{
	for (size_t i = 0; i < y->n_docs; i++) {
		EXPECT(y->docs[i] != NULL);
		EXPECT(y->docs[i]->n_expanded <= YAMLTREE_MAX_NODES);
	}
	for (size_t i = 0; i < y->n_all; i++) {
		const struct yaml_node *n = y->all[i];

		EXPECT(n->file == y->file);
		EXPECT(n->line >= 1 && n->column >= 1);
		EXPECT(strcmp(yamltree_kind_name(n->kind), "?") != 0);
		if (n->kind == YAML_SCALAR)
			check_scalar(n);
		else if (n->kind == YAML_MAPPING)
			check_mapping(n);
		else
			check_sequence(n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d;
	struct yaml_docs *y;

	diag_init(&d);
	y = yamltree_load_buffer("fuzz.yml", (const char *)data, size, &d);
	if (y == NULL) {
		EXPECT(diag_count(&d) > 0);
	} else {
		EXPECT(diag_count(&d) == 0);
		EXPECT(strcmp(y->file, "fuzz.yml") == 0);
		check_docs(y);
	}
	yamltree_free(y);
	diag_clear(&d);
	return 0;
}
