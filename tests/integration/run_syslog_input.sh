#!/usr/bin/env bash
# custosd's syslog input end to end with a real client, util-linux
# `logger`: RFC 5424 over UDP (one datagram per message) carrying JSON
# access events, and over TCP with octet-counting framing (RFC 6587)
# carrying key=value events.  Every event becomes the alert the rules
# raise, stored with its input name; the per-input figures (records,
# syslog counters) show in `custos status`; a message that is not an
# access event is counted as malformed, not fatal.
. "$(dirname "$0")/lib.sh" "$1"
command -v logger >/dev/null || { echo "logger missing (bsdutils)"; exit 1; }

read -r udp_port tcp_port < <(python3 -c '
import socket
s1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s1.bind(("127.0.0.1", 0))
s2 = socket.socket(); s2.bind(("127.0.0.1", 0))
print(s1.getsockname()[1], s2.getsockname()[1])')
write_view_rule "$tmp/view.yml"
{ cat <<YML; daemon_base; } >"$tmp/c.yml"
inputs:
  - name: udp
    type: syslog
    listen: 127.0.0.1:$udp_port
    protocol: udp
    format: json
  - name: tcp
    type: syslog
    listen: 127.0.0.1:$tcp_port
    protocol: tcp
    format: kv
    max_message_bytes: 4KiB
    max_connections: 8
    idle_timeout: 10s
rules: [ $tmp/view.yml ]
YML
check "--check accepts the config" \
	bash -c "'$custosd' --check -c '$tmp/c.yml' | grep -q '^OK'"
"$custosd" -f -c "$tmp/c.yml" 2>"$tmp/log" &
daemon_pid=$!
ready() { "$custos" status --socket "$tmp/ctl.sock" --json >/dev/null; }
check "daemon up" wait_for 10 ready

for i in 1 2 3; do
	logger --rfc5424 -n 127.0.0.1 -P "$udp_port" -d -t crm \
		"{\"ts\":\"2025-05-01T10:00:0${i}Z\",\"agent\":\"u$i\",\"action\":\"view\",\"customer\":\"c-$i\",\"ticket\":\"T-$i\"}"
done
logger --rfc5424 -n 127.0.0.1 -P "$udp_port" -d -t crm "not an event"
for i in 4 5 6; do
	logger --rfc5424 -n 127.0.0.1 -P "$tcp_port" -T --octet-count -t crm \
		"ts=2025-05-01T10:00:0${i}Z agent=k$i action=view customer=c-$i ticket=T-$i"
done
alerts() { # alerts INPUT: view alerts stored from that input
	sqlite3 "$tmp/state/alerts.db" "select count(*) from alerts where
		rule_id = '$view_id' and source_input = '$1'"
}
udp_done() { [ "$(alerts udp)" = 3 ]; }
tcp_done() { [ "$(alerts tcp)" = 3 ]; }
check "3 JSON events over UDP -> 3 alerts" wait_for 10 udp_done
check "3 kv events over TCP -> 3 alerts" wait_for 10 tcp_done
check "kv fields reach the alert" test "$(sqlite3 "$tmp/state/alerts.db" \
	"select count(*) from alerts where source_input = 'tcp' and
	 json_extract(event_json, '\$.agent') in ('k4', 'k5', 'k6')")" = 3
check "UDP: 4 records" test "$(status_num inputs.0.records)" = 4
check "UDP: the non-event is malformed" \
	test "$(status_num inputs.0.malformed)" = 1
check "TCP: 3 records" test "$(status_num inputs.1.records)" = 3
check "TCP: connections accepted (syslog counters)" \
	test "$(status_num inputs.1.syslog.accepted)" -ge 3
check "TCP: no framing errors" \
	test "$(status_num inputs.1.syslog.frame_errors)" = 0
kill -TERM "$daemon_pid"
wait_for 10 daemon_gone
wait "$daemon_pid"
rc=$?
daemon_pid=
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0
check "exactly 6 view alerts" test "$(sqlite3 "$tmp/state/alerts.db" \
	"select count(*) from alerts where rule_id = '$view_id'")" = 6
[ "$n_failed" -eq 0 ] || cat "$tmp/log"
finish
