#!/bin/sh
# SPDX-License-Identifier: MIT
#
# test_cli.sh - the pinmm tool's own contract: exit statuses (0 success,
# 1 failed expectation or runtime failure, 2 usage or syntax error),
# FILE:LINE in messages, syntax checked before anything runs, TAP mode,
# stdin.  Usage: test_cli.sh PATH/TO/pinmm.  Prints TAP.

PINMM=${1:?usage: test_cli.sh PATH/TO/pinmm}
TAP_NAME=cli
. "$(dirname "$0")/tap_lib.sh"

# ---- usage ------------------------------------------------------------------
run 0 "pinmm help" help
has out "Usage: pinmm" "help prints usage"
run 0 "pinmm --help" --help
run 0 "pinmm run --help" run --help
has out "--tap" "run --help documents --tap"
run 0 "pinmm help commands" help commands
has out "expect" "help commands lists expect"
# Every group registered with SCRIPT_GROUP() is listed once, in its order,
# and the show/expect forms a group adds are appended to those commands.
for title in "Machines, processes and memory:" "Moving and merging memory:" "Files:" \
	     "Pinning (<pinmm/linux.h>):" "Swap and soft-dirty:" "Expectations:" "Output:" "Pictures:" "RDMA and MMU notifiers" \
	     "Layout leases and file_pin records" "Writeback, reclaim, migration" "O_DIRECT and io_uring" \
	     "The gup_test device" "Fault injection and introspection" "Pins owned by a file" \
	     "Observing for pinmm diff:" "Races: thread blocks"; do
	[ "$(grep -cF -- "$title" "$TMP/out")" = 1 ]
	ok $? "help commands lists the group '$title' once"
done
grep -F -- ":" "$TMP/out" | grep -v '^ ' | cut -d' ' -f1 | tr '\n' ' ' >"$TMP/order"
[ "$(cat "$TMP/order")" = "Machines, Moving Files: Writeback, Pinning Pins O_DIRECT The Swap Expectations: Observing Output: Pictures: RDMA Layout Fault Races: " ]
ok $? "help commands lists the groups in their order: $(cat "$TMP/order")"
has out "expect mr MR CHECK..." "the RDMA group adds 'expect mr' to expect's usage"
has out "show notifier N" "the RDMA group adds 'show notifier' to show's usage"
run 0 "pinmm version" version
# pinmm fuzz (doc/DIFF.md): usage errors exit 2; --print needs no host
# and is deterministic.
run 2 "fuzz without --diff" fuzz --seed 1 --count 1
run 2 "fuzz without --count" fuzz --diff --seed 1
run 2 "fuzz with a bad seed" fuzz --diff --seed x --count 1
run 2 "fuzz with an unknown option" fuzz --diff --seed 1 --count 1 --frob
run 2 "fuzz with an unreadable allow-list" fuzz --diff --seed 1 --count 1 --allow "$TMP/none"
run 0 "fuzz --print 3" fuzz --seed 1 --print 3
cp "$TMP/out" "$TMP/p3"
"$PINMM" fuzz --seed 1 --print 3 >"$TMP/p3b" 2>&1
cmp -s "$TMP/p3" "$TMP/p3b"
ok $? "fuzz: the same seed and index give the same program byte for byte"
"$PINMM" run "$TMP/p3" >"$TMP/out" 2>"$TMP/err"
ok $? "fuzz: a printed program is a script pinmm runs"
run 2 "no subcommand"
run 2 "unknown subcommand" frobnicate
has err "Try 'pinmm help'" "unknown subcommand hints at help"
run 2 "unknown run option" run --frob x.pinmm
run 2 "run without a file" run
run 2 "unreadable file" run "$TMP/does-not-exist.pinmm"

# ---- syntax errors: exit 2, FILE:LINE, nothing runs -------------------------
script syntax.pinmm <<'E'
echo SHOULD-NOT-PRINT
# a comment
frobnicate 1 2 3
E
run 2 "unknown command is a syntax error" run "$TMP/syntax.pinmm"
has err "syntax.pinmm:3: syntax error" "syntax error names FILE:LINE"
hasnt out "SHOULD-NOT-PRINT" "a script with a syntax error does not run at all"

