#!/usr/bin/env python3
"""The house keeps its shape: server/'s modules call each other only as docs/architecture.md
says, only through their door headers, and no two files call each other in a circle.

Usage: arch_test.py SOURCE_ROOT BUILD_ROOT

What is checked, with what it reads:
  1. the rules: the table "Who may call whom" of docs/architecture.md (module | may call);
  2. includes: a file of server/<m>/ includes, of another module n, only n's door
     server/<n>/<n>.h, and only when the table lets m call n (common/, codecs/ and schedules/ are
     below every module; server/<m>/ files never include the assembly's server/server.h or
     server/config.h);
  3. calls: from the object files the build made (nm), which file's functions call which other
     file's; a module calling one the table does not allow fails, and so does any circle of
     calls between two or more files of server/ (stream.c -> engine.c -> stream.c).
A failure prints every offence, so one run shows the whole list.
"""
import os
import re
import subprocess
import sys

SRC, BUILD = sys.argv[1], sys.argv[2]
BELOW_ALL = ('common/', 'codecs/', 'schedules/')


def rules():
    """{module: set of modules it may call}, from the table in docs/architecture.md."""
    text = open(os.path.join(SRC, 'docs/architecture.md'), encoding='utf-8').read()
    m = re.search(r'^## Who may call whom\n(.*?)(?=^## )', text, re.S | re.M)
    if not m:
        sys.exit('docs/architecture.md: no section "## Who may call whom"')
    calls = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) < 2 or not line.startswith('|') or set(cells[0]) <= set('-: '):
            continue
        mod = cells[0].strip('`')
        if mod == 'module':
            continue
        deps = re.findall(r'`([a-z_]+)`', cells[1])
        calls[mod] = set(deps)
    return calls


def module_of(path):
    """'server/stream/stream.c' -> 'stream'; 'server/server.c' -> 'server' (the assembly)."""
    parts = path.split('/')
    if parts[0] != 'server':
        return None
    return parts[1] if len(parts) > 2 else 'server'


def sources():
    out = []
    for d, _, files in os.walk(os.path.join(SRC, 'server')):
        for f in files:
            if f.endswith(('.c', '.h')):
                out.append(os.path.relpath(os.path.join(d, f), SRC))
    return sorted(out)


def check_includes(calls, errors):
    for path in sources():
        mod = module_of(path)
        for n, line in enumerate(open(os.path.join(SRC, path), encoding='utf-8'), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            inc = m.group(1)
            if inc.startswith(BELOW_ALL):
                continue
            if not inc.startswith('server/'):
                errors.append('%s:%d: includes "%s", outside the tree\'s modules' % (path, n, inc))
                continue
            other = module_of(inc)
            if other == mod:
                continue
            if other == 'server':
                if mod != 'server':
                    errors.append('%s:%d: includes %s: modules do not reach the assembly'
                                  % (path, n, inc))
                continue
            if mod != 'server' and other not in calls.get(mod, set()):
                errors.append('%s:%d: includes %s: %s may not call %s (docs/architecture.md)'
                              % (path, n, inc, mod, other))
            door = 'server/%s/%s.h' % (other, other)
            if inc != door:
                errors.append('%s:%d: includes %s: other modules go through the door %s'
                              % (path, n, inc, door))


def object_files():
    """{source path: object file} for every server/ source the build compiled."""
    out = {}
    for d, _, files in os.walk(os.path.join(BUILD, 'server')):
        for f in files:
            if f.endswith('.c.o'):
                # server/stream/liblc_stream.a.p/stream.c.o -> server/stream/stream.c
                rel = os.path.relpath(d, BUILD).split(os.sep)
                src = '/'.join(p for p in rel if not p.endswith('.p')) + '/' + f[:-2]
                if os.path.exists(os.path.join(SRC, src)):
                    out[src] = os.path.join(d, f)
    return out


def symbols(obj):
    defined, used = set(), set()
    res = subprocess.run(['nm', obj], capture_output=True, text=True, check=True)
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in 'TDBR':
            defined.add(parts[2])
        elif len(parts) == 2 and parts[0] == 'U':
            used.add(parts[1])
    return defined, used


def check_calls(calls, errors):
    objs = object_files()
    if len(objs) < 20:
        errors.append('only %d object files of server/ found under %s: build first'
                      % (len(objs), BUILD))
        return
    owner, uses = {}, {}
    for src, obj in objs.items():
        d, u = symbols(obj)
        for s in d:
            owner[s] = src
        uses[src] = u
    graph = {src: set() for src in objs}
    for src, u in uses.items():
        for s in u:
            dst = owner.get(s)
            if dst is None or dst == src:
                continue
            graph[src].add(dst)
            a, b = module_of(src), module_of(dst)
            if a != b and a != 'server' and b not in calls.get(a, set()):
                errors.append('%s calls %s (%s): %s may not call %s' % (src, s, dst, a, b))
    # Circles: strongly connected components of more than one file (Tarjan).
    index, low, stack, on, comps = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    for comp in comps:
        detail = []
        for a in comp:
            for b in sorted(graph[a] & set(comp)):
                detail.append('%s -> %s' % (os.path.basename(a), os.path.basename(b)))
        errors.append('files that call each other in a circle: %s (%s)'
                      % (', '.join(comp), '; '.join(detail)))
    return len(objs)


def main():
    calls = rules()
    for mod, deps in calls.items():
        for d in deps:
            if d not in calls:
                sys.exit('docs/architecture.md: %s may call %s, which is not a module' % (mod, d))
    folders = {p.split('/')[1] for p in sources() if p.count('/') == 2}
    missing = folders - set(calls)
    if missing:
        sys.exit('docs/architecture.md: no rule for the module(s) %s' % ', '.join(sorted(missing)))
    errors = []
    check_includes(calls, errors)
    n = check_calls(calls, errors)
    for e in errors:
        print(e)
    if errors:
        print('FAIL: %d offence(s) against docs/architecture.md' % len(errors))
        return 1
    print('ok: %d modules, %d files, calls as docs/architecture.md says, no circles'
          % (len(calls), n))
    return 0


sys.exit(main())
