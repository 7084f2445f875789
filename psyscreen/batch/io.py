"""Reading exports in chunks and writing results, whatever the file size.

Readers yield pandas DataFrames of at most ``chunk_rows`` rows holding only the
columns asked for, in file order:

=========  =====================================================================
format     how
=========  =====================================================================
CSV/TXT    pyarrow streaming reader; every column read as text (answer columns
           dictionary-encoded); encoding detected (UTF-8, UTF-8 with BOM,
           GB18030, a superset of GBK/GB2312) unless given
XLSX       openpyxl read-only rows (one worksheet)
SAV        pyreadstat in chunks; user-missing codes read as missing, value labels
           applied (optional)
Parquet    pyarrow row batches
=========  =====================================================================

Writers stream chunks to CSV (UTF-8 with BOM, so Excel shows Chinese), XLSX
(openpyxl write-only) or Parquet, chosen by the file extension.

Example:
    >>> detect_encoding(b"\\xef\\xbb\\xbfid\\n1\\n")
    'utf-8-sig'
    >>> detect_encoding("学号\\n1\\n".encode("gb18030"))
    'gb18030'
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputFileError

#: input formats by file extension
FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".sav": "sav",
    ".zsav": "sav",
    ".parquet": "parquet",
    ".pq": "parquet",
}
OUTPUT_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".pq": "parquet"}
#: CSV read block; pyarrow reads up to 32 blocks ahead (about 128 MiB at 4 MiB)
CSV_BLOCK_BYTES = 1 << 22
#: Excel's row limit (one header row)
XLSX_MAX_ROWS = 1_048_575


def file_format(path: str | Path, table: dict[str, str] = FORMATS) -> str:
    """The format of ``path`` from its extension, or InputFileError."""
    ext = Path(path).suffix.lower()
    if ext not in table:
        known = ", ".join(sorted(table))
        raise InputFileError(
            f"{Path(path).name}: unsupported file type {ext!r}; use one of {known}"
        )
    return table[ext]


def sha256_file(path: str | Path, block: int = 1 << 22) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def detect_encoding(head: bytes) -> str:
    """Encoding of CSV bytes: a BOM wins, then strict UTF-8, then GB18030.

    ``head`` may be cut inside a multi-byte character: an incomplete final
    sequence is not held against an encoding. When neither fits, the message
    names the encodings tried and where each failed (byte offset and line).
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    where = []
    reached = {}
    for enc in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(enc)().decode(head, final=False)
        except UnicodeDecodeError as e:
            line = head.count(b"\n", 0, e.start) + 1
            where.append(f"not {enc} at byte {e.start} (line {line})")
            reached[enc] = line
            continue
        return enc
    # neither fits everywhere: the one that reads past the header and further wins (its
    # bad lines become unreadable rows); failing on the header means a wrong encoding
    best = max(reached, key=lambda e: reached[e])
    if reached[best] > 2:
        return best
    raise InputFileError(
        "cannot tell the text encoding (tried utf-8 and gb18030: "
        + "; ".join(where)
        + "); pass --encoding (e.g. --encoding big5, --encoding utf-16)"
    )


def hash_and_detect(path: str | Path, block: int = 1 << 22) -> tuple[str, str]:
    """(sha256, encoding) of a CSV file in one pass; UTF-8 is checked on every byte.

    A file that is UTF-8 up to a cut inside its last character (an interrupted
    download), or whose first invalid byte comes after valid non-ASCII UTF-8 text
    on an earlier line (one stray line in another encoding), stays UTF-8: the damaged lines become
    unreadable rows with their line numbers instead of the whole file being
    decoded as GB18030.
    """
    h = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    non_ascii = False  # valid multi-byte UTF-8 seen before the first invalid byte
    first = b""
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
            if not first:
                first = chunk
            if is_utf8:
                try:
                    utf8.decode(chunk)
                    non_ascii = non_ascii or not chunk.isascii()
                except UnicodeDecodeError as e:
                    is_utf8 = False
                    # whole lines before the bad byte: GB18030 bytes can pass as a few
                    # UTF-8 characters, but hardly as a whole line of them
                    before = chunk[: e.start]
                    non_ascii = non_ascii or not before[: before.rfind(b"\n") + 1].isascii()
    if is_utf8 or non_ascii:  # an incomplete last character is a cut, not GB18030
        return h.hexdigest(), "utf-8"
    enc = detect_encoding(first)
    if enc == "utf-8":
        # the first block was valid UTF-8 (e.g. only ASCII) but later bytes are not
        enc = "gb18030"
    return h.hexdigest(), enc