script string.pinmm <<'E'
boot
echo "unterminated
E
run 2 "unterminated string" run "$TMP/string.pinmm"
has err "string.pinmm:2: syntax error: unterminated string" "unterminated string at FILE:LINE"

script bind.pinmm <<'E'
boot
munmap 0 4K -> X
E
run 2 "'-> NAME' on a command without a value" run "$TMP/bind.pinmm"
has err "bind.pinmm:2: syntax error" "bad binding names FILE:LINE"

script ename.pinmm <<'E'
expect error ENOTANERROR munmap 0 4K
E
run 2 "unknown error name" run "$TMP/ename.pinmm"

script undef.pinmm <<'E'
boot
proc P
store NOWHERE "x"
E
run 2 "undefined variable" run "$TMP/undef.pinmm"
has err "undef.pinmm:3: syntax error: undefined variable 'NOWHERE'" "undefined variable named"

# ---- success, failed expectations, runtime failures --------------------------
script good.pinmm <<'E'
boot ram=64M
proc P
mmap 8K -> A
store A "hello"
expect mem A == "hello"
load A 5 -> X
expect X == "hello"
expect A+4K == A+4096
expect error EFAULT load A+8K 1
E
run 0 "a passing script" run "$TMP/good.pinmm"
has out "4 expectations, 0 failed" "summary line counts expectations"

script fail.pinmm <<'E'
boot ram=64M
proc P
mmap 4K -> A
store A "hello"
expect mem A == "HELLO"
expect mem A == "hello"
echo STILL-RUNNING
E
run 1 "a failed expectation" run "$TMP/fail.pinmm"
has err "fail.pinmm:5: expectation failed" "failed expectation names FILE:LINE"
has err "observed \"hello\"" "failed expectation shows what was observed"
has out "STILL-RUNNING" "the script goes on after a failed expectation"

script runtime.pinmm <<'E'
boot ram=64M
proc P
mmap 4K -> A
munmap A 4K
load A 1
echo NOT-REACHED
E
run 1 "a failing call" run "$TMP/runtime.pinmm"
has err "runtime.pinmm:5: load: EFAULT (-14)" "runtime error names FILE:LINE, command and errno"
hasnt out "NOT-REACHED" "a failing call stops the script"

run 1 "worst status of several files" run "$TMP/good.pinmm" "$TMP/fail.pinmm"
run 2 "syntax error beats a failure" run "$TMP/fail.pinmm" "$TMP/syntax.pinmm"

# ---- TAP and stdin ------------------------------------------------------------
run 1 "--tap with one failure" run --tap "$TMP/fail.pinmm"
has out "not ok 1 - " "TAP: failed expectation is 'not ok'"
has out "ok 2 - " "TAP: passing expectation is 'ok'"
has out "1..2" "TAP: plan at the end"
! grep -qx "STILL-RUNNING" "$TMP/out"
ok $? "TAP: echo output is not a bare line"
has out "# STILL-RUNNING" "TAP: echo shows as a diagnostic"

run 2 "--tap with a syntax error" run --tap "$TMP/syntax.pinmm"
has out "not ok 1 - " "TAP: a syntax error is 'not ok'"

"$PINMM" run - <"$TMP/good.pinmm" >"$TMP/out" 2>"$TMP/err"
[ $? = 0 ]
ok $? "run - reads the script from stdin"
has out "<stdin>" "stdin is named <stdin>"

# ---- the runner's own limits: hostile input is an error at FILE:LINE --------
script ovf_add.pinmm <<'E'
let X = 9223372036854775807+1
E
run 2 "signed overflow in '+' is an error" run "$TMP/ovf_add.pinmm"
has err "ovf_add.pinmm:1: syntax error: arithmetic overflow in '+'" "overflow in '+' names FILE:LINE"

