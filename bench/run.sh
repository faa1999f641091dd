#!/usr/bin/env bash
# bench/run.sh: throughput and peak memory of `custos replay` on a generated
# JSON-lines log, with the I/O floor (cat, wc -l) measured in the same run.
# Prints medians over RUNS runs and the command lines to reproduce them.
#
# usage: bench/run.sh [EVENTS] [RUNS]      (default 1000000 events, 5 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
runs=${2:-5}
out=bench/out
mkdir -p "$out"
log="$out/events-$events.jsonl"

cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" --target custos >/dev/null
custos=build-bench/custos

if [ ! -f "$log" ]; then
	python3 bench/gen_events.py --events "$events" --agents 2000 \
		--customers 1000000 --insider --seed 42 >"$log"
fi
n_lines=$(wc -l <"$log")
bytes=$(stat -c %s "$log")

# median of RUNS wall times (seconds) of a command; also keeps max RSS (KiB)
measure() {
	local name=$1; shift
	local times=() rss=0
	for _ in $(seq "$runs"); do
		/usr/bin/env time -f '%e %M' -o "$out/time.txt" "$@" >/dev/null 2>"$out/stderr.txt" ||
			{ echo "$name failed:"; cat "$out/stderr.txt"; exit 1; }
		read -r t m <"$out/time.txt"
		times+=("$t"); [ "$m" -gt "$rss" ] && rss=$m
	done
	median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
	eval "${name}_s=$median ${name}_rss=$rss"
}

measure cat cat "$log"
measure wc wc -l "$log"
measure replay "$custos" replay --quiet --rules rules/ "$log"

alerts=$("$custos" replay --quiet --rules rules/ "$log" | wc -l)
rate() { awk -v n="$n_lines" -v s="$1" 'BEGIN{ if (s <= 0) s = 0.001; printf "%.0f", n / s }'; }
echo "custos bench: $n_lines events, $((bytes / 1048576)) MiB, rules/ ($(ls rules/*.yml | wc -l) files), $runs runs, medians"
printf '  %-28s %8ss  %12s events/s  peak RSS %6s KiB\n' \
	"cat > /dev/null" "$cat_s" "$(rate "$cat_s")" "$cat_rss" \
	"wc -l" "$wc_s" "$(rate "$wc_s")" "$wc_rss" \
	"custos replay --rules rules/" "$replay_s" "$(rate "$replay_s")" "$replay_rss"
awk -v r="$replay_s" -v w="$wc_s" 'BEGIN{ printf "  replay / wc -l time ratio: %.1fx\n", r / (w > 0 ? w : 0.001) }'
echo "  alerts raised: $alerts"
echo "reproduce: bench/run.sh $events $runs   (log: $log, made by bench/gen_events.py --events $events --agents 2000 --customers 1000000 --insider --seed 42)"
