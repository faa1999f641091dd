#!/usr/bin/env python3
"""write_pcap.py OUT.pcap: a capture of HTTP/1.1 exchanges with a support
console, for the pcap input test (stdlib only, no root needed).

One TCP connection per request (handshake, request, response, FIN), as
Ethernet/IPv4/TCP frames with valid checksums, packet times one second
apart from 2025-05-01T10:00:00Z.  Requests: X-Agent names the agent.
  alice GET /api/customers/c-1/documents/d-1          200
  bob   GET /api/customers/c-2/documents/d-2          200
  carol GET /api/customers/c-3/documents/secret       403
  dave  GET /health                                   200 (no route)
"""
import struct
import sys

T0 = 1746093600  # 2025-05-01T10:00:00Z
CLIENT, SERVER = bytes([10, 0, 0, 5]), bytes([10, 0, 0, 9])
REQUESTS = [("alice", "/api/customers/c-1/documents/d-1", 200),
            ("bob", "/api/customers/c-2/documents/d-2", 200),
            ("carol", "/api/customers/c-3/documents/secret", 403),
            ("dave", "/health", 200)]


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags,
                      65535, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    c = csum(pseudo + tcp + payload)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload),
                     0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x09" + b"\x02\0\0\0\0\x05" + b"\x08\x00"
    return eth + ip + tcp + payload


def exchange(i, agent, path, status):
    sport, dport = 40000 + i, 8080
    c, s = 1000, 5000
    req = ("GET %s HTTP/1.1\r\nHost: console\r\nX-Agent: %s\r\n\r\n"
           % (path, agent)).encode()
    body = b"{}"
    resp = ("HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n"
            % (status, len(body))).encode() + body
    SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
    C = lambda *a, **k: frame(CLIENT, SERVER, sport, dport, *a, **k)
    S = lambda *a, **k: frame(SERVER, CLIENT, dport, sport, *a, **k)
    return [C(c, 0, SYN), S(s, c + 1, SYN | ACK), C(c + 1, s + 1, ACK),
            C(c + 1, s + 1, PSH | ACK, req),
            S(s + 1, c + 1 + len(req), PSH | ACK, resp),
            C(c + 1 + len(req), s + 1 + len(resp), FIN | ACK),
            S(s + 1 + len(resp), c + 2 + len(req), FIN | ACK),
            C(c + 2 + len(req), s + 2 + len(resp), ACK)]


with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, (agent, path, status) in enumerate(REQUESTS):
        for k, fr in enumerate(exchange(i, agent, path, status)):
            f.write(struct.pack("<IIII", T0 + i, k * 1000, len(fr), len(fr)))
            f.write(fr)
