/*
 * input_file_rotate: how input_file finds its files and notices their
 * changes: rotation (the path names another inode or nothing: the old
 * file is drained and closed, see input_file.c), copytruncate (smaller
 * than the offset, or a changed fingerprint: read again from 0), new
 * files matching the glob (rescanned when inotify saw names change or
 * every INPUT_FILE_RESCAN_MS, at most INPUT_FILE_MAX_FILES followed).
 * Clock: CLOCK_MONOTONIC, passed in as now.
 */
#include "input_file_int.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define NAME_EVENTS                                                            \
	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |                 \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_Q_OVERFLOW | IN_IGNORED)

static void mark_rotated(struct input *in, struct tail_file *f, int64_t now)
{
	char link[64], target[PATH_MAX];
	ssize_t n;

	f->rotated = true;
	f->rotated_ms = now;
	in->fst.n_rotations++;
	in->rescan_needed = true;
	/* Its new name, for the records' source (kept if deleted). */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", f->fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	if (target[0] == '/' && strstr(target, " (deleted)") == NULL) {
		char *p = strdup(target);
		if (p) {
			free(f->path);
			f->path = p;
		}
	}
}

void input_file_rotate_restart(struct input *in, struct tail_file *f)
{
	f->offset = 0;
	f->line_no = 0;
	f->skipping = false;
	f->fp_len = 0;
	f->fp_hash = FNV_BASIS;
	input_file_fp_update(f);
	in->fst.n_truncations++;
}

void input_file_rotate_check(struct input *in, struct tail_file *f, int64_t now)
{
	struct stat st, fst;

	if (f->rotated)
		return;
	if (stat(f->path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			mark_rotated(in, f, now);
		else
			in->st.n_errors++;
		return;
	}
	if (st.st_dev != f->dev || st.st_ino != f->ino) {
		mark_rotated(in, f, now);
		return;
	}
	if (fstat(f->fd, &fst) != 0) {
		in->st.n_errors++;
		return;
	}
	if ((uint64_t)fst.st_size < f->offset ||
	    !input_file_fp_matches(f->fd, f->fp_len, f->fp_hash))
		input_file_rotate_restart(in, f);
	else
		input_file_fp_update(f);
}

/* Offset after the last newline of fd and the lines before it (start_at:
 * end).  Reads the whole file once. */
static int find_end(struct input *in, int fd, uint64_t *offset, uint64_t *lines)
{
	uint64_t pos = 0;

	*offset = *lines = 0;
	for (;;) {
		ssize_t n = pread(fd, in->buf, in->buf_size, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		for (const char *p = in->buf, *end = in->buf + n;
		     (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
			(*lines)++;
			*offset = pos + (uint64_t)(p - in->buf) + 1;
		}
		pos += (uint64_t)n;
	}
}

/* A glob match: follow it unless it already is (by inode). */
static void follow_path(struct input *in, const char *path, bool at_end)
{
	struct stat st;
	struct tail_file *f;
	int fd;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	f = input_file_find(in, st.st_dev, st.st_ino);
	if (f) {
		if (f->rotated) { /* renamed to a matching name: current */
			char *p = strdup(path);
			if (p) {
				free(f->path);
				f->path = p;
				f->rotated = false;
			}
		}
		return;
	}
	if (in->n_files == INPUT_FILE_MAX_FILES) {
		in->over_limit = true;
		return;
	}
	/* A new inode at a followed path: the old one was rotated, even if
	 * this poll's check ran before the rename.  Marking it now keeps it
	 * read before its successor. */
	for (size_t i = 0; i < in->n_files; i++)
		if (!in->files[i].rotated &&
		    strcmp(in->files[i].path, path) == 0)
			mark_rotated(in, &in->files[i], input_file_now_ms());
	fd = input_file_open_regular(path, &st);
	if (fd < 0 || input_file_find(in, st.st_dev, st.st_ino)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	f = input_file_add(in, fd, &st, path);
	if (f == NULL)
		in->st.n_errors++;
	else if (at_end && find_end(in, f->fd, &f->offset, &f->line_no) < 0)
		in->st.n_errors++;
}

void input_file_rotate_rescan(struct input *in, bool at_end, int64_t now)
{
	glob_t g;
	bool was_over = in->over_limit;
	int r = glob(in->pattern, 0, NULL, &g);

	in->rescan_needed = false;
	in->last_rescan_ms = now;
	in->over_limit = false;
	if (r == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			follow_path(in, g.gl_pathv[i], at_end);
	} else if (r != GLOB_NOMATCH) {
		in->st.n_errors++;
	}
	if (r != GLOB_NOSPACE)
		globfree(&g);
	if (in->over_limit && !was_over)
		in->fst.n_files_skipped++;
}

/* Reads pending inotify events; a change of names asks for a rescan. */
void input_file_rotate_drain_inotify(struct input *in)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(in->ifd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;
			if (ev->mask & NAME_EVENTS)
				in->rescan_needed = true;
			p += sizeof(*ev) + ev->len;
		}
	}
}
