# SPDX-License-Identifier: MIT
#
# tap_lib.sh - helpers of the tool's shell tests (test_cli.sh, test_json.sh),
# sourced after PINMM is set: a temporary folder $TMP removed at exit, TAP
# test points (ok), running pinmm with a deadline (run), and looking for a
# fixed string in its output (has, hasnt).  The caller prints the plan.

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pinmm-cli.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
N=0
FAILED=0
# A regression that prints without bound must fail the test, not fill the disk:
# no file any test here writes is larger than 20 MiB (SIGXFSZ past that).
ulimit -f 40960

ok() {
	N=$((N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $N - $2"
	else
		echo "not ok $N - $2"
		FAILED=$((FAILED + 1))
		sed 's/^/# /' "$TMP/out" "$TMP/err" 2>/dev/null
	fi
}

# run EXPECTED_STATUS DESCRIPTION ARGS...: run pinmm, check its exit status.
# A run that has not ended after 60 s is killed (exit 124): a failure.
run() {
	want=$1
	what=$2
	shift 2
	timeout 60 "$PINMM" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
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

