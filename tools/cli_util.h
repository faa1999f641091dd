/*
 * cli_util: what the analyst commands share — opening the store for a
 * query, the audit line, the wall clock, time and level parsing, result
 * tables (aligned text, JSON lines, RFC 4180 CSV) and a small SQL builder
 * with bound parameters (never string-pasted values).
 *
 * Clock: the CLI may read the wall clock (for --since 2h); the library
 * core may not.  CUSTOS_NOW=RFC3339 in the environment pins "now" (tests,
 * and re-running yesterday's investigation exactly).
 */
#ifndef CUSTOS_CLI_UTIL_H
#define CUSTOS_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

#define CLI_DEFAULT_DB "/var/lib/custos/alerts.db"
#define CLI_SQL_MAX_PARAMS 64

struct sqlite3_stmt;

/* Now in ms since the epoch (CUSTOS_NOW if set and valid). */
int64_t cli_now_ms(void);

/* "500ms" "45s" "30m" "2h" "7d" "2w" -> ms.  Returns 0 or -1. */
int cli_parse_duration(const char *s, int64_t *ms);

/* A duration (meaning now - duration) or an absolute RFC 3339 time
 * ("2025-03-03", "2025-03-03T08:00", "...:00Z", "...+02:00").  Returns 0
 * or -1. */
int cli_parse_time(const char *s, int64_t now_ms, int64_t *out);

/* "high+" -> [3, 4], "medium" -> [2, 2], "low+", ... (informational=0
 * .. critical=4).  Returns 0 or -1. */
int cli_parse_level(const char *s, int *min, int *max);

/* The invoking Unix user's name (getpwuid(getuid())), or the uid as text.
 * Static storage. */
const char *cli_user(void);

/* Logs "user X ran: VERB ARGS..." with syslog(LOG_AUTHPRIV | LOG_INFO)
 * (control characters escaped).  With CUSTOS_AUDIT_STDERR=1 in the
 * environment the line also goes to stderr (tests). */
void cli_audit(int argc, char **argv);

/* Opens the store for the analyst: db_path, else the config's store.path
 * (config_path may be NULL), else CLI_DEFAULT_DB.  The file must exist
 * (queries never create a store) and be readable: a clear message names
 * the permission model otherwise.  Prints errors; NULL on failure. */
struct store *cli_open_store(const char *db_path, const char *config_path);

/* ---- result tables ---- */

enum cli_format { CLI_TABLE, CLI_JSON, CLI_CSV };

struct cli_table;

/* A table with n_cols named columns (names borrowed: string literals; a
 * leading '#' marks a numeric column and is not shown). */
struct cli_table *cli_table_new(size_t n_cols, const char *const *names);
void cli_table_free(struct cli_table *t);

/* Column col is numeric: JSON writes it as a number. */
void cli_table_numeric(struct cli_table *t, size_t col);

/* Appends a row of n_cols cells (copied; NULL = no value).  0 or -1. */
int cli_table_add(struct cli_table *t, const char *const *cells);

/* Appends the current row of a statement (its first n_cols columns). */
int cli_table_add_stmt(struct cli_table *t, struct sqlite3_stmt *st);

size_t cli_table_rows(const struct cli_table *t);

/* Prints: aligned columns (control characters shown as '?', cells cut at
 * 48 columns on a terminal), one JSON object per line, or CSV with a
 * header (RFC 4180: quoted when needed, CRLF line ends).  Returns 0, or
 * -1 after "custos: out of memory" on stderr when a JSON row could not be
 * built (the output stops there rather than print a row with members
 * missing). */
int cli_table_print(const struct cli_table *t, enum cli_format f, FILE *out);

/* The rows as a JSON array of objects (a jansson reference), or NULL
 * when out of memory. */
struct json_t *cli_table_json(const struct cli_table *t);

/* A cell's text (NULL if no value or out of range). */
const char *cli_table_cell(const struct cli_table *t, size_t row, size_t col);

/* Writes one CSV field (RFC 4180 quoting).  A field a spreadsheet would run
 * as a formula (starts with = + - @ tab CR, and is not a plain number) is
 * written quoted with a leading apostrophe. */
void cli_csv_field(FILE *out, const char *s);

/* ---- SQL with bound parameters ---- */

struct cli_sql {
	char *sql;
	size_t len, cap;
	int n_params, failed;
	struct {
		int is_int;
		int64_t i;
		const char *s; /* borrowed */
	} p[CLI_SQL_MAX_PARAMS];
};

void cli_sql_init(struct cli_sql *q);
void cli_sql_clear(struct cli_sql *q);
/* Appends literal SQL text. */
void cli_sql_add(struct cli_sql *q, const char *text);
/* Appends "?" bound to a string (borrowed until prepare) / an integer. */
void cli_sql_text(struct cli_sql *q, const char *s);
void cli_sql_int(struct cli_sql *q, int64_t v);
/* Prepares and binds; prints the error and returns NULL on failure. */
struct sqlite3_stmt *cli_sql_prepare(struct store *s, struct cli_sql *q);

/* Prints "custos: WHAT: out of memory" (or the store's error when s is
 * not NULL) and counts it (cli_errors). */
void cli_error(struct store *s, const char *what);
/* Query/store errors printed so far (cli_sql_prepare, cli_query,
 * cli_error): a command that returned 0 after one exits 1 instead, as its
 * output is incomplete. */
int cli_errors(void);

/* Runs a query and returns its rows as a table with the given column
 * names (as for cli_table_new).  NULL on error (printed). */
struct cli_table *cli_query(struct store *s, struct cli_sql *q, size_t n_cols,
			    const char *const *names);

/* Resolves a full alert id or a unique prefix (>= 6 hex characters) into
 * id (33 bytes).  Returns 1, 0 (none: printed), -1 (ambiguous/error:
 * printed). */
int cli_resolve_alert(struct store *s, const char *arg, char id[33]);

/* Median of n values (sorts them in place); 0 for n == 0. */
double cli_median(double *v, size_t n);

#endif
