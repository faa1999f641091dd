/*
 * agentdir: the agent directory CSV (see agentdir.h).  Rows are kept as
 * arrays of malloc'd cells in file order; an open-addressing hash (power of
 * two, at most half full) maps agent ids to rows.  Pure: no clock, no
 * output; problems go to the diag.
 */
#include "agentdir.h"

#include "listfile.h"
#include "roster.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROW_ERRORS 20

/* The columns agentdir_enrich() adds, and their field names. */
static const char *const enrich_cols[] = {"team", "site", "role", "tz",
					  "status"};
static const char *const enrich_fields[] = {
    "agent.team", "agent.site", "agent.role", "agent.tz", "agent.status"};
#define N_ENRICH (sizeof(enrich_cols) / sizeof(enrich_cols[0]))

/* The roster columns, in enum roster_cell order. */
static const char *const roster_cols[] = {"tz", "shift_start", "shift_end",
					  "days_off"};

struct agentdir {
	char **columns; /* header names */
	size_t n_columns;
	size_t agent_col;
	int enrich_idx[N_ENRICH]; /* column index, or -1 */
	char ***rows;		  /* rows[i][col] */
	int *row_line;		  /* source line of each row */
	size_t n_rows, cap_rows;
	uint32_t *hash; /* row index + 1, 0 = empty */
	size_t hash_size;
	int roster_idx[4];	   /* column of each roster cell, or -1 */
	struct roster *rosters;	   /* per row; zone NULL: no roster */
	struct roster_zones zones; /* distinct zones of the rows */
	size_t n_rosters;
};

struct parse {
	const char *name;
	struct diag *d;
	size_t n_errors;
};

static void row_error(struct parse *p, int line, int col, const char *msg)
{
	if (p->n_errors++ < MAX_ROW_ERRORS)
		diag_add(p->d, p->name, line, col, "%s", msg);
}

static uint32_t hash_str(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static void free_cells(char **cells, size_t n)
{
	if (cells == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(cells[i]);
	free(cells);
}

void agentdir_free(struct agentdir *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n_rows; i++)
		free_cells(a->rows[i], a->n_columns);
	free_cells(a->columns, a->n_columns);
	free(a->rows);
	free(a->row_line);
	free(a->hash);
	free(a->rosters);
	roster_zones_clear(&a->zones);
	free(a);
}

/* Splits one line (no newline) at commas into up to max cells (malloc'd).
 * Returns the number of cells, or -1 with the problem reported. */
static int split_line(struct parse *p, int line, const char *s, size_t len,
		      char **cells, size_t max)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] == '"') {
			row_error(p, line, (int)i + 1,
				  "quoted fields are not supported");
			goto fail;
		}
		if (i < len && s[i] != ',')
			continue;
		if (n == max) {
			row_error(p, line, (int)start + 1,
				  "more fields than the header has");
			goto fail;
		}
		if ((cells[n] = strndup(s + start, i - start)) == NULL)
			goto fail;
		n++;
		start = i + 1;
	}
	return (int)n;
fail:
	while (n > 0)
		free(cells[--n]);
	return -1;
}

static int set_header(struct agentdir *a, struct parse *p, const char *s,
		      size_t len)
{
	char *cells[AGENTDIR_MAX_COLUMNS];
	int n = split_line(p, 1, s, len, cells, AGENTDIR_MAX_COLUMNS);

	if (n < 0)
		return -1;
	a->columns = malloc((size_t)n * sizeof(*a->columns));
	if (a->columns == NULL) {
		for (int i = 0; i < n; i++)
			free(cells[i]);
		return -1;
	}
	memcpy(a->columns, cells, (size_t)n * sizeof(*cells));
	a->n_columns = (size_t)n;
	a->agent_col = SIZE_MAX;
	for (size_t i = 0; i < N_ENRICH; i++)
		a->enrich_idx[i] = -1;
	for (size_t i = 0; i < 4; i++)
		a->roster_idx[i] = -1;
	for (size_t c = 0; c < a->n_columns; c++) {
		if (strcmp(a->columns[c], "agent") == 0)
			a->agent_col = c;
		for (size_t i = 0; i < 4; i++)
			if (strcmp(a->columns[c], roster_cols[i]) == 0)
				a->roster_idx[i] = (int)c;
		for (size_t i = 0; i < N_ENRICH; i++)
			if (strcmp(a->columns[c], enrich_cols[i]) == 0)
				a->enrich_idx[i] = (int)c;
	}
	if (a->agent_col == SIZE_MAX) {
		row_error(p, 1, 1, "the header has no 'agent' column");
		return -1;
	}
	return 0;
}

