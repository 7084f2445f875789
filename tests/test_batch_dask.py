"""The Dask path runs the same per-chunk function and gives identical results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from psyscreen.batch import plan_for, process_chunk
from psyscreen.batch.run import IdTracker, to_arrow

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
ROOT = Path(__file__).resolve().parents[1]


def test_dask_partitions_give_the_in_memory_results():
    from psyscreen.batch.dask import score_dask

    df = pd.read_csv(
        ROOT / "examples/annual_export.csv", encoding="gb18030", dtype=str, keep_default_na=False
    ).iloc[:90]
    df.loc[80, "学号"] = df.loc[5, "学号"]  # a duplicate id across partitions
    plan = plan_for(list(df.columns), ROOT / "examples/mapping.yaml", profile="default")
    expected = to_arrow(process_chunk(df[plan.read_columns()], plan, 0, IdTracker()).results)
    with (
        distributed.LocalCluster(
            n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        got = score_dask(dd.from_pandas(df, npartitions=3), plan).compute()
    got_table = to_arrow(got.reset_index(drop=True))
    assert got_table.equals(expected)
    assert "id:duplicate" in got.loc[80, "row.problems"]
