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
 */
#include "input_file.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
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
#define MAX_DIR_ENTRIES 100000
#define MAX_POSITION_BYTES (8u * 1024 * 1024)
#define POSITION_MAGIC "custos-file-position 1\n"
#define WATCH_MASK                                                             \
	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_MODIFY |     \
	 IN_DELETE_SELF | IN_MOVE_SELF)
#define NAME_EVENTS                                                            \
	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |                 \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_Q_OVERFLOW | IN_IGNORED)

enum { POS_SKIPPING = 1, POS_ROTATED = 2 };

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

/* What one poll may still emit, and where. */
struct emitter {
	input_emit_fn emit;
	void *arg;
	size_t budget;
	size_t n;
};

struct pos_entry {
	uint64_t dev, ino, offset, line_no, fp_hash;
	unsigned flags;
	size_t fp_len;
	char *path;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_err(char *err, size_t err_size, const char *name,
		    const char *msg)
{
	if (err && err_size)
		snprintf(err, err_size, "%s: %s", name, msg);
}

/* ---- fingerprint ---- */

static uint64_t fnv1a(const unsigned char *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

#define FNV_BASIS UINT64_C(0xcbf29ce484222325)

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
static bool fp_matches(int fd, size_t fp_len, uint64_t fp_hash)
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
static void fp_update(struct tail_file *f)
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

static struct tail_file *file_find(struct input *in, dev_t dev, ino_t ino)
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
static struct tail_file *file_add(struct input *in, int fd,
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
	fp_update(f);
	watch_dir_of(in, path, false);
	return f;
fail:
	close(fd);
	return NULL;
}

/* Opens path read-only if it is a regular file; fd or -1. */
static int open_regular(const char *path, struct stat *st)
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

/* ---- rotation, truncation, new files ---- */

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

static void restart(struct input *in, struct tail_file *f)
{
	f->offset = 0;
	f->line_no = 0;
	f->skipping = false;
	f->fp_len = 0;
	f->fp_hash = FNV_BASIS;
	fp_update(f);
	in->fst.n_truncations++;
}

static void check_file(struct input *in, struct tail_file *f, int64_t now)
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
	    !fp_matches(f->fd, f->fp_len, f->fp_hash))
		restart(in, f);
	else
		fp_update(f);
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
	f = file_find(in, st.st_dev, st.st_ino);
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
			mark_rotated(in, &in->files[i], now_ms());
	fd = open_regular(path, &st);
	if (fd < 0 || file_find(in, st.st_dev, st.st_ino)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	f = file_add(in, fd, &st, path);
	if (f == NULL)
		in->st.n_errors++;
	else if (at_end && find_end(in, f->fd, &f->offset, &f->line_no) < 0)
		in->st.n_errors++;
}

static void rescan(struct input *in, bool at_end, int64_t now)
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
static void drain_inotify(struct input *in)
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

/* ---- positions ---- */

/* One line per file: dev ino offset line_no flags fp_len fp_hash
 * path_len:path.  Numbers are decimal except fp_hash (hex). */
static void *file_position(struct input *in, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&buf, &size);

	*len = 0;
	if (m == NULL)
		return NULL;
	fputs(POSITION_MAGIC, m);
	for (size_t i = 0; i < in->n_files; i++) {
		const struct tail_file *f = &in->files[i];
		unsigned flags = (f->skipping ? POS_SKIPPING : 0) |
				 (f->rotated ? POS_ROTATED : 0);
		fprintf(m,
			"%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			" %u %zu %" PRIx64 " %zu:%s\n",
			(uint64_t)f->dev, (uint64_t)f->ino, f->offset,
			f->line_no, flags, f->fp_len, f->fp_hash,
			strlen(f->path), f->path);
	}
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

/* Parses an unsigned number at *p followed by sep. */
static bool parse_num(const char **p, int base, char sep, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isxdigit((unsigned char)**p) ||
	    (base == 10 && !isdigit((unsigned char)**p)))
		return false;
	errno = 0;
	v = strtoull(*p, &end, base);
	if (errno || *end != sep)
		return false;
	*out = v;
	*p = end + 1;
	return true;
}

/* Parses one entry line at *p (NUL-terminated text); pe->path malloc'd. */
static bool parse_entry(const char **p, struct pos_entry *pe)
{
	uint64_t flags, fp_len, path_len;

	if (!parse_num(p, 10, ' ', &pe->dev) ||
	    !parse_num(p, 10, ' ', &pe->ino) ||
	    !parse_num(p, 10, ' ', &pe->offset) ||
	    !parse_num(p, 10, ' ', &pe->line_no) ||
	    !parse_num(p, 10, ' ', &flags) || !parse_num(p, 10, ' ', &fp_len) ||
	    !parse_num(p, 16, ' ', &pe->fp_hash) ||
	    !parse_num(p, 10, ':', &path_len))
		return false;
	if (fp_len > INPUT_FILE_FINGERPRINT_BYTES || path_len == 0 ||
	    path_len >= PATH_MAX || strnlen(*p, path_len + 1) != path_len + 1 ||
	    (*p)[path_len] != '\n' || flags > 3)
		return false;
	pe->flags = (unsigned)flags;
	pe->fp_len = (size_t)fp_len;
	pe->path = strndup(*p, path_len);
	*p += path_len + 1;
	return pe->path != NULL;
}

