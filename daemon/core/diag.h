/*
 * diag: a list of diagnostics ("file:line:column: message") collected while
 * loading configuration and rules.  Pure modules never print: they append
 * here and return failure, and the caller decides how to report.  Every
 * message is copied; the list owns its strings.  Not thread-safe.
 */
#ifndef CUSTOS_DIAG_H
#define CUSTOS_DIAG_H

#include <stddef.h>

struct diag_entry {
	char *file; /* may be NULL when the problem has no file */
	int line;   /* 1-based; 0 when unknown */
	int column; /* 1-based; 0 when unknown */
	char *message;
};

struct diag {
	struct diag_entry *entries;
	size_t n_entries;
	size_t cap_entries;
	size_t n_dropped; /* entries not kept because DIAG_MAX was reached */
};

#define DIAG_MAX 1000

void diag_init(struct diag *d);
void diag_clear(struct diag *d);

/* Appends "file:line:col: message" (printf-style).  Never fails visibly:
 * on allocation failure or past DIAG_MAX the entry is counted in n_dropped. */
void diag_add(struct diag *d, const char *file, int line, int column,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Number of entries, including dropped ones. */
size_t diag_count(const struct diag *d);

/* Writes every entry, one per line, as "file:line:column: message". */
void diag_print(const struct diag *d, void *stdio_file);

#endif
