/*
 * input_file_position: input_file's position blob: one entry per
 * followed file (device, inode, offset, lines, flags, fingerprint, path),
 * at most MAX_POSITION_BYTES, and resuming from it at start: each file is
 * found again by its saved path or, rotated while custosd was stopped, by
 * its inode in the same directory (at most MAX_DIR_ENTRIES read), and
 * resumed only if its first bytes still match (otherwise counted lost).
 * The blob is owned by the caller.
 */
#include "input_file_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DIR_ENTRIES 100000
#define MAX_POSITION_BYTES (8u * 1024 * 1024)
#define POSITION_MAGIC "custos-file-position 1\n"

enum { POS_SKIPPING = 1, POS_ROTATED = 2 };

struct pos_entry {
	uint64_t dev, ino, offset, line_no, fp_hash;
	unsigned flags;
	size_t fp_len;
	char *path;
};

/* One line per file: dev ino offset line_no flags fp_len fp_hash
 * path_len:path.  Numbers are decimal except fp_hash (hex). */
void *input_file_position_get(struct input *in, size_t *len)
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
		fd = input_file_open_regular(path, &st);
		if (fd >= 0 && st.st_dev == pe->dev && st.st_ino == pe->ino)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (fd < 0 || input_file_find(in, st.st_dev, st.st_ino) ||
	    !input_file_fp_matches(fd, pe->fp_len, pe->fp_hash)) {
		if (fd >= 0)
			close(fd);
		free(path);
		in->fst.n_lost_positions++;
		in->st.n_errors++;
		return;
	}
	f = input_file_add(in, fd, &st, path);
	if (f == NULL) {
		in->st.n_errors++;
	} else if ((uint64_t)st.st_size < pe->offset) {
		input_file_rotate_restart(in, f);
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

int input_file_position_load(struct input *in, const void *blob, size_t len,
			     int64_t now, char *err, size_t err_size)
{
	size_t magic_len = strlen(POSITION_MAGIC);
	char *text;
	const char *p;
	int r = -1;

	if (len > MAX_POSITION_BYTES || len < magic_len ||
	    memcmp(blob, POSITION_MAGIC, magic_len) != 0 ||
	    memchr(blob, '\0', len) != NULL) {
		input_file_set_err(err, err_size, in->name,
				   "not a file input position");
		return -1;
	}
	text = strndup((const char *)blob + magic_len, len - magic_len);
	if (text == NULL)
		return -1;
	for (p = text; *p != '\0';) {
		struct pos_entry pe = {0};
		if (!parse_entry(&p, &pe)) {
			free(pe.path);
			input_file_set_err(err, err_size, in->name,
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
