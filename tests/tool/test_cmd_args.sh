#!/bin/sh
# SPDX-License-Identifier: MIT
#
# test_cmd_args.sh - bad arguments of the writeback/migration, O_DIRECT,
# io_uring, gup_test, fault-injection and introspection commands are
# syntax errors: exit 2 and FILE:LINE of the bad line, nothing after it
# runs.  (What the library refuses - EINVAL, EBADF, ... - is tested with
# `expect error` in tests/scenarios/.)  Usage: test_cmd_args.sh
# PATH/TO/pinmm.  Prints TAP.

PINMM=${1:?usage: test_cmd_args.sh PATH/TO/pinmm}
TAP_NAME=args
. "$(dirname "$0")/tap_lib.sh"

# bad LINE [MESSAGE]: LINE, as line 5 of a script, is a syntax error
# (exit 2) reported at bad.pinmm:5, with MESSAGE in it if given.
bad() {
	printf 'boot ram=64M\nproc P\nmmap 8K -> A\nlet Z = 0\n%s\necho AFTER\n' "$1" >"$TMP/bad.pinmm"
	timeout 60 "$PINMM" run "$TMP/bad.pinmm" >"$TMP/out" 2>"$TMP/err" </dev/null
	got=$?
	[ "$got" = 2 ] && grep -qF "bad.pinmm:5: syntax error: ${2:-}" "$TMP/err" &&
		! grep -q AFTER "$TMP/out"
	ok $? "'$1': exit $got, FILE:LINE${2:+, '$2'}"
}

bad "sync 1" "usage: sync"
bad "drop_caches 1" "usage: drop_caches"
bad "compact sideways" "compact: no field 'sideways'"
bad "migrate A" "usage: migrate"
bad "migrate A normal extra" "usage: migrate"
bad "offline_zone" "usage: offline_zone"
bad "split_thp" "usage: split_thp"
bad "thp_set thp" "usage: thp_set"
bad "pinned_vm" "pinned_vm needs '-> NAME'"
bad "dio sideways 3 A 4K 0 -> D" "usage: dio"
bad "dio read 3 A 4K -> D" "usage: dio"
bad "dio read 3 A 4K 0" "dio needs '-> NAME'"
bad "dio_done Z -> X" "'Z' is not a DIO request in flight"
bad "dio_wait NOPE" "'NOPE' is not a DIO request in flight"
bad "uring frob 3" "usage: uring"
bad "uring create 8" "usage: uring"
bad "uring register 3" "uring register: 1 to 16 ADDR LEN pairs"
bad "uring register 3 A" "uring register: 1 to 16 ADDR LEN pairs"
bad "uring read 3 1 2 3" "usage: uring"
bad "uring nr 3" "usage: uring"
bad "uring unregister 3 -> X" "usage: uring"
bad "uring exit 3" "usage: uring"
bad "gup_test open" "usage: gup_test"
bad "gup_test pin_basic 3 A" "usage: gup_test"
bad "gup_test sideways 3 A 4K" "usage: gup_test"
bad "gup_test pin_basic 3 A 4K which=1,2,3,4,5,6,7,8,9" "which= takes at most 8 pages"
bad "gup_test pin_basic 3 A 4K flags=SIDEWAYS" "unknown flag 'SIDEWAYS'"
bad "gup_test pin_basic 3 A 4K per_call=-1" "per_call=-1 out of range"
bad "gup_test longterm_start 3 A 4K sideways" "usage: gup_test"
bad "gup_test longterm_stop 3 4" "usage: gup_test"
bad "gup_test close 3 -> X" "usage: gup_test"
bad "fail" "usage: fail"
bad "fail nth" "usage: fail"
bad "fail left" "usage: fail"
bad "fail set fail.times" "usage: fail"
bad "pinfs stat -> X" "usage: pinfs"
bad "pinfs stat writes" "usage: pinfs"
bad "pinfs inject write 0" "usage: pinfs"
bad "fsck" "usage: fsck"
bad "fsck /nowhere sideways" "usage: fsck"
bad "fstatfs 3 -> X" "usage: fstatfs"
bad "memmap sideways -> X" "memmap has no field 'sideways'"
bad "memmap nr_pages" "memmap needs '-> NAME'"
bad "version 1" "usage: version"
bad "kmap write NOPE 0 \"x\"" ""
bad "unpin NOPE folio=0" ""

tap_done
