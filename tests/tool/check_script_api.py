#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_script_api.py - every exported function has a script command.

Walks the public headers (include/pinmm/*.h), takes every function
declared PINMM_API, and checks that the scenario language reaches it: some
tools/pinmm/script*.c names it in code (a call, or a function pointer in a
table), by its pinmm_ name or by the Linux name <pinmm/linux.h> #defines
for it.  A function no script file names must be listed, with a reason,
in the table under "### Not reachable from scripts" in doc/SCENARIOS.md.
A listed function that does not exist, or that a script file does name, is
an error too, so that the list stays true.

Last, the check runs once more on a copy of the headers with one exported
function added, and must fail there: the test cannot pass by construction.

Usage: check_script_api.py SOURCE_ROOT.  Prints TAP; exit 1 on failure.
"""
import os
import re
import shutil
import sys
import tempfile

COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
STRING = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')
IDENT = re.compile(r'\b[A-Za-z_][A-Za-z0-9_]*\b')
EXCL_HEADING = '### Not reachable from scripts'
EXCL_ROW = re.compile(r'^\|\s*`([A-Za-z_][A-Za-z0-9_]*)\(\)`\s*\|\s*(.*?)\s*\|\s*$')


def code_of(path):
    """The text of a C file without comments and string literals."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    return STRING.sub('""', COMMENT.sub(' ', text))


def exported(include_dir):
    """{function: header} of every PINMM_API declaration."""
    funcs = {}
    for name in sorted(os.listdir(include_dir)):
        if not name.endswith('.h'):
            continue
        code = code_of(os.path.join(include_dir, name))
        for m in re.finditer(r'\bPINMM_API\b([^;{]*)', code):
            decl = m.group(1)
            if '#define' in code[max(0, m.start() - 20):m.start()]:
                continue
            paren = decl.find('(')
            if paren < 0:
                continue
            ids = IDENT.findall(decl[:paren])
            if ids:
                funcs[ids[-1]] = name
    return funcs


def linux_names(include_dir):
    """{linux_name: pinmm_name} from the headers' #defines (linux.h...)."""
    names = {}
    for name in sorted(os.listdir(include_dir)):
        if name.endswith('.h'):
            for m in re.finditer(r'^#define\s+([a-z_][a-z0-9_]*)\s+(pinmm_[a-z0-9_]+)\s*$',
                                 code_of(os.path.join(include_dir, name)), re.M):
                names[m.group(1)] = m.group(2)
    return names


def named_by_scripts(tool_dir, aliases):
    """{function: file} of every identifier the script*.c files use."""
    used = {}
    for name in sorted(os.listdir(tool_dir)):
        if not (name.startswith('script') and name.endswith('.c')):
            continue
        for ident in IDENT.findall(code_of(os.path.join(tool_dir, name))):
            used.setdefault(aliases.get(ident, ident), name)
    return used


def exclusions(doc):
    """{function: reason} from the table under EXCL_HEADING."""
    excl = {}
    inside = False
    with open(doc, encoding='utf-8') as f:
        for line in f:
            if line.startswith('#'):
                inside = line.strip() == EXCL_HEADING
                continue
            m = EXCL_ROW.match(line) if inside else None
            if m:
                excl[m.group(1)] = m.group(2)
    return excl


def check(include_dir, tool_dir, doc, report):
    """Report each finding through report(ok, text); return the failures."""
    funcs = exported(include_dir)
    used = named_by_scripts(tool_dir, linux_names(include_dir))
    excl = exclusions(doc)
    bad = 0
    report(len(funcs) > 100, '%d exported functions found in %s' % (len(funcs), include_dir))
    bad += len(funcs) <= 100
    for fn in sorted(funcs):
        if fn in used:
            ok, why = fn not in excl, 'called by %s' % used[fn]
            if not ok:
                why += ', but listed as not reachable in doc/SCENARIOS.md'
        elif fn in excl:
            ok, why = bool(excl[fn]), 'excluded: %s' % (excl[fn] or '(no reason given)')
        else:
            ok, why = False, ('no script command calls it and doc/SCENARIOS.md "%s" '
                              'does not list it' % EXCL_HEADING[4:])
        report(ok, '%s (%s): %s' % (fn, funcs[fn], why))
        bad += not ok
    for fn in sorted(set(excl) - set(funcs)):
        report(False, '%s is listed as not reachable but is not exported' % fn)
        bad += 1
    return bad


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else '.'
    inc = os.path.join(root, 'include', 'pinmm')
    tool = os.path.join(root, 'tools', 'pinmm')
    doc = os.path.join(root, 'doc', 'SCENARIOS.md')
    n = 0

    def tap(ok, text):
        nonlocal n
        n += 1
        print('%s %d - %s' % ('ok' if ok else 'not ok', n, text))

    bad = check(inc, tool, doc, tap)
    # The same check on headers with one more exported function must fail.
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, 'pinmm')
        shutil.copytree(inc, copy)
        with open(os.path.join(copy, 'pinmm.h'), 'a', encoding='utf-8') as f:
            f.write('\nPINMM_API int pinmm_check_script_api_canary(struct pinmm *m);\n')
        found = []
        check(copy, tool, doc, lambda ok, text: found.append((ok, text)))
        canary = [ok for ok, text in found if text.startswith('pinmm_check_script_api_canary')]
        tap(canary == [False], 'a new exported function without a command fails the check')
        bad += canary != [False]
    print('1..%d' % n)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
