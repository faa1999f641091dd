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
have_mawk=0; command -v mawk >/dev/null && have_mawk=1
have_jq=0; command -v jq >/dev/null && have_jq=1
[ $have_mawk = 1 ] && measure mawk mawk -f bench/baseline.awk "$log"
[ $have_mawk = 1 ] && measure gawk env LC_ALL=C gawk -f bench/baseline.awk "$log"
# jq is far slower: time it on a tenth of the file and scale
if [ $have_jq = 1 ]; then
	head -n $((n_lines / 10)) "$log" >"$out/tenth.jsonl"
	measure jq jq -c 'select(.action == "view") | [.agent, .customer]' "$out/tenth.jsonl"
	jq_s=$(awk -v s="$jq_s" 'BEGIN{print s * 10}')
fi

alerts=$("$custos" replay --quiet --rules rules/ "$log" | wc -l)
rate() { awk -v n="$n_lines" -v s="$1" 'BEGIN{ if (s <= 0) s = 0.001; printf "%.0f", n / s }'; }
echo "custos bench: $n_lines events, $((bytes / 1048576)) MiB, rules/ ($(ls rules/*.yml | wc -l) files), $runs runs, medians"
printf '  %-28s %8ss  %12s events/s  peak RSS %6s KiB\n' \
	"cat > /dev/null" "$cat_s" "$(rate "$cat_s")" "$cat_rss" \
	"wc -l" "$wc_s" "$(rate "$wc_s")" "$wc_rss" \
	"custos replay --rules rules/" "$replay_s" "$(rate "$replay_s")" "$replay_rss"
[ $have_mawk = 1 ] && printf '  %-28s %8ss  %12s events/s  peak RSS %6s KiB\n' \
	"mawk baseline.awk" "$mawk_s" "$(rate "$mawk_s")" "$mawk_rss" \
	"gawk baseline.awk (LC_ALL=C)" "$gawk_s" "$(rate "$gawk_s")" "$gawk_rss"
[ $have_jq = 1 ] && printf '  %-28s %8ss  %12s events/s  (timed on 1/10, x10)\n' \
	"jq select view" "$jq_s" "$(rate "$jq_s")"
awk -v r="$replay_s" -v w="$wc_s" 'BEGIN{ printf "  replay / wc -l time ratio: %.1fx\n", r / (w > 0 ? w : 0.001) }'
[ $have_mawk = 1 ] && awk -v r="$replay_s" -v m="$mawk_s" 'BEGIN{ printf "  replay throughput / mawk throughput: %.2fx\n", m / (r > 0 ? r : 0.001) }'
echo "  alerts raised: $alerts"
echo "reproduce: bench/run.sh $events $runs   (log: $log, made by bench/gen_events.py --events $events --agents 2000 --customers 1000000 --insider --seed 42)"
