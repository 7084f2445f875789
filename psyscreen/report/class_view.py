"""The class view of the aggregate report (三级预警 班级—学校—社会): per school, its
classes grouped by grade, under the same suppression as every other table.

Each school's class table has the school's row as its total row, exactly as the
school table publishes it; a class table that needs another cell of that row
hidden asks the school table to hide it too (:func:`class_tables` returns those
cells, and :func:`~psyscreen.report.aggregate.render_report` suppresses again).

Example:
    >>> from psyscreen.report.i18n import Messages
    >>> keys = {("8", "1班"): np.array([6, 0]), ("8", "2班"): np.array([2, 1]),
    ...         ("(invalid)", "3班"): np.array([5, 1])}
    >>> [label for label, _ in class_groups(keys, Messages("zh"))]
    ['初二 1班', '其他']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .aggregate import _LOW, _natural_key, _reorder, published_rows, with_other
from .i18n import Messages
from .suppression import THRESHOLD, GroupTable, Suppressed, suppress_tables


@dataclass
class ClassTable:
    """One school's published class table."""

    school: str
    labels: list[str]
    counts: np.ndarray
    result: Suppressed
    top: Suppressed
    school_counts: np.ndarray


def class_groups(
    groups: dict[tuple[str, str], np.ndarray], t: Messages, k: int = THRESHOLD
) -> list[tuple[str, list[tuple[str, str]]]]:
    """(label, member keys) per class of one school: ``(grade code, class name)`` keys.

    A class is named (grade name + class name) when its grade parses and at least
    ``k`` children share the pair; every other class goes to 其他.
    """
    named, other = [], []
    for (grade, klass), arr in groups.items():
        n = int(arr.sum())
        if grade in _LOW or klass in _LOW or not klass or n < k:
            other.append((grade, klass))
            continue
        named.append(
            (f"{t.grade(int(grade))} {klass}", [(grade, klass)], (int(grade), _natural_key(klass)))
        )
    return with_other(named, other, t)


def class_tables(
    counts: dict[Any, np.ndarray],
    school_labels: list[str],
    school_keys: list[list[Any]],
    school_arr: np.ndarray,
    school_table: GroupTable,
    cols: Any,
    t: Messages,
    k: int = THRESHOLD,
) -> tuple[list[ClassTable], np.ndarray | None]:
    """The class tables of the named schools, and cells their school rows must hide.

    ``counts``: the report's ``(school, grade, class)`` counts (all outcome columns);
    ``school_keys``: per row of ``school_arr`` (the school table before folding), the
    school names it holds. Returns (tables, ``None`` or a mask over ``school_arr``).
    """
    need = np.zeros(school_arr.shape, dtype=bool)
    out: list[ClassTable] = []
    for i, members in enumerate(school_table.members):
        if len(members) != 1 or len(school_keys[members[0]]) != 1:
            continue  # 其他: its classes are not shown
        row = members[0]
        name = school_keys[row][0]
        mine = {(g, c): arr[cols.idx] for (s, g, c), arr in counts.items() if s == name}
        groups = class_groups(mine, t, k)
        if len(groups) < 2:
            continue
        arr = np.array([sum(mine[x] for x in keys) for _, keys in groups], dtype=np.int64)
        shown = school_table.result.hidden[i]
        top, [tab] = suppress_tables(
            school_arr[row], [arr], cols.tiers, cols.merge, k, forced_overall=shown
        )
        extra = top.hidden[0] & ~shown
        if extra.any():
            need[row] |= top.hidden[0]
            continue
        if tab is None:
            continue
        order = sorted(range(len(tab.members)), key=lambda i: (len(tab.members[i]) > 1, i))
        rows_of = [tab.members[i] for i in order]
        labels, sums = published_rows(rows_of, [g[0] for g in groups], arr, t)
        result = _reorder(tab.result, order)
        out.append(ClassTable(school_labels[row], labels, sums, result, top, school_arr[row]))
    return out, (need if need.any() else None)
