#!/usr/bin/env bash
# A list file that is not a regular file is refused where the config names
# it (file:line:column), at once: a FIFO nobody writes, /dev/stdin on a
# pipe that stays open and a directory would otherwise block or fail
# obscurely.  Checked by `custos lint --config`, `custosd --check` and a
# custosd start (exit 2, nothing served); a regular file still loads.
# (Reload keeps the old lists: run_reload_lists.sh.)
. "$(dirname "$0")/lib.sh" "$1"

mkfifo "$tmp/vip.fifo"
mkdir "$tmp/dir"
printf 'C1\n' >"$tmp/vip.txt"
conf() { # conf FILE LIST_PATH: a daemon config whose list is LIST_PATH
	{ daemon_config "$tmp/access.log" "$repo/rules/watchlists.yml"
	  printf 'lists:\n  vip_customers: { file: %s }\n' "$2"; } >"$1"
}
: >"$tmp/access.log"
conf "$tmp/fifo.yml" "$tmp/vip.fifo"
conf "$tmp/stdin.yml" /dev/stdin
conf "$tmp/dir.yml" "$tmp/dir"
conf "$tmp/ok.yml" "$tmp/vip.txt"
at="9:26: list file"

# every command is bounded by timeout(1): a blocked open would be rc 124
timeout 10 "$custos" lint --config "$tmp/fifo.yml" "$repo/rules/" >/dev/null 2>"$tmp/err"
check "lint: FIFO refused with exit 2 (got $?)" test $? -eq 2
check "lint: FIFO named at file:line:column" \
	grep -q "^$tmp/fifo.yml:$at '$tmp/vip.fifo' is a FIFO, not a regular file" "$tmp/err"
# stdin: a pipe whose writer stays open and writes nothing
mkfifo "$tmp/pipe"
sleep 30 >"$tmp/pipe" &
writer=$!
timeout 10 "$custos" lint --config "$tmp/stdin.yml" "$repo/rules/" <"$tmp/pipe" >/dev/null 2>"$tmp/err"
check "lint: /dev/stdin on a pipe refused (got $?)" test $? -eq 2
kill "$writer"
check "lint: /dev/stdin named" grep -q "^$tmp/stdin.yml:$at '/dev/stdin' is a FIFO" "$tmp/err"
timeout 10 "$custos" lint -c "$tmp/dir.yml" "$repo/rules/" >/dev/null 2>"$tmp/err"
check "lint: a directory refused" grep -q "^$tmp/dir.yml:$at '$tmp/dir' is a directory" "$tmp/err"
check "lint: a regular list file is OK" \
	sh -c "timeout 10 '$custos' lint -c '$tmp/ok.yml' '$repo/rules/' | grep -q '^OK: '"

timeout 10 "$custosd" --check -c "$tmp/fifo.yml" >/dev/null 2>"$tmp/err"
check "custosd --check: refused with exit 2 (got $?)" test $? -eq 2
check "custosd --check: named" grep -q "$tmp/fifo.yml:$at" "$tmp/err"
timeout 10 "$custosd" -f -c "$tmp/fifo.yml" >/dev/null 2>"$tmp/err"
check "custosd start: refused with exit 2 (got $?)" test $? -eq 2
check "custosd start: named, not started" \
	grep -q "$tmp/fifo.yml:$at '$tmp/vip.fifo' is a FIFO" "$tmp/err"
check "custosd start: no control socket" test ! -e "$tmp/ctl.sock"
finish
