# SPDX-License-Identifier: MIT
#
# tap_lib.sh - what the tool's shell tests share (sourced, not run):
# a scratch directory $TMP removed at exit, TAP test points, and checks of
# the tool's exit status and output.  The sourcing script sets PINMM (the
# tool) and TAP_NAME (the scratch directory's prefix) first, and ends with
# tap_done.

case $PINMM in /*) ;; *) PINMM=$(pwd)/$PINMM ;; esac
# A test that made its own scratch directory (and its trap) keeps it.
if [ -z "${TMP:-}" ]; then
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/pinmm-${TAP_NAME:-test}.XXXXXX") || exit 1
	trap 'rm -rf "$TMP"' EXIT INT TERM
fi
# A test may have printed points of its own (test_svg.sh): numbering goes on.
N=${N:-0}
FAILED=${FAILED:-0}
# A regression that prints without bound must fail the test, not fill the disk:
# no file any test here writes is larger than 20 MiB (SIGXFSZ past that).
ulimit -f 40960

# ok STATUS DESCRIPTION [LOG...]: a test point; a failure shows the first
# 20 lines of each LOG, or without LOGs the last run's output.
ok() {
	N=$((N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $N - $2"
		return
	fi
	echo "not ok $N - $2"
	FAILED=$((FAILED + 1))
	shift 2
	if [ $# = 0 ]; then
		sed 's/^/# /' "$TMP/out" "$TMP/err" 2>/dev/null
		return
	fi
	for log in "$@"; do
		[ -r "$log" ] && sed 's/^/# /' "$log" | head -20
	done
}

# run EXPECTED_STATUS DESCRIPTION ARGS...: run pinmm (in $RUN_DIR when set),
# check its exit status.  A run that has not ended after 60 s is killed
# (exit 124): a failure.
run() {
	want=$1
	what=$2
	shift 2
	(cd "${RUN_DIR:-.}" && timeout 60 "$PINMM" "$@") >"$TMP/out" 2>"$TMP/err" </dev/null
	got=$?
	[ "$got" = "$want" ]
	ok $? "$what (exit $got, want $want)"
}

# has FILE PATTERN DESCRIPTION: the output file contains the fixed string.
has() {
	grep -qF -- "$2" "$TMP/$1"
	ok $? "$3"
}

hasnt() {
	! grep -qF -- "$2" "$TMP/$1"
	ok $? "$3"
}

# count FILE PATTERN N DESCRIPTION: exactly N lines contain the string.
count() {
	[ "$(grep -cF -- "$2" "$TMP/$1")" = "$3" ]
	ok $? "$4"
}

# script NAME: the script $TMP/NAME from standard input.
script() {
	mkdir -p "$(dirname "$TMP/$1")"
	cat >"$TMP/$1"
}

tap_done() {
	echo "1..$N"
	[ "$FAILED" = 0 ]
}
