#!/bin/bash
# fuzz.sh: runs each libFuzzer target of custos for a bounded time, one at
# a time, in-process (no -jobs/-workers: the build machines are small and
# shared).
#
#   CC=clang cmake -S . -B build-fuzz -DCUSTOS_FUZZ=ON && cmake --build build-fuzz
#   tests/fuzz/fuzz.sh [-b BUILD_DIR] [TARGET...]     (default: every target)
#
# Environment: FUZZ_SECONDS (per target, default 30), FUZZ_MAX_LEN (bytes,
# default 4096), FUZZ_RSS_MB (default 2048), FUZZ_TIMEOUT (seconds per input,
# default 10).
#
# Inputs: the checked-in seeds tests/fuzz/corpus/<target>/ and the saved
# crashes are read, never written; new coverage goes to a scratch corpus
# BUILD_DIR/fuzz-corpus/<target>/ that grows across runs.  Any crash, leak,
# timeout or OOM is written to tests/fuzz/crashes/<target>/ to be committed:
# ctest replays that directory from then on (fuzz/<target>).
#
# Not named run_*.sh on purpose: tests/CMakeLists.txt makes every
# tests/*/run_*.sh a ctest test, and a fuzzing campaign is not one.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build-fuzz
seconds=${FUZZ_SECONDS:-30}
max_len=${FUZZ_MAX_LEN:-4096}
rss_mb=${FUZZ_RSS_MB:-2048}
timeout=${FUZZ_TIMEOUT:-10}

if [ "${1:-}" = "-b" ]; then
	[ $# -ge 2 ] || { echo "usage: $0 [-b BUILD_DIR] [TARGET...]" >&2; exit 2; }
	build=$(cd "$2" && pwd) || exit 2
	shift 2
fi
bindir=$build/tests/fuzz

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for src in "$here"/fuzz_*.c; do
		t=$(basename "$src" .c)
		[ "$t" = fuzz_replay_main ] || targets+=("$t")
	done
fi

run_one() {
	local t=$1 bin=$bindir/$1 crashes=$here/crashes/$1
	local work=$build/fuzz-corpus/$1 log=$build/fuzz-logs/$1.log
	local dict=() extra=() rc

	if [ ! -x "$bin" ]; then
		echo "$t: no libFuzzer binary at $bin (configure with CC=clang -DCUSTOS_FUZZ=ON)" >&2
		return 1
	fi
	mkdir -p "$work" "$crashes" "$(dirname "$log")"
	[ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
	[ -d "$here/corpus/$t" ] && extra+=("$here/corpus/$t")
	# libFuzzer writes new units to the first directory only.
	"$bin" -max_total_time="$seconds" -max_len="$max_len" \
		-rss_limit_mb="$rss_mb" -timeout="$timeout" \
		-print_final_stats=1 "${dict[@]}" \
		-artifact_prefix="$crashes/" "$work" "${extra[@]}" "$crashes" \
		>"$log" 2>&1
	rc=$?
	# keep the tree clean when nothing was found
	rmdir "$crashes" "$here/crashes" 2>/dev/null
	grep -E '^#[0-9]+ *DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb' "$log" |
		sed "s/^/$t: /"
	if [ $rc -ne 0 ]; then
		echo "$t: FAILED (exit $rc), log $log; artifacts:" >&2
		ls "$crashes" >&2 2>/dev/null
		grep -m1 -A12 -E '^==[0-9]+==ERROR|runtime error|deadly signal' "$log" >&2
	fi
	return $rc
}

failed=0
for t in "${targets[@]}"; do
	run_one "$t" || failed=1
done
exit $failed
