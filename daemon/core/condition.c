/*
 * condition: recursive-descent parser for Sigma conditions into a small
 * tree (and/or are n-ary), compiled once into a flat branch program that
 * the evaluator runs without recursion.  See condition.h for the grammar.
 * Depth is bounded at parse time, so the recursive compiler is bounded too.
 *
 * The branch program has one instruction per identifier leaf of the tree:
 * "evaluate identifier i, then go to t if true, else to f"; a target below
 * zero ends the run (COND_OP_TRUE, COND_OP_FALSE).  and/or/not/1 of/all of
 * become targets, so the program visits leaves in the tree's own short-circuit
 * order.  The tree stays for cond_cover() and cond_dump().
 */
#include "condition.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cnode_kind { C_IDENT, C_NOT, C_AND, C_OR, C_ONE_OF, C_ALL_OF };

struct cnode {
	enum cnode_kind kind;
	size_t ident;	     /* C_IDENT */
	struct cnode **kids; /* C_NOT (1), C_AND, C_OR */
	size_t n_kids;
	size_t *idents; /* C_ONE_OF, C_ALL_OF */
	size_t n_idents;
	char *pattern; /* C_ONE_OF, C_ALL_OF, for dumps */
};

struct cond {
	struct cnode *root;
	struct cond_op *prog;
	size_t n_prog;
	int32_t entry; /* first instruction (or COND_OP_TRUE / COND_OP_FALSE) */
	bool memo;     /* an identifier appears in more than one leaf */
};

enum tok { T_END, T_LPAREN, T_RPAREN, T_WORD, T_BAD };

struct parser {
	const char *s;
	size_t len, pos;
	enum tok tok;
	size_t tok_start, tok_len;
	int depth;
	const char *const *names;
	size_t n_names;
	struct cond_error *err;
	bool failed;
};

static void node_free(struct cnode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n_kids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->idents);
	free(n->pattern);
	free(n);
}

static void fail(struct parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct parser *p, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	p->err->offset = off;
	va_start(ap, fmt);
	vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
	va_end(ap);
}

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
	       c == '*';
}

static void next(struct parser *p)
{
	while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) &&
	       p->s[p->pos] != '\0')
		p->pos++;
	p->tok_start = p->pos;
	p->tok_len = 0;
	if (p->pos >= p->len) {
		p->tok = T_END;
		return;
	}
	char c = p->s[p->pos];
	if (c == '(' || c == ')') {
		p->tok = c == '(' ? T_LPAREN : T_RPAREN;
		p->tok_len = 1;
		p->pos++;
		return;
	}
	if (!word_char(c)) {
		p->tok = T_BAD;
		p->tok_len = 1;
		return;
	}
	while (p->pos < p->len && word_char(p->s[p->pos]))
		p->pos++;
	p->tok = T_WORD;
	p->tok_len = p->pos - p->tok_start;
}

static bool is_word(const struct parser *p, const char *w)
{
	return p->tok == T_WORD && p->tok_len == strlen(w) &&
	       memcmp(p->s + p->tok_start, w, p->tok_len) == 0;
}

/* the current token as a NUL-terminated string, for messages */
static const char *tok_text(const struct parser *p, char *buf, size_t size)
{
	if (p->tok == T_END)
		return "end of condition";
	size_t n = p->tok_len < size - 1 ? p->tok_len : size - 1;
	memcpy(buf, p->s + p->tok_start, n);
	buf[n] = '\0';
	return buf;
}

static struct cnode *new_node(struct parser *p, enum cnode_kind kind)
{
	struct cnode *n = calloc(1, sizeof(*n));

	if (n == NULL)
		fail(p, p->tok_start, "%s", "out of memory");
	else
		n->kind = kind;
	return n;
}

static int add_kid(struct parser *p, struct cnode *n, struct cnode *kid)
{
	struct cnode **k = realloc(n->kids, (n->n_kids + 1) * sizeof(*k));

	if (k == NULL) {
		node_free(kid);
		fail(p, p->tok_start, "%s", "out of memory");
		return -1;
	}
	n->kids = k;
	n->kids[n->n_kids++] = kid;
	return 0;
}