static int add_row(struct agentdir *a, struct parse *p, int line, const char *s,
		   size_t len)
{
	if (a->n_rows == AGENTDIR_MAX_ROWS) {
		row_error(p, line, 1, "more than 1000000 agents");
		return -1;
	}
	char **cells = calloc(a->n_columns, sizeof(*cells));
	if (cells == NULL)
		return -1;
	int n = split_line(p, line, s, len, cells, a->n_columns);
	if (n >= 0 && (size_t)n < a->n_columns)
		row_error(p, line, (int)len + 1,
			  "fewer fields than the header has");
	else if (n >= 0 && cells[a->agent_col][0] == '\0')
		row_error(p, line, 1, "empty agent");
	if (n < 0 || (size_t)n < a->n_columns ||
	    cells[a->agent_col][0] == '\0') {
		free_cells(cells, n < 0 ? 0 : (size_t)n);
		return 0; /* reported (or out of memory: caught by count) */
	}
	if (a->n_rows == a->cap_rows) {
		size_t cap = a->cap_rows ? 2 * a->cap_rows : 64;
		char ***r = realloc(a->rows, cap * sizeof(*r));
		int *l = r ? realloc(a->row_line, cap * sizeof(*l)) : NULL;
		if (r)
			a->rows = r;
		if (l == NULL) {
			free_cells(cells, a->n_columns);
			return -1;
		}
		a->row_line = l;
		a->cap_rows = cap;
	}
	a->rows[a->n_rows] = cells;
	a->row_line[a->n_rows++] = line;
	return 0;
}

/* Row index + 1 of agent, or the empty slot where it would go (*slot). */
static uint32_t lookup(const struct agentdir *a, const char *agent, size_t len,
		       size_t *slot)
{
	size_t mask = a->hash_size - 1;
	size_t i = hash_str(agent, len) & mask;

	for (; a->hash[i]; i = (i + 1) & mask) {
		const char *k = a->rows[a->hash[i] - 1][a->agent_col];
		if (strncmp(k, agent, len) == 0 && k[len] == '\0')
			break;
	}
	if (slot)
		*slot = i;
	return a->hash[i];
}

static int build_hash(struct agentdir *a, struct parse *p)
{
	a->hash_size = 16;
	while (a->hash_size < 2 * a->n_rows)
		a->hash_size *= 2;
	if ((a->hash = calloc(a->hash_size, sizeof(*a->hash))) == NULL)
		return -1;
	for (size_t r = 0; r < a->n_rows; r++) {
		const char *id = a->rows[r][a->agent_col];
		size_t slot;
		uint32_t dup = lookup(a, id, strlen(id), &slot);
		if (dup) {
			char msg[160];
			snprintf(msg, sizeof(msg),
				 "agent '%.64s' already listed on line %d", id,
				 a->row_line[dup - 1]);
			row_error(p, a->row_line[r], 1, msg);
			continue;
		}
		a->hash[slot] = (uint32_t)r + 1;
	}
	return 0;
}

/* 1-based byte column of cell c of row r (cells are unquoted). */
static int cell_column(const struct agentdir *a, size_t r, int c)
{
	size_t col = 1;

	for (int i = 0; i < c; i++)
		col += strlen(a->rows[r][i]) + 1;
	return (int)col;
}

/* Parses every row's roster; bad values are reported at their cell. */
static int build_rosters(struct agentdir *a, struct parse *p)
{
	if ((a->rosters = calloc(a->n_rows + 1, sizeof(*a->rosters))) == NULL)
		return -1;
	for (size_t r = 0; r < a->n_rows; r++) {
		const char *cells[4];
		char err[160];
		int bad = 0;
		for (int i = 0; i < 4; i++)
			cells[i] = a->roster_idx[i] < 0
				       ? NULL
				       : a->rows[r][a->roster_idx[i]];
		if (roster_parse(&a->rosters[r], &a->zones, cells, &bad, err,
				 sizeof(err)) < 0)
			row_error(p, a->row_line[r],
				  cell_column(a, r, a->roster_idx[bad]), err);
		else if (a->rosters[r].zone)
			a->n_rosters++;
	}
	return 0;
}

