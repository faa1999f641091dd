#!/usr/bin/env bash
# ci-package-test.sh: builds the custos Debian package, installs it, checks
# that everything is in place, runs custosd from the installed files
# against a sample log, and purges the package.  Run as root on a Debian 12
# machine or container where custos is not installed (it installs and
# purges the package).  Prints "N passed, N failed"; exit 0 only if all
# passed.
#
# custosd runs under systemd when systemd is the running init (with a
# drop-in pointing at the test configuration); otherwise (CI containers)
# the script starts `custosd -f` itself as _custos with no new privileges
# and creates /run/custos as the unit's RuntimeDirectory= would.
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build-deb}
unit=/lib/systemd/system/custosd.service
export DEBIAN_FRONTEND=noninteractive
n_passed=0 n_failed=0 installed=0 pid= dir=
pass() { n_passed=$((n_passed + 1)); }
fail() { n_failed=$((n_failed + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then pass; else fail "$what"; fi
}
wait_for() { # wait_for SECONDS COMMAND...: poll every 0.2 s
	local i=0
	while [ $i -lt $(($1 * 5)) ]; do
		"${@:2}" >/dev/null 2>&1 && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
finish() {
	echo "$n_passed passed, $n_failed failed"
	[ "$n_failed" -eq 0 ] && [ "$n_passed" -gt 0 ]
}
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf /run/systemd/system/custosd.service.d/ci-test.conf \
		/etc/systemd/system/custosd.service.d/pcap.conf
	rmdir /etc/systemd/system/custosd.service.d 2>/dev/null
	[ "$installed" = 1 ] && apt-get purge -y -qq custos >/dev/null 2>&1
	[ -n "$dir" ] && rm -rf "$dir"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then echo "ci-package-test: run as root" >&2; exit 2; fi
if dpkg-query -W -f='${Status}' custos 2>/dev/null | grep -q installed; then
	echo "ci-package-test: custos is installed here; not touching it" >&2
	exit 2
fi
systemd_running=0
[ -d /run/systemd/system ] && systemd_running=1
echo "systemd running as init: $systemd_running"

# ---- build and install ----
mkdir -p "$build"
deb=$("$repo/packaging/build-deb.sh" "$build" 2>"$build/build-deb.log" | tail -n 1)
check "package built (see $build/build-deb.log)" test -f "$deb"
[ -f "$deb" ] || { finish; exit 1; }
deb=$(realpath "$deb") # apt-get takes a file only as a path with a slash
echo "package: $deb"
check "file name custos_<version>_<arch>.deb" bash -c \
	"basename '$deb' | grep -Eq '^custos_[0-9.]+_[a-z0-9]+\.deb$'"
check "Depends computed by dpkg-shlibdeps" bash -c \
	"dpkg-deb -f '$deb' Depends | grep -q 'libpcre2-8-0 (>='"
apt-get install -y -qq "$deb" >"$build/apt.log" 2>&1
rc=$?
[ $rc = 0 ] && installed=1
check "apt-get install ./custos_*.deb (see $build/apt.log)" test $rc = 0

# ---- files in place ----
check "custos in /usr/bin" test -x /usr/bin/custos
check "custosd in /usr/sbin" test -x /usr/sbin/custosd
check "unit installed" test -f $unit
check "config installed" test -f /etc/custos/custos.yml
check "config is a conffile" bash -c \
	"dpkg-query -W -f='\${Conffiles}' custos | grep -q ' /etc/custos/custos.yml '"
n_rules=$(ls "$repo"/rules/*.yml | wc -l)
check "rule pack in /usr/share/custos/rules" \
	test "$(ls /usr/share/custos/rules/*.yml 2>/dev/null | wc -l)" = "$n_rules"
check "pcap drop-in shipped" test -f /usr/share/custos/systemd/pcap.conf
for page in custosd.8 custos.1 custos.yaml.5; do
	f=/usr/share/man/man${page##*.}/$page.gz
	check "man page $page installed" test -f "$f"
	check "man page $page renders without warnings" bash -c \
		"MANWIDTH=80 man --warnings -l '$f' 2>&1 >/dev/null | (! grep .)"
done
check "user _custos exists" bash -c "id -u _custos >/dev/null"
check "group _custos exists" bash -c "getent group _custos >/dev/null"
check "_custos is a system user" test "$(id -u _custos)" -lt 1000
check "_custos has no login shell" bash -c \
	"getent passwd _custos | grep -q ':/usr/sbin/nologin$'"
check "/var/lib/custos is 0750 _custos:_custos" \
	test "$(stat -c '%a %U %G' /var/lib/custos)" = "750 _custos _custos"
check "custosd --version" bash -c "/usr/sbin/custosd -V | grep -q '^custosd '"
check "default config passes custosd --check as _custos" bash -c \
	"setpriv --reuid=_custos --regid=_custos --init-groups \
	 /usr/sbin/custosd --check -c /etc/custos/custos.yml | grep -q '^OK'"

check "bash completion installed" \
	test -f /usr/share/bash-completion/completions/custos
check "custos(1) documents the analyst commands" bash -c \
	"zcat /usr/share/man/man1/custos.1.gz | grep -q 'blast\\\\-radius'"

# ---- the unit ----
out=$(systemd-analyze verify $unit 2>&1)
check "systemd-analyze verify $unit: ${out:-clean}" test -z "$out"
security=$(systemd-analyze security --offline=yes $unit 2>/dev/null |
	sed -n 's/.*Overall exposure level for custosd.service: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security: exposure $security"
check "exposure level at most 2.0 (got ${security:-none})" \
	awk -v s="${security:-99}" 'BEGIN { exit !(s <= 2.0) }'
# the daily retention purge: both units installed and clean
for u in custos-purge.service custos-purge.timer; do
	check "$u installed" test -f /lib/systemd/system/$u
	out=$(systemd-analyze verify /lib/systemd/system/$u 2>&1)
	check "systemd-analyze verify $u: ${out:-clean}" test -z "$out"
done
check "custos-purge.service runs custos purge as _custos" bash -c \
	"grep -q '^ExecStart=/usr/bin/custos purge --older-than 90d --db /var/lib/custos/alerts.db$' /lib/systemd/system/custos-purge.service &&
	 grep -q '^User=_custos$' /lib/systemd/system/custos-purge.service"
mkdir -p /etc/systemd/system/custosd.service.d
cp /usr/share/custos/systemd/pcap.conf /etc/systemd/system/custosd.service.d/
out=$(systemd-analyze verify $unit 2>&1)
check "unit with the pcap drop-in verifies: ${out:-clean}" test -z "$out"
check "pcap drop-in grants CAP_NET_RAW only" bash -c \
	"systemd-analyze security --offline=yes $unit 2>/dev/null |
	 grep -q '✗ CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)'"
rm -rf /etc/systemd/system/custosd.service.d

# ---- the daemon, from the installed files ----
# Not under /tmp: the unit's PrivateTmp= would hide it.
dir=$(mktemp -d /var/lib/custos-ci.XXXXXX)
chmod 0755 "$dir"
mkdir "$dir/log"
n_lines=$(wc -l <"$repo/examples/access.jsonl")
half=$((n_lines / 2))
head -n "$half" "$repo/examples/access.jsonl" >"$dir/log/access.json"
chmod 0644 "$dir/log/access.json"
cat >"$dir/custos.yml" <<YML
inputs:
  - name: sample
    path: $dir/log/*.json
rules: [ /usr/share/custos/rules ]
state_dir: /var/lib/custos
control_socket: /run/custos/control.sock
user: _custos
group: _custos
checkpoint: { every_ms: 100ms }
sinks: { syslog: { enabled: true } }
YML
chmod 0644 "$dir/custos.yml"
if [ $systemd_running = 1 ]; then
	mkdir -p /run/systemd/system/custosd.service.d
	cat >/run/systemd/system/custosd.service.d/ci-test.conf <<UNIT
[Service]
ExecStartPre=
ExecStartPre=/usr/sbin/custosd --check -c $dir/custos.yml
ExecStart=
ExecStart=/usr/sbin/custosd -f -c $dir/custos.yml
UNIT
	systemctl daemon-reload
	check "systemctl restart custosd" systemctl restart custosd
	pid=$(systemctl show -p MainPID --value custosd)
	[ "$pid" = 0 ] && pid=
else
	install -d -o _custos -g _custos -m 0750 /run/custos
	setpriv --reuid=_custos --regid=_custos --init-groups --no-new-privs \
		/usr/sbin/custosd -f -c "$dir/custos.yml" 2>"$dir/daemon.log" &
	pid=$!
fi
status_num() { # a number from `custos status --json`
	custos status --json | python3 -c "import json,sys; o=json.load(sys.stdin)
for k in sys.argv[1].split('.'): o=o[int(k)] if k.isdigit() else o[k]
print(o)" "$1"
}
check "control socket answers" wait_for 30 custos status
tail -n +"$((half + 1))" "$repo/examples/access.jsonl" >>"$dir/log/access.json"
all_read() { [ "$(status_num inputs.0.records)" = "$n_lines" ]; }
check "all $n_lines lines read, appended ones included" wait_for 30 all_read
n_alerts() { sqlite3 /var/lib/custos/alerts.db "select count(*) from alerts"; }
has_alerts() { [ "$(n_alerts)" -ge 1 ]; }
check "alerts in /var/lib/custos/alerts.db" wait_for 30 has_alerts
echo "alerts stored: $(n_alerts 2>/dev/null)"
check "daemon runs as _custos" \
	test "$(stat -c %U /proc/"$pid" 2>/dev/null)" = _custos
check "store is 0640 _custos" test \
	"$(stat -c '%a %U' /var/lib/custos/alerts.db)" = "640 _custos"
check "custos status (human) names the input" bash -c \
	"custos status | grep -q 'sample'"
check "control socket refuses a user outside group _custos" bash -c \
	"! setpriv --reuid=nobody --regid=nogroup --clear-groups \
	   custos status >/dev/null 2>&1"
kill -HUP "$pid"
reloaded() { [ "$(status_num reloads.ok)" = 1 ]; }
check "SIGHUP reloads" wait_for 10 reloaded
custos replay --quiet --rules /usr/share/custos/rules \
	--db "$dir/ref.db" "$repo/examples/access.jsonl" >/dev/null 2>&1
ids() { sqlite3 "$1" "select id from alerts order by id"; }
stable_ids() { [ "$(ids /var/lib/custos/alerts.db)" = "$(ids "$dir/ref.db")" ]; }
check "same alerts as custos replay" wait_for 10 stable_ids
if [ $systemd_running = 1 ]; then
	systemctl stop custosd
	check "stopped: exit status 0" test \
		"$(systemctl show -p ExecMainStatus --value custosd)" = 0
	rm -rf /run/systemd/system/custosd.service.d/ci-test.conf
	systemctl daemon-reload
else
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	check "SIGTERM: exit status 0 (got $rc)" test "$rc" = 0
	[ $rc = 0 ] || sed 's/^/  custosd: /' "$dir/daemon.log"
fi
pid=
check "control socket removed at exit" test ! -e /run/custos/control.sock

# ---- reinstall (an upgrade's path): local config and data are kept ----
echo "# local change" >>/etc/custos/custos.yml
apt-get install --reinstall -y -qq -o Dpkg::Options::=--force-confold \
	"$deb" >>"$build/apt.log" 2>&1
check "reinstall" test $? = 0
check "reinstall keeps the changed conffile" \
	grep -q '^# local change$' /etc/custos/custos.yml
check "reinstall keeps the alert store" has_alerts

# ---- purge ----
apt-get purge -y -qq custos >/dev/null 2>&1
check "apt-get purge custos" test $? = 0
installed=0
check "binaries removed" test ! -e /usr/sbin/custosd -a ! -e /usr/bin/custos
check "unit removed" test ! -e $unit
check "/etc/custos removed" test ! -e /etc/custos
check "/var/lib/custos removed" test ! -e /var/lib/custos
check "user _custos removed" bash -c "! getent passwd _custos"
check "group _custos removed" bash -c "! getent group _custos"
rm -rf /run/custos
finish
