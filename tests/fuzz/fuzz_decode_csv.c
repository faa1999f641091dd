/*
 * fuzz_decode_csv: libFuzzer target for decode_csv.  The input's first
 * line (up to the first '\n') is the header; every further line is decoded
 * against it into one reused event_buf, as an input would.  Checks: on
 * success there are exactly as many fields as columns, named as the
 * header, NUL-terminated at value_len, NUMBER values are integers; on
 * failure the reason is a non-empty string.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Idaemon/core \
 *   tests/fuzz/fuzz_decode_csv.c daemon/core/{decode_csv,decode,event}.c
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "decode_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fieldtab *tab;
static struct event_buf *buf;

static void check(const struct csv_header *h, const char *line, size_t len)
{
	struct event ev;
	char err[256] = "";

	if (decode_csv(buf, h, line, len, &ev, err, sizeof(err)) < 0) {
		assert(err[0] != '\0');
		assert(buf->n_fields == 0);
		return;
	}
	assert(ev.n_fields == csv_header_count(h));
	for (size_t i = 0; i < ev.n_fields; i++) {
		const struct event_field *f = &ev.fields[i];
		assert(strcmp(f->name, csv_header_name(h, i)) == 0);
		assert(f->value[f->value_len] == '\0');
		assert(f->value_len <= len);
		if (f->kind == VALUE_NUMBER)
			assert(decode_csv_is_integer(f->value, f->value_len));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nl = memchr(s, '\n', size);
	size_t hlen = nl ? (size_t)(nl - s) : size;
	char err[256] = "";

	if (tab == NULL) {
		tab = fieldtab_new();
		fieldtab_freeze(tab);
		buf = event_buf_new(tab);
		event_buf_set_limits(buf, 64, 4096);
	}
	char *hcopy = malloc(hlen ? hlen : 1);
	memcpy(hcopy, s, hlen);
	struct csv_header *h = csv_header_parse(hcopy, hlen, err, sizeof(err));
	free(hcopy);
	if (h == NULL) {
		assert(err[0] != '\0');
		return 0;
	}
	for (size_t i = 0; i < csv_header_count(h); i++)
		assert(csv_header_name(h, i)[0] != '\0');
	size_t off = nl ? hlen + 1 : size;
	while (off < size) {
		const char *e = memchr(s + off, '\n', size - off);
		size_t len = e ? (size_t)(e - (s + off)) : size - off;
		char *line = malloc(len ? len : 1);
		memcpy(line, s + off, len);
		check(h, line, len);
		free(line);
		off += len + 1;
	}
	csv_header_free(h);
	return 0;
}
