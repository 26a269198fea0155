#!/bin/sh
# SPDX-License-Identifier: MIT
#
# script_threads.sh PINMM - the script runner's thread blocks under load
# (suite stress, so CI runs it under TSan too): script_threads.pinmm's four
# blocks must pass, and their output must interleave - a run where one block
# finished before the next began has not tested the runner's shared state.
PINMM=$1
TAP_NAME=script-threads
. "$(dirname "$0")/../tool/tap_lib.sh"
SCRIPT=$(dirname "$0")/script_threads.pinmm
case $SCRIPT in /*) ;; *) SCRIPT=$(pwd)/$SCRIPT ;; esac

run 0 "four thread blocks pass (pins balanced, audit clean)" run "$SCRIPT"
# Each block echoes its name once per iteration: count the changes of name.
switches=$(grep -E '^T[1-4]$' "$TMP/out" | uniq | wc -l)
for t in T1 T2 T3 T4; do
	c=$(grep -cx "$t" "$TMP/out")
	[ "$c" = 3000 ]
	ok $? "block $t ran its 3000 iterations ($c)"
done
[ "$switches" -gt 4 ]
ok $? "the blocks ran at the same time: $switches runs of one block's output (> 4)"
tap_done
