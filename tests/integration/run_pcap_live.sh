#!/usr/bin/env bash
# custosd captures live on the loopback interface (pcap input with an
# interface and a BPF filter) while curl drives a local support console:
# every request becomes an access event, evaluated by the rules; the alerts
# land in the store with the agent taken from the request; pcap's own
# counters appear in `custos status`.  Needs root (or CAP_NET_RAW), curl,
# python3.
. "$(dirname "$0")/lib.sh" "$1"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: live capture needs root"; echo "1 passed, 0 failed"; exit 0
fi
python3 "$repo/tests/integration/console_server.py" 0 >"$tmp/server.out" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; cleanup' EXIT
server_ready() { grep -q ready "$tmp/server.out"; }
check "console server up" wait_for 10 server_ready
port=$(awk '/ready/ {print $2}' "$tmp/server.out")

cat >"$tmp/docs.yml" <<'YML'
title: ID document opened (live capture test)
id: 0e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a21
detection:
  selection:
    action: view_document
    customer|exists: true
  condition: selection
level: medium
YML
{ cat <<YML; daemon_base; } >"$tmp/c.yml"
inputs:
  - name: wire
    type: pcap
    pcap:
      interface: lo
      filter: tcp port $port
      defaults:
        agent: [header.X-Agent, basic.user]
        tool: console
      routes:
        - match: GET /api/customers/{customer}/documents/{object}
          action: view_document
rules: [ $tmp/docs.yml ]
YML
check "--check accepts the live pcap config" \
	bash -c "'$custosd' --check -c '$tmp/c.yml' | grep -q '^OK'"
"$custosd" -f -c "$tmp/c.yml" 2>"$tmp/log" &
daemon_pid=$!
check "daemon up" wait_for 10 test -S "$tmp/ctl.sock"

n=0
for i in $(seq 1 20); do
	curl -s -H "X-Agent: agent-$((i % 3))" \
		"http://127.0.0.1:$port/api/customers/C$i/documents/passport" >/dev/null
	n=$((n + 1))
done
curl -s -u carol:pw "http://127.0.0.1:$port/api/customers/C99/documents/id" >/dev/null
n=$((n + 1))
alerts() { sqlite3 "$tmp/state/alerts.db" 'select count(*) from alerts' 2>/dev/null || echo 0; }
all_alerted() { [ "$(alerts)" = "$n" ]; }
check "one alert per captured request ($n, got $(alerts))" wait_for 20 all_alerted
check "agent from the Basic auth header" \
	test "$(sqlite3 "$tmp/state/alerts.db" "select agent from alerts where customer = 'C99'")" = carol
check "agent from X-Agent" \
	test "$(sqlite3 "$tmp/state/alerts.db" "select count(*) from alerts where agent = 'agent-1'")" = 7
check "pcap counters in status: frames seen" \
	test "$(status_num inputs.0.pcap.frames)" -gt 0
check "pcap counters in status: kernel_received" \
	test "$(status_num inputs.0.pcap.kernel_received)" -gt 0
kill -TERM "$daemon_pid"
wait_for 10 daemon_gone
wait "$daemon_pid"
rc=$?
daemon_pid=
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0
finish
