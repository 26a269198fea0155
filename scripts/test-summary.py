#!/usr/bin/env python3
"""Sum the test cases of every meson test log given on the command line.

Usage: test-summary.py BUILD[:SUITE,SUITE...] ...

Each test binary speaks TAP (cmocka with CMOCKA_MESSAGE_OUTPUT=TAP, and
`pinmm run --tap`); a case is one "ok"/"not ok" line.  A binary that
crashed or timed out before its plan was complete counts as one failure.
A build whose test log is missing (it failed to configure or compile, or
its tests never ran) and an expected suite with no test in the log each
count as one failure too: a suite that did not run is never a silent pass.
Prints the closing line "N passed, N failed" (", N skipped" when any).
"""
import json, os, re, sys

passed = failed = skipped = 0


def missing(what):
    global failed
    failed += 1
    print(f"test-summary: FAILED: {what}", file=sys.stderr)


for arg in sys.argv[1:]:
    build, _, want = arg.partition(":")
    suites = [s for s in want.split(",") if s]
    log = os.path.join(build, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        missing(f"{build}: no test log (the build failed or its tests did not run); "
                f"suites {', '.join(suites) or 'all'} missing")
        continue
    seen = set()
    with open(log) as f:
        for line in f:
            t = json.loads(line)
            # "pinmm:unit / test_gup_fast" -> "unit"
            m = re.match(r"^[^:/ ]+:([^ /]+) / ", t.get("name", ""))
            if m:
                seen.add(m.group(1))
            out = t.get("stdout") or ""
            p = f_ = s = 0
            for l in out.splitlines():
                if re.match(r"^\s*ok \d+", l):
                    if "# SKIP" in l or "# skip" in l:
                        s += 1
                    else:
                        p += 1
                elif re.match(r"^\s*not ok \d+", l):
                    if "# TODO" in l:
                        s += 1
                    else:
                        f_ += 1
            if t.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL") and f_ == 0:
                f_ += 1
                print(f"{build}: {t.get('name')}: {t.get('result')}", file=sys.stderr)
            passed += p; failed += f_; skipped += s
    for s in suites:
        if s not in seen:
            missing(f"{build}: suite '{s}' has no test in the log")
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