script ovf_div.pinmm <<'E'
let M = -9223372036854775807-1
let R = M%-1
expect R == 0
let Q = M/-1
E
run 2 "LLONG_MIN / -1 is an error, not SIGFPE" run "$TMP/ovf_div.pinmm"
has err "ovf_div.pinmm:4: syntax error: arithmetic overflow in '/'" "LLONG_MIN / -1 names FILE:LINE"
hasnt err "ovf_div.pinmm:3" "LLONG_MIN % -1 is 0"

script ovf_mul.pinmm <<'E'
let X = 4G*4G*4G
E
run 2 "signed overflow in '*' is an error" run "$TMP/ovf_mul.pinmm"
has err "arithmetic overflow in '*'" "overflow in '*' is named"

script ovf_neg.pinmm <<'E'
let M = -9223372036854775807-1
let N = -M
E
run 2 "negating LLONG_MIN is an error" run "$TMP/ovf_neg.pinmm"
has err "ovf_neg.pinmm:2: syntax error: arithmetic overflow in unary minus" "unary minus overflow named"

script ovf_suffix.pinmm <<'E'
let X = 0x7fffffffffffT
E
run 2 "a suffix that shifts a number out of range is an error" run "$TMP/ovf_suffix.pinmm"
has err "arithmetic overflow: number out of range" "suffix overflow named"

python3 -c "print('let X = ' + '(' * 200000 + '1' + ')' * 200000)" >"$TMP/nest.pinmm"
run 2 "deep nesting is refused, not a stack overflow" run "$TMP/nest.pinmm"
has err "nest.pinmm:1: syntax error: expression nested more than 64 deep" "nesting limit named"
python3 -c "print('let X = ' + '-' * 200000 + '1')" >"$TMP/neg.pinmm"
run 2 "deep unary minus is refused" run "$TMP/neg.pinmm"

script dma_far.pinmm <<'E'
boot ram=64M
proc P
mmap 4K -> A
store A "x"
pin A 1 FOLL_WRITE -> PG
dma write PG 9223372036854775800 "abcdefgh"
E
run 2 "dma offset near LLONG_MAX is refused, not a crash" run "$TMP/dma_far.pinmm"
has err "dma_far.pinmm:6: syntax error: dma range" "dma range error names FILE:LINE"

script dma_bigread.pinmm <<'E'
boot ram=64M
proc P
mmap 4K -> A
pin A 1 -> PG
dma read PG 0 1T -> X
E
run 2 "dma read longer than the pages is refused before allocating" run "$TMP/dma_bigread.pinmm"
has err "dma_bigread.pinmm:5: syntax error: dma range" "dma read range named"

script show_big.pinmm <<'E'
boot ram=64M
proc P
show page 0 1T
E
run 2 "show page has a bound" run "$TMP/show_big.pinmm"
has err "show_big.pinmm:3: syntax error: show page prints 1 to 4096 pages" "show page bound named"

script touch_far.pinmm <<'E'
boot ram=64M
proc P
touch 9223372036854771712 8K
E
run 2 "touch range that wraps is refused" run "$TMP/touch_far.pinmm"

# Found by fuzz_script (doc/FUZZING.md): "ops=2000t" (2000 Ti) made `peer wait`
# wait for 2.2*10^15 operations; a script's peer is bounded, and only one with
# ops=N may be waited for.
script peer_big.pinmm <<'E'
boot ram=64M
proc P
mmap 16K -> A
pd alloc -> PD
reg_mr PD A 16K access=LOCAL_WRITE,REMOTE_READ,REMOTE_WRITE -> MR
peer start PD MR A 16K op=412 write=0 ops=2000t -> PEER
peer wait PEER
E
run 2 "a peer's ops= has a bound" run "$TMP/peer_big.pinmm"
has err "peer_big.pinmm:6: syntax error: peer: ops=2199023255552000 out of range" "peer ops bound named"
script peer_forever.pinmm <<'E'
boot ram=64M
proc P
mmap 16K -> A
pd alloc -> PD
reg_mr PD A 16K access=LOCAL_WRITE,REMOTE_READ,REMOTE_WRITE -> MR
peer start PD MR A 16K stop_on_error -> PEER
peer wait PEER
E
run 2 "peer wait of a peer without ops= is refused" run "$TMP/peer_forever.pinmm"
has err "peer_forever.pinmm:7: syntax error: peer wait needs a peer started with ops=N" "unbounded wait named"
# ---- pinmm demo: the oracle and the verdicts (doc/DEMO.md) ---------------------
run 0 "demo --oracle-selftest" demo --oracle-selftest
has out "orphaned" "the oracle counts acknowledged writes into orphaned pages"

