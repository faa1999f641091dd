#!/usr/bin/env bash
# custosd and the store's analyst side, end to end:
# - every evaluated event is retained as an access event (with its
#   checkpoint) and shows in `custos customer` / `custos blast-radius`;
# - `custos alerts resolve ID --false-positive --suppress 7d` stops later
#   alerts of that rule + agent from reaching the sink (a unix datagram
#   receiver standing in for syslog); they are still stored, resolved by
#   custosd with a triage row, and counted in `custos status`;
# - the chain is sealed (a "custos: seal seq=N head=HEX" log line) and
#   `custos verify` passes after kill -9 in the middle of ingestion, with
#   no access event lost or written twice (one transaction);
# - the retention purge (max_age, max_events) runs in the daemon and keeps
#   verify passing.
. "$(dirname "$0")/lib.sh" "$1"
db=$tmp/state/alerts.db

# the sink's receiver: one datagram = one line in $tmp/out
python3 - "$tmp/log" "$tmp/out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(1 << 20).decode("utf-8", "replace").rstrip("\n") + "\n")
        out.flush()
PY
recv_pid=$!
trap 'kill "$recv_pid" 2>/dev/null; cleanup' EXIT
check "receiver listening" wait_for 10 test -S "$tmp/log"

# events: FIRST..FIRST+N-1, `ts` minutes ago counting down, agents a0..a2;
# OLD events 200 days ago (beyond retention.max_age)
gen() { # gen FIRST N AGENT|"" [OLD]
	python3 - "$@" <<'PY'
import sys, time
first, n = int(sys.argv[1]), int(sys.argv[2])
agent = sys.argv[3] if len(sys.argv) > 3 else ""
old = len(sys.argv) > 4
base = time.time() - (200 * 86400 if old else 3600)
for i in range(first, first + n):
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + i * 0.01))
    ts += ".%03dZ" % (i % 100 * 10)
    a = agent or "a%d" % (i % 3)
    c = ("old-%d" if old else "c-%d") % (i % 50)
    print('{"ts":"%s","agent":"%s","action":"view","customer":"%s",'
          '"ticket":"T-%d"}' % (ts, a, c, i))
PY
}
gen 0 300 >"$tmp/ev.jsonl"
gen 0 20 "" old >>"$tmp/ev.jsonl"
write_view_rule "$tmp/view.yml"
cat >"$tmp/c.yml" <<YML
inputs:
  - name: crm
    path: $tmp/ev.jsonl
rules: [ $tmp/view.yml ]
state_dir: $tmp/state
control_socket: $tmp/ctl.sock
checkpoint: { every_ms: 100ms, every_records: 2000 }
sinks:
  syslog: { enabled: true, ident: custos-soc, socket_path: $tmp/log }
retention: { access_events: true, max_age: 90d, purge_interval: 1s }
seal_interval: 1s
YML
check "--check accepts retention and seal_interval" \
	bash -c "'$custosd' --check -c '$tmp/c.yml' | grep -q '^OK'"
start() {
	"$custosd" -f -c "$tmp/c.yml" 2>>"$tmp/log.txt" &
	daemon_pid=$!
	wait_for 10 test -S "$tmp/ctl.sock"
}
stop() {
	kill -TERM "$daemon_pid"
	wait "$daemon_pid"
	rc=$?
	daemon_pid=
	rm -f "$tmp/ctl.sock"
}
q() { sqlite3 "$db" "$1"; }
alert_lines() { grep -c '"rule_id"' "$tmp/out" 2>/dev/null || echo 0; }
start
records_are() { [ "$(status_num inputs.0.records)" = "$1" ]; }
check "320 records read" wait_for 20 records_are 320
stored_events_are() { [ "$(q 'select count(*) from access_events')" = "$1" ]; }
# the old events are retained, then purged by age (with their alerts)
check "old events purged by max_age: 300 retained" wait_for 10 stored_events_are 300
purged_old() { [ "$(q "select count(*) from alerts where ts_ms < (strftime('%s','now') - 100*86400) * 1000")" = 0 ] && [ "$(q 'select count(*) from purges')" -ge 1 ]; }
check "old alerts purged, purge marker chained" wait_for 10 purged_old
retained_is() { [ "$(status_num store.access_events.retained)" = "$1" ]; }
check "status: 300 access events retained" wait_for 5 retained_is 300
sent() { [ "$(alert_lines)" -ge "$1" ]; }
check "320 alerts reached the sink" wait_for 10 sent 320
check "a seal line in the log" wait_for 10 grep -Eq 'custos: seal seq=[0-9]+ head=[0-9a-f]{64}$' "$tmp/log.txt"
check "status: a seal" test "$(status_num store.seal.seals)" -ge 1

