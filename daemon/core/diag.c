/*
 * diag: collected "file:line:column: message" diagnostics.  See diag.h.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void diag_clear(struct diag *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n_entries; i++) {
		free(d->entries[i].file);
		free(d->entries[i].message);
	}
	free(d->entries);
	diag_init(d);
}

static int diag_grow(struct diag *d)
{
	if (d->n_entries < d->cap_entries)
		return 0;
	size_t cap = d->cap_entries ? d->cap_entries * 2 : 8;
	struct diag_entry *e = realloc(d->entries, cap * sizeof(*e));
	if (e == NULL)
		return -1;
	d->entries = e;
	d->cap_entries = cap;
	return 0;
}

void diag_add(struct diag *d, const char *file, int line, int column,
	      const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (d->n_entries >= DIAG_MAX || diag_grow(d) < 0) {
		d->n_dropped++;
		return;
	}
	struct diag_entry *e = &d->entries[d->n_entries];
	e->file = file ? strdup(file) : NULL;
	e->message = strdup(buf);
	e->line = line;
	e->column = column;
	if (e->message == NULL || (file && e->file == NULL)) {
		free(e->file);
		free(e->message);
		d->n_dropped++;
		return;
	}
	d->n_entries++;
}

size_t diag_count(const struct diag *d)
{
	return d->n_entries + d->n_dropped;
}

void diag_print(const struct diag *d, void *stdio_file)
{
	FILE *f = stdio_file;

	for (size_t i = 0; i < d->n_entries; i++) {
		const struct diag_entry *e = &d->entries[i];
		fprintf(f, "%s:%d:%d: %s\n", e->file ? e->file : "-", e->line,
			e->column, e->message);
	}
	if (d->n_dropped)
		fprintf(f, "(%zu more problems not shown)\n", d->n_dropped);
}
