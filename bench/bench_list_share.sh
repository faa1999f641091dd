#!/usr/bin/env bash
# bench_list_share.sh [CUSTOS...]: the memory a watchlist costs per rule
# that uses it.  A 100k-value list file (`lists: { vip: { file: ... } }`)
# is used by 0, 1 and 3 rules (`customer|expand: '%vip%'`); each binary
# replays 100 events with each rule set, 5 times, and the median peak RSS
# (/usr/bin/time %M, KiB) is printed with the extra cost of each rule over
# the 1-rule figure.  Several binaries (e.g. a build before and after a
# change) are measured in the same run.  Peak RSS does not depend on the
# machine's load.  Needs python3 and GNU time.
set -euo pipefail
[ $# -gt 0 ] || set -- build/custos
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 - "$TMP" <<'PY'
import sys
tmp = sys.argv[1]
with open(tmp + "/vip.txt", "w") as f:
    f.writelines("C%d\n" % (100000 + 7 * i) for i in range(100000))
with open(tmp + "/c.yml", "w") as f:
    f.write("lists: { vip: { file: vip.txt } }\n")
with open(tmp + "/ev.jsonl", "w") as f:
    for i in range(100):
        f.write('{"ts":%d,"agent":"a%d","action":"view","customer":"C%d"}\n'
                % (1742198400 + i, i % 5, 100000 + 7 * i))
for n in (0, 1, 3):
    with open("%s/r%d.yml" % (tmp, n), "w") as f:
        f.write("title: plain view\nid: 00000000-0000-4000-8000-000000000000\n"
                "detection:\n  sel:\n    action: view\n  condition: sel\n"
                "level: low\n")
        for i in range(n):
            f.write("---\ntitle: VIP view %d\n"
                    "id: 00000000-0000-4000-8000-00000000000%d\n"
                    "detection:\n  sel:\n    action: view\n"
                    "    customer|expand: '%%vip%%'\n  condition: sel\n"
                    "level: high\n" % (i, i + 1))
PY
peak() { # peak BINARY N_RULES: median of 5 peak RSS figures, KiB
	for _ in 1 2 3 4 5; do
		/usr/bin/time -f %M "$1" replay --quiet --rules "$TMP/r$2.yml" \
			--config "$TMP/c.yml" "$TMP/ev.jsonl" 2>&1 >/dev/null |
			tail -n 1
	done | sort -n | sed -n 3p
}
printf '%-32s %10s %10s %10s %14s\n' binary 0_rules_KiB 1_rule_KiB \
	3_rules_KiB per_extra_rule
for bin in "$@"; do
	r0=$(peak "$bin" 0) r1=$(peak "$bin" 1) r3=$(peak "$bin" 3)
	printf '%-32s %10d %10d %10d %14d\n' "$bin" "$r0" "$r1" "$r3" \
		$(((r3 - r1) / 2))
done
