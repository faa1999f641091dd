/*
 * pcap_decode: link layer -> IP -> TCP header parsing (see pcap_decode.h).
 *
 * Every length read from the frame is checked against what was captured;
 * the TCP payload length comes from the IP header (so Ethernet padding is
 * ignored) and may exceed what was captured when the snap length cut the
 * frame: the caller then knows how many sequence bytes it did not see.
 */
#include "pcap_decode.h"

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define ETHERTYPE_IP 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define IPPROTO_TCP_ 6

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int decode_tcp(const uint8_t *p, size_t cap, size_t wire,
		      struct pcap_pkt *out)
{
	if (cap < 20 || wire < 20)
		return PCAP_DECODE_BAD;
	size_t hlen = (size_t)(p[12] >> 4) * 4;
	if (hlen < 20 || hlen > wire || hlen > cap)
		return PCAP_DECODE_BAD;
	out->sport = rd16(p);
	out->dport = rd16(p + 2);
	out->seq = rd32(p + 4);
	out->ack = rd32(p + 8);
	out->flags = p[13];
	out->payload = p + hlen;
	out->len = wire - hlen;
	out->cap_len = cap - hlen < out->len ? cap - hlen : out->len;
	return PCAP_DECODE_TCP;
}

static int decode_ipv4(const uint8_t *p, size_t cap, struct pcap_pkt *out)
{
	if (cap < 20 || (p[0] >> 4) != 4)
		return PCAP_DECODE_BAD;
	size_t hlen = (size_t)(p[0] & 15) * 4, total = rd16(p + 2);
	if (hlen < 20 || total < hlen || cap < hlen)
		return PCAP_DECODE_BAD;
	if ((rd16(p + 6) & 0x3fff) != 0) /* MF set or offset != 0 */
		return PCAP_DECODE_FRAGMENT;
	if (p[9] != IPPROTO_TCP_)
		return PCAP_DECODE_SKIP;
	out->af = AF_INET;
	memset(out->src, 0, 16);
	memset(out->dst, 0, 16);
	memcpy(out->src, p + 12, 4);
	memcpy(out->dst, p + 16, 4);
	return decode_tcp(p + hlen, cap - hlen, total - hlen, out);
}

static int decode_ipv6(const uint8_t *p, size_t cap, struct pcap_pkt *out)
{
	if (cap < 40 || (p[0] >> 4) != 6)
		return PCAP_DECODE_BAD;
	size_t wire = rd16(p + 4), off = 40;
	uint8_t next = p[6];

	for (int n = 0; n < 16; n++) {
		if (next == IPPROTO_TCP_)
			break;
		if (next == 44) { /* fragment */
			if (cap < off + 8)
				return PCAP_DECODE_BAD;
			if ((rd16(p + off + 2) & 0xfff9) != 0)
				return PCAP_DECODE_FRAGMENT;
			next = p[off];
			off += 8;
			continue;
		}
		if (next != 0 && next != 43 && next != 60 && next != 51)
			return PCAP_DECODE_SKIP;
		if (cap < off + 2)
			return PCAP_DECODE_BAD;
		size_t elen = next == 51 ? ((size_t)p[off + 1] + 2) * 4
					 : ((size_t)p[off + 1] + 1) * 8;
		next = p[off];
		off += elen;
	}
	if (next != IPPROTO_TCP_ || off > cap || off - 40 > wire)
		return next == IPPROTO_TCP_ ? PCAP_DECODE_BAD
					    : PCAP_DECODE_SKIP;
	out->af = AF_INET6;
	memcpy(out->src, p + 8, 16);
	memcpy(out->dst, p + 24, 16);
	return decode_tcp(p + off, cap - off, wire - (off - 40), out);
}

static int decode_ethertype(uint16_t type, const uint8_t *p, size_t cap,
			    struct pcap_pkt *out)
{
	if (type == ETHERTYPE_IP)
		return decode_ipv4(p, cap, out);
	if (type == ETHERTYPE_IPV6)
		return decode_ipv6(p, cap, out);
	return PCAP_DECODE_SKIP;
}

static int decode_ip_any(const uint8_t *p, size_t cap, struct pcap_pkt *out)
{
	if (cap < 1)
		return PCAP_DECODE_BAD;
	if ((p[0] >> 4) == 4)
		return decode_ipv4(p, cap, out);
	if ((p[0] >> 4) == 6)
		return decode_ipv6(p, cap, out);
	return PCAP_DECODE_SKIP;
}

static int decode_ether(const uint8_t *p, size_t cap, struct pcap_pkt *out)
{
	size_t off = 12;
	uint16_t type;

	if (cap < 14)
		return PCAP_DECODE_BAD;
	type = rd16(p + off);
	for (int tags = 0;
	     (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) && tags < 2;
	     tags++) {
		off += 4;
		if (cap < off + 2)
			return PCAP_DECODE_BAD;
		type = rd16(p + off);
	}
	off += 2;
	return decode_ethertype(type, p + off, cap - off, out);
}

/* NULL/LOOP: a 4-byte address family, in the capturing host's order for
 * NULL and network order for LOOP; values differ between systems, so the
 * IP version nibble decides. */
static int decode_loop(const uint8_t *p, size_t cap, struct pcap_pkt *out)
{
	if (cap < 4)
		return PCAP_DECODE_BAD;
	return decode_ip_any(p + 4, cap - 4, out);
}

int pcap_decode_frame(int linktype, const uint8_t *data, size_t caplen,
		      struct pcap_pkt *out)
{
	memset(out, 0, sizeof(*out));
	switch (linktype) {
	case DLT_EN10MB:
		return decode_ether(data, caplen, out);
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return PCAP_DECODE_BAD;
		return decode_ethertype(rd16(data + 14), data + 16, caplen - 16,
					out);
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return PCAP_DECODE_BAD;
		return decode_ethertype(rd16(data), data + 20, caplen - 20,
					out);
	case DLT_NULL:
	case DLT_LOOP:
		return decode_loop(data, caplen, out);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case 101: /* LINKTYPE_RAW as written in some files */
		return decode_ip_any(data, caplen, out);
	default:
		return PCAP_DECODE_LINKTYPE;
	}
}

bool pcap_decode_linktype_ok(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case 101:
		return true;
	default:
		return false;
	}
}

void pcap_decode_addr(int af, const uint8_t *addr, char *out, size_t size)
{
	if (inet_ntop(af, addr, out, (socklen_t)size) == NULL)
		snprintf(out, size, "?");
}