static bool pattern_match(const char *pat, size_t plen, const char *s)
{
	size_t pi = 0, si = 0, slen = strlen(s);
	size_t star_p = (size_t)-1, star_s = 0;

	while (si < slen) {
		if (pi < plen && pat[pi] == '*') {
			star_p = ++pi;
			star_s = si;
		} else if (pi < plen && pat[pi] == s[si]) {
			pi++;
			si++;
		} else if (star_p != (size_t)-1) {
			pi = star_p;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}

/* Collects the identifiers that the current word (a pattern or `them`)
 * selects into n->idents. */
static int collect(struct parser *p, struct cnode *n)
{
	bool them = is_word(p, "them");
	const char *pat = p->s + p->tok_start;
	char buf[128];

	n->idents = calloc(p->n_names ? p->n_names : 1, sizeof(*n->idents));
	n->pattern = strndup(pat, p->tok_len);
	if (n->idents == NULL || n->pattern == NULL) {
		fail(p, p->tok_start, "%s", "out of memory");
		return -1;
	}
	for (size_t i = 0; i < p->n_names; i++) {
		bool hit = them ? p->names[i][0] != '_'
				: pattern_match(pat, p->tok_len, p->names[i]);
		if (hit)
			n->idents[n->n_idents++] = i;
	}
	if (n->n_idents == 0) {
		fail(p, p->tok_start,
		     them ? "'%s' matches no identifier"
			  : "pattern '%s' matches no identifier",
		     tok_text(p, buf, sizeof(buf)));
		return -1;
	}
	next(p);
	return 0;
}

static struct cnode *parse_quant(struct parser *p)
{
	char buf[128];
	enum cnode_kind kind = is_word(p, "all") ? C_ALL_OF : C_ONE_OF;

	next(p);
	if (!is_word(p, "of")) {
		fail(p, p->tok_start, "expected 'of', got '%s'",
		     tok_text(p, buf, sizeof(buf)));
		return NULL;
	}
	next(p);
	if (p->tok != T_WORD) {
		fail(p, p->tok_start,
		     "expected an identifier pattern or 'them', got '%s'",
		     tok_text(p, buf, sizeof(buf)));
		return NULL;
	}
	struct cnode *n = new_node(p, kind);
	if (n == NULL || collect(p, n) < 0) {
		node_free(n);
		return NULL;
	}
	return n;
}

static size_t find_name(const struct parser *p)
{
	for (size_t i = 0; i < p->n_names; i++)
		if (strlen(p->names[i]) == p->tok_len &&
		    memcmp(p->names[i], p->s + p->tok_start, p->tok_len) == 0)
			return i;
	return (size_t)-1;
}

static struct cnode *parse_or(struct parser *p);

static struct cnode *parse_ident(struct parser *p)
{
	char buf[128];
	static const char *const reserved[] = {"and", "or", "not", "of",
					       "them"};

	for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
		if (is_word(p, reserved[i])) {
			fail(p, p->tok_start, "unexpected '%s'", reserved[i]);
			return NULL;
		}
	if (memchr(p->s + p->tok_start, '*', p->tok_len)) {
		fail(p, p->tok_start,
		     "wildcard '%s' is only allowed after '1 of' or 'all of'",
		     tok_text(p, buf, sizeof(buf)));
		return NULL;
	}
	size_t idx = find_name(p);
	if (idx == (size_t)-1) {
		fail(p, p->tok_start, "unknown identifier '%s'",
		     tok_text(p, buf, sizeof(buf)));
		return NULL;
	}
	struct cnode *n = new_node(p, C_IDENT);
	if (n != NULL)
		n->ident = idx;
	next(p);
	return n;
}

static struct cnode *parse_primary(struct parser *p)
{
	char buf[128];

	if (p->tok == T_LPAREN) {
		size_t open = p->tok_start;
		next(p);
		struct cnode *n = parse_or(p);
		if (n == NULL)
			return NULL;
		if (p->tok != T_RPAREN) {
			fail(p, p->tok == T_END ? open : p->tok_start,
			     p->tok == T_END ? "unbalanced '%s'"
					     : "expected ')', got '%s'",
			     p->tok == T_END ? "("
					     : tok_text(p, buf, sizeof(buf)));
			node_free(n);
			return NULL;
		}
		next(p);
		return n;
	}
	if (p->tok != T_WORD) {
		fail(p, p->tok_start, "expected an identifier, got '%s'",
		     tok_text(p, buf, sizeof(buf)));
		return NULL;
	}
	if (is_word(p, "1") || is_word(p, "any") || is_word(p, "all"))
		return parse_quant(p);
	return parse_ident(p);
}

static struct cnode *parse_not(struct parser *p)
{
	if (++p->depth > COND_MAX_DEPTH) {
		fail(p, p->tok_start, "%s", "condition nested too deeply");
		return NULL;
	}
	struct cnode *n;
	if (is_word(p, "not")) {
		next(p);
		struct cnode *kid = parse_not(p);
		n = kid ? new_node(p, C_NOT) : NULL;
		if (n == NULL || add_kid(p, n, kid) < 0) {
			if (n == NULL)
				node_free(kid);
			node_free(n);
			n = NULL;
		}
	} else {
		n = parse_primary(p);
	}
	p->depth--;
	return n;
}

/* binary level: sub (op sub)*, folded into one n-ary node */
static struct cnode *parse_level(struct parser *p, const char *op,
				 enum cnode_kind kind,
				 struct cnode *(*sub)(struct parser *))
{
	struct cnode *first = sub(p);

	if (first == NULL || !is_word(p, op))
		return first;
	struct cnode *n = new_node(p, kind);
	if (n == NULL || add_kid(p, n, first) < 0) {
		if (n == NULL)
			node_free(first);
		node_free(n);
		return NULL;
	}
	while (is_word(p, op)) {
		next(p);
		struct cnode *kid = sub(p);
		if (kid == NULL || add_kid(p, n, kid) < 0) {
			node_free(n);
			return NULL;
		}
	}
	return n;
}

static struct cnode *parse_and(struct parser *p)
{
	return parse_level(p, "and", C_AND, parse_not);
}

static struct cnode *parse_or(struct parser *p)
{
	if (++p->depth > COND_MAX_DEPTH) {
		fail(p, p->tok_start, "%s", "condition nested too deeply");
		return NULL;
	}
	struct cnode *n = parse_level(p, "or", C_OR, parse_and);
	p->depth--;
	return n;
}

/* ---- branch program ---- */

static size_t n_leaves(const struct cnode *n)
{
	size_t k = n->n_idents;

	if (n->kind == C_IDENT)
		return 1;
	for (size_t i = 0; i < n->n_kids; i++)
		k += n_leaves(n->kids[i]);
	return k;
}

static int32_t emit(struct cond *c, size_t ident, int32_t t, int32_t f)
{
	c->prog[c->n_prog] = (struct cond_op){ident, t, f};
	return (int32_t)c->n_prog++;
}

/* Compiles n so that it continues at t when true, at f when false;
 * returns its entry.  Lists are compiled last to first so that each
 * element knows where its successor starts. */
static int32_t compile(struct cond *c, const struct cnode *n, int32_t t,
		       int32_t f)
{
	int32_t next;

	switch (n->kind) {
	case C_IDENT:
		return emit(c, n->ident, t, f);
	case C_NOT:
		return compile(c, n->kids[0], f, t);
	case C_AND:
	case C_OR:
		next = n->kind == C_AND ? t : f;
		for (size_t i = n->n_kids; i-- > 0;)
			next = n->kind == C_AND
				   ? compile(c, n->kids[i], next, f)
				   : compile(c, n->kids[i], t, next);
		return next;
	case C_ONE_OF:
	case C_ALL_OF:
		next = n->kind == C_ALL_OF ? t : f;
		for (size_t i = n->n_idents; i-- > 0;)
			next = n->kind == C_ALL_OF
				   ? emit(c, n->idents[i], next, f)
				   : emit(c, n->idents[i], t, next);
		return next;
	}
	return f;
}

static bool has_repeat(const struct cond *c)
{
	uint64_t seen = 0;

	for (size_t i = 0; i < c->n_prog; i++) {
		size_t id = c->prog[i].ident;
		if (id >= 64)
			continue;
		if ((seen >> id) & 1)
			return true;
		seen |= (uint64_t)1 << id;
	}
	return false;
}

/* Builds the program of a cond whose tree is complete; -1 on allocation
 * failure or when the program would not fit int32_t targets. */
static int finish(struct cond *c)
{
	size_t n = n_leaves(c->root);

	if (n == 0 || n > INT32_MAX)
		return -1;
	c->prog = calloc(n, sizeof(*c->prog));
	if (c->prog == NULL)
		return -1;
	c->n_prog = 0;
	c->entry = compile(c, c->root, COND_OP_TRUE, COND_OP_FALSE);
	c->memo = has_repeat(c);
	return 0;
}

struct cond *cond_parse(const char *text, size_t len, const char *const *names,
			size_t n_names, struct cond_error *err)
{
	struct parser p = {.s = text,
			   .len = len,
			   .names = names,
			   .n_names = n_names,
			   .err = err};
	char buf[128];

	memset(err, 0, sizeof(*err));
	if (len > COND_MAX_LEN) {
		fail(&p, 0, "condition longer than %d bytes", COND_MAX_LEN);
		return NULL;
	}
	next(&p);
	if (p.tok == T_END) {
		fail(&p, 0, "%s", "empty condition");
		return NULL;
	}
	struct cnode *root = parse_or(&p);
	if (root != NULL && p.tok != T_END) {
		fail(&p, p.tok_start,
		     p.tok == T_BAD ? "unexpected character '%s'"
				    : "unexpected '%s'",
		     tok_text(&p, buf, sizeof(buf)));
		node_free(root);
		return NULL;
	}
	if (root == NULL)
		return NULL;
	struct cond *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		node_free(root);
		fail(&p, 0, "%s", "out of memory");
		return NULL;
	}
	c->root = root;
	if (finish(c) < 0) {
		cond_free(c);
		fail(&p, 0, "%s", "out of memory");
		return NULL;
	}
	return c;
}

struct cond *cond_any(struct cond **conds, size_t n)
{
	struct cond *c = calloc(1, sizeof(*c));
	struct cnode *root = calloc(1, sizeof(*root));
	struct cnode **kids = calloc(n, sizeof(*kids));

	if (c == NULL || root == NULL || kids == NULL) {
		free(c);
		free(root);
		free(kids);
		for (size_t i = 0; i < n; i++)
			cond_free(conds[i]);
		return NULL;
	}
	root->kind = C_OR;
	root->kids = kids;
	root->n_kids = n;
	for (size_t i = 0; i < n; i++) {
		kids[i] = conds[i]->root;
		free(conds[i]->prog);
		free(conds[i]);
	}
	c->root = root;
	if (finish(c) < 0) {
		cond_free(c);
		return NULL;
	}
	return c;
}

void cond_free(struct cond *c)
{
	if (c == NULL)
		return;
	node_free(c->root);
	free(c->prog);
	free(c);
}

static bool eval_memo(const struct cond *c, bool (*ident)(void *arg, size_t i),
		      void *arg)
{
	uint64_t done = 0, val = 0;
	int32_t pc = c->entry;

	while (pc >= 0) {
		const struct cond_op *o = &c->prog[pc];
		bool v;
		if (o->ident >= 64) {
			v = ident(arg, o->ident);
		} else {
			uint64_t bit = (uint64_t)1 << o->ident;
			if (!(done & bit)) {
				done |= bit;
				if (ident(arg, o->ident))
					val |= bit;
			}
			v = (val & bit) != 0;
		}
		pc = v ? o->t : o->f;
	}
	return pc == COND_OP_TRUE;
}

bool cond_eval(const struct cond *c, bool (*ident)(void *arg, size_t i),
	       void *arg)
{
	int32_t pc = c->entry;

	if (c->memo)
		return eval_memo(c, ident, arg);
	while (pc >= 0) {
		const struct cond_op *o = &c->prog[pc];
		pc = ident(arg, o->ident) ? o->t : o->f;
	}
	return pc == COND_OP_TRUE;
}

const struct cond_op *cond_program(const struct cond *c, size_t *n,
				   int32_t *entry)
{
	*n = c->n_prog;
	*entry = c->entry;
	return c->prog;
}

bool cond_equal(const struct cond *a, const struct cond *b)
{
	if (a->n_prog != b->n_prog || a->entry != b->entry)
		return false;
	for (size_t i = 0; i < a->n_prog; i++)
		if (a->prog[i].ident != b->prog[i].ident ||
		    a->prog[i].t != b->prog[i].t ||
		    a->prog[i].f != b->prog[i].f)
			return false;
	return true;
}

static bool ident_cover(size_t i, uint64_t usable, uint64_t *m)
{
	if (i >= 64 || !((usable >> i) & 1))
		return false;
	*m = (uint64_t)1 << i;
	return true;
}

static int n_bits(uint64_t x)
{
	int n = 0;

	for (; x != 0; x &= x - 1)
		n++;
	return n;
}

/* AND: any covered child covers the whole; take the smallest. */
static bool cover_node(const struct cnode *n, uint64_t usable, uint64_t *m);

static bool cover_and(const struct cnode *n, uint64_t usable, uint64_t *m)
{
	bool found = false;
	uint64_t k;

	for (size_t i = 0; i < n->n_kids; i++)
		if (cover_node(n->kids[i], usable, &k) &&
		    (!found || n_bits(k) < n_bits(*m))) {
			*m = k;
			found = true;
		}
	return found;
}

static bool cover_node(const struct cnode *n, uint64_t usable, uint64_t *m)
{
	uint64_t k;

	switch (n->kind) {
	case C_IDENT:
		return ident_cover(n->ident, usable, m);
	case C_AND:
		return cover_and(n, usable, m);
	case C_OR:
		*m = 0;
		for (size_t i = 0; i < n->n_kids; i++) {
			if (!cover_node(n->kids[i], usable, &k))
				return false;
			*m |= k;
		}
		return n->n_kids > 0;
	case C_ONE_OF:
		*m = 0;
		for (size_t i = 0; i < n->n_idents; i++) {
			if (!ident_cover(n->idents[i], usable, &k))
				return false;
			*m |= k;
		}
		return n->n_idents > 0;
	case C_ALL_OF:
		for (size_t i = 0; i < n->n_idents; i++)
			if (ident_cover(n->idents[i], usable, m))
				return true;
		return false;
	case C_NOT:
		break;
	}
	return false;
}

bool cond_cover(const struct cond *c, uint64_t usable, uint64_t *cover)
{
	*cover = 0;
	return cover_node(c->root, usable, cover);
}

static void dump_node(const struct cnode *n, const char *const *names, FILE *f)
{
	switch (n->kind) {
	case C_IDENT:
		fputs(names[n->ident], f);
		break;
	case C_NOT:
		fputs("not ", f);
		dump_node(n->kids[0], names, f);
		break;
	case C_AND:
	case C_OR:
		fputc('(', f);
		for (size_t i = 0; i < n->n_kids; i++) {
			if (i > 0)
				fputs(n->kind == C_AND ? " and " : " or ", f);
			dump_node(n->kids[i], names, f);
		}
		fputc(')', f);
		break;
	case C_ONE_OF:
	case C_ALL_OF:
		fprintf(f, "%s(%s:", n->kind == C_ALL_OF ? "all_of" : "any_of",
			n->pattern);
		for (size_t i = 0; i < n->n_idents; i++)
			fprintf(f, " %s", names[n->idents[i]]);
		fputc(')', f);
		break;
	}
}

void cond_dump(const struct cond *c, const char *const *names, void *stdio_file)
{
	dump_node(c->root, names, stdio_file);
}
