#!/usr/bin/env python3
"""check.py SRCDIR CORE_LIB - the shape of core/ stays true.

The layers, bottom to top, written once here (core/base/base.h draws them):
a file of core/ may include the headers of its own folder and of folders
below it, and the objects of the core library may call only into their own
layer or lower ones, with no circle between files, not even inside a layer.
Also: core/ never includes FUSE, and fs/ sees only include/dumpfs.h.

Two views of one rule, because each misses something: #include lines catch
a header reached for before any call is written; the objects' symbols catch
calls through a header of the same layer that close a circle (the old
dump.c <-> elfview.c).  `check.py --self-test` shows both checks failing on
planted violations.
"""
import os
import re
import subprocess
import sys
import tempfile

LAYERS = ['base', 'page', 'source', 'format', 'space', 'arch', 'kernel', 'view', 'top']
RANK = {name: i for i, name in enumerate(LAYERS)}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def layer_of_path(rel):
    """Layer of a file under core/ ('format/kdump.c' -> 'format')."""
    first = rel.split('/', 1)[0]
    return first if '/' in rel and first in RANK else 'top'


def include_problems(srcdir):
    """Upward or unknown includes in core/, FUSE in core/, core in fs/."""
    problems = []
    core = os.path.join(srcdir, 'core')
    for dirpath, _, names in os.walk(core):
        for name in sorted(names):
            if not name.endswith(('.c', '.h')):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, core)
            mine = layer_of_path(rel)
            if mine == 'top' and '/' in rel:
                problems.append(f'core/{rel}: folder is not a layer ({", ".join(LAYERS[:-1])})')
                continue
            with open(path, encoding='utf-8') as f:
                text = f.read()
            for kind, inc in INCLUDE.findall(text):
                if kind == '<':
                    if 'fuse' in inc:
                        problems.append(f'core/{rel}: includes <{inc}>: the core knows no FUSE')
                    continue
                if inc == 'dumpfs.h':
                    continue
                theirs = inc.split('/', 1)[0]
                if '/' not in inc or theirs not in RANK:
                    problems.append(f'core/{rel}: includes "{inc}": not a layer\'s header')
                elif RANK[theirs] > RANK[mine]:
                    problems.append(f'core/{rel} ({mine}) includes "{inc}" of the higher layer {theirs}')
    fs = os.path.join(srcdir, 'fs')
    for name in sorted(os.listdir(fs)) if os.path.isdir(fs) else []:
        if name.endswith(('.c', '.h')):
            with open(os.path.join(fs, name), encoding='utf-8') as f:
                for kind, inc in INCLUDE.findall(f.read()):
                    own = os.path.exists(os.path.join(fs, inc))
                    if kind == '"' and inc != 'dumpfs.h' and not own:
                        problems.append(f'fs/{name}: includes "{inc}": fs/ sees only include/dumpfs.h')
    return problems


def layer_of_object(member):
    """Layer of a library member ('core_format_kdump.c.o' -> 'format')."""
    member = os.path.basename(member)       # a thin archive names paths
    rest = member[len('core_'):] if member.startswith('core_') else member
    first = rest.split('_', 1)[0]
    return first if first in RANK and '_' in rest else 'top'


def object_edges(lib):
    """{member: set(members it calls)} from the library's symbol tables."""
    out = subprocess.run(['nm', '-A', '-g', lib], capture_output=True, text=True, check=True).stdout
    defined, wanted = {}, {}
    for line in out.splitlines():
        m = re.match(r'^[^:]*:([^:]+):\s*(?:[0-9a-fA-F]+)?\s+(\w)\s+(\S+)$', line)
        if not m:
            continue
        member, kind, sym = m.groups()
        wanted.setdefault(member, set())
        if kind == 'U':
            wanted[member].add(sym)
        else:
            defined[sym] = member
    short = os.path.basename
    return {short(m): {short(defined[s]) for s in syms if s in defined and defined[s] != m}
            for m, syms in wanted.items()}


def edge_problems(edges):
    """Calls that point up, and circles between objects."""
    problems = []
    for a in sorted(edges):
        for b in sorted(edges[a]):
            if RANK[layer_of_object(b)] > RANK[layer_of_object(a)]:
                problems.append(f'{a} ({layer_of_object(a)}) calls up into {b} ({layer_of_object(b)})')
    # A circle is a back edge of a depth-first search.
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                problems.append('circle: ' + ' -> '.join(stack[stack.index(m):] + [m]))
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2
    for n in sorted(edges):
        if n not in state:
            visit(n)
    return problems


def self_test():
    """Both checks must catch what they are for."""
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, 'core', 'format'))
        os.makedirs(os.path.join(d, 'fs'))
        with open(os.path.join(d, 'core', 'format', 'x.c'), 'w') as f:
            f.write('#include "format/format.h"\n#include "view/view.h"\n#include <fuse3/fuse.h>\n')
        with open(os.path.join(d, 'fs', 'ops.c'), 'w') as f:
            f.write('#include "dumpfs.h"\n#include "space/space.h"\n')
        got = include_problems(d)
        for want in ('includes "view/view.h" of the higher layer view', 'knows no FUSE',
                     'fs/ sees only'):
            if not any(want in p for p in got):
                print(f'self-test: include check missed: {want}')
                failures += 1
        if any('format/format.h' in p for p in got):
            print('self-test: include check flagged a same-layer include')
            failures += 1
    edges = {'core_dump.c.o': {'core_view_tree.c.o'},
             'core_view_tree.c.o': {'core_view_text.c.o'},
             'core_view_text.c.o': {'core_view_tree.c.o'},
             'core_format_kdump.c.o': {'core_space_phys.c.o'},
             'core_space_phys.c.o': set()}
    got = edge_problems(edges)
    if not any('circle' in p and 'tree' in p and 'text' in p for p in got):
        print('self-test: symbol check missed a circle inside a layer')
        failures += 1
    if not any('calls up into core_space_phys' in p for p in got):
        print('self-test: symbol check missed an upward call')
        failures += 1
    if any('core_dump.c.o (top) calls up' in p for p in got):
        print('self-test: symbol check flagged a downward call')
        failures += 1
    return failures


def main():
    if sys.argv[1:] == ['--self-test']:
        sys.exit(1 if self_test() else 0)
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    srcdir, lib = sys.argv[1:]
    failures = self_test()
    edges = object_edges(lib)
    if len(edges) < 10:
        print(f'{lib}: only {len(edges)} objects: not the core library?')
        failures += 1
    problems = include_problems(srcdir) + edge_problems(edges)
    for p in problems:
        print(p)
    ncalls = sum(len(v) for v in edges.values())
    print(f'{len(edges)} objects, {ncalls} calls between them, {len(problems)} problems')
    sys.exit(1 if problems or failures else 0)


if __name__ == '__main__':
    main()
