"""PHQ-A (PHQ-9 modified for adolescents): golden tests from the published rules.

Sources: NIMH PHQ-A page (item order: 1 = depressed/irritable mood, 2 = anhedonia; total of
items 1-9), GLAD-PC v2 2010 (supplementary yes/no questions; item 9 >= 1 is positive; the
suicide questions), AAP Pediatrics 2021 (total >= 10), Kroenke 2001 (severity bands).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psyscreen

from ._answers import score, with_sum

SYMPTOMS = [f"phqa_{i}" for i in range(1, 10)]
EXTRAS = {"phqa_past_year": 0, "phqa_difficulty": 0, "phqa_serious_thoughts": 0, "phqa_attempt": 0}


def row(total: int, **extra) -> dict:
    r = with_sum(SYMPTOMS[:8], total, 3) | {"phqa_9": 0}  # item 9 kept 0 unless given
    return r | EXTRAS | extra


def test_adolescent_item_order():
    inst = psyscreen.load_instrument("phqa")
    assert inst.item("phqa_1").number == 1 and "depressed" in inst.item("phqa_1").label.en
    assert inst.item("phqa_2").number == 2 and inst.item("phqa_2").label.en == "anhedonia"
    assert inst.scale("total").items == SYMPTOMS
    for extra in EXTRAS:
        assert all(extra not in s.items for s in inst.scales)


def test_swapped_items_do_not_change_the_total_but_map_by_id():
    # The same adolescent answering "depressed 3, anhedonia 0" on both forms: the PHQ-9 puts
    # anhedonia first, the PHQ-A puts depressed mood first. Totals agree (3), item ids differ.
    phq9 = pd.DataFrame([{f"phq9_{i}": 0 for i in range(1, 10)} | {"phq9_2": 3}], dtype=float)
    a = psyscreen.score(phq9, "phq9").iloc[0]
    b = score("phqa", row(0, phqa_1=3)).iloc[0]
    assert a["phq9.total.raw"] == b["phqa.total.raw"] == 3
    swapped = score("phqa", row(0, phqa_2=3)).iloc[0]
    assert swapped["phqa.total.raw"] == 3


def test_extras_are_not_in_the_total():
    out = score("phqa", row(7, phqa_past_year=1, phqa_difficulty=3)).iloc[0]
    assert out["phqa.total.raw"] == 7


def test_blank_extras_do_not_block_the_total():
    r = row(7) | dict.fromkeys(EXTRAS)
    out = score("phqa", r).iloc[0]
    assert out["phqa.total.raw"] == 7 and out["phqa.total.status"] == "complete"
    assert pd.isna(out["phqa.critical.serious_thoughts"])  # unknown, not "no"


@pytest.mark.parametrize(
    ("total", "band", "klass"),
    [
        (0, "minimal", "normal"),
        (4, "minimal", "normal"),
        (5, "mild", "borderline"),
        (9, "mild", "borderline"),
        (10, "moderate", "abnormal"),  # AAP 2021: >= 10 (GLAD-PC literal '> 10' would say 11)
        (14, "moderate", "abnormal"),
        (15, "moderately_severe", "abnormal"),
        (19, "moderately_severe", "abnormal"),
        (20, "severe", "abnormal"),
        (24, "severe", "abnormal"),
    ],
)
def test_band_boundaries(total, band, klass):
    out = score("phqa", row(total)).iloc[0]
    assert out["phqa.total.raw"] == total
    assert out["phqa.total.band"] == band
    assert out["phqa.total.band_class"] == klass


def test_maximum_is_27_and_severe():
    out = score("phqa", {i: 3 for i in SYMPTOMS} | EXTRAS).iloc[0]
    assert out["phqa.total.raw"] == 27 and out["phqa.total.band"] == "severe"


def test_item9_critical_independent_of_total():
    low = score("phqa", row(0, phqa_9=1)).iloc[0]
    assert low["phqa.total.raw"] == 1 and low["phqa.total.band"] == "minimal"
    assert bool(low["phqa.critical.self_harm"]) is True
    none = score("phqa", row(0)).iloc[0]
    assert bool(none["phqa.critical.self_harm"]) is False


def test_gladpc_suicide_questions_are_critical():
    out = score("phqa", row(0, phqa_serious_thoughts=1), row(0, phqa_attempt=1)).reset_index()
    assert bool(out.loc[0, "phqa.critical.serious_thoughts"]) is True
    assert bool(out.loc[0, "phqa.critical.attempt"]) is False
    assert bool(out.loc[1, "phqa.critical.attempt"]) is True
    assert (out["phqa.total.raw"] == 0).all()


def test_one_missing_symptom_gives_no_total_and_no_band():
    out = score("phqa", row(12) | {"phqa_5": None}).iloc[0]
    assert np.isnan(out["phqa.total.raw"])
    assert out["phqa.total.status"] == "insufficient"
    assert pd.isna(out["phqa.total.band"])
    assert bool(out["phqa.critical.self_harm"]) is False  # item 9 answered 0: known
