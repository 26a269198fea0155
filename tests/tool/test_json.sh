#!/bin/sh
# SPDX-License-Identifier: MIT
#
# test_json.sh - the pinmm tool's JSON and terminal output: every JSON it
# prints parses (python3's json module), strings from outside (file names
# with quotes, backslashes and control characters) come back unchanged,
# `pinmm run --json` records lines, outcomes, expectations and every show
# form as typed data, `pinmm demo --trace` writes one Trace Event Format
# file per machine, and progress lines never reach a pipe.  Usage: test_json.sh PATH/TO/pinmm.
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

# ---- pinmm run --json -----------------------------------------------------------
cat >"$TMP/rj.pinmm" <<'E'
boot ram=64M pin.provenance=1
proc P
mmap 16K prot=rw flags=private,anonymous -> A
store A "hi"
pin A 2 FOLL_WRITE|FOLL_LONGTERM -> PG
show page A 5
expect page A pincount==1 present
expect page A pincount==5
show vmstat nr_foll_pin
expect 2 == 3
expect error EFAULT store 0 "x"
show owners
unpin PG
E
cat >"$TMP/rj_err.pinmm" <<'E'
boot ram=64M
proc P
store 0 "x"
echo never
E
run 1 "run --json: failed expectations and a failed call" run --json "$TMP/rj.pinmm" "$TMP/rj_err.pinmm"
# json.load reads the whole stdout: no text line may be mixed into it.
py "run --json: lines, outcomes, expectations and shows" '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "fail" and d["exit"] == 1, d["status"]
a, b = d["scripts"]
assert a["path"].endswith("rj.pinmm") and a["status"] == "fail", a["status"]
assert a["expectations"] == 4 and a["failed"] == 2, (a["expectations"], a["failed"])
lines = a["lines"]
assert [l["line"] for l in lines] == list(range(1, 14)), [l["line"] for l in lines]
assert all(l["outcome"] == "ok" for l in lines), lines
by = {l["line"]: l for l in lines}
assert by[5]["command"] == "pin" and by[5]["bind"] == "PG"
e = by[7]["expectations"][0]
assert e["result"] == "pass" and e["line"] == 7 and e["file"].endswith("rj.pinmm"), e
assert e["expected"] == "pincount==1 present" and e["observed"] == "pincount=1 present=1", e
e = by[8]["expectations"][0]
assert e["result"] == "fail" and e["expected"] == "pincount==5" and e["observed"] == "pincount=1", e
e = by[10]["expectations"][0]
assert e["result"] == "fail" and e["expected"] == "== 3" and e["observed"] == "2", e
e = by[11]["expectations"][0]
assert e["result"] == "pass" and e["expected"] == "EFAULT" and e["observed"] == "EFAULT", e
sh = by[6]["shows"][0]
pg = sh["data"]["pages"]
assert sh["show"] == "page" and len(pg) == 5, sh
assert pg[0]["present"] is True and pg[0]["pincount"] == 1 and pg[0]["maybe_dma_pinned"], pg[0]
assert pg[1]["pincount"] == 1 and pg[1]["addr"] - pg[0]["addr"] == 4096, pg[1]
assert pg[2]["present"] is False and pg[2]["vma"] is True and pg[2]["pincount"] == 0, pg[2]
assert pg[4]["vma"] is False and "present" not in pg[4], pg[4]
v = by[9]["shows"][0]["data"]
assert v == {"nr_foll_pin_acquired": 2, "nr_foll_pin_released": 0}, v
ow = by[12]["shows"][0]["data"]
assert ow["provenance"] is True and len(ow["owners"]) == 2, ow
assert b["status"] == "fail" and [l["line"] for l in b["lines"]] == [1, 2, 3], b["lines"]
l3 = b["lines"][2]
assert l3["outcome"] == "error" and l3["errno"] == 14 and l3["error"] == "EFAULT", l3
assert b["errors"] and b["errors"][0]["line"] == 3, b["errors"]
'
run 1 "run --json=FILE keeps the text output" run --json="$TMP/r.json" "$TMP/rj.pinmm"
has out "nr_foll_pin_acquired 2" "run --json=FILE: the show text is on stdout"
cp "$TMP/r.json" "$TMP/out"
py "run --json=FILE: the document is in FILE" '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["scripts"][0]["failed"] == 2
'
run 2 "run --tap --json: both want stdout" run --tap --json "$TMP/rj.pinmm"