static int parse_lines(struct agentdir *a, struct parse *p, const char *buf,
		       size_t len)
{
	int line = 0;

	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;
		size_t n = end - pos;
		line++;
		if (n > 0 && buf[pos + n - 1] == '\r')
			n--;
		if (n > AGENTDIR_MAX_LINE)
			row_error(p, line, AGENTDIR_MAX_LINE + 1,
				  "line longer than 65536 bytes");
		else if (line == 1 && set_header(a, p, buf + pos, n) < 0)
			return -1;
		else if (line > 1 && n > 0 &&
			 add_row(a, p, line, buf + pos, n) < 0)
			return -1;
		pos = end + 1;
	}
	if (line == 0)
		row_error(p, 1, 1, "empty file: the header line is missing");
	return 0;
}

struct agentdir *agentdir_load_buffer(const char *name, const char *buf,
				      size_t len, struct diag *d)
{
	struct parse p = {name, d, 0};
	struct agentdir *a = calloc(1, sizeof(*a));

	if (a == NULL || parse_lines(a, &p, buf, len) < 0 ||
	    build_hash(a, &p) < 0 || build_rosters(a, &p) < 0) {
		if (p.n_errors == 0)
			diag_add(d, name, 0, 0, "out of memory");
		agentdir_free(a);
		return NULL;
	}
	if (p.n_errors > MAX_ROW_ERRORS)
		diag_add(d, name, 0, 0, "%zu more errors not shown",
			 p.n_errors - MAX_ROW_ERRORS);
	if (p.n_errors) {
		agentdir_free(a);
		return NULL;
	}
	return a;
}

struct agentdir *agentdir_load(const char *path, struct diag *d)
{
	FILE *f = listfile_open_regular(path, "agent directory", path, 0, 0, d);
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int bad = 0;

	if (f == NULL)
		return NULL;
	do {
		if (len == cap && cap >= AGENTDIR_MAX_FILE) {
			diag_add(d, path, 0, 0, "larger than 256 MiB");
			bad = 2;
			break;
		}
		if (len == cap) {
			char *nb = realloc(buf, cap ? 2 * cap : 65536);
			if (nb == NULL) {
				bad = 1;
				break;
			}
			buf = nb;
			cap = cap ? 2 * cap : 65536;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	bad |= ferror(f);
	fclose(f);
	struct agentdir *a = NULL;
	if (bad == 1)
		diag_add(d, path, 0, 0, "cannot read the agent directory");
	else
		a = agentdir_load_buffer(path, buf, len, d);
	free(buf);
	return a;
}

size_t agentdir_count(const struct agentdir *a)
{
	return a ? a->n_rows : 0;
}

const char *agentdir_get(const struct agentdir *a, const char *agent,
			 size_t len, const char *column)
{
	if (a == NULL)
		return NULL;
	uint32_t r = lookup(a, agent, len, NULL);
	for (size_t c = 0; r && c < a->n_columns; c++)
		if (strcmp(a->columns[c], column) == 0)
			return a->rows[r - 1][c];
	return NULL;
}

int agentdir_enrich(const struct agentdir *a, struct event_buf *b,
		    struct event *ev)
{
	const struct event_field *f = a ? event_get(ev, FIELD_AGENT) : NULL;
	if (f == NULL)
		return 0;
	uint32_t r = lookup(a, f->value, f->value_len, NULL);
	if (r == 0)
		return 0;
	struct event keep = *ev;
	int n = 0, rc = 0;
	for (size_t i = 0; i < N_ENRICH && rc == 0; i++) {
		const char *v = a->enrich_idx[i] < 0
				    ? ""
				    : a->rows[r - 1][a->enrich_idx[i]];
		if (v[0] == '\0')
			continue;
		if (event_buf_add(b, enrich_fields[i], v, strlen(v),
				  VALUE_STRING, -1) < 0)
			rc = -1;
		else
			n++;
	}
	event_buf_view(b, ev);
	ev->ts_ms = keep.ts_ms;
	ev->source = keep.source;
	ev->raw = keep.raw;
	ev->raw_len = keep.raw_len;
	return rc < 0 ? -1 : n;
}

size_t agentdir_roster_count(const struct agentdir *a)
{
	return a ? a->n_rosters : 0;
}

const struct roster *agentdir_roster(const struct agentdir *a,
				     const char *agent, size_t len)
{
	if (a == NULL || a->n_rosters == 0)
		return NULL;
	uint32_t r = lookup(a, agent, len, NULL);
	return r && a->rosters[r - 1].zone ? &a->rosters[r - 1] : NULL;
}
