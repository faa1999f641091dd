#!/usr/bin/env bash
# custosd end to end on its standard input: every record evaluated, a
# malformed line counted (and logged with its line number, escaped), the
# same alert ids as `custos replay`, figures over the control socket
# (`custos status`), and SIGTERM: exit 0 with everything checkpointed.
. "$(dirname "$0")/lib.sh" "$1"

python3 "$repo/bench/gen_events.py" --events 5000 --insider >"$tmp/gen.jsonl"
{ head -n 100 "$tmp/gen.jsonl"; printf 'not json \033[2J\n'
  tail -n +101 "$tmp/gen.jsonl"; } >"$tmp/ev.jsonl"
{ cat <<YML; daemon_base; } >"$tmp/c.yml"
inputs:
  - name: pipe
    path: "-"
rules: [ $repo/rules ]
YML
check "--check accepts the config" \
	bash -c "'$custosd' --check -c '$tmp/c.yml' | grep -q '^OK'"
mkfifo "$tmp/fifo"
"$custosd" -f -c "$tmp/c.yml" <"$tmp/fifo" 2>"$tmp/log" &
daemon_pid=$!
exec 3>"$tmp/fifo"
cat "$tmp/ev.jsonl" >&3
n=$(wc -l <"$tmp/ev.jsonl")
records_read() { [ "$(status_num inputs.0.records)" = "$n" ]; }
check "all $n records read" wait_for 20 records_read
check "one malformed record counted" \
	test "$(status_num inputs.0.malformed)" = 1
check "human status names the input" \
	bash -c "'$custos' status --socket '$tmp/ctl.sock' | grep -q '^  pipe '"
check "malformed line logged with line number, escaped" \
	grep -qF 'input pipe line 101 offset' "$tmp/log"
check "escape sequence not passed through" \
	grep -qF 'not json \x1b[2J' "$tmp/log"
kill -TERM "$daemon_pid"
wait_for 10 daemon_gone
wait "$daemon_pid"
rc=$?
daemon_pid=
exec 3>&-
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0
"$custos" replay --quiet --rules "$repo/rules" --db "$tmp/ref.db" \
	"$tmp/ev.jsonl" >/dev/null 2>&1
store_ids "$tmp/ref.db" >"$tmp/want"
store_ids "$tmp/state/alerts.db" >"$tmp/got"
check "some alerts" test -s "$tmp/want"
check "same alert ids as custos replay" cmp -s "$tmp/want" "$tmp/got"
check "state dir is 0750" test "$(stat -c %a "$tmp/state")" = 750
check "store is 0640" test "$(stat -c %a "$tmp/state/alerts.db")" = 640
check "control socket removed at exit" test ! -e "$tmp/ctl.sock"
finish
