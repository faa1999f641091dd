/*
 * fuzz_tzfile: the TZif reader (tzfile_load_buffer) on arbitrary bytes.
 *
 * Oracle: a zone either fails to load or loads into a table that
 * tzfile_offset() can query anywhere (far past, epoch, the footer's
 * expanded years, far future) with offsets within RFC 8536's range
 * (-89999..93599 s, checked at load for the file's types; the footer's
 * are at most 24 h 59 min 59 s) and at most TZFILE_MAX_TRANSITIONS
 * transitions.  Seeds: real zone files.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tzfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t at[] = {
	    INT64_MIN,	-INT64_C(5000000000), 0,
	    1743296400, INT64_C(4102444800),  INT64_MAX};
	char err[200];
	struct tzfile_zone *z =
	    tzfile_load_buffer("fuzz", data, size, err, sizeof(err));

	if (z == NULL)
		return 0;
	if (tzfile_count(z) == 0 || tzfile_count(z) > TZFILE_MAX_TRANSITIONS)
		abort();
	for (size_t i = 0; i < sizeof(at) / sizeof(*at); i++) {
		int32_t off = tzfile_offset(z, at[i]);
		if (off < -89999 || off > 93599)
			abort();
	}
	tzfile_free(z);
	return 0;
}