# ---------------------------------------------------------------------------
# readers


@dataclass
class Source:
    """An opened input: its headers, format, encoding and a chunk iterator factory."""

    path: Path
    format: str
    headers: list[str]
    encoding: str | None = None
    delimiter: str | None = None
    layout: Any = None  # csvlayout.Layout of a CSV file
    _opts: dict[str, Any] = field(default_factory=dict)
    _digest: Any = None  # the SHA-256 hex digest, or a Future of it (hashed in a thread)

    @property
    def sha256(self) -> str:
        """SHA-256 of the file's bytes (waits for the hashing thread, if one runs)."""
        if self._digest is not None and not isinstance(self._digest, str):
            self._digest = self._digest.result()
        return self._digest or ""

    def chunks(
        self,
        columns: Sequence[str],
        categorical: Sequence[str],
        chunk_rows: int,
        *,
        arrow: bool = False,
    ) -> Iterator[Any]:
        """DataFrames of ``columns`` (``categorical`` ones as categoricals) in file order.

        ``arrow``: a CSV file yields the same chunks as ``pyarrow.Table`` of plain
        strings instead, left for the consumer to convert with :func:`arrow_frame`
        (the batch pipeline does that in its reading thread or its worker processes:
        parsing plain strings and then dictionary-encoding costs about a third less
        than dictionary-encoding while parsing).
        Other formats yield DataFrames whatever ``arrow`` says.
        """
        if arrow and self.format == "csv":
            yield from self._csv_chunks(list(columns), set(categorical), chunk_rows, arrow=True)
            return
        reader = {
            "csv": self._csv_chunks,
            "parquet": self._parquet_chunks,
            "xlsx": self._xlsx_chunks,
            "sav": self._sav_chunks,
        }[self.format]
        yield from reader(list(columns), set(categorical), chunk_rows)

    # -- CSV -------------------------------------------------------------------
    def _csv_chunks(self, columns, categorical, chunk_rows, arrow: bool = False):
        from .csvread import read_tables

        # Arrow chunks are strings (larger than dictionaries): smaller blocks keep the
        # read-ahead, and so the reading process, small
        block = CSV_BLOCK_BYTES // 4 if arrow else CSV_BLOCK_BYTES
        for table in read_tables(
            self.path, self.layout, self.encoding or "utf-8", columns, chunk_rows, block
        ):
            yield table if arrow else arrow_frame(table, sorted(categorical))

    # -- Parquet -----------------------------------------------------------------
    def _parquet_chunks(self, columns, categorical, chunk_rows):
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(self.path)
        for batch in pf.iter_batches(batch_size=chunk_rows, columns=columns):
            yield batch.to_pandas()

    # -- XLSX --------------------------------------------------------------------
    def _xlsx_chunks(self, columns, categorical, chunk_rows):
        from .csvlayout import LINE

        wb, ws = _open_sheet(self.path, self._opts.get("sheet"))
        try:
            rows = ws.iter_rows(values_only=True)
            header = [_header_text(h) for h in next(rows, ())]
            pos = [header.index(c) for c in columns]
            line = ws.min_row or 1  # the sheet row just read (as Excel numbers it)
            buf: list[tuple] = []
            lines: list[int] = []
            empty: list[tuple] = []  # empty rows count only when data follows them
            for r in rows:
                line += 1
                if all(v is None for v in r):
                    empty.append(r)
                    continue
                lines.extend(range(line - len(empty), line + 1))
                buf.extend(empty)
                empty = []
                buf.append(r)
                if len(buf) >= chunk_rows:
                    yield _xlsx_frame(buf, columns, pos).assign(**{LINE: lines})
                    buf, lines = [], []
            if buf:
                yield _xlsx_frame(buf, columns, pos).assign(**{LINE: lines})
        finally:
            wb.close()

    # -- SPSS --------------------------------------------------------------------
    def _sav_chunks(self, columns, categorical, chunk_rows):
        import pyreadstat

        labels = self._opts.get("value_labels", True)
        it = pyreadstat.read_file_in_chunks(
            pyreadstat.read_sav,
            str(self.path),
            chunksize=chunk_rows,
            usecols=columns,
            apply_value_formats=labels,
            formats_as_category=labels,
            user_missing=False,  # user-missing codes become missing values
        )
        for df, _meta in it:
            yield df[columns]


