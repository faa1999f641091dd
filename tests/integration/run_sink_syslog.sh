#!/usr/bin/env bash
# custosd's syslog alert sink delivering to a real rsyslogd, started by
# the test with a private config: an imuxsock socket in the test directory
# (sinks.syslog.socket_path) and an omfile action.  Every alert in the
# store arrives exactly once, as one line of JSON, with the configured
# ident, facility and the priority of its rule level; the sink's figures
# (queued, sent, dropped) show in `custos status`; alerts raised just
# before SIGTERM are flushed at exit.
. "$(dirname "$0")/lib.sh" "$1"
command -v rsyslogd >/dev/null || { echo "rsyslogd missing (rsyslog)"; exit 1; }

cat >"$tmp/rsyslog.conf" <<CONF
global(workDirectory="$tmp" maxMessageSize="64k")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$tmp/log" RateLimit.Interval="0")
template(name="t" type="string"
         string="%syslogtag%|%syslogfacility-text%|%syslogseverity-text%|%msg%\n")
*.* action(type="omfile" file="$tmp/out" template="t")
CONF
rsyslogd -n -f "$tmp/rsyslog.conf" -i "$tmp/rsyslogd.pid" 2>"$tmp/rsyslog.err" &
rsyslog_pid=$!
trap 'kill "$rsyslog_pid" 2>/dev/null; cleanup' EXIT
check "rsyslogd listening" wait_for 10 test -S "$tmp/log"

n=300
python3 - "$n" >"$tmp/ev.jsonl" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print('{"ts":"2025-05-01T10:%02d:%02dZ","agent":"a%d","action":"view",'
          '"customer":"c-%d","ticket":"T-%d"}' % (i // 60, i % 60, i % 7, i, i))
PY
write_view_rule "$tmp/view.yml"
{ daemon_config "$tmp/ev.jsonl"; cat <<YML; } >"$tmp/c.yml"
sinks:
  syslog:
    enabled: true
    ident: custos-it
    facility: local3
    socket_path: $tmp/log
    priority: { medium: notice }
YML
check "--check accepts the config" \
	bash -c "'$custosd' --check -c '$tmp/c.yml' | grep -q '^OK'"
"$custosd" -f -c "$tmp/c.yml" 2>"$tmp/log.txt" &
daemon_pid=$!
records_read() { [ "$(status_num inputs.0.records)" = "$n" ]; }
check "all $n records read" wait_for 20 records_read
lines() { [ "$(wc -l <"$tmp/out" 2>/dev/null)" -ge "$n" ]; }
check "$n lines reach rsyslog" wait_for 20 lines
check "status: $n sent" test "$(status_num sinks.syslog.sent)" = "$n"
check "status: none dropped" test "$(status_num sinks.syslog.dropped)" = 0
check "status: queue empty" test "$(status_num sinks.syslog.queued)" = 0

# more alerts, then SIGTERM at once: the exit flush delivers them
for i in 1 2 3 4 5; do
	echo "{\"ts\":\"2025-05-01T11:00:0${i}Z\",\"agent\":\"late\",\"action\":\"view\",\"customer\":\"z-$i\"}"
done >>"$tmp/ev.jsonl"
more_read() { [ "$(status_num inputs.0.records)" = "$((n + 5))" ]; }
wait_for 20 more_read
kill -TERM "$daemon_pid"
wait_for 10 daemon_gone
wait "$daemon_pid"
rc=$?
daemon_pid=
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0
all_lines() { [ "$(wc -l <"$tmp/out")" -ge "$((n + 5))" ]; }
wait_for 10 all_lines
sqlite3 "$tmp/state/alerts.db" "select id from alerts order by id" >"$tmp/want"
check "store holds $((n + 5)) alerts" test "$(wc -l <"$tmp/want")" = "$((n + 5))"
python3 - "$tmp/out" >"$tmp/got" 2>"$tmp/bad" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    tag, fac, sev, msg = line.rstrip("\n").split("|", 3)
    if msg.lstrip().startswith("custos: seal "):
        continue  # the chain seal at exit (checked below)
    a = json.loads(msg)
    if not tag.startswith("custos-it[") or fac != "local3" or sev != "notice":
        print("bad line:", line, file=sys.stderr)
    print(a["id"])
PY
check "every line: ident, facility local3, severity notice" test ! -s "$tmp/bad"
sort "$tmp/got" >"$tmp/got.sorted"
check "every stored alert arrived exactly once" cmp -s "$tmp/want" "$tmp/got.sorted"
check "the exit seal reached syslog too" \
	grep -Eq '^custos-it\[[0-9]+\]:?\|local3\|notice\| ?custos: seal seq=[0-9]+ head=[0-9a-f]{64}$' "$tmp/out"
[ "$n_failed" -eq 0 ] && { kill "$rsyslog_pid"; wait "$rsyslog_pid"; } || { cat "$tmp/log.txt" "$tmp/rsyslog.err" "$tmp/bad"; }
finish
