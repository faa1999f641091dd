/*
 * cli_util: shared helpers of the analyst commands (see cli_util.h).
 *
 * Output safety: every string shown on a terminal may come from an access
 * log, i.e. from the people being watched, so table cells have their
 * control characters replaced (no escape-sequence injection into the
 * analyst's terminal); JSON is escaped by jansson; CSV is quoted.
 */
#include "cli_util.h"

#include "config.h"
#include "custos.h"
#include "match.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <pwd.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define CELL_MAX_TTY 48 /* display columns per cell on a terminal */
#define AUDIT_MAX 2048	/* bytes of command line logged */

/* ---- time ---- */

int cli_parse_duration(const char *s, int64_t *ms)
{
	char *end;
	long long n;
	int64_t unit;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (end == s || errno || n < 0 || n > 100LL * 365 * 86400)
		return -1;
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		unit = 1000;
	else if (strcmp(end, "m") == 0)
		unit = 60000;
	else if (strcmp(end, "h") == 0)
		unit = 3600000;
	else if (strcmp(end, "d") == 0)
		unit = 86400000;
	else if (strcmp(end, "w") == 0)
		unit = 7 * 86400000LL;
	else
		return -1;
	*ms = (int64_t)n * unit;
	return 0;
}

int cli_parse_time(const char *s, int64_t now_ms, int64_t *out)
{
	static const char *const pads[] = {"", "Z", ":00Z", "T00:00:00Z"};
	char buf[64];
	int64_t d;

	if (cli_parse_duration(s, &d) == 0 && strchr(s, '-') == NULL) {
		*out = now_ms - d;
		return 0;
	}
	for (size_t i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		int n = snprintf(buf, sizeof(buf), "%s%s", s, pads[i]);
		if (n > 0 && (size_t)n < sizeof(buf) &&
		    match_parse_rfc3339(buf, (size_t)n, out) == 0)
			return 0;
	}
	return -1;
}

int64_t cli_now_ms(void)
{
	const char *pin = getenv("CUSTOS_NOW");
	struct timespec ts;
	int64_t ms;

	if (pin && *pin && cli_parse_time(pin, 0, &ms) == 0 && strchr(pin, '-'))
		return ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cli_parse_level(const char *s, int *min, int *max)
{
	static const char *const names[] = {"informational", "low", "medium",
					    "high", "critical"};
	size_t len = strlen(s);
	int plus = len > 0 && s[len - 1] == '+';

	if (plus)
		len--;
	for (int i = 0; i < 5; i++) {
		if ((strlen(names[i]) == len &&
		     strncmp(s, names[i], len) == 0) ||
		    (i == 0 && len == 4 && strncmp(s, "info", 4) == 0)) {
			*min = i;
			*max = plus ? 4 : i;
			return 0;
		}
	}
	return -1;
}

/* ---- who, audit ---- */

const char *cli_user(void)
{
	static char name[64];
	struct passwd *pw = getpwuid(getuid());

	if (pw && pw->pw_name)
		snprintf(name, sizeof(name), "%s", pw->pw_name);
	else
		snprintf(name, sizeof(name), "uid%u", (unsigned)getuid());
	return name;
}

/* Appends s to buf, control characters and backslashes escaped. */
static void append_escaped(char *buf, size_t size, size_t *len, const char *s)
{
	for (; *s && *len + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'')
			*len += (size_t)snprintf(buf + *len, size - *len,
						 "\\x%02x", c);
		else
			buf[(*len)++] = (char)c;
	}
	buf[*len] = '\0';
}

void cli_audit(int argc, char **argv)
{
	char line[AUDIT_MAX];
	size_t len = 0;
	const char *e = getenv("CUSTOS_AUDIT_STDERR");
	int opts = LOG_PID | (e && strcmp(e, "1") == 0 ? LOG_PERROR : 0);

	line[0] = '\0';
	for (int i = 0; i < argc; i++) {
		int quote = strpbrk(argv[i], " '\"") != NULL || !*argv[i];
		if (i > 0 && len + 2 < sizeof(line))
			line[len++] = ' ';
		if (quote && len + 2 < sizeof(line))
			line[len++] = '\'';
		append_escaped(line, sizeof(line), &len, argv[i]);
		if (quote && len + 2 < sizeof(line))
			line[len++] = '\'';
		line[len] = '\0';
	}
	openlog("custos", opts, LOG_AUTHPRIV);
	syslog(LOG_AUTHPRIV | LOG_INFO, "user %s ran: %s", cli_user(), line);
	closelog();
}

