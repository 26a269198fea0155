#!/bin/sh
# SPDX-License-Identifier: MIT
#
# host_refuse.sh - the contract of `pinmm run --host` and `pinmm diff`:
# what the host cannot express is refused with "FILE:LINE: 'cmd' cannot run
# on the host: REASON" and exit 2 before anything runs (DAX, gup, audit, an
# unobservable page field); a failed expectation on the host is exit 1; a
# difference between the sides is exit 1 with both values, and exit 0 with
# "allowed: REASON" once it is on the allow-list; a host process that dies
# is reported with its signal, and no process or scratch file is left.
# Usage: host_refuse.sh PATH/TO/pinmm.  Prints TAP; 77 (SKIP) when the host
# cannot run scripts (host_env.sh).
PINMM=${1:?usage: host_refuse.sh PATH/TO/pinmm}
. "$(dirname "$0")/host_env.sh"
TAP_NAME=hostref
. "$(dirname "$0")/tap_lib.sh"	# $TMP, ok, run (60 s at most)

# has FILE PATTERN DESCRIPTION: grep -E PATTERN in the last run's FILE
# (tap_lib.sh's has matches a fixed string).
has() {
	grep -Eq "$2" "$TMP/$1"
	ok $? "$3"
}

printf 'boot ram=64M pmem=16M\nproc P\nmmap 4K -> A\n' >"$TMP/dax_boot.pinmm"
run 2 "a DAX machine (pmem=) is refused" run --host "$TMP/dax_boot.pinmm"
has err "dax_boot.pinmm:1: 'boot' cannot run on the host: pmem" "... with FILE:LINE, the command and the reason"

printf 'boot ram=64M\nproc P\nopen /dax/f rdwr,creat -> F\n' >"$TMP/dax_open.pinmm"
run 2 "a file on /dax/ is refused" run --host "$TMP/dax_open.pinmm"
has err "dax_open.pinmm:3: 'open' cannot run on the host: /dax/" "... naming /dax/"

printf 'boot ram=64M\nproc P\nmmap 4K -> A\nstore A "x"\ngup A 1 -> G\nput G\n' >"$TMP/gup.pinmm"
run 2 "gup (FOLL_GET) is refused before anything runs" run --host "$TMP/gup.pinmm"
has err "gup.pinmm:5: 'gup' cannot run on the host: plain GUP" "... with the reason"
has err "gup.pinmm:6: 'put' cannot run on the host" "... and every refused line is named"
run 2 "pinmm diff refuses it too" diff "$TMP/gup.pinmm"

printf 'boot ram=64M\nproc P\nmmap 4K -> A\nstore A "x"\nexpect page A writable\n' >"$TMP/field.pinmm"
run 2 "an unobservable page field is refused" run --host "$TMP/field.pinmm"
has err "field.pinmm:5: 'expect page' cannot run on the host: page field 'writable'" "... naming the field"

printf 'boot ram=64M\nproc P\nmmap 4K -> A\nstore A "right"\nexpect mem A == "wrong"\n' >"$TMP/wrong.pinmm"
run 1 "a wrong expectation fails on the host" run --host "$TMP/wrong.pinmm"
has err "wrong.pinmm:5: expectation failed" "... with FILE:LINE"
run 0 "... and both sides fail it alike: no difference" diff "$TMP/wrong.pinmm"

# pinmm's PFNs are small (64 MiB of RAM), the host's are not: a PFN used as
# a number is a difference, and the allow-list can excuse it.
printf 'boot ram=64M\nproc P\nmmap 4K -> A\nstore A "x"\nexpect page A pfn<16384\n' >"$TMP/pfn.pinmm"
run 1 "a PFN compared as a number differs" diff "$TMP/pfn.pinmm"
has out "pfn.pinmm:5: expectation: pinmm: passed; host: failed: pfn: expected < 16384" "... printed with FILE:LINE and both values"
printf '# test\npfn.pinmm:5 PFNs are relations, never numbers\n' >"$TMP/allow.txt"
run 0 "... and is allowed once on the allow-list" diff --allow "$TMP/allow.txt" "$TMP/pfn.pinmm"
has out "pfn.pinmm:5: allowed: PFNs are relations, never numbers" "... printed as allowed: REASON"

# The agent unmaps its own code and dies of SIGSEGV.
printf 'proc P\nmmap 4K -> A\nmunmap 0x1000 0x7fffffffd000\nstore A "x"\n' >"$TMP/dead.pinmm"
run 1 "a host process that dies is a runtime error, not a hang" run --host "$TMP/dead.pinmm"
has err "dead.pinmm:3: host process P died: pid [0-9]+ killed by signal 11" "... reported with its signal"

host_scratch >"$TMP/scratch-before"
printf 'proc P\nmmap 4K -> A\nfork P C\nfork C D\nopen /tmp/f rdwr,creat -> F\nmemfd "m" -> M\nexpect mem A == "never"\n' >"$TMP/left.pinmm"
run 1 "a script ending on a failed expectation" run --host "$TMP/left.pinmm"
sleep 0.2
pgrep -f "pinmm run --host $TMP/left.pinmm" >/dev/null
[ $? = 1 ]
ok $? "... leaves no host process behind"
host_scratch_left "$TMP/scratch-before" "$TMP/scratch-left"
ok $? "... nor its scratch directory" "$TMP/scratch-left"

echo "1..$N"
[ $FAILED = 0 ]
