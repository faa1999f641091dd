/*
 * Tests of the file-tail input on real files in a temporary directory:
 * reading, partial and long lines, the emit contract, start_at, glob
 * pickup, rename and copytruncate rotation, positions (resume, rotation
 * while stopped, inode reuse).  The concurrent writer test is in
 * test_input_file_rotation.c.
 */
#include <errno.h>
#include <sys/stat.h>

#include "check.h"
#include "tail_util.h"

static char *dir;

static char *path_in(const char *name)
{
	static char buf[8][512];
	static int k;
	char *p = buf[k++ % 8];

	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

static int poll_once(struct input *in, struct sink *s, size_t max)
{
	char err[256];

	return input_file_ops.poll(in, sink_emit, s, max, err, sizeof(err));
}

static void *take_position(struct input *in, size_t *len)
{
	return input_file_ops.position(in, len);
}

static void test_append_read(void)
{
	char *p = path_in("a.log");
	struct sink s = {0};
	struct input_stats st;
	struct input *in;

	write_str(p, "a\nbb\r\nccc\n", false);
	in = open_input(p, 0, INPUT_START_BEGINNING, NULL, 0);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	input_file_ops.stats(in, &st);
	CHECK_INT(st.lag_bytes, 10);
	CHECK_INT(poll_once(in, &s, 100), 3);
	CHECK_INT(s.n, 3);
	if (s.n == 3) {
		CHECK_STR(s.recs[0].data, "a");
		CHECK_STR(s.recs[1].data, "bb"); /* \r\n -> no \r */
		CHECK_STR(s.recs[2].data, "ccc");
		CHECK_INT(s.recs[1].line, 2);
		CHECK_INT(s.recs[1].offset, 2);
		CHECK_INT(s.recs[2].offset, 6);
		CHECK_STR(s.recs[2].path, p);
	}
	write_str(p, "dd\n", true);
	CHECK(poll_until(in, &s, 4, 5000));
	if (s.n == 4) {
		CHECK_STR(s.recs[3].data, "dd");
		CHECK_INT(s.recs[3].line, 4);
		CHECK_INT(s.recs[3].offset, 10);
	}
	CHECK_INT(poll_once(in, &s, 100), 0);
	input_file_ops.stats(in, &st);
	CHECK_INT(st.n_records, 4);
	CHECK_INT(st.n_bytes, 13);
	CHECK_INT(st.lag_bytes, 0);
	input_file_ops.close(in);
	sink_clear(&s);
}

static void test_partial_line(void)
{
	char *p = path_in("partial.log");
	struct sink s = {0};
	struct input *in;
	struct input_stats st;

	write_str(p, "one\ntw", false);
	in = open_input(p, 0, INPUT_START_BEGINNING, NULL, 0);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK_INT(poll_once(in, &s, 100), 1);
	CHECK_INT(poll_once(in, &s, 100), 0); /* "tw" waits for its newline */
	input_file_ops.stats(in, &st);
	CHECK_INT(st.lag_bytes, 2);
	write_str(p, "o\nthree\n", true);
	CHECK(poll_until(in, &s, 3, 5000));
	CHECK_INT(s.n, 3);
	if (s.n == 3) {
		CHECK_STR(s.recs[1].data, "two");
		CHECK_INT(s.recs[1].offset, 4);
		CHECK_INT(s.recs[1].line, 2);
		CHECK_STR(s.recs[2].data, "three");
	}
	input_file_ops.close(in);
	sink_clear(&s);
}

/* A file followed while empty, then written: no false truncation. */
static void test_empty_start(void)
{
	char *p = path_in("empty.log");
	struct sink s = {0};
	struct input *in;
	struct input_file_stats fs;

	write_str(p, "", false);
	in = open_input(p, 0, INPUT_START_BEGINNING, NULL, 0);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK_INT(poll_once(in, &s, 100), 0);
	write_str(p, "x\n", true);
	CHECK(poll_until(in, &s, 1, 5000));
	write_str(p, "y\n", true);
	CHECK(poll_until(in, &s, 2, 5000));
	CHECK_INT(poll_once(in, &s, 100), 0);
	CHECK_INT(s.n, 2);
	input_file_stats(in, &fs);
	CHECK_INT(fs.n_truncations, 0);
	input_file_ops.close(in);
	sink_clear(&s);
}

static void test_long_line(void)
{
	char *p = path_in("long.log");
	struct sink s = {0};
	struct input *in;
	struct input_stats st;

	/* 40 bytes with newline, then a short one. */
	write_str(p, "0123456789abcdefghij0123456789abcdefghij\nshort\n", false);
	in = open_input(p, 16, INPUT_START_BEGINNING, NULL, 0);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK_INT(poll_once(in, &s, 100), 2);
	if (s.n == 2) {
		CHECK_STR(s.recs[0].data, "0123456789abcdef");
		CHECK(s.recs[0].truncated);
		CHECK_STR(s.recs[1].data, "short");
		CHECK(!s.recs[1].truncated);
		CHECK_INT(s.recs[1].line, 2);
		CHECK_INT(s.recs[1].offset, 41);
	}
	/* An over-long line without its newline yet: cut at once, the rest
	 * skipped when it arrives. */
	write_str(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", true);
	CHECK_INT(poll_once(in, &s, 100), 1);
	write_str(p, "abcdefghijklmnopqrstuvwxyz0123456789\nnext\n", true);
	CHECK(poll_until(in, &s, 4, 5000));
	if (s.n == 4) {
		CHECK_STR(s.recs[2].data, "ABCDEFGHIJKLMNOP");
		CHECK(s.recs[2].truncated);
		CHECK_INT(s.recs[2].line, 3);
		CHECK_STR(s.recs[3].data, "next");
		CHECK_INT(s.recs[3].line, 4);
	}
	/* Exactly max_line_bytes is not cut. */
	write_str(p, "0123456789abcdef\n", true);
	CHECK(poll_until(in, &s, 5, 5000));
	if (s.n == 5)
		CHECK(!s.recs[4].truncated && s.recs[4].len == 16);
	input_file_ops.stats(in, &st);
	CHECK_INT(st.n_truncated, 2);
	input_file_ops.close(in);
	sink_clear(&s);
}

static void test_emit_refusal(void)
{
	char *p = path_in("refuse.log");
	struct sink s = {.refuse_at = 3};
	struct input *in;
	size_t len;
	char *pos;

	write_str(p, "l1\nl2\nl3\nl4\n", false);
	in = open_input(p, 0, INPUT_START_BEGINNING, NULL, 0);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK_INT(poll_once(in, &s, 100), 2);
	CHECK_INT(s.n_refused, 1);
	/* The position is just after l2: l3 was refused. */
	pos = take_position(in, &len);
	CHECK(pos != NULL && strstr(pos, " 6 2 0 ") != NULL);
	free(pos);
	CHECK_INT(poll_once(in, &s, 1), 1); /* max_records honoured */
	CHECK_INT(poll_once(in, &s, 100), 1);
	CHECK_INT(s.n, 4);
	if (s.n == 4) {
		CHECK_STR(s.recs[2].data, "l3");
		CHECK_INT(s.recs[2].line, 3);
		CHECK_INT(s.recs[2].offset, 6);
		CHECK_STR(s.recs[3].data, "l4");
	}
	input_file_ops.close(in);
	sink_clear(&s);
}

static void test_start_at_end(void)
{
	char *p = path_in("end.log");
	struct sink s = {0};
	struct input *in;

	write_str(p, "old1\nold2\nunfin", false);
	in = open_input(p, 0, INPUT_START_END, NULL, 0);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK_INT(poll_once(in, &s, 100), 0);
	write_str(p, "ished\nnew\n", true);
	CHECK(poll_until(in, &s, 2, 5000));
	if (s.n == 2) {
		/* Starts after the last complete line, numbers kept. */
		CHECK_STR(s.recs[0].data, "unfinished");
		CHECK_INT(s.recs[0].line, 3);
		CHECK_INT(s.recs[0].offset, 10);
		CHECK_STR(s.recs[1].data, "new");
	}
	input_file_ops.close(in);
	sink_clear(&s);
}

static void test_glob_pickup(void)
{
	char pattern[512];
	struct sink s = {0};
	struct input *in;
	struct input_file_stats fs;
	int fd;
	struct pollfd pfd;

	mkdir(path_in("g"), 0755);
	snprintf(pattern, sizeof(pattern), "%s/g/*.log", dir);
	write_str(path_in("g/a.log"), "a1\n", false);
	in = open_input(pattern, 0, INPUT_START_BEGINNING, NULL, 0);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK_INT(poll_once(in, &s, 100), 1);
	/* The inotify descriptor wakes the loop when a file appears. */
	CHECK_INT(input_file_ops.fds(in, &fd, 1), 1);
	poll_once(in, &s, 100); /* drain pending events */
	write_str(path_in("g/b.log"), "b1\nb2\n", false);
	write_str(path_in("g/c.txt"), "not matched\n", false);
	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	CHECK_INT(poll(&pfd, 1, 5000), 1);
	CHECK(poll_until(in, &s, 3, 5000));
	CHECK_INT(s.n, 3);
	if (s.n == 3) {
		CHECK_STR(s.recs[1].data, "b1");
		CHECK_STR(s.recs[1].path, path_in("g/b.log"));
		CHECK_INT(s.recs[2].line, 2);
	}
	input_file_stats(in, &fs);
	CHECK_INT(fs.n_files, 2);
	input_file_ops.close(in);
	sink_clear(&s);
}

/* Rename rotation: the writer keeps writing to the renamed file for a
 * while, then reopens.  Everything comes out once, in order. */
static void test_rename_rotation(void)
{
	char *p = path_in("rot.log"), *p1 = path_in("rot.log.1");
	struct sink s = {0};
	struct input *in;
	struct input_file_stats fs;
	int fd;

	write_str(p, "1\n2\n", false);
	in = open_input(p, 0, INPUT_START_BEGINNING, NULL, 0);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK_INT(poll_once(in, &s, 100), 2);
	fd = open(p, O_WRONLY | O_APPEND);
	CHECK(rename(p, p1) == 0);
	CHECK(write(fd, "3\n4\nlast-no-newline", 19) == 19); /* late writes */
	close(fd);
	write_str(p, "5\n6\n", false);
	CHECK(poll_until(in, &s, 7, 5000));
	CHECK_INT(s.n, 7);
	if (s.n == 7) {
		CHECK_STR(s.recs[2].data, "3");
		CHECK_STR(s.recs[2].path, p1); /* named where it is now */
		CHECK_INT(s.recs[3].line, 4);
		/* The unterminated end of the rotated file, after
		 * rotate_wait, before the new file's lines. */
		CHECK_STR(s.recs[4].data, "last-no-newline");
		CHECK_STR(s.recs[5].data, "5");
		CHECK_STR(s.recs[5].path, p);
		CHECK_INT(s.recs[5].line, 1);
		CHECK_INT(s.recs[5].offset, 0);
	}
	input_file_stats(in, &fs);
	CHECK_INT(fs.n_rotations, 1);
	CHECK_INT(fs.n_files, 1); /* the rotated one is closed */
	input_file_ops.close(in);
	sink_clear(&s);
}

/* copytruncate, step by step.  custos sees every line present at its last
 * poll before the copy, and every line written after the truncation; lines
 * written after its last poll are only in the copy (not followed), and
 * lines written between copy and truncation are in no file at all. */
static void test_copytruncate(void)
{
	char *p = path_in("ct.log"), *p1 = path_in("ct.log.1");
	char line[32];
	struct sink s = {0};
	struct input *in;
	struct input_file_stats fs;
	int n = 0;

	for (int i = 1; i <= 100; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		write_str(p, line, i > 1);
	}
	in = open_input(p, 0, INPUT_START_BEGINNING, NULL, 0);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK(poll_until(in, &s, 100, 5000));
	for (int i = 101; i <= 150; i++) { /* after custos's last poll */
		snprintf(line, sizeof(line), "line %d\n", i);
		write_str(p, line, true);
	}
	{
		char cmd[1200];
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", p, p1);
		CHECK(system(cmd) == 0); /* the copy */
	}
	write_str(p, "line 151\n", true); /* between copy and truncate */
	CHECK(truncate(p, 0) == 0);
	for (int i = 161; i <= 200; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		write_str(p, line, true);
	}
	CHECK(poll_until(in, &s, 140, 5000));
	CHECK_INT(s.n, 140);
	for (size_t k = 0; k < s.n; k++) {
		int want = k < 100 ? (int)k + 1 : (int)k + 61;
		if (sscanf(s.recs[k].data, "line %d", &n) == 1 && n == want)
			check_n_passed++;
		else
			CHECK_INT(n, want);
	}
	if (s.n == 140) {
		CHECK_INT(s.recs[100].line, 1); /* counted from the restart */
		CHECK_INT(s.recs[100].offset, 0);
	}
	input_file_stats(in, &fs);
	CHECK_INT(fs.n_truncations, 1);
	/* Grown past the old offset before custos looked: the changed first
	 * bytes still tell. */
	CHECK(truncate(p, 0) == 0);
	for (int i = 201; i <= 300; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		write_str(p, line, true);
	}
	CHECK(poll_until(in, &s, 240, 5000));
	CHECK_INT(s.n, 240);
	if (s.n == 240) {
		CHECK_STR(s.recs[140].data, "line 201");
		CHECK_STR(s.recs[239].data, "line 300");
	}
	input_file_stats(in, &fs);
	CHECK_INT(fs.n_truncations, 2);
	input_file_ops.close(in);
	sink_clear(&s);
}

static void write_numbered(const char *p, int from, int to, bool append)
{
	char line[32];

	for (int i = from; i <= to; i++) {
		snprintf(line, sizeof(line), "n%04d\n", i);
		write_str(p, line, append || i > from);
	}
}

/* Resume after a stop mid-file, then with a rotation while stopped. */
static void test_resume(void)
{
	char *p = path_in("res.log"), *p1 = path_in("res.log.1");
	struct sink s = {.refuse_at = 21};
	struct input *in;
	struct input_file_stats fs;
	size_t len;
	char *pos;

	write_numbered(p, 1, 50, false);
	in = open_input(p, 0, INPUT_START_BEGINNING, NULL, 0);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK_INT(poll_once(in, &s, 100), 20);
	pos = take_position(in, &len);
	input_file_ops.close(in);
	write_numbered(p, 51, 60, true);
	in = open_input(p, 0, INPUT_START_BEGINNING, pos, len);
	free(pos);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK(poll_until(in, &s, 60, 5000));
	CHECK_INT(s.n, 60);
	for (size_t k = 0; k < s.n; k++) {
		char want[32];
		snprintf(want, sizeof(want), "n%04zu", k + 1);
		CHECK_STR(s.recs[k].data, want);
		CHECK_INT(s.recs[k].line, k + 1);
		CHECK_INT(s.recs[k].offset, k * 6);
	}
	/* Stop after 10 more lines; rotate while stopped. */
	write_numbered(p, 61, 80, true);
	s.refuse_at = 71;
	CHECK(poll_until(in, &s, 70, 5000));
	pos = take_position(in, &len);
	input_file_ops.close(in);
	CHECK(rename(p, p1) == 0);
	write_numbered(p, 81, 90, false);
	in = open_input(p, 0, INPUT_START_BEGINNING, pos, len);
	free(pos);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK(poll_until(in, &s, 90, 5000));
	CHECK_INT(s.n, 90);
	if (s.n == 90) {
		CHECK_STR(s.recs[70].data, "n0071"); /* rotated file first */
		CHECK_STR(s.recs[70].path, p1);
		CHECK_INT(s.recs[70].line, 71);
		CHECK_STR(s.recs[79].data, "n0080");
		CHECK_STR(s.recs[80].data, "n0081");
		CHECK_STR(s.recs[80].path, p);
		CHECK_INT(s.recs[80].line, 1);
		CHECK_STR(s.recs[89].data, "n0090");
	}
	/* res.log.1 is closed once rotate_wait has passed. */
	for (int i = 0; i < 1000; i++) {
		poll_once(in, &s, 100);
		input_file_stats(in, &fs);
		if (fs.n_files == 1)
			break;
		util_sleep_ms(5);
	}
	CHECK_INT(fs.n_lost_positions, 0);
	CHECK_INT(fs.n_files, 1);
	CHECK_INT(s.n, 90);
	input_file_ops.close(in);
	sink_clear(&s);
}

/* Same inode, other content: the saved offset must not be applied. */
static void test_inode_reuse(void)
{
	char *p = path_in("reuse.log");
	struct sink s = {0};
	struct input *in;
	struct input_file_stats fs;
	struct stat st1, st2;
	size_t len;
	char *pos;

	write_numbered(p, 1, 30, false);
	stat(p, &st1);
	in = open_input(p, 0, INPUT_START_BEGINNING, NULL, 0);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK(poll_until(in, &s, 30, 5000));
	pos = take_position(in, &len);
	input_file_ops.close(in);
	/* Rewritten in place (same inode), longer than the old offset. */
	write_str(p, "", false);
	for (int i = 0; i < 40; i++)
		write_str(p, "other\n", true);
	stat(p, &st2);
	CHECK(st1.st_ino == st2.st_ino);
	sink_clear(&s);
	in = open_input(p, 0, INPUT_START_BEGINNING, pos, len);
	CHECK(in != NULL);
	if (in == NULL) {
		free(pos);
		return;
	}
	CHECK(poll_until(in, &s, 40, 5000));
	CHECK_INT(s.n, 40);
	if (s.n)
		CHECK_INT(s.recs[0].line, 1);
	input_file_stats(in, &fs);
	CHECK_INT(fs.n_lost_positions, 1);
	input_file_ops.close(in);
	sink_clear(&s);
	/* Deleted and recreated (the inode may or may not be reused). */
	unlink(p);
	write_str(p, "fresh\n", false);
	in = open_input(p, 0, INPUT_START_BEGINNING, pos, len);
	free(pos);
	CHECK(in != NULL);
	if (in == NULL)
		return;
	CHECK(poll_until(in, &s, 1, 5000));
	if (s.n)
		CHECK_STR(s.recs[0].data, "fresh");
	input_file_stats(in, &fs);
	CHECK_INT(fs.n_lost_positions, 1);
	input_file_ops.close(in);
	sink_clear(&s);
}

static void test_bad_position(void)
{
	struct config_input cfg = {.name = "t", .path = path_in("x.log")};
	char err[256] = "";
	const char junk[] = "custos-file-position 1\n12 x\n";

	CHECK(input_file_ops.open(&cfg, junk, sizeof(junk) - 1, err,
				  sizeof(err)) == NULL);
	CHECK(strstr(err, "corrupt") != NULL);
	CHECK(input_file_ops.open(&cfg, "nope", 4, err, sizeof(err)) == NULL);
	cfg.path = NULL;
	CHECK(input_file_ops.open(&cfg, NULL, 0, err, sizeof(err)) == NULL);
	input_file_ops.close(NULL);
}

int main(void)
{
	dir = make_tmpdir();
	test_append_read();
	test_partial_line();
	test_empty_start();
	test_long_line();
	test_emit_refusal();
	test_start_at_end();
	test_glob_pickup();
	test_rename_rotation();
	test_copytruncate();
	test_resume();
	test_inode_reuse();
	test_bad_position();
	remove_tree(dir);
	free(dir);
	return check_done();
}
