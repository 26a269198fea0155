#!/bin/sh
# SPDX-License-Identifier: MIT
#
# host_diff.sh - every scenario and example script the host can run is run
# under `pinmm diff`: pinmm and the host kernel must agree on each line's
# outcome and each expectation (doc/DIFF.md), apart from the allow-list.
# A script the host refuses ("cannot run on the host", exit 2) is a TAP
# skip with the reason; at least MIN_RUN scripts must really run.
# Usage: host_diff.sh PATH/TO/pinmm ALLOW-LIST SCRIPT...  Prints TAP; exits
# 77 (SKIP) when the host cannot run scripts (host_env.sh).
PINMM=${1:?usage: host_diff.sh PINMM ALLOW SCRIPT...}
ALLOW=${2:?usage: host_diff.sh PINMM ALLOW SCRIPT...}
shift 2
MIN_RUN=8
. "$(dirname "$0")/host_env.sh"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pinmm-hostdiff.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
host_scratch >"$TMP/scratch-before"
N=0
FAILED=0
RAN=0
for s in "$@"; do
	N=$((N + 1))
	timeout 120 "$PINMM" diff --allow "$ALLOW" "$s" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc = 0 ]; then
		RAN=$((RAN + 1))
		echo "ok $N - $(tail -n 1 "$TMP/out")"
		grep 'allowed:' "$TMP/out" | sed 's/^/# /'
	elif [ $rc = 2 ] && grep -q 'cannot run on the host' "$TMP/err"; then
		echo "ok $N - $s # SKIP $(grep -m1 'cannot run on the host' "$TMP/err" | sed 's/.*cannot run on the host: //')"
	else
		FAILED=$((FAILED + 1))
		echo "not ok $N - $s: pinmm diff exit $rc"
		sed 's/^/# /' "$TMP/out" "$TMP/err"
	fi
done
N=$((N + 1))
if [ $RAN -ge $MIN_RUN ]; then
	echo "ok $N - $RAN scripts ran on both sides (at least $MIN_RUN)"
else
	FAILED=$((FAILED + 1))
	echo "not ok $N - only $RAN scripts ran on both sides (want at least $MIN_RUN)"
fi
N=$((N + 1))
if host_scratch_left "$TMP/scratch-before" "$TMP/scratch-left"; then
	echo "ok $N - no scratch directory left behind"
else
	FAILED=$((FAILED + 1))
	echo "not ok $N - scratch directories left behind: $(tr '\n' ' ' <"$TMP/scratch-left")"
fi
echo "1..$N"
[ $FAILED = 0 ]
