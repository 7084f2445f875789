"""Records assembled without re-validation equal what full pydantic validation gives.

The oracle is ``model_validate`` of the same plain data: same classes, values (``-0.0``
apart from ``0.0``), fields set and field order, and no changeable part shared with the
validated parts a record was assembled from, nor with another record.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import psyscreen
from psyscreen.risk import records as rec_mod
from psyscreen.risk.recordmodels import (
    ActionOut,
    CheckState,
    DefinitionRef,
    Evidence,
    FiredRule,
    Intervals,
    Provenance,
    ScaleResult,
    ScreeningRecord,
    copier,
)
from tests.regression import records_cases


def same(a: Any, b: Any, path: str = "") -> None:
    """``a`` is ``b`` in everything validation decides (types, order, fields set, values)."""
    assert type(a) is type(b), path
    if isinstance(a, BaseModel):
        assert list(a.__dict__) == list(b.__dict__), path
        assert a.model_fields_set == b.model_fields_set, path
        assert a.__pydantic_extra__ == b.__pydantic_extra__, path
        assert a.__pydantic_private__ == b.__pydantic_private__, path
        for k, v in a.__dict__.items():
            same(v, b.__dict__[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for k, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{k}]")
    elif isinstance(a, float):
        assert a == b or (math.isnan(a) and math.isnan(b)), path
        assert math.copysign(1, a) == math.copysign(1, b), path
    else:
        assert a == b, path


def changeable(x: Any) -> list[Any]:
    """Every list and every model that is not frozen, reachable from ``x``."""
    out: list[Any] = []
    if isinstance(x, BaseModel):
        if not x.model_config.get("frozen"):
            out.append(x)
        for v in x.__dict__.values():
            out += changeable(v)
    elif isinstance(x, (list, tuple)):
        if isinstance(x, list):
            out.append(x)
        for v in x:
            out += changeable(v)
    return out


def share_nothing(a: Any, b: Any) -> None:
    ids = {id(x) for x in changeable(b)}
    assert not [x for x in changeable(a) if id(x) in ids]


# -- plain data in the shapes of the models --------------------------------------------

text = st.text(max_size=6)
maybe_text = st.none() | text
numbers = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, -0.0])
maybe_number = st.none() | numbers
source = st.sampled_from(["instrument", "norm", None])

evidence = st.fixed_dictionaries(
    {"kind": st.sampled_from(["band", "score", "critical", "validity"]), "instrument": text},
    optional={
        "scale": maybe_text,
        "check": maybe_text,
        "items": st.lists(text, max_size=3),
        "field": maybe_text,
        "value": st.none() | numbers | text | st.booleans(),
        "band": maybe_text,
        "band_class": maybe_text,
        "threshold": maybe_text,
        "band_source": source,
        "band_set": maybe_text,
        "norm_table": maybe_text,
        "norm_stratum": maybe_text,
        "meaning": maybe_text,
        "unverified": maybe_text,
    },
)
rule = st.fixed_dictionaries(
    {
        "id": text,
        "level": text,
        "rank": st.integers(-5, 5),
        "en": text,
        "zh": text,
        "evidence": st.lists(evidence, max_size=3),
    }
)
ref = st.fixed_dictionaries({"id": text, "version": text}, optional={"sha256": maybe_text})
provenance = st.fixed_dictionaries(
    {"library_version": text, "profile": ref, "instruments": st.lists(ref, max_size=3)},
    optional={"norm_tables": st.lists(ref, max_size=2)},
)
action = st.fixed_dictionaries({"id": text, "zh": text, "en": text})
check = st.fixed_dictionaries(
    {"instrument": text, "check": text, "fired": st.none() | st.booleans()}
)
maybe_days = st.none() | st.integers(0, 400)
intervals = st.fixed_dictionaries(
    {}, optional={f: maybe_days for f in ("retest_days", "contact_days", "visit_days")}
)
scale = st.fixed_dictionaries(
    {"instrument": text, "scale": text},
    optional={
        "raw": maybe_number,
        "status": maybe_text,
        "band": maybe_text,
        "band_class": maybe_text,
        "band_source": source,
        "t": maybe_number,
        "percentile": maybe_number,
        "norm_table": maybe_text,
        "norm_stratum": maybe_text,
    },
)
record = st.fixed_dictionaries(
    {
        "row": st.integers(0, 10**6),
        "id": maybe_text,
        "status": st.sampled_from(
            ["level", "invalid_response", "insufficient_data", "out_of_age_range", "no_age"]
        ),
        "level": st.none() | st.integers(0, 4),
        "level_code": text,
        "level_zh": text,
        "level_en": text,
        "colour": text,
        "tier3": text,
        "needs_confirmation": st.booleans(),
        "referral": st.booleans(),
        "rules": st.lists(rule, max_size=3),
        "reasons_en": text,
        "reasons_zh": text,
        "flags": st.lists(text, max_size=3),
        "actions": st.lists(action, max_size=2),
        "intervals": intervals,
        "critical": st.lists(check, max_size=3),
        "validity": st.lists(check, max_size=2),
        "scales": st.lists(scale, max_size=3),
        "provenance": provenance,
    },
    optional={"route": maybe_text},
)

PLAIN = [
    f
    for f in ScreeningRecord.model_fields
    if f
    not in {
        "rules",
        "flags",
        "actions",
        "intervals",
        "critical",
        "validity",
        "scales",
        "provenance",
    }
]


def assembled(data: dict[str, Any]) -> tuple[ScreeningRecord, list[Any]]:
    """The record as the builder assembles it: each part validated on its own (the builder
    does it once per distinct part), plain fields as validated columns, then no validation;
    with the validated parts it was made from."""
    parts: dict[str, Any] = {
        "rules": [FiredRule.model_validate(r) for r in data["rules"]],
        "flags": rec_mod._valid("flags", [data["flags"]])[0],
        "actions": [ActionOut.model_validate(a) for a in data["actions"]],
        "intervals": Intervals.model_validate(data["intervals"]),
        "critical": [CheckState.model_validate(c) for c in data["critical"]],
        "validity": [CheckState.model_validate(c) for c in data["validity"]],
        "scales": tuple(ScaleResult.model_validate(s) for s in data["scales"]),
        "provenance": Provenance.model_validate(data["provenance"]),
    }
    values = {
        f: parts[f] if f in parts else rec_mod._valid(f, [data.get(f)])[0]
        for f in ScreeningRecord.model_fields
    }
    return rec_mod._RECORD.made(values, set(data)), list(parts.values())


@settings(max_examples=150, deadline=None)
@given(record)
def test_an_assembled_record_is_what_validation_gives(data):
    want = ScreeningRecord.model_validate(data)
    got, parts = assembled(data)
    same(got, want)
    assert got.model_dump_json() == want.model_dump_json()
    share_nothing(got, parts)


@settings(max_examples=100, deadline=None)
@given(record)
def test_a_copy_is_what_validation_gives_and_its_own(data):
    want = ScreeningRecord.model_validate(data)
    got = copier(ScreeningRecord)(want)
    same(got, want)
    share_nothing(got, want)
    for cls, part in ((FiredRule, data["rules"]), (Provenance, [data["provenance"]])):
        for d in part:
            m = cls.model_validate(d)
            same(copier(cls)(m), m)


def test_built_records_are_what_validation_of_their_data_gives():
    """The builder's records against full validation of the same data (their dumps
    without the defaults they were not given), for every case of the records fixture."""
    df = records_cases._frame(["phq9", "gad7", "sdq_s", "asq"], 80, 21, (10.0, 19.0))
    runs = [
        psyscreen.screen_records(df, "default", id_column="child"),
        psyscreen.screen_records(df, "school", missing_columns="missing"),
    ]
    for recs in runs:
        for r in recs:
            same(r, ScreeningRecord.model_validate(r.model_dump(exclude_unset=True)))
        for a, b in itertools.pairwise(recs):
            share_nothing(a, b)


def test_copied_read_only_parts_stay_read_only():
    data = {"id": "phq9", "version": "2001"}
    ref = copier(DefinitionRef)(DefinitionRef.model_validate(data))
    with pytest.raises(ValidationError, match="frozen"):
        ref.version = "x"
    ev = copier(Evidence)(Evidence.model_validate({"kind": "band", "instrument": "phq9"}))
    ev.value = 3.0  # a changeable part stays changeable, as validation makes it
    assert ev.model_fields_set == {"kind", "instrument", "value"}


def test_a_field_without_a_copy_rule_is_refused():
    class Odd(BaseModel):
        model_config = {"extra": "forbid"}
        data: dict[str, int]

    with pytest.raises(TypeError, match="no copy rule"):
        copier(Odd)
