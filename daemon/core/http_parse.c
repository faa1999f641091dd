/*
 * http_parse: HTTP/1.x exchange extraction (contract in http_parse.h).
 *
 * Each direction is a small state machine over a buffer of unparsed bytes
 * (buf[off..len)).  A message head is parsed only once it is complete
 * (its syntax is in http_head.c).  Bodies are streamed: their bytes are
 * consumed as they arrive, and only the first max_body_bytes of a request
 * body are copied.  Requests wait in a queue (at most max_pending) until
 * their response head arrives; the queue is released in order.
 *
 * Packet time of a message's first byte: every data call records a mark
 * (stream offset, ts, packet number) in a small ring; a message starting at
 * offset X takes the last mark at or before X.
 */
#include "http_parse.h"

#include "http_head.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define N_MARKS 16
#define MAX_CHUNK_LINE 1024

enum state {
	S_HEAD,	      /* waiting for a complete head */
	S_RESYNC,     /* looking for the next message start */
	S_BODY,	      /* `remaining` body bytes */
	S_CHUNK_SIZE, /* chunk-size line */
	S_CHUNK_DATA, /* `remaining` chunk bytes */
	S_CHUNK_END,  /* CRLF after chunk data */
	S_TRAILER,    /* trailer lines until an empty one */
	S_UNTIL_EOF,  /* response body delimited by the connection's end */
	S_DEAD,	      /* not HTTP any more (upgrade): ignore */
};

struct mark {
	uint64_t at;
	int64_t ts_us;
	uint64_t pkt_no;
};

struct msg {
	struct msg *next;
	struct http_request req;
	char *head; /* unfolded copy of the request head */
	struct http_header *hdrs;
	uint8_t *body;
	bool complete, answered;
	int status;
	char *resp_head;
	struct http_header *resp_hdrs;
	size_t n_resp;
};

struct hstream {
	uint8_t *buf;
	size_t off, len, cap;
	uint64_t base; /* stream offset of buf[off] */
	enum state state;
	uint64_t remaining;
	struct msg *cur; /* request (dir 0) whose body is being read */
	bool line_start; /* buf[off] starts a line (resync may match it) */
	struct mark marks[N_MARKS];
	unsigned n_marks;
};

struct http_conn {
	struct http_limits lim;
	struct http_stats *st;
	http_exchange_fn fn;
	void *arg;
	struct hstream s[2];
	struct msg *q_head, *q_tail;
	size_t n_q;
	bool finished;
};

static void msg_free(struct msg *m)
{
	if (m == NULL)
		return;
	free(m->head);
	free(m->hdrs);
	free(m->body);
	free(m->resp_head);
	free(m->resp_hdrs);
	free(m);
}

const struct http_header *http_header_find(const struct http_header *h,
					   size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(h[i].name, name) == 0)
			return &h[i];
	return NULL;
}
/* ---- stream buffer ---- */

static void consume(struct hstream *s, size_t n)
{
	s->off += n;
	s->base += n;
	if (s->off == s->len)
		s->off = s->len = 0;
}

static void drop_all(struct hstream *s)
{
	consume(s, s->len - s->off);
}

