#!/usr/bin/env bash
# The alert store's disk fills up under custosd, then frees again.  The
# state dir is a small tmpfs (a real ENOSPC, not a simulation), filled
# with a filler file while events keep arriving: every checkpoint commit
# fails (counted in `custos status`, logged), the daemon keeps running,
# the store stays consistent (PRAGMA integrity_check) and commits neither
# alerts nor input positions, so nothing is half-written.  When the
# filler is deleted, the next checkpoint stores everything: the final
# alert set equals `custos replay` over the same input (nothing lost,
# nothing twice), and a restart from that store repeats nothing.
# The same again with write errors: with tests/fault/failio.c preloaded
# (non-sanitizer builds), every write and sync of a file in the state dir
# fails with EIO while a flag file exists.
# Needs root and mount(2) (CI containers run as root); skipped otherwise.
. "$(dirname "$0")/lib.sh" "$1"

mkdir -p "$tmp/state" "$tmp/logs"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=32m tmpfs "$tmp/state" 2>/dev/null; then
	echo "skipped: cannot mount a tmpfs (needs root and CAP_SYS_ADMIN)"
	exit 77
fi
cleanup_mount() {
	[ -n "$daemon_pid" ] && kill -KILL "$daemon_pid" 2>/dev/null &&
		wait "$daemon_pid" 2>/dev/null
	umount "$tmp/state" 2>/dev/null
	cleanup
}
trap cleanup_mount EXIT

python3 "$repo/bench/gen_events.py" --events 6000 --agents 100 >"$tmp/ev.jsonl"
write_view_rule "$tmp/view.yml"
: >"$tmp/logs/access.log"
daemon_config "$tmp/logs/access.log" >"$tmp/c.yml"
failio=$(dirname "$custos")/tests/libfailio.so
preload=
[ -f "$failio" ] && preload=$failio
start() {
	LD_PRELOAD=$preload FAILIO_DIR=$tmp/state FAILIO_FLAG=$tmp/eio \
		"$custosd" -f -c "$tmp/c.yml" 2>>"$tmp/log" &
	daemon_pid=$!
	wait_for 10 test -S "$tmp/ctl.sock"
}
check "daemon up" start
db=$tmp/state/alerts.db
n_stored() { sqlite3 "$db" "select count(*) from alerts" 2>/dev/null; }
positions() { sqlite3 "$db" "select * from input_position" 2>&1 | md5sum; }
records() { status_num inputs.0.records 2>/dev/null || echo -1; }
caught_up() { [ "$(records)" -ge "$1" ]; }

# 1. some events with room to spare: stored.
head -1000 "$tmp/ev.jsonl" >>"$tmp/logs/access.log"
check "first 1000 read" wait_for 15 caught_up 1000
stored_ok() { [ "$(status_num checkpoint.alerts_stored)" -gt 0 ] &&
	[ "$(status_num checkpoint.alerts_stored)" = "$(n_stored)" ]; }
check "first alerts stored" wait_for 10 stored_ok
sleep 0.5
before_alerts=$(n_stored)
pos_before=$(positions)

# 2. fill the disk, then more events: every commit fails.
dd if=/dev/zero of="$tmp/state/filler" bs=16k 2>/dev/null
f0=$(status_num checkpoint.failures)
sed -n 1001,4000p "$tmp/ev.jsonl" >>"$tmp/logs/access.log"
check "next 3000 read while the disk is full" wait_for 15 caught_up 4000
fails() { [ "$(status_num checkpoint.failures)" -ge $((f0 + 3)) ]; }
check "checkpoint failures counted" wait_for 10 fails
check "failures logged" grep -q "checkpoint:.*full" "$tmp/log"
check "daemon keeps running" daemon_alive
check "no alert stored while full ($(n_stored) = $before_alerts)" \
	test "$(n_stored)" = "$before_alerts"
check "store integrity ok while full" \
	test "$(sqlite3 "$db" 'pragma integrity_check')" = ok
