#!/bin/sh
# SPDX-License-Identifier: MIT
#
# test_race.sh - one historical race under the explorer (doc/EXPLORE.md):
# in legacy mode the explorer finds a violation from a fixed seed; the
# printed schedule replays it with a byte-identical step trace (twice) and
# the same trace hash; with the fix the same budget finds none.
# Usage: test_race.sh PINMM RACE STRATEGY SEED RUNS [DEPTH].  Prints TAP.

PINMM=${1:?usage: test_race.sh PINMM RACE STRATEGY SEED RUNS [DEPTH]}
RACE=$2 STRATEGY=$3 SEED=$4 RUNS=$5 DEPTH=${6:-3}
TAP_NAME=explore
. "$(dirname "$0")/../tool/tap_lib.sh"	# $TMP, ok

# Every pinmm run has a deadline: 90 s, then it is killed (exit 124).
px() { timeout 90 "$PINMM" explore --race "$RACE" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null; }

px --legacy --strategy "$STRATEGY" --seed "$SEED" --runs "$RUNS" --depth "$DEPTH"
st=$?
[ $st = 1 ] && grep -q '^schedule: ' "$TMP/out"
ok $? "$RACE legacy: $STRATEGY seed $SEED finds a violation (exit $st)"
cat "$TMP/out" | sed 's/^/# /'
SCHED=$(sed -n 's/^schedule: //p' "$TMP/out")
HASH=$(sed -n 's/.*trace-hash: //p' "$TMP/out")

px --legacy --replay "$SCHED" --trace "$TMP/trace1"
st=$?
[ $st = 1 ] && grep -q "trace-hash: $HASH\$" "$TMP/out"
ok $? "$RACE legacy: replay violates again with trace hash $HASH (exit $st)"
px --legacy --replay "$SCHED" --trace "$TMP/trace2"
[ -s "$TMP/trace1" ] && cmp -s "$TMP/trace1" "$TMP/trace2"
ok $? "$RACE legacy: two replays write byte-identical step traces"

px --strategy "$STRATEGY" --seed "$SEED" --runs "$RUNS" --depth "$DEPTH"
st=$?
[ $st = 0 ] && grep -q ': pass after' "$TMP/out"
ok $? "$RACE fixed: the same $RUNS runs find no violation (exit $st)"

echo "1..$N"
[ $FAILED = 0 ]
