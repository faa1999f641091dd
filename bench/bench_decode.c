/*
 * bench_decode: decode throughput of decode_json() (the scanner) against
 * decode_json_ref() (jansson) on the same JSON-lines file, in the same run.
 *
 * The file is read into memory first, so only decoding is timed (one reused
 * event_buf over the canonical field table, as custos replay does).  Each
 * decoder decodes every line RUNS times, alternating so that both see the
 * same machine state; the median run of each is printed as lines/s and
 * MB/s, with the ratio.  Timing uses CLOCK_MONOTONIC.
 *
 * usage: bench_decode FILE [RUNS]      (RUNS defaults to 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "decode_json.h"
#include "event.h"

typedef int (*decode_fn)(struct event_buf *, const char *, size_t,
			 struct event *, char *, size_t);

struct lines {
	char *data;
	size_t size;
	size_t *start, *len;
	size_t n;
};

static int load(const char *path, struct lines *l)
{
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	rewind(f);
	l->data = malloc(size > 0 ? (size_t)size : 1);
	l->size = size > 0 ? (size_t)size : 0;
	if (l->data == NULL || fread(l->data, 1, l->size, f) != l->size) {
		fclose(f);
		return -1;
	}
	fclose(f);
	size_t cap = 1024;
	l->start = malloc(cap * sizeof(size_t));
	l->len = malloc(cap * sizeof(size_t));
	l->n = 0;
	for (size_t i = 0; i < l->size;) {
		const char *nl = memchr(l->data + i, '\n', l->size - i);
		size_t end = nl ? (size_t)(nl - l->data) : l->size;
		if (l->n == cap) {
			cap *= 2;
			l->start = realloc(l->start, cap * sizeof(size_t));
			l->len = realloc(l->len, cap * sizeof(size_t));
		}
		if (l->start == NULL || l->len == NULL)
			return -1;
		l->start[l->n] = i;
		l->len[l->n++] = end - i;
		i = end + 1;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One pass over every line; returns seconds, counts rejects and fields. */
static double run(decode_fn fn, struct event_buf *b, const struct lines *l,
		  size_t *rejects, size_t *fields)
{
	struct event ev;
	char err[256];
	double t0 = now();

	*rejects = *fields = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (fn(b, l->data + l->start[i], l->len[i], &ev, err,
		       sizeof(err)) < 0)
			(*rejects)++;
		else
			*fields += ev.n_fields;
	}
	return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void report(const char *name, double *t, int runs, const struct lines *l,
		   size_t rejects, size_t fields)
{
	qsort(t, (size_t)runs, sizeof(double), cmp_double);
	double med = t[runs / 2];
	printf("  %-22s median %.3f s  %10.0f lines/s  %7.1f MB/s  "
	       "(%zu rejected, %zu fields)\n",
	       name, med, (double)l->n / med, (double)l->size / med / 1e6,
	       rejects, fields);
}

int main(int argc, char **argv)
{
	struct lines l;
	int runs = argc > 2 ? atoi(argv[2]) : 5;

	if (argc < 2 || runs < 1 || runs > 99) {
		fprintf(stderr, "usage: bench_decode FILE [RUNS]\n");
		return 2;
	}
	if (load(argv[1], &l) < 0) {
		perror(argv[1]);
		return 1;
	}
	struct fieldtab *tab = fieldtab_new();
	fieldtab_freeze(tab);
	struct event_buf *b = event_buf_new(tab);
	double tf[99], tr[99];
	size_t rej_f = 0, rej_r = 0, fld_f = 0, fld_r = 0;
	for (int i = 0; i < runs; i++) {
		tf[i] = run(decode_json, b, &l, &rej_f, &fld_f);
		tr[i] = run(decode_json_ref, b, &l, &rej_r, &fld_r);
	}
	printf("bench_decode: %s, %zu lines, %.1f MB, %d runs each\n", argv[1],
	       l.n, (double)l.size / 1e6, runs);
	report("decode_json (scanner)", tf, runs, &l, rej_f, fld_f);
	report("decode_json_ref", tr, runs, &l, rej_r, fld_r);
	printf("  speed-up: %.2fx\n", tr[runs / 2] / tf[runs / 2]);
	event_buf_free(b);
	fieldtab_free(tab);
	free(l.data);
	free(l.start);
	free(l.len);
	return rej_f == rej_r && fld_f == fld_r ? 0 : 1;
}
