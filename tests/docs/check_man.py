#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_man.py - every public function has a man page, every page is
installed and formats cleanly (TAP).

Usage: check_man.py SOURCE_ROOT

1. Each PINMM_API function declared in include/pinmm/*.h must be named in
   the NAME or SYNOPSIS section of some page in man/.  <pinmm/linux.h> and
   <pinmm/mmu_notifier.h> map Linux names onto pinmm_ symbols with
   "#define linux_name pinmm_name": either name counts.
2. Each page in man/ must be listed in man/meson.build (installed).
3. Each page must format without warnings under "groff -man -z -ww" (and
   "man --warnings -l" when man is there); skipped when groff is missing.
"""
import os
import re
import shutil
import subprocess
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
inc = os.path.join(root, "include", "pinmm")
mandir = os.path.join(root, "man")
results = []            # (ok, description, diagnostics, skip reason)


def add(ok, desc, diag="", skip=None):
    results.append((ok, desc, diag, skip))


def public_functions():
    """{function: header} for every PINMM_API declaration, and the
    alias map {pinmm_name: [linux names]}."""
    funcs, aliases = {}, {}
    for name in sorted(os.listdir(inc)):
        if not name.endswith(".h"):
            continue
        text = open(os.path.join(inc, name), encoding="utf-8").read()
        for m in re.finditer(r"^#define\s+([A-Za-z_]\w*)\s+(pinmm_\w+)\s*$",
                             text, re.M):
            aliases.setdefault(m.group(2), []).append(m.group(1))
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        text = re.sub(r"^\s*#[^\n]*(\\\n[^\n]*)*", " ", text, flags=re.M)
        for m in re.finditer(r"\bPINMM_API\b([^;{(]*?)\b([A-Za-z_]\w*)\s*\(",
                             text):
            funcs[m.group(2)] = "include/pinmm/" + name
    return funcs, aliases


def page_names(path):
    """Identifiers in the NAME and SYNOPSIS sections of a roff page."""
    words, keep = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith(".SH"):
            title = line[3:].strip().strip('"').upper()
            keep = title in ("NAME", "SYNOPSIS")
            continue
        if keep:
            line = re.sub(r"\\f[BIRP]|\\f\(..|\\\(..|\\&", "", line)
            line = line.replace("\\-", "-")
            words.update(re.findall(r"[A-Za-z_]\w*", line))
    return words


pages = sorted(f for f in os.listdir(mandir) if re.search(r"\.[1-8]$", f))
named = {}
for p in pages:
    for w in page_names(os.path.join(mandir, p)):
        named.setdefault(w, p)

funcs, aliases = public_functions()
if not funcs:
    print("Bail out! no PINMM_API declaration found under " + inc)
    sys.exit(1)
for fn in sorted(funcs):
    names = [fn] + aliases.get(fn, [])
    where = [named[n] for n in names if n in named]
    if where:
        add(True, "%s has a man page (%s)" % (fn, where[0]))
    else:
        add(False, "MISSING MAN PAGE: %s (declared in %s%s) is not named in "
            "the NAME or SYNOPSIS of any page in man/" %
            (fn, funcs[fn], ", also " + ", ".join(aliases[fn])
             if fn in aliases else ""))

build = open(os.path.join(mandir, "meson.build"), encoding="utf-8").read()
for p in pages:
    add("'%s'" % p in build, "man/%s is installed by man/meson.build" % p)

groff = shutil.which("groff")
man = shutil.which("man")
# A locale the host lacks makes man(1) complain on stderr: use C.
env = dict(os.environ, LC_ALL="C", LANG="C", MANPAGER="cat", PAGER="cat",
           MANWIDTH="80")
for p in pages:
    path = os.path.join(mandir, p)
    if not groff:
        add(True, "man/%s formats cleanly" % p, skip="groff is not installed")
        continue
    r = subprocess.run([groff, "-man", "-z", "-ww", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, env=env)
    diag = (r.stderr or "").strip()
    ok = r.returncode == 0 and not diag
    if ok and man:
        r = subprocess.run([man, "--warnings", "-l", path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           universal_newlines=True, env=env)
        diag = (r.stderr or "").strip()
        ok = r.returncode == 0 and not diag
    add(ok, "man/%s formats cleanly" % p, diag)

print("1..%d" % len(results))
failed = 0
for i, (ok, desc, diag, skip) in enumerate(results, 1):
    line = "%s %d - %s" % ("ok" if ok else "not ok", i, desc)
    if skip:
        line += " # SKIP " + skip
    print(line)
    if not ok:
        failed += 1
        for d in diag.splitlines():
            print("# " + d)
if failed:
    print("# %d of %d checks failed" % (failed, len(results)))
sys.exit(1 if failed else 0)
