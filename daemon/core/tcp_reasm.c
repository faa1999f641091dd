/*
 * tcp_reasm: per-flow TCP reassembly (contract in tcp_reasm.h).
 *
 * Flows live in a chained hash table keyed by the two endpoints in a
 * canonical order (so both directions find the same flow) and in a list
 * ordered by last activity (least recent first), which serves both idle
 * expiry and eviction.  Sequence numbers are compared modulo 2^32.  Each
 * direction keeps next_seq (the first byte not yet delivered) and a sorted
 * list of waiting out-of-order segments holding copies of their captured
 * bytes; the per-flow and global byte counters cover exactly those copies.
 */
#include "tcp_reasm.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BUCKETS (1u << 20)

struct seg {
	struct seg *next;
	uint32_t seq, len, cap_len;
	int64_t ts_us;
	uint64_t pkt_no;
	uint8_t data[];
};

struct half {
	bool started, fin;
	uint32_t next_seq, fin_seq;
	struct seg *waiting; /* sorted by seq */
};

struct flow {
	struct flow *hnext, *prev, *next; /* hash chain; activity list */
	struct tcp_flow_info info;
	struct half half[2];
	size_t waiting_bytes;
	int64_t last_us;
	uint32_t hash;
	void *user;
};

struct tcp_reasm {
	struct tcp_reasm_limits lim;
	struct tcp_reasm_callbacks cb;
	void *arg;
	struct flow **buckets;
	size_t n_buckets; /* power of two */
	struct flow *oldest, *newest;
	struct tcp_reasm_stats st;
};

static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* ---- flow table ---- */

