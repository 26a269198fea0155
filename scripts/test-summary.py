#!/usr/bin/env python3
"""Sum the test cases of every meson test log given on the command line.

Each test binary speaks TAP (cmocka with CMOCKA_MESSAGE_OUTPUT=TAP, and
`pinmm run --tap`); a case is one "ok"/"not ok" line.  A binary that
crashed or timed out before its plan was complete counts as one failure.
Prints the closing line "N passed, N failed" (", N skipped" when any).
"""
import json, os, re, sys

passed = failed = skipped = 0
for build in sys.argv[1:]:
    log = os.path.join(build, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        continue
    with open(log) as f:
        for line in f:
            t = json.loads(line)
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
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
