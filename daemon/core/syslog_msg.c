/*
 * syslog_msg: RFC 5424 / RFC 3164 message parsing and RFC 6587 framing
 * (contracts in syslog_msg.h).
 *
 * The parsers walk the message once with an index; every field is a view
 * into the caller's bytes, nothing is allocated.  The framer is a byte-wise
 * state machine whose only memory is the frame buffer allocated by
 * syslog_framer_init() (max_bytes + 1: one spare byte holds a "\r" that may
 * precede the LF of a frame of exactly max_bytes).
 */
#include "syslog_msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_size > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_print(char c)
{
	return (unsigned char)c >= 33 && (unsigned char)c <= 126;
}

static struct syslog_str view(const char *p, size_t n)
{
	struct syslog_str s = {p, n};
	return s;
}

/* "<PRI>": sets m->pri/facility/severity; returns the index after '>'. */
static int parse_pri(const char *b, size_t len, struct syslog_msg *m, char *err,
		     size_t err_size)
{
	size_t i = 1;
	int v = 0;

	if (len == 0 || b[0] != '<')
		return fail(err, err_size,
			    "no PRI: message must start with '<'");
	while (i < len && i <= 3 && is_digit(b[i]))
		v = v * 10 + (b[i++] - '0');
	if (i == 1 || i >= len || b[i] != '>')
		return fail(err, err_size, "invalid PRI at column %zu", i + 1);
	if (v > 191)
		return fail(err, err_size, "PRI %d out of range (0..191)", v);
	m->pri = v;
	m->facility = v / 8;
	m->severity = v % 8;
	return (int)(i + 1);
}

/* n digits at s[*i] within [lo, hi]; advances *i. */
static bool digits(const char *s, size_t len, size_t *i, int n, int lo, int hi)
{
	int v = 0;

	if (*i + (size_t)n > len)
		return false;
	for (int k = 0; k < n; k++) {
		if (!is_digit(s[*i + k]))
			return false;
		v = v * 10 + (s[*i + k] - '0');
	}
	*i += (size_t)n;
	return v >= lo && v <= hi;
}

static bool lit(const char *s, size_t len, size_t *i, char c)
{
	if (*i >= len || s[*i] != c)
		return false;
	(*i)++;
	return true;
}

/* RFC 5424 TIMESTAMP (FULL-DATE "T" FULL-TIME), the whole of s. */
static bool valid_rfc3339(const char *s, size_t len)
{
	size_t i = 0;

	if (!digits(s, len, &i, 4, 0, 9999) || !lit(s, len, &i, '-') ||
	    !digits(s, len, &i, 2, 1, 12) || !lit(s, len, &i, '-') ||
	    !digits(s, len, &i, 2, 1, 31) || !lit(s, len, &i, 'T') ||
	    !digits(s, len, &i, 2, 0, 23) || !lit(s, len, &i, ':') ||
	    !digits(s, len, &i, 2, 0, 59) || !lit(s, len, &i, ':') ||
	    !digits(s, len, &i, 2, 0, 59))
		return false;
	if (lit(s, len, &i, '.')) {
		size_t start = i;
		while (i < len && is_digit(s[i]))
			i++;
		if (i == start || i - start > 6)
			return false;
	}
	if (lit(s, len, &i, 'Z'))
		return i == len;
	if (i >= len || (s[i] != '+' && s[i] != '-'))
		return false;
	i++;
	return digits(s, len, &i, 2, 0, 23) && lit(s, len, &i, ':') &&
	       digits(s, len, &i, 2, 0, 59) && i == len;
}

/* A header field of 1..max PRINTUSASCII followed by SP; "-" is NIL. */
static int header_field(const char *b, size_t len, size_t *i, size_t max,
			struct syslog_str *out, const char *what, char *err,
			size_t err_size)
{
	size_t start = *i;

	while (*i < len && is_print(b[*i]))
		(*i)++;
	size_t n = *i - start;
	if (n == 0 || n > max)
		return fail(err, err_size, "invalid %s at column %zu", what,
			    start + 1);
	if (*i >= len || b[*i] != ' ')
		return fail(err, err_size,
			    "expected space after %s at column %zu", what,
			    *i + 1);
	(*i)++;
	*out = (n == 1 && b[start] == '-') ? view(NULL, 0) : view(b + start, n);
	return 0;
}

static bool is_sd_name_char(char c)
{
	return is_print(c) && c != '=' && c != ']' && c != '"';
}

