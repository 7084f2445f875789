"""Reading a results CSV for the archive: pyarrow's multi-threaded parser, pandas' dtypes.

The archive's packing depends on each column's dtype (integer, float, bool or
text), and pandas' C parser infers it per chunk of ``rows`` rows. This reader
tokenises the whole file with pyarrow (all threads, every cell as text, only
the columns ``keep`` selects), then gives each chunk the dtypes pandas would:

* ``text`` columns (ids, school, grade, class) as pandas' ``string`` dtype;
* a column whose present cells are all plain integers: ``int64`` (``float64``
  when a cell is missing), plain decimals: ``float64``, ``True``/``False``
  words: ``bool`` (``object`` with NaN when a cell is missing), no cell at all:
  ``float64``; cells with no digit and no number or bool word: pandas' ``str``;
* any other column (spaces around a number, ``+1``, ``inf``, long digit runs, a
  mix) is handed to pandas' own parser, so its dtype and values are pandas' by
  construction.

Missing cells are pandas' default NA texts; a file pyarrow cannot read as a
table (duplicate or empty header names, ragged rows) is read by pandas whole.
``tests/test_archive_csvread.py`` proves the frames, and the archive built from
them, equal pandas' on awkward cells.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("id,a.raw,a.band\\n007,3,mild\\nNA,,\\n", encoding="utf-8")
    >>> df = next(read_csv_chunks(p, text=("id",), rows=10))
    >>> df["id"].tolist(), df["a.raw"].tolist(), str(df["a.band"].dtype)
    (['007', <NA>], [3.0, nan], 'str')
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

#: pandas' default NA texts (``keep_default_na=True``); a test pins it to pandas' own list
NA_TEXTS = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
_TRUE = ("True", "TRUE", "true")
_FALSE = ("False", "FALSE", "false")
# plain integers that fit int64 whatever their digits (18 at most), plain decimals short
# enough that any correctly rounded parser gives the same double
_INT = r"^-?[0-9]{1,18}$"
_FLOAT = r"^-?([0-9]{1,17}(\.[0-9]{0,17})?|\.[0-9]{1,17})([eE][-+]?[0-9]{1,3})?$"
# anything pandas might read as a number or a bool: such a column goes to pandas' parser
_NUMBERISH = r"(?i)[0-9]|inf|nan|true|false"


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f), [])


def _pandas_column(values: list[str | None]) -> pd.Series:
    """One column's cells as pandas' C parser reads them (missing: an empty cell)."""
    cells = ("" if v is None else '"' + v.replace('"', '""') + '"' for v in values)
    # a second column keeps a row of one empty cell from being skipped as a blank line
    text = "i,x\n" + "\n".join(f"0,{c}" for c in cells) + "\n"
    return pd.read_csv(io.StringIO(text), keep_default_na=True, low_memory=False)["x"]


def _column(arr: object, n: int) -> pd.Series | np.ndarray:
    """The pandas column of one chunk's pyarrow text cells (see the module docstring)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    a = arr if isinstance(arr, pa.Array) else pa.concat_arrays(arr.chunks)  # type: ignore[attr-defined]
    nulls = a.null_count
    if nulls == n:
        return np.full(n, np.nan)
    present = a.drop_null() if nulls else a

    def every(pattern: str) -> bool:
        return bool(pc.all(pc.match_substring_regex(present, pattern)).as_py())

    if every(_INT):
        return (
            a.cast(pa.int64()).to_numpy(zero_copy_only=False)
            if not nulls
            else (a.cast(pa.float64()).to_numpy(zero_copy_only=False))
        )
    if every(_FLOAT):
        return a.cast(pa.float64()).to_numpy(zero_copy_only=False)
    words = pa.array(_TRUE + _FALSE)
    if bool(pc.all(pc.is_in(present, value_set=words)).as_py()):
        b = pc.is_in(a, value_set=pa.array(_TRUE))
        if not nulls:
            return b.to_numpy(zero_copy_only=False)
        out = np.array(b.to_pylist(), dtype=object)
        out[a.is_null().to_numpy(zero_copy_only=False)] = np.nan
        return out
    if not bool(pc.any(pc.match_substring_regex(present, _NUMBERISH)).as_py()):
        return pd.Series(
            a.to_pandas(types_mapper=lambda _: pd.StringDtype("pyarrow", na_value=np.nan))
        )
    return _pandas_column(a.to_pylist())


def read_csv_chunks(
    path: str | Path,
    *,
    text: Iterable[str],
    rows: int,
    keep: Callable[[str], bool] = lambda _: True,
) -> Iterator[pd.DataFrame]:
    """The file's columns that ``keep`` selects, ``rows`` rows at a time, as pandas reads them.

    ``text`` names columns read as text (pandas' ``string`` dtype); a file pyarrow
    cannot read as a table is read by pandas (``dtype`` of ``text``, same chunks).
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    p = Path(path)
    text = set(text)
    names = _header(p)
    if not names or len(set(names)) != len(names) or "" in names:
        yield from _pandas_chunks(p, text, rows, keep)
        return
    cols = [c for c in names if keep(c)]
    try:
        table = pcsv.read_csv(
            p,
            read_options=pcsv.ReadOptions(use_threads=True, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in names},
                include_columns=cols,
                null_values=list(NA_TEXTS),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        yield from _pandas_chunks(p, text, rows, keep)
        return
    if not table.num_rows:  # pandas' one empty chunk
        yield from _pandas_chunks(p, text, rows, keep)
        return
    na_string = pd.StringDtype("pyarrow", na_value=pd.NA)
    for start in range(0, table.num_rows, rows):
        part = table.slice(start, rows)
        n = part.num_rows
        data: dict[str, object] = {}
        for c in cols:
            col = part.column(c)
            if c in text:
                data[c] = pd.Series(col.to_pandas(types_mapper=lambda _: na_string))
            else:
                data[c] = _column(col, n)
        index = pd.RangeIndex(start, start + n)
        yield pd.DataFrame(
            {
                c: (v.set_axis(index) if isinstance(v, pd.Series) else pd.Series(v, index=index))
                for c, v in data.items()
            },
            index=index,
        )


def _pandas_chunks(
    p: Path, text: set[str], rows: int, keep: Callable[[str], bool]
) -> Iterator[pd.DataFrame]:
    yield from pd.read_csv(
        p,
        dtype={c: "string" for c in text},
        keep_default_na=True,
        encoding="utf-8-sig",
        low_memory=False,
        chunksize=rows,
        usecols=keep,
    )
