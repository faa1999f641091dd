#!/usr/bin/env bash
# Unit tests of the proof harness: custos-gen determinism (same seed, same
# bytes), realism invariants of its normal work, its insider scenarios, and
# detection-quality's label/alert attribution, agent-day count, thresholds
# and exit codes.  Needs python3 only (custos is not used).
# usage: run_gen_selftest.sh [CUSTOS]
set -u
here=$(cd "$(dirname "$0")" && pwd)
exec python3 -W error::ResourceWarning -m unittest discover -s "$here" \
	-p 'test_*.py' -v
