"""Age- and informant-routed risk profiles: boundaries, statuses, properties.

Expected routes are read off the bounds written in profiles/school.yaml, institution.yaml and
default.yaml (8 <= age < 12, ...), never from the code's output: each boundary is tested on the
birthday itself and one day either side, with ages from birth and assessment dates.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import psyscreen
from psyscreen.registry import data_dir
from psyscreen.risk import route_rows
from psyscreen.risk.profile import profile_from_data
from psyscreen.yamlio import DefinitionError, read_yaml

BIRTH = dt.date(2008, 3, 15)


def _on(years: int, days: int = 0) -> str:
    """Assessment date: the child's ``years``-th birthday shifted by ``days``."""
    return (
        dt.date(BIRTH.year + years, BIRTH.month, BIRTH.day) + dt.timedelta(days=days)
    ).isoformat()


def _routes(profile: str, cases: list[tuple[int, int]], informant: str | None = None) -> list[str]:
    df = pd.DataFrame(
        {
            "birth_date": [BIRTH.isoformat()] * len(cases),
            "assessment_date": [_on(y, d) for y, d in cases],
        }
    )
    if informant is not None:
        df["informant"] = informant
    return route_rows(psyscreen.load_profile(profile), df).labels()


def _boundary(age: int) -> list[tuple[int, int]]:
    return [(age, -1), (age, 0), (age, 1)]


OUT = "out_of_age_range"

# school.yaml: primary 8 <= age < 12, secondary 12 <= age < 18, senior_18 18 <= age < 19
SCHOOL = {
    8: [OUT, "primary", "primary"],
    12: ["primary", "secondary", "secondary"],
    18: ["secondary", "senior_18", "senior_18"],
    19: ["senior_18", OUT, OUT],
}
# institution.yaml without an informant column: young 4-7, middle 8-11, teen 12-17
INSTITUTION = {
    4: [OUT, "young", "young"],
    8: ["young", "middle", "middle"],
    12: ["middle", "teen", "teen"],
    18: ["teen", OUT, OUT],
}
# institution.yaml, informant column: caregiver_report / teacher_report 4 <= age < 18;
# self_8_11 8 <= age < 12, self_12_17 12 <= age < 18 (below 8 a self row falls to 'young')
INSTITUTION_INFORMANT = {
    ("家长", 4): [OUT, "caregiver_report", "caregiver_report"],
    ("家长", 18): ["caregiver_report", OUT, OUT],
    ("老师", 4): [OUT, "teacher_report", "teacher_report"],
    ("老师", 18): ["teacher_report", OUT, OUT],
    ("本人", 8): ["young", "self_8_11", "self_8_11"],
    ("本人", 12): ["self_8_11", "self_12_17", "self_12_17"],
    ("本人", 18): ["self_12_17", OUT, OUT],
}
# default.yaml: 12 <= age < 18, one battery (route label '')
DEFAULT = {12: [OUT, "", ""], 18: ["", OUT, OUT]}


@pytest.mark.parametrize("age", sorted(SCHOOL))
def test_school_route_boundaries(age):
    assert _routes("school", _boundary(age)) == SCHOOL[age]


@pytest.mark.parametrize("age", sorted(INSTITUTION))
def test_institution_route_boundaries(age):
    assert _routes("institution", _boundary(age)) == INSTITUTION[age]


@pytest.mark.parametrize(("informant", "age"), sorted(INSTITUTION_INFORMANT))
def test_institution_informant_route_boundaries(informant, age):
    got = _routes("institution", _boundary(age), informant=informant)
    assert got == INSTITUTION_INFORMANT[(informant, age)]


@pytest.mark.parametrize("age", sorted(DEFAULT))
def test_default_age_boundaries(age):
    assert _routes("default", _boundary(age)) == DEFAULT[age]


def test_age_column_is_used_without_dates_and_dates_win():
    df = pd.DataFrame(
        {
            "age": [11.99, 12, None],
            "birth_date": [None, "2000-01-01", None],
            "assessment_date": [None, "2010-01-01", None],
        }
    )
    labels = route_rows(psyscreen.load_profile("school"), df).labels()
    assert labels[0] == "primary"  # given age 11.99
    assert labels[1] == "primary"  # dates give exactly 10.0, the given 12 is not used
    assert labels[2] == "no_age"


# -- whole results ---------------------------------------------------------------------------