/* ---- the store ---- */

static char *store_path_from_config(const char *config_path)
{
	struct diag d;
	struct config *c;
	char *p = NULL;

	diag_init(&d);
	c = config_load(config_path, &d);
	if (c == NULL)
		diag_print(&d, stderr);
	else if (c->store_path)
		p = strdup(c->store_path);
	diag_clear(&d);
	config_free(c);
	return p;
}

struct store *cli_open_store(const char *db_path, const char *config_path)
{
	char *owned = NULL, err[512];
	const char *path = db_path;
	struct store *s = NULL;

	if (path == NULL && config_path) {
		if ((owned = store_path_from_config(config_path)) == NULL)
			return NULL;
		path = owned;
	}
	if (path == NULL)
		path = CLI_DEFAULT_DB;
	if (access(path, R_OK) < 0) {
		if (errno == EACCES)
			fprintf(stderr,
				"custos: %s: permission denied: the alert "
				"store holds personal data and is readable by "
				"its owner and group only (mode 0640, the "
				"daemon's group); ask to be added to it\n",
				path);
		else
			fprintf(stderr, "custos: %s: %s (use --db FILE)\n",
				path, strerror(errno));
		goto out;
	}
	if ((s = store_open(path, err, sizeof(err))) == NULL)
		fprintf(stderr, "custos: %s\n", err);
out:
	free(owned);
	return s;
}

double cli_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 1; i < n; i++) /* insertion sort: n is small */
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int cli_resolve_alert(struct store *s, const char *arg, char id[33])
{
	sqlite3_stmt *st = NULL;
	size_t len = strlen(arg);
	int n = 0, rc;

	if (len < 6 || len > 32 || strspn(arg, "0123456789abcdef") != len) {
		fprintf(stderr,
			"custos: '%s': not an alert id (6 to 32 hex "
			"characters)\n",
			arg);
		return -1;
	}
	if (sqlite3_prepare_v2(store_sqlite(s),
			       "SELECT id FROM alerts WHERE substr(id, 1, ?2)"
			       " = ?1 LIMIT 2",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)len);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 2)
		if (n++ == 0)
			snprintf(id, 33, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (n == 0)
		fprintf(stderr, "custos: no alert %s\n", arg);
	if (n > 1)
		fprintf(stderr, "custos: alert id prefix %s is ambiguous\n",
			arg);
	return n == 1 ? 1 : n == 0 ? 0 : -1;
}

/* ---- tables ---- */

struct cli_table {
	size_t n_cols, n_rows, cap;
	const char *const *names;
	unsigned char *numeric; /* per column */
	char **cells;		/* n_rows * n_cols, NULL = no value */
};

struct cli_table *cli_table_new(size_t n_cols, const char *const *names)
{
	struct cli_table *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->numeric = calloc(n_cols, 1)) == NULL) {
		free(t);
		return NULL;
	}
	t->n_cols = n_cols;
	t->names = names;
	for (size_t c = 0; c < n_cols; c++)
		t->numeric[c] = names[c][0] == '#';
	return t;
}

void cli_table_free(struct cli_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->numeric);
	free(t);
}

void cli_table_numeric(struct cli_table *t, size_t col)
{
	if (col < t->n_cols)
		t->numeric[col] = 1;
}

size_t cli_table_rows(const struct cli_table *t)
{
	return t->n_rows;
}

int cli_table_add(struct cli_table *t, const char *const *cells)
{
	if (t->n_rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **c = realloc(t->cells, cap * t->n_cols * sizeof(*c));
		if (c == NULL)
			return -1;
		t->cells = c;
		t->cap = cap;
	}
	char **row = t->cells + t->n_rows * t->n_cols;
	for (size_t i = 0; i < t->n_cols; i++) {
		row[i] = cells[i] ? strdup(cells[i]) : NULL;
		if (cells[i] && row[i] == NULL) { /* no row with holes */
			while (i-- > 0)
				free(row[i]);
			return -1;
		}
	}
	t->n_rows++;
	return 0;
}

int cli_table_add_stmt(struct cli_table *t, sqlite3_stmt *st)
{
	const char *cells[64];
	size_t n = t->n_cols < 64 ? t->n_cols : 64;

	for (size_t i = 0; i < n; i++) {
		cells[i] = (const char *)sqlite3_column_text(st, (int)i);
		if (cells[i] == NULL &&
		    sqlite3_column_type(st, (int)i) != SQLITE_NULL)
			return -1; /* out of memory converting the value */
	}
	return cli_table_add(t, cells);
}