/* SD-NAME (1..32 chars); advances *i, returns its length or 0. */
static size_t sd_name(const char *b, size_t len, size_t *i)
{
	size_t start = *i;

	while (*i < len && is_sd_name_char(b[*i]) && *i - start < 33)
		(*i)++;
	return (*i - start > 32) ? 0 : *i - start;
}

/* A quoted PARAM-VALUE starting at the '"'; *i ends after the closing
 * quote.  A backslash always takes the next byte with it. */
static int sd_value(const char *b, size_t len, size_t *i)
{
	if (!lit(b, len, i, '"'))
		return -1;
	while (*i < len && b[*i] != '"')
		*i += (b[*i] == '\\' && *i + 1 < len) ? 2 : 1;
	return lit(b, len, i, '"') ? 0 : -1;
}

/* One SD-ELEMENT at b[*i] == '['. */
static int sd_element(const char *b, size_t len, size_t *i, char *err,
		      size_t err_size)
{
	(*i)++;
	if (sd_name(b, len, i) == 0)
		return fail(err, err_size, "invalid SD-ID at column %zu",
			    *i + 1);
	while (*i < len && b[*i] == ' ') {
		(*i)++;
		if (sd_name(b, len, i) == 0 || !lit(b, len, i, '='))
			return fail(err, err_size,
				    "invalid SD-PARAM name at column %zu",
				    *i + 1);
		if (sd_value(b, len, i) < 0)
			return fail(err, err_size,
				    "invalid SD-PARAM value at column %zu",
				    *i + 1);
	}
	if (!lit(b, len, i, ']'))
		return fail(err, err_size, "expected ']' at column %zu",
			    *i + 1);
	return 0;
}

static int parse_sd(const char *b, size_t len, size_t *i, struct syslog_msg *m,
		    char *err, size_t err_size)
{
	size_t start = *i;

	if (lit(b, len, i, '-')) {
		m->sd = view(NULL, 0);
		return 0;
	}
	if (*i >= len || b[*i] != '[')
		return fail(err, err_size,
			    "expected STRUCTURED-DATA at column %zu", *i + 1);
	while (*i < len && b[*i] == '[')
		if (sd_element(b, len, i, err, err_size) < 0)
			return -1;
	m->sd = view(b + start, *i - start);
	return 0;
}

static void set_msg(const char *b, size_t len, size_t i, struct syslog_msg *m)
{
	if (len - i >= 3 && memcmp(b + i, "\xef\xbb\xbf", 3) == 0) {
		m->bom = true;
		i += 3;
	}
	m->msg = view(b + i, len - i);
}

static int parse_5424_header(const char *b, size_t len, size_t *i,
			     struct syslog_msg *m, char *err, size_t err_size)
{
	size_t ts = *i;

	if (header_field(b, len, i, 64, &m->timestamp, "TIMESTAMP", err,
			 err_size) < 0)
		return -1;
	if (m->timestamp.ptr != NULL &&
	    !valid_rfc3339(m->timestamp.ptr, m->timestamp.len))
		return fail(err, err_size, "invalid TIMESTAMP at column %zu",
			    ts + 1);
	if (header_field(b, len, i, 255, &m->hostname, "HOSTNAME", err,
			 err_size) < 0 ||
	    header_field(b, len, i, 48, &m->app_name, "APP-NAME", err,
			 err_size) < 0 ||
	    header_field(b, len, i, 128, &m->procid, "PROCID", err, err_size) <
		0 ||
	    header_field(b, len, i, 32, &m->msgid, "MSGID", err, err_size) < 0)
		return -1;
	return 0;
}

int syslog_msg_parse_5424(const char *b, size_t len, struct syslog_msg *m,
			  char *err, size_t err_size)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	int p = parse_pri(b, len, m, err, err_size);
	if (p < 0)
		return -1;
	i = (size_t)p;
	m->format = SYSLOG_MSG_5424;
	if (i >= len || b[i] < '1' || b[i] > '9')
		return fail(err, err_size, "invalid VERSION at column %zu",
			    i + 1);
	m->version = 0;
	for (int k = 0; k < 3 && i < len && is_digit(b[i]); k++)
		m->version = m->version * 10 + (b[i++] - '0');
	if (!lit(b, len, &i, ' '))
		return fail(err, err_size, "expected space after VERSION");
	if (parse_5424_header(b, len, &i, m, err, err_size) < 0 ||
	    parse_sd(b, len, &i, m, err, err_size) < 0)
		return -1;
	if (i == len) {
		m->msg = view(b + len, 0);
		return 0;
	}
	if (!lit(b, len, &i, ' '))
		return fail(err, err_size,
			    "expected space before MSG at column %zu", i + 1);
	set_msg(b, len, i, m);
	return 0;
}

