#!/usr/bin/env bash
# Events decoded from HTTP captures get the agent directory's fields like
# events read from files: `custos replay --pcap` and custosd's pcap input
# (offline) both add agent.team/site/role/tz/status to the events of
# listed agents, so a rule on agent.role fires for them, the stored alert's
# event carries the fields, and unlisted agents get none.
. "$(dirname "$0")/lib.sh" "$1"

python3 "$repo/tests/integration/write_pcap.py" "$tmp/console.pcap"
cat >"$tmp/agents.csv" <<'CSV'
agent,team,site,role,tz,shift_start,shift_end,status
alice,billing-1,lisbon,contractor,Europe/Lisbon,08:00,16:00,active
carol,billing-2,porto,agent,Europe/Lisbon,08:00,16:00,leave
CSV
cat >"$tmp/contractor.yml" <<'YML'
title: Contractor opened a document (integration test)
id: 3e0d5c1a-7b2f-4c4e-9a61-2f8e0b7d1c55
status: test
detection:
  selection:
    action: view
    agent.role: contractor
  condition: selection
level: medium
YML
{ cat <<YML; daemon_base; } >"$tmp/c.yml"
inputs:
  - name: console
    type: pcap
    path: console.pcap
    pcap:
      defaults:
        agent: header.X-Agent
      routes:
        - match: GET /api/customers/{customer}/documents/{object}
          action: view
rules: [ $tmp/contractor.yml ]
lookups: { agents: agents.csv }
YML

# custos replay --pcap
"$custos" replay --quiet --config "$tmp/c.yml" --rules "$tmp/contractor.yml" \
	--pcap "$tmp/console.pcap" >"$tmp/replay.jsonl" 2>"$tmp/replay.err"
field() { # field KEY: KEY of each alert's event, one per line
	python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.loads(l)["event"].get(sys.argv[2]))' \
		"$tmp/replay.jsonl" "$1"
}
check "replay --pcap: one alert, for alice" test "$(field agent)" = alice
check "replay --pcap: agent.role from the directory" \
	test "$(field agent.role)" = contractor
check "replay --pcap: agent.team, site, tz, status too" test \
	"$(field agent.team) $(field agent.site) $(field agent.tz) $(field agent.status)" = \
	"billing-1 lisbon Europe/Lisbon active"
check "replay --pcap: capture fields kept" test "$(field customer)" = c-1

# custosd, pcap input
"$custosd" -f -c "$tmp/c.yml" 2>"$tmp/log" &
daemon_pid=$!
q() { sqlite3 "$tmp/state/alerts.db" "$1" 2>/dev/null; }
n_alerts() { [ "$(q 'select count(*) from alerts')" = "$1" ]; }
events_read() { [ "$(status_num inputs.0.records)" = 3 ]; }
check "custosd: the capture's 3 events read" wait_for 10 events_read
check "custosd: one alert stored" wait_for 10 n_alerts 1
check "custosd: stored event has agent.role and agent.team" test "$(q "
	select json_extract(event_json, '\$.agent') || ' ' ||
	json_extract(event_json, '\$.\"agent.role\"') || ' ' ||
	json_extract(event_json, '\$.\"agent.team\"') from alerts")" = \
	"alice contractor billing-1"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0
[ "$n_failed" -eq 0 ] || { cat "$tmp/log" "$tmp/replay.err"; cat "$tmp/replay.jsonl"; }
finish
