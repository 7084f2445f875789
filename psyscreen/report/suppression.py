"""Small-cell suppression for published tables of counts, audited by linear algebra.

A table has one row per group and one column per outcome (risk level or status).
Published beside the cells: each group's size (row total), the overall counts
(column totals, themselves a suppressed one-row table) and, when ``merge`` is
given, a merged cell per row (e.g. 重点关注及以上 = 重点关注 + 危机).

Rules:

* **primary**: a count of 1..k-1 is hidden (zeros are shown); so is a merged
  cell of 1..k-1;
* a merged cell of at least k is **always published**, so the number of
  children at the top levels is never hidden when there are at least k of them;
* **complementary**: while some hidden value can be worked out exactly from the
  published values (it is *exposed*), more cells are hidden, choosing the set of
  least cost: cost grows with the stakes of the column (``tiers``: 正常 and the
  re-test statuses cost least, the top levels most) and then with the count, so
  a 正常 cell is hidden before a 关注 cell and a 危机 cell only when nothing else
  protects the table.

A value is exposed when every solution of the published equations (row, column,
merged and total sums, the hidden values as unknowns) gives it the same value:
its coordinate is zero in every null-space vector of the equations restricted
to the hidden values (:func:`exposed`). All hidden cells are non-zero, so a
null-space direction also moves them within non-negative counts: the hidden
values cannot be recovered, not even as bounds that meet.

Example:
    >>> r = suppress_table(np.array([[250, 30, 3, 17]]), tiers=[0, 1, 2, 3], merge=(2, 3))
    >>> r.hidden.astype(int).tolist(), r.merged.tolist(), r.merged_hidden.tolist()
    ([[0, 0, 1, 1]], [20], [False])
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import null_space

THRESHOLD = 5
#: cost of hiding one cell of tier t: TIER_COST**t * (1 + count); tiers dominate counts
TIER_COST = 1e7
#: hiding a zero costs as much as hiding this many children of its tier
ZERO_COST = 999
_TOL = 1e-9


@dataclass(frozen=True)
class Suppressed:
    """A suppressed table: which cells, merged cells and column totals are hidden."""

    counts: np.ndarray  #: rows x columns
    hidden: np.ndarray  #: bool, rows x columns
    merged: np.ndarray  #: per row, the sum of the ``merge`` columns (empty without merge)
    merged_hidden: np.ndarray  #: bool per row
    totals_hidden: np.ndarray  #: bool per column: the column totals as published
    merged_total_hidden: bool


class Unprotectable(Exception):
    """A table whose hidden counts cannot all be protected (``row``: where it failed)."""

    def __init__(self, row: int):
        super().__init__(f"row {row} cannot be protected")
        self.row = row


class _System:
    """Published equations of a table: variables are cells, merged cells and totals."""

    def __init__(self, c: np.ndarray, merge: tuple[int, ...], with_totals: bool):
        r, k = c.shape
        self.names: list[tuple[str, int, int]] = []
        index: dict[tuple[str, int, int], int] = {}

        def var(key: tuple[str, int, int]) -> int:
            if key not in index:
                index[key] = len(self.names)
                self.names.append(key)
            return index[key]

        eqs: list[dict[int, float]] = []
        rows = [("c", i) for i in range(r)] + ([("t", 0)] if with_totals else [])
        for kind, i in rows:
            leaf = "cell" if kind == "c" else "total"
            mkey = "merged" if kind == "c" else "merged_total"
            row = {var((leaf, i, j)): 1.0 for j in range(k) if j not in merge}
            if merge:
                row[var((mkey, i, -1))] = 1.0
                eq = {var((leaf, i, j)): 1.0 for j in merge}
                eq[var((mkey, i, -1))] = -1.0
                eqs.append(eq)
            eqs.append(row)  # = the row total (published)
        if with_totals:
            for j in range(k):
                eq = {var(("cell", i, j)): 1.0 for i in range(r)}
                eq[var(("total", 0, j))] = -1.0
                eqs.append(eq)
            if merge:
                eq = {var(("merged", i, -1)): 1.0 for i in range(r)}
                eq[var(("merged_total", 0, -1))] = -1.0
                eqs.append(eq)
        self.a = np.zeros((len(eqs), len(self.names)))
        for n, eq in enumerate(eqs):
            for v, coef in eq.items():
                self.a[n, v] = coef
        self.index = index

    def exposed(self, hidden: np.ndarray) -> np.ndarray:
        """Per variable: hidden and determined by the published values."""
        return exposed(self.a, hidden)


def exposed(a: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Hidden variables of the system ``a @ x = b`` whose value the system fixes.

    ``hidden``: bool per column of ``a`` (the other values are published).

    Example:
        >>> a = np.array([[1.0, 1.0, 1.0]])  # x0 + x1 + x2 = published total
        >>> exposed(a, np.array([True, False, False])).tolist()
        [True, False, False]
        >>> exposed(a, np.array([True, True, False])).tolist()
        [False, False, False]
    """
    out = np.zeros(len(hidden), dtype=bool)
    cols = np.nonzero(hidden)[0]
    if len(cols) == 0:
        return out
    sub = a[:, cols]
    sub = sub[np.abs(sub).sum(axis=1) > 0]
    if len(sub) == 0:
        return out
    ns = null_space(sub)
    free = np.abs(ns).max(axis=1) > _TOL if ns.size else np.zeros(len(cols), dtype=bool)
    out[cols] = ~free
    return out