# ---- every show form as typed data ----------------------------------------------
# One script shows each form; the check asserts each one's fields with their
# JSON types (numbers are int, flags bool, lists list), so a form that went
# back to text, or a new form without data, fails here.
cat >"$TMP/shows.pinmm" <<'E'
boot ram=64M pmem=16M fs.pinned_policy=lease rlimit.memlock=unlimited
proc P
open /dax/f rdwr,creat -> F
pwrite F 0 0x61*16K
mmap 16K prot=rw flags=shared fd=F -> A
pd alloc -> PD
lease get F -> L
reg_mr PD A 16K -> MR
mmap 16K prot=rw flags=private,anonymous -> B
store B "x"
notify B 16K -> N
munmap B+8K 4K
peer start PD MR A 16K op=512 write=100 ops=10 -> PEER
peer wait PEER
pin A 1 FOLL_WRITE -> PG
show mr MR
show pd PD
show peer PEER
show notifier N
show lease L
show svg pic.svg P
show svg cache.svg cache F
file_pins all json
file_pins P
show page A
show vmstat nr_foll_pin
show pages PG
show config ram
show vars
show owners
unpin PG
unnotify N
dereg_mr MR
lease put L
pd dealloc PD
E
RUN_DIR=$TMP run 0 "run --json: a script showing every form" run --json "$TMP/shows.pinmm"
"$PINMM" help commands >"$TMP/help" 2>&1
py "run --json: every show form is typed data, none is text" '
import json, re, sys
d = json.load(open(sys.argv[1]))
shows = {}
for l in d["scripts"][0]["lines"]:
    for s in l["shows"]:
        assert set(s) == {"show", "data"} and type(s["data"]) is dict, s
        assert "text" not in s["data"], s
        shows.setdefault(s["show"], []).append((l["line"], s["data"]))
forms = set(re.findall(r"\bshow (\w+)", open(sys.argv[1].replace("out", "help")).read()))
assert forms and forms <= set(shows), ("forms without data", forms - set(shows))
def typed(o, kind, *keys):
    for k in keys:
        assert k in o, (k, o)
        assert type(o[k]) is kind, (k, type(o[k]).__name__, kind.__name__, o)
mr = shows["mr"][0][1]
typed(mr, str, "name")
typed(mr, int, "key", "iova", "length", "access", "pages", "pinned", "mapped",
      "device_faults", "invalidations", "inflight", "target_pid")
typed(mr, bool, "odp", "remote", "lease_revoked")
assert mr["name"] == "MR" and mr["pages"] == 4 and mr["pinned"] == 4 and mr["odp"] is False, mr
assert mr["access_flags"] == ["LOCAL_WRITE", "REMOTE_WRITE", "REMOTE_READ"], mr
pd = shows["pd"][0][1]
typed(pd, int, "pid", "pd", "reads", "writes", "bytes_written", "refused", "mrs",
      "mrs_registered", "invalidations", "events_lost")
assert pd["writes"] == 10 and pd["bytes_written"] == 5120 and pd["mrs"] == 1, pd
pe = shows["peer"][0][1]
typed(pe, int, "ops", "reads", "writes", "refused", "sweeps")
typed(pe, bool, "running")
typed(pe, str, "name", "last_error")
assert pe["ops"] == 10 and pe["running"] is False and pe["last_error"] == "OK", pe
no = shows["notifier"][0][1]
typed(no, int, "start", "end", "events", "last_start", "last_end", "read_only", "UNMAP")
typed(no, bool, "stale")
typed(no, str, "name", "last")
typed(no, list, "log")
assert no["events"] == 1 and no["UNMAP"] == 1 and no["last"] == "UNMAP", no
assert no["end"] - no["start"] == 16384 and no["last_end"] - no["last_start"] == 4096, no
assert no["log"] == [{"n": 1, "event": "UNMAP", "start": no["last_start"], "end": no["last_end"]}], no
le = shows["lease"][0][1]
typed(le, int, "breaks", "etxtbsy", "lease_pins", "file_pins")
typed(le, bool, "writable", "broken", "revoked")
typed(le, str, "name", "state", "why")
assert le["state"] == "active" and le["file_pins"] == 1 and le["broken"] is False, le
(l1, a), (l2, c) = shows["svg"]
assert a["picture"] == "address_space" and a["file"] == "pic.svg", a
assert a["processes"] == [{"name": "P", "pid": pd["pid"]}], a
assert c["picture"] == "page_cache" and c["file"] == "cache.svg" and type(c["fd"]) is int, c
(l1, j), (l2, t) = shows["file_pins"]
for fp in (j, t):
    assert fp["count"] == 1 and type(fp["file_pins"]) is list, fp
    r = fp["file_pins"][0]
    typed(r, int, "pid", "addr", "pages", "age_ms")
    typed(r, bool, "writable", "revoked")
    typed(r, str, "file", "owner")
    assert r["file"] == "/dax/f" and r["pages"] == 4 and r["addr"] == mr["iova"], r
