#!/bin/sh
# SPDX-License-Identifier: MIT
#
# test_determinism.sh - a search is reproducible run for run across
# invocations (doc/EXPLORE.md "Reproducible searches"): the same search
# twice, under different MALLOC_PERTURB_ values and once with every run's
# step trace written, logs the same record per run (verdict, steps, trace
# hash, whole schedule) with --log; a logged run replays to the same step
# trace; a legacy search stops at the same run with the same record.
# RACE is a built-in race or a script FILE (*.pinmm, legacy: -D LEGACY=1).
# Usage: test_determinism.sh PINMM RACE RUNS.  Prints TAP.

PINMM=${1:?usage: test_determinism.sh PINMM RACE RUNS}
RACE=$2 RUNS=$3
NAME=$(basename "$RACE" .pinmm)
TAP_NAME=explore-det
. "$(dirname "$0")/../tool/tap_lib.sh"	# $TMP, ok

case $RACE in
*.pinmm) OPT= LEGACY="-D LEGACY=1" ;;
*) OPT=--race LEGACY=--legacy ;;
esac
# Every pinmm run has a deadline: 90 s, then it is killed (exit 124).
px() { timeout 90 "$PINMM" explore ${OPT:+"$OPT"} "$RACE" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null; }

for st in pct random exhaustive; do
	MALLOC_PERTURB_=0 px --strategy $st --seed 3 --runs "$RUNS" --log "$TMP/a.$st"
	MALLOC_PERTURB_=165 px --strategy $st --seed 3 --runs "$RUNS" --log "$TMP/b.$st"
	MALLOC_PERTURB_=66 px --strategy $st --seed 3 --runs "$RUNS" --log "$TMP/c.$st" \
		--trace "$TMP/trace.$st"
	n=$(grep -c '^run [0-9]* pass steps [0-9]* hash [0-9a-f]\{16\} [a-h]' "$TMP/a.$st")
	# exhaustive may use up its tree before $RUNS: a dozen runs at least.
	[ "$n" -ge 12 ] && [ "$n" -eq "$(wc -l <"$TMP/a.$st")" ]
	ok $? "$NAME $st: $n runs logged" "$TMP/a.$st" "$TMP/err"
	cmp -s "$TMP/a.$st" "$TMP/b.$st" && cmp -s "$TMP/a.$st" "$TMP/c.$st"
	ok $? "$NAME $st: three invocations log the same $n records" \
		"$TMP/a.$st" "$TMP/b.$st" "$TMP/c.$st"
	[ "$(grep -c '^run ' "$TMP/trace.$st")" -eq "$n" ]
	ok $? "$NAME $st: --trace heads the steps of each of the $n runs" "$TMP/trace.$st"
done

# A run of the search is its replay: the same steps (a pass prints no hash).
line=$(sed -n "$((RUNS / 2 + 1))p" "$TMP/a.pct")
set -- $line
px --replay "$8" --trace "$TMP/replay"
awk -v r="run $2" '$0 == r { f = 1; next } /^run / { f = 0 } f' "$TMP/trace.pct" >"$TMP/steps"
[ "$(wc -l <"$TMP/replay")" -eq "$5" ] && cmp -s "$TMP/steps" "$TMP/replay"
ok $? "$NAME: run $2 of the pct search replays with the same $5-step trace" \
	"$TMP/steps" "$TMP/replay"

# A violation is found at the same run, with the same record, every time.
MALLOC_PERTURB_=0 px $LEGACY --strategy pct --seed 1 --runs 300 --log "$TMP/la"
sa=$?
MALLOC_PERTURB_=85 px $LEGACY --strategy pct --seed 1 --runs 300 --log "$TMP/lb"
[ "$sa" = $? ] && cmp -s "$TMP/la" "$TMP/lb"
ok $? "$NAME legacy: two pct searches stop at the same run ($(tail -n 1 "$TMP/la" | cut -d' ' -f1-3))" \
	"$TMP/la" "$TMP/lb"

echo "1..$N"
[ $FAILED = 0 ]
