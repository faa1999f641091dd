/*
 * enrich: see enrich.h.  The copy keeps field order, ids and array chains
 * (next_same), so a rule sees the same event plus the directory's fields.
 */
#include "enrich.h"

/* Index of the field whose next_same is i (an array element without id),
 * or -1. */
static int32_t prev_elem(const struct event *ev, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (ev->fields[j].next_same == (int32_t)i)
			return (int32_t)j;
	return -1;
}

static int copy_fields(struct event_buf *b, const struct event *in)
{
	for (size_t i = 0; i < in->n_fields; i++) {
		const struct event_field *f = &in->fields[i];
		bool bound = f->id >= 0 && (size_t)f->id < b->n_slots;
		int32_t prev = bound ? -1 : prev_elem(in, i);
		if (event_buf_add_id(b, f->name, bound ? f->id : -1, f->value,
				     f->value_len, (enum value_kind)f->kind,
				     prev) < 0)
			return -1;
	}
	return 0;
}

int enrich_copy(const struct agentdir *a, struct event_buf *b,
		const struct event *in, struct event *out)
{
	const struct event_field *f = a ? event_get(in, FIELD_AGENT) : NULL;

	*out = *in;
	if (f == NULL ||
	    agentdir_get(a, f->value, f->value_len, "agent") == NULL)
		return 0;
	event_buf_reset(b);
	int rc = copy_fields(b, in);
	event_buf_view(b, out);
	out->ts_ms = in->ts_ms;
	out->source = in->source;
	out->raw = in->raw;
	out->raw_len = in->raw_len;
	if (rc < 0)
		return -1;
	return agentdir_enrich(a, b, out);
}
