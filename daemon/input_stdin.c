/*
 * input_stdin: records are the lines of standard input (a pipe, a
 * terminal or a redirected file).  The descriptor is made non-blocking so
 * a poll never stalls the loop; a partial last line waits for its newline
 * (or EOF).  Standard input cannot be re-read, so position() gives no
 * blob: after a restart the daemon reads what comes next.  Offsets and
 * line numbers count from where this process started reading.
 */
#include "input.h"

#include "lines.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct input {
	const struct config_input *cfg; /* borrowed, outlives the input */
	struct line_reader *lr;
	int fd;
	int saved_flags;
	bool eof;
	bool held; /* the reader's current line was refused by emit: offer
		      it again (it stays valid until the next read) */
	struct input_record rec;
	uint64_t line_no;
	struct input_stats st;
};

static struct input *stdin_open(const struct config_input *cfg,
				const void *position, size_t position_len,
				char *err, size_t err_size)
{
	struct input *in = calloc(1, sizeof(*in));
	size_t max =
	    cfg->max_line_bytes ? cfg->max_line_bytes : LINES_DEFAULT_MAX_BYTES;

	if (in == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	in->cfg = cfg;
	in->fd = STDIN_FILENO;
	in->st.lag_bytes = -1;
	in->saved_flags = fcntl(in->fd, F_GETFL);
	if (in->saved_flags < 0 ||
	    fcntl(in->fd, F_SETFL, in->saved_flags | O_NONBLOCK) < 0) {
		snprintf(err, err_size, "standard input: %s", strerror(errno));
		free(in);
		return NULL;
	}
	if ((in->lr = line_reader_new(in->fd, max)) == NULL) {
		snprintf(err, err_size, "out of memory");
		fcntl(in->fd, F_SETFL, in->saved_flags);
		free(in);
		return NULL;
	}
	return in;
}

static size_t stdin_fds(struct input *in, int *fds, size_t max)
{
	if (max == 0 || in->eof)
		return 0;
	fds[0] = in->fd;
	return 1;
}

/* The next line into in->rec: 1, 0 at EOF, -1 (errno; EAGAIN = later). */
static int next_record(struct input *in)
{
	const char *line;
	size_t len;
	bool truncated;
	uint64_t offset;
	int rc;

	if (in->held) {
		in->held = false;
		return 1;
	}
	rc = line_reader_next(in->lr, &line, &len, &truncated, &offset);
	if (rc <= 0)
		return rc;
	in->rec = (struct input_record){
	    line,
	    len,
	    truncated,
	    {in->cfg->name, "<stdin>", ++in->line_no, offset}};
	in->st.n_records++;
	in->st.n_bytes += len + 1;
	in->st.n_truncated += truncated;
	return 1;
}

static int stdin_poll(struct input *in, input_emit_fn emit, void *arg,
		      size_t max_records, char *err, size_t err_size)
{
	int n = 0, rc = 0;

	while (!in->eof && (size_t)n < max_records &&
	       (rc = next_record(in)) > 0) {
		if (emit(arg, &in->rec) < 0) {
			in->held = true;
			break;
		}
		n++;
	}
	if (rc == 0)
		in->eof = true;
	if (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		in->st.n_errors++;
		snprintf(err, err_size, "standard input: %s", strerror(errno));
		return -1;
	}
	return n;
}

static void *stdin_position(struct input *in, size_t *len)
{
	*len = 0;
	return NULL;
}

static void stdin_stats(const struct input *in, struct input_stats *out)
{
	*out = in->st;
}

static void stdin_close(struct input *in)
{
	if (in == NULL)
		return;
	line_reader_free(in->lr);
	fcntl(in->fd, F_SETFL, in->saved_flags);
	free(in);
}

const struct input_ops input_stdin_ops = {
    .type = "stdin",
    .open = stdin_open,
    .fds = stdin_fds,
    .poll = stdin_poll,
    .position = stdin_position,
    .stats = stdin_stats,
    .close = stdin_close,
};
