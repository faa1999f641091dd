/*
 * detection_eval: running a compiled detection against an event.  The
 * condition is expanded into one branch program over field items
 * (detection_program_build); detection_match() walks it, and
 * detection_match_shared() memoises item results shared between
 * detections for one event (numbered by rule_index).  Also the equality
 * and hashing of units used to find shared items, the literal values the
 * prefilter indexes, and detection_dump().  Read-only on a compiled
 * detection; no clock (time modifiers use the event's timestamp).
 */
#include "detection_int.h"

#include "condition.h"
#include "match.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void number_items(struct detection *det)
{
	for (size_t i = 0; i < det->n_idents; i++)
		for (size_t m = 0; m < det->idents[i].n_maps; m++) {
			struct det_map *map = &det->idents[i].maps[m];
			map->first = det->n_items;
			det->n_items += map->n_items;
		}
}

static size_t ident_items(const struct det_ident *id)
{
	size_t n = 0;

	for (size_t m = 0; m < id->n_maps; m++) {
		if (id->maps[m].n_items == 0)
			return 0;
		n += id->maps[m].n_items;
	}
	return n;
}

static int32_t op_target(const size_t *start, int32_t x)
{
	return x < 0 ? x : (int32_t)start[x];
}

/* Writes identifier id's maps as ops from prog[at]: an item goes on to the
 * next item of its map when true and to the next map when false; the last
 * item of a map goes to t when true, the last map to f when false. */
static void expand_ident(struct det_op *prog, size_t at,
			 const struct det_ident *id, int32_t t, int32_t f)
{
	for (size_t m = 0; m < id->n_maps; m++) {
		const struct det_map *map = &id->maps[m];
		int32_t next_map =
		    m + 1 < id->n_maps ? (int32_t)(at + map->n_items) : f;
		for (size_t k = 0; k < map->n_items; k++, at++)
			prog[at] = (struct det_op){
			    &map->items[k], (uint32_t)(map->first + k),
			    k + 1 < map->n_items ? (int32_t)at + 1 : t,
			    next_map};
	}
}

/* Builds det->prog from the condition's program; leaves it NULL (and the
 * condition evaluated identifier by identifier) when an identifier has no
 * item, the program would exceed DET_MAX_OPS or memory runs out (the
 * results are the same either way). */
static void build_program_ops(struct detection *det)
{
	size_t n_cops, total = 0;
	int32_t entry;
	const struct cond_op *cops = cond_program(det->cond, &n_cops, &entry);
	size_t *start = calloc(n_cops + 1, sizeof(*start));

	if (start == NULL) /* out of memory: identifier by identifier */
		return;
	for (size_t j = 0; j < n_cops; j++) {
		size_t n = ident_items(&det->idents[cops[j].ident]);
		start[j] = total;
		total += n;
		if (n == 0 || total > DET_MAX_OPS)
			goto done;
	}
	det->prog = calloc(total + 1, sizeof(*det->prog));
	for (size_t j = 0; det->prog != NULL && j < n_cops; j++)
		expand_ident(det->prog, start[j], &det->idents[cops[j].ident],
			     op_target(start, cops[j].t),
			     op_target(start, cops[j].f));
	det->entry = op_target(start, entry);
done:
	free(start);
}

void detection_program_build(struct detection *det)
{
	number_items(det);
	build_program_ops(det);
}

struct match_arg {
	const struct detection *det;
	const struct event *ev;
};

static bool ident_match(void *arg, size_t i)
{
	const struct match_arg *a = arg;
	const struct det_ident *id = &a->det->idents[i];

	for (size_t m = 0; m < id->n_maps; m++) {
		const struct det_map *map = &id->maps[m];
		size_t k = 0;
		while (k < map->n_items &&
		       match_field_eval(&map->items[k], a->ev))
			k++;
		if (k == map->n_items)
			return true;
	}
	return false;
}

/* Runs the item program; memo as in detection_match_shared(), or none
 * when slot is NULL. */
