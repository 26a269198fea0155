#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_lock_order.py ROOT PINMM - the lock validator's graph against the
order of doc/LOCKING.md, as TAP.

Runs `PINMM run` on every tests/scenarios/*.pinmm and examples/*.pinmm
and `PINMM demo`, each with PINMM_LOCKDEP_GRAPH set (the class graph of
the run, as DOT, written at exit), and fails when an edge A -> B (a lock
of class B taken while one of class A was held) goes against the order
table: the level of A must be above (smaller than) the level of B.  Two
classes of one level may nest only as a lock subclass ("name/N", the
*_nested() annotations).  The main locks are those of CLASSES below; each
must still have its row in the table (so renaming a row fails here too).
Without the validator (release builds) the graphs are empty: skipped.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

# Lock class name (the init site's stringified lock) -> the lock's name in
# the first cell of its doc/LOCKING.md row.
CLASSES = {
    'audit_mutex': 'audit_mutex',
    '&m->proc_lock': 'machine->proc_lock',
    '&inode->i_rwsem': 'inode->i_rwsem',
    '&mm->mmap_lock': 'mm->mmap_lock',
    '&pi->dax_sem': 'pi->dax_sem',
    '&pools->fault_mutex_table[i]': 'fault_mutex_table[]',
    '&m->huge_zero_lock': 'machine->huge_zero_lock',
    '&pi->map_lock': 'pi->map_lock',
    '&sbi->commit_lock': 'sbi->commit_lock',
    '&sbi->meta_lock': 'sbi->meta_lock',
    '&mapping->i_mmap_rwsem': 'mapping->i_mmap_rwsem',
    '&av->rwsem': 'anon_vma->rwsem',
    '&mm->page_table_lock': 'mm->page_table_lock',
    '&pt->ptl': 'ptl',
    '&m->split_queue_lock': 'machine->split_queue_lock',
    '&mapping->i_pages_lock': 'mapping->i_pages_lock',
    '&pcp->lock': 'per_cpu_pages->lock',
    '&zone->lock': 'zone->lock',
    '&k->mm_lock': 'mm_lock',
    '&si->lock': 'swap_info->lock',
}


def level_key(text):
    m = re.match(r'(\d+)(.*)$', text.strip())
    return (int(m.group(1)), m.group(2)) if m else None


def doc_levels(root):
    """{doc lock name: level key} for the numbered rows of the order table."""
    levels = {}
    with open(os.path.join(root, 'doc', 'LOCKING.md'), encoding='utf-8') as f:
        for line in f:
            cells = [c.strip() for c in line.split('|')]
            if len(cells) < 4 or not level_key(cells[1]):
                continue
            for name in re.findall(r'`([^`]+)`', cells[2]):
                levels.setdefault(name, level_key(cells[1]))
    return levels


def read_graph(path, edges):
    names = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            m = re.match(r'\s*(c\d+) \[label="(.*)"\];', line)
            if m:
                names[m.group(1)] = m.group(2)
                continue
            m = re.match(r'\s*(c\d+) -> (c\d+) \[label="(.*)"\];', line)
            if m:
                edges.setdefault((names[m.group(1)], names[m.group(2)]), m.group(3))


def main():
    root, pinmm = sys.argv[1], os.path.abspath(sys.argv[2])
    levels = doc_levels(root)
    tests = []
    missing = [d for d in CLASSES.values() if d not in levels]
    tests.append((not missing, 'every main lock has its row in the order table'
                  + ('' if not missing else ': missing ' + ', '.join(missing))))
    runs = sorted(glob.glob(os.path.join(root, 'tests', 'scenarios', '*.pinmm')) +
                  glob.glob(os.path.join(root, 'examples', '*.pinmm')))
    edges = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, cmd in enumerate([['run', r] for r in runs] + [['demo']]):
            out = os.path.join(tmp, '%d.dot' % i)
            env = dict(os.environ, PINMM_LOCKDEP_GRAPH=out)
            env.pop('PINMM_LOCKDEP_STRICT', None)
            subprocess.run([pinmm] + cmd, env=env, cwd=root, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=300, check=False)
            if os.path.exists(out):
                read_graph(out, edges)
    if not edges:
        print('1..1\nok 1 - # SKIP no lock validator in this build (empty graphs)')
        return 0
    checked = 0
    for (a, b), site in sorted(edges.items()):
        base_a, base_b = a.split('/')[0], b.split('/')[0]
        if base_a not in CLASSES or base_b not in CLASSES:
            continue
        la, lb = levels.get(CLASSES[base_a]), levels.get(CLASSES[base_b])
        if la is None or lb is None:
            continue
        checked += 1
        nested = base_a == base_b and a != b
        ok = la < lb or nested
        if not ok:
            tests.append((False, '%s (level %d%s) -> %s (level %d%s) at %s goes against '
                          'doc/LOCKING.md' % (a, la[0], la[1], b, lb[0], lb[1], site)))
    tests.append((checked > 0, '%d edges between main locks, from %d runs, in the documented '
                  'order' % (checked, len(runs) + 1)))
    print('1..%d' % len(tests))
    for i, (ok, what) in enumerate(tests, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, what))
    return 0 if all(ok for ok, _ in tests) else 1


if __name__ == '__main__':
    sys.exit(main())
