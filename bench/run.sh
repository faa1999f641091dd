#!/usr/bin/env bash
# bench/run.sh: throughput and peak memory of `custos replay` on generated
# JSON-lines logs, next to what a user would otherwise run on the same file
# (mawk / gawk one-rule script bench/baseline.awk, jq) and the I/O floor
# (cat > /dev/null, wc -l), all measured in the same run.  Prints medians
# over RUNS runs of CPU time (user + sys; wall time alongside), ratios on
# CPU time, and the command line to reproduce them.
#
# Workloads (WORKLOADS: comma-separated, default all three):
#   pack      the shipped rule pack rules/ on the 2,000-agent log
#             (gen_events.py --agents 2000 --customers 1000000 --insider)
#   rules100  100 generated detection rules (bench/gen_rules.py, equality,
#             lists, contains/startswith/endswith, regex, CIDR, numeric) on
#             the same log
#   corr      correlations over 100k agents x 1M customers
#             (bench/rules-corr/, log: --agents 100000 --customers 1000000),
#             default limits (max_groups 100,000 per correlation)
# Logs are generated once per EVENTS and reused (bench/out/, git-ignored):
# 10M events take about two CPU minutes per log to generate.
#
# usage: bench/run.sh [EVENTS] [RUNS] [WORKLOADS]
#        (default 1000000 events, 5 runs, pack,rules100,corr)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
runs=${2:-5}
workloads=${3:-pack,rules100,corr}
out=bench/out
mkdir -p "$out"

cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" --target custos >/dev/null
custos=build-bench/custos
have_mawk=0; command -v mawk >/dev/null && have_mawk=1
have_gawk=0; command -v gawk >/dev/null && have_gawk=1
have_jq=0; command -v jq >/dev/null && have_jq=1

# log_for WORKLOAD: the log file (generated on first use)
log_for() {
	local log args
	case $1 in
	corr) log="$out/events-$events-a100k.jsonl"
		args="--agents 100000 --customers 1000000 --seed 42" ;;
	*) log="$out/events-$events.jsonl"
		args="--agents 2000 --customers 1000000 --insider --seed 42" ;;
	esac
	if [ ! -f "$log" ]; then
		# shellcheck disable=SC2086
		python3 bench/gen_events.py --events "$events" $args >"$log.tmp"
		mv "$log.tmp" "$log"
	fi
	echo "$log"
}

rules_for() {
	case $1 in
	pack) echo rules/ ;;
	rules100) python3 bench/gen_rules.py --rules 100 --seed 42 "$out/rules100"
		echo "$out/rules100" ;;
	corr) echo bench/rules-corr ;;
	*) echo "unknown workload $1" >&2; exit 2 ;;
	esac
}

# measure NAME CMD...: median over RUNS runs of the CPU time (user + sys,
# s) -> NAME_s and of the wall time -> NAME_wall; max RSS (KiB) -> NAME_rss.
# CPU time is the figure compared: on a shared, loaded machine wall time
# mostly measures the other tenants.  MEASURE_RUNS overrides RUNS.
measure() {
	local name=$1; shift
	local times=() walls=() rss=0
	for _ in $(seq "${MEASURE_RUNS:-$runs}"); do
		/usr/bin/env time -f '%U %S %e %M' -o "$out/time.txt" "$@" >/dev/null 2>"$out/stderr.txt" ||
			{ echo "$name failed:"; cat "$out/stderr.txt"; exit 1; }
		read -r u s e m <"$out/time.txt"
		times+=("$(awk -v u="$u" -v s="$s" 'BEGIN{print u + s}')")
		walls+=("$e"); [ "$m" -gt "$rss" ] && rss=$m
	done
	eval "${name}_s=$(median "${times[@]}") ${name}_wall=$(median "${walls[@]}") ${name}_rss=$rss"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

rate() { awk -v n="$n_lines" -v s="$1" 'BEGIN{ if (s <= 0) s = 0.001; printf "%.0f", n / s }'; }
# row LABEL NAME: CPU s, events/s on CPU time, wall s, peak RSS
row() {
	local s w r
	eval "s=\$${2}_s w=\$${2}_wall r=\$${2}_rss"
	printf '  %-40s %6ss CPU %10s events/s  (wall %7ss)  peak RSS %7s KiB\n' \
		"$1" "$s" "$(rate "$s")" "$w" "$r"
}
# ratio LABEL A B: B / A (throughput of A relative to B for times A, B)
ratio() { awk -v a="$2" -v b="$3" -v l="$1" 'BEGIN{ printf "  %-40s %8.2fx\n", l, b / (a > 0 ? a : 0.001) }'; }

# baselines LOG: the I/O floor and the awk/jq scripts on LOG (once per log)
baselines() {
	measure cat cat "$1"
	measure wc wc -l "$1"
	[ $have_mawk = 1 ] && measure mawk mawk -f bench/baseline.awk "$1"
	# gawk is six times slower than mawk: one run
	[ $have_gawk = 1 ] && MEASURE_RUNS=1 measure gawk env LC_ALL=C gawk -f bench/baseline.awk "$1"
	# jq is far slower: timed on a tenth of the file and scaled
	if [ $have_jq = 1 ]; then
		head -n $((n_lines / 10)) "$1" >"$out/tenth.jsonl"
		MEASURE_RUNS=1 measure jq jq -c 'select(.action == "view") | [.agent, .customer]' "$out/tenth.jsonl"
		jq_s=$(awk -v s="$jq_s" 'BEGIN{print s * 10}')
		jq_wall=$(awk -v s="$jq_wall" 'BEGIN{print s * 10}')
	fi
	row "cat > /dev/null" cat
	row "wc -l" wc
	[ $have_mawk = 1 ] && row "mawk -f bench/baseline.awk" mawk
	[ $have_gawk = 1 ] && row "gawk -f baseline.awk (LC_ALL=C, 1 run)" gawk
	[ $have_jq = 1 ] && row "jq select view (1/10 x10, 1 run)" jq
	return 0
}

done_logs=""
echo "custos bench: $events events, medians of $runs runs of CPU time (user+sys); wall clock alongside"
for w in ${workloads//,/ }; do
	log=$(log_for "$w")
	rules=$(rules_for "$w")
	n_lines=$(wc -l <"$log")
	echo "== $w: $rules on $log ($n_lines events, $(($(stat -c %s "$log") / 1048576)) MiB)"
	case " $done_logs " in
	*" $log "*) echo "  (baselines: as measured above for this log)" ;;
	*) baselines "$log"; done_logs="$done_logs $log" ;;
	esac
	measure replay "$custos" replay --quiet --rules "$rules" "$log"
	row "custos replay --rules $rules" replay
	alerts=$("$custos" replay --rules "$rules" "$log" 2>"$out/summary.txt" | wc -l)
	ratio "replay throughput / mawk" "$replay_s" "${mawk_s:-0}"
	ratio "replay time / cat time" "$cat_s" "$replay_s"
	ratio "replay time / wc -l time" "$wc_s" "$replay_s"
	echo "  alerts: $alerts"
	grep 'limits hit' "$out/summary.txt" | sed 's/^custos: /  /' || true
done
echo "reproduce: bench/run.sh $events $runs $workloads"