static int append(struct hstream *s, const uint8_t *data, size_t n)
{
	if (s->off > 0) {
		memmove(s->buf, s->buf + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < s->len + n)
			cap *= 2;
		uint8_t *b = realloc(s->buf, cap);
		if (b == NULL)
			return -1;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	return 0;
}

static void add_mark(struct hstream *s, uint64_t at, int64_t ts_us,
		     uint64_t pkt_no)
{
	if (s->n_marks == N_MARKS) {
		memmove(s->marks, s->marks + 1,
			(N_MARKS - 1) * sizeof(*s->marks));
		s->n_marks--;
	}
	s->marks[s->n_marks++] = (struct mark){at, ts_us, pkt_no};
}

static struct mark find_mark(const struct hstream *s, uint64_t at)
{
	struct mark m = s->n_marks ? s->marks[0] : (struct mark){0, 0, 0};

	for (unsigned i = 0; i < s->n_marks && s->marks[i].at <= at; i++)
		m = s->marks[i];
	return m;
}

/* ---- the request queue ---- */

static void emit(struct http_conn *c, struct msg *m)
{
	struct http_exchange x = {&m->req, m->status, m->resp_hdrs, m->n_resp};

	c->st->n_exchanges++;
	if (x.status == 0)
		c->st->n_unanswered++;
	c->fn(c->arg, &x);
}

/* Hands out, in order, the waiting requests that are done with. */
static void release(struct http_conn *c, bool all)
{
	struct msg *m;

	while ((m = c->q_head) != NULL &&
	       (all || (m->complete && m->answered))) {
		if (m == c->s[0].cur) {
			m->req.incomplete = true;
			c->s[0].cur = NULL;
		}
		c->q_head = m->next;
		if (c->q_head == NULL)
			c->q_tail = NULL;
		c->n_q--;
		emit(c, m);
		msg_free(m);
	}
}

static void enqueue(struct http_conn *c, struct msg *m)
{
	if (c->n_q >= c->lim.max_pending && c->q_head != NULL &&
	    c->q_head != c->s[0].cur) {
		struct msg *old = c->q_head;
		c->st->n_pending_limit++;
		c->q_head = old->next;
		c->n_q--;
		emit(c, old);
		msg_free(old);
		if (c->q_head == NULL)
			c->q_tail = NULL;
	}
	if (c->q_tail)
		c->q_tail->next = m;
	else
		c->q_head = m;
	c->q_tail = m;
	c->n_q++;
}

/* The first waiting request without a response. */
static struct msg *unanswered(struct http_conn *c)
{
	struct msg *m = c->q_head;

	while (m && m->answered)
		m = m->next;
	return m;
}

/* ---- message starts ---- */

static const char *const methods[] = {"GET",	 "HEAD",     "POST",	"PUT",
				      "DELETE",	 "PATCH",    "OPTIONS", "TRACE",
				      "CONNECT", "PROPFIND", "REPORT",	NULL};

/* Does p[0..n) start with a known method and a space?  -1: cannot tell
 * yet (too short). */
static int method_prefix(const uint8_t *p, size_t n)
{
	int maybe = 0;

	for (size_t i = 0; methods[i]; i++) {
		size_t l = strlen(methods[i]);
		size_t k = n < l + 1 ? n : l + 1;
		char want[16];
		memcpy(want, methods[i], l);
		want[l] = ' ';
		if (memcmp(p, want, k) != 0)
			continue;
		if (k == l + 1)
			return 1;
		maybe = -1;
	}
	return maybe;
}

/* Is there a plausible message start at p?  1 yes, 0 no, -1 need more. */
static int start_at(const uint8_t *p, size_t n, int dir)
{
	if (dir == 1) {
		size_t k = n < 7 ? n : 7;
		if (memcmp(p, "HTTP/1.", k) != 0)
			return 0;
		return k == 7 ? 1 : -1;
	}
	int m = method_prefix(p, n);
	if (m <= 0)
		return m;
	const uint8_t *nl = memchr(p, '\n', n < 8192 ? n : 8192);
	if (nl == NULL)
		return n < 8192 ? -1 : 0;
	size_t l = (size_t)(nl - p);
	char line[8192];
	memcpy(line, p, l);
	line[l] = '\0';
	if (l > 0 && line[l - 1] == '\r')
		line[l - 1] = '\0';
	struct http_head h = {0};
	return http_head_request_line(line, &h) == 0;
}

/* Looks for the next message start; true when parsing can resume. */
static bool step_resync(struct hstream *s, int dir, const uint8_t *p, size_t n)
{
	bool *line_start = &s->line_start;
	size_t i = 0;

	while (i < n) {
		if (*line_start || i > 0) {
			int r = start_at(p + i, n - i, dir);
			if (r != 0) {
				consume(s, i);
				*line_start = true;
				if (r > 0)
					s->state = S_HEAD;
				return r > 0;
			}
		}
		const uint8_t *nl = memchr(p + i, '\n', n - i);
		if (nl == NULL)
			break;
		i = (size_t)(nl - p) + 1;
		*line_start = true;
	}
	*line_start = i == n;
	consume(s, n);
	return false;
}

static void to_resync(struct http_conn *c, struct hstream *s, bool at_start)
{
	c->st->n_resyncs++;
	s->state = S_RESYNC;
	s->line_start = at_start;
}

/* ---- heads ---- */

/* Body framing from the headers: sets s->state / s->remaining.  -1 when
 * the framing is malformed. */
static int framing(struct hstream *s, const struct http_head *h)
{
	const struct http_header *te =
	    http_header_find(h->hdrs, h->n_hdrs, "Transfer-Encoding");
	const struct http_header *cl =
	    http_header_find(h->hdrs, h->n_hdrs, "Content-Length");

	if (te != NULL) {
		size_t l = te->value_len;
		if (l < 7 || strcasecmp(te->value + l - 7, "chunked") != 0)
			return -1; /* unknown length: cannot delimit */
		s->state = S_CHUNK_SIZE;
		return 0;
	}
	if (cl != NULL) {
		char *end;
		if (cl->value_len == 0 || cl->value_len > 15 ||
		    strspn(cl->value, "0123456789") != cl->value_len)
			return -1;
		s->remaining = strtoull(cl->value, &end, 10);
		s->state = s->remaining ? S_BODY : S_HEAD;
		return 0;
	}
	s->state = S_HEAD;
	return 1; /* no framing headers */
}

static int on_request_head(struct http_conn *c, struct http_head *h,
			   struct mark mk)
{
	struct hstream *s = &c->s[0];
	struct msg *m = calloc(1, sizeof(*m));

	if (m == NULL || framing(s, h) < 0) {
		c->st->n_nomem += m == NULL;
		free(m);
		return -1;
	}
	m->head = h->copy;
	m->hdrs = h->hdrs;
	m->req = (struct http_request){.method = h->method,
				       .uri = h->uri,
				       .version_minor = h->minor,
				       .headers = h->hdrs,
				       .n_headers = h->n_hdrs,
				       .ts_us = mk.ts_us,
				       .pkt_no = mk.pkt_no};
	memset(h, 0, sizeof(*h)); /* moved into m */
	c->st->n_requests++;
	enqueue(c, m);
	if (s->state == S_HEAD)
		m->complete = true;
	else
		s->cur = m;
	release(c, false);
	return 0;
}

static void kill_conn(struct http_conn *c)
{
	c->st->n_upgrades++;
	c->s[0].state = c->s[1].state = S_DEAD;
	drop_all(&c->s[0]);
	drop_all(&c->s[1]);
}

static int on_response_head(struct http_conn *c, struct http_head *h)
{
	struct hstream *s = &c->s[1];
	int status = h->status;

	c->st->n_responses++;
	if (status >= 100 && status < 200 && status != 101) {
		http_head_clear(h); /* interim */
		return 0;
	}
	struct msg *m = unanswered(c);
	bool head_req = m && strcmp(m->req.method, "HEAD") == 0;
	bool tunnel = status == 101 || (m && status / 100 == 2 &&
					strcmp(m->req.method, "CONNECT") == 0);
	bool no_body = head_req || status == 204 || status == 304;
	int rc = no_body ? 1 : framing(s, h);
	if (m == NULL) {
		c->st->n_unpaired++;
	} else {
		m->answered = true;
		m->status = status;
		m->resp_head = h->copy;
		m->resp_hdrs = h->hdrs;
		m->n_resp = h->n_hdrs;
		h->copy = NULL;
		h->hdrs = NULL;
	}
	http_head_clear(h);
	if (rc != 0)
		s->state = rc < 0 || no_body ? S_HEAD : S_UNTIL_EOF;
	if (tunnel)
		kill_conn(c);
	release(c, false);
	return 0;
}

/* Skips empty lines before a head (allowed between messages). */
static size_t leading_newlines(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

static bool step_head(struct http_conn *c, int dir, const uint8_t *p, size_t n)
{
	struct hstream *s = &c->s[dir];
	size_t skip = leading_newlines(p, n);

	if (skip) {
		consume(s, skip);
		return true;
	}
	int start = start_at(p, n, dir);
	size_t end = http_head_end(p, n);
	if (start == 0 || (end == 0 && n > c->lim.max_header_bytes) ||
	    end > c->lim.max_header_bytes) {
		if (start == 0)
			dir ? c->st->n_bad_responses++
			    : c->st->n_bad_requests++;
		else
			c->st->n_header_limit++;
		to_resync(c, s, false);
		return true;
	}
	if (end == 0)
		return false;
	struct http_head h;
	struct mark mk = find_mark(s, s->base);
	uint64_t nomem = c->st->n_nomem;
	if (http_head_parse(p, end, dir == 0, &h, c->st) < 0 ||
	    (dir == 0 ? on_request_head(c, &h, mk) : on_response_head(c, &h)) <
		0) {
		http_head_clear(&h);
		if (c->st->n_nomem == nomem) /* not counted as out of memory */
			dir ? c->st->n_bad_responses++
			    : c->st->n_bad_requests++;
		to_resync(c, s, false);
		return true;
	}
	if (s->state != S_DEAD)
		consume(s, end);
	return true;
}

/* ---- bodies ---- */

static void keep_body(struct http_conn *c, struct msg *m, const uint8_t *p,
		      size_t n)
{
	size_t room = c->lim.max_body_bytes - m->req.body_len;

	if (n > room) {
		if (!m->req.body_truncated)
			c->st->n_body_truncated++;
		m->req.body_truncated = true;
		n = room;
	}
	if (n == 0)
		return;
	if (m->body == NULL &&
	    (m->body = malloc(c->lim.max_body_bytes)) == NULL) {
		c->st->n_nomem++;
		m->req.body_truncated = true;
		return;
	}
	memcpy(m->body + m->req.body_len, p, n);
	m->req.body_len += n;
	m->req.body = m->body;
}

static void message_done(struct http_conn *c, int dir)
{
	struct hstream *s = &c->s[dir];

	s->state = S_HEAD;
	if (dir == 0 && s->cur) {
		s->cur->complete = true;
		s->cur = NULL;
		release(c, false);
	}
}

static bool step_data(struct http_conn *c, int dir, const uint8_t *p, size_t n)
{
	struct hstream *s = &c->s[dir];
	size_t k = n < s->remaining ? n : (size_t)s->remaining;

	if (dir == 0 && s->cur)
		keep_body(c, s->cur, p, k);
	consume(s, k);
	s->remaining -= k;
	if (s->remaining == 0) {
		if (s->state == S_CHUNK_DATA)
			s->state = S_CHUNK_END;
		else
			message_done(c, dir);
	}
	return true;
}

/* One line of a chunked body (size line, chunk end, trailer). */
static bool step_chunk_line(struct http_conn *c, int dir, const uint8_t *p,
			    size_t n)
{
	struct hstream *s = &c->s[dir];
	const uint8_t *nl = memchr(p, '\n', n);

	if (nl == NULL) {
		if (n > MAX_CHUNK_LINE)
			goto bad;
		return false;
	}
	size_t l = (size_t)(nl - p);
	size_t content = l > 0 && p[l - 1] == '\r' ? l - 1 : l;
	if (s->state == S_CHUNK_END) {
		if (content != 0)
			goto bad;
		s->state = S_CHUNK_SIZE;
	} else if (s->state == S_TRAILER) {
		if (content == 0)
			message_done(c, dir);
	} else {
		uint64_t size = 0;
		size_t i = 0;
		for (; i < content && isxdigit(p[i]) && i < 15; i++)
			size = size * 16 +
			       (uint64_t)(isdigit(p[i])
					      ? p[i] - '0'
					      : (p[i] | 0x20) - 'a' + 10);
		if (i == 0 ||
		    (i < content && p[i] != ';' && p[i] != ' ' && p[i] != '\t'))
			goto bad;
		s->remaining = size;
		s->state = size ? S_CHUNK_DATA : S_TRAILER;
	}
	consume(s, l + 1);
	return true;
bad:
	dir ? c->st->n_bad_responses++ : c->st->n_bad_requests++;
	if (dir == 0 && s->cur) {
		s->cur->req.incomplete = true;
		message_done(c, 0);
	}
	to_resync(c, s, false);
	return true;
}

static void process(struct http_conn *c, int dir)
{
	struct hstream *s = &c->s[dir];
	bool more = true;

	while (more && s->off < s->len) {
		const uint8_t *p = s->buf + s->off;
		size_t n = s->len - s->off;
		switch (s->state) {
		case S_HEAD:
			more = step_head(c, dir, p, n);
			break;
		case S_RESYNC:
			more = step_resync(s, dir, p, n);
			break;
		case S_BODY:
		case S_CHUNK_DATA:
			more = step_data(c, dir, p, n);
			break;
		case S_CHUNK_SIZE:
		case S_CHUNK_END:
		case S_TRAILER:
			more = step_chunk_line(c, dir, p, n);
			break;
		case S_UNTIL_EOF:
		case S_DEAD:
			drop_all(s);
			more = false;
			break;
		}
	}
}

/* ---- public ---- */

struct http_conn *http_conn_new(const struct http_limits *lim,
				struct http_stats *stats, http_exchange_fn fn,
				void *arg)
{
	struct http_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->lim = *lim;
	if (c->lim.max_pending == 0)
		c->lim.max_pending = 1;
	c->st = stats;
	c->fn = fn;
	c->arg = arg;
	c->s[0].line_start = c->s[1].line_start = true;
	return c;
}

void http_conn_data(struct http_conn *c, int dir, const uint8_t *data,
		    size_t len, int64_t ts_us, uint64_t pkt_no)
{
	struct hstream *s;

	if (c->finished || len == 0 || (dir != 0 && dir != 1))
		return;
	s = &c->s[dir];
	if (s->state == S_DEAD || s->state == S_UNTIL_EOF)
		return;
	add_mark(s, s->base + (s->len - s->off), ts_us, pkt_no);
	if (append(s, data, len) < 0) {
		c->st->n_nomem++;
		drop_all(s);
		to_resync(c, s, false);
		return;
	}
	process(c, dir);
}

void http_conn_gap(struct http_conn *c, int dir)
{
	struct hstream *s;

	if (c->finished || (dir != 0 && dir != 1))
		return;
	s = &c->s[dir];
	if (s->state == S_DEAD)
		return;
	drop_all(s);
	if (dir == 0 && s->cur) {
		s->cur->req.incomplete = true;
		message_done(c, 0);
	}
	if (dir == 1) { /* responses lost: stop waiting for them */
		for (struct msg *m = c->q_head; m; m = m->next)
			m->answered = true;
		release(c, false);
	}
	to_resync(c, s, true);
}

void http_conn_finish(struct http_conn *c)
{
	if (c->finished)
		return;
	c->finished = true;
	if (c->s[0].cur && c->s[0].state != S_HEAD)
		c->s[0].cur->req.incomplete = true;
	release(c, true);
}

void http_conn_free(struct http_conn *c)
{
	if (c == NULL)
		return;
	while (c->q_head) {
		struct msg *m = c->q_head;
		c->q_head = m->next;
		msg_free(m);
	}
	free(c->s[0].buf);
	free(c->s[1].buf);
	free(c);
}
