#!/usr/bin/env bash
# custosd's pcap input in offline mode: a capture written by
# write_pcap.py (HTTP/1.1 requests to a support console) is replayed once;
# each routed request becomes an access event evaluated by the rules, with
# field ids bound to the daemon's ruleset table — a rule on http.status, a
# field no canonical id covers, must match too.  The capture figures
# (frames, unmatched requests, drops) show in `custos status`; a SIGHUP
# reload rebinds the input to the new table without harm.
. "$(dirname "$0")/lib.sh" "$1"

python3 "$repo/tests/integration/write_pcap.py" "$tmp/console.pcap"
write_view_rule "$tmp/view.yml"
cat >"$tmp/denied.yml" <<YML
title: Document refused by the console (integration test)
id: 7a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d
status: test
detection:
  selection:
    http.status: 403
  condition: selection
level: high
YML
{ cat <<YML; daemon_base; } >"$tmp/c.yml"
inputs:
  - name: console
    type: pcap
    path: console.pcap
    pcap:
      defaults:
        agent: header.X-Agent
        tool: console
      routes:
        - match: GET /api/customers/{customer}/documents/{object}
          action: view
rules: [ $tmp/view.yml, $tmp/denied.yml ]
YML
check "--check accepts the config" \
	bash -c "'$custosd' --check -c '$tmp/c.yml' | grep -q '^OK'"
"$custosd" -f -c "$tmp/c.yml" 2>"$tmp/log" &
daemon_pid=$!
q() { sqlite3 "$tmp/state/alerts.db" "$1" 2>/dev/null; }
n_alerts() { [ "$(q 'select count(*) from alerts')" = "$1" ]; }
check "4 alerts (3 views, 1 refusal)" wait_for 10 n_alerts 4
check "views: agent and customer from the capture" test "$(q "
	select group_concat(p, ' ') from (select
	json_extract(event_json, '\$.agent') || ':' ||
	json_extract(event_json, '\$.customer') as p from alerts
	where rule_id = '$view_id' order by 1)")" = "alice:c-1 bob:c-2 carol:c-3"
check "rule on http.status matched (daemon's field ids)" test "$(q "
	select json_extract(event_json, '\$.agent') from alerts
	where rule_id = '7a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d'")" = carol
check "source is the capture file" test "$(q "select count(*) from alerts
	where source_input = 'console' and source_path = '$tmp/console.pcap'")" = 4
check "status: 3 events" test "$(status_num inputs.0.records)" = 3
check "status: type pcap" test "$(status_num inputs.0.type)" = pcap
check "status: 32 frames" test "$(status_num inputs.0.pcap.frames)" = 32
check "status: 1 unmatched request" \
	test "$(status_num inputs.0.pcap.unmatched)" = 1
check "status: offline, no kernel drops" \
	test "$(status_num inputs.0.pcap.kernel_dropped)" = 0
kill -HUP "$daemon_pid"
reloaded() { [ "$(status_num reloads.ok)" = 1 ]; }
check "SIGHUP reload accepted" wait_for 10 reloaded
check "alive after reload" daemon_alive
kill -TERM "$daemon_pid"
wait_for 10 daemon_gone
wait "$daemon_pid"
rc=$?
daemon_pid=
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0
check "still 4 alerts" n_alerts 4
[ "$n_failed" -eq 0 ] || { cat "$tmp/log"; q "select source_input, source_path from alerts"; }
finish
