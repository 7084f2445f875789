"""Small-cell suppression for published tables of counts, at least cost.

A table has one row per group and one column per outcome (risk level or status).
Published beside the cells: each group's size (row total), the overall counts
(column totals, themselves a suppressed one-row table) and, when ``merge`` is
given, a merged cell per row (e.g. 重点关注及以上 = 重点关注 + 危机).

Rules:

* **primary**: a count of 1..k-1 is hidden (zeros are shown); so is a merged
  cell of 1..k-1; in a group of 1..k-1 children every cell is hidden, zeros too
  (the group's size is published, not how its children are spread);
* a merged cell of at least k is **always published**, so the number of
  children at the top levels is never hidden when there are at least k of them;
* **complementary**: while some hidden value can be worked out exactly from the
  published values (it is *exposed*), more cells are hidden, choosing the set of
  least cost: cost grows with the stakes of the column (``tiers``: 正常 and the
  re-test statuses cost least, the top levels most) and then with the count, so
  a 正常 cell is hidden before a 关注 cell and a 危机 cell only when nothing else
  protects the table.

How protection is checked: every published sum (a row, a column, a merged cell,
the total row) is an equation, and every value appears in exactly two of them (a
one-row table's cells in one; a "free" node without equation stands for the
other). With the equations as nodes and the values as edges, the system is the
incidence matrix of a directed graph, so the hidden values can change, all
published ones staying put, exactly along cycles of hidden edges. A hidden value
is *free* when it lies on such a cycle along which every count that goes down is
non-zero (so no count turns negative): then neither its value nor bounds that
meet can be worked out. A value that is not free is protected by the cheapest
such cycle through published values (Dijkstra; hidden values cost nothing), which
are then hidden. A group that cannot be protected is folded into another
(:func:`suppress_tables`).

Example:
    >>> r = suppress_table(np.array([[250, 30, 3, 17]]), tiers=[0, 1, 2, 3], merge=(2, 3))
    >>> r.hidden.astype(int).tolist(), r.merged.tolist(), r.merged_hidden.tolist()
    ([[0, 0, 1, 1]], [20], [False])
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import PsyscreenError

THRESHOLD = 5
#: cost of hiding one cell of tier t: TIER_COST**t * (1 + count); tiers dominate counts
TIER_COST = 1e7
#: hiding a zero costs as much as hiding this many children of its tier
ZERO_COST = 999


@dataclass(frozen=True)
class Suppressed:
    """A suppressed table: which cells, merged cells and column totals are hidden."""

    counts: np.ndarray  #: rows x columns
    hidden: np.ndarray  #: bool, rows x columns
    merged: np.ndarray  #: per row, the sum of the ``merge`` columns (empty without merge)
    merged_hidden: np.ndarray  #: bool per row
    totals_hidden: np.ndarray  #: bool per column: the column totals as published
    merged_total_hidden: bool


class Unprotectable(PsyscreenError):
    """A table whose hidden counts cannot all be protected (``row``: where it failed)."""

    def __init__(self, row: int):
        super().__init__(f"row {row} cannot be protected")
        self.row = row


class _Graph:
    """Equations (nodes) and values (edges: ``kind, row, column`` and two end nodes)."""

    def __init__(self, shape: tuple[int, int], merge: tuple[int, ...], with_totals: bool):
        r, k = shape
        self.names: list[tuple[str, int, int]] = []
        self.ends: list[tuple[str, str]] = []
        self.index: dict[tuple[str, int, int], int] = {}

        def edge(name: tuple[str, int, int], a: str, b: str) -> None:
            self.index[name] = len(self.names)
            self.names.append(name)
            self.ends.append((a, b))

        for i in range(r):
            for j in range(k):
                eq = f"m{i}" if j in merge else f"r{i}"
                edge(("cell", i, j), eq, f"c{j}" if with_totals else "free")
            if merge:
                edge(("merged", i, -1), f"r{i}", f"m{i}")
        if with_totals:
            for j in range(k):
                edge(("total", 0, j), f"c{j}", "mT" if j in merge else "rT")
            if merge:
                edge(("merged_total", 0, -1), "mT", "rT")
        self.adj: dict[str, list[tuple[int, str]]] = {}
        for e, (a, b) in enumerate(self.ends):
            self.adj.setdefault(a, []).append((e, b))
            self.adj.setdefault(b, []).append((e, a))

    def cycle(
        self,
        hidden: np.ndarray,
        value: np.ndarray,
        cost: np.ndarray | None,
        target: int,
        delta: int,
    ) -> list[int] | None:
        """The cheapest cycle through ``target`` along which counts can move, ``target``
        by ``delta`` (+1 or -1): its edges but ``target``, or ``None``.

        Moving round a cycle changes each value by +1 or -1; every value that goes
        down must be non-zero. ``cost=None``: hidden edges only (is ``target`` free?);
        otherwise hidden edges cost nothing and published ones ``cost``.

        Each edge runs from its first equation to its second (the signs that make the
        system a directed graph's incidence matrix), so going along an edge moves it
        by ``-p`` and against it by ``+p``, ``p`` being fixed along the path; the free
        node (no equation) lets ``p`` change.
        """
        # plain lists: this loop runs ~1,000 times per report, numpy scalars cost 10x here
        hid, val = hidden.tolist(), value.tolist()
        costs = None if cost is None else [float(c) for c in cost.tolist()]
        tail, head = self.ends[target]
        starts = [(head, p) for p in (1, -1)] if head == "free" else [(head, -delta)]
        best: dict[tuple[str, int], float] = {}
        back: dict[tuple[str, int], tuple[tuple[str, int], int]] = {}
        heap: list[tuple[float, int, str, int]] = []
        tick = 0
        for st in starts:
            best[st] = 0.0
            heap.append((0.0, tick, *st))
            tick += 1
        while heap:
            d, _, node, p = heapq.heappop(heap)
            if node == tail and p == -delta:
                path, state = [], (node, p)
                while state in back:
                    state, e = back[state]
                    path.append(e)
                return path
            if d > best.get((node, p), np.inf):
                continue
            for e, nxt in self.adj[node]:
                if e == target:
                    continue
                forward = self.ends[e][0] == node and self.ends[e][1] == nxt
                move = -p if forward else p
                if move < 0 and val[e] == 0:
                    continue
                if hid[e]:
                    w = 0.0
                elif costs is None or not math.isfinite(costs[e]):
                    continue
                else:
                    w = costs[e]
                for q in (1, -1) if nxt == "free" else (p,):
                    nd = d + w
                    if nd < best.get((nxt, q), np.inf):
                        best[nxt, q] = nd
                        back[nxt, q] = ((node, p), e)
                        heapq.heappush(heap, (nd, tick, nxt, q))
                        tick += 1
        return None


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
    the table (see ``Suppressed.totals_hidden``). Raises :class:`Unprotectable`.

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
    g = _Graph(c.shape, merge, with_totals)
    n = len(g.names)
    value = np.zeros(n, dtype=np.int64)
    cost = np.full(n, np.inf)  # inf: never hidden as a complement
    hidden = np.zeros(n, dtype=bool)
    sizes = c.sum(axis=1)
    small = (sizes > 0) & (sizes < threshold)
    for v, (kind, i, j) in enumerate(g.names):
        if kind in ("cell", "merged") and small[i]:
            hidden[v] = True
        if kind == "cell":
            value[v] = c[i, j]
            # a zero is hidden only when nothing else protects a count (as if it held 999)
            cost[v] = TIER_COST ** tiers[j] * (1 + (c[i, j] if c[i, j] > 0 else ZERO_COST))
            hidden[v] |= 0 < c[i, j] < threshold or (forced is not None and bool(forced[i, j]))
        elif kind == "merged":  # hidden when small; published from k children on
            value[v] = c[i, list(merge)].sum()
            hidden[v] |= 0 < value[v] < threshold
        elif kind == "total":
            value[v] = c[:, j].sum()
            assert totals_hidden is not None  # the graph has totals only when given them
            hidden[v] = bool(totals_hidden[j])
            # hidden only when the cells cannot be protected otherwise; the caller then
            # hides it in the overall table too (see :func:`suppress_tables`)
            cost[v] = TIER_COST ** (tiers[j] + 1) * (1 + (value[v] or ZERO_COST))
        elif kind == "merged_total":
            value[v] = c[:, list(merge)].sum()
            hidden[v] = bool(merged_total_hidden)
    hidden = _complement(g, hidden, cost, value)
    cells = np.zeros((r, k), dtype=bool)
    merged = np.zeros(r if merge else 0, dtype=np.int64)
    merged_hidden = np.zeros(r if merge else 0, dtype=bool)
    for v, (kind, i, j) in enumerate(g.names):
        if kind == "cell":
            cells[i, j] = hidden[v]
        elif kind == "merged":
            merged[i], merged_hidden[i] = value[v], hidden[v]
    if with_totals:
        t_hidden = np.array([hidden[g.index["total", 0, j]] for j in range(k)], dtype=bool)
        mt_hidden = bool(merged_total_hidden)
    else:
        t_hidden, mt_hidden = cells[0].copy(), bool(merged_hidden[0]) if merge else False
    return Suppressed(c, cells, merged, merged_hidden, t_hidden, mt_hidden)


def _complement(g: _Graph, hidden: np.ndarray, cost: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Hide more values until every hidden one is free, the cheapest cycle first.

    A hidden value is free when it lies on a cycle of hidden values along which the
    counts can move (:meth:`_Graph.cycle`); hiding more never takes that away, so a
    value found free stays free. A zero is hidden as a complement only where it
    would grow (it costs as much as 999 children of its tier).
    """
    hidden = hidden.copy()
    free = np.zeros(len(hidden), dtype=bool)
    deltas = [(1, -1) if value[e] > 0 else (1,) for e in range(len(hidden))]
    for _ in range(len(hidden) + 1):
        target = None
        for e in np.nonzero(hidden & ~free)[0].tolist():
            found = next(
                (c for d in deltas[e] if (c := g.cycle(hidden, value, None, e, d)) is not None),
                None,
            )
            if found is None:
                target = int(e)
                break
            free[[e, *found]] = True
        if target is None:
            return hidden
        options = [
            c for d in deltas[target] if (c := g.cycle(hidden, value, cost, target, d)) is not None
        ]
        if not options:
            raise Unprotectable(g.names[target][1])
        path = min(options, key=lambda c: (sum(cost[e] for e in c if not hidden[e]), len(c)))
        hidden[path] = True
        free[[target, *path]] = True
    raise RuntimeError("suppression did not converge: this is a bug in psyscreen")


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
