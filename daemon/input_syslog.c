/*
 * input_syslog: UDP/TCP syslog listener (contract in input_syslog.h).
 *
 * Every socket is non-blocking; poll() drains what is readable, at most
 * max_records records per call.  A record refused by the emit callback
 * stays pending (the UDP datagram in udp_buf, the TCP frame in its
 * connection's framer) and is offered first on the next poll, so nothing
 * already received is lost to back-pressure.  Connections live in a fixed
 * array of max_conns slots; closing one moves the last into its place.
 * Clock: CLOCK_MONOTONIC, for idle timeouts only.
 */
#include "input_syslog.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "syslog_msg.h"

#define READ_BYTES 16384
#define ACCEPTS_PER_POLL 64
#define PEER_SIZE 64

struct conn {
	int fd;
	char peer[PEER_SIZE];
	struct syslog_framer fr;
	char *rbuf;
	size_t r_off, r_len;
	bool pending; /* frame refused by emit, offered again */
	bool eof;
	struct syslog_frame frame;
	int64_t last_ms;
};

struct input {
	char *name;
	int protocol;
	int lfds[INPUT_SYSLOG_MAX_LISTEN];
	uint32_t rxq_seen[INPUT_SYSLOG_MAX_LISTEN];
	size_t n_lfds;
	struct conn **conns;
	size_t n_conns, max_conns, next_conn;
	size_t max_msg_bytes;
	int64_t idle_ms;
	char *udp_buf; /* max_msg_bytes + 1 */
	size_t udp_len;
	bool udp_pending, udp_truncated;
	char udp_peer[PEER_SIZE];
	uint64_t seq;
	struct input_stats st;
	struct input_syslog_stats xs;
};

/* What a record handler tells its caller. */
enum { GO_ON = 0, STOP = 1 };

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void peer_name(const struct sockaddr *sa, socklen_t len,
		      const char *proto, char *out, size_t size)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(out, size, "%s:?", proto);
		return;
	}
	int n = strchr(host, ':') != NULL
		    ? snprintf(out, size, "%s:[%s]:%s", proto, host, serv)
		    : snprintf(out, size, "%s:%s:%s", proto, host, serv);
	if (n < 0 || (size_t)n >= size) /* cannot happen for numeric names */
		snprintf(out, size, "%s:?", proto);
}

/* Splits "host:port" / "[v6]:port" / "*:port" / ":port". */
static int split_listen(const char *addr, char *host, size_t host_size,
			const char **port)
{
	const char *colon = strrchr(addr, ':');
	const char *h = addr;
	size_t n;

	if (colon == NULL || colon[1] == '\0')
		return -1;
	n = (size_t)(colon - addr);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h++;
		n -= 2;
	}
	if (n >= host_size)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (strcmp(host, "*") == 0)
		host[0] = '\0';
	*port = colon + 1;
	return 0;
}

static int bind_one(struct input *in, const struct addrinfo *ai)
{
	int one = 1;
	int fd = socket(ai->ai_family,
			ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
#ifdef SO_RXQ_OVFL
	if (in->protocol == SYSLOG_UDP)
		setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
#endif
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    (in->protocol == SYSLOG_TCP && listen(fd, 128) < 0)) {
		close(fd);
		return -1;
	}
	in->lfds[in->n_lfds++] = fd;
	return 0;
}

static int open_listeners(struct input *in, const char *addr, char *err,
			  size_t err_size)
{
	struct addrinfo hints = {0}, *res, *ai;
	char host[256];
	const char *port;
	int rc, saved = 0;

	if (addr == NULL || split_listen(addr, host, sizeof(host), &port) < 0) {
		snprintf(err, err_size, "listen: expected host:port, got '%s'",
			 addr ? addr : "(none)");
		return -1;
	}
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype =
	    in->protocol == SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, err_size, "listen %s: %s", addr,
			 gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && in->n_lfds < INPUT_SYSLOG_MAX_LISTEN;
	     ai = ai->ai_next)
		if (bind_one(in, ai) < 0)
			saved = errno;
	freeaddrinfo(res);
	if (in->n_lfds == 0) {
		snprintf(err, err_size, "listen %s: %s", addr,
			 strerror(saved ? saved : EADDRNOTAVAIL));
		return -1;
	}
	return 0;
}

