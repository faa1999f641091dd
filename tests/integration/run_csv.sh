#!/usr/bin/env bash
# custosd reading a CSV file input: the header is each file's first line.
# A file rotated away keeps its header (a line appended to it after the
# rename is decoded with the header read back from its first line); the
# new file brings its own header, here with the columns in another order;
# after a restart the daemon resumes past line 1 and reads the header from
# the file.  Every row becomes the alert the rule raises, with the right
# field values; a row with the wrong number of columns is malformed.
. "$(dirname "$0")/lib.sh" "$1"

mkdir "$tmp/logs"
log=$tmp/logs/access.csv
{
	echo 'ts,agent,action,customer,ticket'
	echo '2025-05-01T10:00:01Z,alice,view,c-1,T-1'
	echo '2025-05-01T10:00:02Z,alice,view,c-2,"T-2, urgent"'
	echo '2025-05-01T10:00:03Z,bob,search,,T-3'
	echo '2025-05-01T10:00:04Z,bob,view,c-4'
} >"$log"
write_view_rule "$tmp/view.yml"
{ cat <<YML; daemon_base; } >"$tmp/c.yml"
inputs:
  - name: crm
    path: $tmp/logs/access.csv
    format: csv
rules: [ $tmp/view.yml ]
YML
check "--check accepts the config" \
	bash -c "'$custosd' --check -c '$tmp/c.yml' | grep -q '^OK'"
start() {
	"$custosd" -f -c "$tmp/c.yml" 2>>"$tmp/log" &
	daemon_pid=$!
}
stop() {
	kill -TERM "$daemon_pid"
	wait_for 10 daemon_gone
	wait "$daemon_pid"
	daemon_pid=
}
q() { sqlite3 "$tmp/state/alerts.db" "$1" 2>/dev/null; }
pairs() { # agent:customer of the stored alerts, sorted
	q "select json_extract(event_json, '\$.agent') || ':' ||
	   json_extract(event_json, '\$.customer') from alerts order by 1" |
		tr '\n' ' '
}
n_alerts() { [ "$(q 'select count(*) from alerts')" = "$1" ]; }

start
check "2 alerts from the first file" wait_for 10 n_alerts 2
check "one malformed row (4 columns)" test "$(status_num inputs.0.malformed)" = 1
check "one header parsed" test "$(status_num inputs.0.csv.headers)" = 1
check "fields named by the header" test "$(pairs)" = "alice:c-1 alice:c-2 "

# rotation: the old file gets one more line after the rename, the new file
# has its columns in another order
mv "$log" "$log.1"
echo '2025-05-01T10:00:05Z,carol,view,c-5,T-5' >>"$log.1"
{
	echo 'customer,action,ts,agent'
	echo 'c-6,view,2025-05-01T10:00:06Z,dave'
	echo 'c-7,view,2025-05-01T10:00:07Z,dave'
} >"$log"
check "3 more alerts across the rotation" wait_for 15 n_alerts 5
check "each file decoded with its own header" test "$(pairs)" = \
	"alice:c-1 alice:c-2 carol:c-5 dave:c-6 dave:c-7 "
check "old file's header read back from disk" \
	test "$(status_num inputs.0.csv.header_reads)" = 1
stop

# restart: resume past line 1 of the new file
echo 'c-8,view,2025-05-01T10:00:08Z,erin' >>"$log"
start
check "1 more alert after restart" wait_for 15 n_alerts 6
check "resumed file decoded with its header" \
	test "$(q "select json_extract(event_json, '\$.agent') from alerts
		   where json_extract(event_json, '\$.customer') = 'c-8'")" = erin
check "no new malformed rows" test "$(status_num inputs.0.malformed)" = 0
stop

# format csv is refused where there is no file header
cat >"$tmp/bad.yml" <<YML
inputs:
  - name: relay
    type: syslog
    listen: 127.0.0.1:5514
    format: csv
rules: [ $tmp/view.yml ]
YML
"$custosd" --check -c "$tmp/bad.yml" >/dev/null 2>"$tmp/bad.err"
check "--check refuses csv over syslog (exit 2)" test $? = 2
check "... at file:line:column" \
	grep -qF "$tmp/bad.yml:5:13: format csv needs a header line" "$tmp/bad.err"
[ "$n_failed" -eq 0 ] || cat "$tmp/log"
finish
