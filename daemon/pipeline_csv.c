/*
 * pipeline_csv: CSV headers, one per file (see pipeline.h): a CSV input's
 * records are decoded against the header line of the file they come from,
 * kept per path (at most PIPELINE_CSV_MAX_FILES, least recently used
 * evicted and counted), read back from the file's first line after a
 * restart or an eviction.  The input's struct pipeline_csv owns the
 * headers.
 */
#include "pipeline_int.h"

#include "decode_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pipeline_csv_free(struct pipeline_csv *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_files; i++) {
		free(c->files[i].path);
		csv_header_free(c->files[i].h);
	}
	free(c);
}

static struct csv_file *csv_find(struct pipeline_csv *c, const char *path)
{
	for (size_t i = 0; i < c->n_files; i++)
		if (strcmp(c->files[i].path, path) == 0)
			return &c->files[i];
	return NULL;
}

static void csv_forget(struct pipeline_csv *c, const char *path)
{
	struct csv_file *f = csv_find(c, path);

	if (f == NULL)
		return;
	free(f->path);
	csv_header_free(f->h);
	*f = c->files[--c->n_files];
}

/* Keeps h (takes ownership) as path's header; 0, or -1 on allocation
 * failure (h freed). */
static int csv_keep(struct pipeline_csv *c, const char *path,
		    struct csv_header *h)
{
	struct csv_file *f = csv_find(c, path);

	if (f == NULL && c->n_files == PIPELINE_CSV_MAX_FILES) {
		size_t old = 0;
		for (size_t i = 1; i < c->n_files; i++)
			if (c->files[i].used < c->files[old].used)
				old = i;
		c->n_evicted++;
		csv_forget(c, c->files[old].path);
	}
	if (f == NULL) {
		char *dup = strdup(path);
		if (dup == NULL) {
			csv_header_free(h);
			return -1;
		}
		f = &c->files[c->n_files++];
		*f = (struct csv_file){.path = dup};
	}
	csv_header_free(f->h);
	f->h = h;
	f->used = ++c->tick;
	return 0;
}

/* Reads up to size bytes of fd until a newline; the length of the first
 * line (without the newline), or -1 when there is none in size bytes. */
static ssize_t read_first_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n < size) {
		ssize_t got = read(fd, buf + n, size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		char *nl = memchr(buf + n, '\n', (size_t)got);
		n += (size_t)got;
		if (nl != NULL)
			return nl - buf;
	}
	return -1;
}

/* The first line of the file at path (at most max bytes) parsed as a
 * header, or NULL with err filled. */
static struct csv_header *csv_read_header(const char *path, size_t max,
					  char *err, size_t err_size)
{
	char *buf = malloc(max + 1);
	int fd = buf ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	struct csv_header *h = NULL;
	ssize_t len;

	if (fd < 0)
		snprintf(err, err_size, "no CSV header: %s: %s", path,
			 strerror(buf ? errno : ENOMEM));
	else if ((len = read_first_line(fd, buf, max + 1)) < 0)
		snprintf(err, err_size,
			 "no CSV header: first line of %s unreadable, "
			 "unfinished or longer than max_line_bytes",
			 path);
	else
		h = csv_header_parse(buf, (size_t)len, err, err_size);
	if (fd >= 0)
		close(fd);
	free(buf);
	return h;
}

/* The header for a record of path; NULL with err filled. */
static const struct csv_header *csv_header_for(struct pipeline_input *pi,
					       const char *path, char *err,
					       size_t err_size)
{
	struct pipeline_csv *c = pi->csv;
	struct csv_file *f = csv_find(c, path);

	if (f != NULL) {
		f->used = ++c->tick;
		return f->h;
	}
	if (path[0] == '\0') {
		snprintf(err, err_size, "no CSV header (first line lost)");
		return NULL;
	}
	struct csv_header *h =
	    csv_read_header(path, pi->cfg->max_line_bytes, err, err_size);
	if (h == NULL) {
		c->n_header_errors++;
		return NULL;
	}
	c->n_header_reads++;
	if (csv_keep(c, path, h) < 0) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	return csv_find(c, path)->h;
}

/* A CSV record: its file's header line (kept, no event: returns 1), or
 * decoded against that header (0), or -1 with err filled. */
int pipeline_csv_decode_record(struct pipeline_input *pi,
			       const struct input_record *r, struct event *ev,
			       char *err, size_t err_size)
{
	struct pipeline_csv *c = pi->csv;
	const char *path = r->source.path ? r->source.path : "";

	if (r->source.line == 1) {
		struct csv_header *h =
		    csv_header_parse(r->data, r->len, err, err_size);
		if (h == NULL) {
			c->n_header_errors++;
			csv_forget(c, path);
			return -1;
		}
		c->n_headers++;
		if (csv_keep(c, path, h) < 0) {
			snprintf(err, err_size, "out of memory");
			return -1;
		}
		return 1;
	}
	const struct csv_header *h = csv_header_for(pi, path, err, err_size);
	if (h == NULL)
		return -1;
	return decode_csv(pi->p->buf, h, r->data, r->len, ev, err, err_size);
}
