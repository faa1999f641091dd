#!/usr/bin/env bash
# Rule fixtures: for every tests/rules/<fixture>/, the shipped rule pack
# (rules/) replayed over fire.jsonl must raise an alert titled as in
# `title`, and over quiet.jsonl must not (config.yaml, if present, is
# passed with --config).  A building block that raises no alerts of its
# own in the pack (a detection or correlation used by a correlation
# without `generate: true`) is replayed alone with the rules it uses, so
# that it is the top rule and its alerts are seen (rule_pack.py isolate).
# Every rule of the pack must have a fixture (a `title` naming it), and
# every fixture must name a rule of the pack.
# usage: run_rule_fixtures.sh PATH/TO/custos
# (CUSTOS_FIXTURE_RULES=DIR replays a scratch copy of rules/ instead: a
# changed threshold must make a fixture fail.)
set -u
custos=${1:?usage: run_rule_fixtures.sh CUSTOS}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rules=${CUSTOS_FIXTURE_RULES:-$root/rules}
pack="python3 $here/rule_pack.py $rules"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
: >"$tmp/covered"
for d in "$here"/*/; do
	fixture=$(basename "$d")
	title=$(cat "$d/title")
	if ! rule=$($pack name-of "$title"); then
		echo "FAIL: $fixture: no rule in $rules is titled '$title'"
		fail=$((fail + 1))
		continue
	fi
	echo "$rule" >>"$tmp/covered"
	src=$($pack isolate "$rule" "$tmp/$fixture.yml")
	src=${src:-$rules}
	cfg=()
	[ -f "$d/config.yaml" ] && cfg=(--config "$d/config.yaml")
	for kind in fire quiet; do
		if ! "$custos" replay --quiet --rules "$src" "${cfg[@]}" \
			"$d/$kind.jsonl" >"$tmp/out" 2>"$tmp/err"; then
			echo "FAIL: $fixture/$kind.jsonl: replay failed:"
			head -5 "$tmp/err"
			fail=$((fail + 1))
			continue
		fi
		n=$(python3 -c 'import json,sys
t=sys.argv[1]
print(sum(1 for l in sys.stdin if json.loads(l)["rule_title"]==t))' \
			"$title" <"$tmp/out")
		if { [ "$kind" = fire ] && [ "$n" -ge 1 ]; } ||
			{ [ "$kind" = quiet ] && [ "$n" -eq 0 ]; }; then
			pass=$((pass + 1))
		else
			echo "FAIL: $fixture/$kind.jsonl ($rule): $n alerts of '$title'"
			fail=$((fail + 1))
		fi
	done
done
# rules without a fixture: new rules cannot land without one
for rule in $($pack names); do
	if ! grep -qx "$rule" "$tmp/covered"; then
		echo "FAIL: rule $rule has no fixture in tests/rules/"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
