#!/bin/sh
# SPDX-License-Identifier: MIT
#
# test_html_report.sh - the HTML reports in a real browser.  Writes the
# report of a run (svg_states.pinmm plus a script with a failed
# expectation, drawing the timeline of trace_fixture.json) and of a short
# demo (`pinmm demo --quick --html`: tables (a)-(c) and the lease table (d),
# each with its bar charts), opens each in headless Chromium
# (--dump-dom and --screenshot, each under `timeout`), and fails on any
# console message in Chromium's log or any error the page's own script
# caught (#js-errors), when the page's script did not run (#js-status), or
# when an expected element is missing from the DOM.  A broken copy of the
# report shows the checks catch a JavaScript error.  Then the examples of
# the three cases (09 fork/COW, 10 RDMA/ODP, 11 Kara's 2018 loss) run with
# --trace, --svg and --html, and their reports are checked the same way,
# timeline included; a script that boots twice gets two timelines.  Screenshots go to
# OUTDIR.  Usage: test_html_report.sh PINMM SRCDIR OUTDIR.  Prints TAP;
# exit 77 (skip) without chromium.

PINMM=${1:?usage: test_html_report.sh PINMM SRCDIR OUTDIR}
SRC=${2:?usage: test_html_report.sh PINMM SRCDIR OUTDIR}
OUT=${3:?usage: test_html_report.sh PINMM SRCDIR OUTDIR}
case $PINMM in /*) ;; *) PINMM=$PWD/$PINMM ;; esac
CHROMIUM=$(command -v chromium || command -v chromium-browser)
if [ -z "$CHROMIUM" ]; then
	echo "1..0 # SKIP chromium is not installed (scripts/install-deps.sh installs it)"
	exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pinmm-html.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
mkdir -p "$OUT" || exit 1
ulimit -f 409600
. "$SRC/tests/tool/tap_lib.sh"

# browse NAME PAGE: dump PAGE's DOM into $TMP/NAME.dom (Chromium's log in
# NAME.log) and screenshot it into $OUT/NAME.png, each within 90 s.
browse() {
	timeout 90 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$TMP/profile" --enable-logging=stderr --v=0 \
		--dump-dom "file://$2" >"$TMP/$1.dom" 2>"$TMP/$1.log"
	ok $? "chromium dumps the DOM of $1 within 90 s" "$TMP/$1.log"
	timeout 90 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$TMP/profile" --hide-scrollbars --window-size=1200,2000 \
		--screenshot="$OUT/$1.png" "file://$2" >"$TMP/$1.shot.log" 2>&1
	[ $? = 0 ] && [ -s "$OUT/$1.png" ]
	ok $? "chromium saves the screenshot $OUT/$1.png" "$TMP/$1.shot.log"
}

# clean NAME: the page ran its script, caught no error, logged nothing.
# Chromium logs every console message as CONSOLE (at INFO, whatever its
# level); the pages log none, so any such line is a failure.
clean() {
	grep -q '<span id="js-status">js-ok</span>' "$TMP/$1.dom"
	ok $? "$1: the page's script ran (#js-status js-ok)" "$TMP/$1.log"
	! grep -q 'class="js-error"' "$TMP/$1.dom"
	ok $? "$1: no JavaScript error or console.error caught in the page" "$TMP/$1.dom"
	! grep -q 'CONSOLE' "$TMP/$1.log"
	ok $? "$1: no console message in Chromium's log" "$TMP/$1.log"
}

# dom_has NAME PATTERN WHAT: the dumped DOM of NAME matches PATTERN (grep -E).
dom_has() {
	grep -Eq -- "$2" "$TMP/$1.dom"
	ok $? "$1: $3"
}

# The run: known states, pictures, a failed expectation, the fixture trace.
printf 'boot ram=64M\nproc P\nmmap 8K -> A\nexpect A == 1\n' >"$TMP/fails.pinmm"
timeout 120 "$PINMM" run -q --html "$TMP/run.html" --svg "$TMP/svg" \
	--timeline "$SRC/tests/tool/trace_fixture.json" \
	"$SRC/tests/tool/svg_states.pinmm" "$TMP/fails.pinmm" >"$TMP/run.out" 2>&1
st=$?
[ "$st" = 1 ] && [ -s "$TMP/run.html" ]
ok $? "pinmm run --html writes the report; the failed expectation makes it exit 1 ($st)" \
	"$TMP/run.out"
! grep -Eq '<(script|link|img|iframe)[^>]+(src|href)=' "$TMP/run.html"
ok $? "run.html loads nothing: no src= or href= on script, link, img, iframe"
browse run "$TMP/run.html"
clean run
dom_has run '<table id="script-table">' "the script table"
dom_has run '<tr class="line ok">.*svg_states.pinmm:11</td><td><code>expect page T folio_order=9' \
	"a line whose expectation held is ok"
dom_has run '<tr class="line failed">.*fails.pinmm:4</td>' "the failed expectation is a failed row"
dom_has run 'class="detail">[^<]*1' "the failed row shows the values"
dom_has run '<figure class="picture" id="pic-1">' "the first picture"
dom_has run '<figure class="picture" id="pic-4">' "every picture (4)"
dom_has run 'class="pinmm-picture before"' "the before half of the step pair"
dom_has run 'class="page present anon excl pinned"' "a pinned page cell inside a picture"
dom_has run '<svg[^>]+id="timeline-svg-1"' "the timeline"
dom_has run '<rect class="span"' "spans of the trace"
dom_has run '<path class="instant"' "instants of the trace"
dom_has run '<polyline class="counter"' "counters of the trace"
dom_has run '<text x="4" y="[0-9]+">writeback</text>' "tracks named by thread_name metadata"
dom_has run 'timeline-summary">3 tracks, 5 spans, 2 instants, 5 counter samples' \
	"every event of the fixture drawn"
dom_has run 'id="js-summary">[0-9]+ lines run, 1 not ok' "the page's script counted the rows"

# A script that boots two machines: two trace files, two timelines, in order.
cat >"$TMP/two.pinmm" <<'EOF2'
boot ram=64M
proc P
mmap 16K prot=rw flags=private,anonymous -> A
store A "hi"
pin A 1 FOLL_WRITE -> PG
unpin PG
shutdown
boot ram=64M
proc Q
mmap 8K prot=rw flags=private,anonymous -> B
store B "x"
EOF2
timeout 60 "$PINMM" run -q --trace "$TMP/two.json" --html "$TMP/two.html" "$TMP/two.pinmm" \
	>"$TMP/two.out" 2>&1
st=$?
[ "$st" = 0 ] && [ -s "$TMP/two.json" ] && [ -s "$TMP/two-2.json" ]
ok $? "a script booting twice writes two traces (exit $st)" "$TMP/two.out"
browse two "$TMP/two.html"
clean two
[ "$(grep -Eo '<svg[^>]+class="timeline"' "$TMP/two.dom" | wc -l)" = 2 ]
ok $? "two: two timelines, one per machine" "$TMP/two.dom"
dom_has two '<svg[^>]+id="timeline-svg-1"' "the first machine's timeline"
dom_has two '<svg[^>]+id="timeline-svg-2"' "the second machine's timeline"
dom_has two "Machine 2: <code>[^<]*two-2.json</code>" "the second timeline draws two-2.json"
python3 - "$TMP/two.dom" >"$TMP/two.py" 2>&1 <<'EOF2'
import re, sys
dom = open(sys.argv[1]).read()
s = re.findall(r'timeline-summary">(\d+) tracks, (\d+) spans, (\d+) instants', dom)
assert len(s) == 2, s
# machine 1 pinned and unpinned (two instants), machine 2 did not
assert int(s[0][2]) == 2 and int(s[1][2]) == 0, s
assert all(int(x[1]) > 0 for x in s), s
assert dom.index('id="timeline-svg-1"') < dom.index('id="timeline-svg-2"')
EOF2
ok $? "two: each timeline drew its own machine's events (pins on the first only)" "$TMP/two.py"

# A run without a trace says so.
timeout 60 "$PINMM" run -q --html "$TMP/plain.html" "$TMP/fails.pinmm" >/dev/null 2>&1
grep -q 'class="no-trace"' "$TMP/plain.html"
ok $? "without a trace the timeline section says so"

# The checks catch a broken page: the report with a script error added.
sed 's|</body>|<script>noSuchFunction();</script></body>|' "$TMP/run.html" >"$TMP/broken.html"
browse broken "$TMP/broken.html"
grep -q 'class="js-error">[^<]*noSuchFunction' "$TMP/broken.dom"
ok $? "broken: the page records the uncaught error in #js-errors" "$TMP/broken.dom"
grep -q 'CONSOLE.*noSuchFunction' "$TMP/broken.log"
ok $? "broken: Chromium's log has the console message" "$TMP/broken.log"

# The demo: policy tables and bar charts from its measured results.
timeout 300 "$PINMM" demo --quick --html "$TMP/demo.html" >"$TMP/demo.out" 2>&1
st=$?
[ "$st" = 0 ] && [ -s "$TMP/demo.html" ]
ok $? "pinmm demo --quick --html writes its page (exit $st)" "$TMP/demo.out"
browse demo "$TMP/demo.html"
clean demo
dom_has demo '<section id="policy-table">' "the policy section"
for c in dio rdma odp; do
	dom_has demo "<table class=\"policy-table\" id=\"policy-table-$c\">" "the $c table"
	for m in stall lost misplaced throughput; do
		dom_has demo "<svg[^>]+class=\"bar-chart\" id=\"chart-$m-$c\"" "the $m chart of $c"
	done
done
dom_has demo '<rect class="bar" x=' "at least one nonzero bar"
# The text table and the page agree: legacy+bug loses data in the dio case.
grep -A12 'DIO' "$TMP/demo.out" | grep -Eq '^ +legacy +bug +DATA LOSS'
ok $? "demo text: legacy+bug loses data on dio" "$TMP/demo.out"
dom_has demo '<tr><td>legacy\+bug</td><td>DATA LOSS</td>' "demo page: the same row says DATA LOSS"
# Table (d), the layout-lease outcomes, with its charts; it agrees with the text.
dom_has demo '<table class="policy-table" id="policy-table-lease">' "table (d), the lease outcomes"
for m in stall misplaced lost after; do
	dom_has demo "<svg[^>]+class=\"bar-chart\" id=\"chart-$m-lease\"" "the $m chart of (d)"
done
grep -Eq '^ +/dax/ +unbreakable +ETXTBSY ' "$TMP/demo.out"
ok $? "demo text: (d) /dax/ unbreakable refuses the truncate with ETXTBSY" "$TMP/demo.out"
dom_has demo '<tr><td>/dax/</td><td>unbreakable</td><td class="num">ETXTBSY</td>' \
	"demo page: the same row of (d) says ETXTBSY"
[ "$(grep -o '<tr><td>/[a-z]*/</td>' "$TMP/demo.dom" | wc -l)" = 10 ]
ok $? "demo page: (d) has its ten rows (two mounts, four outcomes and ODP)"

