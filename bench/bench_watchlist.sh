#!/usr/bin/env bash
# bench_watchlist.sh [CUSTOS] [N_EVENTS]: the cost of `expand` against a
# watchlist as the list grows.  Replays N (default 20000) views with a
# rule `customer|expand: '%vip_customers%'` and a VIP list file of 0, 1k,
# 4k and 100k values, under callgrind (instruction counts: the shared
# machine's load does not move them), and prints, per list size, the
# instructions in match_field_eval per event, the whole process's
# instructions and alerts, and the ratio of the matching cost to the empty
# list's (measured in the same run).  Needs valgrind and python3.
set -euo pipefail
CUSTOS=${1:-build/custos}
N=${2:-20000}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 - "$TMP" "$N" <<'PY'
import random, sys
tmp, n = sys.argv[1], int(sys.argv[2])
random.seed(1)
for size in (0, 1000, 4000, 100000):
    with open("%s/vip%d.txt" % (tmp, size), "w") as f:
        f.writelines("C%d\n" % (100000 + 7 * i) for i in range(size))
    with open("%s/c%d.yml" % (tmp, size), "w") as f:
        f.write("lists: { vip_customers: { file: vip%d.txt } }\n" % size)
with open(tmp + "/ev.jsonl", "w") as f:
    for i in range(n):
        f.write('{"ts":%d,"agent":"a%d","action":"view","customer":"C%d"}\n'
                % (1742198400 + i, i % 50, random.randrange(100000, 940000)))
with open(tmp + "/vip.yml", "w") as f:
    f.write("title: VIP view\nid: 11111111-2222-3333-4444-555555555555\n"
            "detection:\n  sel:\n    action: view\n"
            "    customer|expand: '%vip_customers%'\n  condition: sel\n"
            "level: high\n")
PY
printf '%8s %14s %16s %8s %7s\n' values match_Ir/event total_Ir alerts ratio
base=
for size in 0 1000 4000 100000; do
	valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.$size" \
		"$CUSTOS" replay --quiet --rules "$TMP/vip.yml" \
		--config "$TMP/c$size.yml" "$TMP/ev.jsonl" >"$TMP/out" 2>/dev/null
	total=$(callgrind_annotate "$TMP/cg.$size" 2>/dev/null |
		awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
	match=$(callgrind_annotate --inclusive=yes "$TMP/cg.$size" 2>/dev/null |
		awk '/match\.c:match_field_eval / && !n++ {gsub(",", "", $1); print $1}')
	per=$((${match:-0} / N))
	base=${base:-$per}
	printf '%8d %14d %16d %8d %7s\n' "$size" "$per" "$total" \
		"$(wc -l <"$TMP/out")" "$(echo "scale=2; $per / $base" | bc)"
done
