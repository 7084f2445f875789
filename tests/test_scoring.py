"""Scoring core: hand-worked cases from the rules, and properties.

Expected values here are worked by hand from the definitions (tests/conftest.py TOY_YAML
and the published PHQ-9 / GAD-7 scoring rules), never copied from the output.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psyscreen
from psyscreen import MissingColumnsError
from psyscreen.definitions import ResponseScale
from psyscreen.responses import reverse

from .conftest import TOY_YAML

NAN = float("nan")
TOY_ITEMS = ["a1", "a2", "a3", "a4", "a5", "b1", "b2", "c1"]


def _row(**kw):
    base = dict.fromkeys(TOY_ITEMS, 0)
    base.update(kw)
    return base


def _score(toy, rows):
    return psyscreen.score(pd.DataFrame(rows), toy)


# -- hand-worked cases ----------------------------------------------------------------


def test_reverse_keys_use_declared_range(toy):
    # a2 is reverse keyed on 0..3: answer 0 scores 3. a = 1 + 3 + 1 + 1 + 1 = 7
    out = _score(toy, [_row(a1=1, a2=0, a3=1, a4=1, a5=1)])
    assert out.loc[0, "toy.a.raw"] == 7
    assert out.loc[0, "toy.a.band"] == "low"
    # the range is the declared one even if no child ever answers 3
    out = _score(toy, [_row(a2=1), _row(a2=1)])
    assert out["toy.a.raw"].tolist() == [2.0, 2.0]


def test_band_bounds_inclusive_exclusive(toy):
    # low [0, 8), mid [8, 10], high (10, inf): sums 7, 8, 10, 11
    rows = [
        _row(a1=3, a2=3, a3=3, a4=1),  # 3 + 0 + 3 + 1 + 0 = 7
        _row(a1=3, a2=3, a3=3, a4=2),  # 8
        _row(a1=3, a2=3, a3=3, a4=3, a5=1),  # 10
        _row(a1=3, a2=3, a3=3, a4=3, a5=2),  # 11
    ]
    out = _score(toy, rows)
    assert out["toy.a.raw"].tolist() == [7, 8, 10, 11]
    assert out["toy.a.band"].tolist() == ["low", "mid", "mid", "high"]
    assert out["toy.a.band_class"].tolist() == ["normal", "borderline", "borderline", "abnormal"]


def test_proration_half_up_and_threshold(toy):
    nan = None
    rows = [
        # 4 answered (a2 missing), sum 2 -> 2 * 5 / 4 = 2.5 -> half up 3
        _row(a1=1, a2=nan, a3=1, a4=0, a5=0),
        # 4 answered, sum 6 -> 7.5 -> 8
        _row(a1=3, a2=nan, a3=3, a4=0, a5=0),
        # 3 answered, sum 4 -> 6.67 -> 7  (SDQ-style worked example)
        _row(a1=2, a2=nan, a3=2, a4=0, a5=nan),
        # 2 answered: below min_answered 3 -> no score
        _row(a1=3, a2=nan, a3=3, a4=nan, a5=nan),
        # nothing answered
        _row(a1=nan, a2=nan, a3=nan, a4=nan, a5=nan),
    ]
    out = _score(toy, rows)
    raw = out["toy.a.raw"].tolist()
    assert raw[:3] == [3.0, 8.0, 7.0]
    assert math.isnan(raw[3]) and math.isnan(raw[4])
    assert out["toy.a.status"].tolist() == [
        "prorated",
        "prorated",
        "prorated",
        "insufficient",
        "not_answered",
    ]
    assert out["toy.a.n_answered"].tolist() == [4, 4, 3, 2, 0]
    # no score means no band: never "low"/normal
    assert out["toy.a.band"].isna().tolist() == [False, False, False, True, True]
    assert out["toy.a.band_class"].isna()[3]


def test_mean_scale_and_composite(toy):
    rows = [
        _row(b1=2, b2=0),  # b = mean(2, 3) = 2.5 ; a = 3 (a2 reversed 0 -> 3)
        _row(b1=2, b2=None),  # b = 2 (1 of 2 answered allowed)
        _row(b1=None, b2=None),  # b not answered -> ab has no score
    ]
    out = _score(toy, rows)
    assert out["toy.b.raw"].tolist()[:2] == [2.5, 2.0]
    # a mean over fewer than all items is a partial ("prorated") score
    assert out["toy.b.status"].tolist() == ["complete", "prorated", "not_answered"]
    assert out["toy.ab.raw"].tolist()[:2] == [5.5, 5.0]
    assert math.isnan(out["toy.ab.raw"].iloc[2])
    assert out["toy.ab.status"].iloc[2] == "insufficient"


def test_composite_status_reflects_prorated_part(toy):
    out = _score(toy, [_row(a5=None)])
    assert out.loc[0, "toy.a.status"] == "prorated"
    assert out.loc[0, "toy.ab.status"] == "prorated"


def test_invalid_values_flagged_and_missing_not_zero(toy):
    rows = [_row(a1=7), _row(a1="abc"), _row(a1=1.5), _row(a1=" 2 "), _row(a1=-1)]
    res = psyscreen.score_detailed(pd.DataFrame(rows), toy)
    out = res.scores
    # out of range / non-numeric / fractional -> invalid -> missing -> prorated from 4 items
    assert out["toy.a.n_invalid"].tolist() == [1, 1, 1, 0, 1]
    assert out["toy.a.status"].tolist()[:3] == ["prorated"] * 3
    # 4 answered: 0 + 3 + 0 + 0 = 3 -> 3 * 5 / 4 = 3.75 -> 4 ; never 3 (missing as 0)
    assert out["toy.a.raw"].tolist()[:3] == [4.0, 4.0, 4.0]
    assert out.loc[3, "toy.a.raw"] == 5  # " 2 " is a valid code written as text
    assert out["toy.problems"].tolist()[:3] == [
        "a1:out_of_range",
        "a1:non_numeric",
        "a1:out_of_range",
    ]
    probs = res.problems
    assert probs["row"].tolist() == [0, 1, 2, 4]
    assert set(probs.columns) == {"row", "instrument", "item", "column", "problem"}
    # the offending text is never echoed
    assert "abc" not in probs.to_string()


def test_missing_code_is_missing_not_invalid(toy):
    out = _score(toy, [_row(c1=-1), _row(c1=9), _row(c1=None), _row(c1=0)])
    assert out["toy.c.raw"].isna().tolist() == [True, False, True, False]
    assert out["toy.c.n_invalid"].tolist() == [0, 0, 0, 0]
    # refused (code 9) scores as yes: the critical item fires
    crit = out["toy.critical.c_yes"]
    assert crit.iloc[1] is True or crit.iloc[1] == True  # noqa: E712
    assert crit.isna().tolist() == [True, False, True, False]
    assert bool(crit.iloc[3]) is False


def test_validity_checks(toy):
    rows = [
        _row(a1=2, a2=2, a3=2, a4=2, a5=2),  # straight line (a2 reversed: contradictory)
        _row(a1=3, a2=3),  # a1 = 3 and reversed a2 = 0 differ by 3 > 2
        _row(a1=None, a2=3, a3=0),  # straight_line cannot be told (4 answered)
    ]
    out = _score(toy, rows)
    assert out["toy.validity.same"].tolist()[:2] == [True, False]
    assert pd.isna(out["toy.validity.same"].iloc[2])
    assert out["toy.validity.pairs"].tolist()[:2] == [False, True]
    assert pd.isna(out["toy.validity.pairs"].iloc[2])
    assert out["toy.status"].tolist()[:2] == ["invalid_response", "invalid_response"]


def test_instrument_status(toy):
    rows = [
        _row(a1=1),
        _row(a1=1, a5=None),
        _row(a1=1, c1=None),
        dict.fromkeys(TOY_ITEMS),
        {**dict.fromkeys(TOY_ITEMS), "a1": "x"},
    ]
    out = _score(toy, rows)
    assert out["toy.status"].tolist() == [
        "complete",
        "partial",
        "insufficient",
        "not_answered",
        "insufficient",
    ]


def test_index_preserved_and_one_row_out_per_row(toy):
    df = pd.DataFrame([_row(), _row(a1=9), _row(a1=None)], index=["x", "x", "z"])
    out = psyscreen.score(df, toy)
    assert list(out.index) == ["x", "x", "z"]


def test_missing_columns(toy):
    df = pd.DataFrame([_row()]).drop(columns=["c1"])
    with pytest.raises(MissingColumnsError, match="c1"):
        psyscreen.score(df, toy)
    out = psyscreen.score(df, toy, missing_columns="missing")
    assert out.loc[0, "toy.c.status"] == "not_answered"


def test_column_mapping(toy):
    df = pd.DataFrame([_row()]).rename(columns={"a1": "Q1 answer"})
    out = psyscreen.score(df, toy, columns={"a1": "Q1 answer"})
    assert out.loc[0, "toy.a.raw"] == 3


def test_phq9_published_bands_and_item9():
    # Kroenke 2001: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe
    totals = [0, 4, 5, 9, 10, 14, 15, 19, 20, 27]
    rows = []
    for t in totals:
        vals = [3] * (t // 3) + ([t % 3] if t % 3 else [])
        vals += [0] * (9 - len(vals))
        rows.append({f"phq9_{i + 1}": v for i, v in enumerate(vals[::-1])})
    out = psyscreen.score(pd.DataFrame(rows), "phq9")
    assert out["phq9.total.raw"].tolist() == totals
    assert out["phq9.total.band"].tolist() == [
        "minimal",
        "minimal",
        "mild",
        "mild",
        "moderate",
        "moderate",
        "moderately_severe",
        "moderately_severe",
        "severe",
        "severe",
    ]
    # GLAD-PC: item 9 of 1, 2 or 3 is positive
    expected = [r["phq9_9"] >= 1 for r in rows]
    assert out["phq9.critical.self_harm"].tolist() == expected


def test_phq9_any_missing_item_gives_no_score():
    row = {f"phq9_{i}": 3 for i in range(1, 10)}
    row["phq9_4"] = None
    out = psyscreen.score(pd.DataFrame([row]), "phq9")
    assert math.isnan(out.loc[0, "phq9.total.raw"])
    assert out.loc[0, "phq9.total.status"] == "insufficient"
    assert pd.isna(out.loc[0, "phq9.total.band"])
    assert out.loc[0, "phq9.critical.self_harm"]  # item 9 = 3 still fires


def test_gad7_published_cutpoints():
    # Spitzer 2006: 5, 10, 15 are the lower bounds of mild, moderate, severe
    rows = []
    for t in (4, 5, 9, 10, 14, 15, 21):
        vals = [3] * (t // 3) + ([t % 3] if t % 3 else [])
        vals += [0] * (7 - len(vals))
        rows.append({f"gad7_{i + 1}": v for i, v in enumerate(vals)})
    out = psyscreen.score(pd.DataFrame(rows), "gad7")
    assert out["gad7.total.band"].tolist() == [
        "minimal",
        "mild",
        "mild",
        "moderate",
        "moderate",
        "severe",
        "severe",
    ]


def test_several_instruments_at_once():
    row = {f"phq9_{i}": 1 for i in range(1, 10)} | {f"gad7_{i}": 2 for i in range(1, 8)}
    out = psyscreen.score(pd.DataFrame([row]), ["phq9", "gad7"])
    assert out.loc[0, "phq9.total.raw"] == 9 and out.loc[0, "gad7.total.raw"] == 14


def test_string_columns_from_csv(toy, tmp_path):
    p = tmp_path / "x.csv"
    pd.DataFrame([_row(a1=""), _row(a1="3")], dtype=str).to_csv(p, index=False)
    out = psyscreen.score(pd.read_csv(p, dtype=str), toy)
    assert out["toy.a.status"].tolist() == ["prorated", "complete"]


# -- properties -----------------------------------------------------------------------

answer = st.one_of(st.none(), st.integers(0, 3))
toy_rows = st.fixed_dictionaries(
    {**{i: answer for i in TOY_ITEMS[:7]}, "c1": st.one_of(st.none(), st.sampled_from([0, 1, 9]))}
)


@settings(max_examples=60, deadline=None)
@given(st.integers(-5, 5), st.integers(1, 6), st.lists(st.integers(0, 20), max_size=20))
def test_reverse_twice_is_identity_and_in_range(lo, width, raw):
    rs = ResponseScale(min=lo, max=lo + width)
    x = np.array([lo + (r % (width + 1)) for r in raw], dtype=float)
    once = reverse(x, rs)
    assert np.array_equal(reverse(once, rs), x)
    assert ((once >= rs.min) & (once <= rs.max)).all()


@pytest.fixture(scope="module")
def toy_mod(tmp_path_factory):
    p = tmp_path_factory.mktemp("toy") / "toy.yaml"
    p.write_text(TOY_YAML, encoding="utf-8")
    return psyscreen.load_instrument(p)


@settings(max_examples=80, deadline=None)
@given(row=toy_rows, item=st.sampled_from(["a1", "a2", "a3", "a4", "a5"]))
def test_raising_an_answer_moves_scale_in_keyed_direction(toy_mod, row, item):
    if row[item] is None or row[item] == 3:
        return
    up = {**row, item: row[item] + 1}
    out = psyscreen.score(pd.DataFrame([row, up]), toy_mod)
    before, after = out["toy.a.raw"].tolist()
    if math.isnan(before):
        assert math.isnan(after)
        return
    if item in toy_mod.reverse_keyed:
        assert after <= before
    else:
        assert after >= before


@settings(max_examples=80, deadline=None)
@given(row=toy_rows)
def test_missing_rules(toy_mod, row):
    out = psyscreen.score(pd.DataFrame([row]), toy_mod).iloc[0]
    a_items = ["a1", "a2", "a3", "a4", "a5"]
    answered = [row[i] for i in a_items if row[i] is not None]
    keyed = [3 - row[i] if i in ("a2",) else row[i] for i in a_items if row[i] is not None]
    if len(answered) == 5:
        # nothing missing: proration equals the plain sum
        assert out["toy.a.raw"] == sum(keyed)
        assert out["toy.a.status"] == "complete"
    elif len(answered) >= 3:
        assert out["toy.a.raw"] == math.floor(sum(keyed) * 5 / len(keyed) + 0.5)
        assert out["toy.a.status"] == "prorated"
    else:
        assert math.isnan(out["toy.a.raw"])
        assert pd.isna(out["toy.a.band"])


phq_rows = st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=9, max_size=9)


@settings(max_examples=60, deadline=None)
@given(vals=phq_rows)
def test_missing_never_counts_as_zero(vals):
    """PHQ-9 has no proration: any gap means no score, no band, never the gaps-as-0 sum."""
    row = {f"phq9_{i + 1}": v for i, v in enumerate(vals)}
    out = psyscreen.score(pd.DataFrame([row]), "phq9").iloc[0]
    if None in vals:
        assert math.isnan(out["phq9.total.raw"])
        assert pd.isna(out["phq9.total.band"]) and pd.isna(out["phq9.total.band_class"])
        assert out["phq9.total.status"] in ("insufficient", "not_answered")
        assert out["phq9.status"] in ("insufficient", "not_answered")
    else:
        assert out["phq9.total.raw"] == sum(vals)
        assert out["phq9.total.status"] == "complete"


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(toy_rows, min_size=1, max_size=12), seed=st.integers(0, 10_000))
def test_row_and_column_order_invariance(toy_mod, rows, seed):
    df = pd.DataFrame(rows, columns=TOY_ITEMS)
    out = psyscreen.score(df, toy_mod)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(df))
    cols = list(rng.permutation(df.columns))
    shuffled = psyscreen.score(df.iloc[perm][cols], toy_mod)
    pd.testing.assert_frame_equal(shuffled.loc[out.index], out)


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(toy_rows, min_size=2, max_size=10))
def test_row_result_independent_of_other_rows(toy_mod, rows):
    df = pd.DataFrame(rows, columns=TOY_ITEMS)
    together = psyscreen.score(df, toy_mod)
    for i in range(len(df)):
        alone = psyscreen.score(df.iloc[[i]], toy_mod)
        pd.testing.assert_frame_equal(alone, together.iloc[[i]], check_categorical=False)
