"""Reading CSV/TXT/TSV exports record by record: every record accounted for, in place.

A *record* is one data line, or the lines that a properly quoted newline joins.
Each record yields exactly one row, at its own position, with the 1-based line
where it starts in the file (:data:`LINE`); a record that cannot be read yields
a row too, with the reason in :data:`DAMAGE` and no cell text. Blank lines are
not records (they are skipped, as Excel and pyarrow do; later line numbers stay
true).

Two readers share that contract:

* the **fast path**: pyarrow's streaming parser, for the part of the file a
  vectorised scan (:class:`RecordScan`, numpy over the raw bytes) shows to be
  plain: every quote where RFC 4180 allows one (opening a field, closing it, or
  doubled inside it) and every quote closed. The scan also gives each record's
  byte offset and start line;
* the **careful path** (:func:`careful_records`): Python's ``csv`` module line by
  line, from the first record the scan or pyarrow found damaged (a stray or
  unclosed quote, too many or too few fields, a cell too large for a block, a
  byte sequence the encoding cannot decode) to the end of the file. A quoted
  field that runs into later lines is accepted only if the joined record has the
  header's number of fields; otherwise its first line is unreadable
  (``unclosed_quote``) and reading goes on at the next line.

The layout (encoding, delimiter, header) comes from :mod:`psyscreen.batch.csvlayout`,
the byte scan from :mod:`psyscreen.batch.csvscan`.

Example:
    >>> LINE, DAMAGE  # the hidden columns of every chunk this module yields
    ('psyscreen.line', 'psyscreen.damage')
"""

from __future__ import annotations

import csv
import io
import itertools
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..errors import PsyscreenError
from .csvlayout import (
    DAMAGE,
    LINE,
    LONE_CR,
    MAX_CELL_CHARS,
    MAX_LINE_BYTES,
    MAX_RECORD_LINES,
    SURROGATE,
    Layout,
    codec_name,
    has_lone_cr,
)
from .csvscan import RecordScan, quotes_conform
from .io import InputFileError


class _Damaged(PsyscreenError):
    def __init__(self, reason: str):
        self.reason = reason


class _Lines:
    """Physical lines for ``csv.reader``, numbered, with push-back; raises on bad lines."""

    def __init__(self, source: Iterator[tuple[int, str | None, str]]):
        self._source = source
        self.back: deque = deque()
        self.taken: list[tuple[int, str | None, str]] = []
        self.last_line_ends = True

    def __iter__(self) -> _Lines:
        return self

    def pull(self) -> tuple[int, str | None, str] | None:
        """The next line, outside ``csv.reader`` (None at the end)."""
        if self.back:
            return self.back.popleft()
        return next(self._source, None)

    def __next__(self) -> str:
        item = self.back.popleft() if self.back else next(self._source)
        self.taken.append(item)
        if item[1] is None:
            raise _Damaged(item[2])
        if len(self.taken) > MAX_RECORD_LINES:
            raise _Damaged("unclosed_quote")
        return item[1]


_Line = tuple[int, "str | None", str]


def _byte_lines(path: Path, offset: int, line: int, enc: str) -> Iterator[_Line]:
    """(line number, text or None, reason) per physical line from ``offset``."""
    dec = "utf-8" if enc == "utf-8-sig" else enc
    with open(path, "rb") as f:
        f.seek(offset)
        while True:
            raw = f.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest of the line
                    raw = f.readline(1 << 24)
                yield line, None, "line_too_long"
            else:
                try:
                    yield line, raw.decode(dec), ""
                except UnicodeDecodeError:
                    # kept (as surrogates) so the line still splits: only a read cell
                    # with bad bytes makes the record unreadable, as on the fast path
                    yield line, raw.decode(dec, "surrogateescape"), "lossy"
            line += 1


def _text_lines(path: Path, line: int, enc: str) -> Iterator[_Line]:
    """Lines of a text in a byte-unsafe encoding (UTF-16), from data line ``line``."""
    with open(path, "rb") as f:
        text = io.TextIOWrapper(f, encoding=enc, newline="", errors="surrogateescape")
        for n, raw in enumerate(text, start=1):
            if n >= line:
                yield n, raw, "lossy" if SURROGATE.search(raw) else ""


def _has_newline(fields: list[str], i: int) -> bool:
    return i < len(fields) and ("\n" in fields[i] or "\r" in fields[i])


