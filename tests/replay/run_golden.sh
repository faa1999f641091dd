#!/usr/bin/env bash
# Golden replay tests: for every case directory under tests/replay/cases/,
# replays input.jsonl with rules.yml (and config.yaml if present) and compares the alerts (rule title,
# event time, group, value) with expected.jsonl, exactly and in order.
# Cases with malformed_lines.txt also check that exactly those line numbers
# are reported as malformed on stderr.  Also checks that alert ids are
# stable across runs and that storing twice adds nothing the second time.
# usage: run_golden.sh PATH/TO/custos
set -u
custos=${1:?usage: run_golden.sh CUSTOS}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n_passed=0 n_failed=0

pass() { n_passed=$((n_passed + 1)); }
fail() { n_failed=$((n_failed + 1)); echo "FAIL: $*"; }

project() { jq -c '{rule: .rule_title, ts: .ts, group: .group, value: .value}'; }

for dir in "$here"/cases/*/; do
	name=$(basename "$dir")
	out="$tmp/$name.out" err="$tmp/$name.err"
	config=()
	[ -f "$dir/config.yaml" ] && config=(--config "$dir/config.yaml")
	if ! "$custos" replay "${config[@]}" --rules "$dir/rules.yml" --db "$tmp/$name.db" \
		"$dir/input.jsonl" >"$out" 2>"$err"; then
		fail "$name: replay exited $?"; cat "$err"; continue
	fi
	if diff -u "$dir/expected.jsonl" <(project <"$out") >"$tmp/diff"; then
		pass
	else
		fail "$name: alerts differ from expected.jsonl"; cat "$tmp/diff"
	fi
	if [ -f "$dir/malformed_lines.txt" ]; then
		got=$(grep -o 'input.jsonl:[0-9]*: malformed' "$err" |
			sed 's/input.jsonl:\([0-9]*\):.*/\1/')
		if [ "$got" = "$(cat "$dir/malformed_lines.txt")" ]; then
			pass
		else
			fail "$name: malformed lines reported: $(echo $got)"
		fi
	fi
	# same input, same ids; the store ignores the repeat
	"$custos" replay "${config[@]}" --rules "$dir/rules.yml" --db "$tmp/$name.db" \
		"$dir/input.jsonl" >"$out.2" 2>"$err.2"
	if cmp -s <(jq -r .id <"$out") <(jq -r .id <"$out.2"); then
		pass
	else
		fail "$name: alert ids changed between runs"
	fi
	n_alerts=$(wc -l <"$out")
	n_rows=$(sqlite3 "$tmp/$name.db" 'SELECT count(*) FROM alerts')
	if [ "$n_rows" = "$n_alerts" ] && grep -q '(0 new in store)' "$err.2"; then
		pass
	else
		fail "$name: store has $n_rows rows for $n_alerts alerts"
	fi
done
echo "$n_passed passed, $n_failed failed"
[ "$n_failed" -eq 0 ] && [ "$n_passed" -gt 0 ]
