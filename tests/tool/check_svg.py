#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_svg.py DIR - the pictures of tests/tool/svg_states.pinmm, checked.

test_svg.sh runs that script with `pinmm run --svg DIR` and this checks
what DIR holds: every file is well-formed XML (xml.etree parses it), has a
legend, and shows the known states in the expected cells - a THP (order 9,
collapsed after its first row), a pinned page with its count, a swapped-out
page, a page COW-shared after fork (only in the "after" half of the step
pair), AnonExclusive pages, a dirty pinned page in the page cache and the
pinned page truncate orphaned.  Prints TAP.
"""
import os
import sys
import xml.etree.ElementTree as ET

NS = '{http://www.w3.org/2000/svg}'
n = 0
failed = 0


def ok(cond, what):
    global n, failed
    n += 1
    print(('ok' if cond else 'not ok') + ' %d - %s' % (n, what))
    if not cond:
        failed += 1


def cells(root):
    """(classes, title, label) of every page cell (a <g> with a rect.page)."""
    out = []
    for g in root.iter(NS + 'g'):
        rect = g.find(NS + 'rect')
        title = g.find(NS + 'title')
        if rect is None or title is None or 'page' not in rect.get('class', '').split():
            continue
        label = g.find(NS + 'text')
        out.append((set(rect.get('class').split()), title.text or '',
                    label.text if label is not None else ''))
    return out


def texts(root):
    return [t.text or '' for t in root.iter(NS + 'text')]


def main():
    d = sys.argv[1]
    want = ['01-before-fork.svg', '02-fork.svg', 'addr.svg', 'cache.svg']
    trees = {}
    for f in want:
        path = os.path.join(d, f)
        try:
            trees[f] = ET.parse(path).getroot()
            ok(True, '%s is well-formed XML' % f)
        except (OSError, ET.ParseError) as e:
            ok(False, '%s is well-formed XML: %s' % (f, e))
    if len(trees) != len(want):
        print('1..%d' % n)
        return 1
    for f, root in trees.items():
        ok(root.tag == NS + 'svg', '%s is an <svg> document' % f)
        ok('Legend' in texts(root), '%s has a legend' % f)
        ok(os.path.getsize(os.path.join(d, f)) < 200 * 1024, '%s stays small' % f)

    a = cells(trees['addr.svg'])
    thp = [c for c in a if 'thp' in c[0] and 'order 9' in c[1]]
    ok(len(thp) == 2 * 64, 'addr.svg: the THP in P and CH, one row each (%d cells)' % len(thp))
    ok(any('448 more identical pages' in t for t in texts(trees['addr.svg'])),
       'addr.svg: the rest of each THP collapsed into one line')
    ok(len(trees['addr.svg'].findall('.//' + NS + 'rect[@class="folio"]')) >= 2,
       'addr.svg: the THP folio is outlined')
    pinned = [c for c in a if 'pinned' in c[0] and c[1].startswith('0x50001000')]
    ok(len(pinned) == 1 and pinned[0][2] == '1' and 'pin 1' in pinned[0][1],
       'addr.svg: the pinned page of P, count 1 inside (%r)' % pinned)
    swapped = [c for c in a if 'swapped' in c[0] and c[1].startswith('0x50002000')]
    ok(len(swapped) == 2, 'addr.svg: the swapped page, in P and CH (%d)' % len(swapped))
    cow = [c for c in a if 'cow' in c[0] and c[1].startswith('0x60000000')]
    ok(len(cow) == 2 and all('map 2' in c[1] for c in cow),
       'addr.svg: the COW-shared page, mapcount 2 in P and CH')
    ok(any('excl' in c[0] and 'pinned' in c[0] for c in a),
       'addr.svg: the pinned page is AnonExclusive (fork copied it for the child)')
    ok(any(c[1].startswith('0x70000000') and 'file' in c[0] and 'pinned' in c[0] for c in a),
       'addr.svg: the pinned page of the shared file mapping')

    pair = trees['02-fork.svg']
    halves = [s for s in pair.findall(NS + 'svg')]
    ok(len(halves) == 2 and 'before' in halves[0].get('class') and
       'after' in halves[1].get('class'), '02-fork.svg: a before/after pair')
    if len(halves) == 2:
        before = [c for c in cells(halves[0]) if c[1].startswith('0x60000000')]
        after = [c for c in cells(halves[1]) if c[1].startswith('0x60000000')]
        ok(len(before) == 1 and 'cow' not in before[0][0] and 'excl' in before[0][0],
           '02-fork.svg: before fork the page is exclusive, not shared')
        ok(len(after) == 2 and all('cow' in c[0] for c in after),
           '02-fork.svg: after fork parent and child share it COW')

    c = cells(trees['cache.svg'])
    page0 = [x for x in c if x[1].startswith('page 0 ')]
    ok(len(page0) == 1 and {'dirty', 'pinned'} <= page0[0][0] and page0[0][2] == '1',
       'cache.svg: offset 0 is dirty and pinned once (%r)' % page0)
    ok(not [x for x in c if x[1].startswith('page 1 ')],
       'cache.svg: truncate to 4K left one offset')
    orphans = [x for x in c if 'orphaned' in x[0]]
    ok(len(orphans) == 1 and orphans[0][1].startswith('FP[1]'),
       'cache.svg: the pinned page truncate cut off is orphaned (%r)' % orphans)
    print('1..%d' % n)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
