"""The import graph, read with `ast` (nothing is imported): pipeline/ never reaches training/ or torch,
and no package or module imports back up a chain that imports it."""
from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("pipeline", "training")


def module_name(path: Path, root: Path = REPO) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.lru_cache(maxsize=None)
def syntax_tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"))


def imported_names(path: Path, modules: set[str] | None = None) -> set[str]:
    """Every module an import statement names (relative imports resolved), at any depth of the file.
    `from pkg import module` names `pkg.module`, and `pkg` itself only if some name is not one of
    `modules` (a package importing its own submodules is not a cycle with them)."""
    package = module_name(path, next(p for p in path.parents if p.name in PACKAGES).parent).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names = set()
    for node in ast.walk(syntax_tree(path)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            qualified = {f"{module}.{alias.name}" for alias in node.names}
            names.update(qualified)
            if modules is None or not qualified <= modules:
                names.add(module)
    return names


@functools.lru_cache(maxsize=2)
def import_graph(root: Path = REPO) -> dict[str, set[str]]:
    files = {module_name(p, root): p for pkg in PACKAGES for p in (root / pkg).rglob("*.py")}
    graph = {}
    for name, path in files.items():
        graph[name] = {target for target in imported_names(path, set(files)) if target in files and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan's algorithm, iteratively)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]

    def visit(root: str) -> None:
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
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
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter[0]
                counter[0] += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def folder_graph(graph: dict[str, set[str]], root: Path = REPO) -> dict[str, set[str]]:
    """Package -> packages it imports (a module counts for the folder that holds it)."""
    def folder(name: str) -> str:
        path = root / Path(*name.split("."))
        return name if path.is_dir() else name.rpartition(".")[0]
    folders: dict[str, set[str]] = {}
    for name, targets in graph.items():
        folders.setdefault(folder(name), set()).update(folder(t) for t in targets)
    return {f: {t for t in targets if t != f and not f.startswith(t + ".") and not t.startswith(f + ".")}
            for f, targets in folders.items()}


def test_pipeline_never_imports_training_or_torch():
    offenders = []
    for path in sorted((REPO / "pipeline").rglob("*.py")):
        for name in imported_names(path):
            if name.split(".")[0] in ("training", "torch"):
                offenders.append(f"{path.relative_to(REPO)} imports {name}")
    assert not offenders, offenders


def test_the_mixture_format_is_torch_free():
    assert not {n for n in imported_names(REPO / "pipeline" / "tokens" / "mixture.py") if n.startswith("torch")}


def test_the_graph_reader_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


# Cycles tolerated while being removed: none are left, and none may be added.
KNOWN_CYCLES: list[list[str]] = []


@pytest.mark.parametrize("level", ["module", "folder"])
def test_no_import_cycles(level):
    graph = import_graph()
    found = cycles(graph if level == "module" else folder_graph(graph))
    new = [cycle for cycle in found if cycle not in KNOWN_CYCLES]
    assert not new, f"{level} import cycles: {new}"


def test_every_import_of_a_project_module_names_one_that_exists():
    """A module moved (training.mixture -> pipeline.tokens.mixture) leaves no import of its old name."""
    modules = {module_name(p) for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}
    missing = []
    for pkg in (*PACKAGES, "tests", "bench", "dags"):
        for path in sorted((REPO / pkg).rglob("*.py")):
            for node in ast.walk(syntax_tree(path)):
                named = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else [])
                missing += [f"{path.relative_to(REPO)}: {name}" for name in named
                            if name.split(".")[0] in PACKAGES and name not in modules]
    assert not missing, missing