def _answers(prefix: str, n: int, value) -> dict:
    return {f"{prefix}_{i}": value for i in range(1, n + 1)}


def _primary_child(age, asq=0, dsrsc=None) -> dict:
    row = {"age": age, **_answers("scared_c", 41, 0), **_answers("asq", 4, asq), "asq_5": None}
    # DSRSC: every item at its no-problem end (positive items 2, the others 0) unless given
    pos = {1, 2, 4, 7, 8, 9, 11, 12, 13, 16}
    row.update(
        {f"dsrsc_{i}": (2 if i in pos else 0) if dsrsc is None else dsrsc for i in range(1, 19)}
    )
    return row


def test_a_child_outside_every_route_is_never_normal_nor_insufficient():
    df = pd.DataFrame([_primary_child(7.5), _primary_child(19.2), _primary_child(None)])
    out = psyscreen.screen(df, "school", missing_columns="missing")
    assert out["risk.status"].tolist() == ["out_of_age_range", "out_of_age_range", "no_age"]
    assert out["risk.level_zh"].tolist() == ["不适用年龄", "不适用年龄", "年龄缺失"]
    assert "正常" not in out["risk.level_zh"].tolist()
    assert out["risk.level"].isna().all()
    assert out["risk.reasons_zh"].iloc[2].startswith("年龄缺失（无法读取年龄")
    assert out["risk.actions"].tolist() == ["screen_for_age", "screen_for_age", "add_age"]


def test_a_critical_item_outside_the_ages_still_gives_crisis():
    df = pd.DataFrame([_primary_child(7.5, asq=1), _primary_child(None, asq=1)])
    out = psyscreen.screen(df, "school", missing_columns="missing")
    assert out["risk.level_code"].tolist() == ["crisis", "crisis"]
    assert out["risk.flags"].tolist() == ["out_of_age_range:age", "no_age:age"]
    assert "also out of age range" in out["risk.reasons"].iloc[0]


def test_primary_route_grades_with_the_primary_battery():
    calm = _primary_child(9.0)
    worst = _primary_child(9.0, dsrsc=None)
    worst.update({f"dsrsc_{i}": 2 for i in (3, 5, 6, 10, 14, 15, 17, 18)})  # 8 x 2 = 16 >= 15
    df = pd.DataFrame([calm, worst])
    out = psyscreen.screen(df, "school", missing_columns="missing")
    assert out["risk.route"].tolist() == ["primary", "primary"]
    assert out["dsrsc.total.raw"].tolist() == [0, 16]
    assert out["risk.level_code"].tolist() == ["normal", "attention"]
    assert "phq9.total.raw" not in out.columns or out["phq9.total.raw"].isna().all()


def test_route_battery_not_in_the_data_is_an_explicit_status():
    # a 13-year-old routed to the secondary battery, but the data hold only primary columns
    out = psyscreen.screen(
        pd.DataFrame([_primary_child(13.0)]), "school", missing_columns="missing"
    )
    assert out["risk.route"].iloc[0] == "secondary"
    assert out["risk.status"].iloc[0] == "insufficient_data"
    assert "phq9 [not in the data]" in out["risk.reasons"].iloc[0]


@pytest.mark.parametrize(
    ("profile", "ages"),
    [("school", [[9.0], [13.0], [30.0], [9.0, 13.0, None]]), ("default", [[13.0], [13.0, 30.0]])],
)
def test_the_columns_do_not_depend_on_which_routes_the_rows_take(profile, ages):
    # a batch writes chunk after chunk: every chunk must have the same columns, in order, of
    # the same types as written (the batch writer's Arrow schema)
    from psyscreen.batch.arrow import to_arrow

    got = []
    for chunk in ages:
        df = pd.DataFrame([_primary_child(a) for a in chunk])
        got.append(to_arrow(psyscreen.screen(df, profile, missing_columns="missing")).schema)
    assert all(schema == got[0] for schema in got)


def test_records_carry_route_and_new_statuses():
    df = pd.DataFrame([_primary_child(9.0), _primary_child(30.0)])
    recs = psyscreen.screen_records(df, "school", missing_columns="missing")
    assert [(r.row, r.route, r.status) for r in recs] == [
        (0, "primary", "level"),
        (1, None, "out_of_age_range"),
    ]
    assert recs[1].actions[0].id == "screen_for_age"


