#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The layer rule of doc/DESIGN.md, checked on the built objects.

    kernel <- mm <- fs <- drivers <- init

A folder of src/ may use the symbols of its own folder and of the folders
to its left, never of one to its right.  This reads `nm` of every object of
libpinmm's static archive, maps each object to its source file (meson names
the object of src/mm/filemap.c "mm_filemap.c.o"), each defined symbol to the
object that defines it, and each undefined symbol of an object to the
folder that defines it.  Every use of a folder above is a failure naming
the symbol and the two files, unless it is in EXCEPTIONS below, each with
its reason.

Usage: check_layers.py ARCHIVE SRCDIR        (TAP on stdout)
"""
import os
import subprocess
import sys

LAYERS = ['kernel', 'mm', 'fs', 'drivers', 'init']

# (symbol, user folder, defining folder): why this upward use is allowed.
_FILE_REFS = ('file and inode references cross between mm and the VFS as in '
              'Linux: a VMA, the page cache and writeback hold them')
_SHMEM_NEW = ('tmpfs is mm\'s (mm/shmem.c, as in Linux) and creates its '
              'inodes and files with the VFS constructors, as Linux\'s '
              'new_inode() and alloc_file_pseudo()')
EXCEPTIONS = {
    ('fget', 'mm', 'fs'): _FILE_REFS,
    ('fput', 'mm', 'fs'): _FILE_REFS,
    ('get_file', 'mm', 'fs'): _FILE_REFS,
    ('iget', 'mm', 'fs'): _FILE_REFS,
    ('iput', 'mm', 'fs'): _FILE_REFS,
    ('inode_init', 'mm', 'fs'): _SHMEM_NEW,
    ('file_alloc', 'mm', 'fs'): _SHMEM_NEW,
}


def object_sources(srcdir):
    """Map meson's object names of libpinmm to their source paths."""
    objs = {}
    for root, _, files in os.walk(srcdir):
        for f in files:
            if f.endswith('.c'):
                rel = os.path.relpath(os.path.join(root, f), srcdir)
                objs[rel.replace(os.sep, '_') + '.o'] = rel
    return objs


def read_nm(archive):
    """{object: (defined set, undefined set)} from nm of @archive."""
    out = subprocess.run(['nm', '-A', archive], capture_output=True, text=True,
                         check=True).stdout
    table = {}
    for line in out.splitlines():
        # "archive:object:addr T sym" or "archive:object:         U sym"
        head, _, rest = line.rpartition(':')
        obj = head.rsplit(':', 1)[-1]
        fields = rest.split()
        if len(fields) < 2:
            continue
        kind, sym = fields[-2], fields[-1]
        defs, undefs = table.setdefault(obj, (set(), set()))
        if kind == 'U':
            undefs.add(sym)
        elif kind.isupper():
            defs.add(sym)
    return table


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    archive, srcdir = sys.argv[1], sys.argv[2]
    sources = object_sources(srcdir)
    table = read_nm(archive)
    results = []

    # 1. Every object is a known source of a known layer: nothing escapes.
    unmapped = [o for o in table if o not in sources or
                sources[o].split(os.sep)[0] not in LAYERS]
    results.append((not unmapped and len(table) >= 10,
                    '%d objects, each a source of a layer folder' % len(table),
                    ['object %s: no source under src/{%s}' % (o, ','.join(LAYERS))
                     for o in unmapped] or
                    ([] if len(table) >= 10 else ['only %d objects in %s' %
                                                  (len(table), archive)])))

    definer = {}
    for obj, (defs, _) in table.items():
        for sym in defs:
            definer[sym] = obj
    used_exceptions = set()
    for layer in LAYERS:
        bad = []
        rank = LAYERS.index(layer)
        for obj in sorted(table):
            src = sources.get(obj)
            if not src or src.split(os.sep)[0] != layer:
                continue
            for sym in sorted(table[obj][1]):
                dobj = definer.get(sym)
                if not dobj or dobj not in sources:
                    continue	# libc, liburcu, ...
                dsrc = sources[dobj]
                dlayer = dsrc.split(os.sep)[0]
                if dlayer not in LAYERS or LAYERS.index(dlayer) <= rank:
                    continue
                key = (sym, layer, dlayer)
                if key in EXCEPTIONS:
                    used_exceptions.add(key)
                    continue
                bad.append('src/%s uses %s() of src/%s (%s -> %s, upward)'
                           % (src, sym, dsrc, layer, dlayer))
        above = LAYERS[rank + 1:]
        if above:
            what = 'src/%s uses nothing of %s' % (layer, ', '.join('src/' + a for a in above))
        else:
            what = 'src/%s is the top layer: nothing above it to use' % layer
        results.append((not bad, what, bad))

    # 2. An exception nobody needs any more is removed, not kept "just in case".
    stale = ['exception %s (%s -> %s) is no longer used: delete it' % k
             for k in sorted(set(EXCEPTIONS) - used_exceptions)]
    results.append((not stale, 'every listed exception is still needed', stale))

    print('1..%d' % len(results))
    failed = 0
    for i, (ok, what, notes) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, what))
        for n in notes:
            print('# ' + n)
        failed += not ok
    for key in sorted(used_exceptions):
        print('# allowed: %s (%s -> %s): %s' % (key + (EXCEPTIONS[key],)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
