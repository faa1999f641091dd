/*
 * log: stderr/syslog logging for custosd (see log.h).  State is the
 * process-wide destination and verbosity, set once by log_init() before
 * serving (and again by the daemon after reading its config).
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static bool log_to_stderr = true;
static bool log_verbose;

void log_init(bool to_stderr, bool verbose, int facility)
{
	log_to_stderr = to_stderr;
	log_verbose = verbose;
	if (!to_stderr)
		openlog("custosd", LOG_PID | LOG_NDELAY, facility);
}

void log_setverbose(bool verbose)
{
	log_verbose = verbose;
}

__attribute__((format(printf, 2, 0))) static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_to_stderr) {
		fprintf(stderr, "custosd: %s%s%s\n", msg, suffix ? ": " : "",
			suffix ? suffix : "");
		fflush(stderr);
	} else if (suffix) {
		syslog(pri, "%s: %s", msg, suffix);
	} else {
		syslog(pri, "%s", msg);
	}
}

void log_warn(const char *fmt, ...)
{
	char err[128];
	va_list ap;

	snprintf(err, sizeof(err), "%s", strerror(errno));
	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap, err);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void log_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_NOTICE, fmt, ap, NULL);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	char err[128];
	va_list ap;

	snprintf(err, sizeof(err), "%s", strerror(errno));
	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, err);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

size_t log_escape(char *out, size_t size, const char *data, size_t len)
{
	size_t o = 0, i;

	for (i = 0; i < len && i < LOG_ESCAPE_MAX; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c >= 0x20 && c <= 0x7e && c != '\\') {
			if (o + 2 > size - 4)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 5 > size - 4)
				break;
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		}
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return o;
}

bool log_bad_input(struct log_limiter *l, int64_t now_ms, const char *input,
		   uint64_t line, uint64_t offset, const char *why,
		   const char *data, size_t len)
{
	char shown[LOG_ESCAPE_MAX * 4 + 8];

	l->n_total++;
	if (now_ms - l->window_start_ms >= LOG_BAD_INPUT_WINDOW_MS ||
	    l->window_start_ms == 0) {
		if (l->n_suppressed)
			log_warnx("input %s: %llu more bad records not logged",
				  input, (unsigned long long)l->n_suppressed);
		l->window_start_ms = now_ms ? now_ms : 1;
		l->n_logged = 0;
		l->n_suppressed = 0;
	}
	if (l->n_logged >= LOG_BAD_INPUT_BURST) {
		l->n_suppressed++;
		return false;
	}
	l->n_logged++;
	log_escape(shown, sizeof(shown), data, len);
	log_warnx("input %s line %llu offset %llu: %s: %s", input,
		  (unsigned long long)line, (unsigned long long)offset, why,
		  shown);
	return true;
}
