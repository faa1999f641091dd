/*
 * fuzz_decode_json_diff: libFuzzer target comparing decode_json() (the
 * hand-written scanner) with decode_json_ref() (jansson) on every input;
 * abort()s on any difference (the comparison and its one documented
 * exception are in tests/unit/decode_json_diff.h).
 *
 * The first input byte picks the buffer limits (default, or small field and
 * byte limits so that limit handling is compared too); the rest is the line.
 * Both buffers are reused across inputs, as in custos replay, and each
 * input is decoded twice, so that its keys are compared both with and
 * without decode_json's key cache holding them.
 *
 * Build and run (clang), from the repository root:
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Idaemon/core \
 *     -Itests/unit tests/fuzz/fuzz_decode_json_diff.c \
 *     daemon/core/decode.c daemon/core/decode_json.c \
 *     daemon/core/decode_json_ref.c daemon/core/event.c \
 *     daemon/core/json_keys.c -ljansson \
 *     -o fuzz_decode_json_diff
 *   ./fuzz_decode_json_diff -jobs=1 -max_total_time=600 \
 *     -artifact_prefix=tests/fuzz/crashes/fuzz_decode_json_diff/ CORPUS_DIR
 * Only LLVMFuzzerTestOneInput is defined: the fuzzing engine provides main.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "decode_json_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fieldtab *tab;
static struct event_buf *fast, *ref;

static void setup(void)
{
	tab = diff_table();
	fast = event_buf_new(tab);
	ref = event_buf_new(tab);
	if (tab == NULL || fast == NULL || ref == NULL)
		abort();
}

static void set_limits(uint8_t sel)
{
	static const size_t limits[4][2] = {
	    {EVENT_BUF_MAX_FIELDS, EVENT_BUF_MAX_BYTES},
	    {EVENT_BUF_MAX_FIELDS, EVENT_BUF_MAX_BYTES},
	    {8, 256},
	    {3, 48}};
	const size_t *l = limits[sel % 4];

	event_buf_set_limits(fast, l[0], l[1]);
	event_buf_set_limits(ref, l[0], l[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[1024];

	if (tab == NULL)
		setup();
	if (size == 0)
		return 0;
	set_limits(data[0]);
	const char *line = (const char *)data + 1;
	size_t len = size - 1;
	/* twice: the second time the line's keys are in decode_json's key
	 * cache (json_keys.h), the first time those of earlier inputs */
	for (int pass = 0; pass < 2; pass++)
		if (diff_decode(fast, ref, line, len, why, sizeof(why)) ==
		    DIFF_DIFFERENT) {
			fprintf(stderr,
				"decode_json differs from decode_json_ref "
				"(pass %d): %s\n",
				pass + 1, why);
			abort();
		}
	return 0;
}