# The three cases as example scripts, each with a trace, pictures and a
# report: fork/COW with pins (09), RDMA and ODP (10), Kara's 2018 data loss
# under every pin policy (11; every machine of the run keeps its trace).
for ex in 09-fork-cow-pin 10-rdma-odp-pictures 11-kara-2018; do
	mkdir -p "$TMP/$ex"
	timeout 120 "$PINMM" run -q --trace "$TMP/$ex/trace.json" --svg "$TMP/$ex/svg" \
		--html "$TMP/$ex/report.html" "$SRC/examples/$ex.pinmm" >"$TMP/$ex.out" 2>&1
	ok $? "$ex runs with --trace, --svg and --html" "$TMP/$ex.out"
	python3 - "$TMP/$ex" >"$TMP/$ex.py" 2>&1 <<'EOF2'
import glob, json, os, sys
import xml.etree.ElementTree as ET
d = sys.argv[1]
ev = json.load(open(os.path.join(d, "trace.json")))["traceEvents"]
names = {e["name"] for e in ev}
for want in ("handle_mm_fault", "pin", "unpin"):
    assert want in names, want
pics = sorted(glob.glob(os.path.join(d, "svg", "*.svg")))
assert len(pics) >= 2, pics
for p in pics:
    ET.parse(p)
html = open(os.path.join(d, "report.html")).read()
assert html.count('<figure class="picture"') == len(pics), (html.count('<figure class="picture"'), len(pics))
assert 'class="no-trace"' not in html
import re
traces = glob.glob(os.path.join(d, "trace*.json"))
n = len(re.findall(r'<svg[^>]+class="timeline"', html))
assert n == len(traces) and 'class="trace-error"' not in html, (n, traces)
EOF2
	ok $? "$ex: the trace has faults, pins and unpins; every picture parses and is in the report; one timeline per trace file" \
		"$TMP/$ex.py"
	browse "$ex" "$TMP/$ex/report.html"
	clean "$ex"
	dom_has "$ex" '<svg[^>]+id="timeline-svg-1"' "the timeline of the run's (first) trace"
	dom_has "$ex" '<rect class="span"' "spans in the timeline"
done

# The README's picture is the one example 09 draws today (README.md says how
# to regenerate it).
cmp -s "$TMP/09-fork-cow-pin/svg/02-fork.svg" "$SRC/doc/pictures/fork-cow-pin.svg"
ok $? "doc/pictures/fork-cow-pin.svg (the README's picture) is current: example 09 draws it"

echo "1..$N"
[ "$FAILED" = 0 ]
