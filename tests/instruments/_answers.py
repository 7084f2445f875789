"""Helpers for the instrument golden tests: build answer rows, score them.

Every expected number in these tests is worked by hand from the published scoring
rule named in the test, never copied from psyscreen's output.

Example:
    >>> df = answers("gad7", {"gad7_1": 3}, fill=0)
    >>> int(df.loc[0, "gad7_1"]), int(df.loc[0, "gad7_2"])
    (3, 0)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

import psyscreen

Row = Mapping[str, float | None]


def answers(instrument: str, *rows: Row, fill: float | None = 0) -> pd.DataFrame:
    """One row per mapping; items not named get ``fill`` (None = blank)."""
    inst = psyscreen.load_instrument(instrument)
    out = []
    for r in rows:
        unknown = set(r) - set(inst.item_ids)
        if unknown:
            raise KeyError(f"not items of {instrument}: {sorted(unknown)}")
        out.append({i: _v(r.get(i, fill)) for i in inst.item_ids})
    return pd.DataFrame(out, columns=inst.item_ids, dtype=float)


def _v(x: float | None) -> float:
    return np.nan if x is None else float(x)


def score(instrument: str, *rows: Row, fill: float | None = 0) -> pd.DataFrame:
    """Score rows built by :func:`answers`."""
    return psyscreen.score(answers(instrument, *rows, fill=fill), instrument)


def with_sum(items: list[str], total: int, top: int) -> dict[str, int]:
    """Answers for ``items`` whose plain sum is ``total`` (fills with ``top`` first).

    Example:
        >>> with_sum(["a", "b", "c"], 5, 2)
        {'a': 2, 'b': 2, 'c': 1}
    """
    if not 0 <= total <= top * len(items):
        raise ValueError("total out of range")
    out, left = {}, total
    for i in items:
        out[i] = min(top, left)
        left -= out[i]
    return out
