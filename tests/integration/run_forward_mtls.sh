#!/usr/bin/env bash
# Forward sinks over TLS with client certificates (mutual TLS) to a real
# rsyslogd (rsyslog-openssl) that requires and verifies them: one listener
# with StreamDriver.AuthMode="x509/certvalid", one with "x509/name" and
# PermittedPeer="custos-client".  CA, server and client certificates are
# made here with openssl: a client certificate of the collector's CA and
# one of another CA.  (A certificate of the right CA with a name not in
# PermittedPeer is not tested: rsyslog's ossl driver accepts it, up to
# 8.2510 at least — rsyslog/rsyslog#6350 — so x509/name needs rsyslog-gnutls
# or a fixed rsyslog when that matters.)
# Checks: with the good certificate every alert arrives exactly once on
# both listeners; without a certificate, with the other CA's and with the
# wrong name the collector refuses the connection, custosd logs why,
# counts the failures and keeps every alert in the outbox (none counted
# sent, none received) — with TLS 1.3 the collector's verdict comes after
# the client's handshake is done, so custosd must not write before it;
# after the config is fixed and custosd restarted, the outbox is
# delivered, each alert exactly once.
. "$(dirname "$0")/lib.sh" "$1"
command -v rsyslogd >/dev/null || { echo "rsyslogd missing (rsyslog)"; exit 1; }
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so ] ||
	{ echo "rsyslog-openssl missing"; exit 1; }

base=$((20000 + ($$ * 7) % 20000))
pc=$base pn=$((base + 1))
mkcert() { # mkcert NAME CN CA: key + certificate signed by CA
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" \
		-keyout "$tmp/$1.key" -out "$tmp/$1.csr" 2>/dev/null
	openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/$3.pem" -CAkey "$tmp/$3.key" \
		-CAcreateserial -days 2 -extfile "$tmp/ext-$1" -out "$tmp/$1.pem" 2>/dev/null
}
for ca in ca other-ca; do
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$ca" \
		-keyout "$tmp/$ca.key" -out "$tmp/$ca.pem" 2>/dev/null
done
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$tmp/ext-srv"
for c in client other; do
	printf 'subjectAltName=DNS:custos-client\nextendedKeyUsage=clientAuth\n' >"$tmp/ext-$c"
done
mkcert srv localhost ca
mkcert client custos-client ca
mkcert other custos-client other-ca
check "certificates made" test -s "$tmp/client.pem" -a -s "$tmp/other.pem"

# one rsyslogd per auth mode (rsyslog 8.2302 applies the module's mode to
# every imtcp listener)
rsyslog_conf() { # rsyslog_conf NAME PORT AUTHMODE [PermittedPeer setting]
	mkdir -p "$tmp/rs-$1"
	cat >"$tmp/rs-$1.conf" <<CONF
global(workDirectory="$tmp/rs-$1" maxMessageSize="64k"
       DefaultNetstreamDriverCAFile="$tmp/ca.pem"
       DefaultNetstreamDriverCertFile="$tmp/srv.pem"
       DefaultNetstreamDriverKeyFile="$tmp/srv.key")
module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1"
       StreamDriver.AuthMode="$3" ${4:-})
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="r") { action(type="omfile" file="$tmp/$1" template="raw") }
input(type="imtcp" address="127.0.0.1" port="$2" ruleset="r")
CONF
}
rsyslog_conf certvalid "$pc" x509/certvalid
rsyslog_conf name "$pn" x509/name 'PermittedPeer=["custos-client"]'
rs_pids=()
for r in certvalid name; do
	rsyslogd -n -f "$tmp/rs-$r.conf" -i "$tmp/rs-$r.pid" 2>"$tmp/rsyslog-$r.err" &
	rs_pids+=($!)
done
trap 'kill "${rs_pids[@]}" 2>/dev/null; cleanup' EXIT
listening() { ss -ltn | grep -q ":$1 "; }
check "rsyslogd (x509/certvalid) listening" wait_for 10 listening $pc
check "rsyslogd (x509/name) listening" wait_for 10 listening $pn

