#!/usr/bin/env bash
# Rule fixtures: for every tests/rules/<rule>/, the shipped rule pack
# (rules/) replayed over fire.jsonl must raise an alert titled as in
# `title`, and over quiet.jsonl must not (config.yaml, if present, is
# passed with --config).  usage: run_rule_fixtures.sh PATH/TO/custos
set -u
custos=${1:?usage: run_rule_fixtures.sh CUSTOS}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pass=0 fail=0
for d in "$here"/*/; do
	rule=$(basename "$d")
	title=$(cat "$d/title")
	cfg=()
	[ -f "$d/config.yaml" ] && cfg=(--config "$d/config.yaml")
	for kind in fire quiet; do
		n=$("$custos" replay --quiet --rules "$root/rules" "${cfg[@]}" \
			"$d/$kind.jsonl" 2>/dev/null |
			python3 -c 'import json,sys
t=sys.argv[1]
print(sum(1 for l in sys.stdin if json.loads(l)["rule_title"]==t))' "$title")
		if { [ "$kind" = fire ] && [ "$n" -ge 1 ]; } ||
			{ [ "$kind" = quiet ] && [ "$n" -eq 0 ]; }; then
			pass=$((pass + 1))
		else
			echo "FAIL: $rule/$kind.jsonl: $n alerts of '$title'"
			fail=$((fail + 1))
		fi
	done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
