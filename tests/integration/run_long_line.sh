#!/usr/bin/env bash
# Over-long records do not stop custosd.  A file input gets a 1.5 MiB
# line (over the default max_line_bytes of 1 MiB) between good lines, and
# a syslog TCP input gets a 1 MiB octet-counted frame (over its
# max_message_bytes) between good frames on the same connection.  Each
# long record is cut, counted as truncated and malformed in `custos
# status` and logged; every good record before and after it raises its
# alert, and the file input's alerts are exactly those of `custos replay`
# over the same file.
. "$(dirname "$0")/lib.sh" "$1"

tcp_port=$(python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
write_view_rule "$tmp/view.yml"
mkdir -p "$tmp/logs"
: >"$tmp/logs/access.log"
{ cat <<YML; daemon_base; } >"$tmp/c.yml"
inputs:
  - name: crm
    path: $tmp/logs/access.log
  - name: tcp
    type: syslog
    listen: 127.0.0.1:$tcp_port
    protocol: tcp
    format: json
    max_message_bytes: 64KiB
rules: [ $tmp/view.yml ]
YML
"$custosd" -f -c "$tmp/c.yml" 2>"$tmp/log" &
daemon_pid=$!
ready() { "$custos" status --socket "$tmp/ctl.sock" --json >/dev/null; }
check "daemon up" wait_for 10 ready

# view I: one access event line (a view of customer c-I by agent aI)
view() { printf '{"ts":"2025-05-01T10:00:%02dZ","agent":"a%d","action":"view","customer":"c-%d","ticket":"T-%d"}\n' "$1" "$1" "$1" "$1"; }
# long I BYTES: a view event whose query field makes it BYTES long
long() {
	python3 -c 'import sys; i, n = int(sys.argv[1]), int(sys.argv[2])
head = "{\"ts\":\"2025-05-01T10:00:%02dZ\",\"agent\":\"a%d\",\"action\":\"view\",\"customer\":\"c-%d\",\"query\":\"" % (i, i, i)
sys.stdout.write(head + "x" * (n - len(head) - 3) + "\"}\n")' "$1" "$2"
}
{ view 1; view 2; long 3 $((3 * 512 * 1024)); view 4; view 5; } >>"$tmp/logs/access.log"
alerts() { # alerts INPUT: view alerts stored from that input
	sqlite3 "$tmp/state/alerts.db" "select count(*) from alerts where
		rule_id = '$view_id' and source_input = '$1'" 2>/dev/null
}
file_done() { [ "$(alerts crm)" = 4 ]; }
check "file: the 4 good lines alert" wait_for 15 file_done
check "file: 5 records read" test "$(status_num inputs.0.records)" = 5
check "file: 1 truncated" test "$(status_num inputs.0.truncated)" = 1
check "file: 1 malformed" test "$(status_num inputs.0.malformed)" = 1
check "file: the long line is logged" grep -q "longer than max_line_bytes" "$tmp/log"
view 6 >>"$tmp/logs/access.log"
file_more() { [ "$(alerts crm)" = 5 ]; }
check "file: a line appended later still alerts" wait_for 10 file_more

python3 - "$tcp_port" <<'PY'
import socket, sys
def ev(i, extra=""):
    return ('{"ts":"2025-05-01T11:00:%02dZ","agent":"t%d","action":"view","customer":"c-%d"%s}' % (i, i, i, extra)).encode()
def frame(msg):
    m = b"<134>1 2025-05-01T11:00:00Z host crm - - - " + msg
    return str(len(m)).encode() + b" " + m
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(frame(ev(1)) + frame(ev(2)))
s.sendall(frame(ev(3, ',"query":"' + "y" * (1024 * 1024) + '"')))
s.sendall(frame(ev(4)) + frame(ev(5)))
s.close()
PY
tcp_done() { [ "$(alerts tcp)" = 4 ]; }
check "tcp: the 4 good frames alert" wait_for 15 tcp_done
check "tcp: 5 records" test "$(status_num inputs.1.records)" = 5
check "tcp: 1 truncated" test "$(status_num inputs.1.truncated)" = 1
check "tcp: 1 malformed" test "$(status_num inputs.1.malformed)" = 1
check "daemon still running" daemon_alive

kill -TERM "$daemon_pid"
wait_for 10 daemon_gone
daemon_pid=
"$custos" replay --quiet --rules "$tmp/view.yml" "$tmp/logs/access.log" 2>/dev/null |
	python3 -c 'import json,sys; print("\n".join(sorted(json.loads(l)["id"] for l in sys.stdin)))' >"$tmp/want"
sqlite3 "$tmp/state/alerts.db" "select id from alerts where source_input = 'crm' order by id" >"$tmp/got"
check "file: alerts equal custos replay's ($(wc -l <"$tmp/want"))" cmp -s "$tmp/want" "$tmp/got"
finish
