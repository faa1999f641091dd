/*
 * pcap_decode: one captured frame -> the TCP segment it carries.
 *
 * Link types: Ethernet (EN10MB, with 802.1Q/802.1ad tags), Linux cooked
 * capture v1 and v2 (SLL, SLL2), BSD loopback (NULL, LOOP: 4-byte address
 * family in host or network order), raw IP (RAW, IPV4, IPV6).  IPv4
 * (options skipped, fragments refused) and IPv6 (hop-by-hop, routing,
 * destination-options, AH extension headers skipped; fragments and ESP
 * refused).  The result points into the frame: valid as long as the frame.
 * Pure: no allocation, no clock, never reads past caplen.
 */
#ifndef CUSTOS_PCAP_DECODE_H
#define CUSTOS_PCAP_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

struct pcap_pkt {
	int af;			  /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16]; /* IPv4 uses the first 4 bytes */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;		/* TCP_* */
	const uint8_t *payload; /* captured payload bytes */
	size_t cap_len;		/* bytes of payload captured */
	size_t len;		/* payload length on the wire (>= cap_len) */
};

enum pcap_decode_result {
	PCAP_DECODE_TCP = 0,	   /* out filled */
	PCAP_DECODE_SKIP = 1,	   /* not TCP over IP (ARP, UDP, ...) */
	PCAP_DECODE_FRAGMENT = 2,  /* an IP fragment (not reassembled) */
	PCAP_DECODE_BAD = -1,	   /* malformed or cut before the TCP header */
	PCAP_DECODE_LINKTYPE = -2, /* link type not supported */
};

/* Decodes one frame of link type `linktype` (a DLT_ value, as returned by
 * pcap_datalink()).  caplen bytes are readable at data.  Returns an
 * enum pcap_decode_result. */
int pcap_decode_frame(int linktype, const uint8_t *data, size_t caplen,
		      struct pcap_pkt *out);

/* True if linktype is one pcap_decode_frame() understands. */
bool pcap_decode_linktype_ok(int linktype);

/* Formats the packet's source address as text ("10.0.0.1", "::1"). */
void pcap_decode_addr(int af, const uint8_t *addr, char *out, size_t size);

#endif
