/*
 * log: the daemon's log, OpenBSD style (OpenSMTPD log.c): log_warn appends
 * strerror(errno), log_warnx does not; log_info and log_debug (the latter
 * only when verbose); fatal/fatalx log and exit(1).  Messages go to stderr
 * (foreground, or under systemd whose journal reads stderr) or to
 * syslog(3) with the "custosd" ident.
 *
 * Bad input is never fatal: log_bad_input() counts every bad record and
 * logs at most LOG_BAD_INPUT_BURST of them per LOG_BAD_INPUT_WINDOW_MS per
 * limiter, with the untrusted bytes escaped (log_escape) so a hostile log
 * line cannot forge log entries or terminal escapes.  Clock: the caller
 * passes now_ms (CLOCK_MONOTONIC) so the limiter is testable.
 */
#ifndef CUSTOS_LOG_H
#define CUSTOS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_BAD_INPUT_BURST 10
#define LOG_BAD_INPUT_WINDOW_MS 10000
#define LOG_ESCAPE_MAX 120 /* untrusted bytes shown per line */

/* to_stderr: log to stderr (else syslog with facility); verbose: log
 * debug messages too. */
void log_init(bool to_stderr, bool verbose, int facility);
void log_setverbose(bool verbose);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* At LOG_NOTICE: lines meant for an outside witness (chain seals). */
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn, format(printf, 1, 2))) void fatal(const char *fmt,
							   ...);
__attribute__((noreturn, format(printf, 1, 2))) void fatalx(const char *fmt,
							    ...);

/* Writes data (len bytes) into out (size >= 8) as printable ASCII: bytes
 * outside 0x20..0x7e and '\\' become \xNN; at most LOG_ESCAPE_MAX input
 * bytes, then "...".  Always NUL-terminates; returns strlen(out). */
size_t log_escape(char *out, size_t size, const char *data, size_t len);

struct log_limiter {
	int64_t window_start_ms;
	unsigned n_logged;     /* in the current window */
	uint64_t n_suppressed; /* in the current window */
	uint64_t n_total;      /* every bad record ever reported */
};

/* Counts one bad record of input `input` at line (0: not line based) and
 * byte offset, and logs "input NAME line L offset O: WHY: DATA" unless
 * the window's burst is spent; at the first report of a new window, logs
 * how many were suppressed in the previous one.  Returns true if logged. */
bool log_bad_input(struct log_limiter *l, int64_t now_ms, const char *input,
		   uint64_t line, uint64_t offset, const char *why,
		   const char *data, size_t len);

#endif
