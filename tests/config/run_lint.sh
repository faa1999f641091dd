#!/usr/bin/env bash
# Lint tests: the shipped rules pass `custos lint`; every file in bad/
# fails with exit code 2 and reports each problem named in its
# "# expect: LINE:COLUMN: TEXT" header lines at exactly that position.
# usage: run_lint.sh PATH/TO/custos
set -u
custos=${1:?usage: run_lint.sh CUSTOS}
here=$(cd "$(dirname "$0")" && pwd)
n_passed=0 n_failed=0
pass() { n_passed=$((n_passed + 1)); }
fail() { n_failed=$((n_failed + 1)); echo "FAIL: $*"; }

if out=$("$custos" lint rules/ 2>&1) && [[ $out == OK:* ]]; then
	pass
else
	fail "shipped rules do not lint clean: $out"
fi

for f in "$here"/bad/*.yml; do
	name=$(basename "$f")
	err=$("$custos" lint "$f" 2>&1 >/dev/null)
	rc=$?
	[ "$rc" -eq 2 ] && pass || fail "$name: exit code $rc, want 2"
	while IFS= read -r want; do
		pos=${want%%: *} text=${want#*: }
		if grep -qF "$f:$pos: " <<<"$err" &&
			grep -F "$f:$pos: " <<<"$err" | grep -qiF "$text"; then
			pass
		else
			fail "$name: no '$pos: $text' in: $err"
		fi
	done < <(sed -n 's/^# expect: //p' "$f")
done
echo "$n_passed passed, $n_failed failed"
[ "$n_failed" -eq 0 ] && [ "$n_passed" -gt 0 ]
