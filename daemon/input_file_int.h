/*
 * input_file_int: what the parts of input_file share: input_file.c (the
 * file table, fingerprints, reading, the ops), input_file_rotate.c
 * (rotation, truncation, glob rescans, inotify) and input_file_position.c
 * (the position blob: saving and resuming).  Not for other modules: their
 * interface is input.h and input_file.h.  The state and its invariants are
 * described at the top of input_file.c.
 */
#ifndef CUSTOS_INPUT_FILE_INT_H
#define CUSTOS_INPUT_FILE_INT_H

#include "input_file.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#define FNV_BASIS UINT64_C(0xcbf29ce484222325)

struct tail_file {
	int fd;
	dev_t dev;
	ino_t ino;
	char *path;	  /* where it was found (rotated: its new name) */
	uint64_t offset;  /* first byte not accepted by emit */
	uint64_t line_no; /* lines accepted so far */
	bool skipping;	  /* offset is inside a line already emitted cut */
	bool rotated;	  /* no longer at a matching path: drain, close */
	int64_t rotated_ms;
	uint64_t fp_hash; /* FNV-1a of the first fp_len bytes */
	size_t fp_len;
};

struct input {
	char *name;
	char *pattern;
	size_t max_line_bytes;
	int64_t rotate_wait_ms;
	int ifd; /* inotify, or -1 (then rescans run on the timer only) */
	char *buf;
	size_t buf_size;
	struct tail_file *files; /* rotated ones keep rotation order */
	size_t n_files, cap_files;
	size_t rr; /* first current file read next poll (fairness) */
	bool rescan_needed;
	bool over_limit; /* the last rescan could not follow every match */
	int64_t last_rescan_ms;
	struct input_stats st;
	struct input_file_stats fst;
};

/* CLOCK_MONOTONIC in ms (rescans, rotate_wait). */
static inline int64_t input_file_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "name: msg" into err, if there is one. */
static inline void input_file_set_err(char *err, size_t err_size,
				      const char *name, const char *msg)
{
	if (err && err_size)
		snprintf(err, err_size, "%s: %s", name, msg);
}

/* ---- input_file.c ---- */

/* Whether fd still starts with the fp_len bytes hashed as fp_hash. */
bool input_file_fp_matches(int fd, size_t fp_len, uint64_t fp_hash);
/* Extends f's fingerprint while the file is shorter than its maximum. */
void input_file_fp_update(struct tail_file *f);
/* The followed file with this device and inode, or NULL. */
struct tail_file *input_file_find(struct input *in, dev_t dev, ino_t ino);
/* Adds the open descriptor fd (taken over, closed on failure) as a followed
 * file.  NULL when the table is full or memory is short. */
struct tail_file *input_file_add(struct input *in, int fd,
				 const struct stat *st, const char *path);
/* Opens path read-only if it is a regular file; fd or -1. */
int input_file_open_regular(const char *path, struct stat *st);

/* ---- input_file_rotate.c ---- */

/* f was truncated (copytruncate) or rewritten: read again from offset 0
 * (counted as a truncation). */
void input_file_rotate_restart(struct input *in, struct tail_file *f);
/* Checks a current file f: its path names another inode or nothing ->
 * marked rotated; smaller than its offset or its first bytes changed ->
 * restarted; otherwise its fingerprint is extended.  Rotated files are
 * left alone. */
void input_file_rotate_check(struct input *in, struct tail_file *f,
			     int64_t now);
/* Globs the pattern and follows every match not yet followed (by inode),
 * from its end when at_end; glob errors are counted, and hitting the file
 * limit once per episode. */
void input_file_rotate_rescan(struct input *in, bool at_end, int64_t now);
/* Reads pending inotify events; a change of names asks for a rescan. */
void input_file_rotate_drain_inotify(struct input *in);

/* ---- input_file_position.c ---- */

/* The position blob of every followed file (input.h's position op). */
void *input_file_position_get(struct input *in, size_t *len);
/* Resumes the files of a saved position blob (borrowed).  0, or -1 (err
 * filled when the blob is not a valid file input position). */
int input_file_position_load(struct input *in, const void *blob, size_t len,
			     int64_t now, char *err, size_t err_size);

#endif
