#!/usr/bin/env bash
# bench/bench_daemon.sh: how fast custosd keeps up with a log file appended
# at a target rate, the end-to-end latency event written -> alert stored,
# and its memory; with `custos replay` over the same lines as the baseline.
#
# usage: bench/bench_daemon.sh [--perf]
# env:   RATES=50000,100000,200000,400000  STEP_S=10  REPEATS=1
#        PROBE_EVERY=1000  CK_RECORDS=200000  CK_MS=1s  ALERTS_MS=200ms
#        RETAIN=true  (the config defaults; ALERTS_MS=0: alerts only with
#        the checkpoint; RETAIN=false: retention.access_events off)
#        BUILD=DIR  use DIR's custos, custosd and bench/bench_appender as they
#                   are (no build): e.g. a copy of an earlier commit's, to
#                   measure before and after in one session
#
# Builds Release into build-bench/ (custos, custosd, bench_appender), makes
# a 1M-event pool with bench/gen_events.py (cached in bench/out/, the same
# file bench/run.sh uses), then bench/bench_daemon.py starts custosd
# (foreground, fresh state dir in a temp dir, one file input, rules/ plus a
# latency probe rule matching every PROBE_EVERY-th line) and, per step,
# bench_appender writes the pool's lines (each with "seq", timestamps
# shifted so event time keeps advancing) at the step's rate for STEP_S
# seconds.  --perf records the daemon with `perf record -g` and prints the
# top symbols.  Figures are described in bench/bench_daemon.py.
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-50000,100000,200000,400000}
STEP_S=${STEP_S:-10}
REPEATS=${REPEATS:-1}
PROBE_EVERY=${PROBE_EVERY:-1000}
CK_RECORDS=${CK_RECORDS:-200000}
CK_MS=${CK_MS:-1s}
ALERTS_MS=${ALERTS_MS:-200ms}
RETAIN=${RETAIN:-true}
BUILD=${BUILD:-}
perf=0
[ "${1:-}" = --perf ] && perf=1
out=bench/out
pool=$out/events-1000000.jsonl
mkdir -p "$out"

# gcc 12 at -O2 reports maybe-uninitialized (decode_kv.c) and
# format-truncation (input_syslog.c) that -O0 does not; keep them warnings
# here so the Release build goes through.
if [ -z "$BUILD" ]; then
	BUILD=build-bench
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release \
		"-DCMAKE_C_FLAGS=-Wno-error=maybe-uninitialized -Wno-error=format-truncation" >/dev/null
	cmake --build build-bench -j2 --target custos custosd bench_appender >/dev/null 2>&1 ||
		cmake --build build-bench -j2 --target custos custosd bench_appender
fi
[ -f "$pool" ] || python3 bench/gen_events.py --events 1000000 --agents 2000 \
	--customers 1000000 --insider --seed 42 >"$pool"

tmp=$(mktemp -d /tmp/custos_bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# Baseline: custos replay over the first 1M lines the daemon gets, with the
# same rules (probe rule included); median of 3.
mkdir -p "$tmp/probe"
python3 -B -c 'import sys; sys.path.insert(0, "bench"); import bench_daemon as b; print(b.PROBE_RULE, end="")' \
	>"$tmp/probe/probe.yml"
"$BUILD"/bench/bench_appender --pool "$pool" --out "$tmp/replay.jsonl" \
	--seq0 0 --dump 1000000 --probe-every "$PROBE_EVERY" 2>/dev/null
times=()
for _ in 1 2 3; do
	t0=$(date +%s.%N)
	"$BUILD"/custos replay --quiet --rules rules/ --rules "$tmp/probe" \
		"$tmp/replay.jsonl" >/dev/null
	t1=$(date +%s.%N)
	times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')")
done
replay_s=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END{print a[2]}')
replay_rate=$(awk -v s="$replay_s" 'BEGIN{printf "%.0f", 1000000 / s}')
rm -f "$tmp/replay.jsonl"

perf_arg=()
[ $perf = 1 ] && perf_arg=(--perf "$tmp/perf.data")
python3 bench/bench_daemon.py --custosd "$BUILD"/custosd \
	--appender "$BUILD"/bench/bench_appender --pool "$pool" \
	--rules "$PWD/rules" --tmp "$tmp" --rates "$RATES" --step-s "$STEP_S" \
	--repeats "$REPEATS" --probe-every "$PROBE_EVERY" \
	--ck-records "$CK_RECORDS" --ck-ms "$CK_MS" --replay-rate "$replay_rate" \
	--alerts-ms "$ALERTS_MS" --retain "$RETAIN" \
	"${perf_arg[@]}" \
	>"$tmp/table.txt"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo "custos daemon bench ($(git rev-parse --short HEAD 2>/dev/null || echo '?'), binaries in $BUILD)"
cat "$tmp/table.txt"
echo "  baseline: custos replay --rules rules/ (+ probe rule), 1,000,000 of the same lines:" \
	"${replay_s}s, $replay_rate events/s (median of 3)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(uname -r)"
echo "load average before: $load_before, after: $load_after (shared machine: other builds may run)"
echo "reproduce: RATES=$RATES STEP_S=$STEP_S REPEATS=$REPEATS PROBE_EVERY=$PROBE_EVERY CK_RECORDS=$CK_RECORDS CK_MS=$CK_MS ALERTS_MS=$ALERTS_MS RETAIN=$RETAIN bench/bench_daemon.sh$([ $perf = 1 ] && echo ' --perf')"
if [ $perf = 1 ]; then
	echo "perf: top symbols of custosd (self time):"
	perf report -i "$tmp/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -20
fi
