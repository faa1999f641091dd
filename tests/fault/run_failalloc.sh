#!/usr/bin/env bash
# Allocation-failure injection: runs custos commands with the n-th heap
# allocation failing (tests/fault/failalloc.c, LD_PRELOAD) and checks that
# each run either succeeds with exactly the output of an undisturbed run,
# or exits 1 or 2 with a message on stderr: never a signal, an abort or a
# silent wrong result.  Sampled runs also go under valgrind memcheck: no
# definite leak and no invalid access on any of these paths (leaks inside
# libraries, not custos's, are suppressed in tests/fault/valgrind.supp).
#
# Scenarios: rule loading (`custos lint rules/`), config + rule loading
# (`custosd --check`), `custos replay` of the rule fixtures with the
# shipped rules into a fresh SQLite store (store writes; the store must
# pass `PRAGMA integrity_check` after every run, whatever failed), and
# store reads (`custos alerts`, `custos stats`, `agent --json`,
# `customer --json`, `blast-radius --json`, `verify`, `report --html`:
# the page is compared), `custos pcap-events` and `replay --pcap` of a
# written capture (tests/integration/write_pcap.py), and custosd itself
# (see daemon_sweep below).
#
# replay-steady: `custos replay` of the fixtures without a store, over its
# steady-state allocations only (those after setup: from the count of a
# run over an empty file to the end), so that every allocation of
# decoding, evaluation, evidence, extension state and alert output fails
# once.  Stricter: a run must exit 0 with exactly the undisturbed output,
# or exit 1 saying "out of memory" on stderr with replay's count of
# allocation failures (printed even with --quiet): at least 1, and without
# --every exactly the number the shim failed (each failure counted once,
# per event); never exit 0 having reported one.
# One run in 8 (--full: 10) goes under valgrind.
#
# usage: run_failalloc.sh PATH/TO/custos [--full] [--every K] [--only NAME]
#   default: a bounded sample (the first 25 allocations of each scenario,
#   then ~35 spread over the run; one in 12 of them under valgrind;
#   custosd: the first 5, then ~20 spread);
#   --full: every n from 1 to the scenario's count (long: tens of
#   thousands of runs), one in 50 under valgrind;
#   --every K: after the n-th, every K-th allocation fails too;
#   --only 'NAME...': these scenarios (lint, check, replay, replay-steady,
#   alerts, stats, agent, customer, blast-radius, verify, report,
#   pcap-events, pcap-replay, daemon).
#   --part I/P: only the n with n % P == I (run P copies in parallel);
#   --valgrind-every K: one run in K under valgrind (0: none);
#   --n 'N...': only these allocations (reproducing a failure).
# Exit 77 (skipped) when the shim was not built (sanitizer builds).
set -u
custos=$(cd "$(dirname "${1:?usage: run_failalloc.sh PATH/TO/custos}")" && pwd)/$(basename "$1")
shift
custosd=$(dirname "$custos")/custosd
shim=$(dirname "$custos")/tests/libfailalloc.so
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
full=0 every=0 only= part=0/1 vg_every= only_ns=
while [ $# -gt 0 ]; do
	case $1 in
	--full) full=1; shift ;;
	--every) every=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--part) part=$2; shift 2 ;;
	--n) only_ns=$2; shift 2 ;;
	--valgrind-every) vg_every=$2; shift 2 ;;
	*) echo "usage: run_failalloc.sh CUSTOS [--full] [--every K]" >&2; exit 2 ;;
	esac
done
if [ ! -f "$shim" ]; then
	echo "skipped: $shim not built (sanitizer build?)"
	exit 77
