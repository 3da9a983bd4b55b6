#!/usr/bin/env python3
"""Print the call graph between daemon/'s source files and fail on any circle.

An arrow A -> B means "A.c calls (or reads) a symbol defined in B.c", read from the compiled
objects with nm, so it shows what the code does, not what its #includes suggest. Read-only
tables shared between files count as arrows too; that is deliberate: the point is a layering
anyone can check.

    scripts/file-graph.py BUILD_DIR [--prefix daemon/] [--edges]

Exit status: 0 when no circle exists, 1 when one does (each printed as a list of files), 2 on a
usage error (no such build directory, no objects under the prefix).
"""

import json
import os
import subprocess
import sys


def objects(build_dir, prefix):
    """Map each source file under prefix (relative to the source root) to its object file."""
    with open(os.path.join(build_dir, "compile_commands.json")) as f:
        commands = json.load(f)
    src_root = os.path.realpath(os.path.join(build_dir, ".."))
    found = {}
    for cmd in commands:
        src = os.path.realpath(os.path.join(cmd["directory"], cmd["file"]))
        rel = os.path.relpath(src, src_root)
        # Only objects of static libraries (the rooms): main.c, tests and benches link them.
        if not rel.startswith(prefix) or ".a.p/" not in cmd["output"]:
            continue
        found[rel] = os.path.join(cmd["directory"], cmd["output"])
    return found


def symbols(obj):
    """(defined, undefined) global symbol sets of one object file."""
    out = subprocess.run(["nm", "-g", obj], check=True, capture_output=True, text=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] not in "Uw":
            defined.add(parts[2])
    return defined, undefined


def circles(graph):
    """Strongly connected components with more than one file (Tarjan, iterative)."""
    index, low, on_stack, stack, result = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    result.append(sorted(component))
    return result


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    prefix = "daemon/"
    if "--prefix" in argv:
        prefix = argv[argv.index("--prefix") + 1]
        args.remove(prefix)
    if len(args) != 1 or not os.path.isfile(os.path.join(args[0], "compile_commands.json")):
        print("usage: file-graph.py BUILD_DIR [--prefix daemon/] [--edges]", file=sys.stderr)
        return 2
    files = objects(args[0], prefix)
    if not files:
        print(f"file-graph.py: no objects under '{prefix}' in '{args[0]}'", file=sys.stderr)
        return 2
    owner, needs = {}, {}
    for src, obj in files.items():
        defined, undefined = symbols(obj)
        needs[src] = undefined
        for sym in defined:
            owner[sym] = src
    graph = {src: {owner[s] for s in needs[src] if s in owner and owner[s] != src}
             for src in files}
    if "--edges" in argv:
        for src in sorted(graph):
            for dst in sorted(graph[src]):
                print(f"{src} -> {dst}")
    found = circles(graph)
    for component in found:
        print("circle: " + " <-> ".join(component))
    print(f"file-graph.py: {len(files)} files, "
          f"{sum(len(v) for v in graph.values())} arrows, {len(found)} circles")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