def careful_records(
    lines: Iterator[tuple[int, str | None, str]],
    delimiter: str,
    n_fields: int,
    read: Sequence[int],
) -> Iterator[tuple[int, str | None, str]]:
    """(start line, the record's text or None, reason) per record of ``lines``.

    A plain line (no quote, no carriage return inside, not too long, decoded) is
    checked by counting its delimiters; anything else goes through ``csv.reader``.

    Example:
        >>> src = iter([(2, "1,2\\n", ""), (3, '3,"4\\n', ""), (4, "5,6\\n", ""),
        ...             (5, "7,8,9\\n", ""), (6, "10", "")])
        >>> list(careful_records(src, ",", 2, [0, 1]))  # doctest: +NORMALIZE_WHITESPACE
        [(2, '1,2\\n', ''), (3, None, 'unclosed_quote'), (4, '5,6\\n', ''),
         (5, None, 'wrong_number_of_fields'), (6, None, 'truncated_last_line')]
    """
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
    src = _Lines(lines)
    reader = csv.reader(src, delimiter=delimiter, strict=True)
    while True:
        item = src.pull()
        if item is None:
            return
        start, text, why = item
        if (
            text is not None
            and not why
            and '"' not in text
            and len(text) <= MAX_CELL_CHARS
            and text.find("\r") in (-1, len(text) - 2)
        ):
            if not text.strip("\r\n"):
                continue  # a blank line
            if text.count(delimiter) + 1 == n_fields:
                yield start, text, ""
            else:
                ends = text.endswith("\n")
                yield start, None, "wrong_number_of_fields" if ends else "truncated_last_line"
            continue
        src.back.appendleft(item)
        src.taken = []
        reason = ""
        # stays [] only when a failed read set a reason; every later use checks the reason first
        fields: list[str] = []
        try:
            fields = next(reader)
        except StopIteration:
            if not src.taken:
                return
            reason = "unclosed_quote"  # the file ended inside a quoted field
        except _Damaged as e:
            reason = e.reason
        except csv.Error as e:
            if "new-line character" in str(e) and any(has_lone_cr(t[1] or "") for t in src.taken):
                raise InputFileError(f"line {start}: {LONE_CR}") from None
            reason = "unclosed_quote" if "end of data" in str(e) else "stray_quote"
        taken = src.taken
        if not taken:
            return
        if fields == [] and not reason:
            continue  # a blank line
        # without a reason every taken line was read (a None line raises _Damaged)
        text = "" if reason else "".join(t[1] or "" for t in taken)
        if '"' in text and not quotes_conform(text, delimiter):
            reason = "stray_quote"
        if not reason and len(taken) > 1 and any(_has_newline(fields, i) for i in read):
            # a line break inside an answer or role cell: a stray quote joined two lines
            reason = "unclosed_quote"
        if reason or len(fields) != n_fields:
            first = taken[0]
            if first[1] is None:
                reason = first[2]
            elif len(taken) > 1:
                # a quote opened on this line ran into later lines without making a
                # record: this line is damaged, the next ones are read again
                reason = "unclosed_quote"
            elif not reason:
                ends = first[1].endswith(("\n", "\r"))
                reason = "wrong_number_of_fields" if ends else "truncated_last_line"
            src.back.extendleft(reversed(taken[1:]))
            yield start, None, reason
            continue
        if max(map(len, fields)) > MAX_CELL_CHARS and any(
            len(fields[i]) > MAX_CELL_CHARS for i in read
        ):
            yield start, None, "cell_too_large"
        elif any(t[2] == "lossy" for t in taken) and any(
            SURROGATE.search(fields[i]) for i in read
        ):
            yield start, None, "undecodable"
        else:
            yield start, text, ""


# ---------------------------------------------------------------------------
# chunks of records


def read_tables(
    path: Path,
    layout: Layout,
    encoding: str,
    columns: Sequence[str],
    chunk_rows: int,
    block_size: int = 1 << 20,
) -> Iterator:
    """``pyarrow.Table`` chunks of ``columns`` (text) plus :data:`LINE` and :data:`DAMAGE`.

    One row per record, in file order; the fast path until the first damage, the
    careful path from there (see the module docstring).
    """
    names = [n.strip() for n in layout.names]
    pos = [names.index(c) for c in columns]
    enc = codec_name(encoding)
    n_fields = len(names)
    if not layout.byte_safe:
        lines = _text_lines(path, layout.first_line, enc)
        yield from _careful_tables(lines, layout.delimiter, n_fields, pos, columns, chunk_rows)
        return
    scan = RecordScan(path, layout.data_start, layout.first_line, layout.delimiter)
    try:
        yield from _fast_tables(path, layout, enc, scan, pos, columns, chunk_rows, block_size)
        offset, line = scan.next_start()
        scan.close()
        if offset < path.stat().st_size:
            lines = _byte_lines(path, offset, line, enc)
            yield from _careful_tables(lines, layout.delimiter, n_fields, pos, columns, chunk_rows)
    finally:
        scan.close()


