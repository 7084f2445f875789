"""The engine's one-way flow: no stage imports a later stage, and nothing is cyclic.

The imports are read from the source (``ast``), at any depth of a module (a lazy import
inside a function counts), so a backward edge cannot hide behind ``importlib`` either.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "psyscreen"

#: the stages in flow order; a module may reach (import, directly or not) only modules of
#: its own or an earlier rank
RANK = {
    "psyscreen.vocab": 0,
    "psyscreen.columns": 0,
    "psyscreen.categories": 0,
    "psyscreen.bands": 1,
    "psyscreen.demographics": 1,
    "psyscreen.responses": 2,
    "psyscreen.problems": 3,
    "psyscreen.scoring": 3,
    "psyscreen.norms.apply": 4,
    "psyscreen.pipeline": 5,
}


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(text: str, mod: str, is_package: bool = False) -> set[str]:
    """Absolute names of the psyscreen modules that the source ``text`` of module ``mod``
    imports, anywhere in the file."""
    package = mod if is_package else mod.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            out.add(stem)
            out |= {f"{stem}.{a.name}" for a in node.names}  # `from . import columns`
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            out.add("importlib.import_module")
    return {m for m in out if m.startswith("psyscreen") or m == "importlib.import_module"}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    """Module -> the psyscreen modules it imports (plus ``importlib.import_module``)."""
    files = {_module(p): p for p in ROOT.rglob("*.py")}
    out = {}
    for m, p in files.items():
        found = _imports(p.read_text(encoding="utf-8"), m, p.name == "__init__.py")
        mods = {i for i in found if i in files or i == "importlib.import_module"}
        # `from . import columns` imports the module, not (for this check) the package
        out[m] = {i for i in mods if not any(j.startswith(i + ".") for j in mods)}
    return out


def _reach(graph: dict[str, set[str]], mod: str) -> set[str]:
    """Every module ``mod`` imports, directly or through others (packages included)."""
    seen: set[str] = set()
    todo = [mod]
    while todo:
        for n in graph.get(todo.pop(), ()):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


@pytest.mark.parametrize("mod", sorted(RANK))
def test_no_stage_imports_a_later_stage(mod: str, graph: dict[str, set[str]]) -> None:
    later = sorted(i for i in _reach(graph, mod) if RANK.get(i, -1) > RANK[mod])
    assert not later, f"{mod} imports later stages {later}"
    assert "importlib.import_module" not in graph[mod]


def test_the_stages_and_the_facades_have_no_import_cycle(graph: dict[str, set[str]]) -> None:
    scope = set(RANK) | {"psyscreen.norms", "psyscreen.risk", "psyscreen.risk.evaluate"}
    scope |= {"psyscreen.batch.chunk"}
    seen: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(m: str, path: list[str]) -> None:
        seen[m] = 1
        for n in sorted(graph.get(m, ())):
            if n not in scope:
                continue
            if seen.get(n) == 1:
                pytest.fail("import cycle: " + " -> ".join([*path, m, n]))
            if n not in seen:
                visit(n, [*path, m])
        seen[m] = 2

    for m in sorted(scope):
        if m not in seen:
            visit(m, [])


def test_the_check_sees_a_lazy_backward_edge() -> None:
    """What the old scoring -> norms edge looked like: a relative import in a function,
    and a stage reached through importlib."""
    src = "def f():\n    from .norms import apply_norms\n    importlib.import_module('x')\n"
    found = _imports(src, "psyscreen.scoring")
    assert {"psyscreen.norms", "psyscreen.norms.apply_norms"} <= found
    assert "importlib.import_module" in found
    assert "psyscreen.batch.run" in _imports("from ..batch import run", "psyscreen.norms.apply")