static uint32_t hash_bytes(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* Orders the endpoints so both directions give the same key. */
static uint32_t flow_hash(const struct pcap_pkt *p)
{
	int c = memcmp(p->src, p->dst, 16);
	bool swap = c > 0 || (c == 0 && p->sport > p->dport);
	const uint8_t *a = swap ? p->dst : p->src, *b = swap ? p->src : p->dst;
	uint16_t pa = swap ? p->dport : p->sport;
	uint16_t pb = swap ? p->sport : p->dport;
	uint32_t h = 2166136261u;

	h = hash_bytes(h, a, 16);
	h = hash_bytes(h, b, 16);
	h = hash_bytes(h, &pa, 2);
	return hash_bytes(h, &pb, 2);
}

/* The direction of p in f (0 client->server, 1 back), or -1 if p is not
 * of this flow. */
static int flow_dir(const struct flow *f, const struct pcap_pkt *p)
{
	const struct tcp_flow_info *i = &f->info;

	if (i->af != p->af)
		return -1;
	if (p->sport == i->client_port && p->dport == i->server_port &&
	    !memcmp(p->src, i->client, 16) && !memcmp(p->dst, i->server, 16))
		return 0;
	if (p->sport == i->server_port && p->dport == i->client_port &&
	    !memcmp(p->src, i->server, 16) && !memcmp(p->dst, i->client, 16))
		return 1;
	return -1;
}

static void list_unlink(struct tcp_reasm *r, struct flow *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		r->oldest = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		r->newest = f->prev;
	f->prev = f->next = NULL;
}

static void list_append(struct tcp_reasm *r, struct flow *f)
{
	f->prev = r->newest;
	f->next = NULL;
	if (r->newest)
		r->newest->next = f;
	else
		r->oldest = f;
	r->newest = f;
}

static void hash_unlink(struct tcp_reasm *r, struct flow *f)
{
	struct flow **pp = &r->buckets[f->hash & (r->n_buckets - 1)];

	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
}

/* ---- delivery ---- */

static void deliver(struct tcp_reasm *r, struct flow *f, int dir,
		    const uint8_t *data, size_t cap_len, size_t len,
		    int64_t ts_us, uint64_t pkt_no)
{
	if (cap_len > 0)
		r->cb.data(r->arg, f->user, dir, data, cap_len, ts_us, pkt_no);
	if (cap_len < len) {
		r->st.n_truncated++;
		r->st.n_gaps++;
		r->cb.gap(r->arg, f->user, dir);
	}
}

static void seg_free(struct tcp_reasm *r, struct flow *f, struct seg *s)
{
	f->waiting_bytes -= s->cap_len;
	r->st.n_buffered_bytes -= s->cap_len;
	free(s);
}

/* Delivers waiting segments that have become contiguous. */
static void drain(struct tcp_reasm *r, struct flow *f, int dir)
{
	struct half *h = &f->half[dir];
	struct seg *s;

	while ((s = h->waiting) != NULL && seq_le(s->seq, h->next_seq)) {
		h->waiting = s->next;
		uint32_t end = s->seq + s->len;
		if (seq_lt(h->next_seq, end)) {
			uint32_t skip = h->next_seq - s->seq;
			if (skip > 0)
				r->st.n_overlaps++;
			size_t cap = s->cap_len > skip ? s->cap_len - skip : 0;
			deliver(r, f, dir, s->data + skip, cap, s->len - skip,
				s->ts_us, s->pkt_no);
			h->next_seq = end;
		} else {
			r->st.n_retransmits++;
		}
		seg_free(r, f, s);
	}
}

/* Declares the bytes before `upto` lost: delivers what waits before it
 * (with a gap for each hole) and moves next_seq to upto at least. */
static void skip_to(struct tcp_reasm *r, struct flow *f, int dir, uint32_t upto)
{
	struct half *h = &f->half[dir];

	while (seq_lt(h->next_seq, upto)) {
		struct seg *s = h->waiting;
		uint32_t to = s && seq_lt(s->seq, upto) ? s->seq : upto;
		if (seq_lt(h->next_seq, to)) {
			r->st.n_gaps++;
			r->cb.gap(r->arg, f->user, dir);
			h->next_seq = to;
		}
		drain(r, f, dir);
	}
}

/* Delivers everything waiting, holes becoming gaps (flow end). */
static void flush_half(struct tcp_reasm *r, struct flow *f, int dir)
{
	struct seg *s;

	while ((s = f->half[dir].waiting) != NULL)
		skip_to(r, f, dir, s->seq + s->len);
}

static void flow_close(struct tcp_reasm *r, struct flow *f,
		       enum tcp_close_reason why)
{
	flush_half(r, f, 0);
	flush_half(r, f, 1);
	r->cb.close(r->arg, f->user, why);
	hash_unlink(r, f);
	list_unlink(r, f);
	r->st.n_active_flows--;
	free(f);
}

/* ---- segments ---- */

static bool over_limits(struct tcp_reasm *r, struct flow *f, size_t add)
{
	if (f->waiting_bytes + add > r->lim.max_flow_bytes) {
		r->st.n_flow_bytes_limit++;
		return true;
	}
	if (r->st.n_buffered_bytes + add > r->lim.max_buffered_bytes) {
		r->st.n_buffer_limit++;
		return true;
	}
	return false;
}

/* Keeps an out-of-order segment; false when it cannot be kept. */
static bool enqueue(struct tcp_reasm *r, struct flow *f, int dir,
		    const struct pcap_pkt *p, int64_t ts_us, uint64_t pkt_no)
{
	struct seg **pp = &f->half[dir].waiting;

	while (*pp && seq_lt((*pp)->seq, p->seq))
		pp = &(*pp)->next;
	if (*pp && (*pp)->seq == p->seq && (*pp)->len >= p->len) {
		r->st.n_retransmits++;
		return true;
	}
	if (over_limits(r, f, p->cap_len))
		return false;
	struct seg *s = malloc(sizeof(*s) + p->cap_len);
	if (s == NULL)
		return false;
	*s = (struct seg){*pp,	 p->seq, (uint32_t)p->len, (uint32_t)p->cap_len,
			  ts_us, pkt_no};
	memcpy(s->data, p->payload, p->cap_len);
	*pp = s;
	f->waiting_bytes += p->cap_len;
	r->st.n_buffered_bytes += p->cap_len;
	r->st.n_out_of_order++;
	return true;
}

static void on_payload(struct tcp_reasm *r, struct flow *f, int dir,
		       const struct pcap_pkt *p, int64_t ts_us, uint64_t pkt_no)
{
	struct half *h = &f->half[dir];
	uint32_t end = p->seq + (uint32_t)p->len;

	if (seq_le(end, h->next_seq)) {
		r->st.n_retransmits++;
		return;
	}
	if (seq_lt(h->next_seq, p->seq)) {
		if (enqueue(r, f, dir, p, ts_us, pkt_no))
			return;
		/* cannot wait any longer: the hole is lost */
		skip_to(r, f, dir, p->seq);
		if (seq_le(end, h->next_seq)) {
			r->st.n_retransmits++;
			return;
		}
	}
	uint32_t skip = h->next_seq - p->seq;
	if (skip > 0)
		r->st.n_overlaps++;
	size_t cap = p->cap_len > skip ? p->cap_len - skip : 0;
	deliver(r, f, dir, p->payload + skip, cap, p->len - skip, ts_us,
		pkt_no);
	h->next_seq = end;
	drain(r, f, dir);
}

/* An acknowledgement from dir's peer beyond what we delivered of dir means
 * the bytes in between were sent and received but not captured. */
static void on_ack(struct tcp_reasm *r, struct flow *f, int dir, uint32_t ack)
{
	struct half *h = &f->half[dir];

	if (!h->started || seq_le(ack, h->next_seq))
		return;
	if (h->fin && h->next_seq == h->fin_seq && ack == h->fin_seq + 1)
		return;
	if (h->fin && seq_lt(h->fin_seq, ack))
		ack = h->fin_seq;
	skip_to(r, f, dir, ack);
}

/* ---- flows ---- */

static struct flow *flow_find(struct tcp_reasm *r, const struct pcap_pkt *p,
			      uint32_t hash, int *dir)
{
	for (struct flow *f = r->buckets[hash & (r->n_buckets - 1)]; f;
	     f = f->hnext) {
		if (f->hash == hash && (*dir = flow_dir(f, p)) >= 0)
			return f;
	}
	return NULL;
}

/* Is the sender of p the client?  SYN says so; else a payload that starts
 * like a response marks the server. */
static bool sender_is_client(const struct pcap_pkt *p)
{
	if (p->flags & TCP_SYN)
		return !(p->flags & TCP_ACK);
	return !(p->cap_len >= 5 && memcmp(p->payload, "HTTP/", 5) == 0);
}

static struct flow *flow_new(struct tcp_reasm *r, const struct pcap_pkt *p,
			     uint32_t hash)
{
	if (r->st.n_active_flows >= r->lim.max_flows && r->oldest) {
		r->st.n_flows_evicted++;
		flow_close(r, r->oldest, TCP_CLOSE_EVICTED);
	}
	struct flow *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	bool client = sender_is_client(p);
	f->info.af = p->af;
	memcpy(f->info.client, client ? p->src : p->dst, 16);
	memcpy(f->info.server, client ? p->dst : p->src, 16);
	f->info.client_port = client ? p->sport : p->dport;
	f->info.server_port = client ? p->dport : p->sport;
	f->hash = hash;
	f->hnext = r->buckets[hash & (r->n_buckets - 1)];
	r->buckets[hash & (r->n_buckets - 1)] = f;
	list_append(r, f);
	r->st.n_active_flows++;
	r->st.n_flows++;
	f->user = r->cb.open(r->arg, &f->info);
	return f;
}

void tcp_reasm_expire(struct tcp_reasm *r, int64_t now_us)
{
	int64_t idle_us = r->lim.idle_timeout_ms * 1000;

	while (r->oldest && r->oldest->last_us + idle_us < now_us) {
		r->st.n_flows_expired++;
		flow_close(r, r->oldest, TCP_CLOSE_IDLE);
	}
}

/* Finds or creates the flow of p; NULL for packets that start nothing (a
 * bare ACK of an unknown flow). */
static struct flow *flow_for(struct tcp_reasm *r, const struct pcap_pkt *p,
			     int *dir)
{
	uint32_t hash = flow_hash(p);
	struct flow *f = flow_find(r, p, hash, dir);
	bool syn = (p->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;

	if (f && syn && f->half[*dir].started &&
	    f->half[*dir].next_seq != p->seq + 1) {
		flow_close(r, f, TCP_CLOSE_FIN); /* port reused */
		f = NULL;
	}
	if (f == NULL) {
		if (!(p->flags & TCP_SYN) && p->len == 0)
			return NULL;
		if (p->flags & TCP_RST)
			return NULL;
		if ((f = flow_new(r, p, hash)) == NULL)
			return NULL;
		*dir = flow_dir(f, p);
	}
	return f;
}

static void segment(struct tcp_reasm *r, struct flow *f, int dir,
		    const struct pcap_pkt *p, int64_t ts_us, uint64_t pkt_no)
{
	struct half *h = &f->half[dir];

	if (p->flags & TCP_SYN) {
		h->started = true;
		h->next_seq = p->seq + 1;
	} else if (!h->started) {
		h->started = true;
		h->next_seq = p->seq;
	}
	if (p->len > 0 && !(p->flags & TCP_SYN))
		on_payload(r, f, dir, p, ts_us, pkt_no);
	if (p->flags & TCP_FIN) {
		h->fin = true;
		h->fin_seq = p->seq + (uint32_t)p->len;
	}
	if (p->flags & TCP_ACK)
		on_ack(r, f, 1 - dir, p->ack);
}

void tcp_reasm_packet(struct tcp_reasm *r, const struct pcap_pkt *p,
		      int64_t ts_us, uint64_t pkt_no)
{
	int dir = 0;

	r->st.n_packets++;
	tcp_reasm_expire(r, ts_us);
	struct flow *f = flow_for(r, p, &dir);
	if (f == NULL)
		return;
	f->last_us = ts_us;
	list_unlink(r, f);
	list_append(r, f);
	segment(r, f, dir, p, ts_us, pkt_no);
	if (p->flags & TCP_RST) {
		flow_close(r, f, TCP_CLOSE_RST);
		return;
	}
	struct half *a = &f->half[0], *b = &f->half[1];
	if (a->fin && b->fin && !a->waiting && !b->waiting &&
	    a->next_seq == a->fin_seq && b->next_seq == b->fin_seq)
		flow_close(r, f, TCP_CLOSE_FIN);
}

void tcp_reasm_flush(struct tcp_reasm *r)
{
	while (r->oldest)
		flow_close(r, r->oldest, TCP_CLOSE_END);
}

struct tcp_reasm *tcp_reasm_new(const struct tcp_reasm_limits *limits,
				const struct tcp_reasm_callbacks *cb, void *arg)
{
	struct tcp_reasm *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->lim = *limits;
	if (r->lim.max_flows == 0)
		r->lim.max_flows = 1;
	r->cb = *cb;
	r->arg = arg;
	r->n_buckets = 16;
	while (r->n_buckets < r->lim.max_flows && r->n_buckets < MAX_BUCKETS)
		r->n_buckets *= 2;
	r->buckets = calloc(r->n_buckets, sizeof(*r->buckets));
	if (r->buckets == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void tcp_reasm_free(struct tcp_reasm *r)
{
	if (r == NULL)
		return;
	tcp_reasm_flush(r);
	free(r->buckets);
	free(r);
}

void tcp_reasm_get_stats(const struct tcp_reasm *r, struct tcp_reasm_stats *out)
{
	*out = r->st;
}