/* "Mmm dd hh:mm:ss" (day may be space-padded); the 15 bytes at b[i]. */
static bool valid_3164_time(const char *b, size_t len, size_t i)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	size_t k = i + 4;

	if (len - i < 15)
		return false;
	bool month = false;
	for (int mo = 0; mo < 12; mo++)
		month |= memcmp(b + i, months + mo * 3, 3) == 0;
	if (!month || b[i + 3] != ' ')
		return false;
	if (b[k] == ' ') {
		k++;
		if (!digits(b, len, &k, 1, 1, 9))
			return false;
	} else if (!digits(b, len, &k, 2, 1, 31)) {
		return false;
	}
	return lit(b, len, &k, ' ') && digits(b, len, &k, 2, 0, 23) &&
	       lit(b, len, &k, ':') && digits(b, len, &k, 2, 0, 59) &&
	       lit(b, len, &k, ':') && digits(b, len, &k, 2, 0, 60);
}

/* The 3164 TIMESTAMP at b[*i] (classic, or RFC 3339 as rsyslog forwards),
 * followed by SP; false when there is none. */
static bool parse_3164_time(const char *b, size_t len, size_t *i,
			    struct syslog_msg *m)
{
	size_t n = 0;

	if (valid_3164_time(b, len, *i)) {
		n = 15;
	} else {
		while (*i + n < len && b[*i + n] != ' ')
			n++;
		if (!valid_rfc3339(b + *i, n))
			return false;
	}
	if (*i + n >= len || b[*i + n] != ' ')
		return false;
	m->timestamp = view(b + *i, n);
	*i += n + 1;
	return true;
}

/* TAG[ "[" PID "]" ] ":" at b[*i]; on success *i is past ": ". */
static bool parse_3164_tag(const char *b, size_t len, size_t *i,
			   struct syslog_msg *m)
{
	size_t k = *i, pid = 0, pid_len = 0;

	while (k < len && k - *i <= 48 && is_print(b[k]) && b[k] != ':' &&
	       b[k] != '[')
		k++;
	size_t tag_len = k - *i;
	if (tag_len == 0 || tag_len > 48 || k >= len)
		return false;
	if (b[k] == '[') {
		pid = ++k;
		while (k < len && k - pid <= 128 && is_print(b[k]) &&
		       b[k] != ']')
			k++;
		if (k >= len || b[k] != ']' || k == pid || k - pid > 128)
			return false;
		pid_len = k++ - pid;
		if (k < len && b[k] != ':' && b[k] != ' ')
			return false;
	} else if (b[k] != ':') {
		return false;
	}
	m->app_name = view(b + *i, tag_len);
	m->procid = pid_len ? view(b + pid, pid_len) : view(NULL, 0);
	lit(b, len, &k, ':');
	lit(b, len, &k, ' ');
	*i = k;
	return true;
}

int syslog_msg_parse_3164(const char *b, size_t len, struct syslog_msg *m,
			  char *err, size_t err_size)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	int p = parse_pri(b, len, m, err, err_size);
	if (p < 0)
		return -1;
	i = (size_t)p;
	m->format = SYSLOG_MSG_3164;
	m->version = 0;
	if (!parse_3164_time(b, len, &i, m)) {
		set_msg(b, len, i, m);
		return 0;
	}
	/* A first word that is not itself a tag is the HOSTNAME. */
	size_t w = i;
	while (w < len && is_print(b[w]))
		w++;
	struct syslog_msg probe = *m;
	size_t t = i;
	if (!parse_3164_tag(b, len, &t, &probe) && w > i && w < len &&
	    b[w] == ' ') {
		m->hostname = view(b + i, w - i);
		i = w + 1;
	}
	parse_3164_tag(b, len, &i, m);
	set_msg(b, len, i, m);
	return 0;
}