def test_institution_caregiver_only_young_child_uses_parent_bands():
    # Du 2008 Table 4 parent total: 0-14 normal, 15-16 borderline, 17-40 abnormal
    inst = psyscreen.load_instrument("sdq_p")
    rows = []
    for total in (16, 17):
        ans = {}
        left = total
        for s in inst.scales:
            if s.is_composite or s.id == "prosocial":
                continue
            for item in s.items:
                give = min(2, left)
                left -= give
                ans[item] = 2 - give if inst.is_reverse(item) else give
        ans.update({i: 2 for i in inst.scale("prosocial").items})
        rows.append({**ans, "age": 5})
    out = psyscreen.screen(pd.DataFrame(rows), "institution", missing_columns="missing")
    assert out["risk.route"].tolist() == ["young", "young"]
    assert out["sdq_p.total.raw"].tolist() == [16, 17]
    assert out["risk.level_code"].tolist() == ["normal", "attention"]


def test_default_keeps_its_results_for_12_to_17_and_flags_18():
    row = {**_answers("phq9", 9, 0), **_answers("gad7", 7, 0), **_answers("asq", 4, 0)}
    df = pd.DataFrame(
        [{**row, "age": 17.99}, {**row, "age": 18.0}, {**row, "phq9_9": 1, "age": 18.5}]
    )
    out = psyscreen.screen(df, "default", missing_columns="missing")
    assert out["risk.status"].tolist() == ["insufficient_data", "out_of_age_range", "level"]
    assert out["risk.level_code"].iloc[2] == "crisis"
    # the 12-17 row is graded exactly as when screened alone
    alone = psyscreen.screen(df.iloc[[0]], "default", missing_columns="missing")
    pd.testing.assert_frame_equal(out.iloc[[0]], alone, check_dtype=False, check_categorical=False)


# -- instruments' own age ranges ------------------------------------------------------------


def test_scores_only_run_marks_instruments_outside_their_ages():
    df = pd.DataFrame({"age": [10.99, 11, 17.99, 18, None]})
    inst = psyscreen.load_instrument("sdq_s")
    for i in inst.item_ids:
        df[i] = 0
    out = psyscreen.score(df, "sdq_s")
    # sdq_s age_range {min: 11, max: 17}: 11 <= age < 18; an unknown age is not marked
    assert out["sdq_s.status"].astype(str).tolist() == [
        "out_of_age_range",
        "complete",
        "complete",
        "out_of_age_range",
        "complete",
    ]


def _school_data():
    data, _ = read_yaml(data_dir("profiles") / "school.yaml")
    return data


def test_a_route_cannot_send_a_child_to_an_instrument_outside_its_ages():
    data = _school_data()
    data["routes"][0]["age"] = {"ge": 7, "lt": 12}  # DSRSC and SCARED are 8-16
    with pytest.raises(DefinitionError, match="not all within the ages of dsrsc"):
        profile_from_data(data)


def test_overlapping_routes_are_rejected():
    data = _school_data()
    data["routes"][1]["age"] = {"ge": 11, "lt": 18}
    with pytest.raises(DefinitionError, match="overlap in age"):
        profile_from_data(data)


def test_routes_and_a_top_level_battery_do_not_mix():
    data = _school_data()
    data["battery"] = data["routes"][0]["battery"]
    with pytest.raises(DefinitionError, match="not at the top level"):
        profile_from_data(data)


# -- properties ------------------------------------------------------------------------------

SDQ_P_ITEMS = psyscreen.load_instrument("sdq_p").item_ids
AGES = st.one_of(st.none(), st.floats(min_value=2.0, max_value=21.0, allow_nan=False))
ANS = st.sampled_from([0, 1, 2, None])


@st.composite
def _child(draw):
    row = {
        "age": draw(AGES),
        "informant": draw(st.sampled_from([None, "家长", "本人", "老师", "x"])),
    }
    for prefix, n in (("dsrsc", 18), ("scared_c", 41), ("phq9", 9), ("gad7", 7)):
        v = draw(ANS)
        row.update(_answers(prefix, n, v))
    v = draw(ANS)
    row.update({i: v for i in SDQ_P_ITEMS})
    row.update(_answers("asq", 4, draw(st.sampled_from([0, 1, None]))))
    row["asq_5"] = None
    return row


