#!/usr/bin/env python3
"""gen_pcap.py OUT.pcap N_REQUESTS [CONFIG.yml]: writes a classic pcap
(Ethernet, IPv4) of HTTP/1.1 keep-alive connections to a support console,
100 requests per connection, each answered with a JSON response, plus the
route map for it when CONFIG is given.  Stdlib only (struct)."""
import struct
import sys

out, n = sys.argv[1], int(sys.argv[2])
PER_CONN = 100
f = open(out, "wb")
f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
ts = [1700000000_000000]


def pkt(cip, cport, to_server, seq, ack, flags, data):
    src, dst = (cip, 0x0a000001) if to_server else (0x0a000001, cip)
    sp, dp = (cport, 8080) if to_server else (8080, cport)
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xffffffff,
                      ack & 0xffffffff, 0x50, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, 40 + len(data), 0, 0, 64, 6, 0,
                     src, dst)
    frame = b"\x00" * 12 + b"\x08\x00" + ip + tcp + data
    ts[0] += 50
    f.write(struct.pack("<IIII", ts[0] // 1000000, ts[0] % 1000000,
                        len(frame), len(frame)) + frame)


body = b'{"id": 1, "name": "doc", "pages": 12}'
for c in range((n + PER_CONN - 1) // PER_CONN):
    cip, cport = 0x0a010000 + c % 60000, 10000 + c % 50000
    cs, ss = 1000, 5000
    pkt(cip, cport, True, cs, 0, 0x02, b"")
    pkt(cip, cport, False, ss, cs + 1, 0x12, b"")
    cs += 1
    ss += 1
    for i in range(min(PER_CONN, n - c * PER_CONN)):
        req = (f"GET /api/customers/c-{c % 977}/documents/d-{i} HTTP/1.1\r\n"
               f"Host: console\r\nX-Agent: agent{c % 50}\r\n"
               f"User-Agent: bench\r\nAccept: */*\r\n\r\n").encode()
        pkt(cip, cport, True, cs, ss, 0x18, req)
        cs += len(req)
        resp = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body)) + body
        pkt(cip, cport, False, ss, cs, 0x18, resp)
        ss += len(resp)
    pkt(cip, cport, True, cs, ss, 0x11, b"")
    pkt(cip, cport, False, ss, cs + 1, 0x11, b"")
f.close()
if len(sys.argv) > 3:
    open(sys.argv[3], "w").write("""inputs:
  - name: console
    path: bench.pcap
    pcap:
      defaults: { agent: header.X-Agent }
      routes:
        - match: GET /api/customers/{customer}/documents/{object}
          action: view_document
""")
