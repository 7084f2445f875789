"""Answer codes numbered differently from the scale: declared, or caught before grading.

Survey platforms can export the *position* of the chosen option instead of its
code: 问卷星 "按选项序号" gives PHQ-9 answers 1-4 where the scale is 0-3. Scored as
they are, most children would come out at the top of the scale (in one test 290 of
300 were graded 危机), and every 4 would be out of range. Two defences:

* the mapping declares the numbering, ``codes_start: {phq9: 1}`` (or one number for
  every instrument); :func:`answer_tables` then reads the export's codes shifted
  back (:func:`~psyscreen.batch.mapping.shift_codes`);
* for an instrument without such a declaration, :class:`CodingCheck` looks at the
  codes **after** the answer tables are applied (a table mapping ``"1"`` to 0 is not
  a mismatch) in the first :data:`CHECK_ROWS` data rows of the file, and refuses the
  run when they look shifted up by one: no answer anywhere at the scale's lowest
  code, and the code one past the scale's maximum in at least :data:`MIN_TOP_SHARE`
  of the rows that answered the instrument.

Why the first rows: the decision must not depend on ``--chunk-rows`` or
``--workers`` (outputs are identical whatever they are), must come before the
bulk of the file is graded, and a coding is a property of the export, not of a
row, so 1,000 rows are ample evidence. With the default chunk of 50,000 rows the
check ends before the first chunk is scored; with smaller chunks some chunks may be
scored first, into temporary files that the refusal removes
(:mod:`psyscreen.batch.outputs`): nothing graded from a shifted coding comes out.

Example:
    >>> import pandas as pd
    >>> from psyscreen import load_instrument
    >>> from psyscreen.batch.plan import make_plan
    >>> plan = make_plan([f"phq9_{i}" for i in range(1, 10)], MappingSpec(),
    ...                  [load_instrument("phq9")])
    >>> chunk = pd.DataFrame({f"phq9_{i}": ["1", "4", "2"] for i in range(1, 10)})
    >>> check = CodingCheck(plan)
    >>> try:
    ...     check.feed(chunk)
    ...     check.finish()
    ... except ValueError as e:
    ...     print(str(e).split(" / ")[1][:71])
    phq9: the answers look numbered from 1, not from 0 (no 0 in the first 3
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..definitions import Instrument
from .mapping import MappingSpec, label_codes, map_answers, shift_codes

#: data rows (from the top of the file) the coding check looks at
CHECK_ROWS = 1000
#: share of answering rows with the code one past the maximum that makes a shift likely
MIN_TOP_SHARE = 0.01


def answer_tables(
    spec: MappingSpec, instruments: Sequence[Instrument]
) -> dict[str, dict[str, str]]:
    """Item id -> answer table (trimmed text -> code text), declared numberings applied.

    Raises :class:`~psyscreen.batch.BatchError` for a ``codes_start`` naming an
    instrument not in the run.
    """
    if isinstance(spec.codes_start, dict):
        unknown = sorted(set(spec.codes_start) - {i.id for i in instruments})
        if unknown:
            raise _error(
                f"codes_start 中的量表不在本次方案中 / codes_start names "
                f"{', '.join(unknown)}, not an instrument of this run "
                f"({', '.join(i.id for i in instruments)}): fix the mapping"
            )
    tables = {}
    for inst in instruments:
        start = spec.code_start(inst.id)
        for item in inst.items:
            table = spec.answer_table(item.id, inst.id, label_codes(inst, item.id))
            if start is not None:
                rs = inst.response_scales[item.response_scale]
                special = {str(c.code) for c in rs.codes} | {str(m) for m in rs.missing_codes}
                table = shift_codes(table, rs.min, rs.max, start, special)
            tables[item.id] = table
    return tables


@dataclass
class _Tally:
    rows_answered: int = 0
    rows_top: int = 0  # rows with an answer one past the scale's maximum
    at_lowest: int = 0  # answers at the scale's lowest code
    lo: int = 0
    hi: int = 0


class CodingCheck:
    """Looks at the first :data:`CHECK_ROWS` rows for answer codes shifted up by one.

    :meth:`feed` takes chunks (export columns, as read) in file order; the check
    decides once it has seen enough rows, or at :meth:`finish` (end of file), and
    raises :class:`~psyscreen.batch.BatchError` (one line naming the instrument and
    the fix) when an instrument's codes look shifted. Instruments whose numbering the mapping
    declares (``codes_start``) are not checked.
    """

    def __init__(self, plan: Any, rows: int = CHECK_ROWS):
        self.plan = plan
        self.rows = rows
        self.seen = 0
        self.tallies = {
            inst.id: _Tally() for inst in plan.instruments if plan.spec.code_start(inst.id) is None
        }
        self.done = not self.tallies

    @property
    def wanted(self) -> int:
        """Rows still to look at (0 once decided)."""
        return 0 if self.done else self.rows - self.seen

    def feed(self, chunk: pd.DataFrame) -> None:
        """Count the codes of the chunk's first :attr:`wanted` rows; decide when enough."""
        if self.done:
            return
        part = chunk.iloc[: self.wanted]
        for inst in self.plan.instruments:
            if inst.id in self.tallies:
                self._count(inst, part, self.tallies[inst.id])
        self.seen += len(part)
        if self.seen >= self.rows:
            self.finish()

    def _count(self, inst: Instrument, part: pd.DataFrame, t: _Tally) -> None:
        n = len(part)
        answered = np.zeros(n, dtype=bool)
        top = np.zeros(n, dtype=bool)
        for item in inst.items:
            header = self.plan.headers.get(item.id)
            if header is None or header not in part:
                continue
            rs = inst.response_scales[item.response_scale]
            codes = _numbers(map_answers(part[header], self.plan.answer_tables[item.id]))
            valid = np.isfinite(codes)
            answered |= valid
            top |= codes == rs.max + 1
            t.at_lowest += int((codes == rs.min).sum())
            t.lo, t.hi = rs.min, rs.max
        t.rows_answered += int(answered.sum())
        t.rows_top += int(top.sum())

    def finish(self) -> None:
        """Decide on the rows seen (called at the end of the file, or when enough rows)."""
        if self.done:
            return
        self.done = True
        for iid, t in self.tallies.items():
            if (
                t.rows_answered
                and t.at_lowest == 0
                and t.rows_top >= max(1, MIN_TOP_SHARE * t.rows_answered)
            ):
                raise _error(_message(iid, t, self.seen))

    def watch(
        self, chunks: Iterable[Any], to_frame: Callable[[Any, int], pd.DataFrame]
    ) -> Iterator[Any]:
        """``chunks`` unchanged, each fed first (``to_frame(chunk, rows)``: its first rows
        as a DataFrame); :meth:`finish` runs when the chunks end."""
        for chunk in chunks:
            if not self.done:
                self.feed(to_frame(chunk, self.wanted))
            yield chunk
        self.finish()


