/*
 * control: the control socket (see control.h).
 */
#include "control.h"

#include "log.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct control {
	int fd;
	char *path;
	gid_t group_gid;
	control_status_fn status;
	void *arg;
	struct control_stats st;
};

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/* Removes a socket file nobody listens on; -1 (EADDRINUSE) if live. */
static int remove_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	if (live) {
		errno = EADDRINUSE;
		return -1;
	}
	return unlink(path);
}

struct control *control_open(const char *path, gid_t group_gid,
			     control_status_fn fn, void *arg, char *err,
			     size_t err_size)
{
	struct control *c = calloc(1, sizeof(*c));
	struct sockaddr_un sa;

	if (c == NULL || (c->path = strdup(path)) == NULL)
		goto fail;
	c->fd = -1;
	c->group_gid = group_gid;
	c->status = fn;
	c->arg = arg;
	if (fill_addr(&sa, path) < 0 || remove_stale(path, &sa) < 0)
		goto fail;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		goto fail;
	mode_t old = umask(0117); /* srw-rw---- from the start */
	int rc = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(path, 0660) < 0 || listen(c->fd, 16) < 0)
		goto fail;
	/* the socket's group is the one allowed to connect: analysts in
	 * control_group reach it through the file mode, then SO_PEERCRED */
	if (group_gid != (gid_t)-1 && chown(path, (uid_t)-1, group_gid) < 0)
		goto fail;
	return c;
fail:
	snprintf(err, err_size, "%s: %s", path, strerror(errno));
	if (c && c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (c)
		free(c->path);
	free(c);
	return NULL;
}

void control_close(struct control *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	unlink(c->path);
	free(c->path);
	free(c);
}

int control_fd(const struct control *c)
{
	return c->fd;
}

const char *control_path(const struct control *c)
{
	return c->path;
}

void control_get_stats(const struct control *c, struct control_stats *out)
{
	*out = c->st;
}

static bool user_in_group(uid_t uid, gid_t gid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t groups[256];
	int n = 256;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

bool control_peer_allowed(uid_t uid, gid_t gid, uid_t self_uid, gid_t group_gid)
{
	if (uid == 0 || uid == self_uid)
		return true;
	if (group_gid == (gid_t)-1)
		return false;
	return gid == group_gid || user_in_group(uid, group_gid);
}

/* Reads one request line into buf; -1 on timeout, error or overlong. */
static int read_request(int fd, char *buf, size_t size)
{
	struct timeval tv = {0, CONTROL_READ_TIMEOUT_MS * 1000};
	size_t len = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len) != NULL)
			break;
	}
	buf[len] = '\0';
	char *nl = strchr(buf, '\n');
	if (nl == NULL)
		return len ? 0 : -1; /* EOF after a request without newline */
	*nl = '\0';
	return 0;
}

static void write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static void serve(struct control *c, int fd)
{
	char req[CONTROL_MAX_REQUEST];
	char *answer = NULL;

	if (read_request(fd, req, sizeof(req)) < 0) {
		c->st.n_bad++;
		return;
	}
	if (strcmp(req, "status") == 0 && (answer = c->status(c->arg))) {
		c->st.n_served++;
		write_all(fd, answer, strlen(answer));
		write_all(fd, "\n", 1);
		free(answer);
		return;
	}
	c->st.n_bad++;
	const char *e = "{\"error\":\"unknown request (try: status)\"}\n";
	write_all(fd, e, strlen(e));
}

void control_accept(struct control *c)
{
	struct ucred cred = {0, (uid_t)-1, (gid_t)-1};
	socklen_t len = sizeof(cred);
	int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("control socket: accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    !control_peer_allowed(cred.uid, cred.gid, geteuid(),
				  c->group_gid)) {
		c->st.n_refused++;
		log_warnx(
		    "control socket: refused peer uid %ld gid %ld pid %ld",
		    (long)cred.uid, (long)cred.gid, (long)cred.pid);
		close(fd);
		return;
	}
	serve(c, fd);
	close(fd);
}
