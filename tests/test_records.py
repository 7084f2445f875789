"""Typed screening records: byte identity with the fixture, validity, no shared state.

``tests/regression/records_cases.py`` builds the frames; ``records.json.gz`` holds what the
record builder gave before it was rewritten for speed (issue 16).
"""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

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
    """Changing one record (every list and changeable model of it) leaves the others alone;
    the parts records share are read-only."""
    df = records_cases._frame(["phq9", "gad7", "sdq_s", "asq"], 60, 12, (12.0, 17.0))
    recs = psyscreen.screen_records(df, "default")
    before = [r.model_dump_json() for r in recs]
    for k, rec in enumerate(recs):
        rec.status = "no_age"
        rec.provenance.library_version = "changed"
        rec.provenance.instruments.pop()
        rec.provenance.norm_tables.clear()
        rec.flags.append("changed")
        rec.scales.pop()
        rec.critical.clear()
        rec.actions.clear()
        for u in rec.rules:
            u.rank = -1
            u.evidence.append(u.evidence[0].model_copy())
            for e in u.evidence:
                e.items.append("changed")
                e.value = "changed"
        for other, want in zip(recs[k + 1 :], before[k + 1 :]):
            assert other.model_dump_json() == want


def test_shared_parts_of_records_are_read_only():
    rec = psyscreen.screen_records(records_cases._frame(["phq9", "gad7", "sdq_s", "asq"], 1, 3))[0]
    parts = [
        (rec.scales[0], "raw"),
        (rec.critical[0], "fired"),
        (rec.intervals, "retest_days"),
        (rec.provenance.profile, "sha256"),
        (rec.provenance.instruments[0], "version"),
    ]
    if rec.actions:
        parts.append((rec.actions[0], "zh"))
    for part, field in parts:
        with pytest.raises(ValidationError, match="frozen"):
            setattr(part, field, None)


def test_negative_zero_is_kept_apart_from_zero():
    """Records reuse one result per distinct value: -0.0 and 0.0 are equal as keys."""
    from psyscreen.risk.evaluate import evaluate
    from psyscreen.risk.records import Provenance, build_records

    prof = psyscreen.load_profile("default")
    one = records_cases._frame(["phq9", "gad7", "sdq_s", "asq"], 1, 14, (12.0, 17.0))
    df = pd.concat([one] * 4, ignore_index=True)
    scores = psyscreen.score(df, prof.instruments)
    scores["phq9.total.raw"] = [0.0, -0.0, -0.0, 0.0]
    prov = Provenance.model_validate(psyscreen.provenance("default"))
    recs = build_records(scores, evaluate(scores, prof), prov)
    raws = [r.model_dump_json().split('"raw":')[1].split(",")[0] for r in recs]
    assert raws == ["0.0", "-0.0", "-0.0", "0.0"]


def test_empty_frame_gives_no_records():
    df = records_cases._frame(["phq9", "gad7", "sdq_s", "asq"], 3, 13).iloc[0:0]
    assert psyscreen.screen_records(df, "default", missing_columns="missing") == []


def test_build_leaves_the_garbage_collector_as_it_found_it():
    import gc

    df = records_cases._frame(["phq9", "gad7", "sdq_s", "asq"], 5, 15, (12.0, 17.0))
    assert gc.isenabled()
    psyscreen.screen_records(df)
    assert gc.isenabled()
    gc.disable()
    try:
        psyscreen.screen_records(df)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_build_keeps_what_the_caller_froze_frozen():
    """The young objects go straight to the oldest generation, but never by unfreezing
    objects a caller froze (a pre-fork server's)."""
    import gc

    df = records_cases._frame(["phq9", "gad7", "sdq_s", "asq"], 5, 15, (12.0, 17.0))
    assert gc.get_freeze_count() == 0
    recs = psyscreen.screen_records(df)
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    assert all(gc.is_tracked(r) for r in recs)
    kept = [[]]  # a container the caller froze
    gc.freeze()
    try:
        psyscreen.screen_records(df)
        assert gc.isenabled()
        assert not any(o is kept for o in gc.get_objects())  # frozen objects are not listed
    finally:
        gc.unfreeze()
    assert any(o is kept for o in gc.get_objects())


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    profile=st.sampled_from(["default", "school", "institution", "custom"]),
)
def test_rows_with_equal_evidence_keys_get_the_same_evidence(seed, profile):
    """The records build each rule's evidence once per distinct ``evidence_key``: against
    the evidence walked row by row, every row with a key gets that key's evidence."""
    from psyscreen.pipeline import _graded
    from psyscreen.risk.records import _Builder

    prof = _custom() if profile == "custom" else psyscreen.load_profile(profile)
    df = records_cases._frame(prof.instruments, 60, seed, (8.0, 17.0))
    df["sex"] = ["female" if k % 3 else "male" for k in range(len(df))]
    demo = {"age": "age", "sex": "sex", "informant": "informant"}
    graded = _graded(df, prof, None, demo, "auto", "missing")
    checked = 0
    for pos, ev in graded.evals:
        b = _Builder(graded.scores.iloc[pos], ev, graded.tables)
        for r in ev.profile.rules:
            node = ev.nodes[r.id]
            keys = node.evidence_key(b)
            seen: dict = {}
            for i in np.flatnonzero(ev.rule_fired[r.id]).tolist():
                got = [id(e) for e in node.evidence(b, i)]
                assert seen.setdefault(keys[i], got) == got, (r.id, i)
                checked += 1
    assert checked > 0


def _custom():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        return psyscreen.load_profile(records_cases._custom_profile(Path(tmp)))
