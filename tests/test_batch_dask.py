"""The Dask path runs the same per-chunk function and gives identical results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from psyscreen.batch import plan_for, process_chunk
from psyscreen.batch.arrow import to_arrow
from psyscreen.batch.ids import IdTracker

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # a Dask cluster per test


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


def _example_with_problems() -> pd.DataFrame:
    """The 90-row slice with a duplicate id across partitions and bad cells in each one."""
    df = pd.read_csv(
        ROOT / "examples/annual_export.csv", encoding="gb18030", dtype=str, keep_default_na=False
    ).iloc[:90]
    df.loc[80, "学号"] = df.loc[5, "学号"]  # duplicate id, first seen in another partition
    df.loc[10, "PHQ9_3 睡眠问题"] = "很多"  # not an answer of the item's scale
    df.loc[35, "ASQ_2 近几周觉得自己死了家人会更好"] = "也许"
    df.loc[50, "性别"] = "X"
    df.loc[70, "出生日期"] = "not a date"
    return df


def test_dask_outputs_give_the_streaming_problems_counts_and_report(tmp_path, monkeypatch):
    import psyscreen.batch.dask as pdask
    from psyscreen.batch.dask import dask_manifest, score_dask_outputs
    from psyscreen.batch.report import ReportStats, render_report

    df = _example_with_problems()
    plan = plan_for(list(df.columns), ROOT / "examples/mapping.yaml", profile="default")
    whole = process_chunk(df[plan.read_columns()], plan, 0, IdTracker())
    expected_stats = ReportStats(plan)
    expected_stats.update(whole.results, whole.problems)
    # the injected problems, one row each, in row order
    assert whole.problems["row"].tolist() == [10, 35, 50, 70, 80]
    with (
        distributed.LocalCluster(
            n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        out = score_dask_outputs(dd.from_pandas(df, npartitions=3), plan)
        scored = []  # first rows of the partitions scored (threads: one process)
        monkeypatch.setattr(
            pdask, "process_chunk", lambda c, *a: scored.append(a[1]) or process_chunk(c, *a)
        )
        results, problems, stats = out.compute()
        assert sorted(scored) == [0, 30, 60]  # each partition scored once for all three
        written = out.to_parquet(tmp_path / "results", tmp_path / "problems")
        assert sorted(scored) == [0, 0, 30, 30, 60, 60]

    assert to_arrow(results.reset_index(drop=True)).equals(to_arrow(whole.results))
    assert to_arrow(problems).equals(to_arrow(whole.problems))
    assert problems.loc[4, "detail"] == "same id as row 5"

    assert stats.rows == 90
    assert stats.counts() == expected_stats.counts()
    assert stats.counts()["problems_by_kind"]["id:duplicate"] == 1
    for dim in ("all", "school", "grade", "sex"):
        groups, arr = stats.table(dim)
        want_groups, want_arr = expected_stats.table(dim)
        assert groups == want_groups and (arr == want_arr).all(), dim
    assert stats.state() == expected_stats.state()

    manifest = dask_manifest(stats, plan, input="annual_export.csv[:90]")
    assert manifest["rows"]["in"] == manifest["rows"]["out"] == 90
    assert manifest["exit_code"] == 1
    html = render_report(stats, manifest)
    assert html == render_report(expected_stats, manifest)
    assert "class='ph'" in html  # some small cells are suppressed, as in the streaming report

    # the Parquet outputs hold the same tables; the returned counts are the same
    assert to_arrow(pd.read_parquet(tmp_path / "problems")).equals(to_arrow(whole.problems))
    back = pd.read_parquet(tmp_path / "results").sort_values("row", ignore_index=True)
    assert to_arrow(back).equals(to_arrow(whole.results))
    assert written.state() == expected_stats.state()
