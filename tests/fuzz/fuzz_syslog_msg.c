/*
 * fuzz_syslog_msg: libFuzzer target for syslog_msg.  Each input is parsed
 * as one message (auto-detected, forced RFC 5424, forced RFC 3164), its
 * structured data walked, and fed to the RFC 6587 framer in chunk sizes
 * drawn from the input's first bytes.  Checks: every view lies inside the
 * input, PRI fields agree, frames never exceed max_bytes, consumed counts
 * add up to the input, and every error has a reason.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Idaemon/core \
 *   tests/fuzz/fuzz_syslog_msg.c daemon/core/syslog_msg.c
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "syslog_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void in_input(struct syslog_str s, const char *b, size_t len)
{
	if (s.ptr == NULL) {
		assert(s.len == 0);
		return;
	}
	assert(s.ptr >= b && s.ptr + s.len <= b + len);
}

static void check_msg(const char *b, size_t len,
		      int (*parse)(const char *, size_t, struct syslog_msg *,
				   char *, size_t))
{
	struct syslog_msg m;
	char err[256] = "";

	if (parse(b, len, &m, err, sizeof(err)) < 0) {
		assert(err[0] != '\0');
		return;
	}
	assert(m.pri >= 0 && m.pri <= 191);
	assert(m.facility * 8 + m.severity == m.pri);
	in_input(m.timestamp, b, len);
	in_input(m.hostname, b, len);
	in_input(m.app_name, b, len);
	in_input(m.procid, b, len);
	in_input(m.msgid, b, len);
	in_input(m.sd, b, len);
	assert(m.msg.ptr != NULL);
	assert(m.msg.ptr >= b && m.msg.ptr + m.msg.len <= b + len);
	if (m.sd.ptr == NULL)
		return;
	char *vb = malloc(m.sd.len + 1);
	struct syslog_sd_param p;
	size_t pos = 0, last = 0;
	int rc;
	while ((rc = syslog_sd_next(m.sd, &pos, &p, vb, m.sd.len + 1)) == 1) {
		assert(pos > last && pos <= m.sd.len);
		last = pos;
		assert(p.value_len <= m.sd.len && p.value[p.value_len] == 0);
		in_input(p.id, b, len);
		in_input(p.name, b, len);
	}
	assert(rc == 0); /* validated SD always walks to the end */
	free(vb);
}

static void check_framing(const uint8_t *data, size_t size)
{
	struct syslog_framer f;
	struct syslog_frame fr;
	char err[256];
	size_t max = 1 + (size > 0 ? data[0] % 64 : 7);
	size_t off = 0, k = 1;

	if (syslog_framer_init(&f, max) < 0)
		return;
	while (off < size) {
		size_t chunk = 1 + (k < size ? data[k++] % 17 : 5);
		if (chunk > size - off)
			chunk = size - off;
		size_t pos = 0;
		while (pos < chunk) {
			size_t used = 0;
			err[0] = '\0';
			int rc = syslog_framer_next(
			    &f, (const char *)data + off + pos, chunk - pos,
			    &used, &fr, err, sizeof(err));
			assert(used <= chunk - pos);
			pos += used;
			if (rc == 1)
				assert(fr.len >= 1 && fr.len <= max);
			else if (rc < 0)
				assert(err[0] != '\0' && used >= 1);
			else
				assert(pos == chunk);
		}
		off += chunk;
	}
	if (syslog_framer_finish(&f, &fr, err, sizeof(err)) == 1)
		assert(fr.len >= 1 && fr.len <= max);
	assert(f.n_truncated <= f.n_frames);
	syslog_framer_clear(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so ASan sees any over-read */
	char *b = malloc(size ? size : 1);

	memcpy(b, data, size);
	check_msg(b, size, syslog_msg_parse);
	check_msg(b, size, syslog_msg_parse_5424);
	check_msg(b, size, syslog_msg_parse_3164);
	free(b);
	check_framing(data, size);
	return 0;
}
