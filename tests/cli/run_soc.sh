#!/usr/bin/env bash
# run_soc.sh CUSTOS: end-to-end tests of the analyst commands on a real store
# made by `custos replay --db --keep-events` from examples/access.jsonl and
# the tests/replay cases: alerts filters and formats, show, triage and its
# audit trail, agent/customer/blast-radius, stats, purge + verify, tamper
# detection, permissions, --help of every command, and the HTML report in a
# headless browser (chromium; SKIP without it, FAIL without it when CI=true).
set -u
CUSTOS=$(realpath "$1")
T=$(mktemp -d /tmp/custos-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
export CUSTOS_NOW=2025-03-04T00:00:00Z
fails=0 passes=0
ok() { passes=$((passes + 1)); }
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
check() { # check DESC COMMAND...: the command must succeed
	local d=$1; shift
	if "$@"; then ok; else fail "$d"; fi
}
DB=$T/alerts.db

"$CUSTOS" replay --quiet --rules rules/ --db "$DB" --keep-events \
	examples/access.jsonl > "$T/replay.jsonl" || fail "replay"
for c in tests/replay/cases/*/; do
	[ -f "$c/rules.yml" ] && [ -f "$c/input.jsonl" ] || continue
	"$CUSTOS" replay --quiet --rules "$c/rules.yml" --db "$DB" \
		--keep-events "$c/input.jsonl" >/dev/null 2>&1
done
n_replay=$(wc -l < "$T/replay.jsonl")
n_store=$(sqlite3 "$DB" "select count(*) from alerts")
check "store has the replayed alerts" test "$n_store" -ge "$n_replay"
check "store mode 0640" test "$(stat -c %a "$DB")" = 640

# alerts: formats and filters
"$CUSTOS" alerts --db "$DB" --limit 0 --json > "$T/all.jsonl"
check "json lines = rows" test "$(wc -l < "$T/all.jsonl")" -eq "$n_store"
check "json parses" jq -e . "$T/all.jsonl" >/dev/null
n_ins=$("$CUSTOS" alerts --db "$DB" --agent agent-insider --json --limit 0 | wc -l)
check "agent filter" test "$n_ins" -eq "$(sqlite3 "$DB" "select count(*) from alerts where agent='agent-insider'")"
n_hi=$("$CUSTOS" alerts --db "$DB" --level high+ --json --limit 0 | jq -r .level | sort -u | tr '\n' ' ')
check "level high+ only high/critical ($n_hi)" bash -c "[[ '$n_hi' =~ ^(critical )?(high )?$ ]]"
n_h=$("$CUSTOS" alerts --db "$DB" --since 2025-03-03T08:20:00Z --until 2025-03-03T08:30:00Z --json --limit 0 | jq -r .ts | awk '$0 < "2025-03-03T08:20" || $0 >= "2025-03-03T08:30"' | wc -l)
check "since/until window" test "$n_h" -eq 0
n_rel=$("$CUSTOS" alerts --db "$DB" --since 16h --json --limit 0 | wc -l)
n_abs=$("$CUSTOS" alerts --db "$DB" --since 2025-03-03T08:00:00Z --json --limit 0 | wc -l)
check "relative --since = absolute" test "$n_rel" -eq "$n_abs"
check "limit" test "$("$CUSTOS" alerts --db "$DB" --limit 3 --json | wc -l)" -eq 3
rule='Agent opened many distinct customers within an hour'
check "rule by title" test "$("$CUSTOS" alerts --db "$DB" --rule "$rule" --json --limit 0 | jq -r .rule_title | sort -u)" = "$rule"
"$CUSTOS" alerts --db "$DB" --csv --limit 0 > "$T/all.csv"
check "csv rows + header" test "$(python3 -c 'import csv,sys; print(len(list(csv.reader(open(sys.argv[1], newline="")))))' "$T/all.csv")" -eq $((n_store + 1))
check "csv CRLF" grep -q $'\r$' "$T/all.csv"
# CSV injection: values from the log that a spreadsheet would run as a
# formula come out with a leading apostrophe; plain numbers stay as they are
cat > "$T/inj.yml" <<'YML'
title: Any view
detection:
  sel:
    action: view
  condition: sel
level: low
YML
printf '%s\n' '{"ts":"2025-03-03T09:00:00Z","agent":"=HYPERLINK(\"http://x\")","customer":"@SUM(A1)","action":"view"}' \
	'{"ts":"2025-03-03T09:00:01Z","agent":"-12","customer":"+1 555","action":"view"}' > "$T/inj.jsonl"
"$CUSTOS" replay --quiet --rules "$T/inj.yml" --db "$T/inj.db" "$T/inj.jsonl" >/dev/null || fail "injection replay"
"$CUSTOS" alerts --db "$T/inj.db" --csv --limit 0 > "$T/inj.csv"
cells=$(python3 -c 'import csv,sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
print(" ".join(sorted(r["agent"] + "|" + r["customer"] for r in rows)))' "$T/inj.csv")
check "csv formulas neutralised ($cells)" test "$cells" = "'=HYPERLINK(\"http://x\")|'@SUM(A1) -12|'+1 555"
check "sort level" bash -c "'$CUSTOS' alerts --db '$DB' --sort level --json --limit 0 | jq -r .level | head -1 | grep -Eq 'critical|high'"
check "bad level is usage" bash -c "'$CUSTOS' alerts --db '$DB' --level huge 2>/dev/null; [ \$? -eq 2 ]"

# show + triage
id=$("$CUSTOS" alerts --db "$DB" --rule "$rule" --json --limit 1 | jq -r .id)
short=${id:0:10}
export CUSTOS_AUDIT_STDERR=1
"$CUSTOS" alerts ack "$short" --db "$DB" --note "on it" 2> "$T/audit" >/dev/null || fail "ack"
check "audit line" grep -q "user $(id -un) ran: alerts ack $short --db $DB --note 'on it'" "$T/audit"
unset CUSTOS_AUDIT_STDERR
"$CUSTOS" alerts assign "$short" --to alice --db "$DB" >/dev/null || fail "assign"
"$CUSTOS" alerts comment "$short" --note 'called the agent''s lead' --db "$DB" >/dev/null || fail "comment"
"$CUSTOS" alerts resolve "$short" --false-positive --suppress 7d --db "$DB" >/dev/null || fail "resolve"
"$CUSTOS" alerts show "$short" --db "$DB" --json > "$T/show.json"
check "show status resolved" test "$(jq -r .status "$T/show.json")" = resolved
check "show assignee" test "$(jq -r .assignee "$T/show.json")" = alice
check "show triage history" test "$(jq -r '[.triage[].action] | join(",")' "$T/show.json")" = "ack,assign,comment,resolve,false_positive,suppress"
check "triage user" test "$(jq -r '.triage[0].user' "$T/show.json")" = "$(id -un)"
check "show evidence" test "$(jq '.evidence | length' "$T/show.json")" -gt 0
check "suppression scoped" test "$(sqlite3 "$DB" "select count(*) from suppressions where agent='agent-insider' and rule_id=(select rule_id from alerts where id='$id')")" -eq 1
"$CUSTOS" alerts reopen "$short" --db "$DB" >/dev/null
check "reopen" test "$("$CUSTOS" alerts show "$id" --db "$DB" --json | jq -r .status)" = open
check "status filter" test "$("$CUSTOS" alerts --db "$DB" --status open --json --limit 0 | wc -l)" -eq "$n_store"
check "text show" bash -c "'$CUSTOS' alerts show '$short' --db '$DB' | grep -q '^triage:'"
check "unknown id exit 1" bash -c "'$CUSTOS' alerts show ffffffffff --db '$DB' 2>/dev/null; [ \$? -eq 1 ]"
check "assign needs --to" bash -c "'$CUSTOS' alerts assign '$short' --db '$DB' 2>/dev/null; [ \$? -eq 2 ]"

# investigation views
"$CUSTOS" agent agent-insider --db "$DB" --json > "$T/agent.json" || fail "agent"
want_day=$(grep '"agent":"agent-insider"' examples/access.jsonl | jq -r 'select(.customer) | .customer' | sort -u | wc -l)
check "agent distinct customers/day ($want_day)" test "$(jq '.days[0].distinct_customers' "$T/agent.json")" -eq "$want_day"
check "agent alerts" test "$(jq '.alerts | length' "$T/agent.json")" -eq "$n_ins"
check "agent team median < own" jq -e '.team_median < .own_median' "$T/agent.json" >/dev/null
cust=C0029899
want_acc=$(grep -c "\"customer\":\"$cust\"" examples/access.jsonl)
check "customer accesses" test "$("$CUSTOS" customer "$cust" --db "$DB" --json | wc -l)" -eq "$want_acc"
"$CUSTOS" customer "$cust" --db "$DB" | grep -q "agent-insider" || fail "customer text"
"$CUSTOS" blast-radius --agent agent-insider --db "$DB" --csv > "$T/blast.csv"
check "blast radius = distinct customers" test "$(($(wc -l < "$T/blast.csv") - 1))" -eq "$want_day"
check "blast without ticket" bash -c "tail -n +2 '$T/blast.csv' | awk -F, '\$4 == 0' | wc -l | grep -qx 0"
check "stats" bash -c "'$CUSTOS' stats --since 3650d --db '$DB' --json | jq -s -e 'map(select(.dimension==\"agent\" and .key==\"agent-insider\"))[0].alerts == $n_ins' >/dev/null"

# verify, tampering, purge
check "verify intact" "$CUSTOS" verify --db "$DB" --seal
cp "$DB" "$T/t.db"
sqlite3 "$T/t.db" "update alerts set rule_title='x' where id='$id'"
"$CUSTOS" verify --db "$T/t.db" > "$T/v.out"; rc=$?
check "verify tamper exit 1" test $rc -eq 1
check "verify names row" grep -q "TAMPERED seq [0-9]* alert $id" "$T/v.out"
"$CUSTOS" purge --older-than 15h30m --db "$DB" >/dev/null 2>&1 && fail "bad duration accepted" || ok
"$CUSTOS" purge --older-than 940m --db "$DB" > "$T/purge.out" || fail "purge"
check "purge removed alerts" grep -Eq "purged [1-9][0-9]* alerts" "$T/purge.out"
check "purged events gone" test "$(sqlite3 "$DB" "select count(*) from access_events where ts_ms < (1741046400000 - 940*60000)")" -eq 0
check "verify after purge" "$CUSTOS" verify --db "$DB"

# access control
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	chmod 0711 "$T"
	if command -v runuser >/dev/null; then
		out=$(runuser -u nobody -- "$CUSTOS" alerts --db "$DB" 2>&1); rc=$?
		check "unreadable store refused" test $rc -eq 1
		check "permission message" grep -q "permission denied" <<< "$out"
	fi
fi
check "missing store" bash -c "'$CUSTOS' alerts --db '$T/none.db' 2>/dev/null; [ \$? -eq 1 ] && [ ! -e '$T/none.db' ]"

# --help everywhere
for cmd in alerts agent customer blast-radius stats report verify purge; do
	"$CUSTOS" "$cmd" --help | grep -q "usage: custos" || fail "$cmd --help"
done

# report in a headless browser
"$CUSTOS" report --html "$T/r.html" --db "$DB" || fail "report"
check "report has svg" test "$(grep -c '<svg' "$T/r.html")" -ge 3
check "report no script" bash -c "! grep -qi '<script' '$T/r.html'"
BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$BROWSER" ]; then
	if [ "${CI:-}" = true ]; then
		fail "chromium missing (install the chromium package)"
	else
		echo "SKIP: chromium not installed; report not rendered"
	fi
else
	timeout 120 "$BROWSER" --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update \
		--disable-sync --no-first-run --user-data-dir="$T/chrome" \
		--screenshot="$T/r.png" --window-size=1200,1600 \
		"file://$T/r.html" >/dev/null 2>&1
	check "screenshot" test -s "$T/r.png"
	check "screenshot shows charts" python3 tests/cli/png_colors.py "$T/r.png"
fi
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
