"""The package's module map: how many levels its imports stack, which module sits on which, and its cycles.

    .venv/bin/python eval/module_map.py [--package qa] [--group]

A module's level is 1 + the highest level of the modules it imports (a module importing nothing of
the package is on level 1); a cycle counts as one module. Imports inside functions count (grimp reads
them). `--group` maps each module to its stage (its first sub-package), as the import-linter
contract in pyproject.toml sees it. `lint-imports` checks that layering.
"""

from __future__ import annotations

import argparse
import sys

import grimp


def strongly_connected(nodes: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
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
            out.append(sorted(comp))

    for v in nodes:
        if v not in index:
            visit(v)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", default="qa")
    ap.add_argument("--group", action="store_true", help="one node per stage (first sub-package) instead of per module")
    args = ap.parse_args()
    graph = grimp.build_graph(args.package, include_external_packages=False)

    def node(m: str) -> str:
        return ".".join(m.split(".")[:2]) if args.group else m

    nodes = sorted({node(m) for m in graph.modules if m != args.package})
    edges: dict[str, set[str]] = {n: set() for n in nodes}
    for m in graph.modules:
        if m == args.package:
            continue
        for d in graph.find_modules_directly_imported_by(m):
            if d != args.package and node(d) != node(m):
                edges[node(m)].add(node(d))
    components = strongly_connected(nodes, edges)
    comp_of = {m: i for i, c in enumerate(components) for m in c}
    level: dict[int, int] = {}
    for i, c in enumerate(components):  # Tarjan yields components in reverse topological order
        below = [level[comp_of[d]] for m in c for d in edges[m] if comp_of[d] != i]
        level[i] = 1 + max(below, default=0)
    levels = max(level.values(), default=0)
    print(f"{len(nodes)} {'stages' if args.group else 'modules'}, {sum(len(e) for e in edges.values())} imports, "
          f"{levels} levels, {sum(len(c) > 1 for c in components)} cycles")
    for lv in range(levels, 0, -1):
        names = sorted(m for i, c in enumerate(components) if level[i] == lv for m in c)
        print(f"level {lv:2d}: {' '.join(n.removeprefix(args.package + '.') for n in names)}")
    for c in components:
        if len(c) > 1:
            print("cycle: " + " <-> ".join(n.removeprefix(args.package + ".") for n in c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
