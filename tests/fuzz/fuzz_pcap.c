/*
 * fuzz_pcap: libFuzzer target for the whole capture path (pcap_decode ->
 * tcp_reasm -> http_parse -> routes -> event).  The input is a sequence of
 * frames [link-type byte][len hi][len lo][frame bytes] handed to
 * pcap_http_frame with small limits (few flows, small buffers) so that
 * evictions and limit paths are reached, with a route map using every
 * source kind.  Every event must have ts and src_ip.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Idaemon/core \
 *   tests/fuzz/fuzz_pcap.c daemon/core/[a-z]*.c -lpcap -ljansson -lyaml \
 *   -lpcre2-8 -lsqlite3 -lcrypto -lm
 */
#include <assert.h>
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "pcap_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char cfg_text[] =
    "inputs:\n"
    "  - name: f\n"
    "    path: f.pcap\n"
    "    pcap:\n"
    "      max_flows: 4\n"
    "      max_flow_bytes: 1KiB\n"
    "      max_buffer_bytes: 64KiB\n"
    "      max_header_bytes: 1KiB\n"
    "      max_body_bytes: 256\n"
    "      max_pending: 3\n"
    "      idle_timeout: 1s\n"
    "      defaults:\n"
    "        agent: [header.X-A, cookie.a, basic.user, jwt.sub]\n"
    "        ticket: { from: header.Referer, regex: 't/([0-9]+)' }\n"
    "      routes:\n"
    "        - match: '* /c/{customer}/d/{object}'\n"
    "          action: view\n"
    "          rows: [response.X-Total-Count, query.n, body.n]\n"
    "          session: { from: header.Referer, template: 'http://h/{x}' }\n"
    "        - match: GET|POST /{customer}\n"
    "          action: other\n";

static const int linktypes[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
				DLT_NULL,   DLT_LOOP,	   DLT_RAW,
				DLT_IPV4,   DLT_IPV6};

static struct config *cfg;
static struct fieldtab *tab;

static int on_event(void *arg, const struct event *ev)
{
	(void)arg;
	assert(event_find(ev, "ts") != NULL);
	assert(event_find(ev, "src_ip") != NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (cfg == NULL) {
		struct diag d;
		diag_init(&d);
		cfg =
		    config_load_buffer("f.yml", cfg_text, strlen(cfg_text), &d);
		diag_clear(&d);
		assert(cfg != NULL);
		tab = fieldtab_new();
		fieldtab_freeze(tab);
	}
	struct pcap_http *p =
	    pcap_http_new(cfg->inputs[0].pcap, tab, "f", on_event, NULL);
	size_t i = 0;
	int64_t ts = 0;
	while (p && i + 3 <= size) {
		int lt = linktypes[data[i] % 8];
		size_t n = (size_t)data[i + 1] << 8 | data[i + 2];
		ts += (data[i] >> 3) * 100000;
		i += 3;
		if (n > size - i)
			n = size - i;
		uint8_t *frame = malloc(n ? n : 1); /* exact size for ASan */
		memcpy(frame, data + i, n);
		pcap_http_frame(p, lt, ts, frame, n);
		free(frame);
		i += n;
	}
	pcap_http_free(p);
	return 0;
}