def arrow_frame(table, categorical: Sequence[str]) -> pd.DataFrame:
    """An Arrow chunk as a DataFrame, the ``categorical`` columns as categoricals.

    The same values and dtypes as the chunks :meth:`Source.chunks` yields without
    ``arrow`` (categories may come in another order and omit values of the file that
    the chunk does not hold).

    Example:
        >>> import pyarrow as pa
        >>> df = arrow_frame(pa.table({"a": ["x", "y", "x"], "b": ["1", "", "2"]}), ["a"])
        >>> df["a"].cat.categories.tolist(), df["b"].tolist()
        (['x', 'y'], ['1', '', '2'])
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    for name in categorical:
        i = table.schema.get_field_index(name)
        if i >= 0 and not pa.types.is_dictionary(table.schema.field(i).type):
            table = table.set_column(i, name, pc.dictionary_encode(table.column(i)))
    return table.to_pandas()


def _header_text(h: Any) -> str:
    return "" if h is None else str(h).strip()


def _open_sheet(path: Path, sheet: str | None):
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    if sheet is not None and sheet not in wb.sheetnames:
        wb.close()
        raise InputFileError(
            f"{path.name}: no worksheet {sheet!r}; worksheets: {', '.join(wb.sheetnames)}"
        )
    return wb, (wb[sheet] if sheet else wb.worksheets[0])


def _xlsx_frame(buf: list[tuple], columns: list[str], pos: list[int]) -> pd.DataFrame:
    data = {
        c: pd.Series([r[p] if p < len(r) else None for r in buf], dtype=object)
        for c, p in zip(columns, pos)
    }
    return pd.DataFrame(data)


def open_source(
    path: str | Path,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    value_labels: bool = True,
    delimiter: str | None = None,
) -> Source:
    """Open ``path``: check it exists, detect format/encoding, read the headers, hash it.

    ``delimiter``: of a CSV/TXT/TSV file (default: sniffed from the header line).
    Headers are trimmed (a mapped ``Q1`` finds an export's ``Q1 ``).
    """
    from .csvlayout import read_layout

    p = Path(path)
    if p.is_dir():
        raise InputFileError(f"{p}: is a directory, not an export file")
    if not p.is_file():
        raise InputFileError(f"{p}: no such file")
    fmt = file_format(p)
    src = Source(
        path=p, format=fmt, headers=[], _opts={"sheet": sheet, "value_labels": value_labels}
    )
    if fmt == "csv":
        with open(p, "rb") as f:
            head = f.read(4)
        bom = head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        if encoding or bom:  # nothing to detect: hash while the rest of the run goes on
            src._digest = _hash_in_thread(p)
            src.encoding = encoding or detect_encoding(head)
        else:
            src._digest, src.encoding = hash_and_detect(p)
        try:
            codecs.lookup(src.encoding)
        except LookupError:
            raise InputFileError(f"unknown encoding {src.encoding!r}") from None
        src.layout = read_layout(p, src.encoding, delimiter)
        src.delimiter = src.layout.delimiter
        src.headers = [n.strip() for n in src.layout.names]
    else:
        src._digest = _hash_in_thread(p)
        src.headers = _other_headers(src)
    return src


def _hash_in_thread(path: Path):
    """A Future of :func:`sha256_file` (hashlib releases the GIL: it overlaps the run)."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="psyscreen-hash")
    fut = pool.submit(sha256_file, path)
    pool.shutdown(wait=False)  # the thread ends when the file is hashed
    return fut


def _other_headers(src: Source) -> list[str]:
    if src.format == "parquet":
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(src.path).schema_arrow.names)
    if src.format == "xlsx":
        wb, ws = _open_sheet(src.path, src._opts.get("sheet"))
        try:
            first = next(ws.iter_rows(values_only=True, max_row=1), ())
        finally:
            wb.close()
        return [_header_text(h) for h in first]
    import pyreadstat

    _, meta = pyreadstat.read_sav(str(src.path), metadataonly=True)
    return list(meta.column_names)


