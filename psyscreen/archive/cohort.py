"""Cohort view: year-over-year level transitions by school and grade, small cells suppressed.

A child counts in the table of school years ``Y`` -> ``Y2`` when screened in both
(school year: September to August; the latest screening of each year, with
its confirmed level where there is one). Rows are the school and grade of year
``Y`` and the level then; columns the level in ``Y2``. Each school x grade table
is protected with :func:`psyscreen.report.suppression.suppress_table` (counts 1-4 and the
complementary cells hidden, shown as ``<NA>``).

Example:
    >>> school_year("2024-09-01"), school_year("2025-08-31")
    (2024, 2024)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import schema as S
from .events import child_events
from .history import confirmations, level_numbers, read_screenings

ORDER = ["normal", "attention", "high_attention", "crisis", "invalid_response",
         "insufficient_data"]


def school_year(day: str) -> int:
    """The school year (starting in September) of an ISO date."""
    y, m = int(day[:4]), int(day[5:7])
    return y if m >= 9 else y - 1


def transitions(archive: Any, from_year: int, to_year: int, *,
                school: str | None = None) -> pd.DataFrame:
    """Counts of children by (school, grade, level in ``from_year``) x level in ``to_year``."""
    lo, hi = f"{from_year}-09-01", f"{to_year + 1}-08-31"
    with archive.engine.connect() as conn:
        where = (S.screenings.c.assessment_date >= lo) & (S.screenings.c.assessment_date <= hi)
        scr = read_screenings(conn, where, scores=False)
        ev = child_events(conn, None)
        nums = level_numbers(conn)
    scr = confirmations(scr, ev, nums)
    scr["year"] = [school_year(d) for d in scr["assessment_date"]]
    scr["lvl"] = [
        e if (st in (None, "level") or c) else st
        for e, st, c in zip(scr["effective_level"], scr["risk_status"], scr["confirmed_level"])
    ]
    last = scr.groupby(["child_key", "year"], sort=False).tail(1)
    a = last[last["year"] == from_year].set_index("child_key")
    b = last[last["year"] == to_year].set_index("child_key")
    both = a[["school", "grade", "lvl"]].join(b[["lvl"]].rename(columns={"lvl": "lvl_to"}),
                                              how="inner")
    if school is not None:
        both = both[both["school"] == school]
    if both.empty:
        return pd.DataFrame()
    seen = set(both["lvl"]) | set(both["lvl_to"])
    levels = [x for x in ORDER if x in seen] + sorted(seen - set(ORDER))
    from ..report.suppression import Unprotectable, suppress_table

    parts = []
    for (sch, gr), grp in both.groupby(["school", "grade"], sort=True, dropna=False):
        tab = pd.crosstab(grp["lvl"], grp["lvl_to"]).reindex(index=levels, columns=levels,
                                                              fill_value=0)
        counts = tab.to_numpy()
        try:  # column totals of a transition table are published, so protect against them
            hide = suppress_table(
                counts, tiers=[0] * counts.shape[1], totals_hidden=np.zeros(counts.shape[1], bool)
            ).hidden
        except Unprotectable:  # too few children to publish any cell safely
            hide = np.ones(counts.shape, bool)
        shown = tab.astype("Int64").mask(hide)
        shown.index = pd.MultiIndex.from_tuples([(sch, gr, lv) for lv in levels],
                                                names=["school", "grade", f"level_{from_year}"])
        parts.append(shown)
    out = pd.concat(parts)
    out.columns.name = f"level_{to_year}"
    return out