RISK = ["risk.status", "risk.level_code", "risk.route", "risk.reasons", "risk.flags"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_child(), min_size=1, max_size=6), st.sampled_from(["school", "institution"]))
def test_a_childs_result_never_depends_on_the_other_children(children, profile):
    df = pd.DataFrame(children)
    together = psyscreen.screen(df, profile, missing_columns="missing")[RISK]
    for i in range(len(df)):
        alone = psyscreen.screen(df.iloc[[i]], profile, missing_columns="missing")[RISK]
        assert together.iloc[i].astype(str).tolist() == alone.iloc[0].astype(str).tolist()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_child(), min_size=1, max_size=6),
    st.sampled_from(["school", "institution", "default"]),
)
def test_an_age_outside_every_route_never_gives_normal(children, profile):
    df = pd.DataFrame(children)
    out = psyscreen.screen(df, profile, missing_columns="missing")
    routing = route_rows(psyscreen.load_profile(profile), df)
    outside = np.asarray(routing.route) < 0
    assert not (out["risk.level_code"].to_numpy()[outside] == "normal").any()
    assert set(out["risk.status"].to_numpy()[outside]) <= {"out_of_age_range", "no_age", "level"}
    kept = outside & (out["risk.status"].to_numpy() == "level")
    assert (out["risk.level_code"].to_numpy()[kept] != "normal").all()


# -- the batch job with a routed profile (real files, the real batch runner) -------------------


def test_batch_runs_a_routed_profile_on_an_export_with_some_routes_only(tmp_path):
    from psyscreen.batch.run import run

    rows = []
    dates = [
        ("2014-09-01", "2024-08-31"),
        ("2012-09-01", "2024-09-01"),
        ("2017-01-01", "2024-09-01"),
    ]
    for k, (b, a) in enumerate(dates):
        r = {"学号": f"S{k}", "出生日期": b, "测评日期": a}
        r.update(_primary_child(None))
        r.pop("age")
        rows.append(r)
    export = tmp_path / "export.csv"
    pd.DataFrame(rows).to_csv(export, index=False)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {id: 学号, birth_date: 出生日期, assessment_date: 测评日期}\n", encoding="utf-8"
    )
    res = run(export, tmp_path / "r.csv", mapping=mapping, profile="school", report=True)
    out = pd.read_csv(res.results, keep_default_na=False)
    # 9.99 -> primary (graded), 12.0 -> secondary (its questionnaires are not in the export),
    # 7.67 -> outside every route
    assert out["risk.route"].tolist() == ["primary", "secondary", ""]
    assert out["risk.status"].tolist() == ["level", "insufficient_data", "out_of_age_range"]
    assert out["risk.level_code"].iloc[0] == "normal"
    assert "phq9 [not in the data]" in out["risk.reasons"].iloc[1]
    counts = res.manifest["rows"]["by_outcome"]
    assert (counts["normal"], counts["insufficient_data"], counts["out_of_age_range"]) == (1, 1, 1)
    assert "不适用年龄" in (tmp_path / "r.report.html").read_text("utf-8")


def test_batch_chunks_with_different_routes_write_one_consistent_file(tmp_path):
    from psyscreen.batch.run import run

    secondary = {**_answers("phq9", 9, 1), **_answers("gad7", 7, 1)}
    secondary.update({i: 0 for i in psyscreen.load_instrument("sdq_s").item_ids})
    rows = []
    for k, age in enumerate([13.0, 14.0, 9.0, 10.0, 30.0]):  # chunks of 2: routes differ
        r = {"学号": f"S{k}", "年龄": age, **_primary_child(None), **secondary}
        r.pop("age")
        if age < 12:
            r.update({c: None for c in secondary})
        rows.append(r)
    export = tmp_path / "export.csv"
    pd.DataFrame(rows).to_csv(export, index=False)
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns: {id: 学号, age: 年龄}\n", encoding="utf-8")
    one = run(export, tmp_path / "one.csv", mapping=mapping, profile="school", report=False)
    two = run(
        export, tmp_path / "two.csv", mapping=mapping, profile="school", report=False, chunk_rows=2
    )
    a = (tmp_path / "one.csv").read_bytes()
    assert a == (tmp_path / "two.csv").read_bytes()
    out = pd.read_csv(one.results, keep_default_na=False)
    assert out["risk.route"].tolist() == ["secondary", "secondary", "primary", "primary", ""]
    assert out["dsrsc.total.raw"].astype(str).tolist()[2:4] == ["0", "0"]
    assert two.manifest["rows"]["out"] == 5
