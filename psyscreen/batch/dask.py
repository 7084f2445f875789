"""Scale-out: the batch's per-chunk function run per partition on Dask.

Needs the optional extra ``psyscreen[dask]`` (dask + distributed). Each
partition goes through :func:`psyscreen.batch.run.process_chunk`, the very
function the streaming run uses, with its global row offset and the
duplicate-id information of the rows before it; so the results are identical
to the in-memory path (same columns, same values, same row numbers).

Duplicate ids need all ids in order: they are gathered to the client first
(one text column, about 16 bytes per row once hashed).

Example:
    >>> import dask.dataframe as dd  # doctest: +SKIP
    >>> from psyscreen.batch import make_plan, load_mapping  # doctest: +SKIP
    >>> ddf = dd.read_csv("export_*.csv", dtype=str, keep_default_na=False)  # doctest: +SKIP
    >>> results = score_dask(ddf, plan).compute()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .run import IdTracker, Plan, _id_values, _text, process_chunk, to_arrow


def _to_pandas(results: pd.DataFrame) -> pd.DataFrame:
    """Results with Arrow-backed dtypes that do not depend on the data (stable Dask meta)."""
    return to_arrow(results).to_pandas(types_mapper=pd.ArrowDtype)


def _partition(
    part: pd.DataFrame,
    plan: Plan,
    offsets: list[int],
    dups: list[np.ndarray] | None,
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    k = 0 if partition_info is None else int(partition_info["number"])
    part = part.reset_index(drop=True)
    ids = None if dups is None else dups[k]
    res = process_chunk(part[plan.read_columns()], plan, offsets[k], ids)
    out = _to_pandas(res.results)
    out.index = pd.RangeIndex(offsets[k], offsets[k] + len(out))
    return out


def score_dask(ddf: Any, plan: Plan) -> Any:
    """Score a Dask DataFrame of an export (export headers as columns) partition by partition.

    Returns a Dask DataFrame of the result table (one row per input row, input order,
    ``row`` = 0-based position in the whole input).
    """
    lengths = ddf.map_partitions(len).compute()
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int).tolist()
    dups = None
    if "id" in plan.roles:
        header = plan.roles["id"]
        ids = (
            ddf[header]
            .map_partitions(
                lambda s: pd.Series(_id_values(pd.DataFrame({"id": _text(s)})), dtype=object),
                meta=(header, object),
            )
            .compute()
        )
        first = IdTracker().first_rows(ids.to_numpy(dtype=object), np.arange(len(ids)))
        bounds = np.cumsum(lengths)[:-1]
        dups = np.split(first, bounds)
    empty = pd.DataFrame({h: pd.Series(dtype=object) for h in plan.read_columns()})
    meta = _to_pandas(process_chunk(empty, plan, 0, None).results)
    return ddf.map_partitions(_partition, plan, offsets, dups, meta=meta)
