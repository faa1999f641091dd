/*
 * input_file: follows the files matching a glob(3) pattern, like `tail -F`,
 * one record per line (contract in input.h, limits in input_file.h).
 *
 * State per followed file: an open descriptor (so a file renamed or deleted
 * stays readable), its device and inode, `offset` = the first byte not yet
 * accepted by emit (always the start of a line, or inside an over-long line
 * already emitted cut when `skipping`), `line_no` = lines accepted so far,
 * and a fingerprint (FNV-1a of the first up to 256 bytes).  Nothing is
 * buffered between polls: each poll pread()s from `offset` into one shared
 * buffer of max_line_bytes + 64 KiB (256 KiB at a time, the whole buffer
 * only when a line does not fit in that), so an unfinished last line is simply
 * read again next time, a record refused by emit is offered again, and
 * position() is exact.
 *
 * Each poll: drain inotify; check every current file (path now names
 * another inode or nothing -> rotated; size < offset or first bytes changed
 * -> copytruncate, restart at 0); rescan the glob if inotify saw names
 * change or INPUT_FILE_RESCAN_MS passed; then read the rotated files first
 * (oldest rotation first), then the current ones.  Since a rotation is
 * noticed before its successor can be opened, lines come out in the order
 * they were written, across rotations.  A rotated file is read until it is
 * at its end and rotate_wait_ms has passed (writers may still append to it
 * until they reopen); then its unterminated last line, if any, is emitted
 * and it is closed.  While a rotated file ends with an unfinished line, the
 * other files wait (at most rotate_wait_ms), so that line keeps its place.
 *
 * Guarantees and their limits (rename rotation): no line lost or repeated,
 * provided each file generation is still at a matching path at one poll
 * (a file created and renamed away between two polls is never seen) and
 * writers stop writing to a rotated file within rotate_wait_ms.
 * copytruncate: lines written between the copy and the truncation exist in
 * neither file (logrotate's own race); lines in the copy beyond our offset
 * are not read unless the copy matches the pattern; lines written after the
 * truncation are all read, from offset 0, when the truncation is detected
 * by size or by a changed fingerprint (a rewrite whose first 256 bytes are
 * identical to the old ones cannot be detected).
 *
 * Clock: CLOCK_MONOTONIC for rescans and rotate_wait only.
 *
 * This file: the file table, fingerprints, reading, the ops.  Its parts
 * (input_file_int.h): rotation, truncation and rescans in
 * input_file_rotate.c, the position blob in input_file_position.c.
 */
#include "input_file_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lines.h"

#define READ_SLACK_BYTES (64u * 1024)
/* Bytes read per pread while lines fit: a poll takes PIPELINE_POLL_BATCH
 * records (~130 KiB of typical lines), so reading the whole buffer each
 * time would copy ~8x what is used. */
#define READ_CHUNK_BYTES (256u * 1024)
#define WATCH_MASK                                                             \
	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_MODIFY |     \
	 IN_DELETE_SELF | IN_MOVE_SELF)

/* What one poll may still emit, and where. */
struct emitter {
	input_emit_fn emit;
	void *arg;
	size_t budget;
	size_t n;
};

/* ---- fingerprint ---- */

