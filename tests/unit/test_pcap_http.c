/*
 * test_pcap_http: crafted captures through decode -> reassembly -> HTTP ->
 * routes: in-order, reordered, retransmitted, overlapping, pipelined and
 * chunked requests, a snap-length cut, a lost segment (resync), IPv6 and
 * Linux cooked (SLL) frames, plus a .pcap file written with pcap_dump and
 * read back.  Frames are built here byte by byte.
 */
#include "check.h"

#include "pcap_http.h"

#include "config.h"

#include <pcap/pcap.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#define CFG                                                                    \
	"inputs:\n"                                                            \
	"  - name: t\n"                                                        \
	"    path: x.pcap\n"                                                   \
	"    pcap:\n"                                                          \
	"      defaults: { agent: [header.X-Agent, basic.user] }\n"            \
	"      routes:\n"                                                      \
	"        - match: GET /c/{customer}/d/{object}\n"                      \
	"          action: view\n"                                             \
	"        - match: POST /c/{customer}/export\n"                         \
	"          action: export\n"                                           \
	"          rows: body.rows\n"

struct got {
	char agent[8][32], object[8][32], action[8][32], outcome[8][32];
	char rows[8][32];
	uint64_t pkt[8];
	int n;
};

static int on_event(void *arg, const struct event *ev)
{
	struct got *g = arg;
	const char *names[] = {"agent", "object", "action", "outcome", "rows"};
	char(*dst[])[32] = {g->agent, g->object, g->action, g->outcome,
			    g->rows};

	if (g->n == 8)
		return 0;
	for (int i = 0; i < 5; i++) {
		const struct event_field *f = event_find(ev, names[i]);
		snprintf(dst[i][g->n], 32, "%s", f ? f->value : "-");
	}
	g->pkt[g->n++] = ev->source.offset;
	return 0;
}

/* ---- frame building ---- */

enum { LT_ETH = DLT_EN10MB, LT_SLL = DLT_LINUX_SLL };

