"""Architecture figures of the product code: import cycles, imports inside functions, big files and functions.

    PYTHONPATH=. python bench/architecture.py            # the figures
    PYTHONPATH=. python bench/architecture.py --list     # and the places behind them

Import cycles are the strongly connected components of the import graph of `backend_stub` (grimp, the
graph library of import-linter; imports inside functions count). "Imports inside functions" counts the
import statements of the project's own packages (backend_stub, selfcare, selfcare_common) written inside a
function of the product code, and separately those of other libraries.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("backend_stub", "selfcare", "selfcare_common")
OWN = PRODUCT
BIG_FILE = 600
BIG_FUNCTION = 80


def product_files() -> list[Path]:
    files: list[Path] = []
    for package in PRODUCT:
        base = ROOT / package
        if base.is_dir():
            files += [p for p in sorted(base.rglob("*.py")) if "migrations" not in p.parts]
    return files


def import_cycles(package: str = "backend_stub") -> list[list[str]]:
    """The strongly connected components (of two or more modules) of the package's import graph."""
    import grimp

    graph = grimp.build_graph(package, cache_dir=None)
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:  # iterative Tarjan
        nonlocal counter
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    return sorted(components)


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return ["." * node.level + (node.module or "")]
    return [alias.name for alias in node.names]


def function_imports(files: list[Path]) -> tuple[list[str], list[str]]:
    """(own, other): `path:line module` of import statements inside functions."""
    own: list[str] = []
    other: list[str] = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    for name in _imported(node):
                        place = f"{path.relative_to(ROOT)}:{node.lineno} {name}"
                        (own if name.startswith(".") or name.split(".")[0] in OWN else other).append(place)
    # a nested function's imports are found once per enclosing function: keep each place once
    return sorted(set(own)), sorted(set(other))


def big_files(files: list[Path]) -> list[str]:
    rows = []
    for path in files:
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > BIG_FILE:
            rows.append(f"{path.relative_to(ROOT)} {lines}")
    return rows


def big_functions(files: list[Path]) -> list[str]:
    rows = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > BIG_FUNCTION:
                    rows.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {length}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the places behind the figures")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    files = product_files()
    cycles = import_cycles()
    own, other = function_imports(files)
    files_over = big_files(files)
    functions_over = big_functions(files)
    print(f"product files: {len(files)} (backend_stub, selfcare, selfcare_common; migrations left out)")
    print(f"import cycles in backend_stub: {len(cycles)} ({sum(len(c) for c in cycles)} modules)")
    print(f"imports inside functions: {len(own)} of the project's modules, {len(other)} of other libraries")
    print(f"files over {BIG_FILE} lines: {len(files_over)}")
    print(f"functions over {BIG_FUNCTION} lines: {len(functions_over)}")
    if args.list:
        for number, cycle in enumerate(cycles, 1):
            print(f"cycle {number}: {' '.join(cycle)}")
        for title, rows in (
            ("own import", own),
            ("other import", other),
            ("file", files_over),
            ("function", functions_over),
        ):
            for row in rows:
                print(f"{title}: {row}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
