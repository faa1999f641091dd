#!/usr/bin/env bash
# bench_pcap.sh [CUSTOS] [N_REQUESTS]: generates a capture of N (default
# 200000) HTTP requests + responses (bench/gen_pcap.py), then times
# `custos pcap-events` and tshark's HTTP request extraction on it, three
# runs each, and prints the medians (requests/s, MB/s) and their ratio.
set -euo pipefail
CUSTOS=${1:-build/custos}
N=${2:-200000}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 "$HERE/gen_pcap.py" "$TMP/bench.pcap" "$N" "$TMP/bench.yml"
BYTES=$(stat -c %s "$TMP/bench.pcap")

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() { # label, command...: prints the median seconds of 3 runs
	local label=$1
	shift
	for _ in 1 2 3; do
		local t0 t1
		t0=$(date +%s.%N)
		"$@" >"$TMP/$label.out" 2>/dev/null
		t1=$(date +%s.%N)
		echo "$t1 - $t0" | bc -l
	done | median
}
C=$(run custos "$CUSTOS" pcap-events --quiet --config "$TMP/bench.yml" \
	"$TMP/bench.pcap")
GOT=$(wc -l <"$TMP/custos.out")
[ "$GOT" -eq "$N" ] || { echo "bench_pcap: custos found $GOT of $N" >&2; exit 1; }
report() {
	awk -v n="$N" -v b="$BYTES" -v t="$2" -v l="$1" 'BEGIN {
		printf "%-8s %8.3f s  %10.0f req/s  %8.1f MB/s\n", l, t, n / t,
		       b / t / 1e6 }'
}
echo "capture: $N requests, $((BYTES / 1000000)) MB"
report custos "$C"
if command -v tshark >/dev/null; then
	T=$(run tshark tshark -r "$TMP/bench.pcap" -d tcp.port==8080,http \
		-Y http.request -T fields -e http.request.method \
		-e http.request.uri)
	report tshark "$T"
	awk -v c="$C" -v t="$T" 'BEGIN { printf "ratio: custos is %.1fx tshark\n", t / c }'
fi