fi
have_valgrind=0
command -v valgrind >/dev/null && have_valgrind=1
tmp=$(mktemp -d /tmp/custos_failalloc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n_runs=0 n_ok=0 n_err=0 n_vg=0 n_failed=0 n_glibc=0 n_dropped=0
fail() { n_failed=$((n_failed + 1)); echo "FAIL: $*"; }

fixtures=()
for r in breadth_burst bulk_export denied_burst export_sum \
	many_agents_one_customer no_ticket_day sensitive_no_ticket; do
	fixtures+=("$repo/tests/rules/$r/fire.jsonl")
done
printf '{"ts":"2025-03-03T08:00:00Z","agent":\n' >"$tmp/bad.jsonl"
fixtures+=("$tmp/bad.jsonl")
cat >"$tmp/c.yml" <<YML
inputs:
  - name: crm
    path: $tmp/logs/*.jsonl
rules: [ $repo/rules ]
state_dir: $tmp/state
control_socket: $tmp/ctl.sock
YML
"$custos" replay --quiet --rules "$repo/rules" --db "$tmp/ref.db" \
	--keep-events "${fixtures[@]}" >/dev/null 2>&1
span=(--since 2025-01-01 --until 2026-01-01)
python3 "$repo/tests/integration/write_pcap.py" "$tmp/console.pcap"
sed "s|path: console.pcap|path: $tmp/console.pcap|" \
	"$repo/tests/integration/pcap_console.yml" >"$tmp/pcap.yml"
cat >"$tmp/view.yml" <<YML
title: Console document viewed (failalloc)
id: 5f1c2a3b-0d4e-4f60-8a7b-9c0d1e2f3a4c
status: test
detection:
  selection:
    action: view_document
  condition: selection
level: medium
YML

# scenario NAME: the command line of scenario NAME (in "$@" form), run
# from $tmp/run (a fresh directory each time).
scenario() {
	outfile=
	case $1 in
	lint) cmd=("$custos" lint "$repo/rules") ;;
	check) cmd=("$custosd" --check -c "$tmp/c.yml") ;;
	replay) cmd=("$custos" replay --rules "$repo/rules" --db "$tmp/run/a.db"
		"${fixtures[@]}") ;;
	replay-steady) cmd=("$custos" replay --rules "$repo/rules"
		"${fixtures[@]}") ;;
	alerts) cmd=("$custos" alerts --db "$tmp/run/ref.db" --json) ;;
	stats) cmd=("$custos" stats --db "$tmp/run/ref.db" --since 3650d --json) ;;
	agent) cmd=("$custos" agent a "${span[@]}" --db "$tmp/run/ref.db" --json) ;;
	customer) cmd=("$custos" customer C7 "${span[@]}" --db "$tmp/run/ref.db"
		--json) ;;
	blast-radius) cmd=("$custos" blast-radius --agent a --agent a2
		"${span[@]}" --db "$tmp/run/ref.db" --json) ;;
	verify) cmd=("$custos" verify --db "$tmp/run/ref.db") ;;
	report) cmd=("$custos" report --html "$tmp/run/r.html" "${span[@]}"
		--db "$tmp/run/ref.db")
		outfile=$tmp/run/r.html ;;
	pcap-events) cmd=("$custos" pcap-events --config "$tmp/pcap.yml"
		"$tmp/console.pcap") ;;
	pcap-replay) cmd=("$custos" replay --config "$tmp/pcap.yml" --rules
		"$repo/rules" --rules "$tmp/view.yml" --db "$tmp/run/a.db"
		--keep-events --pcap "$tmp/console.pcap") ;;
	esac
}
# regress NAME: allocations that once failed badly in scenario NAME, run
# in the sample too (they move when the rules or code change; still cheap).
regress() {
	case $1 in
	lint) echo 1069 1088 8904 ;; # rule dropped silently; crash (add_consumer)
	replay) echo 1076 2172 ;; # rule tags lost; custos: extension lost
	agent) echo 2225 2537 ;; # --json: no output or a table missing, exit 0
	customer) echo 1260 ;; # --json: rows missing, exit 0
	daemon) echo 9101 19451 ;; # rules lost: no alerts; record dropped
	verify) echo 6025 ;; # out of memory reported as TAMPERED
	pcap-replay) echo 393 ;; # route template part lost: crash
	esac
}
prepare() {
	rm -rf "$tmp/run"
	mkdir -p "$tmp/run"
	cp "$tmp/ref.db" "$tmp/run/ref.db"
}

# lib_defect N: true when the failed allocation was inside a library
# known to crash on it: glibc's NSS setting up its database for getpwuid
# (custos's audit user name): glibc 2.36 dereferences NULL
# (nss_database.c:402) or asserts (nss_database.c:291); OpenSSL 3.0's
# lazy initialisation under the first SHA256 (a lock it failed to create
# is later taken: NULL pthread_rwlock in CRYPTO_THREAD_read_lock).  Such
# runs are counted and shown, not failed.
lib_defect() {
	(cd "$tmp/run" && LD_PRELOAD=$shim FAILALLOC_N=$1 FAILALLOC_TRACE=1 \
		timeout 60 "${cmd[@]}" >/dev/null 2>"$tmp/trace")
	awk '/libfailalloc/ {f = 1} f && /getpwuid|__nss_|libcrypto/ {print; exit}
		f && /custos/ {exit}' "$tmp/trace" | grep -q .
}

# one NAME N VALGRIND: one run of scenario NAME with allocation N failing;
# checks the outcome.
one() {
	local name=$1 n=$2 vg=$3 rc
	local pre=()
	[ "$vg" = 1 ] && pre=(valgrind -q --soname-synonyms=somalloc=nouserintercepts
		--leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99
		--suppressions="$repo/tests/fault/valgrind.supp")
	scenario "$name"
	prepare
	rm -f "$tmp/onecount"
	(cd "$tmp/run" && LD_PRELOAD=$shim FAILALLOC_N=$n FAILALLOC_EVERY=$every \
		FAILALLOC_COUNT=$tmp/onecount \
		timeout 60 "${pre[@]}" "${cmd[@]}" >"$tmp/out" 2>"$tmp/err")
	rc=$?
	# replay-steady: the failures replay counted, and the shim's
	local counted shim_failed
	counted=$(grep -oE 'out of memory: [0-9]+ allocation' "$tmp/err" | grep -oE '[0-9]+')
	shim_failed=$(awk '{n += $2} END {print n}' "$tmp/onecount" 2>/dev/null) # + timeout's
	if [ -n "${FAILALLOC_KEEP:-}" ]; then # keep the last run's files
		cp -r "$tmp/run" "$tmp/out" "$tmp/err" "$FAILALLOC_KEEP/"
	fi
	[ -n "$outfile" ] && { cat "$outfile" >>"$tmp/out" 2>/dev/null || true; }
	n_runs=$((n_runs + 1))
	[ "$vg" = 1 ] && n_vg=$((n_vg + 1))
	local what="$name n=$n"; [ "$vg" = 1 ] && what="$what (valgrind)"
	if [ $rc -eq 99 ]; then
		fail "$what: valgrind: $(grep -m3 -E 'definitely lost|Invalid|uninitialised' "$tmp/err")"
		sed 's/^/    /' "$tmp/err" | head -40
	elif [ $rc -gt 2 ] && lib_defect "$n"; then
		n_glibc=$((n_glibc + 1)) # known library defect, not custos's
	elif [ $rc -gt 2 ] || grep -qE 'Assertion|AddressSanitizer|runtime error' "$tmp/err"; then
		fail "$what: exit $rc: $(tail -2 "$tmp/err")"
	elif [ "$name" = replay-steady ] && [ $rc -ne 0 ] &&
		! grep -q 'out of memory' "$tmp/err"; then
		fail "$what: exit $rc without reporting the allocation failure:" \
			"$(tail -2 "$tmp/err")"
	elif [ "$name" = replay-steady ] && [ $rc -eq 0 ] &&
		grep -q 'out of memory' "$tmp/err"; then
		fail "$what: reported an allocation failure but exit 0"
	elif [ "$name" = replay-steady ] && [ $rc -ne 0 ] && { [ "${counted:-0}" = 0 ] ||
		{ [ "$every" = 0 ] && [ "$counted" != "${shim_failed:-?}" ]; }; }; then
		fail "$what: replay counted ${counted:-no} allocation failures," \
			"the shim failed ${shim_failed:-?}"
	elif [ $rc -eq 0 ] && ! cmp -s "$tmp/out" "$tmp/want_$name"; then
		fail "$what: exit 0 but the output differs from the undisturbed run"
		diff "$tmp/want_$name" "$tmp/out" | head -5
	elif [ $rc -ne 0 ] && [ ! -s "$tmp/err" ]; then
		fail "$what: exit $rc without a message"
	else
		[ $rc -eq 0 ] && n_ok=$((n_ok + 1)) || n_err=$((n_err + 1))
	fi
	if [ -f "$tmp/run/a.db" ] &&
		[ "$(sqlite3 "$tmp/run/a.db" 'pragma integrity_check' 2>&1)" != ok ]; then
		fail "$what: store fails integrity_check"
	fi
}


# ---- custosd: a file input of ~200 generated events (321 records), run
# until every record is read and checkpointed, then SIGTERM.  Each run
# must end by itself or on SIGTERM within the time (no hang), exit 0 or
# 1/2 with a message in its log (never a signal), leave a store that
# passes integrity_check, and exit 0 only with every alert of an
# undisturbed `custos replay` stored.  Then an undisturbed restart on the
# same state must complete the store to exactly replay's alert ids and
# retained events (each once): a checkpoint that committed an input
# position without its alerts or events would lose them here.
daemon_setup() {
	python3 "$repo/bench/gen_events.py" --events 200 --insider >"$tmp/ev.jsonl"
	n_lines=$(wc -l <"$tmp/ev.jsonl")
	cat >"$tmp/d.yml" <<YML
inputs:
  - name: crm
    path: $tmp/ev.jsonl
rules: [ $repo/rules ]
state_dir: $tmp/run/state
control_socket: $tmp/run/ctl.sock
checkpoint: { every_ms: 100ms }
retention: { access_events: true, max_age: 0 }
YML
	"$custos" replay --quiet --rules "$repo/rules" --db "$tmp/dref.db" \
		--keep-events "$tmp/ev.jsonl" >/dev/null 2>&1
	sqlite3 "$tmp/dref.db" 'select id from alerts order by id' >"$tmp/want_ids"
}
d_read_all() { # every record read, every alert stored (jq/python-free)
	"$custos" status --socket "$tmp/run/ctl.sock" --json 2>/dev/null |
		grep -q "\"records\":$n_lines,.*\"pending_alerts\":0,"
}
# the store holds every retained event (a restart: it reads no record)
d_stored_all() {
	[ "$(sqlite3 "$tmp/run/state/alerts.db" \
		'select count(*) from access_events' 2>/dev/null)" = "$n_lines" ]
}
# d_run N [UNTIL]: starts custosd (allocation N failing; 0: none), waits
# until UNTIL (d_read_all) holds (5 s) or it exited, then SIGTERM; sets
# d_rc (124: hang)
d_run() {
	local until=${2:-d_read_all}
	rm -f "$tmp/run/ctl.sock"
	LD_PRELOAD=$shim FAILALLOC_N=$1 FAILALLOC_COUNT=$tmp/dcount \
		"$custosd" -f -c "$tmp/d.yml" >/dev/null 2>>"$tmp/run/log" &
	local pid=$! i=0
	while [ $i -lt 50 ] && kill -0 $pid 2>/dev/null && ! $until; do
		sleep 0.1; i=$((i + 1))
	done
	sleep 0.3 # a checkpoint (every 100 ms) after the last record
	kill -TERM $pid 2>/dev/null
	i=0
	while [ $i -lt 100 ] && kill -0 $pid 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	if kill -0 $pid 2>/dev/null; then
		kill -KILL $pid; wait $pid 2>/dev/null; d_rc=124
	else
		wait $pid; d_rc=$?
	fi
}
d_ids() { sqlite3 "$tmp/run/state/alerts.db" 'select id from alerts order by id'; }
d_one() {
	local n=$1 what="daemon n=$1"
	rm -rf "$tmp/run"; mkdir -p "$tmp/run"
	d_run "$n"
	local rc=$d_rc db=$tmp/run/state/alerts.db
	n_runs=$((n_runs + 1))
	cp "$tmp/run/log" "$tmp/err"
	if [ $rc -eq 124 ]; then
		fail "$what: hang (alive 10 s after SIGTERM)"
	elif [ $rc -gt 2 ] && cmd=("$custosd" -f -c "$tmp/d.yml") &&
		rm -rf "$tmp/run/state" && lib_defect "$n"; then
		n_glibc=$((n_glibc + 1)) # known library defect, not custos's
	elif [ $rc -gt 2 ]; then
		fail "$what: exit $rc: $(tail -2 "$tmp/err")"
	elif [ $rc -ne 0 ] && ! grep -q . "$tmp/err"; then
		fail "$what: exit $rc without a message"
	elif grep -qE 'out of memory: (record dropped|an alert of rule)|alerts may be lost' \
		"$tmp/err"; then
		# a record or alert lost (logged, status engine.nomem): custosd
		# must take no checkpoint after it and exit 1, so that the
		# restart below evaluates it again
		n_dropped=$((n_dropped + 1))
		[ $rc -eq 1 ] || fail "$what: lost a record or alert, exit $rc (want 1)"
	elif [ $rc -eq 0 ] && ! d_ids | cmp -s - "$tmp/want_ids"; then
		fail "$what: exit 0 but the store lacks alerts of replay:" \
			"$(d_ids | wc -l) of $(wc -l <"$tmp/want_ids"); log:" \
			"$(grep -v 'running as root\|started:\|groups restored' "$tmp/err" | head -3)"
	else
		[ $rc -eq 0 ] && n_ok=$((n_ok + 1)) || n_err=$((n_err + 1))
	fi
	if [ -f "$db" ] && [ "$(sqlite3 "$db" 'pragma integrity_check' 2>&1)" != ok ]; then
		fail "$what: store fails integrity_check"
		return
	fi
	# undisturbed restart: must complete the store
	: >"$tmp/run/log"
	d_run 0 d_stored_all
	if [ $d_rc -ne 0 ]; then
		fail "$what: undisturbed restart: exit $d_rc: $(tail -2 "$tmp/run/log")"
	elif ! d_ids | cmp -s - "$tmp/want_ids"; then
		fail "$what: after restart $(d_ids | wc -l) alerts, replay" \
			"$(wc -l <"$tmp/want_ids") (a position committed without its alerts?)"
	elif [ "$(sqlite3 "$db" 'select count(*), count(distinct source) from access_events')" != \
		"$n_lines|$n_lines" ]; then
		fail "$what: after restart access events" \
			"$(sqlite3 "$db" 'select count(*), count(distinct source) from access_events'), want $n_lines"
	fi
}
daemon_sweep() {
	daemon_setup
	rm -rf "$tmp/run"; mkdir -p "$tmp/run"; rm -f "$tmp/dcount"
	d_run 0
	local total
	total=$(awk '{print $1}' "$tmp/dcount")
	if [ $d_rc -ne 0 ] || ! d_ids | cmp -s - "$tmp/want_ids"; then
		fail "daemon: undisturbed run: exit $d_rc, $(d_ids | wc -l) alerts"
		return
	fi
	local ns before=$n_failed i=0
	if [ -n "$only_ns" ]; then
		ns=$only_ns
	elif [ $full = 1 ]; then
		ns=$(seq 1 "$total")
	else
		ns=$( (seq 1 5; seq 6 $(((total + 19) / 20)) "$total"
			regress daemon) | sort -un)
	fi
	for n in $ns; do
		[ $((n % ${part#*/})) = "${part%/*}" ] || continue
		d_one "$n"
		i=$((i + 1))
	done
	echo "daemon: $total allocations, $i runs, $((n_failed - before)) failures"
}

