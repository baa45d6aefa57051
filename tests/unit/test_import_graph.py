"""The shape (issue 22): no import circle, no import running back up, no function over 80 lines in ``src/imblab``.

Every import counts — at module level, inside functions (lazy) and under ``TYPE_CHECKING`` — and importing
``a.b.c`` also imports the package ``a.b`` (its ``__init__``), as Python does. The floors below are the
architecture, bottom to top: a module may import its own floor's package and any floor below, never above.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "imblab"

FLOORS = [
    # the ground: no imblab imports but these
    "errors", "_version", "_format", "_cores",
    "_io",          # atomic writes, bounded reads, folder ownership
    "_model_dir",   # what a model folder is, without the model stack
    "data",         # loading, splits, profile: knows nothing of models
    "evaluation",   # one implementation of each metric, calibration, priors and their correction, costs
    "techniques",   # parts, sampling, losses, posthoc, presets
    "training",     # the one SGD loop
    "integrations", # the transformers Trainer drop-in
    "settings",     # the one table of settings
    "backends",     # one module per backend, and the convex head
    "model",        # TrainedModel
    "run",          # one training run, stored
    "comparison",   # statistics over a study's runs: numbers only
    "reporting",    # renders comparisons: prose, tables, plots
    "study",        # runs a study: plan, store, executors, tuning
    "serving",      # the HTTP app
    "cli",          # the roof
    "__main__",
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imported(source: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The imblab modules an import statement of ``source`` loads (a package's ``__init__`` included)."""
    package = source if MODULES[source].name == "__init__.py" else source.rsplit(".", 1)[0]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        names = [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target for a in node.names]
    else:
        names = [a.name for a in node.names]
    loaded = []
    for name in names:
        parts = name.split(".")
        # a.b.c loads a.b first: every ancestor package that is not already the importer's own ancestor
        for k in range(2, len(parts) + 1):
            prefix = ".".join(parts[:k])
            if prefix in MODULES and not (source == prefix or source.startswith(prefix + ".")):
                loaded.append(prefix)
    return loaded


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges[name].update(t for t in _imported(name, node) if t.startswith("imblab") and t != name)
    return edges


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _floor(module: str) -> int | None:
    parts = module.split(".")
    return FLOORS.index(parts[1]) if len(parts) > 1 and parts[1] in FLOORS else None


def test_every_room_has_a_floor() -> None:
    rooms = {name.split(".")[1] for name in MODULES if name != "imblab"}
    assert rooms <= set(FLOORS), f"add {sorted(rooms - set(FLOORS))} to FLOORS at the right height"


def test_no_import_circles() -> None:
    assert _circles(_graph()) == []


def test_no_import_runs_back_up() -> None:
    upward = []
    for source, targets in _graph().items():
        if source == "imblab":  # the package's facade may name anything (lazily, by attribute)
            continue
        for target in targets:
            here, there = _floor(source), _floor(target)
            if target == "imblab" or (here is not None and there is not None and there > here):
                upward.append(f"{source} -> {target}")
    assert upward == []


@pytest.mark.parametrize("cycle", [["a", "b"], ["a", "b", "c"]])
def test_the_circle_finder_finds_circles(cycle: list[str]) -> None:
    edges = {name: {cycle[(i + 1) % len(cycle)]} for i, name in enumerate(cycle)}
    edges["d"] = {"a"}
    assert _circles(edges) == [sorted(cycle)]


def test_no_function_over_80_lines() -> None:
    long = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > 80:
                    long.append(f"{name}.{node.name}: {length} lines")
    assert long == []
