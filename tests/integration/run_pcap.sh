#!/usr/bin/env bash
# run_pcap.sh CUSTOS: captures real HTTP traffic to a local support console
# (console_server.py) with tcpdump on the loopback interface, then checks
# that `custos pcap-events` finds exactly the requests made (agent via
# header / cookie / Basic / JWT, customer, action, outcome, rows, ticket;
# keep-alive reuse, pipelining, a chunked POST) and the same request list
# (method, URI) as tshark.  Needs root (or CAP_NET_RAW), tcpdump, tshark,
# curl and python3.
set -euo pipefail
CUSTOS=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in tcpdump tshark curl python3; do
	command -v "$tool" >/dev/null || {
		echo "run_pcap: $tool is required (tools/setup-debian.sh)" >&2
		exit 1
	}
done
TMP=$(mktemp -d)
SERVER_PID=""
DUMP_PID=""
cleanup() {
	[ -n "$DUMP_PID" ] && kill "$DUMP_PID" 2>/dev/null || true
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
	[ -n "${KEEP:-}" ] && cp "$TMP/console.pcap" "$KEEP" 2>/dev/null; rm -rf "$TMP"
}
trap cleanup EXIT

python3 "$HERE/console_server.py" 0 >"$TMP/server.out" &
SERVER_PID=$!
for _ in $(seq 50); do
	grep -q ready "$TMP/server.out" 2>/dev/null && break
	sleep 0.1
done
PORT=$(awk '/ready/ {print $2}' "$TMP/server.out")
[ -n "$PORT" ] || { echo "run_pcap: server did not start" >&2; exit 1; }

tcpdump -i lo -U --immediate-mode -s 0 -w "$TMP/console.pcap" "tcp port $PORT" \
	2>"$TMP/tcpdump.err" &
DUMP_PID=$!
for _ in $(seq 50); do
	grep -q listening "$TMP/tcpdump.err" 2>/dev/null && break
	sleep 0.1
done
grep -q listening "$TMP/tcpdump.err" || {
	cat "$TMP/tcpdump.err" >&2
	exit 1
}

B="http://127.0.0.1:$PORT/api/customers"
c() { curl -s "$@" >/dev/null; }
b64url() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }
JWT="$(b64url '{"alg":"none"}').$(b64url '{"sub":"dave","role":"agent"}').sig"

c -H 'X-Agent: alice' -H 'X-Ticket: T-1' "$B/c-1/documents/d-1"
c -b 'agent=bob' "$B/c-2/documents/d-2"
c -u carol:secret "$B/c-3/search?q=smith&limit=25"
c -H "Authorization: Bearer $JWT" -H 'Referer: https://crm.example/tickets/4711/view' \
	"$B/c-4/documents/secret"
# one connection, two requests (keep-alive reuse), then --next on it
c -H 'X-Agent: erin' "$B/c-5/documents/d-5" "$B/c-5/documents/d-6" \
	--next -H 'X-Agent: frank' "$B/c-6/documents/d-7"
# chunked POST with a JSON body
c -H 'X-Agent: gina' -H 'Transfer-Encoding: chunked' \
	-H 'Content-Type: application/json' \
	--data-binary '{"ticket_id":"T-9","rows":500}' "$B/c-7/export"
c -H 'X-Agent: alice' "http://127.0.0.1:$PORT/health"
# true pipelining: two requests in one write before any response
python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
req = ("GET /api/customers/c-8/documents/d-8 HTTP/1.1\r\nHost: x\r\n"
       "X-Agent: hank\r\n\r\n"
       "GET /api/customers/c-8/search?q=a+b&limit=7 HTTP/1.1\r\nHost: x\r\n"
       "X-Agent: hank\r\nConnection: close\r\n\r\n")
s.sendall(req.encode())
while s.recv(65536):
    pass
s.close()
PY
# let tcpdump write everything out: wait until the file stops growing
prev=-1
for _ in $(seq 30); do
	sleep 0.3
	cur=$(stat -c %s "$TMP/console.pcap")
	[ "$cur" -eq "$prev" ] && break
	prev=$cur
done
kill -INT "$DUMP_PID"
wait "$DUMP_PID" || true
DUMP_PID=""

"$CUSTOS" pcap-events --config "$HERE/pcap_console.yml" "$TMP/console.pcap" \
	>"$TMP/events.jsonl" 2>"$TMP/stats.txt"
"$CUSTOS" pcap-events --unmatched --quiet --config "$HERE/pcap_console.yml" \
	"$TMP/console.pcap" >"$TMP/all.jsonl"
cat "$TMP/stats.txt"

python3 - "$TMP/events.jsonl" <<'PY'
import json, sys
got = sorted(
    tuple(str(e.get(k, "-")) for k in
          ("agent", "customer", "action", "object", "outcome", "rows",
           "ticket", "query", "src_ip", "tool"))
    for e in map(json.loads, open(sys.argv[1])))
L = "127.0.0.1"
want = sorted([
    ("alice", "c-1", "view_document", "d-1", "success", "-", "T-1", "-", L, "console"),
    ("bob", "c-2", "view_document", "d-2", "success", "-", "-", "-", L, "console"),
    ("carol", "c-3", "search", "-", "success", "25", "-", "smith", L, "console"),
    ("dave", "c-4", "view_document", "secret", "denied", "-", "4711", "-", L, "console"),
    ("erin", "c-5", "view_document", "d-5", "success", "-", "-", "-", L, "console"),
    ("erin", "c-5", "view_document", "d-6", "success", "-", "-", "-", L, "console"),
    ("frank", "c-6", "view_document", "d-7", "success", "-", "-", "-", L, "console"),
    ("gina", "c-7", "export", "-", "success", "500", "T-9", "-", L, "console"),
    ("hank", "c-8", "view_document", "d-8", "success", "-", "-", "-", L, "console"),
    ("hank", "c-8", "search", "-", "success", "7", "-", "a b", L, "console"),
])
if got != want:
    print("run_pcap: events differ\n got:", *got, "want:", *want, sep="\n  ")
    sys.exit(1)
print("run_pcap: %d events as expected" % len(got))
PY

tshark -r "$TMP/console.pcap" -o "tcp.desegment_tcp_streams:TRUE" \
	-d "tcp.port==$PORT,http" -Y http.request -T fields \
	-e http.request.method -e http.request.uri 2>/dev/null |
	python3 -c '
import sys  # tshark joins the requests of one packet with ","
for l in sys.stdin:
    m, u = l.rstrip("\n").split("\t")
    for pair in zip(m.split(","), u.split(",")):
        print("\t".join(pair))
' | sort >"$TMP/tshark.txt"
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    print(e["http.method"] + "\t" + e["http.uri"])
' "$TMP/all.jsonl" | sort >"$TMP/custos.txt"
if ! diff -u "$TMP/tshark.txt" "$TMP/custos.txt"; then
	echo "run_pcap: request list differs from tshark" >&2
	exit 1
fi
[ "$(wc -l <"$TMP/custos.txt")" -eq 11 ] || {
	echo "run_pcap: expected 11 requests" >&2
	exit 1
}
echo "run_pcap: request list matches tshark ($(wc -l <"$TMP/custos.txt") requests)"
