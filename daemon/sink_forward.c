/*
 * sink_forward: alerts to a remote collector through an on-disk outbox
 * (contract in sink_forward.h).
 *
 * State: the outbox fd (append-only records "LEN SP MSG"), the committed
 * read offset, the record being sent (cur: read from the outbox at
 * read_off, cur_sent bytes of it written on this connection), and the
 * connection: DOWN -> CONNECTING (non-blocking connect) -> HANDSHAKE (TLS)
 * -> UP.  Any failure goes back to DOWN with a backoff; the record being
 * sent is sent again from its start on the next connection.
 */
#include "sink_forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* CONFIRM: TLS 1.3 handshake done, waiting for the collector's verdict on
 * us (a session ticket or an alert) before writing anything. */
enum conn_state { DOWN, CONNECTING, HANDSHAKE, CONFIRM, UP };

struct sink_forward {
	struct sink_forward_config cfg; /* strings owned */
	unsigned char *key;		/* pseudonymisation key, owned */
	char host[256], port[16];
	char *offset_path;
	int outbox_fd;
	uint64_t read_off, end_off;
	bool off_dirty;
	char *cur;			   /* the frame at read_off, or NULL */
	size_t cur_len, cur_msg, cur_sent; /* cur_msg: where MSG starts */
	int fd;
	enum conn_state state;
	SSL_CTX *ctx;
	SSL *ssl;
	bool ever_connected;
	int64_t next_try_ms, backoff_ms;
	int64_t confirm_until_ms; /* CONFIRM: UP without a verdict by then */
	bool ticket;		  /* a session ticket arrived (CONFIRM) */
	char why[640];		  /* the last failure */
	bool failing, why_new, recovered;
	struct sink_forward_stats st;
};

void sink_forward_config_init(struct sink_forward_config *c)
{
	memset(c, 0, sizeof(*c));
	siem_opts_init(&c->siem);
	c->transport = FORWARD_TCP;
	c->outbox_max = SINK_FORWARD_OUTBOX_MAX;
	c->backoff_min_ms = 500;
	c->backoff_max_ms = 60000;
}