static bool run(const struct detection *det, const struct event *ev,
		const uint32_t *slot, uint8_t *memo)
{
	int32_t pc = det->entry;

	while (pc >= 0) {
		const struct det_op *op = &det->prog[pc];
		uint32_t s = slot ? slot[op->unit] : DETECTION_NO_SLOT;
		bool v;
		if (s == DETECTION_NO_SLOT) {
			v = match_field_eval(op->mf, ev);
		} else if (memo[s] != 0) {
			v = memo[s] == 2;
		} else {
			v = match_field_eval(op->mf, ev);
			memo[s] = v ? 2 : 1;
		}
		pc = v ? op->t : op->f;
	}
	return pc == COND_OP_TRUE;
}

bool detection_match(const struct detection *det, const struct event *ev)
{
	struct match_arg a = {det, ev};

	if (det->prog != NULL)
		return run(det, ev, NULL, NULL);
	return cond_eval(det->cond, ident_match, &a);
}

bool detection_match_shared(const struct detection *det, const struct event *ev,
			    const uint32_t *slot, uint8_t *memo)
{
	uint32_t s = slot[det->n_items];
	bool r;

	if (s != DETECTION_NO_SLOT && memo[s] != 0)
		return memo[s] == 2;
	r = det->prog != NULL ? run(det, ev, slot, memo)
			      : detection_match(det, ev);
	if (s != DETECTION_NO_SLOT)
		memo[s] = r ? 2 : 1;
	return r;
}

size_t detection_n_units(const struct detection *det)
{
	return det->n_items + 1;
}

static const struct match_field *item_at(const struct detection *det, size_t k)
{
	for (size_t i = 0; i < det->n_idents; i++)
		for (size_t m = 0; m < det->idents[i].n_maps; m++) {
			const struct det_map *map = &det->idents[i].maps[m];
			if (k >= map->first && k - map->first < map->n_items)
				return &map->items[k - map->first];
		}
	return NULL;
}

static bool ident_equal(const struct det_ident *a, const struct det_ident *b)
{
	if (a->keywords != b->keywords || a->n_maps != b->n_maps)
		return false;
	for (size_t m = 0; m < a->n_maps; m++) {
		if (a->maps[m].n_items != b->maps[m].n_items)
			return false;
		for (size_t k = 0; k < a->maps[m].n_items; k++)
			if (!match_field_equal(&a->maps[m].items[k],
					       &b->maps[m].items[k]))
				return false;
	}
	return true;
}

static bool det_equal(const struct detection *a, const struct detection *b)
{
	if (a->n_idents != b->n_idents || !cond_equal(a->cond, b->cond))
		return false;
	for (size_t i = 0; i < a->n_idents; i++)
		if (!ident_equal(&a->idents[i], &b->idents[i]))
			return false;
	return true;
}

bool detection_unit_equal(const struct detection *a, size_t ka,
			  const struct detection *b, size_t kb)
{
	if (ka < a->n_items || kb < b->n_items)
		return ka < a->n_items && kb < b->n_items &&
		       match_field_equal(item_at(a, ka), item_at(b, kb));
	return det_equal(a, b);
}

static uint64_t ident_hash(const struct det_ident *id)
{
	uint64_t h = id->n_maps;

	for (size_t m = 0; m < id->n_maps; m++)
		for (size_t k = 0; k < id->maps[m].n_items; k++)
			h = h * 31 + match_field_hash(&id->maps[m].items[k]);
	return h;
}

uint64_t detection_unit_hash(const struct detection *det, size_t k)
{
	uint64_t h = 0;

	if (k < det->n_items)
		return match_field_hash(item_at(det, k));
	for (size_t i = 0; i < det->n_idents; i++)
		h = h * 31 + ident_hash(&det->idents[i]);
	return h * 3 + 1;
}

/* ---- prefilter literals ---- */

/* An item that can only be true when the field equals one of its literal
 * alternatives. */
static bool literal_item(const struct match_field *mf)
{
	if (mf->id < 0 || mf->exists || mf->neq || mf->n_alts == 0 ||
	    mf->time_part != MATCH_TIME_NONE)
		return false;
	for (size_t i = 0; i < mf->n_alts; i++)
		if (mf->alts[i].kind != MATCH_EXACT)
			return false;
	return true;
}

