"""The columnar results reader gives pandas' frames and therefore the same archive."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("sqlalchemy")

from psyscreen.archive import create_archive, store
from psyscreen.archive.csvread import NA_TEXTS, read_csv_chunks
from psyscreen.archive.history import read_screenings
from psyscreen.archive.packing import decode_scores

ROOT = Path(__file__).resolve().parents[1]
TEXT = ("id", "school", "grade", "class")


def test_na_texts_are_pandas_defaults() -> None:
    from pandas._libs.parsers import STR_NA_VALUES

    assert set(NA_TEXTS) == set(STR_NA_VALUES)


# cells a results file or a hand-edited one may hold: every branch of the reader's dtype
# choice (integers, decimals, bools, text, missing) and what pandas treats specially
CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "NA",
            "N/A",
            "null",
            "None",
            "nan",
            "NaN",
            "<NA>",
            "#N/A",
            "-nan",
            "007",
            "0",
            "-0",
            "-0.0",
            "0.0",
            "1.5",
            "1e5",
            "-2E-3",
            ".5",
            "5.",
            "+1",
            " 1",
            "1 ",
            "inf",
            "-inf",
            "Infinity",
            "1,5",
            "True",
            "False",
            "true",
            "FALSE",
            "TRUE ",
            "yes",
            "一中",
            "初一",
            "轻度",
            'say "hi"',
            "a\nb",
            "a\r\nb",
            "x,y",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551616",
            "123456789012345678901234",
            "0x1F",
            "3.141592653589793",
            "1.0000000000000002",
            "2024-10-08",
            "\x1f",
        ]
    ),
    st.integers(-(2**63), 2**64).map(str),
    st.floats(allow_nan=False).map(repr),
    st.text(max_size=6),
)
HOMOGENEOUS = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["True", "False", "", "NA"]),
    st.sampled_from(["mild", "重度", "", " x "]),
)


def _csv(columns: dict[str, list[str]], quote_all: bool) -> str:
    buf = io.StringIO()
    w = csv.writer(
        buf, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL, lineterminator="\n"
    )
    names = list(columns)
    w.writerow(names)
    for row in zip(*columns.values()):
        w.writerow(row)
    return buf.getvalue()


def _pandas(p: Path, rows: int) -> list[pd.DataFrame]:
    return list(
        pd.read_csv(
            p,
            dtype={c: "string" for c in TEXT},
            keep_default_na=True,
            encoding="utf-8-sig",
            low_memory=False,
            chunksize=rows,
        )
    )


def _same_frames(got: list[pd.DataFrame], want: list[pd.DataFrame]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        pd.testing.assert_frame_equal(g, w, check_dtype=True, check_exact=True)
        for c in w.columns:  # -0.0 == 0.0 for assert_frame_equal: compare the sign too
            if w[c].dtype == np.float64:
                assert (np.signbit(g[c].to_numpy()) == np.signbit(w[c].to_numpy())).all()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    data=st.data(),
    n=st.integers(1, 9),
    quote_all=st.booleans(),
    bom=st.booleans(),
    rows=st.integers(1, 4),
)
def test_frames_equal_pandas_on_awkward_cells(
    tmp_path: Path, data: st.DataObject, n: int, quote_all: bool, bom: bool, rows: int
) -> None:
    cols: dict[str, list[str]] = {}
    for name in ("id", "school", "a.raw", "a.band", "a.t", "b.flag", "b.z", "c.x"):
        cells = HOMOGENEOUS if name in ("a.raw", "b.flag", "b.z") else CELLS
        cols[name] = data.draw(st.lists(cells, min_size=n, max_size=n), label=name)
    p = tmp_path / "r.csv"
    p.write_text(("\ufeff" if bom else "") + _csv(cols, quote_all), encoding="utf-8")
    _same_frames(list(read_csv_chunks(p, text=TEXT, rows=rows)), _pandas(p, rows))


def test_files_pyarrow_cannot_read_go_to_pandas(tmp_path: Path) -> None:
    for body in ("id,a,a\n1,2,3\n", "id,,b\n1,2,3\n", "id,a\n1,2\n3\n", "id,a\n"):
        p = tmp_path / "r.csv"
        p.write_text(body, encoding="utf-8")
        _same_frames(list(read_csv_chunks(p, text=TEXT, rows=2)), _pandas(p, 2))


def _decoded(arc: object) -> list[tuple]:
    with arc.engine.connect() as conn:  # type: ignore[attr-defined]
        scr = read_screenings(conn, store.S.screenings.c.source_row >= 0)
        lay = {r.layout: r.columns for r in conn.execute(store.sa.select(store.S.layouts))}
    out = []
    for r in scr.itertuples():
        dec = decode_scores(lay[r.layout], r.scores)
        out.append(
            (r.screening_key, sorted((k, type(v).__name__, repr(v)) for k, v in dec.items()))
        )
    return out


@pytest.fixture(scope="module")
def results_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "results.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "psyscreen",
            "score",
            str(ROOT / "examples/annual_export.csv"),
            "--map",
            str(ROOT / "examples/mapping.yaml"),
            "--profile",
            "default",
            "-o",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return out


def test_same_archive_through_either_reader(
    results_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # small chunks, so chunk boundaries (where pandas infers dtypes anew) are covered
    monkeypatch.setattr(store, "READ_ROWS", 300)
    key = b"k" * 16
    arcs = []
    for columnar in (False, True):
        monkeypatch.setattr(
            store,
            "read_results",
            lambda p, *, id_column="id", _c=columnar, _f=store.read_results: _f(
                p, id_column=id_column, columnar=_c
            ),
        )
        a = create_archive(tmp_path / f"a{columnar}.sqlite", key=key, clear_ids=True)
        r = a.add_results(results_file)
        arcs.append((a, (r.rows_in, r.stored, r.already, r.skipped)))
        monkeypatch.undo()
        monkeypatch.setattr(store, "READ_ROWS", 300)
    (old, r_old), (new, r_new) = arcs
    assert r_old == r_new and r_old[1] > 1000
    assert new.content() == old.content()
    assert _decoded(new) == _decoded(old)
    for a, _ in arcs:
        a.close()