/* A column's name without its numeric marker. */
static const char *col_name(const struct cli_table *t, size_t c)
{
	return t->names[c] + (t->names[c][0] == '#');
}

/* Display width of a UTF-8 string (code points; good enough here). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; s && *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* Prints s padded to w columns, cut at max, control chars as '?'. */
static void print_cell(FILE *out, const char *s, size_t w, size_t max, int last)
{
	size_t n = 0;

	for (; s && *s && n < max; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c & 0xc0) != 0x80)
			n++;
		fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
	}
	while (s && *s && ((unsigned char)*s & 0xc0) == 0x80)
		fputc(*s++, out); /* finish a cut code point */
	if (!last)
		for (; n < w + 2; n++)
			fputc(' ', out);
}

static void print_aligned(const struct cli_table *t, FILE *out)
{
	size_t max = isatty(fileno(out)) ? CELL_MAX_TTY : (size_t)-1;
	size_t *w = calloc(t->n_cols, sizeof(*w));

	if (w == NULL)
		return;
	for (size_t c = 0; c < t->n_cols; c++) {
		w[c] = width(col_name(t, c));
		for (size_t r = 0; r < t->n_rows; r++) {
			size_t x = width(t->cells[r * t->n_cols + c]);
			w[c] = x > w[c] ? x : w[c];
		}
		w[c] = w[c] > max ? max : w[c];
	}
	for (size_t c = 0; c < t->n_cols; c++)
		print_cell(out, col_name(t, c), w[c], max, c + 1 == t->n_cols);
	fputc('\n', out);
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			const char *v = t->cells[r * t->n_cols + c];
			print_cell(out, v ? v : "-", w[c], max,
				   c + 1 == t->n_cols);
		}
		fputc('\n', out);
	}
	free(w);
}

