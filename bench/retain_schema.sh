#!/usr/bin/env bash
# bench/retain_schema.sh: SQLite instructions per retained access event for
# variants of the access_events schema, counted by callgrind (deterministic
# on a loaded machine).  Each variant gets a new store (WAL, synchronous
# NORMAL, 64 MiB cache, as store.c), two batches of 200,000 rows not
# measured, then one measured batch of 200,000 rows in one transaction, all
# inserted with the sqlite3 shell as INSERT ... SELECT from the first
# 600,000 pool events (bench/out, as bench_daemon.sh).  The figures include
# reading the source rows (the same for every variant): compare variants
# with each other and with "noindex", not with profile_daemon.sh.
#
# usage: bench/retain_schema.sh   (needs sqlite3, valgrind, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
pool=bench/out/events-1000000.jsonl
[ -f "$pool" ] || python3 bench/gen_events.py --events 1000000 --agents 2000 \
	--customers 1000000 --insider --seed 42 >"$pool"
tmp=$(mktemp -d /tmp/custos_schema.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
python3 - "$pool" "$tmp/rows.csv" <<'EOF'
import csv, datetime, json, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as o:
    w = csv.writer(o)
    for i, line in enumerate(f):
        if i == 600000:
            break
        e = json.loads(line)
        t = datetime.datetime.fromisoformat(e["ts"].replace("Z", "+00:00"))
        w.writerow([int(t.timestamp() * 1000)] +
                   [e.get(k, "") for k in ("agent", "customer", "action",
                                           "object", "ticket", "team")] +
                   ["bench:/var/log/support/access.jsonl:%d" % (i + 1)])
EOF
sqlite3 "$tmp/src.db" <<EOF
CREATE TABLE raw(ts_ms, agent, customer, action, object, ticket, team, source);
.mode csv
.import $tmp/rows.csv raw
CREATE TABLE src AS SELECT rowid AS n, CAST(ts_ms AS INTEGER) AS ts_ms,
 NULLIF(agent, '') AS agent, NULLIF(customer, '') AS customer,
 NULLIF(action, '') AS action, NULLIF(object, '') AS object,
 NULLIF(ticket, '') AS ticket, NULLIF(team, '') AS team, source FROM raw;
DROP TABLE raw;
EOF

table="CREATE TABLE access_events (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,
 agent TEXT, customer TEXT, action TEXT, object TEXT, ticket TEXT, team TEXT, source TEXT);"
cols="ts_ms, agent, customer, action, object, ticket, team, source"
ix_ts="CREATE INDEX access_events_ts ON access_events(ts_ms);"
ix_agent="CREATE INDEX access_events_agent ON access_events(agent, ts_ms);"
ix_cust="CREATE INDEX access_events_customer ON access_events(customer, ts_ms);"
ix_cust_part="CREATE INDEX access_events_customer ON access_events(customer, ts_ms)
 WHERE customer IS NOT NULL;"
without_rowid="CREATE TABLE access_events (agent TEXT NOT NULL, ts_ms INTEGER NOT NULL,
 id INTEGER NOT NULL, customer TEXT, action TEXT, object TEXT, ticket TEXT, team TEXT,
 source TEXT, PRIMARY KEY (agent, ts_ms, id)) WITHOUT ROWID;"
pragmas="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"

# variant NAME SCHEMA [ORDER_BY [PAGE_SIZE [nosrc|wor]]]
variant() {
	local db=$tmp/$1.db order=${3:-} ins
	case ${5:-} in
	nosrc) ins="INSERT INTO access_events (${cols%, source}) SELECT ${cols%, source} FROM s.src" ;;
	wor) ins="INSERT INTO access_events (id, $cols) SELECT n, ts_ms, ifnull(agent, ''),
		customer, action, object, ticket, team, source FROM s.src" ;;
	*) ins="INSERT INTO access_events ($cols) SELECT $cols FROM s.src" ;;
	esac
	sqlite3 "$db" "PRAGMA page_size=${4:-4096}; $pragmas $2" >/dev/null
	for r in "1 200000" "200001 400000" "400001 600000"; do
		set -- $r
		local sql="$pragmas ATTACH '$tmp/src.db' AS s; BEGIN;
			$ins WHERE n BETWEEN $1 AND $2 $order; COMMIT;"
		if [ "$1" = 400001 ]; then
			valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" \
				sqlite3 "$db" "$sql" >/dev/null 2>"$tmp/vg"
		else
			sqlite3 "$db" "$sql" >/dev/null
		fi
	done
	local ir
	ir=$(grep -o 'Collected : [0-9]*' "$tmp/vg" | awk '{print $3}')
	printf '  %-34s %8.0f %10s\n' "$name" "$(echo "$ir / 200000" | bc -l)" \
		"$(du -k "$db" | cut -f1)"
}

echo "access_events schema variants: Ir per row of the third 200,000-row batch (sqlite3 $(sqlite3 --version | cut -d' ' -f1))"
printf '  %-34s %8s %10s\n' variant Ir/row "store KiB"
name="noindex (table only)" variant noindex "$table"
name="v3: ts, agent, customer indexes" variant v3 "$table $ix_ts $ix_agent $ix_cust"
name="v4: agent, customer" variant v4 "$table $ix_agent $ix_cust"
name="v4, customer index partial" variant v4p "$table $ix_agent $ix_cust_part"
name="v4, no source column" variant v4nosrc "${table/, source TEXT/} $ix_agent $ix_cust" "" "" nosrc
name="WITHOUT ROWID (agent, ts_ms, id)" variant wor "$without_rowid $ix_cust" "" "" wor
name="v3, page_size 16384" variant v3p16k "$table $ix_ts $ix_agent $ix_cust" "" 16384
name="noindex, sorted by customer" variant nosort "$table" "ORDER BY customer"
name="v3, sorted by customer" variant v3sort "$table $ix_ts $ix_agent $ix_cust" "ORDER BY customer"
