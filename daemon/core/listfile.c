/*
 * listfile: watchlist files (see listfile.h).  The whole file is read into
 * memory (at most LISTFILE_MAX_FILE bytes), split into lines, and each kept
 * value is copied into a growing vector.  Pure: no clock, no output.
 */
#include "listfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct parse {
	const char *name;
	struct diag *d;
	size_t n_errors;
	char **v;
	size_t n, cap;
	bool oom;
};

static void line_error(struct parse *p, int line, int col, const char *msg)
{
	if (p->n_errors++ < LISTFILE_MAX_ERRORS)
		diag_add(p->d, p->name, line, col, "%s", msg);
}

void listfile_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static void push(struct parse *p, const char *s, size_t len)
{
	if (p->n + 1 >= p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		char **nv = realloc(p->v, cap * sizeof(*nv));
		if (nv == NULL) {
			p->oom = true;
			return;
		}
		p->v = nv;
		p->cap = cap;
	}
	if ((p->v[p->n] = strndup(s, len)) == NULL) {
		p->oom = true;
		return;
	}
	p->v[++p->n] = NULL;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* One line (no '\n'), 1-based number line_no. */
static void take_line(struct parse *p, int line_no, const char *s, size_t len)
{
	const char *nul = memchr(s, '\0', len);

	if (nul != NULL) {
		line_error(p, line_no, (int)(nul - s) + 1,
			   "NUL byte in a list value");
		return;
	}
	if (len > LISTFILE_MAX_LINE) {
		char msg[64];
		snprintf(msg, sizeof(msg), "line longer than %d bytes",
			 LISTFILE_MAX_LINE);
		line_error(p, line_no, LISTFILE_MAX_LINE + 1, msg);
		return;
	}
	size_t b = 0, e = len;
	while (b < e && blank(s[b]))
		b++;
	while (e > b && blank(s[e - 1]))
		e--;
	if (b == e || s[b] == '#')
		return;
	if (p->n == LISTFILE_MAX_ENTRIES) {
		char msg[64];
		snprintf(msg, sizeof(msg), "more than %d values in a list file",
			 LISTFILE_MAX_ENTRIES);
		line_error(p, line_no, (int)b + 1, msg);
		return;
	}
	push(p, s + b, e - b);
}

char **listfile_load_buffer(const char *name, const char *buf, size_t len,
			    size_t *n, struct diag *d)
{
	struct parse p = {.name = name, .d = d};
	int line_no = 0;

	*n = 0;
	if (len > LISTFILE_MAX_FILE) {
		diag_add(d, name, 0, 0, "list file larger than %u bytes",
			 LISTFILE_MAX_FILE);
		return NULL;
	}
	for (size_t at = 0; at < len && !p.oom;) {
		const char *nl = memchr(buf + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - buf) : len;
		take_line(&p, ++line_no, buf + at, end - at);
		at = end + 1;
	}
	if (p.n_errors > LISTFILE_MAX_ERRORS)
		diag_add(d, name, 0, 0, "%zu more bad lines not shown",
			 p.n_errors - LISTFILE_MAX_ERRORS);
	if (p.oom)
		diag_add(d, name, line_no, 0, "out of memory");
	if (p.v == NULL && !p.oom && (p.v = calloc(1, sizeof(*p.v))) == NULL)
		diag_add(d, name, 0, 0, "out of memory");
	if (p.oom || p.n_errors || p.v == NULL) {
		listfile_free(p.v);
		return NULL;
	}
	*n = p.n;
	return p.v;
}

/* Reads at most LISTFILE_MAX_FILE + 1 bytes of f into *buf.  0 or -1. */
static int slurp(FILE *f, char **buf, size_t *len)
{
	size_t cap = 0, n;

	*buf = NULL;
	*len = 0;
	do {
		if (*len == cap) {
			if (cap > LISTFILE_MAX_FILE)
				break; /* one byte past the limit: too large */
			cap = cap ? 2 * cap : 65536;
			if (cap > LISTFILE_MAX_FILE)
				cap = LISTFILE_MAX_FILE + 1;
			char *nb = realloc(*buf, cap + 1);
			if (nb == NULL)
				return -1;
			*buf = nb;
		}
		n = fread(*buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n > 0);
	return ferror(f) ? -1 : 0;
}

/* What a file that is not a regular one is, for messages. */
static const char *file_kind(mode_t m)
{
	return S_ISFIFO(m)   ? "a FIFO"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISDIR(m)  ? "a directory"
	       : S_ISSOCK(m) ? "a socket"
			     : "not a regular file";
}

FILE *listfile_open_regular(const char *path, const char *what,
			    const char *at_file, int at_line, int at_column,
			    struct diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	FILE *f = NULL;

	if (fd < 0 || fstat(fd, &st) < 0)
		diag_add(d, at_file, at_line, at_column,
			 "cannot open %s '%s': %s", what, path,
			 strerror(errno));
	else if (!S_ISREG(st.st_mode))
		diag_add(d, at_file, at_line, at_column,
			 "%s '%s' is %s, not a regular file", what, path,
			 file_kind(st.st_mode));
	else if ((f = fdopen(fd, "rb")) == NULL)
		diag_add(d, at_file, at_line, at_column,
			 "cannot open %s '%s': %s", what, path,
			 strerror(errno));
	if (f == NULL && fd >= 0)
		close(fd);
	return f;
}

char **listfile_load(const char *path, const char *at_file, int at_line,
		     int at_column, size_t *n, struct diag *d)
{
	FILE *f = listfile_open_regular(path, "list file", at_file, at_line,
					at_column, d);
	char *buf;
	size_t len;

	*n = 0;
	if (f == NULL)
		return NULL;
	int rc = slurp(f, &buf, &len);
	int err = errno;
	fclose(f);
	char **v = NULL;
	if (rc < 0)
		diag_add(d, at_file, at_line, at_column,
			 "cannot read list file '%s': %s", path, strerror(err));
	else
		v = listfile_load_buffer(path, buf ? buf : "", len, n, d);
	free(buf);
	return v;
}