static void conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	syslog_framer_clear(&c->fr);
	free(c->rbuf);
	free(c);
}

static void conn_close(struct input *in, size_t i)
{
	conn_free(in->conns[i]);
	in->conns[i] = in->conns[--in->n_conns];
	in->xs.n_conns = in->n_conns;
}

static void syslog_close(struct input *in)
{
	if (in == NULL)
		return;
	for (size_t i = 0; i < in->n_lfds; i++)
		close(in->lfds[i]);
	while (in->n_conns > 0)
		conn_close(in, in->n_conns - 1);
	free(in->conns);
	free(in->udp_buf);
	free(in->name);
	free(in);
}

int input_syslog_set_limits(struct input *in,
			    const struct input_syslog_limits *l)
{
	if (l->max_msg_bytes > 0 && l->max_msg_bytes != in->max_msg_bytes) {
		char *b = realloc(in->udp_buf, l->max_msg_bytes + 1);
		if (b == NULL)
			return -1;
		in->udp_buf = b;
		in->max_msg_bytes = l->max_msg_bytes;
	}
	if (l->max_conns > 0 && l->max_conns != in->max_conns) {
		if (l->max_conns < in->n_conns)
			return -1;
		struct conn **c = realloc(in->conns, l->max_conns * sizeof(*c));
		if (c == NULL)
			return -1;
		in->conns = c;
		in->max_conns = l->max_conns;
	}
	if (l->idle_ms > 0)
		in->idle_ms = l->idle_ms;
	return 0;
}

static struct input *syslog_open(const struct config_input *cfg,
				 const void *position, size_t position_len,
				 char *err, size_t err_size)
{
	struct input *in = calloc(1, sizeof(*in));
	struct input_syslog_limits l = {INPUT_SYSLOG_MAX_MSG_BYTES,
					INPUT_SYSLOG_MAX_CONNS,
					INPUT_SYSLOG_IDLE_MS};

	if (in == NULL ||
	    (in->name = strdup(cfg->name ? cfg->name : "syslog")) == NULL ||
	    input_syslog_set_limits(in, &l) < 0) {
		snprintf(err, err_size, "out of memory");
		syslog_close(in);
		return NULL;
	}
	in->protocol = cfg->protocol;
	in->st.lag_bytes = -1;
	if (open_listeners(in, cfg->listen, err, err_size) < 0) {
		syslog_close(in);
		return NULL;
	}
	return in;
}

