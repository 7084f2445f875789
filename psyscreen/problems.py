"""Cell problems as typed arrays, passed from scoring to the batch and report layers.

A :class:`CellProblems` holds one entry per invalid answer (out of range or not a
number): the row position, the instrument, the item and the problem code, as parallel
arrays sorted by row then item. It is made from the item values of a stage, never
by parsing the ``{instrument}.problems`` text back.

Example:
    >>> import pandas as pd
    >>> from psyscreen import load_instrument
    >>> from psyscreen.responses import item_values
    >>> inst = load_instrument("gad7")
    >>> iv = item_values(pd.DataFrame({"gad7_1": [0, 7, "x"]}), inst, missing_columns="missing")
    >>> p = CellProblems.of(iv, inst.id)
    >>> p.row.tolist(), p.item.tolist(), p.names()
    ([1, 2], ['gad7_1', 'gad7_1'], ['out_of_range', 'non_numeric'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .responses import ItemValues
from .vocab import DATA_ERRORS, CellProblem


@dataclass(frozen=True)
class CellProblems:
    """Invalid answers: parallel arrays ``row`` (int64 position), ``instrument`` and
    ``item`` (object) and ``code`` (int8 :class:`~psyscreen.vocab.CellProblem`)."""

    row: np.ndarray
    instrument: np.ndarray
    item: np.ndarray
    code: np.ndarray

    def __len__(self) -> int:
        return len(self.row)

    @classmethod
    def empty(cls) -> CellProblems:
        """No problems."""
        obj = np.array([], dtype=object)
        return cls(np.array([], dtype=np.int64), obj, obj, np.array([], dtype=np.int8))

    @classmethod
    def of(cls, iv: ItemValues, instrument: str) -> CellProblems:
        """The data errors among ``iv``'s cells, sorted by row then item position."""
        rows, cols = np.nonzero(np.isin(iv.problem, DATA_ERRORS))
        if len(rows) == 0:
            return cls.empty()
        order = np.lexsort((cols, rows))
        rows, cols = rows[order], cols[order]
        return cls(
            rows.astype(np.int64),
            np.full(len(rows), instrument, dtype=object),
            np.asarray(iv.items, dtype=object)[cols],
            iv.problem[rows, cols].astype(np.int8),
        )

    @classmethod
    def concat(cls, parts: Sequence[CellProblems]) -> CellProblems:
        """The parts one after the other (instrument by instrument)."""
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.row for p in parts]).astype(np.int64),
            np.concatenate([p.instrument for p in parts]).astype(object),
            np.concatenate([p.item for p in parts]).astype(object),
            np.concatenate([p.code for p in parts]).astype(np.int8),
        )

    def take(self, keep: np.ndarray) -> CellProblems:
        """The entries where the boolean mask ``keep`` is true."""
        return CellProblems(self.row[keep], self.instrument[keep], self.item[keep], self.code[keep])

    def shifted(self, rows: np.ndarray) -> CellProblems:
        """The same problems with row positions mapped through ``rows`` (``rows[i]``)."""
        return CellProblems(rows[self.row], self.instrument, self.item, self.code)

    def names(self) -> list[str]:
        """The problem names, e.g. ``'out_of_range'``."""
        return [CellProblem(int(c)).text for c in self.code]

    def to_frame(self, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
        """The long table of :func:`psyscreen.score_detailed`: ``row``, ``instrument``,
        ``item``, ``column`` (the data column, through ``columns``) and ``problem``."""
        colmap = dict(columns or {})
        return pd.DataFrame(
            {
                "row": pd.Series(self.row, dtype="int64"),
                "instrument": pd.Series(self.instrument, dtype="object"),
                "item": pd.Series(self.item, dtype="object"),
                "column": pd.Series([colmap.get(i, i) for i in self.item], dtype="object"),
                "problem": pd.Series(self.names(), dtype="object"),
            }
        )
