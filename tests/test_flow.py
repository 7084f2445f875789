"""The engine's one-way flow: no stage imports a later stage, nothing is cyclic, and only
:mod:`psyscreen.pipeline` runs the stages in order.

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
    # the risk stage (every module of the package, added below): never the sequencer
    "psyscreen.risk": 5,
    "psyscreen.pipeline": 6,
}
RANK.update(
    {
        f"psyscreen.risk.{p.stem}": 5
        for p in (Path(__file__).resolve().parents[1] / "psyscreen" / "risk").glob("*.py")
        if p.stem != "__init__"
    }
)

#: the functions that run one stage, by stage: only the sequencer imports those of more
#: than one stage (a module that does is a second orchestration of the flow)
STAGE_ENTRIES = {
    "item_values": "responses",
    "score_items": "scoring",
    "add_norm_columns": "norms",
    "apply_norms": "norms",
    "route_rows": "risk",
    "evaluate": "risk",
    "build_records": "risk",
}


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _typing_only(tree: ast.AST) -> set[int]:
    """Ids of the nodes under ``if TYPE_CHECKING:`` (never run)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            out |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return out


def _imports(text: str, mod: str, is_package: bool = False, typing: bool = True) -> set[str]:
    """Absolute names of the psyscreen modules that the source ``text`` of module ``mod``
    imports, anywhere in the file (``typing=False``: not counting the imports for type
    checking only)."""
    package = mod if is_package else mod.rsplit(".", 1)[0]
    out: set[str] = set()
    tree = ast.parse(text)
    skip = set() if typing else _typing_only(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
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


def _graph(typing: bool) -> dict[str, set[str]]:
    files = {_module(p): p for p in ROOT.rglob("*.py")}
    out = {}
    for m, p in files.items():
        found = _imports(p.read_text(encoding="utf-8"), m, p.name == "__init__.py", typing)
        mods = {i for i in found if i in files or i == "importlib.import_module"}
        # `from . import columns` imports the module, not (for this check) the package
        out[m] = {i for i in mods if not any(j.startswith(i + ".") for j in mods)}
    return out


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    """Module -> the psyscreen modules it imports (plus ``importlib.import_module``), type
    checking imports included: a stage does not even name a later stage's types."""
    return _graph(typing=True)


@pytest.fixture(scope="module")
def runtime_graph() -> dict[str, set[str]]:
    """Like ``graph``, without the imports under ``if TYPE_CHECKING:``, which cannot cycle."""
    return _graph(typing=False)


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


def test_the_stages_and_the_facades_have_no_import_cycle(
    runtime_graph: dict[str, set[str]],
) -> None:
    graph = runtime_graph
    scope = set(RANK) | {"psyscreen.norms"}
    scope |= {"psyscreen.batch.chunk", "psyscreen.batch.plan", "psyscreen.batch.dask"}
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


def test_the_cycle_check_skips_only_type_checking_imports() -> None:
    src = "if TYPE_CHECKING:\n    from .profile import P\nfrom .views import V\n"
    assert "psyscreen.risk.profile" in _imports(src, "psyscreen.risk.nodes")
    runtime = _imports(src, "psyscreen.risk.nodes", typing=False)
    assert "psyscreen.risk.profile" not in runtime
    assert "psyscreen.risk.views" in runtime


def _stages_imported(text: str) -> set[str]:
    """The stages whose entry functions (:data:`STAGE_ENTRIES`) the source imports by name."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom):
            out |= {STAGE_ENTRIES[a.name] for a in node.names if a.name in STAGE_ENTRIES}
    return out


def test_only_the_pipeline_runs_more_than_one_stage() -> None:
    seq = "psyscreen.pipeline"
    found = {
        _module(p): _stages_imported(p.read_text(encoding="utf-8")) for p in ROOT.rglob("*.py")
    }
    assert found[seq] == set(STAGE_ENTRIES.values())  # the sequencer runs every stage
    others = {m: sorted(s) for m, s in found.items() if m != seq and len(s) > 1}
    assert not others, f"modules running several stages besides {seq}: {others}"


def test_the_stage_check_sees_a_second_sequencer() -> None:
    src = "from .scoring import score_items\nfrom .risk.evaluate import evaluate\n"
    assert _stages_imported(src) == {"scoring", "risk"}


def test_the_public_screen_functions_are_the_sequencers() -> None:
    import psyscreen
    from psyscreen import pipeline

    assert psyscreen.screen is pipeline.screen
    assert psyscreen.screen_records is pipeline.screen_records
    assert psyscreen.score is pipeline.score


@pytest.mark.parametrize("profile", ["default", "school"])
def test_a_batch_plan_chooses_the_norm_tables_once(profile: str, monkeypatch) -> None:
    """The chunks score with the plan's tables: they give what :func:`psyscreen.screen`
    gives, with choosing tables made impossible once the plan exists."""
    import pandas as pd

    import psyscreen
    from psyscreen import pipeline, risk
    from psyscreen.batch.chunk import prepare, score_frame
    from psyscreen.batch.mapping import MappingSpec
    from psyscreen.batch.plan import plan_for

    prof = psyscreen.load_profile(profile)
    items = [i for inst in prof.instruments for i in psyscreen.load_instrument(inst).item_ids]
    df = pd.DataFrame(
        {**{i: ["1", "2", "0"] for i in items}, "age": ["13", "8", "16"], "sex": ["1", "2", "2"]}
    )
    spec = MappingSpec.model_validate({"columns": {"age": "age", "sex": "sex"}})
    plan = plan_for(list(df.columns), spec, profile)
    canon = prepare(df, plan)
    expected = psyscreen.screen(canon, profile, demographics=plan.demographics())
    assert plan.tables is not None and any(plan.tables.parts.values())

    def no_choosing(*args: object, **kwargs: object) -> None:
        raise AssertionError("a chunk chose norm tables again")

    monkeypatch.setattr(risk, "select_tables", no_choosing)
    monkeypatch.setattr(pipeline, "select_tables", no_choosing)
    out, _ = score_frame(canon, plan)
    pd.testing.assert_frame_equal(out, expected)
    with pytest.raises(AssertionError, match="chose norm tables"):
        psyscreen.screen(canon, profile, demographics=plan.demographics())


def test_the_moved_screen_functions_keep_a_deprecated_alias() -> None:
    import psyscreen
    import psyscreen.risk

    with pytest.warns(DeprecationWarning, match="psyscreen.screen"):
        assert psyscreen.risk.screen is psyscreen.screen
    with pytest.warns(DeprecationWarning):
        from psyscreen.risk import screen_records
    assert screen_records is psyscreen.screen_records
    with pytest.raises(AttributeError):
        psyscreen.risk.no_such_name  # noqa: B018
