"""Dates as people export them, one assessment date for a run, and type discipline:
the batch path and the Python API read the same values the same way."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import psyscreen
from psyscreen import demographics as demo
from psyscreen.batch import BatchError, run
from psyscreen.batch.mapping import parse_mapping
from psyscreen.cli import main
from psyscreen.yamlio import DefinitionError

BATTERY = psyscreen.load_profile("default").instruments


@pytest.mark.parametrize(
    ("value", "date"),
    [
        ("2024/10/18 8:04:52", "2024-10-18"),  # 问卷星 提交答卷时间
        ("2024/10/18 8:04", "2024-10-18"),
        ("2010-01-02 00:00:00", "2010-01-02"),
        ("2010-01-02T08:30:00", "2010-01-02"),
        ("2010-01-02T08:30:00.250+08:00", "2010-01-02"),
        ("2010年1月2日", "2010-01-02"),
        ("2010.1.2", "2010-01-02"),
        ("20100102", "2010-01-02"),
        (dt.datetime(2010, 1, 2, 23, 59), "2010-01-02"),
        (dt.date(2010, 1, 2), "2010-01-02"),
        (pd.Timestamp("2010-01-02 12:00"), "2010-01-02"),
        (np.datetime64("2010-01-02T12:00"), "2010-01-02"),
    ],
)
def test_dates_and_date_times_use_the_date_part(value, date):
    d, st = demo.parse_dates(pd.Series([value], dtype=object))
    assert st.tolist() == [demo.OK]
    assert d.iloc[0].date().isoformat() == date


@pytest.mark.parametrize("value", ["9999-12-31", "0000-01-01", "2300-01-01", "1899-12-31"])
def test_placeholder_dates_are_implausible_not_a_crash(value):
    _, st = demo.parse_dates(pd.Series([value, pd.Timestamp("2010-01-02")], dtype=object))
    assert st.tolist() == [demo.IMPLAUSIBLE, demo.OK]


def test_out_of_range_timestamps_of_any_unit_are_implausible():
    s = pd.Series(np.array(["9999-12-31", "2010-01-02"], dtype="datetime64[ms]"))
    _, st = demo.parse_dates(s)
    assert st.tolist() == [demo.IMPLAUSIBLE, demo.OK]


def test_invalid_dates_stay_invalid():
    _, st = demo.parse_dates(pd.Series(["2023-02-30", "05/03/2012", "2010-13-01", "x"]))
    assert st.tolist() == [demo.INVALID] * 4


def _export(example, n: int = 12) -> pd.DataFrame:
    return example.make_export(n, BATTERY, seed=5, slips=False)


def _mapping(example, d: Path, extra: str = "", drop_assessment: bool = False) -> Path:
    text = example.mapping_yaml(BATTERY)
    if drop_assessment:
        text = text.replace("  assessment_date: 测评日期\n", "")
    p = d / "mapping.yaml"
    p.write_text(text + extra, encoding="utf-8")
    return p


def _read(path: Path) -> pd.DataFrame:
    return pacsv.read_csv(path).to_pandas()


def test_placeholder_dates_are_a_row_problem_in_batch_and_api_alike(example, tmp_path):
    df = _export(example)
    df.loc[2, "出生日期"] = "9999-12-31"
    df.loc[3, "测评日期"] = "0000-01-01"
    src = tmp_path / "e.csv"
    df.to_csv(src, index=False)
    res = run(src, tmp_path / "r.csv", mapping=_mapping(example, tmp_path), report=False)
    probs = _read(res.problems)
    hits = probs[probs["problem"] == "implausible"]
    assert sorted(zip(hits["row"], hits["field"])) == [(2, "birth_date"), (3, "assessment_date")]
    out = _read(res.results)
    assert out.loc[[2, 3], "risk.level_code"].isna().all() or (
        out.loc[[2, 3], "risk.status"] != "level"
    ).all()
    # the API: same values, no exception, no age for those rows
    canon = pd.DataFrame(
        {"birth_date": ["9999-12-31", "2010-01-02"], "assessment_date": ["2024-10-18"] * 2}
    )
    dem = demo.read_demographics(canon, {"birth_date": "birth_date",
                                         "assessment_date": "assessment_date"})  # fmt: skip
    assert dem.age_status.tolist() == [demo.INVALID, demo.OK]


def test_survey_platform_date_times_give_ages(example, tmp_path):
    df = _export(example)
    mapping = _mapping(example, tmp_path)
    plain = tmp_path / "plain.csv"
    df.to_csv(plain, index=False)
    base = _read(run(plain, tmp_path / "b.csv", mapping=mapping, report=False).results)
    df["测评日期"] = pd.to_datetime(df["测评日期"]).dt.strftime("%Y/%-m/%-d 8:04:52")
    df["出生日期"] = pd.to_datetime(df["出生日期"]).dt.strftime("%Y-%m-%d 00:00:00")
    src = tmp_path / "e.csv"
    df.to_csv(src, index=False)
    res = run(src, tmp_path / "r.csv", mapping=mapping, report=False)
    probs = _read(res.problems)
    assert not probs["problem"].isin(["invalid_date", "implausible"]).any()
    out = _read(res.results)
    pd.testing.assert_series_equal(out["risk.level_code"], base["risk.level_code"])


def test_excel_datetime_cells_and_parquet_timestamps_are_dates(example, tmp_path):
    df = _export(example)
    mapping = _mapping(example, tmp_path)
    src_csv = tmp_path / "e.csv"
    df.to_csv(src_csv, index=False)
    base = _read(run(src_csv, tmp_path / "b.csv", mapping=mapping, report=False).results)
    typed = df.copy()
    typed["出生日期"] = pd.to_datetime(typed["出生日期"])
    typed["测评日期"] = pd.to_datetime(typed["测评日期"]) + pd.Timedelta(hours=8, minutes=4)
    xlsx = tmp_path / "e.xlsx"
    typed.to_excel(xlsx, index=False)
    table = pa.Table.from_pandas(typed, preserve_index=False)
    i = table.schema.get_field_index("出生日期")
    table = table.set_column(i, "出生日期", table.column(i).cast(pa.date32()))
    parquet = tmp_path / "e.parquet"
    pq.write_table(table, parquet)
    for f in (xlsx, parquet):
        out = _read(run(f, tmp_path / f"{f.suffix[1:]}.csv", mapping=mapping,
                        report=False).results)  # fmt: skip
        pd.testing.assert_series_equal(out["risk.level_code"], base["risk.level_code"])
        assert out["birth_date"].tolist() == base["birth_date"].tolist()


def test_one_assessment_date_for_the_run(example, tmp_path):
    df = _export(example).drop(columns="测评日期")
    src = tmp_path / "e.csv"
    df.to_csv(src, index=False)
    no_date = _mapping(example, tmp_path, drop_assessment=True)
    with pytest.raises(BatchError, match="--assessment-date") as e:
        run(src, tmp_path / "r.csv", mapping=no_date, report=False)
    assert "constants" in str(e.value)
    code = main(["score", str(src), "--map", str(no_date), "-o", str(tmp_path / "c.csv")])
    assert code == 2
    a = run(src, tmp_path / "a.csv", mapping=no_date, report=False, assessment_date="2024-10-18")
    (tmp_path / "k").mkdir()
    with_constant = _mapping(
        example, tmp_path / "k", "constants: {assessment_date: 2024-10-18}\n", True
    )
    b = run(src, tmp_path / "b.csv", mapping=with_constant, report=False)
    ra, rb = _read(a.results), _read(b.results)
    assert (ra["assessment_date"].astype(str) == "2024-10-18").all()
    pd.testing.assert_frame_equal(ra, rb)
    assert ra["risk.status"].isin(["level"]).sum() > 0
    code = main(["score", str(src), "--map", str(no_date), "-o", str(tmp_path / "d.csv"),
                 "--assessment-date", "2024-10-18", "--quiet"])  # fmt: skip
    assert code in (0, 1)


def test_a_constant_and_a_column_for_the_same_date_are_refused():
    with pytest.raises(DefinitionError, match="both"):
        parse_mapping(
            {"columns": {"assessment_date": "测评日期"},
             "constants": {"assessment_date": "2024-10-18"}}
        )  # fmt: skip
    with pytest.raises(DefinitionError, match="plausible"):
        parse_mapping({"constants": {"assessment_date": "9999-12-31"}})


@pytest.mark.parametrize("code", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_answer_codes_are_refused(code):
    with pytest.raises(DefinitionError, match="finite"):
        parse_mapping({"answers": [{"instruments": ["phq9"], "codes": {"x": code}}]})


# --- type discipline ---------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        pd.Series([True, False, True]),
        pd.Series([True, False, None], dtype=object),
        pd.Series([True, False, pd.NA], dtype="boolean"),
        pd.Series([1 + 0j, 2 + 0j, 0j]),
    ],
)
def test_bool_and_complex_answers_are_flagged_not_scored(values):
    inst = psyscreen.load_instrument("gad7")
    data = pd.DataFrame({i: values for i in inst.item_ids})
    scored = psyscreen.score(data, [inst])
    assert scored["gad7.total.raw"].isna().all()
    assert scored["gad7.problems"].str.contains("non_numeric").any()


def test_true_in_xlsx_or_parquet_answers_is_flagged_like_text(example, tmp_path):
    df = _export(example, 6)
    mapping = _mapping(example, tmp_path)
    col = "GAD7_1 紧张"
    df[col] = [True, False, True, False, True, False]
    for f in (tmp_path / "e.xlsx", tmp_path / "e.parquet"):
        df.to_excel(f, index=False) if f.suffix == ".xlsx" else df.to_parquet(f, index=False)
        res = run(f, tmp_path / f"{f.suffix[1:]}.csv", mapping=mapping, report=False)
        probs = _read(res.problems)
        flagged = probs[(probs["field"] == "gad7_1")]
        assert flagged["row"].tolist() == list(range(6))
        assert set(flagged["problem"]) == {"non_numeric"}
