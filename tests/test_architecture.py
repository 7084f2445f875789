"""docs/architecture.md's module table lists exactly the modules and packages of psyscreen/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "psyscreen"


def _tree() -> set[str]:
    """``module``, ``package/`` and ``package/module`` for every module of the package."""
    names: set[str] = set()
    for f in PKG.rglob("*.py"):
        rel = f.relative_to(PKG)
        if "__pycache__" in rel.parts:
            continue
        if len(rel.parts) > 2 and rel.parts[1] == "migrations":
            names.add(f"{rel.parts[0]}/migrations")  # Alembic's env and revisions: one row
            continue
        if len(rel.parts) > 2:
            raise AssertionError(f"a package nested deeper than the table shows: {rel}")
        if rel.name == "__init__.py" and len(rel.parts) == 2:
            names.add(f"{rel.parts[0]}/")
        elif len(rel.parts) == 2:
            names.add(f"{rel.parts[0]}/{rel.stem}")
        else:
            names.add(rel.stem)
    return names


def _table() -> list[str]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Modules", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.M)


def test_the_module_table_lists_every_module_once_and_nothing_else():
    rows = _table()
    assert len(rows) > 20  # the table was found and parsed
    assert len(rows) == len(set(rows)), sorted(r for r in rows if rows.count(r) > 1)
    tree = _tree()
    assert {"errors", "research/", "research/roc", "__init__"} <= tree  # the walk sees the tree
    missing = sorted(tree - set(rows))
    stale = sorted(set(rows) - tree)
    assert not missing, f"modules not in docs/architecture.md: {missing}"
    assert not stale, f"docs/architecture.md lists modules that do not exist: {stale}"

