#!/usr/bin/env bash
# Detection quality of the shipped rule pack (rules/) on a generated corpus:
# 300 agents x 16 days (2025-03-17..04-01, Lisbon's summer-time change and a
# busy day on 03-26 included), every insider scenario once, fixed seed.
# Prints the full per-scenario table and the false positives per rule, and
# asserts that the patterns the current pack covers (COVERED below) are
# detected and that their rules stay within their false-positive bounds.
# The rule-pack step extends COVERED to every pattern and tightens the
# bounds.
# usage: run_quality.sh PATH/TO/custos
set -u
custos=${1:?usage: run_quality.sh CUSTOS}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Patterns the shipped rules detect today (each must be detected).
COVERED=bulk_export,breadth_burst,no_ticket,id_harvest,denied_burst

# False positives per 1,000 agent-days allowed for the rules behind COVERED.
# The ID-document rule fires all day on the verification queue (the rule
# says to exempt that queue; the pack does not yet): its bound only stops
# it from getting worse until the rule-pack step exempts the queue.
FP_BOUNDS=(
	"Bulk export of customer data=1"
	"Agent opened many distinct customers within an hour=1"
	"Agent opened five or more customers without a ticket in a day=1"
	"Repeated denied accesses by one agent=1"
	"Agent opened more than ten ID documents in a day=400"
)

start=$(date +%s)
if ! python3 "$root/tools/custos-gen" --agents 300 --days 16 \
	--start 2025-03-17 --busy-day 2025-03-26 --seed 1 --all-scenarios \
	--labels "$tmp/labels.jsonl" --directory "$tmp/agents.csv" \
	--lists "$tmp/lists.yaml" -o "$tmp/access.jsonl"; then
	echo "FAIL: custos-gen"
	exit 1
fi
n_events=$(wc -l <"$tmp/access.jsonl")
echo "generated $n_events events in $(($(date +%s) - start)) s"

bounds=()
for b in "${FP_BOUNDS[@]}"; do bounds+=(--max-fp-rule "$b"); done
python3 "$root/tools/detection-quality" --custos "$custos" \
	--rules "$root/rules" --config "$tmp/lists.yaml" \
	--labels "$tmp/labels.jsonl" --directory "$tmp/agents.csv" \
	--require "$COVERED" "${bounds[@]}" --json "$tmp/summary.json" \
	"$tmp/access.jsonl"
rc=$?
echo "covered patterns: $COVERED"
echo "total $(($(date +%s) - start)) s"
if [ "$rc" -ne 0 ]; then
	echo "FAIL: detection quality (exit $rc)"
	exit 1
fi
echo "PASS"