pg = shows["pages"][0][1]
assert pg["name"] == "PG" and pg["pinned"] is True and len(pg["pages"]) == 1, pg
typed(pg["pages"][0], int, "pfn", "refcount")
typed(pg["pages"][0], bool, "maybe_dma_pinned")
assert shows["config"][0][1] == {"ram": "64M"}, shows["config"]
assert shows["vars"][0][1]["PD"] == pd["pd"], shows["vars"]
typed(shows["owners"][0][1], bool, "provenance")
'

# ---- pinmm demo --trace: every machine's trace --------------------------------------
# One run (linux, dio) boots twice: the workload, then the remount the oracle
# reads.  Each machine writes its own Trace Event Format file, named as run
# --trace names them; the JSON rows say which.
run 0 "demo --trace with --json" demo --quick --policy linux --case dio --json \
	--trace "$TMP/dt.json"
py "demo --trace: one file per machine, named in the rows, in Trace Event Format" '
import json, os, sys
rows = json.load(open(sys.argv[1]))
d = os.path.dirname(sys.argv[1])
files = [os.path.join(d, "dt.json"), os.path.join(d, "dt-2.json")]
assert len(rows) == 1 and rows[0]["traces"] == files, rows[0].get("traces")
docs = [json.load(open(f)) for f in files]
for doc in docs:
    ev, od = doc["traceEvents"], doc["otherData"]
    assert od["generator"] == "pinmm" and od["dropped_events"] == 0, od
    assert ev[0]["ph"] == "M" and ev[0]["name"] == "process_name", ev[0]
    real = [e for e in ev if e["ph"] != "M"]
    assert len(real) == od["events"], (len(real), od["events"])
    for e in ev:
        assert {"name", "cat", "ph", "ts", "pid", "tid", "args"} <= set(e), e
        assert e["ph"] in "MXiC" and (e["ph"] != "X" or e["dur"] >= 0), e
    last = {}
    for e in real:
        assert e["ts"] >= last.get(e["tid"], 0), ("ts goes back on a track", e)
        last[e["tid"]] = e["ts"]
ev = docs[0]["traceEvents"]
tracks = {e["tid"]: e["args"]["name"] for e in ev if e["name"] == "thread_name"}
dio = [e for e in ev if e["name"] == "dio_transfer"]
assert dio and all(tracks[e["tid"]] == "dio engine" for e in dio), (tracks, dio[:1])
names = [e["name"] for e in ev]
for want in ("pin_user_pages_fast", "pin", "unpin", "writeback_folio", "handle_mm_fault"):
    assert want in names, want
assert names.index("pin") < names.index("unpin"), "an unpin before the first pin"
pins = [e for e in ev if e["name"] == "pin"]
spans = [e for e in ev if e["name"] == "pin_user_pages_fast"]
for p in pins:   # each pin instant inside a GUP-fast span of its thread
    assert any(s["tid"] == p["tid"] and s["ts"] <= p["ts"] <= s["ts"] + s["dur"] for s in spans), p
assert docs[1]["otherData"]["events"] >= 0
'
run 0 "demo --trace in text" demo --quick --policy linux --case dio --trace "$TMP/dt.json"
has out "Traces (Trace Event Format, doc/TRACING.md): 2 machines, $TMP/dt.json to $TMP/dt-2.json" \
	"demo --trace: the text names the files"
run 2 "demo --trace without FILE is a usage error" demo --quick --trace

# ---- progress lines: on a terminal only ------------------------------------------
# noprogress FILE WHAT: FILE has neither a carriage return nor an escape.
noprogress() {
	! grep -q "$(printf '[\r\033]')" "$TMP/$1"
	ok $? "$2"
}
run 0 "demo with stderr in a file" demo --quick --policy linux --case rdma
noprogress err "demo: no progress bytes when stderr is not a terminal"
run 0 "tracking with stderr in a file" tracking --race-seconds 0.2
noprogress err "tracking: no progress bytes when stderr is not a terminal"
if command -v script >/dev/null 2>&1; then
	# script(1) gives the command a pseudo-terminal; its output is what the
	# terminal received.
	timeout 60 script -qec "'$PINMM' demo --quick --policy linux --case rdma" /dev/null \
		>"$TMP/out" 2>"$TMP/err" </dev/null
	ok $? "demo on a terminal (script -qec)"
	grep -q "$(printf '\r')pinmm demo: \[1/1\] linux/rdma" "$TMP/out"
	ok $? "demo on a terminal: a progress line, rewritten in place"
	grep -q "$(printf '\r\033')\[K" "$TMP/out"
	ok $? "demo on a terminal: the line is erased before the results"
else
	N=$((N + 1))
	echo "ok $N - demo on a terminal # SKIP script(1) not installed"
fi

echo "1..$N"
[ "$FAILED" = 0 ]