check "positions not advanced while full" test "$(positions)" = "$pos_before"

# 3. space returns: everything pending is stored.
c0=$(status_num checkpoint.commits)
rm -f "$tmp/state/filler"
sed -n '4001,5000p' "$tmp/ev.jsonl" >>"$tmp/logs/access.log"
check "next 1000 read" wait_for 15 caught_up 5000
recovered() { [ "$(status_num checkpoint.commits)" -gt "$c0" ] &&
	[ "$(n_stored)" = "$(status_num checkpoint.alerts_stored)" ]; }
check "checkpoints succeed again" wait_for 10 recovered

# 4. write errors (EIO) on the store's files, then none again.
n_total=$(wc -l <"$tmp/ev.jsonl")
if [ -n "$preload" ]; then
	sleep 0.5
	stored_before=$(n_stored) pos_before=$(positions)
	f0=$(status_num checkpoint.failures)
	touch "$tmp/eio"
	sed -n '5001,$p' "$tmp/ev.jsonl" >>"$tmp/logs/access.log"
	check "EIO: all $n_total read" wait_for 15 caught_up "$n_total"
	check "EIO: checkpoint failures counted" wait_for 10 fails
	check "EIO: failures logged" grep -q "checkpoint:.*I/O error" "$tmp/log"
	check "EIO: daemon keeps running" daemon_alive
	check "EIO: no alert stored" test "$(n_stored)" = "$stored_before"
	check "EIO: positions not advanced" test "$(positions)" = "$pos_before"
	check "EIO: store integrity ok" \
		test "$(sqlite3 "$db" 'pragma integrity_check')" = ok
	c0=$(status_num checkpoint.commits)
	rm -f "$tmp/eio"
	check "EIO gone: checkpoints succeed again" wait_for 10 recovered
else
	echo "note: $failio not built (sanitizer build): no EIO phase"
	sed -n '5001,$p' "$tmp/ev.jsonl" >>"$tmp/logs/access.log"
	check "all $n_total read" wait_for 15 caught_up "$n_total"
	sleep 1
fi
kill -TERM "$daemon_pid"
wait_for 10 daemon_gone
wait "$daemon_pid"
rc=$?
daemon_pid=
check "SIGTERM after the disk-full episode: exit 0 (got $rc)" test "$rc" = 0
episodes=1
[ -n "$preload" ] && episodes=2
check "one failure line per episode, not one per attempt" \
	test "$(grep -c 'checkpoint:.*failed attempt 1;' "$tmp/log")" = "$episodes" -a \
	"$(grep -c 'checkpoint:.*failed attempt [0-9]*;' "$tmp/log")" = "$episodes"
check "recovery logged" test "$(grep -c 'checkpoint: stored again after' "$tmp/log")" = "$episodes"
check "store integrity ok after" \
	test "$(sqlite3 "$db" 'pragma integrity_check')" = ok

"$custos" replay --quiet --rules "$tmp/view.yml" "$tmp/ev.jsonl" 2>/dev/null |
	python3 -c 'import json,sys; print("\n".join(sorted(json.loads(l)["id"] for l in sys.stdin)))' >"$tmp/want"
sqlite3 "$db" "select id from alerts order by id" >"$tmp/got"
check "replay found alerts ($(wc -l <"$tmp/want"))" test -s "$tmp/want"
check "stored alerts equal replay's (got $(wc -l <"$tmp/got"))" cmp -s "$tmp/want" "$tmp/got"

# 5. a restart from this store re-raises nothing.
check "restart" start
check "restart: all read" wait_for 15 caught_up 0
sleep 1
check "restart: no alert repeated or added" test "$(n_stored)" = "$(wc -l <"$tmp/want")"
check "restart: nothing re-read ($(records))" test "$(records)" = 0
[ "$n_failed" -gt 0 ] && { echo "custosd log:"; tail -20 "$tmp/log"; }
finish
