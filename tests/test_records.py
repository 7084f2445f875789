"""Typed screening records: byte identity with the fixture, validity, no shared state.

``tests/regression/records_cases.py`` builds the frames; ``records.json.gz`` holds what the
record builder gave before it was rewritten for speed (issue 16).
"""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

import psyscreen
from psyscreen.risk.records import ScreeningRecord
from tests.regression import records_cases


@pytest.fixture(scope="module")
def got() -> dict[str, list[dict]]:
    return records_cases.cases()


def test_records_match_the_fixture_byte_for_byte(got):
    with gzip.open(records_cases.FIXTURE, "rb") as fh:
        want = fh.read()
    if records_cases.dumps(got) != want:
        expected = json.loads(want)
        for name, recs in expected.items():
            assert len(got[name]) == len(recs), name
            for i, (a, b) in enumerate(zip(got[name], recs)):
                assert a == b, f"case {name}, record {i}"
        pytest.fail("same records, different bytes")  # e.g. float formatting


def test_fixture_covers_every_kind_of_record(got):
    recs = [r for v in got.values() for r in v]
    assert {r["status"] for r in recs} == {
        "level",
        "invalid_response",
        "insufficient_data",
        "out_of_age_range",
        "no_age",
    }
    kinds = {
        (e["kind"], e["band_source"], e["field"])
        for r in recs
        for u in r["rules"]
        for e in u["evidence"]
    }
    assert {
        ("band", "instrument", "band_class"),
        ("band", "norm", "band_class"),
        ("critical", None, None),
        ("validity", None, None),
        ("score", None, "raw"),
        ("score", None, "t"),
    } <= kinds
    assert any(r["route"] for r in recs) and any(r["id"] for r in recs)


def test_records_revalidate_unchanged():
    df = records_cases._frame(["phq9", "gad7", "sdq_s", "asq"], 120, 11, (10.0, 19.0))
    for profile in ("default", "school"):
        for rec in psyscreen.screen_records(df, profile, missing_columns="missing"):
            again = ScreeningRecord.model_validate(rec.model_dump())
            assert again == rec
            assert again.model_dump_json() == rec.model_dump_json()


def test_records_share_no_mutable_parts():
    """Changing one record (every list and nested model of it) leaves the others alone."""
    df = records_cases._frame(["phq9", "gad7", "sdq_s", "asq"], 60, 12, (12.0, 17.0))
    recs = psyscreen.screen_records(df, "default")
    before = [r.model_dump_json() for r in recs]
    for k, rec in enumerate(recs):
        rec.provenance.instruments[0].sha256 = "changed"
        rec.provenance.profile.version = "changed"
        rec.provenance.norm_tables.clear()
        rec.flags.append("changed")
        rec.scales[0].raw = -1.0
        rec.intervals.retest_days = -1
        rec.critical[0].fired = None
        rec.actions.clear()
        for u in rec.rules:
            u.evidence.append(u.evidence[0].model_copy())
            for e in u.evidence:
                e.items.append("changed")
                e.value = "changed"
        for other, want in zip(recs[k + 1 :], before[k + 1 :]):
            assert other.model_dump_json() == want


def test_empty_frame_gives_no_records():
    df = records_cases._frame(["phq9", "gad7", "sdq_s", "asq"], 3, 13).iloc[0:0]
    assert psyscreen.screen_records(df, "default", missing_columns="missing") == []
    assert isinstance(df, pd.DataFrame)