int sink_forward_transport_parse(const char *name)
{
	static const char *const names[] = {"udp", "tcp", "tls"};

	for (int i = 0; i < 3; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

int sink_forward_parse_address(const char *address, char *host,
			       size_t host_size, char *port, size_t port_size)
{
	const char *colon = strrchr(address, ':');
	const char *h = address, *he = colon;

	if (colon == NULL || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    atoi(colon + 1) < 1 || atoi(colon + 1) > 65535)
		return -1;
	if (address[0] == '[') {
		if (colon == address || colon[-1] != ']')
			return -1;
		h = address + 1;
		he = colon - 1;
	}
	if (he <= h || (size_t)(he - h) >= host_size ||
	    strlen(colon + 1) >= port_size)
		return -1;
	snprintf(host, host_size, "%.*s", (int)(he - h), h);
	snprintf(port, port_size, "%s", colon + 1);
	return 0;
}

unsigned char *sink_forward_read_key(const char *path, size_t *len, char *err,
				     size_t err_size)
{
	unsigned char *k = malloc(SINK_FORWARD_KEY_MAX);
	FILE *f = fopen(path, "re");
	int e = errno;

	*len = f && k ? fread(k, 1, SINK_FORWARD_KEY_MAX, f) : 0;
	if (f == NULL)
		snprintf(err, err_size, "pseudonymize_key_file %s: %s", path,
			 strerror(e));
	else if (*len < SINK_FORWARD_KEY_MIN)
		snprintf(err, err_size,
			 "pseudonymize_key_file %s: %zu bytes, at least %d "
			 "needed",
			 path, *len, SINK_FORWARD_KEY_MIN);
	if (f)
		fclose(f);
	if (*len < SINK_FORWARD_KEY_MIN) {
		free(k);
		return NULL;
	}
	return k;
}

/* ---- outbox ---- */

static void commit_offset(struct sink_forward *s)
{
	char tmp[4096], buf[32];

	if (!s->off_dirty)
		return;
	if (s->read_off == s->end_off && s->read_off > 0 &&
	    ftruncate(s->outbox_fd, 0) == 0)
		s->read_off = s->end_off = 0; /* drained: start over */
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->offset_path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int n = snprintf(buf, sizeof(buf), "%llu\n",
			 (unsigned long long)s->read_off);
	if (fd < 0)
		return;
	bool ok = write(fd, buf, (size_t)n) == n;
	close(fd);
	if (ok && rename(tmp, s->offset_path) == 0)
		s->off_dirty = false;
}

/* Reads the frame header at off: *len = frame bytes, *msg = header
 * bytes.  0, or -1 when no whole frame is there. */
static int frame_at(int fd, uint64_t off, uint64_t end, size_t *len,
		    size_t *msg)
{
	char h[16];
	ssize_t n = pread(fd, h, sizeof(h) - 1, (off_t)off);

	if (n <= 0)
		return -1;
	h[n] = '\0';
	char *sp = memchr(h, ' ', (size_t)n);
	if (sp == NULL || sp == h)
		return -1;
	unsigned long long ml = strtoull(h, NULL, 10);
	*msg = (size_t)(sp - h) + 1;
	*len = *msg + (size_t)ml;
	if (ml == 0 || ml > SINK_FORWARD_MAX_RECORD || off + *len > end)
		return -1;
	return 0;
}

/* Opens the outbox, reads the offset, counts the records waiting. */
static int outbox_open(struct sink_forward *s, char *err, size_t err_size)
{
	struct stat sb;
	char buf[32] = "";
	size_t len, msg;

	s->outbox_fd = open(s->cfg.outbox_path,
			    O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (s->outbox_fd < 0 || fstat(s->outbox_fd, &sb) < 0) {
		snprintf(err, err_size, "outbox %s: %s", s->cfg.outbox_path,
			 strerror(errno));
		return -1;
	}
	s->end_off = (uint64_t)sb.st_size;
	int fd = open(s->offset_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	s->read_off = strtoull(buf, NULL, 10);
	if (s->read_off > s->end_off)
		s->read_off = s->end_off;
	uint64_t off = s->read_off;
	while (frame_at(s->outbox_fd, off, s->end_off, &len, &msg) == 0) {
		off += len;
		s->st.n_queued++;
	}
	if (off != s->end_off) { /* a torn last append: cut it off */
		if (ftruncate(s->outbox_fd, (off_t)off) == 0)
			s->end_off = off;
	}
	return 0;
}

int sink_forward_push(struct sink_forward *s, const struct alert *a)
{
	char err[128], head[24];

	if (s->st.n_queued >= s->cfg.outbox_max) {
		s->st.n_dropped++;
		return -1;
	}
	char *rec = siem_format_alert(a, &s->cfg.siem, err, sizeof(err));
	size_t len = rec ? strlen(rec) : 0;
	if (rec == NULL || len > SINK_FORWARD_MAX_RECORD ||
	    (s->cfg.transport == FORWARD_UDP && len > SINK_FORWARD_UDP_MAX)) {
		free(rec);
		s->st.n_dropped++;
		return -1;
	}
	int hn = snprintf(head, sizeof(head), "%zu ", len);
	struct iovec iov[2] = {{head, (size_t)hn}, {rec, len}};
	ssize_t n = writev(s->outbox_fd, iov, 2);
	free(rec);
	if (n != (ssize_t)(len + (size_t)hn)) {
		if (n > 0 && ftruncate(s->outbox_fd, (off_t)s->end_off) < 0)
			s->st.n_errors++;
		s->st.n_dropped++;
		return -1;
	}
	s->end_off += (uint64_t)n;
	s->st.n_queued++;
	return 0;
}

/* ---- connection ---- */

static void conn_close(struct sink_forward *s)
{
	if (s->ssl) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->state = DOWN;
	s->st.connected = false;
	s->cur_sent = 0;
}

/* Records why the connection failed: the OpenSSL reason when there is
 * one, else errno's. */
static void set_why(struct sink_forward *s, const char *what, int err)
{
	char why[sizeof(s->why)];
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	if (reason == NULL)
		reason = err ? strerror(err) : "connection closed";
	snprintf(why, sizeof(why), "%.40s %.255s:%.15s: %.200s", what, s->host,
		 s->port, reason);
	if (s->ssl && SSL_get_verify_result(s->ssl) != X509_V_OK)
		snprintf(why, sizeof(why),
			 "%.40s %.255s:%.15s: collector certificate: %.200s",
			 what, s->host, s->port,
			 X509_verify_cert_error_string(
			     SSL_get_verify_result(s->ssl)));
	if (!s->failing || strcmp(why, s->why) != 0)
		s->why_new = true;
	memcpy(s->why, why, sizeof(why));
	s->failing = true;
	ERR_clear_error();
}

static void conn_fail(struct sink_forward *s, int64_t now_ms)
{
	conn_close(s);
	s->st.n_errors++;
	s->next_try_ms = now_ms + s->backoff_ms;
	s->backoff_ms *= 2;
	if (s->backoff_ms > s->cfg.backoff_max_ms)
		s->backoff_ms = s->cfg.backoff_max_ms;
}

static void conn_up(struct sink_forward *s)
{
	s->state = UP;
	s->st.connected = true;
	if (s->ever_connected)
		s->st.n_reconnects++;
	s->ever_connected = true;
}

static int conn_start(struct sink_forward *s)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC}, *ai = NULL;

	hints.ai_socktype =
	    s->cfg.transport == FORWARD_UDP ? SOCK_DGRAM : SOCK_STREAM;
	if (getaddrinfo(s->host, s->port, &hints, &ai) != 0 || ai == NULL) {
		errno =
		    EHOSTUNREACH; /* no address: say so, not a stale errno */
		return -1;
	}
	s->fd = socket(ai->ai_family,
		       ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc = s->fd < 0 ? -1 : connect(s->fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc < 0 && (s->fd < 0 || errno != EINPROGRESS))
		return -1;
	if (rc == 0 && s->cfg.transport != FORWARD_TLS)
		conn_up(s);
	else
		s->state = CONNECTING;
	return 0;
}

static int tls_start(struct sink_forward *s)
{
	struct in6_addr a6;

	if ((s->ssl = SSL_new(s->ctx)) == NULL ||
	    SSL_set_fd(s->ssl, s->fd) != 1)
		return -1;
	SSL_set_app_data(s->ssl, s);
	SSL_set_mode(s->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
				 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	bool is_ip = inet_pton(AF_INET, s->host, &a6) == 1 ||
		     inet_pton(AF_INET6, s->host, &a6) == 1;
	X509_VERIFY_PARAM *vp = SSL_get0_param(s->ssl);
	if (is_ip)
		return X509_VERIFY_PARAM_set1_ip_asc(vp, s->host) == 1 ? 0 : -1;
	if (SSL_set_tlsext_host_name(s->ssl, s->host) != 1 ||
	    SSL_set1_host(s->ssl, s->host) != 1)
		return -1;
	return 0;
}

/* TLS 1.3 post-handshake: a session ticket from the collector means it
 * accepted us (a new-session callback; the session is not kept). */
static int on_ticket(SSL *ssl, SSL_SESSION *sess)
{
	struct sink_forward *s = SSL_get_app_data(ssl);

	(void)sess;
	if (s != NULL)
		s->ticket = true;
	return 0;
}

/* CONFIRM: reads what the collector sent after the handshake.  0 (UP or
 * still waiting), -1 refused. */
static int conn_confirm(struct sink_forward *s, int64_t now_ms)
{
	char c;

	ERR_clear_error();
	int r = SSL_read(s->ssl, &c, 1);
	int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, r);
	if (r <= 0 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		set_why(s, "TLS: refused by", errno);
		return -1;
	}
	if (r > 0 || s->ticket || now_ms >= s->confirm_until_ms)
		conn_up(s); /* a collector sends no data: r > 0 is odd, fine */
	return 0;
}

static int handshake(struct sink_forward *s, int64_t now_ms)
{
	ERR_clear_error();
	int r = SSL_connect(s->ssl);
	if (r == 1) {
		if (SSL_version(s->ssl) < TLS1_3_VERSION) {
			conn_up(s);
			return 0;
		}
		s->state = CONFIRM;
		s->ticket = false;
		s->confirm_until_ms = now_ms + SINK_FORWARD_CONFIRM_MS;
		return conn_confirm(s, now_ms);
	}
	int e = SSL_get_error(s->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	set_why(s, "TLS handshake with", errno);
	return -1;
}

/* Advances DOWN/CONNECTING/HANDSHAKE/CONFIRM; 0 on progress or waiting,
 * -1 on failure (why set). */
static int conn_step(struct sink_forward *s, int64_t now_ms)
{
	if (s->state == DOWN) {
		if (now_ms < s->next_try_ms)
			return 0;
		if (conn_start(s) == 0)
			return 0;
		set_why(s, "connect to", errno);
		return -1;
	}
	if (s->state == CONNECTING) {
		struct pollfd p = {.fd = s->fd, .events = POLLOUT};
		int e = 0;
		socklen_t el = sizeof(e);
		if (poll(&p, 1, 0) <= 0)
			return 0;
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) {
			set_why(s, "connect to", e ? e : errno);
			return -1;
		}
		if (s->cfg.transport != FORWARD_TLS) {
			conn_up(s);
			return 0;
		}
		if (tls_start(s) < 0) {
			set_why(s, "TLS setup for", 0);
			return -1;
		}
		s->state = HANDSHAKE;
	}
	if (s->state == HANDSHAKE)
		return handshake(s, now_ms);
	if (s->state == CONFIRM)
		return conn_confirm(s, now_ms);
	return 0;
}

/* ---- sending ---- */

/* Loads the frame at read_off into cur.  0, or -1 (nothing to send). */
static int load_cur(struct sink_forward *s)
{
	size_t len, msg;

	if (s->cur != NULL)
		return 0;
	if (s->read_off >= s->end_off ||
	    frame_at(s->outbox_fd, s->read_off, s->end_off, &len, &msg) < 0)
		return -1;
	if ((s->cur = malloc(len)) == NULL ||
	    pread(s->outbox_fd, s->cur, len, (off_t)s->read_off) !=
		(ssize_t)len) {
		free(s->cur);
		s->cur = NULL;
		return -1;
	}
	s->cur_len = len;
	s->cur_msg = msg;
	s->cur_sent = s->cfg.transport == FORWARD_UDP ? msg : 0;
	return 0;
}

/* True when a stream peer has closed (EOF or error pending). */
static bool peer_gone(struct sink_forward *s)
{
	char c;

	if (s->cfg.transport == FORWARD_UDP)
		return false;
	ssize_t n = recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Writes more of cur: >0 bytes written, 0 would block, -1 failure. */
static ssize_t write_some(struct sink_forward *s)
{
	const char *p = s->cur + s->cur_sent;
	size_t n = s->cur_len - s->cur_sent;

	if (s->ssl != NULL) {
		ERR_clear_error();
		int r =
		    SSL_write(s->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		if (r > 0)
			return r;
		int e = SSL_get_error(s->ssl, r);
		return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE
			   ? 0
			   : -1;
	}
	ssize_t w = send(s->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w >= 0)
		return w;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ? 0
									   : -1;
}

static void record_done(struct sink_forward *s)
{
	s->read_off += s->cur_len;
	s->off_dirty = true;
	free(s->cur);
	s->cur = NULL;
	s->st.n_queued--;
	s->st.n_sent++;
	s->backoff_ms = s->cfg.backoff_min_ms;
	if (s->failing) {
		s->failing = false;
		s->recovered = !s->why_new; /* the failure was reported */
		s->why_new = false;
	}
}

size_t sink_forward_flush(struct sink_forward *s, int64_t now_ms, size_t max)
{
	size_t sent = 0;

	if (s->st.n_queued == 0 && s->state == DOWN)
		goto out; /* connect only when there is something to send */
	if (conn_step(s, now_ms) < 0) {
		conn_fail(s, now_ms);
		goto out;
	}
	if (s->state != UP || peer_gone(s)) {
		if (s->state == UP) {
			set_why(s, "connection closed by", errno);
			conn_fail(s, now_ms);
		}
		goto out;
	}
	while (sent < max && load_cur(s) == 0) {
		ssize_t w = write_some(s);
		if (w < 0) {
			set_why(s, "write to", errno);
			conn_fail(s, now_ms);
			break;
		}
		if (w == 0)
			break;
		s->cur_sent += (size_t)w;
		if (s->cur_sent == s->cur_len) {
			record_done(s);
			sent++;
		}
	}
out:
	commit_offset(s);
	return sent;
}

/* ---- life ---- */

static int tls_ctx(struct sink_forward *s, char *err, size_t err_size)
{
	const struct sink_forward_config *c = &s->cfg;

	if ((s->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(s->ctx, SSL_SESS_CACHE_CLIENT |
						   SSL_SESS_CACHE_NO_INTERNAL);
	SSL_CTX_sess_set_new_cb(s->ctx, on_ticket);
	if ((c->ca_file
		 ? SSL_CTX_load_verify_locations(s->ctx, c->ca_file, NULL)
		 : SSL_CTX_set_default_verify_paths(s->ctx)) != 1)
		goto fail;
	if (c->cert_file &&
	    (SSL_CTX_use_certificate_chain_file(s->ctx, c->cert_file) != 1 ||
	     SSL_CTX_use_PrivateKey_file(
		 s->ctx, c->key_file ? c->key_file : c->cert_file,
		 SSL_FILETYPE_PEM) != 1))
		goto fail;
	return 0;
fail:
	snprintf(err, err_size, "TLS setup: %s",
		 ERR_reason_error_string(ERR_peek_last_error())
		     ? ERR_reason_error_string(ERR_peek_last_error())
		     : "failed");
	return -1;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct sink_forward *sink_forward_new(const struct sink_forward_config *c,
				      char *err, size_t err_size)
{
	struct sink_forward *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cfg = *c;
	s->fd = s->outbox_fd = -1;
	s->cfg.name = strdup(c->name ? c->name : "forward");
	s->cfg.address = dup_or_null(c->address);
	s->cfg.ca_file = dup_or_null(c->ca_file);
	s->cfg.cert_file = dup_or_null(c->cert_file);
	s->cfg.key_file = dup_or_null(c->key_file);
	s->cfg.outbox_path = dup_or_null(c->outbox_path);
	s->cfg.siem.syslog_header = true;
	s->cfg.siem.hostname = dup_or_null(c->siem.hostname);
	s->backoff_ms = c->backoff_min_ms > 0 ? c->backoff_min_ms : 500;
	if (c->siem.pseudo_key != NULL) {
		s->key = malloc(c->siem.pseudo_key_len + 1);
		if (s->key == NULL)
			goto fail;
		memcpy(s->key, c->siem.pseudo_key, c->siem.pseudo_key_len);
		s->cfg.siem.pseudo_key = s->key;
	}
	if (s->cfg.outbox_path == NULL || c->address == NULL ||
	    sink_forward_parse_address(c->address, s->host, sizeof(s->host),
				       s->port, sizeof(s->port)) < 0) {
		snprintf(err, err_size, "invalid address or no outbox");
		goto fail;
	}
	if (asprintf(&s->offset_path, "%s.offset", s->cfg.outbox_path) < 0) {
		s->offset_path = NULL;
		goto fail;
	}
	if (outbox_open(s, err, err_size) < 0 ||
	    (c->transport == FORWARD_TLS && tls_ctx(s, err, err_size) < 0))
		goto fail;
	return s;
fail:
	sink_forward_free(s);
	return NULL;
}

void sink_forward_free(struct sink_forward *s)
{
	if (s == NULL)
		return;
	conn_close(s);
	if (s->outbox_fd >= 0) {
		commit_offset(s);
		close(s->outbox_fd);
	}
	SSL_CTX_free(s->ctx);
	free(s->cur);
	free(s->key);
	free(s->offset_path);
	free((char *)s->cfg.name);
	free((char *)s->cfg.address);
	free((char *)s->cfg.ca_file);
	free((char *)s->cfg.cert_file);
	free((char *)s->cfg.key_file);
	free((char *)s->cfg.outbox_path);
	free((char *)s->cfg.siem.hostname);
	free(s);
}

void sink_forward_stats(const struct sink_forward *s,
			struct sink_forward_stats *out)
{
	*out = s->st;
	out->outbox_bytes = s->end_off;
}

const char *sink_forward_name(const struct sink_forward *s)
{
	return s->cfg.name;
}

const char *sink_forward_take_error(struct sink_forward *s)
{
	if (!s->why_new)
		return NULL;
	s->why_new = false;
	return s->why;
}

bool sink_forward_take_recovered(struct sink_forward *s)
{
	bool r = s->recovered;

	s->recovered = false;
	return r;
}
