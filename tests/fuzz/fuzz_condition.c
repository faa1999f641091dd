/*
 * fuzz_condition: fuzz target for the Sigma condition parser (condition.c).
 *
 * Each input is a condition text, parsed against a fixed set of identifier
 * names; a parsed condition is evaluated under an assignment taken from the
 * input's first byte, dumped, and freed.  A parse error must come with an
 * offset inside the input.
 *
 * Built by tests/fuzz/CMakeLists.txt (libFuzzer with -DCUSTOS_FUZZ=ON, and
 * always as a replay program over the corpus and saved crashes).
 */
#include "condition.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"sel",   "sel_a", "sel_b", "filter",
				    "_priv", "kw-1",  "x.y",   "1x"};
#define N_NAMES (sizeof(names) / sizeof(*names))

static bool ident(void *arg, size_t i)
{
	return (*(const unsigned *)arg >> i) & 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cond_error err;
	struct cond *c =
	    cond_parse((const char *)data, size, names, N_NAMES, &err);

	if (c == NULL) {
		if (err.offset > size || err.message[0] == '\0')
			abort();
		return 0;
	}
	unsigned bits = size > 0 ? data[0] : 0;
	(void)cond_eval(c, ident, &bits);
	FILE *f = fopen("/dev/null", "w");
	if (f != NULL) {
		cond_dump(c, names, f);
		fclose(f);
	}
	cond_free(c);
	return 0;
}