# linux refuses the RDMA registration: never a PASS, and not a failure either.
run 0 "demo linux/rdma --check" demo --quick --check --json --policy linux --case rdma
has out '"verdict": "refused"' "linux/rdma: verdict refused (JSON)"
hasnt out '"verdict": "PASS"' "linux/rdma: no PASS for a case that did not run"
run 0 "demo linux/rdma table" demo --quick --policy linux --case rdma
has out "refused, as Linux does: linux/rdma" "linux/rdma: 'refused, as Linux does'"
hasnt out "PASS linux/rdma" "linux/rdma: not printed as PASS"

# (d) the layout-lease outcomes: every row runs (real MRs), fail and
# unbreakable refuse the truncate, revoke invalidates the MR.
run 0 "demo --case lease --check" demo --quick --check --json --case lease
has out '"outcome": "revoke", "truncate": "0"' "lease: revoke lets the truncate through"
has out '"outcome": "unbreakable", "truncate": "ETXTBSY"' "lease: unbreakable refuses it"
has out '"revoked_mrs": 1' "lease: a revoked MR"
hasnt out '"error": "E' "lease: every row ran"
! grep -q '"misplaced": [1-9]' "$TMP/out"
ok $? "lease: no misplaced byte"
has out '"outcome": "fail", "truncate": "ETXTBSY"' "lease: fail refuses it"
hasnt out '"verdict": "FAIL"' "lease: every outcome's mechanism checked, none failed"

# The default demo runs table (d) after (a)-(c); --check judges its rows.
run 0 "demo --policy lease --check" demo --quick --check --json --policy lease
has out '"case": "lease", "mount": "/dax/", "outcome": "revoke"' "default demo: lease rows on /dax/"
has out '"case": "lease", "mount": "/data/", "outcome": "wait"' "default demo: lease rows on /data/"
hasnt out '"verdict": "FAIL"' "default demo: no lease row fails its promise"
run 0 "demo --policy lease (text)" demo --quick --policy lease
has out "(d) Layout leases" "default demo: table (d) printed"
has out "PASS /data/revoke: truncate 0 after the deadline" "default demo: lease verdicts printed"

# ---- run --trace: a Trace Event Format file (doc/TRACING.md) -------------------
script trace.pinmm <<'EOF2'
boot ram=64M
proc P
mmap 8K -> A
store A "x"
pin A 1 FOLL_WRITE fast -> PG
unpin PG
fork P C
store C A "y"
EOF2
run 0 "run --trace FILE" run --trace "$TMP/trace.json" "$TMP/trace.pinmm"
python3 - "$TMP/trace.json" >"$TMP/out" 2>"$TMP/err" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["displayTimeUnit"] == "ns", d["displayTimeUnit"]
assert d["otherData"]["dropped_events"] == 0, d["otherData"]
ev = d["traceEvents"]
names = [e["name"] for e in ev]
for want in ("process_name", "thread_name", "handle_mm_fault", "pin_user_pages_fast",
             "pin", "unpin", "copy_page_range", "wp_page_copy", "pinned"):
    assert want in names, want
tids = {e["tid"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
for e in ev:
    for k in ("name", "cat", "ph", "ts", "pid", "tid", "args"):
        assert k in e, (k, e)
    assert e["ph"] == "M" or e["tid"] in tids, e
    assert e["ph"] != "X" or e["dur"] >= 0, e
# the pin before the unpin, the fork before the child's COW copy
assert names.index("pin") < names.index("unpin")
assert names.index("copy_page_range") < names.index("wp_page_copy")
EOF2
ok $? "run --trace: the file parses, every event complete, pin < unpin < fork < COW"
run 2 "run --trace without FILE" run --trace
has err "needs a FILE" "run --trace without FILE: says so"

tap_done
