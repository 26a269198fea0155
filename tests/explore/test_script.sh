#!/bin/sh
# SPDX-License-Identifier: MIT
#
# test_script.sh - one race written as a script with thread blocks, under
# `pinmm explore FILE` (doc/EXPLORE.md "Races as scripts"): with -D
# LEGACY=1 the explorer finds a violation from a fixed seed; the printed
# schedule replays it with the same trace hash and a byte-identical step
# trace (twice); --shrink gives a schedule that still violates; with the
# fix the same budget finds none; and `pinmm run`
# of the script, free-running on pthreads, passes with the fix.
# Usage: test_script.sh PINMM SCRIPT STRATEGY SEED RUNS [LEGACY_DEFINE],
# LEGACY_DEFINE the -D that selects the pre-fix behaviour (LEGACY=1 unless
# the script's switch is another parameter, e.g. POLICY=legacy).  The runs'
# temporary files go to a TMPDIR of the test's own, which must end empty.
# Prints TAP.

PINMM=${1:?usage: test_script.sh PINMM SCRIPT STRATEGY SEED RUNS [LEGACY_DEFINE]}
SCRIPT=$2 STRATEGY=$3 SEED=$4 RUNS=$5 LEGACY=${6:-LEGACY=1}
TAP_NAME=explore-script
. "$(dirname "$0")/../tool/tap_lib.sh"	# $TMP, ok
NAME=$(basename "$SCRIPT" .pinmm)

# Every pinmm run has a deadline: 90 s, then it is killed (exit 124).
mkdir "$TMP/tmpdir" || exit 1
px() { TMPDIR=$TMP/tmpdir timeout 90 "$PINMM" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null; }

px explore "$SCRIPT" -D "$LEGACY" --strategy "$STRATEGY" --seed "$SEED" --runs "$RUNS"
st=$?
[ $st = 1 ] && grep -q '^schedule: ' "$TMP/out"
ok $? "$NAME legacy: $STRATEGY seed $SEED finds a violation (exit $st)"
sed 's/^/# /' "$TMP/out"
SCHED=$(sed -n 's/^schedule: //p' "$TMP/out")
HASH=$(sed -n 's/.*trace-hash: //p' "$TMP/out")

px explore --replay "$SCHED" "$SCRIPT" -D "$LEGACY" --trace "$TMP/trace1"
st=$?
[ $st = 1 ] && [ -n "$HASH" ] && grep -q "trace-hash: $HASH\$" "$TMP/out"
ok $? "$NAME legacy: replay violates again with trace hash $HASH (exit $st)"
px explore --replay "$SCHED" "$SCRIPT" -D "$LEGACY" --trace "$TMP/trace2"
[ -s "$TMP/trace1" ] && cmp -s "$TMP/trace1" "$TMP/trace2"
ok $? "$NAME legacy: two replays write byte-identical step traces"

px explore "$SCRIPT" -D "$LEGACY" --strategy "$STRATEGY" --seed "$SEED" --runs "$RUNS" --shrink
st=$?
SHRUNK=$(sed -n '/shrunk:/,$s/^schedule: //p' "$TMP/out")
[ $st = 1 ] && [ -n "$SHRUNK" ] && TMPDIR=$TMP/tmpdir timeout 90 "$PINMM" explore --replay "$SHRUNK" "$SCRIPT" \
	-D "$LEGACY" >"$TMP/out2" 2>&1 </dev/null
st2=$?
[ $st = 1 ] && [ $st2 = 1 ]
ok $? "$NAME legacy: --shrink gives $SHRUNK, whose replay violates (exit $st, $st2)"

px explore "$SCRIPT" --strategy "$STRATEGY" --seed "$SEED" --runs "$RUNS"
st=$?
[ $st = 0 ] && grep -q ': pass after' "$TMP/out"
ok $? "$NAME fixed: the same $RUNS runs find no violation (exit $st)"

px run "$SCRIPT"
st=$?
[ $st = 0 ] && grep -q ', 0 failed$' "$TMP/out"
ok $? "$NAME fixed: pinmm run on free-running threads passes (exit $st)"

left=$(ls -A "$TMP/tmpdir" | head -3 | tr '\n' ' ')
[ -z "$left" ]
ok $? "$NAME: no temporary file left behind by the runs (${left:-none})"

echo "1..$N"
[ $FAILED = 0 ]
