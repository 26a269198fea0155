#!/bin/sh
# SPDX-License-Identifier: MIT
#
# test_svg.sh - the pictures: `pinmm run --svg DIR` on a machine in known
# states (svg_states.pinmm), then check_svg.py parses every picture and
# finds the expected cells; and the commands' bad input (bad names, an
# unwritable file, pictures without --svg).  Usage: test_svg.sh PINMM SRCDIR.
# Prints TAP.

PINMM=${1:?usage: test_svg.sh PATH/TO/pinmm SRCDIR}
SRC=${2:?usage: test_svg.sh PATH/TO/pinmm SRCDIR}
case $PINMM in /*) ;; *) PINMM=$PWD/$PINMM ;; esac
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pinmm-svg.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
ulimit -f 40960
if ! command -v python3 >/dev/null; then
	echo "1..0 # SKIP python3 is missing"
	exit 77
fi

timeout 60 "$PINMM" run -q --svg "$TMP/pics" "$SRC/tests/tool/svg_states.pinmm" \
	>"$TMP/out" 2>&1
st=$?
# check_svg.py numbers its own points; ours follow them.
python3 "$SRC/tests/tool/check_svg.py" "$TMP/pics" | grep -v '^1\.\.' >"$TMP/tap"
cat "$TMP/tap"
N=$(grep -c '^\(not \)\?ok' "$TMP/tap")
FAILED=$(grep -c '^not ok' "$TMP/tap")
. "$SRC/tests/tool/tap_lib.sh"

[ "$st" = 0 ]
ok $? "svg_states.pinmm runs (exit $st)" "$TMP/out"

# Bad input: a name that is no file name, an unwritable picture, a
# process that is not one.  Each stops the script with its status.
printf 'boot ram=64M\nproc P\nsnapshot ../x\n' >"$TMP/bad1.pinmm"
timeout 60 "$PINMM" run -q --svg "$TMP/pics" "$TMP/bad1.pinmm" >"$TMP/out" 2>&1
[ $? = 2 ] && grep -q "bad1.pinmm:3: syntax error: snapshot NAME" "$TMP/out"
ok $? "snapshot ../x is a usage error at its line" "$TMP/out"
printf 'boot ram=64M\nproc P\nshow svg %s/no/such/dir/x.svg\n' "$TMP" >"$TMP/bad2.pinmm"
timeout 60 "$PINMM" run -q "$TMP/bad2.pinmm" >"$TMP/out" 2>&1
[ $? = 1 ] && grep -q "bad2.pinmm:3: show: ENOENT" "$TMP/out"
ok $? "show svg into a missing directory fails with ENOENT" "$TMP/out"
printf 'boot ram=64M\nproc P\nshow svg x.svg Q\n' >"$TMP/bad3.pinmm"
timeout 60 "$PINMM" run -q "$TMP/bad3.pinmm" >"$TMP/out" 2>&1
[ $? = 2 ] && grep -q "'Q' is not a live process" "$TMP/out"
ok $? "show svg of an unknown process is a usage error" "$TMP/out"
printf 'boot ram=64M\nproc P\nstep s nosuchcmd\n' >"$TMP/bad4.pinmm"
timeout 60 "$PINMM" run -q "$TMP/bad4.pinmm" >"$TMP/out" 2>&1
[ $? = 2 ] && grep -q "bad4.pinmm:3: syntax error: unknown command 'nosuchcmd'" "$TMP/out"
ok $? "step checks its command before the script runs" "$TMP/out"

# Without --svg or --html, snapshot and step write nothing; step still
# runs its command (and binds its value); show svg writes FILE in the cwd.
mkdir "$TMP/cwd"
printf 'boot ram=64M\nproc P\nsnapshot a\nstep m mmap 8K -> A\nexpect A > 0\nshow svg here.svg\n' \
	>"$TMP/cwd/plain.pinmm"
(cd "$TMP/cwd" && timeout 60 "$PINMM" run -q plain.pinmm) >"$TMP/out" 2>&1
[ $? = 0 ] && [ "$(ls "$TMP/cwd")" = "$(printf 'here.svg\nplain.pinmm')" ]
ok $? "without --svg only 'show svg FILE' writes, into the current directory" "$TMP/out"
python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$TMP/cwd/here.svg" \
	2>"$TMP/out"
ok $? "here.svg is well-formed" "$TMP/out"

# The example scripts with pictures run clean, and their pictures parse.
for ex in 09-fork-cow-pin 10-rdma-odp-pictures; do
	timeout 60 "$PINMM" run -q --svg "$TMP/$ex" --html "$TMP/$ex/report.html" \
		"$SRC/examples/$ex.pinmm" >"$TMP/out" 2>&1
	st=$?
	set -- "$TMP/$ex"/*.svg
	[ "$st" = 0 ] && [ $# -ge 4 ] && [ -s "$TMP/$ex/report.html" ]
	ok $? "examples/$ex.pinmm runs with --svg and --html ($# pictures, exit $st)" "$TMP/out"
	python3 -c 'import sys, xml.etree.ElementTree as E; [E.parse(f) for f in sys.argv[1:]]' \
		"$@" >"$TMP/out" 2>&1
	ok $? "examples/$ex.pinmm: every picture is well-formed" "$TMP/out"
done
# The README's picture is what the tool draws today (README says how to redo it).
cmp "$TMP/09-fork-cow-pin/02-fork.svg" "$SRC/doc/pictures/fork-cow-pin.svg" >"$TMP/out" 2>&1
ok $? "doc/pictures/fork-cow-pin.svg is current (regenerate it as README.md says)" "$TMP/out"

echo "1..$N"
[ "$FAILED" = 0 ]