int syslog_msg_parse(const char *b, size_t len, struct syslog_msg *m, char *err,
		     size_t err_size)
{
	memset(m, 0, sizeof(*m));
	int p = parse_pri(b, len, m, err, err_size);
	if (p < 0)
		return -1;
	size_t i = (size_t)p, k = i;
	while (k < len && k - i < 3 && is_digit(b[k]))
		k++;
	if (k > i && k < len && b[k] == ' ' && b[i] != '0')
		return syslog_msg_parse_5424(b, len, m, err, err_size);
	return syslog_msg_parse_3164(b, len, m, err, err_size);
}

/* ---- structured data walking ---- */

static size_t unescape_value(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t k = 0; k < n; k++) {
		if (s[k] == '\\' && k + 1 < n &&
		    (s[k + 1] == '"' || s[k + 1] == '\\' || s[k + 1] == ']'))
			k++;
		out[o++] = s[k];
	}
	out[o] = '\0';
	return o;
}

int syslog_sd_next(struct syslog_str sd, size_t *pos, struct syslog_sd_param *p,
		   char *value_buf, size_t value_buf_size)
{
	const char *b = sd.ptr;
	size_t i = *pos, len = sd.len;

	if (b == NULL || value_buf_size < len + 1)
		return b == NULL ? 0 : -1;
	while (i < len && b[i] == ']')
		i++; /* the end of the previous element */
	if (i >= len)
		return 0;
	p->name = view(NULL, 0);
	p->value = value_buf;
	p->value_len = 0;
	value_buf[0] = '\0';
	if (b[i] == '[') { /* a new element: its SD-ID */
		size_t start = ++i;
		if (sd_name(b, len, &i) == 0)
			return -1;
		p->id = view(b + start, i - start);
		if (i < len && b[i] == ']') {
			*pos = i + 1;
			return 1;
		}
	}
	if (!lit(b, len, &i, ' '))
		return -1;
	size_t start = i;
	if (sd_name(b, len, &i) == 0 || !lit(b, len, &i, '='))
		return -1;
	p->name = view(b + start, i - start - 1);
	size_t v = i + 1;
	if (sd_value(b, len, &i) < 0)
		return -1;
	p->value_len = unescape_value(b + v, i - 1 - v, value_buf);
	*pos = i;
	return 1;
}

/* ---- framing ---- */

enum {
	ST_START, /* before a frame (octet counting: before MSG-LEN) */
	ST_LEN,	  /* octet counting: in MSG-LEN */
	ST_BODY,  /* octet counting: in MSG */
	ST_LINE,  /* LF framing: in a line */
	ST_SKIP,  /* LF framing: skipping the rest of a too-long line */
	ST_RESYNC /* after an error: skipping to LF, then detect again */
};

int syslog_framer_init(struct syslog_framer *f, size_t max_bytes)
{
	memset(f, 0, sizeof(*f));
	f->max_bytes = max_bytes ? max_bytes : 1;
	f->buf = malloc(f->max_bytes + 1);
	return f->buf ? 0 : -1;
}

void syslog_framer_clear(struct syslog_framer *f)
{
	free(f->buf);
	f->buf = NULL;
}

static int frame_out(struct syslog_framer *f, struct syslog_frame *fr,
		     bool truncated)
{
	fr->data = f->buf;
	fr->len = f->len;
	fr->truncated = truncated;
	f->emitted = true;
	f->n_frames++;
	if (truncated)
		f->n_truncated++;
	return 1;
}

static int frame_error(struct syslog_framer *f, char *err, size_t err_size,
		       const char *why)
{
	f->n_errors++;
	f->state = ST_RESYNC;
	f->len = 0;
	return fail(err, err_size, "framing error: %s", why);
}

/* Octet counting, one byte c outside the body: 1 frame started, 0 go on,
 * -1 error. */
static int octet_len_byte(struct syslog_framer *f, char c, char *err,
			  size_t err_size)
{
	if (f->state == ST_START && (c == '\n' || c == '\r'))
		return 0; /* a trailer some senders add: tolerated */
	if (is_digit(c)) {
		if ((f->n_digits == 0 && c == '0') ||
		    f->n_digits == SYSLOG_FRAME_MAX_DIGITS)
			return frame_error(f, err, err_size, "invalid MSG-LEN");
		f->want = f->want * 10 + (size_t)(c - '0');
		f->n_digits++;
		f->state = ST_LEN;
		return 0;
	}
	if (c == ' ' && f->state == ST_LEN) {
		f->state = ST_BODY;
		f->len = 0;
		f->truncated = false;
		return 1;
	}
	return frame_error(f, err, err_size, "expected MSG-LEN digit");
}

