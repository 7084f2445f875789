"""ASQ: golden tests from the NIMH scoring rules.

Sources: NIMH ASQ information sheet ("Positive screen: 'yes' to any of the 4 items") and the
NIMH tool instructions as reproduced by psypack: "No" to all of Q1-4 = negative; "Yes" to any
of Q1-4 or refuses to answer = positive; Q5 "Yes" = acute positive. A blank is never a "no".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import psyscreen

from ._answers import score

NO, YES, REFUSED = 0, 1, 9
Q = ["asq_1", "asq_2", "asq_3", "asq_4"]


def test_all_no_is_negative():
    out = score("asq", {q: NO for q in Q} | {"asq_5": None}).iloc[0]
    assert out["asq.screen.raw"] == 0
    assert out["asq.screen.band"] == "negative"
    assert out["asq.screen.band_class"] == "normal"
    assert bool(out["asq.critical.positive"]) is False
    assert pd.isna(out["asq.critical.acute"])  # Q5 not asked after a negative screen


def test_refusal_counts_as_yes():
    for q in Q:
        out = score("asq", {x: NO for x in Q} | {q: REFUSED, "asq_5": NO}).iloc[0]
        assert out["asq.screen.band"] == "positive"
        assert out["asq.screen.band_class"] == "abnormal"
        assert bool(out["asq.critical.positive"]) is True
        assert bool(out["asq.critical.acute"]) is False  # non-acute positive


def test_one_yes_is_positive():
    out = score("asq", {q: NO for q in Q} | {"asq_3": YES, "asq_5": NO}).iloc[0]
    assert out["asq.screen.raw"] == 1 and out["asq.screen.band"] == "positive"


def test_acute_positive():
    out = score("asq", {q: YES for q in Q} | {"asq_5": YES}).iloc[0]
    assert out["asq.screen.band"] == "positive"
    assert bool(out["asq.critical.positive"]) is True
    assert bool(out["asq.critical.acute"]) is True


def test_one_blank_rest_no_is_insufficient_never_negative():
    out = score("asq", {"asq_1": None, "asq_2": NO, "asq_3": NO, "asq_4": NO, "asq_5": None})
    row = out.iloc[0]
    assert np.isnan(row["asq.screen.raw"])
    assert row["asq.screen.status"] == "insufficient"
    assert pd.isna(row["asq.screen.band"])
    assert pd.isna(row["asq.screen.band_class"])  # not "normal"
    assert pd.isna(row["asq.critical.positive"])  # unknown, not False
    assert row["asq.status"] == "insufficient"


def test_blank_plus_yes_is_still_positive_critical():
    out = score("asq", {"asq_1": None, "asq_2": YES, "asq_3": NO, "asq_4": NO, "asq_5": NO})
    row = out.iloc[0]
    assert bool(row["asq.critical.positive"]) is True
    assert row["asq.screen.status"] == "insufficient"


def test_invalid_answer_is_flagged_and_not_negative():
    df = pd.DataFrame([{"asq_1": 2, "asq_2": 0, "asq_3": 0, "asq_4": 0, "asq_5": None}])
    res = psyscreen.score_detailed(df, "asq")
    row = res.scores.iloc[0]
    assert res.problems["problem"].tolist() == ["out_of_range"]
    assert pd.isna(row["asq.screen.band_class"])
    assert pd.isna(row["asq.critical.positive"])


def test_text_answers_refusal_code_as_text():
    df = pd.DataFrame([{"asq_1": "9", "asq_2": "0", "asq_3": "0", "asq_4": "0", "asq_5": ""}])
    row = psyscreen.score(df, "asq").iloc[0]
    assert row["asq.screen.band"] == "positive"
