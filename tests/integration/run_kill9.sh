#!/usr/bin/env bash
# No loss, no repeats across crashes: custosd tails a large generated log
# (file input), is killed with SIGKILL at several random points during
# ingestion and restarted each time; at the end its store must hold exactly
# the alert ids of one uninterrupted `custos replay --db` over the file
# (ids depend only on the input), and exactly its retained access events
# (same events, each once).  Also: a SIGTERM stop and restart repeats
# nothing.  Alerts are also committed on their own every 50 ms (between
# checkpoints, so the kills land after some of them): the store ignores
# those raised again after a restart, and the syslog sink (a datagram
# socket read by this test across the restarts) gets no alert twice and
# none that replay does not raise.
. "$(dirname "$0")/lib.sh" "$1"

# the sink's receiver: one line per datagram, for the whole test
python3 - "$tmp/sink.sock" "$tmp/sink.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(sys.argv[1])
with open(sys.argv[2], 'ab', buffering=0) as out:
    while True:
        out.write(s.recv(1 << 20).rstrip(b'\n') + b'\n')
PY
sink_pid=$!
trap 'kill "$sink_pid" 2>/dev/null; cleanup' EXIT

events=${CUSTOS_KILL9_EVENTS:-300000}
python3 "$repo/bench/gen_events.py" --events "$events" --insider >"$tmp/ev.jsonl"
cat >"$tmp/c.yml" <<YML
inputs:
  - name: crm
    path: $tmp/ev.jsonl
rules: [ $repo/rules ]
state_dir: $tmp/state
control_socket: $tmp/ctl.sock
checkpoint: { every_records: 40000, every_ms: 1s, alerts_every_ms: 50ms }
retention: { access_events: true, max_age: 0 }
sinks:
  syslog: { enabled: true, socket_path: $tmp/sink.sock }
YML
"$custos" replay --quiet --rules "$repo/rules" --db "$tmp/ref.db" \
	--keep-events "$tmp/ev.jsonl" >/dev/null 2>&1
store_ids "$tmp/ref.db" >"$tmp/want"
# retained events: the kept fields and the line number of the source
events() {
	sqlite3 "$1" "select ts_ms, agent, customer, action, object, ticket,
		team, substr(source, length(rtrim(source, '0123456789')) + 1)
		from access_events order by 1, 2, 3, 4, 5, 6, 7, 8"
}
events "$tmp/ref.db" >"$tmp/want_events"
n=$(wc -l <"$tmp/ev.jsonl")

start() {
	"$custosd" -f -c "$tmp/c.yml" 2>>"$tmp/log" &
	daemon_pid=$!
	wait_for 10 test -S "$tmp/ctl.sock"
}
records() { status_num inputs.0.records 2>/dev/null || echo 0; }
alert_commits() { status_num checkpoint.alert_commits 2>/dev/null || echo 0; }
n_alert_commits=0 # over all the runs (each process counts its own)
for i in 1 2 3 4; do
	start
	# let it read a random amount, then kill it mid-ingestion
	sleep "$((RANDOM % 2)).$((RANDOM % 9 + 1))"
	n_alert_commits=$((n_alert_commits + $(alert_commits)))
	echo "kill -9 after $(records) records"
	kill -KILL "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null
	daemon_pid=
	rm -f "$tmp/ctl.sock"
done
start
all_read() {
	[ "$(sqlite3 "$tmp/state/alerts.db" 'select count(*) from alerts')" = \
		"$(wc -l <"$tmp/want")" ] && [ "$(status_num pending_alerts)" = 0 ]
}
# done when every alert is stored (slow builds take longer: fail only when
# reading stalls for 30 s)
check "ingestion completes after restarts" wait_progress 30 records all_read
n_alert_commits=$((n_alert_commits + $(alert_commits)))
echo "alerts-only commits over the five runs: $n_alert_commits"
check "alerts-only commits ran ($n_alert_commits over the five runs)" \
	test "$n_alert_commits" -gt 0
echo "alerts raised again after the last crash, ignored by the store:" \
	"$(status_num checkpoint.alerts_repeated)"
echo "retained rows of unfinished checkpoints removed at the restarts:" \
	"$(grep -o '[0-9]* access events of an unfinished' "$tmp/log" |
		awk '{s += $1} END {print s + 0}')"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=
check "SIGTERM exit 0 (got $rc)" test "$rc" = 0
store_ids "$tmp/state/alerts.db" >"$tmp/got"
check "some alerts expected" test -s "$tmp/want"
check "same alert ids as one uninterrupted replay" cmp -s "$tmp/want" "$tmp/got"
events "$tmp/state/alerts.db" >"$tmp/got_events"
check "every event retained once, as by replay --keep-events" \
	cmp -s "$tmp/want_events" "$tmp/got_events"
check "events retained ($(wc -l <"$tmp/want_events"))" \
	test "$(wc -l <"$tmp/want_events")" = "$n"
# a clean restart resumes at the end: nothing read again, nothing repeated
start
check "restart after SIGTERM reads nothing again" \
	test "$(status_num inputs.0.records)" = 0
kill -TERM "$daemon_pid"
wait "$daemon_pid"
daemon_pid=
check "no alert repeated" \
	test "$(sqlite3 "$tmp/state/alerts.db" 'select count(*) from alerts')" = "$(wc -l <"$tmp/want")"
# the sink: ids of the alerts received (each line: syslog header, JSON)
sink_ids() {
	sed -n 's/^[^{]*{"id":"\([^"]*\)".*/\1/p' "$tmp/sink.out" | LC_ALL=C sort
}
sink_ids >"$tmp/sink_ids"
check "the sink got alerts ($(wc -l <"$tmp/sink_ids") of $(wc -l <"$tmp/want"))" \
	test -s "$tmp/sink_ids"
check "the sink got every line as an alert" \
	test "$(wc -l <"$tmp/sink_ids")" = "$(grep -c "{" "$tmp/sink.out")"
check "the sink got no alert twice" test -z "$(uniq -d "$tmp/sink_ids")"
check "the sink got only alerts that replay raises" \
	test -z "$(comm -23 "$tmp/sink_ids" "$tmp/want")"
finish
