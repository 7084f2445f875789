"""Batch runs in worker processes give byte-identical outputs to one process.

One pool run (a few seconds: two processes start) on the synthetic example export
with slips (missing and repeated ids, also across chunks, unknown sex codes,
impossible dates, unreadable answers), a formula-like cell and pseudonymisation;
compared byte for byte with the one-process run.
"""

from __future__ import annotations

import codecs
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from psyscreen.batch import BatchError, run
from psyscreen.batch.executors import _merge_stats, _stats_state
from psyscreen.batch.io import Writer, arrow_frame, csv_rows, open_source
from psyscreen.batch.plan import plan_for
from psyscreen.batch.report import ReportStats
from psyscreen.batch.sinks import _TableSink

ROOT = Path(__file__).resolve().parents[1]
N, CHUNK = 900, 200
KEY = b"0123456789abcdef-test-key"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, write_export):
    """(one-process run, two-worker run) on the same export with slips."""
    d = tmp_path_factory.mktemp("parallel")
    csv, mapping = write_export(d, N, seed=11, repeat=(N - 1, 0))  # a repeat in the last chunk
    opts = dict(mapping=mapping, chunk_rows=CHUNK, progress=False, key=KEY)
    one = run(csv, d / "w1" / "results.csv", workers=1, pseudonymise=["id"], **opts)
    two = run(csv, d / "w2" / "results.csv", workers=2, pseudonymise=["id"], **opts)
    return one, two


@pytest.mark.slow
def test_two_workers_byte_identical_to_one_process(runs):
    one, two = runs
    assert one.manifest["options"]["workers"] == 1
    assert two.manifest["options"]["workers"] == 2
    assert two.results.read_bytes() == one.results.read_bytes()
    assert two.problems.read_bytes() == one.problems.read_bytes()
    assert two.report.read_bytes() == one.report.read_bytes()
    assert two.manifest["rows"] == one.manifest["rows"]
    assert two.exit_code == one.exit_code == 1


@pytest.mark.slow
def test_parallel_run_keeps_rows_problems_and_cross_chunk_duplicates(runs):
    _, two = runs
    text_id = pacsv.ConvertOptions(column_types={"id": pa.string()})
    res = pacsv.read_csv(two.results, convert_options=text_id).to_pandas()
    assert res["row"].tolist() == list(range(N))
    ids = res["id"].dropna().astype(str)
    ids = ids[ids != ""]  # missing ids stay blank
    assert len(ids) > N // 2 and ids.str.fullmatch("[0-9a-f]{32}").all()  # pseudonyms
    probs = pacsv.read_csv(two.problems).to_pandas()
    dup = probs[(probs["field"] == "id") & (probs["problem"] == "duplicate")]
    assert N - 1 in set(dup["row"])  # found across chunks, in a worker's chunk
    assert "same id as row 0" in set(dup["detail"])
    kinds = set(zip(probs["field"], probs["problem"]))
    assert ("id", "missing") in kinds and ("sex", "unknown_code") in kinds


def _plan():
    headers = open_source(ROOT / "examples/annual_export.csv").headers
    return plan_for(headers, ROOT / "examples/mapping.yaml")


def test_merged_counts_equal_counts_of_one_pass():
    plan = _plan()
    stats = ReportStats(plan)
    stats.by_group["all"]["all", "0"] += 3
    merged = ReportStats(plan)
    _merge_stats(merged, _stats_state(stats))
    _merge_stats(merged, _stats_state(stats))
    assert merged.by_group["all"] == Counter({("all", "0"): 6})


def test_merge_refuses_an_unknown_accumulator():
    stats = ReportStats(_plan())
    with pytest.raises(TypeError, match="cannot merge"):
        _merge_stats(stats, {"something_new": [1, 2]} | {"row_status": Counter()})


def test_workers_must_be_positive(tmp_path):
    with pytest.raises(BatchError, match="workers"):
        run(ROOT / "examples/annual_export.csv", tmp_path / "r.csv", workers=0)


def test_rows_encoded_apart_give_the_bytes_of_one_csv_writer(tmp_path):
    # workers encode their rows; the file must equal what pyarrow's CSVWriter writes
    t = pa.table(
        {
            "a": pa.array(["x,y", None, "'=1", "中文", 'say "hi"']),
            "b": pa.array([1.5, None, 2.0, 3.25, -0.0]),
            "c": pa.array([True, None, False, True, None]),
            "d": pa.array([1, None, 3, 4, 5], pa.int64()),
        }
    )
    ref = tmp_path / "ref.csv"
    with open(ref, "wb") as f:
        f.write(codecs.BOM_UTF8)
        with pacsv.CSVWriter(f, t.schema) as w:
            w.write_table(t)
            w.write_table(t.slice(1, 2))
    w = Writer(tmp_path / "ours.csv")
    w.write_csv_rows(t.schema, csv_rows(t), t.num_rows)
    w.write(t.slice(1, 2))  # a table written by the main process itself, as in a fallback
    w.close()
    assert (tmp_path / "ours.csv").read_bytes() == ref.read_bytes()
    assert w.rows == 7


def test_sink_refuses_rows_of_another_schema(tmp_path):
    sink = _TableSink(tmp_path / "r.csv", neutralise=True)
    t = pa.table({"a": ["1"]})
    assert sink.write_rows(t.schema, csv_rows(t), 1)
    other = pa.table({"a": [1]})
    assert not sink.write_rows(other.schema, csv_rows(other), 1)  # the caller writes a table
    sink.close()
    assert sink.writer.rows == 1


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
