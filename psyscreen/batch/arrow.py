"""Results and problems frames as Arrow tables with types that do not depend on the data.

Example:
    >>> import pandas as pd
    >>> to_arrow(pd.DataFrame({"a": [1, None]})).column("a").to_pylist()
    [1.0, None]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .io import arrow_frame
from .plan import Plan


def to_arrow(df: pd.DataFrame, *, dictionaries: bool = False):
    """A results/problems frame as an Arrow table with types that do not depend on the data.

    Categoricals and other text become strings, nullable booleans stay booleans,
    lists (e.g. fired rules) are joined with ``;``. With ``dictionaries``, categoricals
    become dictionary arrays of strings instead: the CSV writer decodes them a batch
    at a time, so a chunk's repeated texts (statuses, bands, reasons) are never all
    held as plain strings at once, and a text check looks at each distinct text once.

    Example:
        >>> t = to_arrow(pd.DataFrame({"c": pd.Categorical(["x", "x", None])}), dictionaries=True)
        >>> str(t.schema.field("c").type), t.column("c").to_pylist()
        ('dictionary<values=string, indices=int32, ordered=0>', ['x', 'x', None])
    """
    import pyarrow as pa

    arrays, names = [], []
    for name in df.columns:
        arrays.append(_arrow_column(df[name], dictionaries))
        names.append(str(name))
    return pa.Table.from_arrays(arrays, names=names)


def _arrow_column(col: pd.Series, dictionaries: bool = False):
    import pyarrow as pa

    dt = col.dtype
    if isinstance(dt, pd.CategoricalDtype):
        cats = pa.array([_cell(c) for c in dt.categories], type=pa.string())
        codes = col.cat.codes.to_numpy()
        idx = pa.array(codes, mask=codes < 0, type=pa.int32())
        arr = pa.DictionaryArray.from_arrays(idx, cats)
        return arr if dictionaries else arr.cast(pa.string())
    if pd.api.types.is_bool_dtype(dt):
        return pa.array(col.astype("boolean"), type=pa.bool_())
    if pd.api.types.is_integer_dtype(dt):
        return pa.array(col.astype("Int64"), type=pa.int64())
    if pd.api.types.is_float_dtype(dt):
        return pa.array(
            col.to_numpy(dtype=float, na_value=np.nan), type=pa.float64(), from_pandas=True
        )
    if pd.api.types.is_datetime64_any_dtype(dt):
        return pa.array(col.dt.strftime("%Y-%m-%d").astype(object), type=pa.string())
    if isinstance(dt, pd.StringDtype) and dt.storage == "pyarrow":
        # pandas keeps these as Arrow strings already: no trip through Python objects
        arr = pa.array(col.array).cast(pa.string())
        return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    values = col.astype(object).to_numpy()
    try:  # plain text (and missing values): no Python loop
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([_cell(v) for v in values], type=pa.string())


def _cell(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    if isinstance(v, (list, tuple)):
        return ";".join(str(x) for x in v)
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _as_frame(chunk: Any, plan: Plan) -> pd.DataFrame:
    """A chunk as the reader's DataFrame (an Arrow chunk converted as the reader does)."""
    if isinstance(chunk, pd.DataFrame):
        return chunk
    return arrow_frame(chunk, plan.categorical_columns())


def _finish(
    results: pd.DataFrame,
    pseudo,
    pseudo_cols: list[str],
    drop_cols: list[str],
    dictionaries: bool = False,
):
    """The results chunk as the table to write: dropped and pseudonymised columns applied
    (``dictionaries``: see :func:`to_arrow`)."""
    table = to_arrow(
        results.drop(columns=drop_cols) if drop_cols else results, dictionaries=dictionaries
    )
    for c in pseudo_cols:
        if c in table.column_names:
            i = table.column_names.index(c)
            table = table.set_column(i, c, pseudo.array(table.column(c)))
    return table
