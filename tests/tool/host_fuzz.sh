#!/bin/sh
# SPDX-License-Identifier: MIT
#
# host_fuzz.sh - pinmm fuzz --diff (doc/DIFF.md "Differential fuzzing"):
# generated programs run on pinmm and on the host kernel must agree (0
# divergences the allow-list does not excuse, 0 generator refusals, every
# program run on both sides).  Usage errors and --print: test_cli.sh.
# Usage: host_fuzz.sh PATH/TO/pinmm ALLOW-LIST.  Prints TAP; exits 77 (SKIP)
# when the host cannot run scripts (host_env.sh).
PINMM=${1:?usage: host_fuzz.sh PINMM ALLOW}
ALLOW=${2:?usage: host_fuzz.sh PINMM ALLOW}
TAP_NAME=hostfuzz
COUNT=${PINMM_FUZZ_COUNT:-200}
. "$(dirname "$0")/host_env.sh"
. "$(dirname "$0")/tap_lib.sh"

case $ALLOW in /*) ;; *) ALLOW=$(pwd)/$ALLOW ;; esac
host_scratch >"$TMP/scratch-before"
cd "$TMP" || exit 1
timeout 280 "$PINMM" fuzz --diff --seed 1 --count "$COUNT" --allow "$ALLOW" \
	--out "$TMP/fuzz-out" >"$TMP/out" 2>"$TMP/err"
rc=$?
tail -n 3 "$TMP/out" | sed 's/^/# /'
ok $rc "pinmm fuzz --diff --seed 1 --count $COUNT exits 0"
grep -q "^pinmm fuzz --diff --seed 1: $COUNT programs, $COUNT run on both sides" "$TMP/out"
ok $? "all $COUNT programs ran on both sides"
grep -q " 0 not allowed .*generator refusals: 0;" "$TMP/out"
ok $? "0 unallowed divergences and 0 generator refusals"
grep -Eq "pinmm: [0-9.]+ s, [0-9.]+ programs/s; host: [0-9.]+ s, [0-9.]+ programs/s" "$TMP/out"
ok $? "the summary gives each side's seconds and programs per second"
host_scratch_left "$TMP/scratch-before" "$TMP/scratch-left"
ok $? "no scratch directory left behind" "$TMP/scratch-left"
tap_done
