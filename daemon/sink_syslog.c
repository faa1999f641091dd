/*
 * sink_syslog: alerts to syslog through a bounded queue (contract in
 * sink_syslog.h).
 *
 * The queue is a ring of queue_max malloc'd lines, each with its priority;
 * push serializes (alert_to_json) and sanitizes, flush sends from the head.
 * A line leaves the ring only once sent (or refused for good, counted).
 */
#include "sink_syslog.h"

#include "siem_format.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

struct line {
	char *text;
	int pri;
	bool whole; /* an RFC 5424 message: no header of ours */
};

struct sink_syslog {
	struct sink_syslog_config cfg; /* ident, socket_path owned */
	struct line *ring;
	size_t head, n;
	int fd; /* socket_path mode: -1 until connected */
	struct sink_syslog_stats st;
	char hostname[256]; /* RFC 5424 HOSTNAME */
};

static const struct {
	const char *name;
	int value;
} facilities[] = {
    {"kern", LOG_KERN},	    {"user", LOG_USER},		{"mail", LOG_MAIL},
    {"daemon", LOG_DAEMON}, {"auth", LOG_AUTH},		{"syslog", LOG_SYSLOG},
    {"lpr", LOG_LPR},	    {"news", LOG_NEWS},		{"uucp", LOG_UUCP},
    {"cron", LOG_CRON},	    {"authpriv", LOG_AUTHPRIV}, {"ftp", LOG_FTP},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},	{"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},	{"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

static const char *const severities[] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

void sink_syslog_config_init(struct sink_syslog_config *c)
{
	static const int def[SINK_SYSLOG_N_LEVELS] = {
	    LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERR, LOG_CRIT};

	memset(c, 0, sizeof(*c));
	c->ident = "custosd";
	c->facility = LOG_AUTHPRIV;
	memcpy(c->priority, def, sizeof(def));
	c->queue_max = SINK_SYSLOG_QUEUE_MAX;
}

int sink_syslog_facility_parse(const char *name, int *out)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcmp(name, facilities[i].name) == 0) {
			*out = facilities[i].value;
			return 0;
		}
	return -1;
}

int sink_syslog_severity_parse(const char *name, int *out)
{
	for (int i = 0; i < 8; i++)
		if (strcmp(name, severities[i]) == 0 ||
		    (i == 3 && strcmp(name, "error") == 0) ||
		    (i == 4 && strcmp(name, "warn") == 0)) {
			*out = i;
			return 0;
		}
	return -1;
}

int sink_syslog_config_check(const struct sink_syslog_config *c, char *err,
			     size_t err_size)
{
	bool fac = false;

	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		fac |= c->facility == facilities[i].value;
	if (!fac) {
		snprintf(err, err_size, "invalid syslog facility %d",
			 c->facility);
		return -1;
	}
	for (int i = 0; i < SINK_SYSLOG_N_LEVELS; i++)
		if (c->priority[i] < LOG_EMERG || c->priority[i] > LOG_DEBUG) {
			snprintf(err, err_size,
				 "invalid syslog severity %d for level %s",
				 c->priority[i], rule_level_name(i));
			return -1;
		}
	if (c->format < SIEM_JSON || c->format > SIEM_LEEF) {
		snprintf(err, err_size, "invalid format %d", c->format);
		return -1;
	}
	if (c->queue_max == 0) {
		snprintf(err, err_size, "queue_max must be at least 1");
		return -1;
	}
	return 0;
}

struct sink_syslog *sink_syslog_new(const struct sink_syslog_config *cfg)
{
	char err[128];
	struct sink_syslog *s;

