#!/usr/bin/env bash
# A regex stopped by its match limit is counted where the other limits
# are: a rule with a catastrophic pattern ('^(a+)+$') meets a 64 KiB value
# between two short ones.  `custos replay` says "1 regex limits" on its
# "limits hit:" line and still raises the alert of the short value that
# matches; custosd counts the same hit in `custos status` (engine.regex_limit,
# and the human "limits hit:" line).
. "$(dirname "$0")/lib.sh" "$1"

cat >"$tmp/re.yml" <<YML
title: Query of a's (integration test)
id: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
status: test
detection:
  selection:
    query|re: '^(a+)+$'
  condition: selection
level: low
YML
mkdir -p "$tmp/logs"
python3 -c 'import sys
ev = "{\"ts\":\"2025-05-01T10:00:%02dZ\",\"agent\":\"a1\",\"action\":\"search\",\"query\":\"%s\"}\n"
sys.stdout.write(ev % (1, "aaaa") + ev % (2, "a" * 65535 + "!") + ev % (3, "aaa!"))' >"$tmp/logs/access.log"

"$custos" replay --rules "$tmp/re.yml" "$tmp/logs/access.log" >"$tmp/out" 2>"$tmp/err"
check "replay: exit 0" test $? -eq 0
check "replay: one alert (the short match)" test "$(wc -l <"$tmp/out")" -eq 1
check "replay: the limit hit is reported" grep -q "limits hit: .*, 1 regex limits" "$tmp/err"

# no hit, no line
head -n 1 "$tmp/logs/access.log" >"$tmp/short.log"
"$custos" replay --rules "$tmp/re.yml" "$tmp/short.log" >/dev/null 2>"$tmp/err2"
check "replay: no limit hit, no limits line" test "$(grep -c 'limits hit' "$tmp/err2")" -eq 0

daemon_config "$tmp/logs/access.log" "$tmp/re.yml" >"$tmp/c.yml"
"$custosd" -f -c "$tmp/c.yml" 2>"$tmp/log" &
daemon_pid=$!
ready() { "$custos" status --socket "$tmp/ctl.sock" --json >/dev/null; }
check "daemon up" wait_for 10 ready
read3() { [ "$(status_num engine.events)" = 3 ]; }
check "daemon: 3 events" wait_for 15 read3
check "daemon: engine.regex_limit = 1" test "$(status_num engine.regex_limit)" = 1
check "daemon: status line" sh -c "'$custos' status --socket '$tmp/ctl.sock' | grep -q ', 1 regex limits'"
check "daemon: unshared_units shown" test "$(status_num engine.unshared_units)" = 0
check "daemon: key_cache_clears shown" test "$(status_num engine.key_cache_clears)" = 0
kill -TERM "$daemon_pid"
wait "$daemon_pid"
daemon_pid=
finish
