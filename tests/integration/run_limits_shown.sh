#!/usr/bin/env bash
# A regex stopped by its match limit is counted where the other limits
# are: a rule with a catastrophic pattern ('^(a+)+$') meets a 64 KiB value
# between two short ones.  `custos replay` says "1 regex limits" on its
# "limits hit:" line and still raises the alert of the short value that
# matches; custosd counts the same hit in `custos status` (engine.regex_limit,
# and the human "limits hit:" line).  The hot path's full caches are shown
# too: decode_json's key cache forgotten when a log has too many distinct
# keys, and the index's detection units left unshared when two rules share
# more items than it has memo slots ("caches full:" line of the replay
# summary; engine.key_cache_clears and engine.unshared_units in status).
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

# 300 lines, each with a key of its own: the key cache (128 keys) is full
# and forgotten twice; 2 rules sharing 4100 items: 5 shared units past the
# 4096 slots, unshared in both rules
python3 -c 'import json, sys
for i in range(300):
    sys.stdout.write(json.dumps({"ts": "2025-05-01T10:00:00Z", "agent": "a",
                                 "action": "view", "k%d" % i: "x"}) + "\n")' >"$tmp/keys.jsonl"
python3 -c 'import sys
for r in range(2):
    sys.stdout.write(("---\n" if r else "") + "title: R%d\ndetection:\n" % r)
    for i in range(4100):
        sys.stdout.write("  s%d:\n    query: q%d\n" % (i, i))
    sys.stdout.write("  condition: 1 of s*\n")' >"$tmp/many.yml"
"$custos" replay --rules "$tmp/many.yml" "$tmp/keys.jsonl" >/dev/null 2>"$tmp/err3"
check "replay: full caches shown" \
	grep -q "caches full: 2 key cache clears, 10 rule units unshared" "$tmp/err3"
check "replay: no full cache, no line" test "$(grep -c 'caches full' "$tmp/err")" -eq 0

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
# the 300 lines of distinct keys: the daemon forgets its key cache as many
# times as replay does over the same file
cat "$tmp/keys.jsonl" >>"$tmp/logs/access.log"
read303() { [ "$(status_num engine.events)" = 303 ]; }
check "daemon: 303 events" wait_for 15 read303
"$custos" replay --rules "$tmp/re.yml" "$tmp/logs/access.log" >/dev/null 2>"$tmp/err4"
clears=$(sed -n 's/.*caches full: \([0-9]*\) key cache clears.*/\1/p' "$tmp/err4")
check "replay over the whole file: clears counted ($clears)" test "${clears:-0}" -gt 0
check "daemon: key_cache_clears = replay's" \
	test "$(status_num engine.key_cache_clears)" = "$clears"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
daemon_pid=
finish
