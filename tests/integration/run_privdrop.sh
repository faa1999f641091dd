#!/usr/bin/env bash
# custosd started as root with `user:`/`group:` drops to that user after
# opening its input, store and control socket (which belongs to the
# control group): the running process holds
# no root uid or gid (real, effective, saved), no supplementary groups but
# the configured one, no capabilities; the state it created belongs to the
# user; and it still works (alerts stored, status answered).  Skipped when
# not run as root (CI runs as root).
. "$(dirname "$0")/lib.sh" "$1"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root"; echo "1 passed, 0 failed"; exit 0
fi
user=custos-test-$$
useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
cleanup_user() { userdel "$user" 2>/dev/null; cleanup; }
trap cleanup_user EXIT
uid=$(id -u "$user") gid=$(id -g "$user")
chmod 0755 "$tmp"
python3 "$repo/bench/gen_events.py" --events 3000 --insider >"$tmp/ev.jsonl"
chmod 0644 "$tmp/ev.jsonl"
cat >"$tmp/c.yml" <<YML
inputs:
  - name: log
    path: $tmp/ev.jsonl
rules: [ $repo/rules ]
state_dir: $tmp/state
control_socket: $tmp/run/ctl.sock
user: $user
group: $user
control_group: adm
checkpoint: { every_ms: 100ms }
YML
"$custosd" -f -c "$tmp/c.yml" 2>"$tmp/log" &
daemon_pid=$!
status_ok() { "$custos" status --socket "$tmp/run/ctl.sock" >/dev/null; }
check "daemon answers status" wait_for 20 status_ok
field() { awk -v k="$1:" '$1 == k { $1 = ""; print substr($0, 2) }' \
	"/proc/$daemon_pid/status"; }
check "uids dropped to $uid (Uid: $(field Uid))" \
	test "$(field Uid | tr -s '\t ' ' ')" = "$uid $uid $uid $uid"
check "gids dropped to $gid (Gid: $(field Gid))" \
	test "$(field Gid | tr -s '\t ' ' ')" = "$gid $gid $gid $gid"
check "no supplementary groups but $gid (Groups: $(field Groups))" \
	bash -c "[ -z '$(field Groups | tr -d ' ')' ] || [ '$(field Groups | tr -d ' ')' = '$gid' ]"
check "no effective capabilities (CapEff: $(field CapEff))" \
	test "$(field CapEff)" = 0000000000000000
check "state dir owned by $user" \
	test "$(stat -c %U "$tmp/state")" = "$user"
check "store owned by $user" \
	test "$(stat -c %U "$tmp/state/alerts.db")" = "$user"
has_alerts() { [ "$(sqlite3 "$tmp/state/alerts.db" 'select count(*) from alerts')" -gt 0 ]; }
check "alerts stored after the drop" wait_for 20 has_alerts
check "control socket belongs to the control group, mode 0660" \
	test "$(stat -c '%U:%G %a' "$tmp/run/ctl.sock")" = "$user:adm 660"
check "a user outside the control group is refused" \
	bash -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups '$custos' status --socket '$tmp/run/ctl.sock' >/dev/null 2>&1"
kill -TERM "$daemon_pid"
wait_for 10 daemon_gone
wait "$daemon_pid"
rc=$?
daemon_pid=
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0
finish
