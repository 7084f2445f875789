"""The distinct answer texts of an export's columns, with counts, read in bounded memory.

``psyscreen map init`` and ``map check`` look at what a column holds without
scoring it: the readers of :mod:`psyscreen.batch.io` stream the asked columns in
chunks and only counts are kept (at most ``max_distinct`` texts per column; the
rest is counted as ``other``). Only columns the caller asks for are read, so a
name or free-text column is never read at all.

Example:
    >>> import pandas as pd
    >>> t = ColumnTexts()
    >>> t.add(pd.Series(["好几天", " 好几天", "", None]))
    >>> t.counts, t.blank, t.rows
    ({'好几天': 2}, 2, 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from .io import Source
from .mapping import as_text_category

#: distinct texts remembered per column (answer columns have a handful)
MAX_DISTINCT = 200
#: longest answer text shown in a report (answer options are not personal data)
MAX_TEXT = 40


@dataclass
class ColumnTexts:
    """Counts of the trimmed texts of one column (blank cells counted apart)."""

    counts: dict[str, int] = field(default_factory=dict)
    blank: int = 0
    other: int = 0  # cells whose text was not remembered (beyond ``max_distinct``)
    rows: int = 0
    max_distinct: int = MAX_DISTINCT

    def add(self, col: pd.Series) -> None:
        """Count the cells of one chunk of the column."""
        cat = as_text_category(col)
        self.rows += len(cat)
        vc = cat.value_counts(dropna=False, sort=False)
        for text, n in vc.items():
            n = int(n)
            if n == 0:
                continue
            # the categories are texts (as_text_category); NaN is a blank cell
            if not isinstance(text, str) or text == "":
                self.blank += n
            elif text in self.counts or len(self.counts) < self.max_distinct:
                self.counts[text] = self.counts.get(text, 0) + n
            else:
                self.other += n

    @property
    def texts(self) -> list[str]:
        """The texts seen, most frequent first."""
        return sorted(self.counts, key=lambda t: (-self.counts[t], t))


def shown(text: str, limit: int = MAX_TEXT) -> str:
    """An answer text cut for a report.

    Example:
        >>> shown("好几天"), len(shown("x" * 50)), shown("x" * 50)[-1]
        ('好几天', 40, '…')
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scan_texts(
    source: Source,
    columns: Sequence[str],
    *,
    max_rows: int | None = None,
    chunk_rows: int = 20_000,
) -> tuple[dict[str, ColumnTexts], int]:
    """({column: ColumnTexts}, rows read) over the first ``max_rows`` rows (all if None)."""
    cols = list(dict.fromkeys(columns))
    out = {c: ColumnTexts() for c in cols}
    if not cols:
        return out, 0
    rows = 0
    for chunk in source.chunks(cols, cols, chunk_rows):
        if max_rows is not None and rows + len(chunk) > max_rows:
            chunk = chunk.iloc[: max_rows - rows]
        for c in cols:
            out[c].add(chunk[c])
        rows += len(chunk)
        if max_rows is not None and rows >= max_rows:
            break
    return out, rows
