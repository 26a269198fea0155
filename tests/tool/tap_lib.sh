# SPDX-License-Identifier: MIT
#
# tap_lib.sh - TAP points for the tool tests that source it (test_svg.sh,
# test_html_report.sh).  N counts the points, FAILED the failed ones.
N=${N:-0}
FAILED=${FAILED:-0}

# ok STATUS WHAT [LOG...]: point N+1, "ok" when STATUS is 0; a failed
# point shows the first 20 lines of each LOG as "# " diagnostics.
ok() {
	N=$((N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $N - $2"
		return
	fi
	echo "not ok $N - $2"
	FAILED=$((FAILED + 1))
	shift 2
	for log in "$@"; do
		[ -r "$log" ] && sed 's/^/# /' "$log" | head -20
	done
}
