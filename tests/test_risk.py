"""Risk profiles: loading, the screen() column contract, records and provenance."""

from __future__ import annotations

import json

import jsonschema
import pandas as pd
import pytest

import psyscreen
from psyscreen.registry import schema

RISK_COLUMNS = [
    "risk.status",
    "risk.level",
    "risk.level_code",
    "risk.level_zh",
    "risk.level_en",
    "risk.colour",
    "risk.tier3",
    "risk.needs_confirmation",
    "risk.referral",
    "risk.rules",
    "risk.reasons",
    "risk.retest_days",
    "risk.contact_days",
    "risk.visit_days",
    "risk.actions",
]


def _rows(*pairs):
    out = []
    for phq, gad in pairs:
        d = {f"phq9_{i + 1}": v for i, v in enumerate(phq)}
        d.update({f"gad7_{i + 1}": v for i, v in enumerate(gad)})
        out.append(d)
    return pd.DataFrame(out)


def test_list_and_load_default():
    assert "default" in psyscreen.list_profiles()
    p = psyscreen.load_profile("default")
    assert [lv.zh for lv in p.levels] == ["正常", "关注", "重点关注", "危机"]
    assert [lv.colour for lv in p.levels] == ["green", "yellow", "orange", "red"]
    assert "phq9" in p.instruments
    assert len(p.sha256) == 64
    assert psyscreen.load_profile(p) is p


def test_screen_keeps_index_and_adds_risk_columns():
    df = _rows(([0] * 9, [0] * 7), ([2] * 5 + [0] * 4, [0] * 7))
    df.index = ["x", "y"]
    out = psyscreen.screen(df, "default", missing_columns="missing")
    assert list(out.index) == ["x", "y"]
    for c in RISK_COLUMNS:
        assert c in out.columns, c
    assert "phq9.total.raw" in out.columns


def test_statuses_never_normal_and_tier3_not_low():
    df = _rows(([None] * 9, [0] * 7))
    out = psyscreen.screen(df, "default")
    assert out["risk.status"].iloc[0] == "insufficient_data"
    assert pd.isna(out["risk.level"].iloc[0])
    assert out["risk.tier3"].iloc[0] != "低"
    assert bool(out["risk.needs_confirmation"].iloc[0])
    assert out["risk.retest_days"].iloc[0] == 14


def test_records_validate_against_published_schema():
    df = _rows(([1] * 9, [2] * 7), ([0] * 9, [0] * 7))
    recs = psyscreen.screen_records(df, "default")
    assert len(recs) == 2
    s = schema("screening_record")
    for r in recs:
        jsonschema.validate(json.loads(r.model_dump_json()), s)
    assert recs[0].level_code == "crisis"
    assert recs[0].rules[0].evidence[0].check == "self_harm"
    assert recs[1].level == 0
    prov = recs[0].provenance
    assert prov.profile.id == "default" and len(prov.profile.sha256) == 64
    assert {i.id for i in prov.instruments} == {"phq9", "gad7"}
    assert all(len(i.sha256) == 64 for i in prov.instruments)


def test_provenance_helper():
    p = psyscreen.provenance("default")
    assert p["library_version"] == psyscreen.__version__
    assert [i["id"] for i in p["instruments"]] == psyscreen.load_profile("default").instruments


def test_unknown_profile():
    with pytest.raises(KeyError):
        psyscreen.load_profile("no_such_profile")
