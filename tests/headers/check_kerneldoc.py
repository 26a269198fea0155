#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_kerneldoc.py - every exported function of the public API is
documented where it is declared: a kernel-doc comment (/** ... */) directly
above each PINMM_API declaration in include/pinmm/*.h, naming the function,
with a 'Context:' line, and a 'Return:' line unless the function returns
void.  Usage: check_kerneldoc.py INCLUDE_DIR.  Prints TAP, one point per
function."""
import glob
import os
import re
import sys

DECL = re.compile(r'^PINMM_API\s+([^;(]*?)\b(\w+)\s*\(', re.S | re.M)


def check(path):
    text = open(path, encoding='utf-8').read()
    for m in DECL.finditer(text):
        rtype, name = m.group(1).strip(), m.group(2)
        before = text[:m.start()].rstrip()
        problems = []
        doc = None
        if before.endswith('*/'):
            start = before.rfind('/*')
            if start >= 0 and before.startswith('/**', start):
                doc = before[start:]
        if doc is None:
            problems.append('no kernel-doc comment directly above the declaration')
        else:
            # pinmm_foo() or its Linux name foo() (linux.h, mmu_notifier.h)
            short = name[len('pinmm_'):] if name.startswith('pinmm_') else name
            if not re.search(r'\b(%s|%s)\(\)' % (re.escape(name), re.escape(short)), doc):
                problems.append('the comment does not name %s()' % name)
            if 'Context:' not in doc:
                problems.append("no 'Context:'")
            is_void = re.fullmatch(r'(static\s+)?(inline\s+)?void', rtype) is not None
            if not is_void and 'Return:' not in doc:
                problems.append("no 'Return:'")
        yield os.path.basename(path), name, problems


def main():
    if len(sys.argv) != 2:
        print('usage: check_kerneldoc.py INCLUDE_DIR', file=sys.stderr)
        return 2
    headers = sorted(glob.glob(os.path.join(sys.argv[1], 'pinmm', '*.h')))
    n = failed = 0
    for h in headers:
        for hdr, name, problems in check(h):
            n += 1
            if problems:
                failed += 1
                print('not ok %d - %s: %s: %s' % (n, hdr, name, '; '.join(problems)))
            else:
                print('ok %d - %s: %s' % (n, hdr, name))
    if n == 0:
        print('not ok 1 - no PINMM_API declaration found under %s' % sys.argv[1])
        n = failed = 1
    print('1..%d' % n)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