	if (sink_syslog_config_check(cfg, err, sizeof(err)) < 0 ||
	    (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->cfg = *cfg;
	s->fd = -1;
	s->cfg.ident = strdup(cfg->ident ? cfg->ident : "custosd");
	s->cfg.socket_path = cfg->socket_path ? strdup(cfg->socket_path) : NULL;
	s->ring = calloc(cfg->queue_max, sizeof(*s->ring));
	if (s->cfg.ident == NULL || s->ring == NULL ||
	    (cfg->socket_path && s->cfg.socket_path == NULL)) {
		sink_syslog_free(s);
		return NULL;
	}
	gethostname(s->hostname, sizeof(s->hostname) - 1);
	if (s->cfg.socket_path == NULL)
		openlog(s->cfg.ident, LOG_PID | LOG_NDELAY, s->cfg.facility);
	return s;
}

void sink_syslog_free(struct sink_syslog *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n && s->ring; i++)
		free(s->ring[(s->head + i) % s->cfg.queue_max].text);
	if (s->fd >= 0)
		close(s->fd);
	if (s->cfg.socket_path == NULL && s->ring != NULL)
		closelog();
	free(s->ring);
	free((char *)s->cfg.ident);
	free((char *)s->cfg.socket_path);
	free(s);
}

int sink_syslog_priority(const struct sink_syslog *s, enum rule_level level)
{
	if ((int)level < 0 || level >= SINK_SYSLOG_N_LEVELS)
		level = LEVEL_MEDIUM;
	return s->cfg.facility | s->cfg.priority[level];
}

/* The line for a in the configured format (malloc'd), or NULL. */
static char *format_line(const struct sink_syslog *s, const struct alert *a)
{
	struct siem_opts o;
	char err[128];

	if (s->cfg.format == SIEM_JSON)
		return alert_to_json(a);
	siem_opts_init(&o);
	o.format = s->cfg.format;
	o.hostname = s->hostname;
	o.app_name = s->cfg.ident;
	o.procid = (long)getpid();
	o.facility = s->cfg.facility >> 3;
	for (int i = 0; i < SINK_SYSLOG_N_LEVELS; i++)
		o.severity[i] = s->cfg.priority[i];
	return siem_format_alert(a, &o, err, sizeof(err));
}

int sink_syslog_push(struct sink_syslog *s, const struct alert *a)
{
	enum rule_level level = LEVEL_MEDIUM;

	if (s->n == s->cfg.queue_max) {
		s->st.n_dropped++;
		return -1;
	}
	char *text = format_line(s, a);
	if (text == NULL) {
		s->st.n_dropped++;
		return -1;
	}
	/* siem_format records hold no control character but LEEF's TAB
	 * delimiters; this is for the JSON of the default format */
	for (char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20 &&
		    !(*p == '\t' && s->cfg.format == SIEM_LEEF))
			*p = ' ';
	rule_level_parse(alert_level_name(a), &level);
	struct line *l = &s->ring[(s->head + s->n) % s->cfg.queue_max];
	l->text = text;
	l->pri = sink_syslog_priority(s, level);
	l->whole = s->cfg.format == SIEM_RFC5424 && s->cfg.socket_path;
	s->n++;
	s->st.n_queued = s->n;
	return 0;
}

static int sock_connect(struct sink_syslog *s)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	if (strlen(s->cfg.socket_path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, s->cfg.socket_path);
	s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -1;
	if (connect(s->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	return 0;
}

/* Sends one line on the socket: 1 sent (or refused for good), 0 retry
 * later. */
static int sock_send(struct sink_syslog *s, const struct line *l)
{
	char head[128], stamp[32];
	struct tm tm;
	time_t now = time(NULL);

	if (s->fd < 0 && sock_connect(s) < 0) {
		s->st.n_errors++;
		return 0;
	}
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %T", &tm);
	int hn = l->whole ? 0
			  : snprintf(head, sizeof(head),
				     "<%d>%s %.48s[%ld]: ", l->pri, stamp,
				     s->cfg.ident, (long)getpid());
	struct iovec iov[2] = {{head, (size_t)hn}, {l->text, strlen(l->text)}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	if (sendmsg(s->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return 1;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		return 0;
	s->st.n_errors++;
	if (errno == EMSGSIZE) {
		s->st.n_dropped++; /* can never go through this socket */
		return 1;
	}
	close(s->fd); /* the receiver went away: reconnect next time */
	s->fd = -1;
	return 0;
}

size_t sink_syslog_flush(struct sink_syslog *s, size_t max)
{
	size_t sent = 0;

	for (size_t done = 0; s->n > 0 && done < max; done++) {
		struct line *l = &s->ring[s->head];
		bool ok = true;
		if (s->cfg.socket_path == NULL) {
			syslog(l->pri, "%s", l->text);
		} else {
			uint64_t dropped = s->st.n_dropped;
			if (sock_send(s, l) == 0)
				break;
			ok = s->st.n_dropped == dropped;
		}
		if (ok) {
			s->st.n_sent++;
			sent++;
		}
		free(l->text);
		l->text = NULL;
		s->head = (s->head + 1) % s->cfg.queue_max;
		s->n--;
	}
	s->st.n_queued = s->n;
	return sent;
}

void sink_syslog_stats(const struct sink_syslog *s,
		       struct sink_syslog_stats *out)
{
	*out = s->st;
}

int sink_syslog_push_line(struct sink_syslog *s, int severity, const char *text)
{
	char *copy;

	if (s->n == s->cfg.queue_max || (copy = strdup(text)) == NULL) {
		s->st.n_dropped++;
		return -1;
	}
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	struct line *l = &s->ring[(s->head + s->n) % s->cfg.queue_max];
	l->text = copy;
	l->pri = s->cfg.facility | (severity & 7);
	l->whole = false; /* the slot may have held an RFC 5424 alert */
	s->n++;
	s->st.n_queued = s->n;
	return 0;
}