# steady_from: the first allocation of replay-steady's evaluation (the
# allocations of a run over an empty file are its setup and teardown).
steady_from() {
	: >"$tmp/empty.jsonl"
	rm -f "$tmp/count0"
	LD_PRELOAD=$shim FAILALLOC_COUNT=$tmp/count0 "$custos" replay \
		--rules "$repo/rules" "$tmp/empty.jsonl" >/dev/null 2>&1
	awk '{print $1 + 1}' "$tmp/count0"
}

for name in ${only:-lint check replay replay-steady alerts stats agent customer
	blast-radius verify report pcap-events pcap-replay daemon}; do
	if [ "$name" = daemon ]; then
		daemon_sweep
		continue
	fi
	scenario "$name"
	prepare
	rm -f "$tmp/count"
	(cd "$tmp/run" && LD_PRELOAD=$shim FAILALLOC_COUNT=$tmp/count \
		"${cmd[@]}" >"$tmp/want_$name" 2>/dev/null)
	[ -n "$outfile" ] && cat "$outfile" >>"$tmp/want_$name"
	total=$(awk '{print $1}' "$tmp/count")
	if [ "${total:-0}" -lt 1 ]; then
		fail "$name: the shim counted no allocation"
		continue
	fi
	first=1
	[ "$name" = replay-steady ] && first=$(steady_from)
	if [ -n "$only_ns" ]; then
		ns=$only_ns vg_stride=50
	elif [ "$name" = replay-steady ] && [ $full = 1 ]; then
		ns=$(seq "$first" "$total") vg_stride=10
	elif [ "$name" = replay-steady ]; then
		ns=$(seq "$first" $(((total - first + 59) / 60)) "$total") vg_stride=8
	elif [ $full = 1 ]; then
		ns=$(seq 1 "$total") vg_stride=50
	else
		ns=$( (seq 1 $((total < 25 ? total : 25))
			seq 26 $(((total + 34) / 35)) "$total"
			regress "$name") | sort -un)
		vg_stride=12
	fi
	vg_stride=${vg_every:-$vg_stride}
	before=$n_failed i=0 ok0=$n_ok err0=$n_err
	for n in $ns; do
		[ $((n % ${part#*/})) = "${part%/*}" ] || continue
		vg=0
		[ $have_valgrind = 1 ] && [ "$vg_stride" != 0 ] &&
			[ $((i % vg_stride)) = 0 ] && vg=1
		one "$name" "$n" "$vg"
		i=$((i + 1))
	done
	[ "$name" = replay-steady ] && echo "$name: allocations $first..$total" \
		"(steady state): $((n_ok - ok0)) runs exit 0 with the undisturbed" \
		"output, $((n_err - err0)) exit 1 reporting it"
	echo "$name: $total allocations, $i runs, $((n_failed - before)) failures"
done
echo "failalloc: $n_runs runs ($n_vg under valgrind): $n_ok succeeded" \
	"with the undisturbed output, $n_err failed cleanly, $n_glibc crashed" \
	"in glibc's NSS or OpenSSL's initialisation (library defects)," \
	"$n_dropped custosd runs lost a record or alert (logged, exit 1, re-evaluated after restart), $n_failed problems"
[ $n_failed -eq 0 ] && [ $n_runs -gt 0 ]
