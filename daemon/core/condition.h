/*
 * condition: the Sigma `condition` expression — parser and evaluator.
 *
 * Grammar (Sigma rules specification, precedence from loosest to tightest:
 * or, and, not, "x of", parentheses):
 *
 *     expr    := and_expr ("or" and_expr)*
 *     and     := not_expr ("and" not_expr)*
 *     not     := "not" not | primary
 *     primary := "(" expr ")" | quant | IDENT
 *     quant   := ("1" | "any" | "all") "of" (IDENT | PATTERN | "them")
 *
 * Keywords are lower case.  IDENT is [A-Za-z0-9_.-]+; a PATTERN may also
 * hold `*` (any run of characters).  `them` means every identifier not
 * starting with `_`.  Identifiers are resolved against the names given at
 * parse time, so an undefined identifier or a pattern matching nothing is a
 * parse error.  Nesting is bounded (COND_MAX_DEPTH) and so is the input
 * (COND_MAX_LEN), which keeps the recursive parser and evaluator safe on
 * hostile input.
 *
 * A parsed condition owns its nodes; it is read-only afterwards and may be
 * shared by threads.  Evaluation does not allocate and short-circuits.
 */
#ifndef CUSTOS_CONDITION_H
#define CUSTOS_CONDITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COND_MAX_DEPTH 64
#define COND_MAX_LEN 65536

struct cond;

struct cond_error {
	size_t offset; /* 0-based byte offset in the text */
	char message[256];
};

/* Parses `text` (len bytes) against the identifier names (n_names of
 * them).  Returns NULL and fills err on any error. */
struct cond *cond_parse(const char *text, size_t len, const char *const *names,
			size_t n_names, struct cond_error *err);

/* Combines conditions with OR (a `condition:` list); takes ownership of
 * every element (and of the array's elements on failure too).  n >= 1. */
struct cond *cond_any(struct cond **conds, size_t n);

void cond_free(struct cond *c);

/* Evaluates; ident(arg, i) gives the value of identifier i.  Each
 * identifier is evaluated at most once per call when there are at most 64
 * identifiers. */
bool cond_eval(const struct cond *c, bool (*ident)(void *arg, size_t i),
	       void *arg);

/* The branch program the evaluator runs, for callers that run it
 * themselves: *n instructions; from instruction *entry, evaluate
 * identifier op.ident and go to op.t if true, op.f if false, until the
 * target is COND_OP_TRUE or COND_OP_FALSE (the result).  An identifier
 * written in several places of the condition may be reached more than
 * once in a run (cond_eval() evaluates it once).  Owned by c. */
#define COND_OP_FALSE (-1)
#define COND_OP_TRUE (-2)

struct cond_op {
	size_t ident;
	int32_t t, f; /* next instruction, or COND_OP_TRUE / COND_OP_FALSE */
};

const struct cond_op *cond_program(const struct cond *c, size_t *n,
				   int32_t *entry);

/* True when a and b are the same expression over identifier numbers (so
 * they agree whenever their identifiers do). */
bool cond_equal(const struct cond *a, const struct cond *b);

/* A cover of the condition: a set of identifiers (bit i = identifier i)
 * at least one of which is true whenever the condition is true, built only
 * from identifiers in `usable` (identifiers >= 64 are never usable).  Used
 * to skip rules that cannot match.  Returns false when no such set is
 * found (e.g. the condition is a negation). */
bool cond_cover(const struct cond *c, uint64_t usable, uint64_t *cover);

/* Writes a fully parenthesised, deterministic form, e.g.
 * "(sel and not any_of(filter_a, filter_b))". */
void cond_dump(const struct cond *c, const char *const *names,
	       void *stdio_file);

#endif