static uint64_t fnv1a(const unsigned char *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* Reads up to INPUT_FILE_FINGERPRINT_BYTES from the start of fd into p;
 * the count, or -1. */
static ssize_t fp_read(int fd, unsigned char *p)
{
	ssize_t n;

	do
		n = pread(fd, p, INPUT_FILE_FINGERPRINT_BYTES, 0);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Whether fd still starts with the fp_len bytes hashed as fp_hash. */
bool input_file_fp_matches(int fd, size_t fp_len, uint64_t fp_hash)
{
	unsigned char p[INPUT_FILE_FINGERPRINT_BYTES];
	ssize_t n = fp_read(fd, p);

	if (fp_len == 0)
		return true; /* was empty: anything may follow */
	if (fp_len > INPUT_FILE_FINGERPRINT_BYTES)
		return false;
	return n >= (ssize_t)fp_len && fnv1a(p, fp_len, FNV_BASIS) == fp_hash;
}

/* Extends f's fingerprint while the file is shorter than its maximum. */
void input_file_fp_update(struct tail_file *f)
{
	unsigned char p[INPUT_FILE_FINGERPRINT_BYTES];
	ssize_t n;

	if (f->fp_len == INPUT_FILE_FINGERPRINT_BYTES)
		return;
	n = fp_read(f->fd, p);
	if (n > (ssize_t)f->fp_len) {
		f->fp_len = (size_t)n;
		f->fp_hash = fnv1a(p, f->fp_len, FNV_BASIS);
	}
}

/* ---- the file table ---- */

static void file_clear(struct tail_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
}

static void file_remove(struct input *in, size_t i)
{
	file_clear(&in->files[i]);
	memmove(&in->files[i], &in->files[i + 1],
		(in->n_files - i - 1) * sizeof(in->files[0]));
	in->n_files--;
	if (in->rr > i)
		in->rr--;
}

struct tail_file *input_file_find(struct input *in, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < in->n_files; i++)
		if (in->files[i].dev == dev && in->files[i].ino == ino)
			return &in->files[i];
	return NULL;
}

/* Watches the directory of path, so that new names there wake the loop.
 * A directory that is itself a pattern is not watched (the rescan timer
 * finds new directories; their files' directories are watched). */
static void watch_dir_of(struct input *in, const char *path, bool is_pattern)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 1;

	if (in->ifd < 0 || len >= sizeof(dir))
		return;
	if (slash == NULL)
		memcpy(dir, ".", 2);
	else if (len == 0)
		memcpy(dir, "/", 2);
	else {
		memcpy(dir, path, len);
		dir[len] = '\0';
	}
	if (is_pattern && strpbrk(dir, "*?[") != NULL)
		return;
	if (inotify_add_watch(in->ifd, dir, WATCH_MASK) < 0 && !is_pattern)
		in->st.n_errors++;
}

/* Adds the open descriptor fd (taken over, closed on failure) as a followed
 * file.  NULL when the table is full or memory is short. */
struct tail_file *input_file_add(struct input *in, int fd,
				 const struct stat *st, const char *path)
{
	struct tail_file *f;

	if (in->n_files == INPUT_FILE_MAX_FILES)
		goto fail;
	if (in->n_files == in->cap_files) {
		size_t cap = in->cap_files ? in->cap_files * 2 : 8;
		void *p = realloc(in->files, cap * sizeof(in->files[0]));
		if (p == NULL)
			goto fail;
		in->files = p;
		in->cap_files = cap;
	}
	f = &in->files[in->n_files];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	if (f->path == NULL)
		goto fail;
	f->fd = fd;
	f->fp_hash = FNV_BASIS;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	in->n_files++;
	input_file_fp_update(f);
	watch_dir_of(in, path, false);
	return f;
fail:
	close(fd);
	return NULL;
}

/* Opens path read-only if it is a regular file; fd or -1. */
int input_file_open_regular(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- reading ---- */

/* Offers one record; 0 if accepted (the caller then advances), -1 if not. */
static int offer(struct input *in, struct tail_file *f, struct emitter *e,
		 const char *p, size_t len, bool truncated)
{
	struct input_record rec = {
	    .data = p,
	    .len = len,
	    .truncated = truncated,
	    .source = {.input = in->name,
		       .path = f->path,
		       .line = f->line_no + 1,
		       .offset = f->offset},
	};

	if (e->emit(e->arg, &rec) != 0)
		return -1;
	e->n++;
	f->line_no++;
	in->st.n_records++;
	if (truncated)
		in->st.n_truncated++;
	return 0;
}

/* Offers the line at p (n bytes available, the newline at nl or none).
 * Returns the bytes consumed, 0 if the line is unfinished, -1 if refused
 * or out of budget. */
static ssize_t take_line(struct input *in, struct tail_file *f,
			 struct emitter *e, const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);
	size_t len, used;
	bool cut = false;

	if (f->skipping) {
		used = nl ? (size_t)(nl - p) + 1 : n;
		f->skipping = nl == NULL;
		f->offset += used;
		return (ssize_t)used;
	}
	if (nl == NULL && n <= in->max_line_bytes)
		return 0;
	if (e->n >= e->budget)
		return -1;
	len = nl ? (size_t)(nl - p) : n;
	used = nl ? len + 1 : in->max_line_bytes;
	if (nl && len > 0 && p[len - 1] == '\r')
		len--;
	if (len > in->max_line_bytes) {
		len = in->max_line_bytes;
		cut = true;
	}
	if (offer(in, f, e, p, len, cut) != 0)
		return -1;
	f->offset += used;
	f->skipping = nl == NULL;
	in->st.n_bytes += used;
	return (ssize_t)used;
}

