"""Small-cell suppression: an independent audit by linear programming.

For every hidden value, the smallest and the largest value consistent with what a
reader sees (cells, merged cells and totals shown, all counts >= 0) are found with
``scipy.optimize.linprog``; a value is protected when they differ. The equations
are written here from the table's layout, not taken from the code under test.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from psyscreen.report.suppression import THRESHOLD as K
from psyscreen.report.suppression import suppress_table, suppress_tables

TIERS = [0, 1, 2, 3, 0]  # 正常, 关注, 重点关注, 危机, a re-test status
MERGE = (2, 3)  # 重点关注及以上


def _audit(counts, shown_cells, shown_merged, shown_totals, shown_mt, one_row):
    """(min, max) of each unknown cell given the published values (LP, x >= 0)."""
    r, k = counts.shape
    n = r * k  # unknowns: every cell; published ones are fixed by an equation

    def idx(i, j):
        return i * k + j

    a_eq, b_eq = [], []

    def eq(coefs, value):
        row = np.zeros(n)
        for v, c in coefs:
            row[v] += c
        a_eq.append(row)
        b_eq.append(value)

    for i in range(r):
        eq([(idx(i, j), 1) for j in range(k)], counts[i].sum())  # group sizes are published
        for j in range(k):
            if shown_cells[i, j]:
                eq([(idx(i, j), 1)], counts[i, j])
        if shown_merged[i]:
            eq([(idx(i, j), 1) for j in MERGE], counts[i, list(MERGE)].sum())
    if not one_row:
        for j in range(k):
            if shown_totals[j]:
                eq([(idx(i, j), 1) for i in range(r)], counts[:, j].sum())
        if shown_mt:
            eq([(idx(i, j), 1) for i in range(r) for j in MERGE], counts[:, list(MERGE)].sum())
        eq([(v, 1) for v in range(n)], counts.sum())
    bounds = [(0, None)] * n
    out = {}
    for i in range(r):
        for j in range(k):
            if shown_cells[i, j]:
                continue
            c = np.zeros(n)
            c[idx(i, j)] = 1
            lo = linprog(c, A_eq=np.array(a_eq), b_eq=b_eq, bounds=bounds, method="highs")
            hi = linprog(-c, A_eq=np.array(a_eq), b_eq=b_eq, bounds=bounds, method="highs")
            assert lo.status == 0 and hi.status == 0
            out[i, j] = (lo.fun, -hi.fun)
    return out


small = st.one_of(st.integers(0, 6), st.integers(0, 40))
tables = st.integers(2, 4).flatmap(
    lambda r: st.lists(
        st.lists(small, min_size=5, max_size=5).filter(lambda row: sum(row) > 0),
        min_size=r,
        max_size=r,
    )
)


def _check(res, counts, one_row):
    shown = ~res.hidden
    # primary: every count of 1..k-1 is hidden, and every cell of a group of 1..k-1
    assert res.hidden[(counts > 0) & (counts < K)].all()
    assert res.hidden[counts.sum(axis=1) < K].all()
    # 重点关注 + 危机: published whenever the group has at least k children at those levels
    merged = counts[:, list(MERGE)].sum(axis=1)
    assert (~res.merged_hidden[merged >= K]).all()
    assert (res.merged == merged).all()
    audit = _audit(
        counts, shown, ~res.merged_hidden, ~res.totals_hidden, not res.merged_total_hidden, one_row
    )
    for (i, j), (lo, hi) in audit.items():
        assert hi - lo > 1e-6, f"cell {(i, j)} of {counts.tolist()} is recoverable"


@settings(max_examples=60, deadline=None)
@given(st.lists(small, min_size=5, max_size=5).filter(lambda row: sum(row) >= K))
def test_one_row_table_hides_nothing_recoverable(row):
    counts = np.array([row])
    _check(suppress_table(counts, TIERS, MERGE), counts, one_row=True)


@settings(max_examples=60, deadline=None)
@given(tables)
def test_group_table_hides_nothing_recoverable_and_publishes_the_top_levels(rows):
    counts = np.array(rows)
    overall, [table] = suppress_tables(counts.sum(axis=0), [counts], TIERS, MERGE)
    _check(overall, counts.sum(axis=0, keepdims=True), one_row=True)
    if table is None:  # folded into one row: only the overall table is published
        return
    assert sorted(i for m in table.members for i in m) == list(range(len(counts)))
    counts = np.array([counts[m].sum(axis=0) for m in table.members])
    res = table.result
    # the total row is the overall table as published, and that table is safe too
    assert (res.totals_hidden == overall.hidden[0]).all()
    _check(res, counts, one_row=False)


def test_the_issue_example_publishes_crisis_and_prefers_normal():
    # suppress([[250, 30, 3, 17]]) used to hide 危机 17; now 3 and 17 merge into 20
    res = suppress_table(np.array([[250, 30, 3, 17, 0]]), TIERS, MERGE)
    assert res.hidden.astype(int).tolist() == [[0, 0, 1, 1, 0]]
    assert res.merged.tolist() == [20] and not res.merged_hidden[0]
    # a status count of 3 is protected by the 正常 cell, not by 关注 or the top levels
    res = suppress_table(np.array([[250, 30, 6, 17, 3]]), TIERS, MERGE)
    assert res.hidden.astype(int).tolist() == [[1, 0, 0, 0, 1]]
