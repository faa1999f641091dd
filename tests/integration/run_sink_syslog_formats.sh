#!/usr/bin/env bash
# custosd's syslog sink in each SIEM format (sinks.syslog.format: rfc5424,
# cef, leef) delivering to a real rsyslogd over its imuxsock socket.  One
# custosd per format, the same events: agents and customers with hostile
# values ('|', '=', '\', ']', '"', LF, CR, TAB, C0/C1 controls, U+2028,
# non-ASCII, forged records) and a rule whose title is hostile too.
# rsyslogd keeps control characters as received (as a receiver feeding
# QRadar must, for LEEF's TAB delimiter).  Checks on what rsyslogd got
# (%rawmsg%): one line per alert, every stored alert exactly once per
# format, nothing else; rfc5424 lines are strict RFC 5424 (ABNF as a
# regex) with the SD parameters and the JSON MSG exactly the alert's;
# CEF and LEEF lines decode to exactly the documented fields and values.
. "$(dirname "$0")/lib.sh" "$1"
command -v rsyslogd >/dev/null || { echo "rsyslogd missing (rsyslog)"; exit 1; }
formats="rfc5424 cef leef"

cat >"$tmp/rsyslog.conf" <<CONF
global(workDirectory="$tmp" maxMessageSize="64k"
       parser.escapeControlCharactersOnReceive="off")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$tmp/log" RateLimit.Interval="0"
      UseSpecialParser="off")
template(name="f" type="string" string="$tmp/out-%programname%")
template(name="t" type="string"
         string="%programname%|%syslogfacility-text%|%syslogseverity-text%|%rawmsg%\n")
*.* action(type="omfile" dynaFile="f" template="t")
CONF
rsyslogd -n -f "$tmp/rsyslog.conf" -i "$tmp/rsyslogd.pid" 2>"$tmp/rsyslog.err" &
rsyslog_pid=$!
pids=()
trap 'kill "$rsyslog_pid" "${pids[@]}" 2>/dev/null; cleanup' EXIT
check "rsyslogd listening" wait_for 10 test -S "$tmp/log"

n=120
python3 - "$n" >"$tmp/ev.jsonl" <<'PY'
import json, sys
hostile = ['c|1', 'c=2', 'c\\3', 'c]4', 'c"5', 'c\n6', 'c\r7', 'c\t8',
           'c\x01\x1f\x7f9', 'c\u00852028\u2028', 'Zoë Ärger 中文 😀',
           'x\n<13>1 2025-05-01T00:00:00Z h custos - - [custos@32473 id="f"] forged',
           'y externalId=forged', 'z\talertId=forged', 'CEF:0|a|b|c|d|e|9|',
           'LEEF:2.0|a|b|c|d|x09|', 'p=q r=s\\=', 'ok']