/* Reads f from its offset, offering every complete line.  Returns 0 at the
 * end of the file (*tail = bytes of an unfinished last line), 1 when
 * stopped (budget, or emit refused), -1 on a read error. */
static int file_read(struct input *in, struct tail_file *f, struct emitter *e,
		     size_t *tail)
{
	size_t want =
	    in->buf_size < READ_CHUNK_BYTES ? in->buf_size : READ_CHUNK_BYTES;

	for (;;) {
		ssize_t n = pread(f->fd, in->buf, want, (off_t)f->offset);
		size_t p = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		while (p < (size_t)n) {
			ssize_t used =
			    take_line(in, f, e, in->buf + p, (size_t)n - p);
			if (used < 0)
				return 1;
			if (used == 0)
				break;
			p += (size_t)used;
		}
		if (p == 0 && (size_t)n == want && want < in->buf_size) {
			want = in->buf_size; /* a line longer than a chunk */
			continue;
		}
		if (p == 0 || (size_t)n < want) {
			*tail = (size_t)n - p;
			return 0;
		}
	}
}

/* A rotated file at its end: past rotate_wait, offers its unfinished last
 * line (if any) and returns 1 (close it); 0 to keep it, -1 if refused. */
static int rotated_finish(struct input *in, struct tail_file *f,
			  struct emitter *e, size_t tail, int64_t now)
{
	if (now - f->rotated_ms < in->rotate_wait_ms)
		return 0;
	if (tail == 0 || f->skipping)
		return 1;
	if (e->n >= e->budget)
		return -1;
	/* file_read left the tail at the end of the buffer. */
	if (pread(f->fd, in->buf, tail, (off_t)f->offset) != (ssize_t)tail)
		return 1;
	if (offer(in, f, e, in->buf, tail, false) != 0)
		return -1;
	f->offset += tail;
	in->st.n_bytes += tail;
	return 1;
}

/* Reads file i; returns 1 if this poll must stop, 0 to go on.  A rotated
 * file that is done is removed (*removed set). */
static int read_one(struct input *in, size_t i, struct emitter *e, int64_t now,
		    bool *removed)
{
	struct tail_file *f = &in->files[i];
	size_t tail = 0;
	int r = file_read(in, f, e, &tail);

	*removed = false;
	if (r < 0) {
		in->st.n_errors++;
		return 0;
	}
	if (r > 0)
		return 1;
	if (!f->rotated)
		return 0;
	r = rotated_finish(in, f, e, tail, now);
	if (r < 0 || (r == 0 && tail > 0))
		return 1; /* its last line, unfinished, goes before the rest */
	if (r > 0) {
		file_remove(in, i);
		*removed = true;
	}
	return 0;
}

static void read_all(struct input *in, struct emitter *e, int64_t now)
{
	size_t i, k, n_current = 0;
	bool removed;

	/* Rotated files first, in rotation order. */
	for (i = 0; i < in->n_files;) {
		if (!in->files[i].rotated) {
			i++;
			continue;
		}
		if (read_one(in, i, e, now, &removed))
			return;
		if (!removed)
			i++;
	}
	for (i = 0; i < in->n_files; i++)
		n_current += !in->files[i].rotated;
	for (k = 0; k < n_current; k++) {
		size_t seen = 0, idx = (in->rr + k) % n_current;
		for (i = 0; i < in->n_files; i++) {
			if (in->files[i].rotated)
				continue;
			if (seen++ == idx)
				break;
		}
		if (read_one(in, i, e, now, &removed))
			break;
	}
	if (n_current)
		in->rr = (in->rr + 1) % n_current;
}

