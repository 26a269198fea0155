#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_locking.py ROOT - the lock API rule and doc/LOCKING.md, as TAP.

1. No pthread mutex, condition variable, rwlock or spinlock is used in src/
   outside the wrappers (src/include/locking.h, src/include/wait.h,
   src/kernel/wait.c, __init_rwsem() in src/kernel/rcu.c, the
   validator's own graph lock in src/kernel/lockdep.c, and the reporting
   path's symboliser lock in src/kernel/symbolize.c), so that lock
   assertions, a lock-order validator and tracing see every lock.  The
   explorer's scheduler (src/kernel/explore.c) is the other exception: it
   runs inside those wrappers' scheduling points, so it cannot use them.
2. Every lock, wait queue and completion declared in src/ (a field or a
   variable of type struct mutex, spinlock_t, struct rw_semaphore,
   seqcount_t, wait_queue_head_t or struct completion, DEFINE_MUTEX(),
   DECLARE_WAIT_QUEUE_HEAD()) has a table row of doc/LOCKING.md of its
   own: a field F of struct S a row that names F inside backquotes in one
   of its first two cells (the lock or queue column) and says "struct S";
   a variable V a row that names V so in one of its first two cells.
"""
import os
import re
import sys

WRAPPERS = {'src/include/locking.h', 'src/include/wait.h', 'src/kernel/wait.c',
            'src/kernel/rcu.c', 'src/kernel/lockdep.c',
            'src/kernel/symbolize.c', 'src/kernel/explore.c',
            'src/kernel/explore_kthread.c', 'src/kernel/explore_internal.h'}
RAW = re.compile(r'\bpthread_(mutex|cond|rwlock|spin)\w*')
LOCK_TYPES = r'(?:struct\s+mutex|spinlock_t|struct\s+rw_semaphore|seqcount_t|' \
             r'wait_queue_head_t|struct\s+completion)'
DECL = re.compile(r'(?<![\w*])' + LOCK_TYPES + r'\s+(\w+)\s*(?:\[[^\]]*\])?\s*[;=]')
MACRO = re.compile(r'\b(?:DEFINE_MUTEX|DECLARE_WAIT_QUEUE_HEAD)\((\w+)\)')


def strip_comments(text):
    """Blank out comments and string literals, keeping offsets and lines."""
    out = re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"',
                 lambda m: re.sub(r'[^\n]', ' ', m.group(0)), text, flags=re.S)
    return out


def scopes(code):
    """For each '{' offset: ('struct', name) / ('anon', var) / ('other', None)."""
    result = {}
    stack = []
    for i, ch in enumerate(code):
        if ch == '{':
            head = code[max(code.rfind(';', 0, i), code.rfind('}', 0, i),
                            code.rfind('{', 0, i)) + 1:i]
            m = re.search(r'\b(struct|union)\s*(\w+)?\s*$', head)
            if m and m.group(2):
                kind = ('struct', m.group(2))
            elif m:
                kind = ('anon', None)
            else:
                kind = ('other', None)
            stack.append([i, kind])
            result[i] = kind
        elif ch == '}' and stack:
            start, kind = stack.pop()
            if kind[0] == 'anon':
                tail = re.match(r'\s*(\w+)', code[i + 1:])
                result[start] = ('anon', tail.group(1) if tail else None)
    return result


def owner(code, pos, scope_of):
    """The struct (or anonymous struct variable) enclosing offset @pos."""
    depth = 0
    chain = []
    for i in range(pos - 1, -1, -1):
        ch = code[i]
        if ch == '}':
            depth += 1
        elif ch == '{':
            if depth:
                depth -= 1
            else:
                chain.append(scope_of.get(i, ('other', None)))
    for kind, name in chain:
        if kind == 'struct':
            return ('field', name)
        if kind == 'anon' and name:
            return ('anonvar', name)
        if kind == 'other':
            return None		# a local variable or an initializer
    return None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else '.'
    raw_uses, locks = [], []
    for dirpath, _, files in os.walk(os.path.join(root, 'src')):
        for f in sorted(files):
            if not f.endswith(('.c', '.h')):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root)
            with open(path, encoding='utf-8') as fh:
                code = strip_comments(fh.read())
            if rel not in WRAPPERS:
                for m in RAW.finditer(code):
                    line = code.count('\n', 0, m.start()) + 1
                    raw_uses.append(f'{rel}:{line}: {m.group(0)}')
            if rel in ('src/include/locking.h', 'src/include/wait.h'):
                continue	# the primitives' own insides
            scope_of = scopes(code)
            for m in DECL.finditer(code):
                line = code.count('\n', 0, m.start()) + 1
                own = owner(code, m.start(), scope_of)
                if own and own[0] == 'field':
                    locks.append((rel, line, own[1], m.group(1)))
                elif own and own[0] == 'anonvar':
                    locks.append((rel, line, None, f'{own[1]}.{m.group(1)}'))
                elif own is None and re.search(r'\bstatic\b|^\S', code[
                        code.rfind('\n', 0, m.start()) + 1:m.start()]):
                    locks.append((rel, line, None, m.group(1)))
            for m in MACRO.finditer(code):
                if code[max(0, m.start() - 8):m.start()].strip().endswith('define'):
                    continue
                line = code.count('\n', 0, m.start()) + 1
                locks.append((rel, line, None, m.group(1)))

    with open(os.path.join(root, 'doc', 'LOCKING.md'), encoding='utf-8') as fh:
        rows = [l for l in fh.read().splitlines() if l.startswith('|')]
    # Names count only in the first two cells: '#' and lock, or queue and
    # declared-in; a lock mentioned in another lock's row does not count.
    ticks = [re.findall(r'`([^`]*)`', '|'.join(r.strip().strip('|').split('|')[:2]))
             for r in rows]

    def documented(struct, name):
        for row, tt in zip(rows, ticks):
            if struct and not re.search(r'\bstruct\s+%s\b' % re.escape(struct), row):
                continue
            pat = re.compile(r'(?<![\w])%s(?![\w])' % re.escape(name))
            if any(pat.search(t) for t in tt):
                return True
        return False

    missing = [l for l in locks if not documented(l[2], l[3])]
    print('1..2')
    if raw_uses:
        print('not ok 1 - pthread lock primitives only inside the wrappers')
        for u in raw_uses:
            print(f'# {u}: use locking.h / wait.h')
    else:
        print('ok 1 - pthread lock primitives only inside the wrappers')
    if missing or not locks:
        print(f'not ok 2 - doc/LOCKING.md names every lock ({len(locks)} found)')
        for rel, line, struct, name in missing:
            what = f'struct {struct}: {name}' if struct else name
            print(f'# {rel}:{line}: {what} is not in a table row of doc/LOCKING.md')
    else:
        print(f'ok 2 - doc/LOCKING.md names every lock ({len(locks)} found)')
    return 1 if raw_uses or missing or not locks else 0


if __name__ == '__main__':
    sys.exit(main())
