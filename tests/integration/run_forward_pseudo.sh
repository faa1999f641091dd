#!/usr/bin/env bash
# Pseudonymisation end to end: forward sinks with pseudonymize_key_file
# delivering to a real rsyslogd (TCP, octet counting) in all four formats,
# plus one rfc5424 sink with another key.  Events go through the field map
# of the shipped config (customer: target.customer_id, so the raw field
# stays in the event), carry the customer id in a URL and a note, and a
# rule's title names a customer; a correlation puts several customers in
# the evidence sample.
# Checks: no real customer id anywhere in what rsyslogd received (grep for
# every id: zero hits); every pseudonym equals an independent computation
# ("cust_" + the first 16 hex digits of HMAC-SHA-256(key file bytes,
# customer id), by python hmac and by openssl dgst -mac HMAC); the
# pseudonym of a customer is the same in every alert, every format and
# after a custosd restart, and differs under the other key.  A missing or
# too short key file: custosd --check exits 2 naming it, custosd refuses
# to start.
. "$(dirname "$0")/lib.sh" "$1"
command -v rsyslogd >/dev/null || { echo "rsyslogd missing (rsyslog)"; exit 1; }

port=$((20000 + ($$ * 13) % 20000))
cat >"$tmp/rsyslog.conf" <<CONF
global(workDirectory="$tmp" maxMessageSize="256k"
       parser.escapeControlCharactersOnReceive="off")
module(load="imptcp")
template(name="raw" type="string" string="%rawmsg%\n")
CONF
formats="rfc5424 cef leef json other"
i=0
for f in $formats; do
	cat >>"$tmp/rsyslog.conf" <<CONF
ruleset(name="$f") { action(type="omfile" file="$tmp/got-$f" template="raw") }
input(type="imptcp" address="127.0.0.1" port="$((port + i))" ruleset="$f"
      SupportOctetCountedFraming="on")
CONF
	i=$((i + 1))
done
rsyslogd -n -f "$tmp/rsyslog.conf" -i "$tmp/rsyslogd.pid" 2>"$tmp/rsyslog.err" &
rsyslog_pid=$!
trap 'kill "$rsyslog_pid" 2>/dev/null; cleanup' EXIT
listening() { ss -ltn | grep -q ":$((port + 4)) "; }
check "rsyslogd listening" wait_for 10 listening

