/*
 * fuzz_decode_json: libFuzzer target for the ingest front — each input is
 * one log line, decoded (decode_json) and normalized with the identity map
 * and with a nested map, into one reused event_buf, as custos replay does.
 * Checks the invariants a caller relies on: on success every field is
 * NUL-terminated at value_len and every slot points at a field with that
 * id; on failure the reason is a non-empty string.
 *
 * Built by tests/fuzz/CMakeLists.txt (libFuzzer with -DCUSTOS_FUZZ=ON, and
 * always as a replay program over the corpus and saved crashes).
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "decode_json.h"
#include "normalize.h"
#include "yamltree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fieldtab *tab;
static struct event_buf *buf;
static struct fieldmap *nested_map;

static void setup(void)
{
	static const char map_yaml[] =
	    "ts: { field: time, format: auto }\n"
	    "agent: actor.id\ncustomer: agent\nrows: n\n";
	struct diag d;

	diag_init(&d);
	tab = fieldtab_new();
	fieldtab_intern(tab, "actor.id", 8);
	fieldtab_intern(tab, "tags", 4);
	fieldtab_freeze(tab);
	buf = event_buf_new(tab);
	struct yaml_docs *docs = yamltree_load_buffer("fuzz-map", map_yaml,
						      sizeof(map_yaml) - 1, &d);
	nested_map =
	    fieldmap_compile(docs ? docs->docs[0] : NULL, "fuzz-map", &d);
	yamltree_free(docs);
	assert(tab && buf && nested_map && diag_count(&d) == 0);
	diag_clear(&d);
}

static void check_event(const struct event *ev)
{
	for (size_t i = 0; i < ev->n_fields; i++) {
		const struct event_field *f = &ev->fields[i];
		assert(f->value[f->value_len] == '\0');
		assert(f->name != NULL);
		assert(f->next_same < (int32_t)ev->n_fields);
		assert(f->next_same == -1 || f->next_same > (int32_t)i);
	}
	for (size_t id = 0; id < ev->n_slots; id++) {
		int32_t i = ev->slot[id];
		assert(i >= -1 && i < (int32_t)ev->n_fields);
		for (; i >= 0; i = ev->fields[i].next_same)
			assert(ev->fields[i].id == (int32_t)id);
	}
}

static void run(const struct fieldmap *m, const uint8_t *data, size_t size)
{
	struct event ev;
	char err[256];

	err[0] = '\0';
	if (decode_json(buf, (const char *)data, size, &ev, err, sizeof(err)) <
	    0) {
		assert(err[0] != '\0');
		return;
	}
	check_event(&ev);
	err[0] = '\0';
	if (normalize_event(m, buf, &ev, err, sizeof(err)) < 0)
		assert(err[0] != '\0');
	else
		check_event(&ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (tab == NULL)
		setup();
	run(NULL, data, size);
	run(nested_map, data, size);
	return 0;
}
