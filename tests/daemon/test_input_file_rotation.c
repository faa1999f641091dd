/*
 * Rename rotation under load: a writer thread appends numbered lines to
 * access.log and rotates it logrotate-style (.2 -> .3, .1 -> .2, log ->
 * .1, the oldest deleted), writing a few more lines to the renamed file
 * before reopening, as an application does.  Meanwhile the reader polls,
 * now and then refuses a record, and twice stops and restarts from its
 * saved position.  At the end every number was seen exactly once, in
 * order.
 *
 * The writer rotates a generation only after the reader has seen one of
 * its lines: the input's documented condition (a file created and renamed
 * away between two polls is never seen).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "check.h"
#include "tail_util.h"

#define N_LINES 6000
#define ROTATE_EVERY 1000
#define LATE_LINES 3
#define N_KEEP 3

static char *dir;
static char log_path[512];
static atomic_int max_seen;
static atomic_int writer_failed;

static void rotated_name(char *out, size_t size, int k)
{
	snprintf(out, size, "%s.%d", log_path, k);
}

static void rotate(void)
{
	char from[600], to[600];

	rotated_name(to, sizeof(to), N_KEEP);
	unlink(to);
	for (int k = N_KEEP - 1; k >= 1; k--) {
		rotated_name(from, sizeof(from), k);
		rotated_name(to, sizeof(to), k + 1);
		rename(from, to);
	}
	rotated_name(to, sizeof(to), 1);
	if (rename(log_path, to) != 0)
		atomic_store(&writer_failed, 1);
}

static int write_line(int fd, int n)
{
	char line[64];
	int len = snprintf(line, sizeof(line), "%06d some payload text\n", n);

	return write(fd, line, (size_t)len) == len ? 0 : -1;
}

/* Waits (bounded) until the reader has seen line n. */
static void wait_seen(int n)
{
	int64_t end = util_now_ms() + 20000;

	while (atomic_load(&max_seen) < n && util_now_ms() < end)
		util_sleep_ms(1);
}

static void *writer(void *arg)
{
	int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	int gen_first = 1;

	for (int n = 1; n <= N_LINES && fd >= 0; n++) {
		if (n > 1 && (n - 1) % ROTATE_EVERY == 0) {
			wait_seen(gen_first);
			rotate();
			for (int k = 0; k < LATE_LINES; k++, n++)
				write_line(fd, n);
			close(fd);
			fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT,
				  0644);
			gen_first = n;
			if (fd < 0)
				break;
		}
		if (write_line(fd, n) != 0)
			atomic_store(&writer_failed, 1);
		if (n % 64 == 0)
			util_sleep_ms(1);
	}
	if (fd < 0)
		atomic_store(&writer_failed, 1);
	else
		close(fd);
	return arg;
}

struct check_state {
	unsigned char seen[N_LINES + 1];
	int last;
	int n_dup, n_order, n_bad;
	size_t n_emitted;
	size_t refuse_every;
};

static int check_emit(void *arg, const struct input_record *r)
{
	struct check_state *cs = arg;
	char num[8] = "";
	int n = 0;

	if (cs->refuse_every && ++cs->n_emitted % cs->refuse_every == 0)
		return -1;
	if (r->len >= 7)
		memcpy(num, r->data, 7); /* record bytes: not NUL-terminated */
	if (r->len < 7 || num[6] != ' ' || sscanf(num, "%6d", &n) != 1 ||
	    n < 1 || n > N_LINES || r->source.line == 0) {
		cs->n_bad++;
		return 0;
	}
	if (cs->seen[n])
		cs->n_dup++;
	if (getenv("TAIL_DEBUG") && (cs->seen[n] || n != cs->last + 1))
		fprintf(stderr, "dup/order n=%d last=%d path=%s line=%lu\n", n, cs->last, r->source.path, (unsigned long)r->source.line);
	if (n != cs->last + 1)
		cs->n_order++;
	cs->seen[n] = 1;
	cs->last = n;
	atomic_store(&max_seen, n);
	return 0;
}

static struct input *restart(struct input *in)
{
	size_t len;
	void *pos = input_file_ops.position(in, &len);
	struct input *out;

	if (getenv("TAIL_DEBUG"))
		fprintf(stderr, "restart at %d:\n%.*s", max_seen, (int)len, (char *)pos);
	input_file_ops.close(in);
	out = open_input(log_path, 0, INPUT_START_BEGINNING, pos, len);
	free(pos);
	if (getenv("TAIL_DEBUG") && out) {
		struct input_file_stats fs;
		char cmd[600];
		input_file_stats(out, &fs);
		fprintf(stderr, "resumed: %zu files, %lu lost\n", fs.n_files,
			(unsigned long)fs.n_lost_positions);
		snprintf(cmd, sizeof(cmd), "ls -i %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "ls failed\n");
	}
	return out;
}

int main(void)
{
	static struct check_state cs = {.refuse_every = 97};
	struct input_file_stats fs;
	struct input *in;
	pthread_t th;
	int64_t end;
	int n_restarts = 0;
	char err[256];

	dir = make_tmpdir();
	snprintf(log_path, sizeof(log_path), "%s/access.log", dir);
	write_str(log_path, "", false);
	in = open_input(log_path, 0, INPUT_START_BEGINNING, NULL, 0);
	CHECK(in != NULL);
	if (in == NULL || pthread_create(&th, NULL, writer, NULL) != 0)
		return check_done();
	end = util_now_ms() + 60000;
	while (cs.last < N_LINES && util_now_ms() < end && in) {
		if (input_file_ops.poll(in, check_emit, &cs, 200, err,
					sizeof(err)) < 0)
			break;
		if ((cs.last > 2500 && n_restarts == 0) ||
		    (cs.last > 4100 && n_restarts == 1)) {
			in = restart(in);
			n_restarts++;
		}
		if (in)
			util_wait_fds(in, 5);
	}
	pthread_join(th, NULL);
	CHECK(in != NULL);
	CHECK_INT(atomic_load(&writer_failed), 0);
	CHECK_INT(n_restarts, 2);
	CHECK_INT(cs.last, N_LINES);
	CHECK_INT(cs.n_dup, 0);
	CHECK_INT(cs.n_order, 0);
	CHECK_INT(cs.n_bad, 0);
	{
		int n_missing = 0;
		for (int n = 1; n <= N_LINES; n++)
			n_missing += !cs.seen[n];
		CHECK_INT(n_missing, 0);
	}
	if (in) {
		/* A saved rotated file may since have been deleted (counted
		 * in n_lost_positions, harmless if it had been read to its
		 * end, as the line accounting above shows); the current
		 * file never is. */
		input_file_stats(in, &fs);
		CHECK(fs.n_files >= 1);
		input_file_ops.close(in);
	}
	remove_tree(dir);
	free(dir);
	return check_done();
}