n=40
python3 - "$n" >"$tmp/ev.jsonl" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print('{"ts":"2025-05-01T10:%02d:%02dZ","agent":"a%d","action":"view",'
          '"customer":"c-%d"}' % (i // 60, i % 60, i % 7, i))
PY
write_view_rule "$tmp/view.yml"
sink() { # sink NAME PORT [CERT]: a forward sink entry (leef over tls)
	printf '    - { name: %s, address: "localhost:%s", transport: tls, format: leef,\n' "$1" "$2"
	printf '        ca_file: %s' "$tmp/ca.pem"
	[ -n "${3:-}" ] && printf ',\n        cert_file: %s, key_file: %s' "$tmp/$3.pem" "$tmp/$3.key"
	printf ' }\n'
}
config() { # config: the sinks on stdin
	daemon_config "$tmp/ev.jsonl"
	printf 'sinks:\n  forward:\n'
	cat
}
# sinks 0..1: the good certificate; 2..3: refused
{
	sink good-c "$pc" client
	sink good-n "$pn" client
	sink nocert "$pc"
	sink otherca "$pc" other
} | config >"$tmp/c.yml"
check "--check accepts the config" \
	bash -c "'$custosd' --check -c '$tmp/c.yml' | grep -q '^OK'"
start_daemon() {
	"$custosd" -f -c "$tmp/c.yml" 2>>"$tmp/log.txt" &
	daemon_pid=$!
}
stop_daemon() {
	kill -TERM "$daemon_pid"; wait_for 10 daemon_gone; wait "$daemon_pid"; daemon_pid=
}
start_daemon
sent() { [ "$(status_num sinks.forward.$1.sent)" -ge "$2" ]; }
errors() { [ "$(status_num sinks.forward.$1.errors)" -ge "$2" ]; }
check "good cert, x509/certvalid: $n sent" wait_for 20 sent 0 $n
check "good cert, x509/name: $n sent" wait_for 20 sent 1 $n
for i in 2 3; do
	check "refused sink $i: failures counted" wait_for 20 errors $i 2
done
sleep 1
for i in 2 3; do
	check "refused sink $i: none counted sent" test "$(status_num sinks.forward.$i.sent)" = 0
	check "refused sink $i: $n alerts kept in the outbox" \
		test "$(status_num sinks.forward.$i.queued)" = "$n"
	check "refused sink $i: not connected" test "$(status_num sinks.forward.$i.connected)" = False
done
for s in nocert otherca; do
	check "$s: the failure is logged, naming the sink" \
		grep -q "sinks.forward $s: .*localhost:" "$tmp/log.txt"
done
stop_daemon
ids() { # ids FILE: the alert ids received (LEEF alertId), sorted
	grep -o 'alertId=[0-9a-f]*' "$1" | cut -d= -f2 | sort
}
store_ids "$tmp/state/alerts.db" >"$tmp/want"
check "store holds $n alerts" test "$(wc -l <"$tmp/want")" = "$n"
ids "$tmp/certvalid" >"$tmp/got-c"
ids "$tmp/name" >"$tmp/got-n"
check "x509/certvalid: every alert exactly once (good cert only)" cmp -s "$tmp/want" "$tmp/got-c"
check "x509/name: every alert exactly once (good cert only)" cmp -s "$tmp/want" "$tmp/got-n"

# fix the config: every sink gets the good certificate; restart
: >"$tmp/certvalid"; : >"$tmp/name"
{
	sink good-c "$pc" client
	sink good-n "$pn" client
	sink nocert "$pc" client
	sink otherca "$pc" client
} | config >"$tmp/c.yml"
start_daemon
empty() { [ "$(status_num sinks.forward.$1.queued)" = 0 ]; }
for i in 2 3; do
	check "fixed sink $i: outbox delivered" wait_for 20 sent $i $n
	check "fixed sink $i: outbox empty" wait_for 10 empty $i
done
stop_daemon
ids "$tmp/certvalid" >"$tmp/got-c"
ids "$tmp/name" >"$tmp/got-n"
# certvalid got nocert's and otherca's outboxes; the good sinks had
# nothing left to send
sort "$tmp/want" "$tmp/want" >"$tmp/want2"
check "after the fix, x509/certvalid: each refused alert once per sink" cmp -s "$tmp/want2" "$tmp/got-c"
check "after the fix, x509/name: nothing sent twice" test ! -s "$tmp/got-n"
check "no sanitizer report in the daemon log" bash -c "! grep -q Sanitizer '$tmp/log.txt'"
[ "$n_failed" -eq 0 ] || { tail -n 30 "$tmp/log.txt"; tail -n 20 "$tmp"/rsyslog-*.err; }
finish
