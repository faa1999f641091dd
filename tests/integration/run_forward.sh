#!/usr/bin/env bash
# custosd's forward sinks delivering to a real rsyslogd (private config):
# UDP (rfc5424), TCP with RFC 6587 octet counting (cef) and TLS (leef; the
# rsyslog-openssl netstream driver, a throwaway CA and server certificate
# made here with openssl req).  Alerts carry hostile customer values ('|',
# '=', '\', ']', '"', newlines, control characters, a forged record).
# Checks: every stored alert arrives exactly once per sink (by id); every
# received line is one strict RFC 5424 message (ABNF as a regex); CEF and
# LEEF records decode to exactly the expected fields with the customer
# value intact.  Outbox: with the collector down, alerts wait in the
# outbox, survive a custosd restart, and are all delivered once rsyslogd
# is back.
. "$(dirname "$0")/lib.sh" "$1"
command -v rsyslogd >/dev/null || { echo "rsyslogd missing (rsyslog)"; exit 1; }
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so ] ||
	{ echo "rsyslog-openssl missing"; exit 1; }

base=$((20000 + $$ % 20000))
pu=$base pt=$((base + 1)) ps=$((base + 2))
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca \
	-keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
	-keyout "$tmp/srv.key" -out "$tmp/srv.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$tmp/ext"
openssl x509 -req -in "$tmp/srv.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
	-CAcreateserial -days 2 -extfile "$tmp/ext" -out "$tmp/srv.pem" 2>/dev/null

cat >"$tmp/rsyslog.conf" <<CONF
global(workDirectory="$tmp" maxMessageSize="64k"
       parser.escapeControlCharactersOnReceive="off"
       DefaultNetstreamDriverCAFile="$tmp/ca.pem"
       DefaultNetstreamDriverCertFile="$tmp/srv.pem"
       DefaultNetstreamDriverKeyFile="$tmp/srv.key")
module(load="imudp")
module(load="imptcp")
module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1"
       StreamDriver.AuthMode="anon")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="u") { action(type="omfile" file="$tmp/udp" template="raw") }
ruleset(name="t") { action(type="omfile" file="$tmp/tcp" template="raw") }
ruleset(name="s") { action(type="omfile" file="$tmp/tls" template="raw") }
input(type="imudp" address="127.0.0.1" port="$pu" ruleset="u")
input(type="imptcp" address="127.0.0.1" port="$pt" ruleset="t"
      SupportOctetCountedFraming="on")
input(type="imtcp" address="127.0.0.1" port="$ps" ruleset="s")
CONF
rsyslog_pid=
start_rsyslog() {
	rsyslogd -n -f "$tmp/rsyslog.conf" -i "$tmp/rsyslogd.pid" 2>>"$tmp/rsyslog.err" &
	rsyslog_pid=$!
	sleep 1
}
trap '[ -n "$rsyslog_pid" ] && kill "$rsyslog_pid" 2>/dev/null; cleanup' EXIT
start_rsyslog

