#!/usr/bin/env bash
# bench/mem.sh: memory per tracked correlation group and per distinct value,
# and peak RSS against the configured caps.
#
#  1. per group: N agents, one view each, one event_count rule grouped by
#     agent (bench/rules-mem/groups.yml): (RSS(N) - RSS(1)) / N;
#  2. per window event: one agent, N views of one customer, the same rule;
#  3. per distinct value: one agent, N distinct customers, one value_count
#     rule (bench/rules-mem/distinct.yml); each value also is one window
#     event, so the distinct map's own share is row 3 minus row 2;
#     (limits max_groups, max_window_events, max_distinct = N + 1);
#  4. workload (iii) of bench/run.sh (bench/rules-corr/, the log made with
#     --agents 100000 --customers 1000000) under limits.max_groups of
#     1,000, 10,000 and 100,000: peak RSS grows with the cap, not the log.
# Peak RSS from /usr/bin/time (%M, KiB), one run each.  Both windows keep
# limits.evidence_sample events as evidence (default 10), so the per-group
# figure includes the evidence copy of the group's event.
#
# usage: bench/mem.sh [N] [EVENTS]   (default 200000 groups/values; the
#                                     1000000-event log of workload iii)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
events=${2:-1000000}
out=bench/out
mkdir -p "$out"
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j2 --target custos >/dev/null
custos=build-bench/custos

# make_log FILE N MODE: N view events, 0.1 s apart; MODE agents: agent i
# views C1; repeat: agent a1 views C1; customers: agent a1 views customer i
make_log() {
	python3 - "$1" "$2" "$3" <<'PY'
import sys, datetime as dt
path, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t0 = dt.datetime(2025, 3, 3, tzinfo=dt.timezone.utc).timestamp()
with open(path, "w") as f:
    for i in range(n):
        ts = dt.datetime.fromtimestamp(t0 + i * 0.1, tz=dt.timezone.utc)
        a, c = {"agents": ("a%07d" % i, "C1"), "repeat": ("a1", "C1"),
                "customers": ("a1", "C%07d" % i)}[mode]
        f.write('{"ts":"%s","agent":"%s","action":"view","customer":"%s"}\n'
                % (ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), a, c))
PY
}

rss() { # prints peak RSS (KiB) of a replay: CONFIG RULES LOG
	/usr/bin/env time -f '%M' -o "$out/mem-time.txt" "$custos" replay --quiet \
		--config "$1" --rules "$2" "$3" >/dev/null
	cat "$out/mem-time.txt"
}

per_item() { # MODE RULES LABEL
	local big="$out/mem-$1-$n.jsonl" one="$out/mem-$1-1.jsonl"
	[ -f "$big" ] || make_log "$big" "$n" "$1"
	[ -f "$one" ] || make_log "$one" 1 "$1"
	printf 'limits:\n  max_groups: %d\n  max_distinct: %d\n  max_window_events: %d\n' $((n + 1)) $((n + 1)) $((n + 1)) \
		>"$out/mem-limits.yml"
	local r0 r1
	r0=$(rss "$out/mem-limits.yml" "$2" "$one")
	r1=$(rss "$out/mem-limits.yml" "$2" "$big")
	awk -v a="$r0" -v b="$r1" -v n="$n" -v l="$3" 'BEGIN{
		printf "  %-22s %8d KiB with 1, %8d KiB with %d: %6.0f bytes each\n",
		       l, a, b, n, (b - a) * 1024 / n }'
}

echo "custos memory (peak RSS, one run each)"
per_item agents bench/rules-mem/groups.yml "per group"
per_item repeat bench/rules-mem/groups.yml "per window event"
per_item customers bench/rules-mem/distinct.yml "per distinct value"

log="$out/events-$events-a100k.jsonl"
[ -f "$log" ] || python3 bench/gen_events.py --events "$events" --agents 100000 \
	--customers 1000000 --seed 42 >"$log"
echo "workload (iii): $(wc -l <"$log") events, bench/rules-corr/ (4 correlations)"
for cap in 1000 10000 100000; do
	printf 'limits:\n  max_groups: %d\n' "$cap" >"$out/mem-limits.yml"
	printf '  max_groups %-7d peak RSS %8d KiB\n' "$cap" \
		"$(rss "$out/mem-limits.yml" bench/rules-corr "$log")"
done
echo "reproduce: bench/mem.sh $n $events"
