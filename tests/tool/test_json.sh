#!/bin/sh
# SPDX-License-Identifier: MIT
#
# test_json.sh - the pinmm tool's JSON and terminal output: every JSON it
# prints parses (python3's json module), strings from outside (file names
# with quotes, backslashes and control characters) come back unchanged,
# `pinmm run --json` records lines, outcomes, expectations and shows, and
# progress lines never reach a pipe.  Usage: test_json.sh PATH/TO/pinmm.
# Prints TAP.

PINMM=${1:?usage: test_json.sh PATH/TO/pinmm}
. "$(dirname "$0")/tap_lib.sh"

# py DESCRIPTION PROGRAM: run python3 PROGRAM with the output file as argv[1];
# it fails the test point by raising (an assert) or exiting non-zero.
py() {
	python3 -c "$2" "$TMP/out" >"$TMP/py" 2>&1
	r=$?
	[ $r = 0 ] || sed 's/^/# /' "$TMP/py"
	ok $r "$1"
}

# ---- outside strings through file_pins ... json ------------------------------
# The file name holds a quote, a backslash, a control character and a tab.
cat >"$TMP/esc.pinmm" <<'E'
boot ram=64M pmem=16M fs.pinned_policy=lease rlimit.memlock=unlimited
proc P
open "/dax/q\"b\\s\x01c\td" rdwr,creat -> F
pwrite F 0 0x61*16K
mmap 16K prot=rw flags=shared fd=F -> A
pd alloc -> PD
lease get F -> L
reg_mr PD A 16K -> MR
file_pins all json
dereg_mr MR
lease put L
pd dealloc PD
E
run 0 "file_pins json with a strange file name" run -q "$TMP/esc.pinmm"
py "file_pins json parses and keeps the name" '
import json, sys
line = [l for l in open(sys.argv[1]) if l.startswith("{")][0]
d = json.loads(line)
assert d["count"] == 1, d
assert d["file_pins"][0]["file"] == "/dax/q\"b\\s\x01c\td", d["file_pins"][0]["file"]
'

echo "1..$N"
[ "$FAILED" = 0 ]
