/*
 * test_yamltree: positions, multi-document files, null scalars, duplicate
 * keys, depth and alias-expansion limits of the YAML tree loader.
 */
#include "check.h"
#include "yamltree.h"

#include <stdlib.h>
#include <string.h>

static struct yaml_docs *load(const char *text, struct diag *d)
{
	return yamltree_load_buffer("t.yml", text, strlen(text), d);
}

static void test_positions(void)
{
	struct diag d;
	diag_init(&d);
	struct yaml_docs *y = load("title: x\ndetection:\n  sel:\n    agent: "
				   "'a'\n  condition: sel\n---\nb: [1, ~]\n",
				   &d);
	CHECK(y != NULL);
	CHECK_INT(y->n_docs, 2);
	const struct yaml_node *det = yamltree_get(y->docs[0], "detection");
	CHECK(det && det->kind == YAML_MAPPING);
	const struct yaml_node *agent =
	    yamltree_get(yamltree_get(det, "sel"), "agent");
	CHECK(agent != NULL);
	CHECK_INT(agent->line, 4);
	CHECK_INT(agent->column, 12);
	CHECK(agent->quoted);
	CHECK_STR(agent->scalar, "a");
	const struct yaml_node *list = yamltree_get(y->docs[1], "b");
	CHECK(list && list->kind == YAML_SEQUENCE && list->n_items == 2);
	CHECK(!yamltree_is_null(list->items[0]));
	CHECK(yamltree_is_null(list->items[1]));
	CHECK_INT(list->items[1]->line, 7);
	CHECK(yamltree_get(y->docs[0], "nope") == NULL);
	yamltree_free(y);
	diag_clear(&d);
}

static void test_errors(void)
{
	struct diag d;
	diag_init(&d);
	CHECK(load("a: 1\nb: [1, 2\n", &d) == NULL);
	CHECK_INT(diag_count(&d), 1);
	CHECK_STR(d.entries[0].file, "t.yml");
	CHECK(d.entries[0].line >= 2);
	diag_clear(&d);

	CHECK(load("a: 1\nb: 2\na: 3\n", &d) == NULL);
	CHECK_INT(diag_count(&d), 1);
	CHECK_INT(d.entries[0].line, 3);
	CHECK_INT(d.entries[0].column, 1);
	CHECK(strstr(d.entries[0].message, "duplicate key 'a'") != NULL);
	diag_clear(&d);

	CHECK(load("? [a]\n: 1\n", &d) == NULL);
	CHECK(diag_count(&d) == 1 &&
	      strstr(d.entries[0].message, "must be a scalar"));
	diag_clear(&d);

	CHECK(load("x: *nope\n", &d) == NULL);
	CHECK_INT(diag_count(&d), 1);
	diag_clear(&d);
}

static void test_limits(void)
{
	struct diag d;
	diag_init(&d);
	/* nesting beyond the limit */
	char deep[YAMLTREE_MAX_DEPTH * 2 + 8];
	size_t n = 0;
	for (int i = 0; i < YAMLTREE_MAX_DEPTH + 2; i++)
		deep[n++] = '[';
	deep[n] = '\0';
	CHECK(load(deep, &d) == NULL);
	CHECK(diag_count(&d) == 1 && strstr(d.entries[0].message, "deep"));
	diag_clear(&d);

	/* billion laughs: 9 levels of 9 aliases = 387M nodes expanded */
	const char *bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n"
			   "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
			   "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
			   "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
			   "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
			   "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
			   "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
			   "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
			   "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	CHECK(load(bomb, &d) == NULL);
	CHECK(diag_count(&d) == 1 &&
	      strstr(d.entries[0].message, "node limit"));
	diag_clear(&d);

	/* a small alias is fine and shares the node */
	struct yaml_docs *y = load("a: &x {k: v}\nb: *x\n", &d);
	CHECK(y != NULL);
	if (y)
		CHECK(yamltree_get(y->docs[0], "a") ==
		      yamltree_get(y->docs[0], "b"));
	yamltree_free(y);
	diag_clear(&d);
}

static void test_missing_file(void)
{
	struct diag d;
	diag_init(&d);
	CHECK(yamltree_load_file("/nonexistent/r.yml", &d) == NULL);
	CHECK(diag_count(&d) == 1 &&
	      strstr(d.entries[0].message, "cannot open"));
	diag_clear(&d);
}

int main(void)
{
	test_positions();
	test_errors();
	test_limits();
	test_missing_file();
	return check_done();
}
