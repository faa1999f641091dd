#!/usr/bin/env bash
# Watchlists from files and the agent directory, reloaded on SIGHUP:
# custosd starts with a VIP list file, a decoy list file and a directory;
# VIP and decoy accesses alert (rules/watchlists.yml) and a rule on
# agent.role (from the directory) alerts with the role in the stored event.
# After the files are edited and SIGHUP is sent, the new entries alert and
# the removed ones no longer do, while engine state (a ticket seen before
# the reload) carries over.  A list file with a bad line on reload is
# refused at file:line:column and the previous lists stay in force.
. "$(dirname "$0")/lib.sh" "$1"

cat >"$tmp/role.yml" <<'YML'
title: Contractor viewed a record (integration test)
id: 9d2f4b1e-3c5a-4e6f-8a7b-1c2d3e4f5a6b
status: test
detection:
  selection:
    action: view
    agent.role: contractor
  condition: selection
level: medium
YML
printf '# VIP customers\nC100\n  C101  \n\n' >"$tmp/vip.txt"
printf 'C900\n' >"$tmp/decoy.txt"
cat >"$tmp/agents.csv" <<'CSV'
agent,team,site,role,tz,status
a1,billing-1,lisbon,contractor,Europe/Lisbon,active
a2,billing-1,lisbon,agent,Europe/Lisbon,active
CSV
{ cat <<YML; daemon_base; } >"$tmp/c.yml"
inputs:
  - name: pipe
    path: "-"
rules: [ $repo/rules/watchlists.yml, role.yml ]
lists:
  vip_customers: { file: vip.txt }
  decoy_customers: { file: decoy.txt }
lookups: { agents: agents.csv }
YML
n=0
ev() { # ev AGENT ACTION CUSTOMER [TICKET]: one event line, a minute apart
	n=$((n + 1))
	printf '{"ts":"2025-03-03T08:%02d:00Z","agent":"%s","action":"%s","object":"profile","customer":"%s"%s}\n' \
		"$n" "$1" "$2" "$3" "${4:+,\"ticket\":\"$4\"}" >&3
}
mkfifo "$tmp/fifo"
"$custosd" -f -c "$tmp/c.yml" <"$tmp/fifo" 2>"$tmp/log" &
daemon_pid=$!
exec 3>"$tmp/fifo"
records_are() { [ "$(status_num inputs.0.records)" = "$1" ]; }
alerts_are() { [ "$(status_num engine.alerts)" = "$1" ]; }

check "start log counts lists and agents" wait_for 10 \
	grep -q "2 lists (3 values), 2 directory agents" "$tmp/log"
ev a6 ticket_assign C200 T1   # (a stream without tickets judges none)
ev a2 view C101        # VIP (trimmed line), no ticket
ev a2 view C900        # decoy
ev a1 view C555        # contractor
check "before reload: VIP, decoy and role alerts" wait_for 10 alerts_are 3
check "status: 3 list values, 2 agents" test \
	"$(status_num lookups.list_values) $(status_num lookups.agents)" = "3 2"
check "custos status shows them" bash -c "'$custos' status --socket \
	'$tmp/ctl.sock' | grep -q '^lookups: 2 lists (3 values), 2 directory agents'"

printf 'C200\n' >"$tmp/vip.txt"
printf 'C901\n' >"$tmp/decoy.txt"
cat >"$tmp/agents.csv" <<'CSV'
agent,team,site,role,tz,status
a1,billing-1,lisbon,agent,Europe/Lisbon,active
a3,billing-2,porto,contractor,Europe/Lisbon,active
a4,billing-2,porto,agent,Europe/Lisbon,active
CSV
kill -HUP "$daemon_pid"
reloaded() { [ "$(status_num reloads.ok)" = 1 ]; }
check "reload accepted" wait_for 10 reloaded
check "reload log counts lists and agents" \
	grep -q "reloaded: .*2 lists (2 values), 3 directory agents" "$tmp/log"
ev a4 view C100        # no longer VIP
ev a4 view C900        # no longer a decoy
ev a1 view C556        # no longer a contractor
ev a4 view C200        # new VIP
ev a4 view C901        # new decoy
ev a3 view C557        # new contractor
ev a6 view C200 T1     # VIP, with the ticket seen before the reload
check "after reload: all 11 events read" wait_for 10 records_are 11
check "after reload: only the new entries alert" wait_for 10 alerts_are 6
sleep 0.3
check "after reload: exactly 6 alerts" alerts_are 6

printf 'C300\nC3\0001\n' >"$tmp/vip.txt"
kill -HUP "$daemon_pid"
refused() { [ "$(status_num reloads.failed)" = 1 ]; }
check "bad list file refused" wait_for 10 refused
check "refusal names the list file's line and column" \
	grep -q "vip.txt:2:3: NUL byte" "$tmp/log"
ev a4 view C300        # not in force
ev a2 view C200        # the previous list still is
check "previous lists stay in force" wait_for 10 alerts_are 7
check "status still 2 list values" test "$(status_num lookups.list_values)" = 2

# a list file replaced by a FIFO (nobody writes it): refused at once at the
# config's line:column, the daemon keeps serving with the previous lists
rm "$tmp/vip.txt"
mkfifo "$tmp/vip.txt"
kill -HUP "$daemon_pid"
refused2() { [ "$(status_num reloads.failed)" = 2 ]; }
check "FIFO list file refused" wait_for 10 refused2
check "refusal names the config's line and column" \
	grep -q "c.yml:6:26: list file '.*vip.txt' is a FIFO, not a regular file" "$tmp/log"
ev a2 view C200        # the previous list is still in force
check "previous lists still in force" wait_for 10 alerts_are 8

kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=
check "exit 0 after SIGTERM (got $rc)" test "$rc" = 0
q() { sqlite3 "$tmp/state/alerts.db" "$1"; }
by_rule() { # customers (or agents) of one rule's stored alerts
	q "select group_concat(v, ' ') from (select json_extract(event_json,
	'\$.$2') as v from alerts where rule_title = '$1' order by ts)"
}
check "stored VIP alerts" test \
	"$(by_rule 'VIP customer opened without a ticket' customer)" = "C101 C200 C200 C200"
check "stored decoy alerts" test \
	"$(by_rule 'Decoy customer record opened' customer)" = "C900 C901"
check "stored role alerts, with the directory's role" test "$(q "
	select group_concat(a, ' ') from (select json_extract(event_json, '\$.agent')
	|| ':' || json_extract(event_json, '\$.\"agent.role\"') as a from alerts
	where rule_title like 'Contractor%' order by ts)")" = \
	"a1:contractor a3:contractor"
[ "$n_failed" -eq 0 ] || cat "$tmp/log"
finish