"$custos" customer c-7 --since 1d --db "$db" --json >"$tmp/cust.json"
check "custos customer shows the retained accesses" \
	python3 -c "import json,sys
rows=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows=rows[0] if len(rows)==1 and isinstance(rows[0],list) else rows
assert len(rows)==6, len(rows)
assert all(r['agent'] in ('a0','a1','a2') for r in rows)" "$tmp/cust.json"
"$custos" blast-radius --agent a1 --since 1d --db "$db" >"$tmp/blast.txt"
check "custos blast-radius lists the agent's customers" \
	bash -c "grep -q 'c-1\b' '$tmp/blast.txt' && grep -q 'c-49' '$tmp/blast.txt' && ! grep -q 'old-' '$tmp/blast.txt'"

# suppress rule + agent a1 from one of its alerts on
id=$(q "select id from alerts where agent = 'a1' order by ts_ms desc limit 1")
check "resolve --false-positive --suppress 7d" \
	"$custos" alerts resolve "$id" --false-positive --suppress 7d --db "$db"
before=$(alert_lines)
gen 1000 30 >>"$tmp/ev.jsonl" # a0, a1, a2: 10 each
check "350 records read" wait_for 20 records_are 350
check "status: 10 suppressed" test "$(status_num store.suppressed)" = 10
check "20 new alerts (a0, a2) reached the sink" wait_for 10 sent $((before + 20))
sleep 0.5 # nothing else may arrive
check "no a1 alert after the suppression reached the sink" \
	test "$(tail -n +$((before + 1)) "$tmp/out" | grep -c '"agent":"a1"')" = 0
stored_ok() {
	[ "$(q "select count(*) from alerts a join triage t on t.alert_id = a.id
		where a.agent = 'a1' and a.status = 'resolved' and t.user = 'custosd'")" = 10 ]
}
check "suppressed alerts stored, resolved by custosd" wait_for 5 stored_ok
check "status: 10 suppressed alerts stored" \
	test "$(status_num store.suppressed_stored)" = 10
check "custos verify passes" "$custos" verify --db "$db"
"$custos" status --socket "$tmp/ctl.sock" >"$tmp/status.txt"
check "custos status: suppressed, retained, last seal" bash -c "
	grep -q '^suppressed: 10 alerts kept from the sinks (10 stored resolved)' '$tmp/status.txt' &&
	grep -q '^access events: 330 retained' '$tmp/status.txt' &&
	grep -Eq '^last seal: seq [0-9]+ head [0-9a-f]{64}' '$tmp/status.txt'"

# kill -9 in the middle of a larger batch, then restart
gen 2000 30000 >>"$tmp/ev.jsonl"
sleep "0.$((RANDOM % 3 + 1))"
kill -KILL "$daemon_pid"
echo "killed with $(q 'select count(*) from access_events') of $((300 + 30 + 30000)) access events stored"
wait "$daemon_pid" 2>/dev/null
daemon_pid=
rm -f "$tmp/ctl.sock"
check "custos verify passes right after kill -9" "$custos" verify --db "$db"
start
total=$((300 + 30 + 30000))
check "ingestion completes after the crash" wait_for 60 stored_events_are $total
check "no access event written twice" \
	test "$(q 'select count(*) from (select distinct source from access_events)')" = $total
stop
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0
check "exit seal logged" test "$(tail -n 3 "$tmp/log.txt" | grep -c 'custos: seal')" = 1
check "custos verify passes after the crash and restart" "$custos" verify --db "$db"
check "seals recorded" test "$(q 'select count(*) from seals')" -ge 2

# retention by count: the daemon keeps the newest 1000 access events
sed -i 's/max_age: 90d/max_age: 90d, max_events: 1000/' "$tmp/c.yml"
start
check "max_events purge keeps 1000" wait_for 10 stored_events_are 1000
stop
check "custos verify passes after the purges" "$custos" verify --db "$db"
[ "$n_failed" -eq 0 ] || cat "$tmp/log.txt"
finish
