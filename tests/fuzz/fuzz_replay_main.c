/*
 * fuzz_replay_main: a main() for fuzz targets built without libFuzzer.
 *
 * Every tests/fuzz/fuzz_*.c defines LLVMFuzzerTestOneInput (and optionally
 * LLVMFuzzerInitialize), never main.  Linked with this file instead of
 * libFuzzer, a target becomes a plain program that feeds each file named on
 * the command line, or every regular file under each directory named
 * (recursively, in sorted order, dot-files skipped), to the target once.
 * ctest uses it to replay the seed corpus and every crash ever saved, so a
 * crash once found stays a regression test; under -DCUSTOS_SANITIZE=ON or
 * valgrind the same replay checks memory errors.
 *
 * Each input is copied into a heap buffer of exactly its size, so that a
 * read past the end is caught by ASan or valgrind, as under libFuzzer.
 * A target that crashes ends the run (that is the failure signal); the
 * program itself fails on I/O errors, a missing path, or when no input at
 * all was replayed (a misconfigured test must not pass silently).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* libFuzzer's default -max_len is far smaller; this only bounds memory. */
#define REPLAY_MAX_INPUT_BYTES (64u * 1024 * 1024)
#define REPLAY_MAX_DEPTH 16

struct replay_stats {
	size_t n_inputs;
	size_t n_errors;
};

static int read_whole(const char *path, uint8_t **out, size_t *out_len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf = NULL;

	if (f == NULL)
		return -1;
	if (fstat(fileno(f), &st) < 0 || st.st_size < 0 ||
	    (uintmax_t)st.st_size > REPLAY_MAX_INPUT_BYTES)
		goto fail;
	/* malloc(0) may return NULL: keep one byte, pass size 0. */
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (buf == NULL)
		goto fail;
	if (st.st_size > 0 &&
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		goto fail;
	fclose(f);
	*out = buf;
	*out_len = (size_t)st.st_size;
	return 0;
fail:
	free(buf);
	fclose(f);
	return -1;
}

static void replay_file(const char *path, struct replay_stats *st)
{
	uint8_t *buf;
	size_t len;

	errno = 0;
	if (read_whole(path, &buf, &len) < 0) {
		fprintf(stderr, "replay: %s: cannot read: %s\n", path,
			errno ? strerror(errno) : "too large");
		st->n_errors++;
		return;
	}
	/* Printed first so that a crash names its input. */
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	st->n_inputs++;
}

static void replay_path(const char *path, int depth, struct replay_stats *st);

static void replay_dir(const char *dir, int depth, struct replay_stats *st)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);

	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		st->n_errors++;
		return;
	}
	for (int i = 0; i < n; i++) {
		char sub[4096];

		if (names[i]->d_name[0] != '.' &&
		    snprintf(sub, sizeof(sub), "%s/%s", dir, names[i]->d_name) <
			(int)sizeof(sub))
			replay_path(sub, depth + 1, st);
		free(names[i]);
	}
	free(names);
}

static void replay_path(const char *path, int depth, struct replay_stats *st)
{
	struct stat sb;

	if (stat(path, &sb) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		st->n_errors++;
	} else if (S_ISDIR(sb.st_mode)) {
		if (depth < REPLAY_MAX_DEPTH)
			replay_dir(path, depth, st);
	} else if (S_ISREG(sb.st_mode)) {
		replay_file(path, st);
	}
}

int main(int argc, char **argv)
{
	struct replay_stats st = {0, 0};

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		replay_path(argv[i], 0, &st);
	fprintf(stderr, "replay: %zu inputs, %zu errors\n", st.n_inputs,
		st.n_errors);
	return st.n_errors == 0 && st.n_inputs > 0 ? 0 : 1;
}