/* ---- the ops ---- */

static void file_close(struct input *in)
{
	if (in == NULL)
		return;
	for (size_t i = 0; i < in->n_files; i++)
		file_clear(&in->files[i]);
	free(in->files);
	if (in->ifd >= 0)
		close(in->ifd);
	free(in->buf);
	free(in->pattern);
	free(in->name);
	free(in);
}

static struct input *file_open(const struct config_input *cfg,
			       const void *position, size_t position_len,
			       char *err, size_t err_size)
{
	struct input *in;
	int64_t now = input_file_now_ms();

	if (cfg == NULL || cfg->path == NULL || cfg->path[0] == '\0') {
		input_file_set_err(err, err_size, "file input", "no path");
		return NULL;
	}
	in = calloc(1, sizeof(*in));
	if (in == NULL)
		goto nomem;
	in->ifd = -1;
	in->name = strdup(cfg->name ? cfg->name : cfg->path);
	in->pattern = strdup(cfg->path);
	in->max_line_bytes =
	    cfg->max_line_bytes ? cfg->max_line_bytes : LINES_DEFAULT_MAX_BYTES;
	if (in->max_line_bytes > LINE_READER_MAX_LINE_BYTES)
		in->max_line_bytes = LINE_READER_MAX_LINE_BYTES;
	in->rotate_wait_ms = cfg->rotate_wait_ms > 0
				 ? cfg->rotate_wait_ms
				 : INPUT_FILE_ROTATE_WAIT_MS;
	in->buf_size = in->max_line_bytes + READ_SLACK_BYTES;
	in->buf = malloc(in->buf_size);
	if (!in->name || !in->pattern || !in->buf)
		goto nomem;
	in->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (in->ifd < 0)
		in->st.n_errors++; /* degraded: rescans on the timer only */
	watch_dir_of(in, in->pattern, true);
	if (position && position_len &&
	    input_file_position_load(in, position, position_len, now, err,
				     err_size) != 0)
		goto fail;
	input_file_rotate_rescan(
	    in, position == NULL && cfg->start_at == INPUT_START_END, now);
	return in;
nomem:
	input_file_set_err(err, err_size, "file input", "out of memory");
fail:
	file_close(in);
	return NULL;
}

static size_t file_fds(struct input *in, int *fds, size_t max)
{
	if (in->ifd < 0 || max == 0)
		return 0;
	fds[0] = in->ifd;
	return 1;
}

static int file_poll(struct input *in, input_emit_fn emit, void *arg,
		     size_t max_records, char *err, size_t err_size)
{
	struct emitter e = {.emit = emit, .arg = arg, .budget = max_records};
	int64_t now = input_file_now_ms();

	if (e.budget > INT_MAX)
		e.budget = INT_MAX;
	if (in->ifd >= 0)
		input_file_rotate_drain_inotify(in);
	for (size_t i = 0; i < in->n_files; i++)
		input_file_rotate_check(in, &in->files[i], now);
	if (in->rescan_needed ||
	    now - in->last_rescan_ms >= INPUT_FILE_RESCAN_MS) {
		watch_dir_of(in, in->pattern, true);
		input_file_rotate_rescan(in, false, now);
	}
	read_all(in, &e, now);
	return (int)e.n;
}

static void file_stats(const struct input *in, struct input_stats *out)
{
	*out = in->st;
	out->lag_bytes = 0;
	for (size_t i = 0; i < in->n_files; i++) {
		struct stat st;
		const struct tail_file *f = &in->files[i];
		if (fstat(f->fd, &st) != 0) {
			out->lag_bytes = -1;
			return;
		}
		if ((uint64_t)st.st_size > f->offset)
			out->lag_bytes +=
			    (int64_t)((uint64_t)st.st_size - f->offset);
	}
}

void input_file_stats(const struct input *in, struct input_file_stats *out)
{
	*out = in->fst;
	out->n_files = in->n_files;
}

const struct input_ops input_file_ops = {
    .type = "file",
    .open = file_open,
    .fds = file_fds,
    .poll = file_poll,
    .position = input_file_position_get,
    .stats = file_stats,
    .close = file_close,
};
