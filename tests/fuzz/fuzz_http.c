/*
 * fuzz_http: libFuzzer target for http_parse.  The input is split: byte 0
 * picks the limits, then a sequence of records [dir|op byte][len byte]
 * [len bytes] feeds the two directions of one connection in random
 * chunkings, with gaps, and the connection is finished at the end.  Checks
 * the exchange invariants: strings NUL-terminated, body within limits,
 * statuses 0 or 100..999.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Idaemon/core \
 *   tests/fuzz/fuzz_http.c daemon/core/http_parse.c
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http_limits lim;

static void on_exchange(void *arg, const struct http_exchange *x)
{
	(void)arg;
	assert(x->req->method[0] != '\0');
	assert(strlen(x->req->uri) > 0);
	assert(x->req->body_len <= lim.max_body_bytes);
	assert(x->status == 0 || (x->status >= 100 && x->status <= 999));
	for (size_t i = 0; i < x->req->n_headers; i++)
		assert(strlen(x->req->headers[i].value) ==
		       x->req->headers[i].value_len);
	for (size_t i = 0; i < x->n_resp_headers; i++)
		assert(x->resp_headers[i].name[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_stats st = {0};

	if (size < 1)
		return 0;
	lim = (struct http_limits){1024u << (data[0] & 3), data[0] >> 4,
				   1 + (data[0] >> 2 & 3)};
	struct http_conn *c = http_conn_new(&lim, &st, on_exchange, NULL);
	size_t i = 1;
	uint64_t pkt = 0;
	while (c && i + 2 <= size) {
		int op = data[i];
		size_t n = data[i + 1];
		i += 2;
		if (n > size - i)
			n = size - i;
		if ((op & 0x70) == 0x70)
			http_conn_gap(c, op & 1);
		else
			http_conn_data(c, op & 1, data + i, n, (int64_t)i,
				       ++pkt);
		i += n;
	}
	if (c)
		http_conn_finish(c);
	http_conn_free(c);
	return 0;
}
