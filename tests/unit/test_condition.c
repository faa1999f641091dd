/*
 * test_condition: the Sigma condition parser and evaluator on their own —
 * precedence, quantifiers, `them`, error offsets, limits — checked by
 * evaluating each parsed condition over every assignment of identifier
 * values against a reference predicate.
 */
#include "check.h"
#include "condition.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"a",     "b",    "c",	   "sel_x",
				    "sel_y", "_hid", "filter-1.v2"};
#define N_NAMES (sizeof(names) / sizeof(*names))

struct assign {
	unsigned bits;
	unsigned calls[N_NAMES];
};

static bool ident(void *arg, size_t i)
{
	struct assign *a = arg;

	a->calls[i]++;
	return (a->bits >> i) & 1;
}

/* Evaluates text for every assignment and compares with ref(bits). */
static void check_cond(const char *text, bool (*ref)(unsigned bits))
{
	struct cond_error e;
	struct cond *c = cond_parse(text, strlen(text), names, N_NAMES, &e);
	int wrong = 0;

	CHECK(c != NULL);
	if (c == NULL) {
		fprintf(stderr, "  '%s': %s at %zu\n", text, e.message,
			e.offset);
		return;
	}
	for (unsigned bits = 0; bits < (1u << N_NAMES); bits++) {
		struct assign as = {.bits = bits};
		bool got = cond_eval(c, ident, &as);
		if (got != ref(bits))
			wrong++;
		for (size_t i = 0; i < N_NAMES; i++)
			if (as.calls[i] > 1)
				wrong++; /* memoised: at most one call */
	}
	if (wrong)
		fprintf(stderr, "  '%s': %d wrong assignments\n", text, wrong);
	CHECK_INT(wrong, 0);
	cond_free(c);
}

static bool bit(unsigned bits, int i)
{
	return (bits >> i) & 1;
}

static bool r_a(unsigned b)
{
	return bit(b, 0);
}
static bool r_a_or_b_and_c(unsigned b)
{
	return bit(b, 0) || (bit(b, 1) && bit(b, 2));
}
static bool r_paren(unsigned b)
{
	return (bit(b, 0) || bit(b, 1)) && bit(b, 2);
}
static bool r_not_a_and_b(unsigned b)
{
	return !bit(b, 0) && bit(b, 1);
}
static bool r_not_paren(unsigned b)
{
	return !(bit(b, 0) && bit(b, 1));
}
static bool r_not_not(unsigned b)
{
	return bit(b, 0);
}
static bool r_one_sel(unsigned b)
{
	return bit(b, 3) || bit(b, 4);
}
static bool r_all_sel(unsigned b)
{
	return bit(b, 3) && bit(b, 4);
}
static bool r_one_them(unsigned b)
{
	return (b & ~(1u << 5)) != 0; /* _hid excluded */
}
static bool r_all_them(unsigned b)
{
	return (b | (1u << 5)) == (1u << N_NAMES) - 1;
}
static bool r_sel_not_filter(unsigned b)
{
	return (bit(b, 3) || bit(b, 4)) && !bit(b, 6);
}
static bool r_hid(unsigned b)
{
	return bit(b, 5);
}
static bool r_not_one_of(unsigned b)
{
	return bit(b, 0) && !(bit(b, 3) || bit(b, 4));
}
static bool r_and_chain(unsigned b)
{
	return bit(b, 0) && bit(b, 1) && bit(b, 2);
}
static bool r_all_a(unsigned b)
{
	return bit(b, 0);
}

static void test_eval(void)
{
	check_cond("a", r_a);
	check_cond("  a\n", r_a);
	check_cond("a or b and c", r_a_or_b_and_c);
	check_cond("b and c or a", r_a_or_b_and_c);
	check_cond("(a or b) and c", r_paren);
	check_cond("((a or b))and(c)", r_paren);
	check_cond("not a and b", r_not_a_and_b);
	check_cond("not (a and b)", r_not_paren);
	check_cond("not not a", r_not_not);
	check_cond("1 of sel_*", r_one_sel);
	check_cond("any of sel_*", r_one_sel);
	check_cond("all of sel_*", r_all_sel);
	check_cond("1 of them", r_one_them);
	check_cond("all of them", r_all_them);
	check_cond("1 of sel* and not filter-1.v2", r_sel_not_filter);
	check_cond("1 of sel_* and not 1 of filter*", r_sel_not_filter);
	check_cond("1 of _*", r_hid);
	check_cond("a and not 1 of sel_*", r_not_one_of);
	check_cond("a and b and c", r_and_chain);
	check_cond("all of a", r_all_a);
	check_cond("1 of *_x or 1 of s*l_y", r_one_sel);
}