def _bounded(a: np.ndarray, hidden: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Hidden values whose least and greatest value given the rest (counts >= 0) meet."""
    from scipy.optimize import linprog

    out = np.zeros(len(hidden), dtype=bool)
    b = a @ value
    bounds = [(0, None) if h else (v, v) for h, v in zip(hidden, value)]
    for v in np.nonzero(hidden)[0]:
        c = np.zeros(len(hidden))
        c[v] = 1.0
        lo = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        hi = linprog(-c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        out[v] = lo.status == 0 and hi.status == 0 and -hi.fun - lo.fun < 0.5
    return out


def suppress_table(
    counts: np.ndarray,
    tiers: Sequence[int],
    merge: Sequence[int] = (),
    totals_hidden: np.ndarray | None = None,
    merged_total_hidden: bool = False,
    threshold: int = THRESHOLD,
    forced: np.ndarray | None = None,
) -> Suppressed:
    """Suppress a table of counts (rows = groups, columns = outcomes).

    ``tiers``: stakes of each column (0 = low: hidden first). ``merge``: columns
    whose sum is published per row (a merged level). ``totals_hidden``: for a
    table of several groups, the column totals as published elsewhere (the
    overall one-row table); ``None``: a one-row table whose cells are the totals.
    ``forced``: cells to hide whatever their count (totals another table had to hide).
    A column total is hidden beyond ``totals_hidden`` only when nothing else protects
    the table (see ``Suppressed.totals_hidden``).

    Example:
        >>> r = suppress_table(np.array([[20, 3, 9], [30, 8, 12]]), tiers=[0, 1, 1],
        ...                    totals_hidden=np.array([False, False, False]))
        >>> r.hidden.astype(int).tolist()
        [[1, 1, 0], [1, 1, 0]]
    """
    c = np.asarray(counts, dtype=np.int64)
    if c.ndim != 2:
        raise ValueError("counts must be a table (rows x columns)")
    merge = tuple(merge)
    r, k = c.shape
    with_totals = totals_hidden is not None
    if with_totals and r < 2:
        raise ValueError("a table of one group is the overall table: give totals_hidden=None")
    sysm = _System(c, merge, with_totals)
    n = len(sysm.names)
    value = np.zeros(n, dtype=np.int64)
    cost = np.full(n, np.inf)  # inf: never hidden as a complement
    hidden = np.zeros(n, dtype=bool)
    for v, (kind, i, j) in enumerate(sysm.names):
        if kind == "cell":
            value[v] = c[i, j]
            # a zero is hidden only when nothing else protects a count (as if it held 999)
            cost[v] = TIER_COST ** tiers[j] * (1 + (c[i, j] if c[i, j] > 0 else ZERO_COST))
            hidden[v] = 0 < c[i, j] < threshold or (forced is not None and bool(forced[i, j]))
        elif kind == "merged":
            value[v] = c[i, list(merge)].sum()
            hidden[v] = 0 < value[v] < threshold
            if hidden[v] or value[v] == 0:
                continue
            # a merged count of at least k is always published
        elif kind == "total":
            value[v] = c[:, j].sum()
            hidden[v] = bool(totals_hidden[j])
            # hidden only when the cells cannot be protected otherwise; the caller then
            # hides it in the overall table too (see :func:`suppress_tables`)
            cost[v] = TIER_COST ** (tiers[j] + 1) * (1 + (value[v] or ZERO_COST))
        elif kind == "merged_total":
            value[v] = c[:, list(merge)].sum()
            hidden[v] = bool(merged_total_hidden)
    hidden = _complement(sysm, hidden, cost, value, c.shape, merge)
    cells = np.zeros((r, k), dtype=bool)
    merged = np.zeros(r if merge else 0, dtype=np.int64)
    merged_hidden = np.zeros(r if merge else 0, dtype=bool)
    for v, (kind, i, j) in enumerate(sysm.names):
        if kind == "cell":
            cells[i, j] = hidden[v]
        elif kind == "merged":
            merged[i], merged_hidden[i] = value[v], hidden[v]
    if with_totals:
        t_hidden = np.zeros(k, dtype=bool)
        for j in range(k):
            t_hidden[j] = hidden[sysm.index["total", 0, j]]
        mt_hidden = bool(merged_total_hidden)
    else:
        t_hidden, mt_hidden = cells[0].copy(), bool(merged_hidden[0]) if merge else False
    return Suppressed(c, cells, merged, merged_hidden, t_hidden, mt_hidden)


def _complement(
    sysm: _System,
    hidden: np.ndarray,
    cost: np.ndarray,
    value: np.ndarray,
    shape: tuple[int, int],
    merge: tuple[int, ...],
) -> np.ndarray:
    """Hide more values until none is exposed, cheapest protecting set first."""
    hidden = hidden.copy()
    for _ in range(hidden.size + 1):
        bad = np.nonzero(sysm.exposed(hidden))[0]
        if len(bad) == 0 and (value[hidden] == 0).any():
            # a hidden zero can only be larger, so check the bounds as well
            bad = np.nonzero(_bounded(sysm.a, hidden, value))[0]
        if len(bad) == 0:
            return hidden
        target = int(bad[0])
        choice = _cheapest_protection(sysm, hidden, cost, target, shape, merge)
        if choice is None:  # nothing hideable protects it: hide the cheapest hideable value
            free = np.nonzero(~hidden & np.isfinite(cost))[0]
            if len(free) == 0:
                raise Unprotectable(sysm.names[target][1])
            choice = [int(free[np.argmin(cost[free])])]
        hidden[choice] = True
    raise RuntimeError("suppression did not converge: this is a bug in psyscreen")


def _cheapest_protection(
    sysm: _System,
    hidden: np.ndarray,
    cost: np.ndarray,
    target: int,
    shape: tuple[int, int],
    merge: tuple[int, ...],
) -> list[int] | None:
    """The cheapest set of 1-3 published values whose hiding frees ``target``.

    Candidates: one more value, and the rectangles (target row or merged cell,
    another row, another column) of the table, tried in order of cost.
    """
    kind, i, j = sysm.names[target]
    r, k = shape
    hideable = ~hidden & np.isfinite(cost)
    cands: list[tuple[float, tuple[int, ...]]] = [(cost[v], (v,)) for v in np.nonzero(hideable)[0]]
    rows = range(r)
    cols = [*range(k), -1] if merge else list(range(k))

    def cell(ii: int, jj: int) -> int | None:
        key = ("merged", ii, -1) if jj == -1 else ("cell", ii, jj)
        return sysm.index.get(key)

    if kind in ("cell", "merged"):
        for i2, j2 in itertools.product(rows, cols):
            if i2 == i or j2 == j:
                continue
            vs = [cell(i, j2), cell(i2, j), cell(i2, j2)]
            if any(v is None or not (hidden[v] or hideable[v]) for v in vs):
                continue
            new = tuple(sorted({v for v in vs if not hidden[v]}))
            if new:
                cands.append((float(sum(cost[list(new)])), new))
    cands.sort(key=lambda t: (t[0], t[1]))
    seen: set[tuple[int, ...]] = set()
    for _, new in cands:
        if new in seen:
            continue
        seen.add(new)
        trial = hidden.copy()
        trial[list(new)] = True
        if not sysm.exposed(trial)[target]:
            return list(new)
    return None


@dataclass(frozen=True)
class GroupTable:
    """A table of groups as published: rows may be folded groups (e.g. 其他)."""

    members: list[list[int]]  #: per published row, the input rows it holds
    result: Suppressed


def fold(counts: np.ndarray, members: list[list[int]], row: int) -> list[list[int]]:
    """``members`` with ``row`` folded into the smallest other row (by children).

    Example:
        >>> fold(np.array([[5, 1], [9, 0], [6, 0]]), [[0], [1], [2]], 0)
        [[0, 2], [1]]
    """
    sizes = [int(counts[m].sum()) for m in members]
    others = [k for k in range(len(members)) if k != row]
    into = min(others, key=lambda k: (sizes[k], k))
    merged = sorted(members[row] + members[into])
    rest = [m for k, m in enumerate(members) if k not in (row, into)]
    return sorted([*rest, merged], key=lambda m: m[0])


def suppress_tables(
    overall: np.ndarray,
    tables: Sequence[np.ndarray],
    tiers: Sequence[int],
    merge: Sequence[int] = (),
    threshold: int = THRESHOLD,
    forced_overall: np.ndarray | None = None,
    forced: Sequence[np.ndarray | None] | None = None,
) -> tuple[Suppressed, list[GroupTable | None]]:
    """Suppress the overall counts and tables of groups that add up to them, together.

    Every table's total row is the overall table as published: when a table can be
    protected only by hiding a total, the overall table hides it too and all tables
    are done again (a reader who sets the tables side by side sees the same totals).
    A group whose counts cannot be protected at all (the published top-level counts
    of the other groups would give it away) is folded into the smallest other group;
    a table left with one row is not published (``None``: it would repeat the
    overall table). ``forced_overall`` / ``forced``: cells to hide whatever their
    count, in the overall table / per table (rows as given), e.g. those a table
    of classes needs hidden in its school's row.

    Example:
        >>> o, [t] = suppress_tables(np.array([20, 8, 9]), [np.array([[12, 3, 5], [8, 5, 4]])],
        ...                          tiers=[0, 1, 1])
        >>> o.hidden.astype(int).tolist(), t.result.hidden.astype(int).tolist()
        ([[0, 0, 0]], [[1, 1, 1], [1, 1, 1]])
    """
    overall = np.asarray(overall, dtype=np.int64).reshape(1, -1)
    forced_top = np.zeros(overall.shape, dtype=bool)
    if forced_overall is not None:
        forced_top[0] |= np.asarray(forced_overall, dtype=bool)
    per_table = list(forced) if forced is not None else [None] * len(tables)
    members = [[[i] for i in range(len(t))] for t in tables]
    for _ in range(overall.size + sum(len(t) for t in tables) + 1):
        top = suppress_table(overall, tiers, merge, threshold=threshold, forced=forced_top)
        done = [
            _group_table(t, members, n, top, tiers, merge, threshold, per_table[n])
            for n, t in enumerate(tables)
        ]
        need = np.logical_or.reduce(
            [d.result.totals_hidden for d in done if d is not None] + [top.hidden[0]]
        )
        if (need == top.hidden[0]).all():
            return top, done
        forced_top[0] |= need
    raise RuntimeError("suppression did not converge: this is a bug in psyscreen")


def _group_table(
    t: np.ndarray,
    members: list[list[list[int]]],
    n: int,
    top: Suppressed,
    tiers: Sequence[int],
    merge: Sequence[int],
    threshold: int,
    forced: np.ndarray | None = None,
) -> GroupTable | None:
    """Table ``n`` suppressed under ``top``, folding groups that cannot be protected."""
    t = np.asarray(t, dtype=np.int64)
    while len(members[n]) >= 2:
        folded = np.array([t[m].sum(axis=0) for m in members[n]], dtype=np.int64)
        f = None
        if forced is not None:
            f = np.array([np.asarray(forced)[m].any(axis=0) for m in members[n]], dtype=bool)
        try:
            res = suppress_table(
                folded,
                tiers,
                merge,
                top.hidden[0],
                top.merged_total_hidden,
                threshold=threshold,
                forced=f,
            )
        except Unprotectable as e:
            members[n] = fold(t, members[n], e.row)
            continue
        return GroupTable(members[n], res)
    return None
