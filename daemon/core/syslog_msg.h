/*
 * syslog_msg: parsing of syslog messages (RFC 5424, RFC 3164) and RFC 6587
 * framing of syslog over TCP.  Pure: no I/O, no clock, never prints.
 *
 * Messages: syslog_msg_parse() fills a struct of borrowed views into the
 * message bytes (valid as long as those bytes).  A NIL value ("-") in RFC
 * 5424 is an empty view with ptr == NULL.  Structured data is validated
 * by the parse and kept escaped; syslog_sd_next() walks it and unescapes
 * each PARAM-VALUE into a caller buffer.
 *
 * Framing: a struct syslog_framer turns a TCP byte stream, delivered in
 * chunks of any size, into frames.  The method is detected per connection
 * from the first byte (a digit: octet counting "LEN SP MSG"; anything
 * else: LF-terminated, non-transparent framing), and detected again after
 * a framing error.  Every frame is copied into the framer's own buffer of
 * max_bytes, so memory is bounded: a longer frame is returned cut to
 * max_bytes with truncated set (counted), and the rest of it is skipped
 * (octet counting: exactly LEN bytes; LF: up to the next LF), so the stream
 * stays in sync.
 */
#ifndef CUSTOS_SYSLOG_MSG_H
#define CUSTOS_SYSLOG_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum syslog_msg_format { SYSLOG_MSG_5424, SYSLOG_MSG_3164 };

struct syslog_str {
	const char *ptr; /* NULL when absent or NIL */
	size_t len;
};

struct syslog_msg {
	int format; /* enum syslog_msg_format */
	int pri;    /* 0..191 */
	int facility, severity;
	int version;		     /* 5424: >= 1; 3164: 0 */
	struct syslog_str timestamp; /* as written; 3164: "Mmm dd hh:mm:ss"
					or an RFC 3339 stamp */
	struct syslog_str hostname;
	struct syslog_str app_name; /* 3164: the TAG */
	struct syslog_str procid;   /* 3164: the [pid] of the TAG */
	struct syslog_str msgid;    /* 3164: absent */
	struct syslog_str sd;	    /* 5424: the escaped STRUCTURED-DATA */
	struct syslog_str msg;	    /* MSG, without a leading UTF-8 BOM */
	bool bom;		    /* MSG started with a UTF-8 BOM */
};

/* Parses one message of len bytes (no framing).  A message whose PRI is
 * followed by a version digit and a space is RFC 5424 and must be valid
 * RFC 5424; any other message with a valid PRI is RFC 3164, parsed
 * leniently as RFC 3164 section 4.3 asks (no valid timestamp: everything
 * after PRI is MSG).  Returns 0, or -1 with a reason in err. */
int syslog_msg_parse(const char *buf, size_t len, struct syslog_msg *m,
		     char *err, size_t err_size);

/* The two parsers behind syslog_msg_parse, same contract. */
int syslog_msg_parse_5424(const char *buf, size_t len, struct syslog_msg *m,
			  char *err, size_t err_size);
int syslog_msg_parse_3164(const char *buf, size_t len, struct syslog_msg *m,
			  char *err, size_t err_size);

/* One SD-PARAM (or an SD-ELEMENT without params: name.ptr == NULL). */
struct syslog_sd_param {
	struct syslog_str id;	/* SD-ID */
	struct syslog_str name; /* PARAM-NAME */
	char *value;		/* unescaped, NUL-terminated, in the caller's
				   buffer */
	size_t value_len;
};

/* Walks the structured data sd (as validated by syslog_msg_parse) from
 * *pos (start at 0), one SD-PARAM per call; an SD-ELEMENT without params
 * yields one item with name.ptr == NULL.  Pass the same *p on every call
 * (it carries the current SD-ID).  value_buf must hold at least sd.len + 1
 * bytes.  Returns 1 with *p filled, 0 at the end, -1 on malformed data. */
int syslog_sd_next(struct syslog_str sd, size_t *pos, struct syslog_sd_param *p,
		   char *value_buf, size_t value_buf_size);

/* ---- RFC 6587 framing ---- */

#define SYSLOG_FRAME_MAX_DIGITS 9 /* longest MSG-LEN accepted */

enum syslog_framing {
	SYSLOG_FRAMING_DETECT,
	SYSLOG_FRAMING_OCTET,
	SYSLOG_FRAMING_LF
};

struct syslog_framer {
	int framing; /* enum syslog_framing; DETECT until the first byte */
	int state;   /* private */
	char *buf;   /* the frame being built, max_bytes */
	size_t len, max_bytes;
	size_t want; /* octet counting: bytes of the frame still due */
	size_t n_digits;
	bool truncated;
	bool emitted; /* buf holds a frame already returned */
	uint64_t n_frames, n_truncated, n_errors;
};

struct syslog_frame {
	const char *data; /* valid until the next call on the framer */
	size_t len;
	bool truncated;
};

/* Initializes f for frames of at most max_bytes (>= 1).  Returns 0, or -1
 * on allocation failure. */
int syslog_framer_init(struct syslog_framer *f, size_t max_bytes);
void syslog_framer_clear(struct syslog_framer *f);

/* Consumes bytes of data[0..len) until a frame is complete.  *used is set
 * to the bytes consumed.  Returns 1 with *fr (*used may be < len: call
 * again with the rest), 0 when all len bytes were consumed without
 * completing a frame, or -1 on a framing error (reason in err; the bad
 * byte is consumed, the framer skips to the next LF and detects the
 * framing again).  Empty LF frames are skipped; a "\r" before the LF is
 * dropped. */
int syslog_framer_next(struct syslog_framer *f, const char *data, size_t len,
		       size_t *used, struct syslog_frame *fr, char *err,
		       size_t err_size);

/* At the end of the stream: returns 1 with an unterminated LF frame, 0 if
 * there is none, -1 if an octet-counted frame was cut short (counted as an
 * error).  The framer is then ready for a new stream. */
int syslog_framer_finish(struct syslog_framer *f, struct syslog_frame *fr,
			 char *err, size_t err_size);

#endif
