/*
 * listfile: a watchlist file (config `lists: { NAME: { file: PATH } }`), one
 * value per line: blank lines and lines whose first non-blank byte is '#'
 * are skipped, spaces and tabs around a value are trimmed, a CRLF line end
 * is accepted.  A value is kept as written (it may hold Sigma wildcards,
 * like an inline list value).
 *
 * Bounded: LISTFILE_MAX_ENTRIES values, LISTFILE_MAX_LINE bytes a line,
 * LISTFILE_MAX_FILE bytes a file.  A line with a NUL byte or longer than
 * the limit is an error at file:line:column (the column of the NUL byte, or
 * LISTFILE_MAX_LINE + 1); a file past a limit is an error at the first
 * line over it.  At most LISTFILE_MAX_ERRORS line errors are listed, then a
 * count.  Pure: no clock, no output; problems go to the diag.
 *
 * Ownership: the returned vector and its strings are malloc'd and belong to
 * the caller (free each string, then the vector).
 */
#ifndef CUSTOS_LISTFILE_H
#define CUSTOS_LISTFILE_H

#include <stddef.h>
#include <stdio.h>

#include "diag.h"

#define LISTFILE_MAX_ENTRIES 1000000
#define LISTFILE_MAX_LINE 4096
#define LISTFILE_MAX_FILE (64u * 1024 * 1024)
#define LISTFILE_MAX_ERRORS 20

/* Reads the list file at path (messages name it `path`).  Returns a
 * NULL-terminated vector of *n values, or NULL with every problem in d.  A
 * file that cannot be opened, or that is not a regular file (a FIFO, a
 * device such as /dev/stdin, a directory: reading it could block or never
 * end), is reported at (at_file, at_line, at_column), the place that names
 * it. */
char **listfile_load(const char *path, const char *at_file, int at_line,
		     int at_column, size_t *n, struct diag *d);

/* Same, from memory; name is the file name in messages. */
char **listfile_load_buffer(const char *name, const char *buf, size_t len,
			    size_t *n, struct diag *d);

/* Frees a vector returned above (NULL is a no-op). */
void listfile_free(char **v);

/* Opens path for reading only if it is a regular file: a FIFO, a terminal
 * or /dev/stdin would block the loader (O_NONBLOCK makes the open itself
 * return at once; the stream is then read as any file).  what names the
 * file in messages ("list file").  NULL with the problem at
 * at_file:at_line:at_column in d. */
FILE *listfile_open_regular(const char *path, const char *what,
			    const char *at_file, int at_line, int at_column,
			    struct diag *d);

#endif