# ---------------------------------------------------------------------------
# writers


def csv_rows(table, header: bool = False) -> bytes:
    """``table`` as CSV bytes (UTF-8, pyarrow's quoting), without the header line unless asked.

    Example:
        >>> import pyarrow as pa
        >>> csv_rows(pa.table({"a": ["x,y", None], "b": [1.5, 2.0]}))
        b'"x,y",1.5\\n,2\\n'
    """
    import io

    import pyarrow.csv as pacsv

    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=header))
    return buf.getvalue()


class _HashingFile:
    """A binary file that hashes what is written to it (no second pass over the file)."""

    def __init__(self, path: Path):
        self._f = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.hash = hashlib.sha256()
        self.closed = False

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return self._f.write(data)

    def flush(self) -> None:
        self._f.flush()

    def tell(self) -> int:
        return self._f.tell()

    def close(self) -> None:
        self._f.close()
        self.closed = True


class Writer:
    """Streams Arrow tables of one schema to a CSV, XLSX or Parquet file.

    CSV goes straight from Arrow to the file (pyarrow encodes into a native file,
    without Python's global lock and without an intermediate copy); Parquet bytes
    are hashed as they are written, so :attr:`sha256` after :meth:`close` equals
    :func:`sha256_file` of the file (``None`` for CSV and XLSX: hash the file).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.format = file_format(self.path, OUTPUT_FORMATS)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._w: Any = None
        self._f: Any = None
        self.rows = 0
        self.sha256: str | None = None
        self._hashing: _HashingFile | None = None

    def _open(self) -> _HashingFile:
        self._hashing = _HashingFile(self.path)
        return self._hashing

    def write(self, table) -> None:
        """Append ``table`` (a ``pyarrow.Table``)."""
        if self.format == "csv":
            self._write_csv(table)
        elif self.format == "parquet":
            self._write_parquet(table)
        else:
            self._write_xlsx(table)
        self.rows += table.num_rows

    def _write_csv(self, table) -> None:
        import pyarrow.csv as pacsv

        self._csv_file(table.schema)
        pacsv.write_csv(table, self._f, pacsv.WriteOptions(include_header=False))

    def _csv_file(self, schema):
        """The open CSV file (a native Arrow file); on first use the BOM and the header."""
        if self._f is None:
            import pyarrow as pa

            self._f = pa.OSFile(str(self.path), "wb")
            self._f.write(codecs.BOM_UTF8)
            self._f.write(csv_rows(schema.empty_table(), header=True))
        return self._f

    def _write_parquet(self, table) -> None:
        import pyarrow.parquet as pq

        if self._w is None:
            self._w = pq.ParquetWriter(self._open(), table.schema, compression="zstd")
        self._w.write_table(table)

    def _write_xlsx(self, table) -> None:
        import openpyxl

        if self.rows + table.num_rows > XLSX_MAX_ROWS:
            raise InputFileError(
                f"more than {XLSX_MAX_ROWS:,} rows do not fit in an Excel sheet; "
                "write the results as .csv or .parquet"
            )
        if self._w is None:
            self._f = openpyxl.Workbook(write_only=True)
            self._w = self._f.create_sheet("results")
            self._w.append(table.schema.names)
        cols = [c.to_pylist() for c in table.columns]
        for row in zip(*cols):
            self._w.append(list(row))

    def close(self) -> None:
        """Finish the file (an empty table still gets its header row)."""
        if self.format == "csv":
            if self._f is not None:
                self._f.close()
        elif self.format == "parquet":
            if self._w is not None:
                self._w.close()
            if self._hashing is not None:
                self._hashing.close()
        elif self._f is not None:
            self._f.save(self.path)
        if self._hashing is not None:
            self.sha256 = self._hashing.hash.hexdigest()
        self._w = self._f = None
