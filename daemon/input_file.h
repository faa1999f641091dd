/*
 * input_file: the file-tail input (input_file_ops, declared in input.h).
 * This header adds only what input.h cannot say: the limits, and the
 * counters specific to tailing, for `custosd` status output and tests.
 */
#ifndef CUSTOS_INPUT_FILE_H
#define CUSTOS_INPUT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "input.h"

/* Files followed at once by one input (current and rotated ones); more
 * matches are counted in n_files_skipped and left alone. */
#define INPUT_FILE_MAX_FILES 1024
/* Bytes at the start of a file hashed to recognise it (inode reuse,
 * truncation). */
#define INPUT_FILE_FINGERPRINT_BYTES 256
#define INPUT_FILE_ROTATE_WAIT_MS 5000
/* Glob rescan period when inotify is silent (or unavailable). */
#define INPUT_FILE_RESCAN_MS 1000

struct input_file_stats {
	size_t n_files;            /* followed now, rotated ones included */
	uint64_t n_rotations;      /* renames/deletions of a followed path */
	uint64_t n_truncations;    /* copytruncate: restarted at offset 0 */
	uint64_t n_lost_positions; /* saved positions whose file was gone
	                              or replaced (inode reuse) at open */
	uint64_t n_files_skipped;  /* rescans that hit INPUT_FILE_MAX_FILES */
};

/* Tail-specific counters.  `in` must come from input_file_ops.open. */
void input_file_stats(const struct input *in, struct input_file_stats *out);

#endif