for i in range(int(sys.argv[1])):
    h = hostile[i % len(hostile)]
    print(json.dumps({"ts": "2025-05-01T10:%02d:%02dZ" % (i // 60, i % 60),
                      "agent": "a|%d=\\ %s" % (i % 5, hostile[(i + 3) % len(hostile)]),
                      "action": "view", "customer": "%s-%d" % (h, i)}))
PY
cat >"$tmp/view.yml" <<YML
title: 'View | a=b \ c ] "q" é中 x09'
id: $view_id
status: test
detection:
  selection:
    action: view
    customer|exists: true
  condition: selection
level: high
YML
for f in $formats; do
	cat >"$tmp/$f.yml" <<YML
inputs:
  - name: crm
    path: $tmp/ev.jsonl
rules: [ $tmp/view.yml ]
state_dir: $tmp/state-$f
control_socket: $tmp/ctl-$f.sock
checkpoint: { every_ms: 100ms }
sinks:
  syslog:
    enabled: true
    ident: custos-$f
    facility: local4
    socket_path: $tmp/log
    format: $f
YML
	check "$f: --check accepts the config" \
		bash -c "'$custosd' --check -c '$tmp/$f.yml' | grep -q '^OK'"
	"$custosd" -f -c "$tmp/$f.yml" 2>"$tmp/log-$f.txt" &
	pids+=($!)
done
sent() { # sent FORMAT: the sink has sent n alerts
	[ "$("$custos" status --socket "$tmp/ctl-$1.sock" --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["sinks"]["syslog"]["sent"])')" -ge "$n" ]
}
for f in $formats; do check "$f: $n sent" wait_for 30 sent $f; done
for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p"; done
pids=()
lines() { [ "$(wc -l <"$tmp/out-custos-$1" 2>/dev/null)" -ge "$n" ]; }
for f in $formats; do wait_for 10 lines $f; done
version=$("$custosd" -V | awk '{print $2}')

cat >"$tmp/checker.py" <<'PY'
import json, re, sqlite3, sys
fmt, path, db, version = sys.argv[1:5]
PRINT = r'[\x21-\x7e]'
HDR = re.compile(r'^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) '
                 r'(%s{1,255}) (%s{1,48}) (\d{1,128}) (%s{1,32}) ' % ((PRINT,) * 3))
SDV = r'"(?:[^"\\\]]|\\["\\\]])*"'
SD = re.compile(r'^\[custos@32473( [a-z]{1,32}=%s)*\] ' % SDV)
LEGACY = re.compile(r'^<(\d{1,3})>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d custos-%s\[\d+\]: ' % fmt)
def clean(v, keep_nl=False, bar=False):
    out = ''
    for ch in v:
        o = ord(ch)
        if (o < 0x20 and not (keep_nl and ch in '\n\r')) or 0x7f <= o <= 0x9f \
                or o in (0x2028, 0x2029) or (bar and ch == '|'):
            out += '\ufffd'
        else:
            out += ch
    return out
store = {}
for aid, rid, title, lvl, ts_ms, ts, val, ev, cnt in sqlite3.connect(db).execute(
        "select id, rule_id, rule_title, level, ts_ms, ts, value, event_json,"
        " evidence_count from alerts"):
    store[aid] = dict(id=aid, rule=rid, title=title, level=lvl, ts_ms=ts_ms,
                      ts=ts, value=val, event=json.loads(ev), count=cnt)
def num(v):
    return str(int(v)) if v == int(v) else repr(v)
def cef_split(s):  # 7 header fields ('\|', '\\' escapes), then the extension
    parts, cur, i = [], '', 0
    while len(parts) < 7:
        c = s[i]
        if c == '\\':
            if s[i + 1] not in '|\\': raise ValueError('bad header escape')
            cur += s[i + 1]; i += 2; continue
        if c == '|': parts.append(cur); cur = ''; i += 1; continue
        cur += c; i += 1
    return parts, s[i:]
def cef_ext(ext):  # key=value pairs; a key is [A-Za-z0-9]+ before an unescaped '='
    out, pos, j = [], [], 0
    while j < len(ext):
        if ext[j] == '\\':
            if ext[j + 1] not in '\\=nr': raise ValueError('bad escape')
            j += 2; continue
        if ext[j] == '=':
            m = re.search(r'(?:^| )([A-Za-z0-9]+)$', ext[:j])
            if not m: raise ValueError('bare =')
            pos.append((j - len(m.group(1)), j))
        j += 1
    for k, (a, e) in enumerate(pos):
        end = pos[k + 1][0] - 1 if k + 1 < len(pos) else len(ext)
        v = re.sub(r'\\(.)', lambda m: {'n': '\n', 'r': '\r'}.get(m.group(1), m.group(1)),
                   ext[e + 1:end])
        out.append((ext[a:e], v))
    return out
seen, bad = {}, []
sev = {'informational': 1, 'low': 3, 'medium': 5, 'high': 8, 'critical': 10}
for line in open(path, encoding='utf-8', errors='strict', newline='\n'):
    line = line[:-1]
    try:
        prog, fac, sv, raw = line.split('|', 3)
        if re.match(r'^<165>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d custos-%s\[\d+\]: '
                    r'custos: seal seq=\d+ head=[0-9a-f]{64}$' % fmt, raw):
            continue  # the chain seal at exit (local4.notice, classic header)
        if fac != 'local4' or sv != 'err' or prog != 'custos-' + fmt:
            raise ValueError('facility/severity/program')
        if fmt == 'rfc5424':
            m = HDR.match(raw)
            if not m or int(m.group(1)) != 20 * 8 + 3 or m.group(4) != 'custos-rfc5424':
                raise ValueError('header')
            rest = raw[m.end():]
            s = SD.match(rest)
            if not s: raise ValueError('structured data')
            params = [(k, re.sub(r'\\(["\\\]])', r'\1', v)) for k, v in
                      re.findall(r' ([a-z]+)="((?:[^"\\\]]|\\.)*)"', s.group(0))]
            j = json.loads(rest[s.end():])
            a = store[j['id']]
            e = a['event']
            want = [('id', a['id']), ('rule', a['rule']), ('level', a['level']),
                    ('agent', clean(e['agent'])), ('customer', clean(e['customer'])),
                    ('value', num(a['value']))]
            if params != want: raise ValueError('params %r' % params)
            if m.group(2) != a['ts'] or m.group(6) != a['rule'][:32]:
                raise ValueError('timestamp/msgid')
            if j['event'] != e or j['rule_title'] != a['title']:
                raise ValueError('MSG')
            if any(ord(c) < 0x20 for c in raw): raise ValueError('control')
        elif fmt == 'cef':
            m = LEGACY.match(raw)
            if not m or int(m.group(1)) != 20 * 8 + 3: raise ValueError('legacy header')
            parts, ext = cef_split(raw[m.end():])
            kv = cef_ext(ext)
            a = store[dict(kv)['externalId']]
            e = a['event']
            if parts != ['CEF:0', 'custos', 'custos', version, a['rule'],
                         clean(a['title']), str(sev[a['level']])]:
                raise ValueError('cef header %r' % parts)
            want = [('externalId', a['id']), ('rt', str(a['ts_ms'])),
                    ('cs1Label', 'ruleId'), ('cs1', a['rule']),
                    ('cs2Label', 'level'), ('cs2', a['level']),
                    ('cs3Label', 'value'), ('cs3', num(a['value'])),
                    ('suser', clean(e['agent'], True)),
                    ('duser', clean(e['customer'], True)), ('act', 'view'),
                    ('cnt', str(a['count'])), ('msg', clean(a['title'], True))]
            if kv != want: raise ValueError('cef fields %r' % kv)
            if any(ord(c) < 0x20 for c in raw): raise ValueError('control')
        else:
            m = LEGACY.match(raw)
            if not m or int(m.group(1)) != 20 * 8 + 3: raise ValueError('legacy header')
            hdr = raw[m.end():].split('|', 6)
            attrs = [x.split('=', 1) for x in hdr[6].split('\t')]
            kv = [(k, v) for k, v in attrs]
            a = store[dict(kv)['alertId']]
            e = a['event']
            if hdr[:6] != ['LEEF:2.0', 'custos', 'custos', version,
                           clean(a['rule'], bar=True), 'x09']:
                raise ValueError('leef header %r' % hdr[:6])
            want = [('alertId', a['id']), ('devTime', a['ts']),
                    ('devTimeFormat', "yyyy-MM-dd'T'HH:mm:ss.SSSX"),
                    ('ruleId', a['rule']), ('ruleTitle', clean(a['title'])),
                    ('cat', a['level']), ('sev', str(sev[a['level']])),
                    ('usrName', clean(e['agent'])), ('customer', clean(e['customer'])),
                    ('action', 'view'), ('value', num(a['value'])),
                    ('evidenceCount', str(a['count']))]
            if kv != want: raise ValueError('leef fields %r' % kv)
            if any(ord(c) < 0x20 and c != '\t' for c in raw): raise ValueError('control')
    except (ValueError, KeyError, IndexError, TypeError) as x:
        bad.append('%s: %r' % (x, line[:400])); continue
    aid = a['id']
    seen[aid] = seen.get(aid, 0) + 1
missing = set(store) - set(seen)
dups = [k for k, c in seen.items() if c > 1]
for b in bad[:3]: print('BAD', b)
print(fmt, 'alerts', len(store), 'received', sum(seen.values()), 'missing',
      len(missing), 'dups', len(dups), 'bad', len(bad))
sys.exit(0 if not bad and not missing and not dups and store else 1)
PY
for f in $formats; do
	check "$f: store holds $n alerts" \
		test "$(sqlite3 "$tmp/state-$f/alerts.db" 'select count(*) from alerts')" = "$n"
	check "$f: every alert once, one line each, fields exact" \
		python3 "$tmp/checker.py" $f "$tmp/out-custos-$f" "$tmp/state-$f/alerts.db" "$version"
done
check "no sanitizer report in the daemon logs" bash -c "! grep -q Sanitizer '$tmp'/log-*.txt"
[ "$n_failed" -eq 0 ] && { kill "$rsyslog_pid"; wait "$rsyslog_pid"; } ||
	{ tail -n 5 "$tmp"/log-*.txt; cat "$tmp/rsyslog.err"; }
finish
