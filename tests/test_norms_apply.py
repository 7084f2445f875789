"""Choosing tables and strata, statuses, and a local (institutional) norm table.

The RCADS table below is MADE UP: psyscreen ships no RCADS norms (the licence forbids posting
them publicly). It only shows that the format holds a grade x sex T-score lookup with T cut-offs,
as an institution with permission would add it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psyscreen
from psyscreen import DefinitionError, load_instrument, load_norms
from psyscreen.norms import NORM_FIELDS, NORM_STATUSES, apply_norms, select_tables

from .test_norms_format import MADE_UP, gad7_table, write


def rcads_local_table() -> dict:
    """MADE-UP RCADS depression lookup by grade band x sex, with the official T cut-offs."""
    inst = load_instrument("rcads")
    rows = []
    for sex, shift in (("female", 0), ("male", 2)):
        for lo, hi in ((3, 6), (7, 12)):
            entries = [{"raw": r, "t": 30 + 2 * r + shift} for r in range(0, 31)]
            rows.append(
                {
                    "scale": "depression",
                    "sex": sex,
                    "grade": {"ge": lo, "le": hi},
                    "n": 50,
                    "lookup": entries,
                }
            )
    return {
        "id": "rcads_local_madeup",
        "version": "2024-1",
        "title": {"en": "MADE-UP local RCADS norms (tests only, not real values)"},
        "instrument": "rcads",
        "instrument_version": inst.version,
        "form": "lookup",
        "population": {"country": "XX", "n": 200},
        "covers": {"sex": ["female", "male"], "grade": {"ge": 3, "le": 12}},
        "t_bands": {
            "id": "clinical",
            "source": "rcads_site",
            "bands": [
                {"code": "normal", "label": {"en": "Normal"}, "lt": 65, "classification": "normal"},
                {
                    "code": "borderline",
                    "label": {"en": "Borderline clinical"},
                    "ge": 65,
                    "lt": 70,
                    "classification": "borderline",
                },
                {
                    "code": "clinical",
                    "label": {"en": "Above clinical threshold"},
                    "ge": 70,
                    "classification": "abnormal",
                },
            ],
        },
        "citations": [
            MADE_UP,
            {
                "key": "rcads_site",
                "text": "RCADS automated scoring page: T >= 65 borderline, T >= 70 clinical.",
                "url": "https://rcads.ucla.edu/node/21",
                "evidence": "primary",
            },
        ],
        "source": "madeup",
        "licence": {"name": "institutional permission (example)"},
        "evidence": "unverified",
        "rows": rows,
    }


def test_local_rcads_table_by_grade_and_sex(tmp_path):
    p = write(tmp_path, rcads_local_table(), "rcads_local.yaml")
    t = load_norms(p)
    inst = load_instrument("rcads")
    scores = pd.DataFrame({"rcads.depression.raw": [10.0, 17.0, 18.0, 20.0, 10.0, 10.0, 10.0]})
    data = pd.DataFrame(
        {
            "sex": ["F", "F", "F", "M", "M", "F", None],
            "grade": ["三年级", 8, "初二", "高三", 2, None, 5],
        }
    )
    out = apply_norms(scores, data, [inst], t)
    p_ = "rcads.depression."
    assert out[p_ + "norm_status"].astype(str).tolist() == [
        "ok",
        "ok",
        "ok",
        "ok",
        "no_stratum",
        "no_demographics",
        "no_demographics",
    ]
    # made-up T = 30 + 2 raw (+2 for boys): 50, 64, 66, 72
    assert out[p_ + "t"].tolist()[:4] == [50.0, 64.0, 66.0, 72.0]
    assert out[p_ + "z"].tolist()[:4] == pytest.approx([0.0, 1.4, 1.6, 2.2])
    assert out[p_ + "norm_band_class"].astype(str).tolist()[:4] == [
        "normal",
        "normal",
        "borderline",
        "abnormal",
    ]
    assert out[p_ + "norm_stratum"].tolist()[:2] == [
        "female, grade [3, 6]",
        "female, grade [7, 12]",
    ]
    assert (out[p_ + "norm_table"] == "rcads_local_madeup@2024-1").all()
    # percentile from the normal distribution when the lookup prints only T
    assert out[p_ + "percentile"].iloc[0] == pytest.approx(50.0)


def test_every_field_is_added_and_rows_keep_their_index():
    inst = load_instrument("scared_c")
    idx = pd.Index(["c", "a", "b"], name="child")
    scores = pd.DataFrame({"scared_c.total.raw": [1.0, np.nan, 30.0]}, index=idx)
    data = pd.DataFrame({"sex": ["F", "F", "M"], "age": [9, 9, 9]}, index=idx)
    out = apply_norms(scores, data, [inst], "scared_c_cn_12city2008")
    assert list(out.index) == ["c", "a", "b"]
    for f in NORM_FIELDS:
        assert f"scared_c.total.{f}" in out.columns
    assert list(out["scared_c.total.norm_status"].cat.categories) == NORM_STATUSES
    assert out["scared_c.total.norm_status"].astype(str).tolist() == ["ok", "no_score", "ok"]
    # a row without a score still shows its stratum (the demographics were fine)
    assert out["scared_c.total.norm_stratum"].iloc[1] == "female, age [8, 17) years"
    assert np.isnan(out["scared_c.total.t"].iloc[1])
    assert out["norms.age_source"].astype(str).tolist() == ["given"] * 3


def test_demographics_mapping_names_other_columns():
    inst = load_instrument("scared_c")
    scores = pd.DataFrame({"scared_c.total.raw": [15.6]})
    data = pd.DataFrame({"性别": ["女"], "dob": ["2012-01-01"], "test_day": ["2023-06-01"]})
    out = apply_norms(
        scores,
        data,
        [inst],
        "scared_c_cn_12city2008",
        demographics={"sex": "性别", "birth_date": "dob", "assessment_date": "test_day"},
    )
    assert out["scared_c.total.t"].iloc[0] == pytest.approx(50.0)
    assert out["norms.age_source"].iloc[0] == "dates"


def test_auto_uses_the_chinese_sdq_default_and_explicit_choice_overrides():
    insts = [load_instrument("sdq_p"), load_instrument("scared_c")]
    chosen = select_tables("auto", insts)
    assert chosen[("sdq_p", "total")].id == "sdq_p_cn_du2008"
    assert chosen[("scared_c", "total")].id == "scared_c_cn_12city2008"
    assert ("scared_c", "panic") not in chosen
    chosen = select_tables(["sdq_p_uk_bands", "auto"], insts)
    assert chosen[("sdq_p", "total")].id == "sdq_p_uk_bands"
    assert chosen[("scared_c", "gad")].id == "scared_c_cn_12city2008"


def test_auto_without_a_default_names_the_candidates(tmp_path, monkeypatch):
    norms_dir = tmp_path / "norms"
    norms_dir.mkdir()
    write(norms_dir, gad7_table(id="gad7_a"), "gad7_a.yaml")
    write(norms_dir, gad7_table(id="gad7_b"), "gad7_b.yaml")
    import psyscreen.loader as loader

    real = loader.data_dir

    def fake(kind):
        return norms_dir if kind == "norms" else real(kind)

    monkeypatch.setattr(loader, "data_dir", fake)
    with pytest.raises(ValueError, match=r"gad7\.total \(gad7_a@1, gad7_b@1\)"):
        select_tables("auto", [load_instrument("gad7")])


def test_two_explicit_tables_for_one_scale_are_an_error():
    with pytest.raises(ValueError, match=r"two norm tables given for sdq_p\.total"):
        select_tables(["sdq_p_cn_du2008", "sdq_p_uk_bands"], [load_instrument("sdq_p")])


def test_a_table_for_an_instrument_not_scored_is_an_error():
    with pytest.raises(ValueError, match="not being scored"):
        select_tables("scared_c_cn_12city2008", [load_instrument("gad7")])


def test_a_table_for_another_instrument_version_is_an_error(tmp_path):
    p = write(tmp_path, gad7_table(instrument_version="1999"))
    with pytest.raises(DefinitionError, match="version"):
        psyscreen.score(pd.DataFrame({f"gad7_{i}": [1] for i in range(1, 8)}), "gad7", norms=p)


def test_unknown_table_id_lists_the_shipped_ones():
    with pytest.raises(KeyError, match="sdq_p_cn_du2008"):
        select_tables("no_such_table", [load_instrument("gad7")])


def test_local_table_through_score_with_a_path(tmp_path):
    p = write(tmp_path, gad7_table())
    df = pd.DataFrame({f"gad7_{i}": [1, 2, None] for i in range(1, 8)})
    df["sex"] = ["F", "M", "F"]
    df["age"] = [12, 17.5, 13]
    out = psyscreen.score(df, "gad7", norms=str(p))
    # made-up female [12,15) mean 5 SD 4: raw 7 -> z 0.5; male [15,18) mean 5 SD 4: raw 14 -> 2.25
    assert out["gad7.total.z"].tolist()[:2] == pytest.approx([0.5, 2.25])
    assert out["gad7.total.norm_status"].astype(str).tolist() == ["ok", "ok", "no_score"]
    assert len(out) == 3


def test_no_norms_means_no_norm_columns():
    out = psyscreen.score(pd.DataFrame({f"gad7_{i}": [1] for i in range(1, 8)}), "gad7")
    assert not [c for c in out.columns if "norm" in c]


def test_same_table_object_twice_is_fine():
    t = load_norms("scared_c_cn_12city2008")
    chosen = select_tables([t, "scared_c_cn_12city2008"], [load_instrument("scared_c")])
    assert chosen[("scared_c", "total")].ref == t.ref


def test_local_table_needs_instrument_when_not_shipped(tmp_path):
    data = gad7_table(instrument="my_scale")
    p = write(tmp_path, data)
    with pytest.raises(DefinitionError, match="not shipped"):
        load_norms(p)


def test_apply_needs_rows_to_match():
    with pytest.raises(ValueError, match="same number of rows"):
        apply_norms(
            pd.DataFrame({"gad7.total.raw": [1.0]}),
            pd.DataFrame({"age": [1, 2]}),
            [load_instrument("gad7")],
            "auto",
        )


def test_docs_mention_every_shipped_table():
    text = (Path(__file__).resolve().parent.parent / "docs" / "norms.md").read_text("utf-8")
    for tid in psyscreen.list_norms():
        assert f"`{tid}`" in text


def test_docs_example_table_is_valid(tmp_path):
    import re

    text = (Path(__file__).resolve().parent.parent / "docs" / "norms.md").read_text("utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    p = tmp_path / "gad7_school_2024.yaml"
    p.write_text(block, encoding="utf-8")
    t = load_norms(p)
    assert t.t_bands is not None and len(t.rows) == 4


@pytest.mark.parametrize(
    "module",
    [
        "psyscreen.demographics",
        "psyscreen.norms",
        "psyscreen.norms.models",
        "psyscreen.norms.loading",
        "psyscreen.norms.apply",
        "psyscreen.norms.build",
    ],
)
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_auto_warns_when_a_shipped_table_is_for_another_instrument_version(tmp_path):
    import yaml as _yaml

    path = Path(psyscreen.registry.data_dir("instruments")) / "scared_c.yaml"
    data = _yaml.safe_load(path.read_text("utf-8"))
    data["version"] = "local variant"
    local = write(tmp_path, data, "scared_c.yaml")
    df = pd.DataFrame({f"scared_c_{i}": [1] for i in range(1, 42)} | {"sex": ["F"], "age": [10]})
    with pytest.warns(UserWarning, match="not the scored version 'local variant'"):
        out = psyscreen.score(df, local, norms="auto")
    assert "scared_c.total.t" not in out.columns
