/*
 * test_lines: the bounded line reader — LF and CRLF endings, a last line
 * without newline, empty lines, offsets, truncation of long lines (found
 * with or without the newline in the buffer), and tiny reads through a
 * pipe so that lines straddle reads.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "lines.h"

/* A reader over a temporary file holding data. */
static struct line_reader *reader_over(const char *data, size_t len, size_t max,
				       int *fd)
{
	char path[] = "/tmp/custos_test_lines_XXXXXX";

	*fd = mkstemp(path);
	CHECK(*fd >= 0);
	unlink(path);
	CHECK_INT(write(*fd, data, len), (long long)len);
	lseek(*fd, 0, SEEK_SET);
	return line_reader_new(*fd, max);
}

struct want {
	const char *line;
	bool truncated;
	uint64_t offset;
};

static void expect_lines(const char *data, size_t len, size_t max,
			 const struct want *w, size_t n)
{
	int fd;
	struct line_reader *r = reader_over(data, len, max, &fd);
	const char *line;
	size_t line_len;
	bool trunc;
	uint64_t off;

	for (size_t i = 0; i < n; i++) {
		int rc = line_reader_next(r, &line, &line_len, &trunc, &off);
		CHECK_INT(rc, 1);
		if (rc != 1)
			break;
		CHECK_INT(line_len, strlen(w[i].line));
		CHECK(line_len == strlen(w[i].line) &&
		      memcmp(line, w[i].line, line_len) == 0);
		CHECK_INT(trunc, w[i].truncated);
		CHECK_INT(off, w[i].offset);
	}
	CHECK_INT(line_reader_next(r, &line, &line_len, &trunc, &off), 0);
	CHECK_INT(line_reader_next(r, &line, &line_len, &trunc, &off), 0);
	line_reader_free(r);
	close(fd);
}

static void test_basic(void)
{
	const char *d = "ab\r\ncd\n\nlast";
	struct want w[] = {{"ab", false, 0},
			   {"cd", false, 4},
			   {"", false, 7},
			   {"last", false, 8}};
	expect_lines(d, strlen(d), 100, w, 4);

	const char *d2 = "x\ny\n";
	struct want w2[] = {{"x", false, 0}, {"y", false, 2}};
	expect_lines(d2, strlen(d2), 100, w2, 2);

	expect_lines("", 0, 100, NULL, 0);
	/* a lone \r inside a line is kept */
	const char *d3 = "a\rb\nc\r";
	struct want w3[] = {{"a\rb", false, 0}, {"c", false, 4}};
	expect_lines(d3, strlen(d3), 100, w3, 2);
}

static void test_truncation(void)
{
	/* max 4: exactly 4 fits, with CRLF too; 5 is cut */
	const char *d = "abcd\nabcd\r\nabcdefgh\nxy\nabcde";
	struct want w[] = {{"abcd", false, 0},
			   {"abcd", false, 5},
			   {"abcd", true, 11},
			   {"xy", false, 20},
			   {"abcd", true, 23}};
	expect_lines(d, strlen(d), 4, w, 5);

	/* a line far longer than the buffer (max + 64 KiB) is cut and the rest
	 * skipped across many reads */
	size_t big = 300000;
	char *data = malloc(big + 20);
	memset(data, 'z', big);
	memcpy(data + big, "\nnext\n", 6);
	struct want w2[] = {{"zzzzzzzzzz", true, 0}, {"next", false, big + 1}};
	expect_lines(data, big + 6, 10, w2, 2);
	/* the same without a final newline after the long line */
	struct want w3[] = {{"zzzzzzzzzz", true, 0}};
	expect_lines(data, big, 10, w3, 1);
	free(data);
}

static void test_pipe_small_writes(void)
{
	int p[2];
	CHECK_INT(pipe(p), 0);
	const char *d = "first line\r\nsecond\nthird-without-newline";
	/* write byte by byte from a child so reads return short counts */
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		for (size_t i = 0; d[i]; i++)
			if (write(p[1], d + i, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(p[1]);
	struct line_reader *r = line_reader_new(p[0], 1000);
	const char *line;
	size_t len;
	bool trunc;
	uint64_t off;
	const char *want[] = {"first line", "second", "third-without-newline"};
	uint64_t want_off[] = {0, 12, 19};
	for (int i = 0; i < 3; i++) {
		CHECK_INT(line_reader_next(r, &line, &len, &trunc, &off), 1);
		CHECK(len == strlen(want[i]) &&
		      memcmp(line, want[i], len) == 0);
		CHECK_INT(off, want_off[i]);
	}
	CHECK_INT(line_reader_next(r, &line, &len, NULL, NULL), 0);
	CHECK_INT(line_reader_n_truncated(r), 0);
	line_reader_free(r);
	close(p[0]);
	line_reader_free(NULL);
}

static void test_read_error(void)
{
	struct line_reader *r = line_reader_new(-1, 10);
	const char *line;
	size_t len;
	CHECK_INT(line_reader_next(r, &line, &len, NULL, NULL), -1);
	line_reader_free(r);
}

int main(void)
{
	test_basic();
	test_truncation();
	test_pipe_small_writes();
	test_read_error();
	return check_done();
}
