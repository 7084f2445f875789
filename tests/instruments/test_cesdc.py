"""CES-DC: golden tests from the Bright Futures instructions.

Source: Bright Futures "Tool for Professionals - Instructions for Use": answers 0 'Not At All'
... 3 'A Lot'; items 4, 8, 12 and 16 scored in the opposite order (3 = 'Not At All' ...
0 = 'A Lot'); "cutoff score of 15" / "scores over 15" - both readings are shipped and tested.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psyscreen

from ._answers import score, with_sum

POSITIVE = ["cesdc_4", "cesdc_8", "cesdc_12", "cesdc_16"]
OTHERS = [f"cesdc_{i}" for i in range(1, 21) if f"cesdc_{i}" not in POSITIVE]


def test_reverse_keys_are_items_4_8_12_16():
    assert psyscreen.load_instrument("cesdc").reverse_keyed == POSITIVE


def test_all_not_at_all_scores_only_the_positive_items():
    # 'Not At All' everywhere: the four positive items score 3 each -> 12.
    assert score("cesdc", {}, fill=0).iloc[0]["cesdc.total.raw"] == 12


def test_all_a_lot():
    # 'A Lot' everywhere: 16 items x 3 + four positive items x 0 -> 48.
    assert score("cesdc", {}, fill=3).iloc[0]["cesdc.total.raw"] == 48


def test_only_reversed_items_answered_a_lot_gives_zero():
    out = score("cesdc", {i: 3 for i in POSITIVE}, fill=0).iloc[0]
    assert out["cesdc.total.raw"] == 0
    assert out["cesdc.total.band_class"] == "normal"


def test_range_ends():
    top = score("cesdc", {i: 0 for i in POSITIVE}, fill=3).iloc[0]
    assert top["cesdc.total.raw"] == 60


@pytest.mark.parametrize(
    ("total", "cutoff15", "over15"),
    [(14, "normal", "normal"), (15, "abnormal", "normal"), (16, "abnormal", "abnormal")],
)
def test_both_cutoff_readings_at_15_and_16(total, cutoff15, over15):
    row = {i: 3 for i in POSITIVE} | with_sum(OTHERS, total, 3)  # positive items score 0
    out = score("cesdc", row).iloc[0]
    assert out["cesdc.total.raw"] == total
    # primary: Fendrich, Weissman & Warner 1990 abstract, 'a cutoff point of 15 and above'
    assert out["cesdc.total.band_class"] == cutoff15
    assert out["cesdc.total.band_class_over15"] == over15  # Bright Futures' 'over 15' wording


def test_primary_band_set_is_the_validation_papers_15_and_above():
    inst = psyscreen.load_instrument("cesdc")
    first = inst.scale("total").bands[0]
    assert (first.id, first.source) == ("cutoff15", "fendrich1990")
    cite = next(c for c in inst.citations if c.key == "fendrich1990")
    assert cite.evidence == "primary" and "15 and above" in cite.locator


def test_missing_item_gives_no_score():
    out = score("cesdc", {"cesdc_20": None}, fill=1).iloc[0]
    assert np.isnan(out["cesdc.total.raw"])
    assert pd.isna(out["cesdc.total.band_class"])
    assert pd.isna(out["cesdc.total.band_class_over15"])
