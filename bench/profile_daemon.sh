#!/usr/bin/env bash
# bench/profile_daemon.sh: where custosd's instructions go per event and per
# checkpoint, counted by callgrind (deterministic: usable on a loaded,
# shared machine where wall-clock figures are noise).
#
# usage: bench/profile_daemon.sh [BUILD_DIR]
# env:   EVENTS=300000  CK_RECORDS=200000  RETAIN=true  ALERTS_MS=0
#        CG_OUT=FILE (keep the callgrind output for callgrind_annotate)
#
# Takes the first EVENTS lines the daemon benchmark would append
# (bench_appender --dump, the bench/out pool), starts `custosd -f` under
# callgrind with a file input over them, rules/ plus the probe rule,
# retention.access_events RETAIN and checkpoints every CK_RECORDS records
# (every_ms 1h: the record count, not valgrind's slowness, decides; at
# 200k events/s a 1 s timer checkpoints every 200k records; alerts-only
# commits every ALERTS_MS, 0: off, as valgrind's slowness would make a
# wall-clock interval commit ~50x more often than natively), waits until
# the input has read every line, stops it with SIGTERM (which checkpoints)
# and prints the total and the inclusive instruction counts of the phases:
# reading and evaluating (pipeline_poll), and the checkpoint's alerts,
# retained events, engine state and commit.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-bench}
EVENTS=${EVENTS:-300000}
CK_RECORDS=${CK_RECORDS:-200000}
RETAIN=${RETAIN:-true}
ALERTS_MS=${ALERTS_MS:-0}
pool=bench/out/events-1000000.jsonl
[ -x "$build/custosd" ] && [ -x "$build/bench/bench_appender" ] ||
	{ echo "profile_daemon: build $build first (bench/bench_daemon.sh does)" >&2; exit 2; }
[ -f "$pool" ] || python3 bench/gen_events.py --events 1000000 --agents 2000 \
	--customers 1000000 --insider --seed 42 >"$pool"

tmp=$(mktemp -d /tmp/custos_prof.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/probe"
python3 -B -c 'import sys; sys.path.insert(0, "bench"); import bench_daemon as b; print(b.PROBE_RULE, end="")' \
	>"$tmp/probe/probe.yml"
"$build/bench/bench_appender" --pool "$pool" --out "$tmp/in.jsonl" --seq0 0 \
	--dump "$EVENTS" --probe-every 1000 2>/dev/null
cat >"$tmp/custosd.yml" <<EOF
inputs:
  - name: bench
    path: $tmp/in.jsonl
rules: [ $PWD/rules, $tmp/probe ]
state_dir: $tmp/state
control_socket: $tmp/ctl.sock
checkpoint: { every_records: $CK_RECORDS, every_ms: 1h, alerts_every_ms: $ALERTS_MS }
status_log_interval: 0
retention: { access_events: $RETAIN }
EOF
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
	"$build/custosd" -f -c "$tmp/custosd.yml" 2>"$tmp/log" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
python3 - "$tmp/ctl.sock" "$EVENTS" <<'EOF'
import json, os, socket, sys, time
path, want = sys.argv[1], int(sys.argv[2])
def status():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(600)
    s.connect(path)
    s.sendall(b"status\n")
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    return json.loads(data)
while not os.path.exists(path):
    time.sleep(0.5)
while True:
    try:
        st = status()
    except (socket.timeout, OSError):
        continue  # a checkpoint under callgrind can take a while
    n = sum(i.get("records", 0) for i in st.get("inputs", []))
    if n >= want:
        break
    time.sleep(2)
EOF
kill -TERM $pid
wait $pid || { cat "$tmp/log" >&2; exit 1; }
db=$tmp/state/alerts.db
echo "custos daemon profile ($(git rev-parse --short HEAD 2>/dev/null || echo '?')): callgrind, $EVENTS events, checkpoint every $CK_RECORDS records, alerts_every_ms $ALERTS_MS, retention.access_events $RETAIN"
[ -z "${CG_OUT:-}" ] || cp "$tmp/cg.out" "$CG_OUT"
callgrind_annotate --inclusive=yes "$tmp/cg.out" 2>/dev/null >"$tmp/incl.txt"
total=$(grep -m1 'PROGRAM TOTALS' "$tmp/incl.txt" | awk '{gsub(",", "", $1); print $1}')
printf '  %-28s %15s %10s %8s\n' phase Ir Ir/event share
printf '  %-28s %15s %10.0f %7.1f%%\n' total "$total" "$(echo "$total / $EVENTS" | bc -l)" 100
# write_snap: one checkpoint's transaction, on the writer thread or (at
# exit) the loop's; snapshot: the loop thread's part of a checkpoint.
for fn in pipeline_poll engine_process snapshot write_snap checkpoint_commit put_alerts retain_write \
	engine_save_changes engine_save_all window_group_encode store_state_put \
	store_commit store_add_access_event retain_write_chunk store_add_access_events; do
	ir=$(grep -E "[ :]$fn( |'|\$)" "$tmp/incl.txt" | head -1 | awk '{gsub(",", "", $1); print $1}' || true)
	[ -n "$ir" ] || continue
	printf '  %-28s %15s %10.0f %7.1f%%\n' "$fn" "$ir" "$(echo "$ir / $EVENTS" | bc -l)" \
		"$(echo "100 * $ir / $total" | bc -l)"
done
sqlite3 "$db" "SELECT 'store: ' || (SELECT count(*) FROM alerts) || ' alerts, ' ||
	(SELECT count(*) FROM access_events) || ' access events, ' ||
	(SELECT count(*) FROM engine_state) || ' engine state rows'" 2>/dev/null || true
echo "  store $(du -k "$db" | cut -f1) KiB (+ WAL $(du -k "$db-wal" 2>/dev/null | cut -f1 || echo 0) KiB)"
grep -E 'checkpoints' "$tmp/log" | tail -1 || true
echo "top self cost:"
callgrind_annotate "$tmp/cg.out" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | head -15