/* The name under which the entry's inode now is: its old path, or another
 * name in the same directory (rotated while we were stopped).  malloc'd,
 * or NULL if gone. */
static char *entry_locate(const struct pos_entry *pe)
{
	struct stat st;
	char dir[PATH_MAX], cand[PATH_MAX];
	const char *slash = strrchr(pe->path, '/');
	struct dirent *d;
	DIR *dp;
	char *found = NULL;
	size_t n = 0;

	if (stat(pe->path, &st) == 0 && st.st_dev == pe->dev &&
	    st.st_ino == pe->ino)
		return strdup(pe->path);
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - pe->path) : 1,
		 slash ? pe->path : ".");
	if (slash == pe->path)
		strcpy(dir, "/");
	dp = opendir(dir);
	if (dp == NULL)
		return NULL;
	while (!found && n++ < MAX_DIR_ENTRIES && (d = readdir(dp)) != NULL) {
		if (d->d_ino != pe->ino)
			continue;
		if (snprintf(cand, sizeof(cand), "%s/%s", dir, d->d_name) >=
		    (int)sizeof(cand))
			continue;
		if (stat(cand, &st) == 0 && st.st_dev == pe->dev &&
		    st.st_ino == pe->ino)
			found = strdup(cand);
	}
	closedir(dp);
	return found;
}

/* Follows the file of a saved entry again, at its saved offset, if it is
 * still there (same inode, same first bytes).  Otherwise counts it lost:
 * the current file at that path is then read from its beginning. */
static void resume_entry(struct input *in, const struct pos_entry *pe,
			 int64_t now)
{
	struct stat st;
	struct tail_file *f;
	char *path = NULL;
	int fd = -1;

	/* The name may change between locating and opening (a rotation
	 * right then): locate again. */
	for (int tries = 0; tries < 3; tries++) {
		free(path);
		path = entry_locate(pe);
		if (path == NULL)
			break;
		fd = open_regular(path, &st);
		if (fd >= 0 && st.st_dev == pe->dev && st.st_ino == pe->ino)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (fd < 0 || file_find(in, st.st_dev, st.st_ino) ||
	    !fp_matches(fd, pe->fp_len, pe->fp_hash)) {
		if (fd >= 0)
			close(fd);
		free(path);
		in->fst.n_lost_positions++;
		in->st.n_errors++;
		return;
	}
	f = file_add(in, fd, &st, path);
	if (f == NULL) {
		in->st.n_errors++;
	} else if ((uint64_t)st.st_size < pe->offset) {
		restart(in, f);
	} else {
		f->offset = pe->offset;
		f->line_no = pe->line_no;
		f->skipping = pe->flags & POS_SKIPPING;
	}
	if (f && fnmatch(in->pattern, path, FNM_PATHNAME | FNM_PERIOD)) {
		/* Rotated away (maybe just now: writers may still append). */
		f->rotated = true;
		f->rotated_ms = now;
	}
	free(path);
}

static int load_position(struct input *in, const void *blob, size_t len,
			 int64_t now, char *err, size_t err_size)
{
	size_t magic_len = strlen(POSITION_MAGIC);
	char *text;
	const char *p;
	int r = -1;

	if (len > MAX_POSITION_BYTES || len < magic_len ||
	    memcmp(blob, POSITION_MAGIC, magic_len) != 0 ||
	    memchr(blob, '\0', len) != NULL) {
		set_err(err, err_size, in->name, "not a file input position");
		return -1;
	}
	text = strndup((const char *)blob + magic_len, len - magic_len);
	if (text == NULL)
		return -1;
	for (p = text; *p != '\0';) {
		struct pos_entry pe = {0};
		if (!parse_entry(&p, &pe)) {
			free(pe.path);
			set_err(err, err_size, in->name,
				"corrupt file input position");
			goto done;
		}
		resume_entry(in, &pe, now);
		free(pe.path);
	}
	r = 0;
done:
	free(text);
	return r;
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
	int64_t now = now_ms();

	if (cfg == NULL || cfg->path == NULL || cfg->path[0] == '\0') {
		set_err(err, err_size, "file input", "no path");
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
	    load_position(in, position, position_len, now, err, err_size) != 0)
		goto fail;
	rescan(in, position == NULL && cfg->start_at == INPUT_START_END, now);
	return in;
nomem:
	set_err(err, err_size, "file input", "out of memory");
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
	int64_t now = now_ms();

	if (e.budget > INT_MAX)
		e.budget = INT_MAX;
	if (in->ifd >= 0)
		drain_inotify(in);
	for (size_t i = 0; i < in->n_files; i++)
		check_file(in, &in->files[i], now);
	if (in->rescan_needed ||
	    now - in->last_rescan_ms >= INPUT_FILE_RESCAN_MS) {
		watch_dir_of(in, in->pattern, true);
		rescan(in, false, now);
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
    .position = file_position,
    .stats = file_stats,
    .close = file_close,
};
