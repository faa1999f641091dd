# Helpers for the custosd integration tests (sourced by run_*.sh).
# usage in a test: . "$(dirname "$0")/lib.sh" "$1"
set -u
custos=$(cd "$(dirname "${1:?usage: run_X.sh PATH/TO/custos}")" && pwd)/$(basename "$1")
custosd=$(dirname "$custos")/custosd
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d /tmp/custos_it.XXXXXX)
daemon_pid=
n_passed=0 n_failed=0
cleanup() {
	[ -n "$daemon_pid" ] && kill -KILL "$daemon_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
pass() { n_passed=$((n_passed + 1)); }
fail() { n_failed=$((n_failed + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then pass; else fail "$what"; fi
}
# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s; 0 when it
# succeeded within the time, 1 otherwise.
wait_for() {
	local limit=$(($1 * 10)) i=0; shift
	while [ $i -lt $limit ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# wait_progress STALL_S PROGRESS_CMD DONE_CMD...: polls DONE_CMD every
# 0.1 s until it succeeds (0); 1 when PROGRESS_CMD's output (a counter such
# as records read) has not changed for STALL_S seconds, or after 15 minutes
# in all.  For waits whose length depends on the build and the machine's
# load (Debug, sanitizers): a stalled daemon fails, a slow one does not.
wait_progress() {
	local stall=$(($1 * 10)) progress=$2 last=-1 cur still=0 i=0
	shift 2
	while ! "$@" 2>/dev/null; do
		cur=$($progress 2>/dev/null)
		if [ "$cur" = "$last" ]; then still=$((still + 1)); else still=0; fi
		last=$cur
		if [ $still -ge "$stall" ] || [ $i -ge 9000 ]; then return 1; fi
		sleep 0.1
		i=$((i + 1))
	done
}
# status_num KEYPATH: a number from `custos status --json` (jq-free).
status_num() {
	"$custos" status --socket "$tmp/ctl.sock" --json |
		python3 -c "import json,sys; o=json.load(sys.stdin)
for k in sys.argv[1].split('.'): o=o[int(k)] if k.isdigit() else o[k]
print(o)" "$1"
}
store_ids() { # sorted alert ids of a store
	sqlite3 "$1" "select id from alerts order by id"
}
daemon_alive() { kill -0 "$daemon_pid" 2>/dev/null; }
daemon_gone() { ! kill -0 "$daemon_pid" 2>/dev/null; }
finish() {
	echo "$n_passed passed, $n_failed failed"
	[ "$n_failed" -eq 0 ] && [ "$n_passed" -gt 0 ]
}
# daemon_base: the part of a test daemon's config every test shares,
# printed on stdout: state and control socket under $tmp, checkpoints every
# 100 ms.  A test prints its inputs, rules and whatever else differs around
# it (YAML keys may come in any order).
daemon_base() {
	cat <<YML
state_dir: $tmp/state
control_socket: $tmp/ctl.sock
checkpoint: { every_ms: 100ms }
YML
}
# daemon_config INPUT_PATH [RULE_PATH...]: daemon_base plus one file input
# `crm` reading INPUT_PATH and the rules named (default: $tmp/view.yml,
# see write_view_rule), on stdout.  The test appends what differs:
#   { daemon_config "$tmp/ev.jsonl"; cat <<YML; } >"$tmp/c.yml"
#   sinks: ...
#   YML
daemon_config() {
	local input=$1 IFS=,
	shift
	[ $# -gt 0 ] || set -- "$tmp/view.yml"
	cat <<YML
inputs:
  - name: crm
    path: $input
rules: [ $* ]
YML
	daemon_base
}
# write_view_rule FILE: a detection rule raising one alert (id $view_id)
# per view of a customer record, whatever the rule pack says.
view_id=5f1c2a3b-0d4e-4f60-8a7b-9c0d1e2f3a4b
write_view_rule() {
	cat >"$1" <<YML
title: Customer record viewed (integration test)
id: $view_id
status: test
detection:
  selection:
    action: view
    customer|exists: true
  condition: selection
level: medium
YML
}
