#!/bin/sh
# SPDX-License-Identifier: MIT
#
# host_refuse.sh - the contract of `pinmm run --host` and `pinmm diff`:
# what the host cannot express is refused with "FILE:LINE: 'cmd' cannot run
# on the host: REASON" and exit 2 before anything runs (DAX, gup, audit, an
# unobservable page field); a failed expectation on the host is exit 1; a
# difference between the sides is exit 1 with both values, and exit 0 with
# "allowed: REASON" once it is on the allow-list; a host process that dies
# is reported with its signal, and no process or scratch file is left; a
# malformed line is the same FILE:LINE syntax error on both sides.
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

# One parser per command (tool.h's parse steps): a bad line is the same
# FILE:LINE syntax error under `run` and `run --host` (\n separates the
# lines of a case).  A host handler that parses its words again by itself
# drifts from the simulated one, and fails here.
same_error() {
	printf 'boot ram=64M\nproc P\nmmap 4K -> A\n%b\n' "$1" >"$TMP/same.pinmm"
	timeout 60 "$PINMM" run "$TMP/same.pinmm" >/dev/null 2>"$TMP/sim.err" </dev/null
	sim=$?
	timeout 60 "$PINMM" run --host "$TMP/same.pinmm" >/dev/null 2>"$TMP/host.err" </dev/null
	host=$?
	[ $sim = 2 ] && [ $host = 2 ] && grep -q "same.pinmm:[4-9]: syntax error: " "$TMP/sim.err" &&
		cmp -s "$TMP/sim.err" "$TMP/host.err"
	ok $? "'$(printf '%s' "$1" | sed 's/\\n/; /g')': one FILE:LINE error on both sides" \
		"$TMP/sim.err" "$TMP/host.err"
}
same_error 'munmap A 4K 3'
same_error 'mprotect A 4K bogus'
same_error 'madvise A 4K'
same_error 'pageout A zz'
same_error 'mremap A 4K 8K fixed=zz'
same_error 'mremap A 4K -8K'
same_error 'touch A 4K bogus'
same_error 'load A 100M -> X'
same_error 'memfd "m" bogus'
same_error 'pread 3 0 100M -> X'
same_error 'fallocate 3 bogus 0 4K'
same_error 'clear_refs zz'
same_error 'expect page A bogusfield'
same_error 'info A zone -> X'
same_error 'show page A 5000'
same_error 'expect vmstat nr_foll_pin_acquired ~ 1'
same_error 'proc a-b'
same_error 'fork P 9x'
same_error 'store A "x"\npin A 1 LONGTERM,WRITE -> PG\nexpect pages PG bogus=1'
same_error 'pin A zz LONGTERM,WRITE -> PG'
same_error 'pin A 1 LONGTERM,BOGUS -> PG'
same_error 'pin A 2000000 LONGTERM,WRITE -> PG'

# ---- run --host --json: show page and show vmstat are recorded as data -----------
cat > "$TMP/hostjson.pinmm" <<'EOF2'
boot ram=64M
proc P
mmap 8K -> A
store A "x"
show page A 2
show vmstat nr_foll
EOF2
timeout 60 "$PINMM" run --host --json "$TMP/hostjson.pinmm" >"$TMP/hostjson.out" 2>"$TMP/hostjson.err" </dev/null
python3 - "$TMP/hostjson.out" <<'EOF2' >"$TMP/hostjson.chk" 2>&1
import json, sys
doc = json.load(open(sys.argv[1]))
shows = {}
def walk(o):
    if isinstance(o, dict):
        if "show" in o and "data" in o:
            shows[o["show"]] = o["data"]
        for v in o.values():
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(doc)
page, vm = shows["page"], shows["vmstat"]
assert page["host"] is True and len(page["pages"]) == 2, page
p0, p1 = page["pages"]
assert p0["present"] is True and p0["anon"] is True and isinstance(p0["pfn"], int), p0
assert p1["vma"] is True and p1["present"] is False, p1
assert isinstance(vm["nr_foll_pin_acquired"], int) and "nr_foll_pin_released" in vm, vm
EOF2
ok $? "run --host --json: show page and show vmstat as typed data" "$TMP/hostjson.chk" "$TMP/hostjson.err"

echo "1..$N"
[ $FAILED = 0 ]