int input_syslog_port(const struct input *in)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (in->n_lfds == 0 ||
	    getsockname(in->lfds[0], (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static size_t syslog_fds(struct input *in, int *fds, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < in->n_lfds && n < max; i++)
		fds[n++] = in->lfds[i];
	for (size_t i = 0; i < in->n_conns && n < max; i++)
		fds[n++] = in->conns[i]->fd;
	return n;
}

/* Parses one syslog message and offers its MSG; GO_ON / STOP (refused). */
static int deliver(struct input *in, const char *data, size_t len,
		   bool truncated, const char *peer, input_emit_fn emit,
		   void *arg, int *n_emitted)
{
	struct syslog_msg m;
	char why[128];

	if (syslog_msg_parse(data, len, &m, why, sizeof(why)) < 0) {
		in->xs.n_parse_errors++;
		in->st.n_errors++;
		return GO_ON;
	}
	struct input_record rec = {
	    .data = m.msg.ptr,
	    .len = m.msg.len,
	    .truncated = truncated,
	    .source = {in->name, peer, 0, in->seq + 1},
	};
	if (emit(arg, &rec) < 0)
		return STOP;
	in->seq++;
	in->st.n_records++;
	if (truncated)
		in->st.n_truncated++;
	(*n_emitted)++;
	return GO_ON;
}

/* The kernel's count of datagrams dropped on socket k, from SO_RXQ_OVFL. */
static void note_rxq(struct input *in, size_t k, struct msghdr *mh)
{
#ifdef SO_RXQ_OVFL
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SO_RXQ_OVFL) {
			uint32_t v;
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			uint32_t d = v - in->rxq_seen[k];
			in->rxq_seen[k] = v;
			in->xs.n_rxq_dropped += d;
			in->st.n_dropped += d;
		}
#endif
}

/* Reads one datagram from socket k into udp_buf; 1, 0 (none), -1. */
static int udp_read(struct input *in, size_t k)
{
	struct sockaddr_storage ss;
	struct iovec iov = {in->udp_buf, in->max_msg_bytes};
	union { /* aligned for struct cmsghdr */
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = {.msg_name = &ss,
			    .msg_namelen = sizeof(ss),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	ssize_t n = recvmsg(in->lfds[k], &mh, MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		in->xs.n_recv_errors++;
		in->st.n_errors++;
		return -1;
	}
	note_rxq(in, k, &mh);
	in->st.n_bytes += (uint64_t)n;
	in->udp_truncated = (size_t)n > in->max_msg_bytes;
	in->udp_len = in->udp_truncated ? in->max_msg_bytes : (size_t)n;
	while (in->udp_len > 0 && (in->udp_buf[in->udp_len - 1] == '\n' ||
				   in->udp_buf[in->udp_len - 1] == '\r' ||
				   in->udp_buf[in->udp_len - 1] == '\0'))
		in->udp_len--;
	peer_name((struct sockaddr *)&ss, mh.msg_namelen, "udp", in->udp_peer,
		  sizeof(in->udp_peer));
	in->udp_pending = true;
	return 1;
}

static int poll_udp(struct input *in, input_emit_fn emit, void *arg, size_t max,
		    int *n)
{
	for (size_t k = 0; k < in->n_lfds; k++) {
		while ((size_t)*n < max) {
			if (!in->udp_pending && udp_read(in, k) <= 0)
				break;
			if (deliver(in, in->udp_buf, in->udp_len,
				    in->udp_truncated, in->udp_peer, emit, arg,
				    n) == STOP)
				return STOP;
			in->udp_pending = false;
		}
	}
	return GO_ON;
}

static struct conn *conn_new(struct input *in, int fd,
			     const struct sockaddr *sa, socklen_t len)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = fd;
	if ((c->rbuf = malloc(READ_BYTES)) == NULL ||
	    syslog_framer_init(&c->fr, in->max_msg_bytes) < 0) {
		c->fd = -1;
		conn_free(c);
		return NULL;
	}
	peer_name(sa, len, "tcp", c->peer, sizeof(c->peer));
	c->last_ms = now_ms();
	return c;
}

static void accept_all(struct input *in, int lfd)
{
	for (int k = 0; k < ACCEPTS_PER_POLL; k++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct conn *c = NULL;
		if (in->n_conns < in->max_conns)
			c = conn_new(in, fd, (struct sockaddr *)&ss, len);
		if (c == NULL) {
			close(fd);
			in->xs.n_refused++;
			in->st.n_errors++;
			continue;
		}
		in->conns[in->n_conns++] = c;
		in->xs.n_conns = in->n_conns;
		in->xs.n_accepted++;
	}
}

/* Next frame of c from its buffered bytes or the socket: 1 frame, 0 none
 * for now, -1 the connection is finished. */
static int conn_next_frame(struct input *in, struct conn *c)
{
	char why[128];

	for (;;) {
		if (c->r_off < c->r_len) {
			size_t used;
			int rc = syslog_framer_next(
			    &c->fr, c->rbuf + c->r_off, c->r_len - c->r_off,
			    &used, &c->frame, why, sizeof(why));
			c->r_off += used;
			if (rc < 0) {
				in->xs.n_frame_errors++;
				in->st.n_errors++;
			}
			if (rc == 1)
				return 1;
			continue;
		}
		if (c->eof) {
			int rc = syslog_framer_finish(&c->fr, &c->frame, why,
						      sizeof(why));
			if (rc < 0) {
				in->xs.n_frame_errors++;
				in->st.n_errors++;
			}
			return rc == 1 ? 1 : -1;
		}
		ssize_t n = read(c->fd, c->rbuf, READ_BYTES);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0) {
			in->xs.n_recv_errors++;
			in->st.n_errors++;
		}
		c->eof = n <= 0;
		c->r_off = 0;
		c->r_len = n > 0 ? (size_t)n : 0;
		in->st.n_bytes += c->r_len;
		c->last_ms = now_ms();
	}
}

/* Drains connection c; GO_ON, or STOP when emit refused or max reached.
 * Sets *closed when the connection ended. */
static int poll_conn(struct input *in, struct conn *c, input_emit_fn emit,
		     void *arg, size_t max, int *n, bool *closed)
{
	*closed = false;
	while ((size_t)*n < max) {
		if (!c->pending) {
			int rc = conn_next_frame(in, c);
			if (rc == 0)
				return GO_ON;
			if (rc < 0) {
				*closed = true;
				return GO_ON;
			}
			c->pending = true;
		}
		if (deliver(in, c->frame.data, c->frame.len, c->frame.truncated,
			    c->peer, emit, arg, n) == STOP)
			return STOP;
		c->pending = false;
	}
	return STOP;
}

static int poll_tcp(struct input *in, input_emit_fn emit, void *arg, size_t max,
		    int *n)
{
	int64_t now = now_ms();

	for (size_t k = 0; k < in->n_lfds; k++)
		accept_all(in, in->lfds[k]);
	size_t todo = in->n_conns;
	size_t i = in->n_conns ? in->next_conn % in->n_conns : 0;
	for (; todo > 0; todo--) {
		struct conn *c = in->conns[i];
		bool closed;
		int rc = poll_conn(in, c, emit, arg, max, n, &closed);
		if (rc == STOP) {
			in->next_conn = i; /* resume with it next time */
			return STOP;
		}
		if (!closed && !c->pending && now - c->last_ms >= in->idle_ms) {
			in->xs.n_idle_closed++;
			closed = true;
		}
		if (closed) {
			conn_close(in, i); /* the last one moved to i */
			if (i >= in->n_conns)
				i = 0;
		} else {
			i = (i + 1) % in->n_conns;
		}
	}
	in->next_conn = i;
	return GO_ON;
}

static int syslog_poll(struct input *in, input_emit_fn emit, void *arg,
		       size_t max_records, char *err, size_t err_size)
{
	int n = 0;

	if (max_records > (size_t)1 << 30)
		max_records = (size_t)1 << 30;
	if (in->protocol == SYSLOG_TCP)
		poll_tcp(in, emit, arg, max_records, &n);
	else
		poll_udp(in, emit, arg, max_records, &n);
	return n;
}

static void *syslog_position(struct input *in, size_t *len)
{
	*len = 0;
	return NULL;
}

static void syslog_stats(const struct input *in, struct input_stats *out)
{
	*out = in->st;
}

void input_syslog_counters(const struct input *in,
			   struct input_syslog_stats *out)
{
	*out = in->xs;
}

const struct input_ops input_syslog_ops = {
    .type = "syslog",
    .open = syslog_open,
    .fds = syslog_fds,
    .poll = syslog_poll,
    .position = syslog_position,
    .stats = syslog_stats,
    .close = syslog_close,
};