static void check_err(const char *text, size_t offset, const char *what)
{
	struct cond_error e;
	struct cond *c = cond_parse(text, strlen(text), names, N_NAMES, &e);

	CHECK(c == NULL);
	cond_free(c);
	CHECK_INT(e.offset, offset);
	if (strstr(e.message, what) == NULL) {
		CHECK(!"message mismatch");
		fprintf(stderr, "  '%s': got '%s', want '%s'\n", text,
			e.message, what);
	}
}

static void test_errors(void)
{
	check_err("", 0, "empty condition");
	check_err("   ", 0, "empty condition");
	check_err("a and zz", 6, "unknown identifier 'zz'");
	check_err("a or", 4, "expected an identifier");
	check_err("(a or b", 0, "unbalanced '('");
	check_err("(a or b c", 8, "expected ')'");
	check_err("a)", 1, "unexpected ')'");
	check_err("a b", 2, "unexpected 'b'");
	check_err("1 of nothing*", 5, "matches no identifier");
	check_err("1 sel_x", 2, "expected 'of'");
	check_err("all of", 6, "expected an identifier pattern");
	check_err("sel_*", 0, "only allowed after");
	check_err("a | b", 2, "unexpected character '|'");
	check_err("not", 3, "expected an identifier");
	check_err("a and and b", 6, "unexpected 'and'");
	check_err("AND", 0, "unknown identifier 'AND'");
	check_err("()", 1, "expected an identifier");
	check_err("a and them", 6, "unexpected 'them'");
}

static void test_limits(void)
{
	char buf[1024];
	struct cond_error e;
	struct cond *c;
	size_t n = 0;

	/* deep nesting is refused, not a stack overflow */
	for (int i = 0; i < 200; i++)
		buf[n++] = '(';
	buf[n++] = 'a';
	for (int i = 0; i < 200; i++)
		buf[n++] = ')';
	c = cond_parse(buf, n, names, N_NAMES, &e);
	CHECK(c == NULL);
	CHECK(strstr(e.message, "nested too deeply") != NULL);
	n = 0;
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "not ");
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "a");
	c = cond_parse(buf, n, names, N_NAMES, &e);
	CHECK(c == NULL);
	/* moderate nesting is fine */
	c = cond_parse("((((not (a))))) ", 16, names, N_NAMES, &e);
	CHECK(c != NULL);
	struct assign as = {.bits = 0};
	CHECK(c && cond_eval(c, ident, &as));
	cond_free(c);
	/* embedded NUL is a bad character, not the end */
	c = cond_parse("a\0b", 3, names, N_NAMES, &e);
	CHECK(c == NULL);
	CHECK_INT(e.offset, 1);
}

static void test_any_and_dump(void)
{
	struct cond_error e;
	struct cond *cs[2];

	cs[0] = cond_parse("a and b", 7, names, N_NAMES, &e);
	cs[1] = cond_parse("not 1 of sel_*", 14, names, N_NAMES, &e);
	CHECK(cs[0] != NULL && cs[1] != NULL);
	struct cond *c = cond_any(cs, 2);
	CHECK(c != NULL);

	struct assign as = {.bits = 0x3 | (1u << 3)};
	CHECK(cond_eval(c, ident, &as));
	as = (struct assign){.bits = 1u << 3};
	CHECK(!cond_eval(c, ident, &as));
	as = (struct assign){.bits = 0};
	CHECK(cond_eval(c, ident, &as));

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cond_dump(c, names, f);
	fclose(f);
	CHECK_STR(buf, "((a and b) or not any_of(sel_*: sel_x sel_y))");
	free(buf);
	cond_free(c);
	cond_free(NULL);
}

int main(void)
{
	test_eval();
	test_errors();
	test_limits();
	test_any_and_dump();
	return check_done();
}
