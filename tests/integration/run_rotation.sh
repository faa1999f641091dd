#!/usr/bin/env bash
# custosd tails a log while a writer appends to it and rotates it, the way
# logrotate does: twice by rename (with late writes to the renamed file, as
# from a writer that has not reopened yet) and twice by copytruncate.  At
# the end every view event written must have raised exactly one alert in
# the daemon's store — none lost, none twice — compared by event content
# with `custos replay` over everything written, in order.
# copytruncate is only lossless if nothing is written between the copy and
# the truncation; like logrotate's copytruncate, the writer here pauses for
# it (and waits until the daemon has read up to the end, which is what a
# reader can guarantee: lines written between copy and truncate are in the
# copy only).
. "$(dirname "$0")/lib.sh" "$1"

python3 "$repo/bench/gen_events.py" --events 16000 --agents 400 >"$tmp/ev.jsonl"
write_view_rule "$tmp/view.yml"
mkdir -p "$tmp/logs"
log=$tmp/logs/access.log
: >"$log"
daemon_config "$tmp/logs/access.log" >"$tmp/c.yml"
"$custosd" -f -c "$tmp/c.yml" 2>"$tmp/log" &
daemon_pid=$!
check "daemon up" wait_for 10 test -S "$tmp/ctl.sock"

written=0
# append LINES lines of the generated log (from line written+1) to FILE,
# in small batches so that the daemon reads while the writer writes
append() {
	local file=$1 n=$2 end=$((written + $2))
	while [ "$written" -lt "$end" ]; do
		local batch=$((end - written < 250 ? end - written : 250))
		sed -n "$((written + 1)),$((written + batch))p" "$tmp/ev.jsonl" >>"$file"
		written=$((written + batch))
		sleep 0.02
	done
}
records() { status_num inputs.0.records 2>/dev/null || echo -1; }
caught_up() { [ "$(records)" -ge "$1" ]; }

append "$log" 3000
mv "$log" "$log.1"             # rename rotation ...
append "$log.1" 200            # ... late writes to the renamed file
: >"$log"
append "$log" 3000
check "read up to the copytruncate point" wait_progress 30 records caught_up "$written"
cp "$log" "$log.2"; : >"$log"  # copytruncate
append "$log" 3000
mv "$log.1" "$log.3"; mv "$log" "$log.1"   # rename rotation again
append "$log.1" 100
: >"$log"
append "$log" 3000
check "read up to the second copytruncate" wait_progress 30 records caught_up "$written"
cp "$log" "$log.4"; : >"$log"
append "$log" $(( $(wc -l <"$tmp/ev.jsonl") - written ))
check "all $written records read" wait_progress 30 records caught_up "$written"
check "exactly $written records read" test "$(records)" = "$written"
kill -TERM "$daemon_pid"
wait_for 10 daemon_gone
wait "$daemon_pid"
rc=$?
daemon_pid=
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0

"$custos" replay --quiet --rules "$tmp/view.yml" --db "$tmp/ref.db" \
	"$tmp/ev.jsonl" >/dev/null 2>&1
events() { sqlite3 "$1" "select json_extract(event_json,'$.ts') || ' ' ||
	json_extract(event_json,'$.agent') || ' ' ||
	json_extract(event_json,'$.customer') from alerts order by 1"; }
events "$tmp/ref.db" >"$tmp/want"
events "$tmp/state/alerts.db" >"$tmp/got"
check "replay found view alerts ($(wc -l <"$tmp/want"))" test -s "$tmp/want"
check "every view alerted once (got $(wc -l <"$tmp/got"), want $(wc -l <"$tmp/want"))" \
	cmp -s "$tmp/want" "$tmp/got"
check "no alert stored twice" \
	test -z "$(uniq -d "$tmp/got")"
finish