static const struct match_field *map_literal(const struct det_map *m,
					     int32_t field)
{
	for (size_t k = 0; k < m->n_items; k++)
		if (m->items[k].id == field && literal_item(&m->items[k]))
			return &m->items[k];
	return NULL;
}

/* Identifiers (< 64) every map of which has a literal item on field. */
static uint64_t literal_idents(const struct detection *det, int32_t field)
{
	uint64_t usable = 0;

	for (size_t i = 0; i < det->n_idents && i < 64; i++) {
		const struct det_ident *id = &det->idents[i];
		size_t m = 0;
		while (m < id->n_maps && map_literal(&id->maps[m], field))
			m++;
		if (!id->keywords && id->n_maps > 0 && m == id->n_maps)
			usable |= (uint64_t)1 << i;
	}
	return usable;
}

int detection_literals(const struct detection *det, int32_t field,
		       struct detection_literal *out, size_t max)
{
	uint64_t cover;
	size_t n = 0;

	if (field < 0 ||
	    !cond_cover(det->cond, literal_idents(det, field), &cover))
		return -1;
	for (size_t i = 0; i < det->n_idents && i < 64; i++) {
		if (!((cover >> i) & 1))
			continue;
		const struct det_ident *id = &det->idents[i];
		for (size_t m = 0; m < id->n_maps; m++) {
			const struct match_field *mf =
			    map_literal(&id->maps[m], field);
			for (size_t a = 0; a < mf->n_alts; a++) {
				if (n == max || n == INT32_MAX)
					return -1;
				out[n++] = (struct detection_literal){
				    mf->alts[a].pat, mf->alts[a].pat_len,
				    mf->alts[a].cased};
			}
		}
	}
	return (int)n;
}

int detection_unit_equality(const struct detection *det, size_t k,
			    int32_t *field, struct detection_literal *out,
			    size_t max)
{
	const struct match_field *mf =
	    k < det->n_items ? item_at(det, k) : NULL;

	if (mf == NULL || !literal_item(mf) || mf->all || mf->n_alts > max)
		return -1;
	for (size_t a = 0; a < mf->n_alts; a++) {
		if (mf->alts[a].cased)
			return -1;
		out[a] = (struct detection_literal){mf->alts[a].pat,
						    mf->alts[a].pat_len, false};
	}
	*field = mf->id;
	return (int)mf->n_alts;
}

size_t detection_literal_fields(const struct detection *det, int32_t *out,
				size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < det->n_idents; i++) {
		const struct det_ident *id = &det->idents[i];
		for (size_t m = 0; m < id->n_maps && !id->keywords; m++) {
			const struct det_map *map = &id->maps[m];
			for (size_t k = 0; k < map->n_items; k++) {
				int32_t f = map->items[k].id;
				size_t j = 0;
				if (!literal_item(&map->items[k]))
					continue;
				while (j < n && out[j] != f)
					j++;
				if (j == n && n < max)
					out[n++] = f;
			}
		}
	}
	return n;
}

void detection_dump(const struct detection *det, const struct fieldtab *t,
		    void *stdio_file)
{
	FILE *f = stdio_file;

	fprintf(f, "detection:\n");
	for (size_t i = 0; i < det->n_idents; i++) {
		const struct det_ident *id = &det->idents[i];
		fprintf(f, "  %s: %s, %zu map(s) ORed\n", id->name,
			id->keywords ? "keywords" : "maps", id->n_maps);
		for (size_t m = 0; m < id->n_maps; m++) {
			fprintf(f, "    map %zu: %zu item(s) ANDed\n", m,
				id->maps[m].n_items);
			for (size_t k = 0; k < id->maps[m].n_items; k++)
				match_field_dump(&id->maps[m].items[k], t, f);
		}
	}
	fprintf(f, "  condition: ");
	cond_dump(det->cond, det->names, f);
	fputc('\n', f);
}