events() { # events FROM TO: view events with hostile customer ids
	python3 - "$1" "$2" <<'PY'
import json, sys
hostile = ['c|1', 'c=2', 'c\\3', 'c]4', 'c"5', 'c\n6', 'c\r7', 'c\x01\x1f8',
           'x\n<13>1 2025-05-01T00:00:00Z h custos - - [custos@32473 id="f"] forged',
           'y externalId=forged', 'z\talertId=forged', 'CEF:0|a|b|c|d|e|9|', 'ok-9']
for i in range(int(sys.argv[1]), int(sys.argv[2])):
    print(json.dumps({"ts": "2025-05-01T10:%02d:%02dZ" % (i // 60 % 60, i % 60),
                      "agent": "a%d" % (i % 7), "action": "view",
                      "customer": hostile[i % len(hostile)] + "-%d" % i}))
PY
}
n=60
events 0 $n >"$tmp/ev.jsonl"
write_view_rule "$tmp/view.yml"
{ daemon_config "$tmp/ev.jsonl"; cat <<YML; } >"$tmp/c.yml"
sinks:
  forward:
    - { name: u, address: "127.0.0.1:$pu", transport: udp, format: rfc5424 }
    - { name: t, address: "127.0.0.1:$pt", transport: tcp, format: cef }
    - { name: s, address: "localhost:$ps", transport: tls, format: leef,
        ca_file: $tmp/ca.pem }
YML
check "--check accepts the config" \
	bash -c "'$custosd' --check -c '$tmp/c.yml' | grep -q '^OK'"
start_daemon() {
	"$custosd" -f -c "$tmp/c.yml" 2>>"$tmp/log.txt" &
	daemon_pid=$!
}
start_daemon
sent() { [ "$(status_num sinks.forward.$1.sent)" -ge "$2" ]; }
show() { "$custos" status --socket "$tmp/ctl.sock" --json >>"$tmp/log.txt"; }
check "udp: $n sent" wait_for 20 sent 0 $n || show
check "tcp: $n sent" wait_for 20 sent 1 $n
check "tls: $n sent" wait_for 20 sent 2 $n
lines() { [ "$(wc -l <"$tmp/$1" 2>/dev/null)" -ge "$2" ]; }
for f in udp tcp tls; do check "$f: $n lines" wait_for 10 lines $f $n; done

# checker.py FILE STORE [exact|atleast]: strict RFC 5424, per-format fields,
# ids against the store.
cat >"$tmp/checker.py" <<'PY'
import json, re, sqlite3, sys
path, db, mode = sys.argv[1], sys.argv[2], sys.argv[3]
PRINT = r'[\x21-\x7e]'
HDR = re.compile(r'^<(\d{1,3})>1 (-|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)) '
                 r'(%s{1,255}) (%s{1,48}) (%s{1,128}) (%s{1,32}) ' % ((PRINT,) * 4))
SDV = r'"(?:[^"\\\]]|\\.)*"'
SD = re.compile(r'^(-|(\[[^ =\]"]{1,32}( [^ =\]"]{1,32}=%s)*\])+)( |$)' % SDV)
store = {}
for aid, rid, ev in sqlite3.connect(db).execute(
        "select id, rule_id, event_json from alerts"):
    store[aid] = {'id': aid, 'rule_id': rid, 'event': json.loads(ev)}
seen = {}
bad = []
def cef_decode(s):
    parts, cur, i = [], '', 0
    while len(parts) < 7:
        c = s[i]
        if c == '\\' and s[i + 1] in '|\\': cur += s[i + 1]; i += 2; continue
        if c == '|': parts.append(cur); cur = ''; i += 1; continue
        cur += c; i += 1
    ext = s[i:]
    # keys are words before an unescaped '='
    pos, kv = [], {}
    j = 0
    while j < len(ext):
        if ext[j] == '\\': j += 2; continue
        if ext[j] == '=':
            k = j
            while k > 0 and ext[k - 1] != ' ': k -= 1
            pos.append((k, j))
        j += 1
    for n, (k, e) in enumerate(pos):
        end = pos[n + 1][0] - 1 if n + 1 < len(pos) else len(ext)
        v = re.sub(r'\\(.)', lambda m: {'n': '\n', 'r': '\r'}.get(m.group(1), m.group(1)), ext[e + 1:end])
        key = ext[k:e]
        if key in kv: raise ValueError('duplicate key ' + key)
        kv[key] = v
    return parts, kv
def clean(v, keep_nl):
    out = ''
    for ch in v:
        o = ord(ch)
        if (o < 0x20 and not (keep_nl and ch in '\n\r')) or 0x7f <= o <= 0x9f or o in (0x2028, 0x2029):
            out += '\ufffd'
        else:
            out += ch
    return out
for line in open(path, encoding='utf-8', errors='strict'):
    line = line.rstrip('\n')
    m = HDR.match(line)
    if not m or int(m.group(1)) > 191: bad.append('header: ' + line); continue
    rest = line[m.end():]
    s = SD.match(rest)
    if not s: bad.append('sd: ' + line); continue
    msg = rest[s.end():]
    sd = s.group(1)
    if sd != '-':
        params = dict((k, re.sub(r'\\(["\\\]])', r'\1', v)) for k, v in
                      re.findall(r' ([^ =\]"]+)="((?:[^"\\\]]|\\.)*)"', sd))
        aid = params.get('id'); want = store.get(aid)
        j = json.loads(msg) if want else None
        if want is None or j['id'] != aid or j['event'] != want['event'] or params.get('customer') != clean(want['event']['customer'], False):
            bad.append('rfc5424 fields: ' + line); continue
    elif msg.startswith('CEF:0|'):
        parts, kv = cef_decode(msg)
        aid = kv.get('externalId'); want = store.get(aid)
        keys = ['externalId', 'rt', 'cs1Label', 'cs1', 'cs2Label', 'cs2', 'cs3Label', 'cs3', 'suser', 'duser', 'act', 'cnt', 'msg']
        if want is None or list(kv) != keys or kv['duser'] != clean(want['event']['customer'], True) or kv['cs1'] != want['rule_id']:
            bad.append('cef fields: ' + line); continue
    elif msg.startswith('LEEF:2.0|'):
        hdr = msg.split('|', 6)
        kv = dict(a.split('=', 1) for a in hdr[6].split('\t'))
        aid = kv.get('alertId'); want = store.get(aid)
        if hdr[5] != 'x09' or want is None or len(kv) != 12 or kv['customer'] != clean(want['event']['customer'], False):
            bad.append('leef fields: ' + line); continue
    else:
        bad.append('unknown: ' + line); continue
    seen[aid] = seen.get(aid, 0) + 1
missing = set(store) - set(seen)
dups = [a for a, c in seen.items() if c > 1]
for b in bad[:5]: print('BAD', repr(b)[:300])
print('missing', len(missing), 'dups', len(dups), 'bad', len(bad))
ok = not bad and not missing and (mode == 'atleast' or not dups)
sys.exit(0 if ok else 1)
PY
# the store is written at checkpoints: stop the daemon for a stable view
kill -TERM "$daemon_pid"; wait_for 10 daemon_gone; wait "$daemon_pid"; daemon_pid=
for f in udp tcp tls; do
	check "$f: every alert once, strict RFC 5424, fields intact" \
		python3 "$tmp/checker.py" "$tmp/$f" "$tmp/state/alerts.db" exact
done

# ---- outbox: collector down, daemon restarted, collector back ----
kill "$rsyslog_pid"; wait "$rsyslog_pid" 2>/dev/null; rsyslog_pid=
start_daemon
m=$((n + 40))
events $n $m >>"$tmp/ev.jsonl"
queued() { [ "$(status_num sinks.forward.$1.queued)" -ge 40 ]; }
check "tcp: 40 alerts wait in the outbox" wait_for 20 queued 1
check "tls: 40 alerts wait in the outbox" wait_for 20 queued 2
kill -TERM "$daemon_pid"; wait_for 10 daemon_gone; wait "$daemon_pid"; daemon_pid=
check "outbox file kept across the restart" test -s "$tmp/state/forward-t.outbox"
start_daemon
check "after restart: tcp outbox still holds 40" wait_for 10 queued 1
start_rsyslog
check "tcp: outbox delivered" wait_for 30 sent 1 40
check "tls: outbox delivered" wait_for 30 sent 2 40
empty() { [ "$(status_num sinks.forward.$1.queued)" = 0 ]; }
check "tcp: outbox empty" wait_for 10 empty 1
check "tls: outbox empty" wait_for 10 empty 2
reconnects() { [ "$(status_num sinks.forward.2.errors)" -ge 1 ]; }
check "tls: connection failures counted" reconnects
kill -TERM "$daemon_pid"; wait_for 10 daemon_gone; wait "$daemon_pid"; daemon_pid=
for f in tcp tls; do
	check "$f: all $m alerts delivered (at least once), fields intact" \
		python3 "$tmp/checker.py" "$tmp/$f" "$tmp/state/alerts.db" atleast
done
[ "$n_failed" -eq 0 ] || { tail -c 3000 "$tmp/log.txt"; cat "$tmp/rsyslog.err"; }
finish
