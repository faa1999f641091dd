#!/usr/bin/env bash
# SIGHUP reloads config and rules: a bad rule set is logged at
# file:line:column and refused while the running rules keep alerting; a
# good one replaces them.
. "$(dirname "$0")/lib.sh" "$1"

mkdir "$tmp/rules"
cat >"$tmp/rules/export.yml" <<'YML'
title: Export seen
id: 0c9a3c55-0000-4000-8000-000000000001
detection:
  selection:
    action: export
  condition: selection
level: low
YML
cat >"$tmp/c.yml" <<YML
inputs:
  - name: pipe
    path: "-"
rules: [ $tmp/rules ]
state_dir: $tmp/state
control_socket: $tmp/ctl.sock
YML
ev() { # ev N ACTION: one event line
	printf '{"ts":"2025-03-03T08:00:%02dZ","agent":"a1","action":"%s"}\n' "$1" "$2"
}
mkfifo "$tmp/fifo"
"$custosd" -f -c "$tmp/c.yml" <"$tmp/fifo" 2>"$tmp/log" &
daemon_pid=$!
exec 3>"$tmp/fifo"
alerts_are() { [ "$(status_num engine.alerts)" = "$1" ]; }
ev 1 export >&3
check "export alert raised" wait_for 10 alerts_are 1

cat >"$tmp/rules/broken.yml" <<'YML'
title: Broken
detection:
  selection:
    action|contians: x
  condition: selection
YML
kill -HUP "$daemon_pid"
refused() { [ "$(status_num reloads.failed)" = 1 ]; }
check "bad rule set refused" wait_for 10 refused
check "refusal names file:line:column" \
	grep -q "broken.yml:4:[0-9]*: .*contians" "$tmp/log"
check "refusal logged" grep -q "reload refused" "$tmp/log"
ev 2 export >&3
check "old rules still alerting" wait_for 10 alerts_are 2
check "still one rule" test "$(status_num rules.0.title)" = "Export seen"

cat >"$tmp/rules/broken.yml" <<'YML'
title: View seen
id: 0c9a3c55-0000-4000-8000-000000000002
detection:
  selection:
    action: view
  condition: selection
level: low
YML
kill -HUP "$daemon_pid"
reloaded() { [ "$(status_num reloads.ok)" = 1 ]; }
check "good rule set loaded" wait_for 10 reloaded
ev 3 view >&3
ev 4 export >&3
check "new and kept rules alert" wait_for 10 alerts_are 4
check "daemon still running" daemon_alive
kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=
check "exit 0 after SIGTERM (got $rc)" test "$rc" = 0
check "4 alerts stored" \
	test "$(sqlite3 "$tmp/state/alerts.db" 'select count(*) from alerts')" = 4
finish