def _fast_tables(path, layout, enc, scan: RecordScan, pos, columns, chunk_rows, block_size):
    """Chunks read by pyarrow while the scan vouches for the records; returns at damage."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    internal = [f"c{i}" for i in range(len(layout.names))]
    include = [internal[p] for p in pos]
    ropts = pacsv.ReadOptions(
        encoding="utf8" if enc in ("utf-8", "utf-8-sig") else enc,
        block_size=block_size,
        column_names=internal,
    )
    popts = pacsv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=True)
    copts = pacsv.ConvertOptions(
        include_columns=include,
        column_types={c: pa.string() for c in include},
        strings_can_be_null=False,
    )
    f = pa.OSFile(str(path))
    f.seek(layout.data_start)
    pending: list = []
    n_pending = 0
    stopped = False

    def emit(table):
        """``table`` (the next records) cut where the scan stops vouching; None if cut."""
        nonlocal stopped
        n = table.num_rows
        ok = scan.clean(scan.taken + n) - scan.taken
        multi = np.flatnonzero(scan.multi_line(ok))
        if len(multi):  # a quoted newline in a cell the run reads: two damaged lines?
            ok = min(ok, _first_newline_row(table, multi))
        if ok < n:
            stopped = True
            table = table.slice(0, ok)
        if not table.num_rows:
            return None
        table = table.rename_columns(list(columns))
        lines = pa.array(scan.take(table.num_rows), type=pa.int64())
        table = table.append_column(LINE, lines)
        return table.append_column(DAMAGE, pa.nulls(table.num_rows, type=pa.string()))

    try:
        try:
            reader = pacsv.open_csv(f, read_options=ropts, parse_options=popts,
                                    convert_options=copts)  # fmt: skip
            for batch in reader:
                pending.append(batch)
                n_pending += batch.num_rows
                if n_pending < chunk_rows:
                    continue
                table = pa.Table.from_batches(pending)
                while table.num_rows >= chunk_rows and not stopped:
                    out = emit(table.slice(0, chunk_rows))
                    if out is not None:
                        yield out
                    table = table.slice(chunk_rows)
                if stopped:
                    return
                pending, n_pending = table.to_batches(), table.num_rows
            reader.close()
        except (pa.ArrowInvalid, UnicodeDecodeError, pa.ArrowNotImplementedError):
            pass  # damage pyarrow found: the records from here go to the careful path
        if n_pending and not stopped:
            out = emit(pa.Table.from_batches(pending))
            if out is not None:
                yield out
    finally:
        f.close()


def _first_newline_row(table, rows: np.ndarray) -> int:
    """The first of ``rows`` with a line break in a cell of ``table`` (its length if none)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    sub = table.take(pa.array(rows))
    hit = np.zeros(len(rows), dtype=bool)
    for col in sub.columns:
        hit |= pc.match_substring_regex(col, "[\r\n]").to_numpy(zero_copy_only=False)
    return int(rows[hit][0]) if hit.any() else table.num_rows


def _careful_tables(lines, delimiter, n_fields, pos, columns, chunk_rows):
    """Chunks of the careful path: the accepted records' text parsed by pyarrow.

    Records were checked (field count, quotes, cells) record by record; their text is
    then parsed in one go, an unreadable record replaced by a line of empty fields.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    internal = [f"c{i}" for i in range(n_fields)]
    include = [internal[p] for p in pos]
    empty = delimiter * (n_fields - 1) + "\n"  # an unreadable record: no cell text
    recs = careful_records(lines, delimiter, n_fields, pos)
    while True:
        batch = list(itertools.islice(recs, chunk_rows))
        if not batch:
            return
        text = "".join(
            empty if t is None else (t if t.endswith("\n") else t + "\n") for _, t, _ in batch
        )
        # bytes the encoding could not decode come back as they were (in unread cells)
        data = text.encode("utf-8", "surrogateescape")
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(
                column_names=internal, block_size=min(len(data) + 1, (1 << 31) - 1)
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=include,
                column_types={c: pa.string() for c in include},
                strings_can_be_null=False,
            ),
        )
        if table.num_rows != len(batch):  # pragma: no cover - checked records must parse
            raise RuntimeError("careful CSV reading lost a record: a bug in psyscreen")
        table = table.rename_columns(list(columns))
        table = table.append_column(LINE, pa.array([r[0] for r in batch], type=pa.int64()))
        yield table.append_column(DAMAGE, pa.array([r[2] or None for r in batch], type=pa.string()))