def _error(message: str) -> Exception:
    from ..errors import BatchError

    return BatchError(message)


def _numbers(col: pd.Series) -> np.ndarray:
    """Mapped codes as floats (NaN: blank or not a number), from the distinct values."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = pd.to_numeric(pd.Series(col.cat.categories, dtype=object), errors="coerce")
        codes = col.cat.codes.to_numpy()
        vals = np.append(cats.to_numpy(dtype=float), np.nan)
        return vals[np.where(codes >= 0, codes, len(vals) - 1)]
    if pd.api.types.is_bool_dtype(col.dtype):
        return np.full(len(col), np.nan)
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _message(iid: str, t: _Tally, seen: int) -> str:
    start = t.lo + 1
    return (
        f"{iid} 的答案似乎从 {start} 开始编号，而不是从 {t.lo} 开始（例如问卷星“按选项序号”导出）；"
        f"请在映射文件中声明 codes_start: {{{iid}: {start}}}（若编码无误，声明 "
        f"codes_start: {{{iid}: {t.lo}}}） / {iid}: the answers look numbered from {start}, "
        f"not from {t.lo} (no {t.lo} in the first {seen:,} rows, and {t.hi + 1}, one past the "
        f"scale's maximum {t.hi}, in {t.rows_top:,} of {t.rows_answered:,} answering rows), as "
        f"in a 问卷星 export by option number (按选项序号). Declare the coding in the mapping: "
        f"codes_start: {{{iid}: {start}}} (or codes_start: {{{iid}: {t.lo}}} if the codes "
        "are right)"
    )