/* Octet counting: copies body bytes; returns bytes consumed. */
static size_t octet_body(struct syslog_framer *f, const char *d, size_t n)
{
	size_t take = n < f->want ? n : f->want;
	size_t room = f->max_bytes - f->len;
	size_t copy = take < room ? take : room;

	memcpy(f->buf + f->len, d, copy);
	f->len += copy;
	if (copy < take)
		f->truncated = true;
	f->want -= take;
	return take;
}

/* LF framing, one byte: 1 frame complete, 0 go on. */
static int lf_byte(struct syslog_framer *f, char c, struct syslog_frame *fr)
{
	if (f->state == ST_SKIP) {
		if (c == '\n')
			f->state = ST_LINE;
		return 0;
	}
	if (c == '\n') {
		if (f->len > 0 && f->buf[f->len - 1] == '\r')
			f->len--;
		if (f->len == 0)
			return 0;
		return frame_out(f, fr, false);
	}
	if (f->len > f->max_bytes || (f->len == f->max_bytes && c != '\r')) {
		f->len = f->max_bytes;
		f->state = ST_SKIP;
		return frame_out(f, fr, true);
	}
	f->buf[f->len++] = c;
	return 0;
}

static void detect(struct syslog_framer *f, char c)
{
	if (c == '\n' || c == '\r')
		return;
	f->framing = is_digit(c) ? SYSLOG_FRAMING_OCTET : SYSLOG_FRAMING_LF;
	f->state = is_digit(c) ? ST_START : ST_LINE;
	f->want = 0;
	f->n_digits = 0;
}

/* One step over d[*i]; 1 frame, 0 go on, -1 error. */
static int step(struct syslog_framer *f, const char *d, size_t n, size_t *i,
		struct syslog_frame *fr, char *err, size_t err_size)
{
	char c = d[*i];

	if (f->state == ST_RESYNC) {
		(*i)++;
		if (c == '\n') {
			f->framing = SYSLOG_FRAMING_DETECT;
			f->state = ST_START;
		}
		return 0;
	}
	if (f->framing == SYSLOG_FRAMING_DETECT) {
		detect(f, c);
		if (f->framing == SYSLOG_FRAMING_DETECT) {
			(*i)++;
			return 0;
		}
	}
	if (f->framing == SYSLOG_FRAMING_LF) {
		(*i)++;
		return lf_byte(f, c, fr);
	}
	if (f->state == ST_BODY) {
		*i += octet_body(f, d + *i, n - *i);
		if (f->want > 0)
			return 0;
		f->state = ST_START;
		f->n_digits = 0;
		return frame_out(f, fr, f->truncated);
	}
	(*i)++;
	int rc = octet_len_byte(f, c, err, err_size);
	if (rc < 0 && c == '\n') { /* already at the LF */
		f->framing = SYSLOG_FRAMING_DETECT;
		f->state = ST_START;
	}
	return rc < 0 ? -1 : 0;
}

int syslog_framer_next(struct syslog_framer *f, const char *data, size_t len,
		       size_t *used, struct syslog_frame *fr, char *err,
		       size_t err_size)
{
	size_t i = 0;

	if (f->emitted) {
		f->emitted = false;
		f->len = 0;
	}
	while (i < len) {
		int rc = step(f, data, len, &i, fr, err, err_size);
		if (rc != 0) {
			*used = i;
			return rc;
		}
	}
	*used = i;
	return 0;
}

int syslog_framer_finish(struct syslog_framer *f, struct syslog_frame *fr,
			 char *err, size_t err_size)
{
	int rc = 0;

	if (f->emitted) {
		f->emitted = false;
		f->len = 0;
	}
	if (f->framing == SYSLOG_FRAMING_LF && f->state == ST_LINE &&
	    f->len > 0) {
		if (f->buf[f->len - 1] == '\r')
			f->len--;
		if (f->len > 0)
			rc = frame_out(f, fr, false);
	} else if (f->framing == SYSLOG_FRAMING_OCTET &&
		   (f->state == ST_BODY || f->state == ST_LEN)) {
		f->n_errors++;
		rc = fail(err, err_size, "stream ended inside a frame");
	}
	f->framing = SYSLOG_FRAMING_DETECT;
	f->state = ST_START;
	f->want = 0;
	f->n_digits = 0;
	if (rc != 1)
		f->len = 0;
	return rc;
}
