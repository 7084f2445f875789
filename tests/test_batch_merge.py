"""One process only (``workers`` other than 1 refused), report counts merged part by part
(Dask), and Arrow chunks converted as the plain reader's frames."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from psyscreen.batch import BatchError, run
from psyscreen.batch.io import arrow_frame, open_source
from psyscreen.batch.plan import plan_for
from psyscreen.batch.report import ReportStats
from psyscreen.cli import EXIT_FAILURE, main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("workers", [0, 2, 4])
def test_workers_other_than_one_are_refused_before_anything_is_written(tmp_path, workers):
    with pytest.raises(BatchError, match="Dask"):
        run(ROOT / "examples/annual_export.csv", tmp_path / "r.csv", workers=workers)
    assert list(tmp_path.iterdir()) == []


def test_the_workers_option_is_refused_in_one_line(tmp_path, capsys):
    export, mapping = ROOT / "examples/annual_export.csv", ROOT / "examples/mapping.yaml"
    args = ["score", str(export), "--map", str(mapping), "-o", str(tmp_path / "r.csv")]
    args += ["--workers", "2"]
    assert main(args) == EXIT_FAILURE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "workers" in err[0] and "Dask" in err[0]
    assert list(tmp_path.iterdir()) == []


def _plan():
    headers = open_source(ROOT / "examples/annual_export.csv").headers
    return plan_for(headers, ROOT / "examples/mapping.yaml")


def test_merged_counts_equal_counts_of_one_pass():
    plan = _plan()
    stats = ReportStats(plan)
    stats.by_group["all"]["all", "0"] += 3
    stats.row_status["ok"] += 2
    stats.norm_tables.add("t")
    stats.rows = 5
    merged = ReportStats(plan)
    merged.merge(stats.state())
    merged.merge(stats.state())
    assert merged.by_group["all"] == Counter({("all", "0"): 6})
    assert merged.row_status == Counter({"ok": 4})
    assert merged.norm_tables == {"t"} and merged.rows == 10


def test_the_state_holds_every_count_of_the_report():
    # a counter added to ReportStats but not to state() would be lost on Dask
    stats = ReportStats(_plan())
    config = {"plan", "profile", "outcomes", "scales"}
    assert set(stats.state()) == set(vars(stats)) - config


def test_arrow_chunks_convert_to_the_frames_of_the_plain_reader():
    plan = _plan()
    src = open_source(ROOT / "examples/annual_export.csv")
    cols, cats = plan.read_columns(), plan.categorical_columns()
    plain = list(src.chunks(cols, cats, 700))
    arrow = list(src.chunks(cols, cats, 700, arrow=True))
    assert len(plain) == len(arrow) == 3
    for df, table in zip(plain, arrow):
        assert isinstance(table, pa.Table)
        got = arrow_frame(table, cats)
        assert list(got.columns) == list(df.columns)
        for c in df.columns:
            assert isinstance(got[c].dtype, pd.CategoricalDtype) == (c in cats)
            assert got[c].astype(object).tolist() == df[c].astype(object).tolist()