/* A plain decimal number ("-12", "3.5") is data, not a formula. */
static bool is_number(const char *s)
{
	char *end;

	if (*s == '\0' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	(void)strtod(s, &end);
	return *end == '\0' && errno == 0 && strpbrk(s, "xXiInN") == NULL;
}

/* Spreadsheets run a cell that starts with = + - @ (or tab/CR before one)
 * as a formula: agent, customer and rule values come from the logs, so such
 * a cell gets a leading apostrophe (OWASP "CSV injection"). */
static bool is_formula(const char *s)
{
	return *s != '\0' && strchr("=+-@\t\r", *s) != NULL && !is_number(s);
}

void cli_csv_field(FILE *out, const char *s)
{
	if (s == NULL)
		return;
	bool formula = is_formula(s);
	if (!formula && strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	if (formula)
		fputc('\'', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void print_csv(const struct cli_table *t, FILE *out)
{
	for (size_t c = 0; c < t->n_cols; c++) {
		if (c)
			fputc(',', out);
		cli_csv_field(out, col_name(t, c));
	}
	fputs("\r\n", out);
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			if (c)
				fputc(',', out);
			cli_csv_field(out, t->cells[r * t->n_cols + c]);
		}
		fputs("\r\n", out);
	}
}

static json_t *json_cell(const char *v, int numeric)
{
	if (v == NULL)
		return json_null();
	if (numeric) {
		char *end;
		double d = strtod(v, &end);
		if (*v && *end == '\0') {
			long long i = (long long)d;
			return (double)i == d ? json_integer(i) : json_real(d);
		}
	}
	return json_string(v);
}

/* One row as an object, or NULL when out of memory (never an object
 * with members missing). */
static json_t *row_json(const struct cli_table *t, size_t r)
{
	json_t *o = json_object();

	for (size_t c = 0; o && c < t->n_cols; c++) {
		json_t *v =
		    json_cell(t->cells[r * t->n_cols + c], t->numeric[c]);
		if (v == NULL || json_object_set_new(o, col_name(t, c), v)) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

json_t *cli_table_json(const struct cli_table *t)
{
	json_t *a = json_array();

	for (size_t r = 0; a && r < t->n_rows; r++) {
		if (json_array_append_new(a, row_json(t, r)) < 0) {
			json_decref(a); /* no array with rows missing */
			a = NULL;
		}
	}
	return a;
}

const char *cli_table_cell(const struct cli_table *t, size_t row, size_t col)
{
	return row < t->n_rows && col < t->n_cols
		   ? t->cells[row * t->n_cols + col]
		   : NULL;
}

static int print_json(const struct cli_table *t, FILE *out)
{
	for (size_t r = 0; r < t->n_rows; r++) {
		/* json_dumpf, not json_dumps: jansson (2.14) ignores a
		 * failed key append in its string buffer and returns the
		 * object with a key missing; writing to the stream needs no
		 * buffer */
		json_t *o = row_json(t, r);
		if (o == NULL ||
		    json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER)) {
			json_decref(o);
			cli_error(NULL, "json");
			return -1;
		}
		fputc('\n', out);
		json_decref(o);
	}
	return 0;
}

int cli_table_print(const struct cli_table *t, enum cli_format f, FILE *out)
{
	if (f == CLI_CSV)
		print_csv(t, out);
	else if (f == CLI_JSON)
		return print_json(t, out);
	else
		print_aligned(t, out);
	return 0;
}

/* ---- SQL ---- */

void cli_sql_init(struct cli_sql *q)
{
	memset(q, 0, sizeof(*q));
}

void cli_sql_clear(struct cli_sql *q)
{
	free(q->sql);
	cli_sql_init(q);
}

void cli_sql_add(struct cli_sql *q, const char *text)
{
	size_t n = strlen(text);

	if (q->failed)
		return;
	if (q->len + n + 1 > q->cap) {
		size_t cap = (q->len + n + 1) * 2;
		char *p = realloc(q->sql, cap);
		if (p == NULL) {
			q->failed = 1;
			return;
		}
		q->sql = p;
		q->cap = cap;
	}
	memcpy(q->sql + q->len, text, n + 1);
	q->len += n;
}

void cli_sql_text(struct cli_sql *q, const char *s)
{
	if (q->n_params == CLI_SQL_MAX_PARAMS) {
		q->failed = 1;
		return;
	}
	q->p[q->n_params].is_int = 0;
	q->p[q->n_params++].s = s;
	cli_sql_add(q, "?");
}

void cli_sql_int(struct cli_sql *q, int64_t v)
{
	if (q->n_params == CLI_SQL_MAX_PARAMS) {
		q->failed = 1;
		return;
	}
	q->p[q->n_params].is_int = 1;
	q->p[q->n_params++].i = v;
	cli_sql_add(q, "?");
}

static int n_cli_errors;

void cli_error(struct store *s, const char *what)
{
	fprintf(stderr, "custos: %s: %s\n", what,
		s ? sqlite3_errmsg(store_sqlite(s)) : "out of memory");
	n_cli_errors++;
}

int cli_errors(void)
{
	return n_cli_errors;
}

sqlite3_stmt *cli_sql_prepare(struct store *s, struct cli_sql *q)
{
	sqlite3 *db = store_sqlite(s);
	sqlite3_stmt *st = NULL;

	if (q->failed || q->sql == NULL) {
		fprintf(stderr, "custos: query too large\n");
		n_cli_errors++;
		return NULL;
	}
	if (sqlite3_prepare_v2(db, q->sql, -1, &st, NULL) != SQLITE_OK) {
		cli_error(s, "query");
		return NULL;
	}
	for (int i = 0; i < q->n_params; i++) {
		if (q->p[i].is_int)
			sqlite3_bind_int64(st, i + 1, q->p[i].i);
		else
			sqlite3_bind_text(st, i + 1, q->p[i].s, -1,
					  SQLITE_STATIC);
	}
	return st;
}

struct cli_table *cli_query(struct store *s, struct cli_sql *q, size_t n_cols,
			    const char *const *names)
{
	sqlite3_stmt *st = cli_sql_prepare(s, q);
	struct cli_table *t;
	int rc;

	if (st == NULL)
		return NULL;
	if (n_cols > 64 || (t = cli_table_new(n_cols, names)) == NULL) {
		fprintf(stderr, "custos: query: %s\n",
			n_cols > 64 ? "too many columns" : "out of memory");
		n_cli_errors++;
		sqlite3_finalize(st);
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (cli_table_add_stmt(t, st) < 0)
			break;
	if (rc == SQLITE_ROW) {
		cli_error(NULL, "query");
		cli_table_free(t);
		t = NULL;
	} else if (rc != SQLITE_DONE) {
		cli_error(s, "query");
		cli_table_free(t);
		t = NULL;
	}
	sqlite3_finalize(st);
	return t;
}
