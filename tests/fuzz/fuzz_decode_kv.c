/*
 * fuzz_decode_kv: libFuzzer target for decode_kv.  Each input is one line
 * decoded into one reused event_buf (small limits, so the limit paths are
 * reached).  Checks: on success every field has a non-empty, unique name
 * without spaces or '=', a value NUL-terminated at value_len and no longer
 * than the line, NUMBER values are integers; on failure the reason is a
 * non-empty string and the buffer holds no field.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Idaemon/core \
 *   tests/fuzz/fuzz_decode_kv.c daemon/core/{decode_kv,decode_csv,decode,
 *   event}.c
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "decode_csv.h"
#include "decode_kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fieldtab *tab;
static struct event_buf *buf;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event ev;
	char err[256] = "";

	if (tab == NULL) {
		tab = fieldtab_new();
		fieldtab_intern(tab, "a", 1);
		fieldtab_freeze(tab);
		buf = event_buf_new(tab);
		event_buf_set_limits(buf, 64, 4096);
	}
	char *line = malloc(size ? size : 1);
	memcpy(line, data, size);
	if (decode_kv(buf, line, size, &ev, err, sizeof(err)) < 0) {
		assert(err[0] != '\0');
		assert(buf->n_fields == 0);
		free(line);
		return 0;
	}
	assert(ev.n_fields >= 1);
	for (size_t i = 0; i < ev.n_fields; i++) {
		const struct event_field *f = &ev.fields[i];
		size_t n = strlen(f->name);
		assert(n >= 1 && n <= DECODE_KV_MAX_NAME);
		assert(strpbrk(f->name, " \t=") == NULL);
		assert(f->value[f->value_len] == '\0');
		assert(f->value_len <= size);
		if (f->kind == VALUE_NUMBER)
			assert(decode_csv_is_integer(f->value, f->value_len));
		for (size_t j = 0; j < i; j++)
			assert(strcmp(ev.fields[j].name, f->name) != 0);
	}
	free(line);
	return 0;
}
