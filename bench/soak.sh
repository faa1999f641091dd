#!/usr/bin/env bash
# bench/soak.sh: a long run of custosd (hours; not in CI) under a paced
# writer with periodic log rotation, to show that memory and descriptors
# stay flat and the daemon never dies.
#
# usage: bench/soak.sh [--hours H | --minutes M] [--rotate-s S] [--rate R]
#                      [--sample-s S] [--build DIR] [--out FILE.csv]
# defaults: 4 hours, rotation every 3600 s, 2000 lines/s, a sample every
# 60 s, binaries from build/ (custos, custosd, bench/bench_appender), CSV
# in bench/out/soak-<date>.csv.
#
# custosd runs in the foreground with the shipped rules (rules/), one file
# input on a glob, checkpoints every second and a fresh state dir.  The
# writer (bench_appender, lines of a 200k-event gen_events.py pool, event
# time advancing) appends for one rotation interval, then the log is
# rotated by rename (access.log -> access.log.1, the older .1 deleted, a
# new empty access.log) and writing goes on.  Every sample writes a CSV
# row: elapsed_s, pid, rss_kib, fds (entries of /proc/PID/fd), records
# read (custos status), restarts.  If custosd dies it is started again
# (as systemd would) and counted as a restart.
# Verdict: least-squares slopes of RSS and fds over the second half of the
# samples (the first half is warm-up: windows fill, SQLite's cache grows),
# expressed per hour; "flat" when the RSS trend over the second half is
# under 5% of its mean, the fd count of the second half stays within one
# of the first half's maximum (a sample may catch the status connection or
# a rotated file being drained), and there was no restart.  Exit 0 when flat, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=240 rotate_s=3600 rate=2000 sample_s=60 build=build out=
while [ $# -gt 0 ]; do
	case $1 in
	--hours) minutes=$(($2 * 60)); shift 2 ;;
	--minutes) minutes=$2; shift 2 ;;
	--rotate-s) rotate_s=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--sample-s) sample_s=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) echo "usage: $0 [--hours H|--minutes M] [--rotate-s S] [--rate R] [--sample-s S] [--build DIR] [--out FILE]" >&2
	   exit 2 ;;
	esac
done
custos=$build/custos custosd=$build/custosd appender=$build/bench/bench_appender
for b in "$custos" "$custosd" "$appender"; do
	[ -x "$b" ] || { echo "soak: $b not built" >&2; exit 2; }
done
mkdir -p bench/out
out=${out:-bench/out/soak-$(date -u +%Y%m%dT%H%M%SZ).csv}
pool=bench/out/soak-pool.jsonl
[ -f "$pool" ] || python3 bench/gen_events.py --events 200000 --agents 500 \
	--insider --seed 7 >"$pool"

tmp=$(mktemp -d /tmp/custos_soak.XXXXXX)
pid= writer_pid=
cleanup() {
	[ -n "$writer_pid" ] && kill "$writer_pid" 2>/dev/null
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && sleep 1
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/logs" "$tmp/state"
: >"$tmp/logs/access.log"; : >"$tmp/rotations"
cat >"$tmp/c.yml" <<YML
inputs:
  - name: soak
    path: $tmp/logs/access.log
    format: json
rules: [ $PWD/rules ]
state_dir: $tmp/state
control_socket: $tmp/ctl.sock
checkpoint: { every_ms: 1s }
status_log_interval: 10m
YML
start_daemon() {
	"$custosd" -f -c "$tmp/c.yml" 2>>"$tmp/daemon.log" &
	pid=$!
	for _ in $(seq 100); do [ -S "$tmp/ctl.sock" ] && break; sleep 0.1; done
}
start_daemon

# The writer: one appender run per rotation interval, then a rotation.
writer() {
	local seq=0 n
	while :; do
		"$appender" --pool "$pool" --out "$tmp/logs/access.log" \
			--seq0 "$seq" --rate "$rate" --duration "$rotate_s" \
			2>"$tmp/appender.err" || exit 1
		n=$(awk '{print $2}' "$tmp/appender.err")
		seq=$((seq + n))
		rm -f "$tmp/logs/access.log.1"
		mv "$tmp/logs/access.log" "$tmp/logs/access.log.1"
		: >"$tmp/logs/access.log"
		echo rotated >>"$tmp/rotations"
	done
}
writer &
writer_pid=$!

records() {
	"$custos" status --socket "$tmp/ctl.sock" --json 2>/dev/null |
		python3 -c 'import json,sys; print(sum(i.get("records",0) for i in json.load(sys.stdin)["inputs"]))' 2>/dev/null ||
		echo -1
}
echo "elapsed_s,pid,rss_kib,fds,records,restarts,rotations" >"$out"
restarts=0 t0=$(date +%s) end=$(($(date +%s) + minutes * 60))
while [ "$(date +%s)" -lt "$end" ]; do
	sleep "$sample_s"
	if ! kill -0 "$pid" 2>/dev/null; then
		restarts=$((restarts + 1))
		echo "soak: custosd $pid died; restarting" >&2
		rm -f "$tmp/ctl.sock"
		start_daemon
	fi
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
	fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
	rot=$(wc -l <"$tmp/rotations" 2>/dev/null || echo 0)
	echo "$(($(date +%s) - t0)),$pid,$rss,$fds,$(records),$restarts,$rot" >>"$out"
done

echo "soak: $minutes min, rotation every ${rotate_s}s, $rate lines/s; CSV: $out"
awk -F, -v restarts="$restarts" 'BEGIN { n = 0 }
NR > 1 { t[n] = $1; r[n] = $3; f[n] = $4;
	rec[n] = $5; rot = $7; n++ }
function slope(y, from,   i, k, mx, my, sxx, sxy) {
	k = n - from; mx = my = sxx = sxy = 0
	for (i = from; i < n; i++) { mx += t[i]; my += y[i] }
	mx /= k; my /= k
	for (i = from; i < n; i++) { sxx += (t[i] - mx)^2; sxy += (t[i] - mx) * (y[i] - my) }
	mean = my
	return sxx > 0 ? sxy / sxx * 3600 : 0
}
END {
	if (n < 4) { print "soak: too few samples for a verdict"; exit 1 }
	h = int(n / 2)
	rs = slope(r, h); rmean = mean; fs = slope(f, h); fmean = mean
	span_h = (t[n - 1] - t[h]) / 3600
	fmin = fmax = f[h]; for (i = h; i < n; i++) { if (f[i] < fmin) fmin = f[i]; if (f[i] > fmax) fmax = f[i] }
	fwarm = 0; for (i = 0; i < h; i++) if (f[i] > fwarm) fwarm = f[i]
	printf "samples %d, records read %d, rotations %d, restarts %d\n", n, rec[n - 1], rot, restarts
	printf "RSS first %d KiB, last %d KiB; second half: mean %.0f KiB, slope %+.1f KiB/h (%+.2f%% of mean over %.2f h)\n",
		r[0], r[n - 1], rmean, rs, 100 * rs * span_h / rmean, span_h
	printf "fds first %d, last %d; first half max %d; second half: min %d max %d, slope %+.2f /h\n",
		f[0], f[n - 1], fwarm, fmin, fmax, fs
	flat = restarts == 0 && rs * span_h < 0.05 * rmean && fmax <= fwarm + 1 && rec[n - 1] > 0
	print flat ? "verdict: FLAT (no growth, no restart)" : "verdict: NOT FLAT"
	exit flat ? 0 : 1
}' "$out"