head -c 32 /dev/urandom >"$tmp/pseudo.key"
printf 'another key, 16+ bytes\n' >"$tmp/other.key"
# events FROM TO: views of 8 customers (ids unlike anything else in a
# record), a raw target.customer_id, the id in a URL and a note
events() {
	python3 - "$1" "$2" <<'PY'
import json, sys
for i in range(int(sys.argv[1]), int(sys.argv[2])):
    c = "CUST%06d" % (104729 * (i % 8 + 1))
    print(json.dumps({"time": "2025-05-01T10:%02d:%02dZ" % (i // 60 % 60, i % 60),
                      "actor": {"id": "agent%d" % (i % 3)}, "event": {"type": "view"},
                      "target": {"customer_id": c},
                      "url": "/crm/customers/%s/profile" % c,
                      "note": "callback for %s re ticket" % c}))
PY
}
events 0 48 >"$tmp/ev.jsonl"
python3 -c 'print("\n".join("CUST%06d" % (104729 * k) for k in range(1, 9)))' >"$tmp/ids"
write_view_rule "$tmp/view.yml"
vip=$(sed -n 3p "$tmp/ids")
cat >>"$tmp/view.yml" <<YML
---
title: VIP record $vip opened
name: vip_view
status: test
detection:
  selection:
    customer: $vip
  condition: selection
level: high
---
title: Breadth (integration test)
name: breadth
status: test
correlation:
  type: value_count
  rules: [ $view_id ]
  group-by: [ agent ]
  timespan: 1h
  condition: { field: customer, gte: 4 }
generate: true
level: high
YML
sinks() { # the forward sinks, key file of the first four in $1
	local i=0 f key
	for f in $formats; do
		key=$1; [ "$f" = other ] && key=$tmp/other.key
		fmt=$f; [ "$f" = other ] && fmt=rfc5424
		printf '    - { name: %s, address: "127.0.0.1:%s", transport: tcp, format: %s,\n        pseudonymize_key_file: %s }\n' \
			"$f" "$((port + i))" "$fmt" "$key"
		i=$((i + 1))
	done
}
config() { # config KEYFILE
	daemon_config "$tmp/ev.jsonl"
	cat <<YML
field_map:
  ts: time
  agent: actor.id
  customer: target.customer_id
  action: event.type
sinks:
  forward:
YML
	sinks "$1"
}

# ---- a bad key file is refused at --check and at start ----
config "$tmp/missing.key" >"$tmp/c.yml"
"$custosd" --check -c "$tmp/c.yml" >"$tmp/out" 2>&1
check "missing key: --check exits 2" test $? = 2
check "missing key: --check names the file" \
	grep -q "sinks.forward rfc5424: pseudonymize_key_file $tmp/missing.key: No such file" "$tmp/out"
head -c 15 /dev/urandom >"$tmp/short.key"
config "$tmp/short.key" >"$tmp/c.yml"
"$custosd" --check -c "$tmp/c.yml" >"$tmp/out" 2>&1
check "short key: --check exits 2" test $? = 2
check "short key: --check says why" grep -q "short.key: 15 bytes, at least 16 needed" "$tmp/out"
timeout 10 "$custosd" -f -c "$tmp/c.yml" >"$tmp/out" 2>&1
rc=$?
check "short key: custosd refuses to start (exit $rc)" test "$rc" != 0 -a "$rc" != 124
check "short key: custosd says why" grep -q "short.key: 15 bytes" "$tmp/out"

# ---- delivery, restart, more alerts ----
config "$tmp/pseudo.key" >"$tmp/c.yml"
check "--check accepts the config" \
	bash -c "'$custosd' --check -c '$tmp/c.yml' | grep -q '^OK'"
start_daemon() {
	"$custosd" -f -c "$tmp/c.yml" 2>>"$tmp/log.txt" &
	daemon_pid=$!
}
stop_daemon() {
	kill -TERM "$daemon_pid"; wait_for 10 daemon_gone; wait "$daemon_pid"; daemon_pid=
}
n_alerts() { sqlite3 "$tmp/state/alerts.db" "select count(*) from alerts" 2>/dev/null; }
all_sent() { # every sink has sent something and has nothing queued
	local i
	for i in 0 1 2 3 4; do
		[ "$(status_num sinks.forward.$i.sent)" -gt 0 ] || return 1
		[ "$(status_num sinks.forward.$i.queued)" = 0 ] || return 1
	done
}
start_daemon
records() { [ "$(status_num inputs.0.records)" -ge "$1" ]; }
check "48 records read" wait_for 20 records 48
stop_daemon  # the store is complete at exit; sinks flushed at exit
first=$(n_alerts)
check "first run: alerts (48 views, VIP, breadth; got $first)" test "$first" -gt 48
events 48 96 >>"$tmp/ev.jsonl"
start_daemon
check "48 more records read after the restart" wait_for 20 records 48
check "every sink sent its alerts, none queued" wait_for 20 all_sent
stop_daemon
total=$(n_alerts)
check "second run raised more alerts ($first -> $total)" test "$total" -gt "$first"
check "no real customer id in anything received" \
	bash -c "! grep -F -f '$tmp/ids' '$tmp'/got-*"
check "the ids are in the local store (the check can see them)" \
	grep -q -F -f "$tmp/ids" "$tmp/ev.jsonl"

cat >"$tmp/pseudo.py" <<'PY'
import hashlib, hmac, json, re, sqlite3, sys
tmp, = sys.argv[1:]
key = open(tmp + '/pseudo.key', 'rb').read()
other = open(tmp + '/other.key', 'rb').read()
ids = open(tmp + '/ids').read().split()
def ps(k, c):
    return 'cust_' + hmac.new(k, c.encode(), hashlib.sha256).hexdigest()[:16]
want = {ps(key, c): c for c in ids}
want_other = {ps(other, c): c for c in ids}
bad = []
db = sqlite3.connect(tmp + '/state/alerts.db')
store = {a: (json.loads(e), json.loads(g), rt, ts) for a, e, g, rt, ts in
         db.execute('select id, event_json, group_json, rule_title, ts_ms from alerts')}
def expect(aid):  # the customer of the alert in the store
    e, g, _, _ = store[aid]
    return g.get('customer', e.get('customer'))
def fields(fmt, line):
    if fmt in ('rfc5424', 'other'):
        aid = re.search(r' id="([0-9a-f]{32})"', line).group(1)
        m = re.search(r' customer="([^"]*)"', line)
        return aid, m and m.group(1), json.loads(line[line.index('] {') + 2:])
    if fmt == 'cef':
        aid = re.search(r'externalId=([0-9a-f]{32})', line).group(1)
        m = re.search(r' duser=(\S*)', line)
        return aid, m and m.group(1), None
    if fmt == 'leef':
        aid = re.search(r'alertId=([0-9a-f]{32})', line).group(1)
        m = re.search(r'\tcustomer=([^\t]*)', line)
        return aid, m and m.group(1), None
    return None, None, json.loads(line[line.index(' - {') + 3:])
seen = {}
for fmt in ('rfc5424', 'cef', 'leef', 'json', 'other'):
    table = want_other if fmt == 'other' else want
    ids_seen = set()
    for line in open('%s/got-%s' % (tmp, fmt), encoding='utf-8'):
        line = line.rstrip('\n')
        aid, cust, doc = fields(fmt, line)
        if doc is not None:
            aid = aid or doc['id']
            cust = cust or doc['group'].get('customer', doc['event'].get('customer'))
            # every pseudonym in the JSON (URL, note, raw field, title,
            # evidence) is one of the customers' under this key
            for p in re.findall(r'cust_[0-9a-f]{16}', json.dumps(doc)):
                if p not in table: bad.append('%s: unknown pseudonym %s' % (fmt, p))
            e = doc['event']
            if e.get('target.customer_id') != e.get('customer'):
                bad.append('%s: raw field %r' % (fmt, e.get('target.customer_id')))
        if aid not in store: bad.append('%s: unknown alert %s' % (fmt, aid)); continue
        ids_seen.add(aid)
        real = expect(aid)
        if real is None: continue   # breadth: no customer
        if table.get(cust) != real:
            bad.append('%s: alert %s customer %r is not the pseudonym of %r' % (fmt, aid, cust, real))
        seen.setdefault((fmt == 'other', real), set()).add(cust)
    if ids_seen != set(store): bad.append('%s: %d of %d alerts' % (fmt, len(ids_seen), len(store)))
unstable = [k for k, v in seen.items() if len(v) != 1]
if unstable: bad.append('not one pseudonym per customer: %r' % unstable)
same = [c for c in ids if ps(key, c) == ps(other, c)]
if same or not seen: bad.append('keys agree or nothing seen')
for b in bad[:8]: print('BAD', b)
print('alerts', len(store), 'customers', len(seen) // 2, 'bad', len(bad))
sys.exit(1 if bad else 0)
PY
check "pseudonyms: recomputed, stable, one per customer, key-specific" \
	python3 "$tmp/pseudo.py" "$tmp"
c1=$(head -n1 "$tmp/ids")
hex=$(od -An -tx1 -v "$tmp/pseudo.key" | tr -d ' \n')
p1=cust_$(printf '%s' "$c1" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hex" | awk '{print $NF}' | cut -c1-16)
check "openssl dgst -mac HMAC gives the pseudonym that arrived ($p1)" grep -q "customer=\"$p1\"" "$tmp/got-rfc5424"
vp=cust_$(printf '%s' "$vip" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hex" | awk '{print $NF}' | cut -c1-16)
check "the VIP rule title carries the pseudonym (cef msg)" grep -q "msg=VIP record $vp opened" "$tmp/got-cef"
check "the breadth alert's evidence arrived (json)" grep -q '"evidence":{"count":[0-9]*,"sample":\[{' "$tmp/got-json"
check "no sanitizer report in the daemon log" bash -c "! grep -q Sanitizer '$tmp/log.txt'"
[ "$n_failed" -eq 0 ] || { tail -n 20 "$tmp/log.txt"; tail "$tmp/rsyslog.err"; }
finish