static size_t frame(uint8_t *f, int lt, bool v6, bool from_client, uint32_t seq,
		    uint32_t ack, uint8_t flags, const char *data, size_t len)
{
	size_t o = 0, ip;
	memset(f, 0, 128);
	if (lt == LT_ETH) {
		o = 14;
		f[12] = v6 ? 0x86 : 0x08;
		f[13] = v6 ? 0xdd : 0x00;
	} else {
		o = 16;
		f[14] = v6 ? 0x86 : 0x08;
		f[15] = v6 ? 0xdd : 0x00;
	}
	ip = o;
	uint8_t a = from_client ? 1 : 2, b = from_client ? 2 : 1;
	if (v6) {
		f[o] = 0x60;
		f[o + 4] = (uint8_t)((20 + len) >> 8);
		f[o + 5] = (uint8_t)(20 + len);
		f[o + 6] = 6;
		f[o + 23] = a;
		f[o + 39] = b;
		o += 40;
	} else {
		f[o] = 0x45;
		f[o + 2] = (uint8_t)((40 + len) >> 8);
		f[o + 3] = (uint8_t)(40 + len);
		f[o + 9] = 6;
		f[o + 12] = 10, f[o + 15] = a;
		f[o + 16] = 10, f[o + 19] = b;
		o += 20;
	}
	(void)ip;
	uint16_t sp = from_client ? 40000 : 80, dp = from_client ? 80 : 40000;
	f[o] = (uint8_t)(sp >> 8), f[o + 1] = (uint8_t)sp;
	f[o + 2] = (uint8_t)(dp >> 8), f[o + 3] = (uint8_t)dp;
	for (int i = 0; i < 4; i++) {
		f[o + 4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		f[o + 8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	f[o + 12] = 0x50;
	f[o + 13] = flags;
	memcpy(f + o + 20, data, len);
	return o + 20 + len;
}

struct cap {
	struct pcap_http *p;
	int lt;
	bool v6;
	int64_t ts;
	pcap_dumper_t *dump;
};

/* Sends data from one side at relative sequence rel (ISNs 1000 and
 * 5000); snap: bytes of the frame captured (0 = all). */
static void send_seg(struct cap *c, bool client, uint32_t rel, const char *d,
		     size_t snap_cut)
{
	static uint8_t f[70000];
	size_t len = strlen(d);
	uint32_t seq = (client ? 1001 : 5001) + rel;
	size_t n = frame(f, c->lt, c->v6, client, seq, 0, 0x18, d, len);
	size_t caplen = snap_cut ? n - snap_cut : n;
	c->ts += 1000;
	pcap_http_frame(c->p, c->lt, c->ts, f, caplen);
	if (c->dump) {
		struct pcap_pkthdr h = {{c->ts / 1000000, c->ts % 1000000},
					(bpf_u_int32)caplen,
					(bpf_u_int32)n};
		pcap_dump((u_char *)c->dump, &h, f);
	}
}

static void ack_seg(struct cap *c, bool client, uint32_t ack_rel)
{
	uint8_t f[128];
	uint32_t ack = (client ? 5001 : 1001) + ack_rel;
	size_t n = frame(f, c->lt, c->v6, client, client ? 1001 : 5001, ack,
			 0x10, "", 0);
	c->ts += 1000;
	pcap_http_frame(c->p, c->lt, c->ts, f, n);
}

static void handshake(struct cap *c)
{
	uint8_t f[128];
	size_t n = frame(f, c->lt, c->v6, true, 1000, 0, 0x02, "", 0);
	pcap_http_frame(c->p, c->lt, c->ts += 1000, f, n);
	n = frame(f, c->lt, c->v6, false, 5000, 1001, 0x12, "", 0);
	pcap_http_frame(c->p, c->lt, c->ts += 1000, f, n);
}

static struct config *cfg;
static struct fieldtab *tab;

static struct cap start(struct got *g, int lt, bool v6)
{
	memset(g, 0, sizeof(*g));
	struct cap c = {
	    pcap_http_new(cfg->inputs[0].pcap, tab, "t", on_event, g), lt, v6,
	    1700000000000000LL, NULL};
	handshake(&c);
	return c;
}

#define R1 "GET /c/c1/d/d1 HTTP/1.1\r\nX-Agent: al\r\n\r\n"
#define R2 "GET /c/c2/d/d2 HTTP/1.1\r\nX-Agent: bo\r\n\r\n"
#define OK "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
#define NO "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"

static struct pcap_http_stats finish(struct cap *c)
{
	struct pcap_http_stats st;
	pcap_http_flush(c->p);
	pcap_http_get_stats(c->p, &st);
	pcap_http_free(c->p);
	return st;
}

/* Two pipelined requests in one segment, two responses. */
static void pipelined(int lt, bool v6)
{
	struct got g;
	struct cap c = start(&g, lt, v6);
	send_seg(&c, true, 0, R1 R2, 0);
	send_seg(&c, false, 0, OK NO, 0);
	finish(&c);
	CHECK_INT(g.n, 2);
	CHECK_STR(g.agent[0], "al");
	CHECK_STR(g.object[0], "d1");
	CHECK_STR(g.outcome[0], "success");
	CHECK_STR(g.agent[1], "bo");
	CHECK_STR(g.outcome[1], "denied");
}

static void reordered(void)
{
	struct got g;
	struct cap c = start(&g, LT_ETH, false);
	size_t half = 10;
	send_seg(&c, true, (uint32_t)half, &R1[half], 0); /* packet 3 */
	send_seg(&c, true, (uint32_t)strlen(R1), R2, 0);  /* packet 4 */
	char first[16];
	memcpy(first, R1, half);
	first[half] = '\0';
	send_seg(&c, true, 0, first, 0); /* packet 5 */
	send_seg(&c, false, 0, OK OK, 0);
	struct pcap_http_stats st = finish(&c);
	CHECK_INT(g.n, 2);
	CHECK_STR(g.agent[0], "al");
	CHECK_INT(g.pkt[0], 5); /* the packet with the request's first byte */
	CHECK_STR(g.agent[1], "bo");
	CHECK_INT(g.pkt[1], 4);
	CHECK(st.tcp.n_out_of_order >= 2);
}

static void retransmit_overlap(void)
{
	struct got g;
	struct cap c = start(&g, LT_ETH, false);
	uint32_t l1 = (uint32_t)strlen(R1);
	send_seg(&c, true, 0, R1, 0);
	send_seg(&c, true, 0, R1, 0); /* retransmission */
	char a[32];
	memcpy(a, R2, 20);
	a[20] = '\0';
	send_seg(&c, true, l1, a, 0);
	send_seg(&c, true, l1 + 10, &R2[10], 0); /* overlaps 10 bytes */
	send_seg(&c, false, 0, OK OK, 0);
	struct pcap_http_stats st = finish(&c);
	CHECK_INT(g.n, 2);
	CHECK_STR(g.object[1], "d2");
	CHECK(st.tcp.n_retransmits >= 1);
	CHECK(st.tcp.n_overlaps >= 1);
}

static void chunked(void)
{
	struct got g;
	struct cap c = start(&g, LT_ETH, false);
	send_seg(
	    &c, true, 0,
	    "POST /c/c3/export HTTP/1.1\r\nX-Agent: cy\r\n"
	    "Content-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "6\r\n{\"rows\r\n7;ext=1\r\n\": 42}\n\r\n0\r\nX-T: 1\r\n\r\n" R2,
	    0);
	send_seg(&c, false, 0, OK OK, 0);
	finish(&c);
	CHECK_INT(g.n, 2);
	CHECK_STR(g.action[0], "export");
	CHECK_STR(g.rows[0], "42");
	CHECK_STR(g.agent[1], "bo");
}

/* The first request's frame is cut by the snap length: it is lost; the
 * next request is found again. */
static void truncated(void)
{
	struct got g;
	struct cap c = start(&g, LT_ETH, false);
	send_seg(&c, true, 0, R1, 8);
	send_seg(&c, true, (uint32_t)strlen(R1), R2, 0);
	send_seg(&c, false, 0, OK, 0);
	struct pcap_http_stats st = finish(&c);
	CHECK_INT(g.n, 1);
	CHECK_STR(g.agent[0], "bo");
	CHECK_INT(st.tcp.n_truncated, 1);
}

/* A lost segment in the middle of request 1; the server acknowledges
 * everything, so the hole is declared lost and parsing resyncs. */
static void lost_segment(void)
{
	struct got g;
	struct cap c = start(&g, LT_ETH, false);
	uint32_t l1 = (uint32_t)strlen(R1);
	char a[16];
	memcpy(a, R1, 10);
	a[10] = '\0';
	send_seg(&c, true, 0, a, 0);
	/* bytes 10..l1 never captured */
	send_seg(&c, true, l1, R2, 0);
	ack_seg(&c, false, l1 + (uint32_t)strlen(R2));
	CHECK_INT(g.n, 0); /* waits for R2's response */
	send_seg(&c, false, 0, OK, 0);
	struct pcap_http_stats st = finish(&c);
	CHECK_INT(g.n, 1);
	CHECK_STR(g.agent[0], "bo");
	CHECK_STR(g.outcome[0], "success");
	CHECK(st.tcp.n_gaps >= 1);
	CHECK(st.http.n_resyncs >= 1);
}

static void dump_and_read(void)
{
	struct got g;
	char path[] = "/tmp/test_pcap_http_XXXXXX";
	int fd = mkstemp(path);
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	struct cap c = start(&g, LT_ETH, false);
	c.dump = pcap_dump_open(dead, path);
	CHECK(c.dump != NULL);
	send_seg(&c, true, 0, R1 R2, 0);
	send_seg(&c, false, 0, OK NO, 0);
	pcap_dump_close(c.dump);
	finish(&c);
	CHECK_INT(g.n, 2);
	/* read back: no handshake in the file, so roles come from payload */
	struct got g2 = {0};
	struct pcap_http *p =
	    pcap_http_new(cfg->inputs[0].pcap, tab, "t", on_event, &g2);
	char err[256];
	CHECK_INT(pcap_http_read_file(p, path, err, sizeof(err)), 0);
	pcap_http_free(p);
	CHECK_INT(g2.n, 2);
	CHECK_STR(g2.agent[0], "al");
	CHECK_STR(g2.outcome[1], "denied");
	pcap_close(dead);
	close(fd);
	unlink(path);
}

/* A route regex that backtracks catastrophically stops at custos's match
 * limit: counted, the next alternative used, the event still emitted. */
static void regex_limit(void)
{
	const char *yml =
	    "inputs:\n"
	    "  - name: t\n"
	    "    path: x.pcap\n"
	    "    pcap:\n"
	    "      defaults:\n"
	    "        agent:\n"
	    "          - { from: header.X-Agent, regex: '^((a+)+)$' }\n"
	    "          - header.X-Backup\n"
	    "      routes:\n"
	    "        - match: GET /c/{customer}/d/{object}\n"
	    "          action: view\n";
	struct diag d;
	diag_init(&d);
	struct config *rc = config_load_buffer("re.yml", yml, strlen(yml), &d);
	diag_print(&d, stderr);
	diag_clear(&d);
	CHECK(rc != NULL);
	if (rc == NULL)
		return;
	struct got g = {0};
	struct cap c = {
	    pcap_http_new(rc->inputs[0].pcap, tab, "t", on_event, &g), LT_ETH,
	    false, 1700000000000000LL, NULL};
	handshake(&c);
	send_seg(&c, true, 0,
		 "GET /c/c1/d/d1 HTTP/1.1\r\nX-Agent: "
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\r\n"
		 "X-Backup: bo\r\n\r\n"
		 "GET /c/c2/d/d2 HTTP/1.1\r\nX-Agent: aaa\r\n\r\n",
		 0);
	send_seg(&c, false, 0, OK OK, 0);
	struct pcap_http_stats st = finish(&c);
	CHECK_INT(g.n, 2);
	CHECK_STR(g.agent[0], "bo");
	CHECK_STR(g.agent[1], "aaa");
	CHECK_INT(st.n_re_limit, 1);
	config_free(rc);
}

static void config_errors(void)
{
	struct diag d;
	const char *bad = "inputs:\n"
			  "  - name: t\n"
			  "    path: x\n"
			  "    pcap:\n"
			  "      max_flow: 3\n"
			  "      routes:\n"
			  "        - match: GET nopath\n"
			  "          agnt: header.X\n";
	diag_init(&d);
	CHECK(config_load_buffer("bad.yml", bad, strlen(bad), &d) == NULL);
	CHECK_INT(diag_count(&d), 3);
	CHECK(d.n_entries == 3 && d.entries[0].line == 5 &&
	      strstr(d.entries[0].message, "did you mean 'max_flows'"));
	CHECK(d.n_entries == 3 && d.entries[1].line == 7);
	CHECK(d.n_entries == 3 && d.entries[2].line == 8 &&
	      d.entries[2].column == 11 &&
	      strstr(d.entries[2].message, "did you mean 'agent'"));
	diag_clear(&d);
}

int main(void)
{
	struct diag d;
	diag_init(&d);
	cfg = config_load_buffer("t.yml", CFG, strlen(CFG), &d);
	diag_print(&d, stderr);
	diag_clear(&d);
	CHECK(cfg != NULL && cfg->inputs[0].pcap != NULL);
	if (cfg == NULL)
		return check_done();
	tab = fieldtab_new();
	fieldtab_freeze(tab);
	pipelined(LT_ETH, false);
	pipelined(LT_SLL, true);
	reordered();
	retransmit_overlap();
	chunked();
	truncated();
	lost_segment();
	dump_and_read();
	regex_limit();
	config_errors();
	fieldtab_free(tab);
	config_free(cfg);
	return check_done();
}
