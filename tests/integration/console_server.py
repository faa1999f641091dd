#!/usr/bin/env python3
"""A tiny support console for the pcap integration test (stdlib only).

Serves JSON on 127.0.0.1:PORT with HTTP/1.1 keep-alive.  Routes:
  GET  /api/customers/<c>/documents/<d>   200, or 403 when d == "secret"
  GET  /api/customers/<c>/search?q=..&limit=N   200, X-Total-Count: N
  POST /api/customers/<c>/export          reads the body (also chunked),
                                          200 with X-Total-Count from it
  anything else                           404
Prints "ready PORT" on stdout once listening (PORT 0 = pick one).
"""
import http.server
import json
import re
import sys


class Console(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n)

    def reply(self, status, obj, extra=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        m = re.fullmatch(r"/api/customers/([^/]+)/documents/([^/]+)", path)
        if m:
            if m.group(2) == "secret":
                return self.reply(403, {"error": "denied"})
            return self.reply(200, {"document": m.group(2)})
        m = re.fullmatch(r"/api/customers/([^/]+)/search", path)
        if m:
            limit = re.search(r"limit=(\d+)", query)
            n = limit.group(1) if limit else "10"
            return self.reply(200, {"hits": []}, {"X-Total-Count": n})
        return self.reply(404, {"error": "not found"})

    def do_POST(self):
        data = self.body()
        m = re.fullmatch(r"/api/customers/([^/]+)/export", self.path)
        if not m:
            return self.reply(404, {"error": "not found"})
        req = json.loads(data or b"{}")
        return self.reply(200, {"ok": True},
                          {"X-Total-Count": str(req.get("rows", 0))})


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Console)
    print("ready", srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
