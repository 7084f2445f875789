"""SCARED child version: golden tests from the form's scoring key.

Sources: the SCARED scoring box as reproduced by NIH FITBIR (total >= 25; subscale cut-offs
7 / 9 / 5 / 8 / 3 and item lists), NDCLab scoring (100 % of items required), and the Chinese
urban-norm cut-off 23 (Su/Wang group, secondary).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psyscreen

from ._answers import score, with_sum

# Scoring key typed from the form (FITBIR reproduction).
KEY = {
    "panic": [1, 6, 9, 12, 15, 18, 19, 22, 24, 27, 30, 34, 38],
    "gad": [5, 7, 14, 21, 23, 28, 33, 35, 37],
    "separation": [4, 8, 13, 16, 20, 25, 29, 31],
    "social": [3, 10, 26, 32, 39, 40, 41],
    "school": [2, 11, 17, 36],
}
CUTOFF = {"panic": 7, "gad": 9, "separation": 5, "social": 8, "school": 3}


def items(scale: str) -> list[str]:
    return [f"scared_c_{n}" for n in KEY[scale]]


def answers_with(**sums: int) -> dict[str, int]:
    row: dict[str, int] = {}
    for scale in KEY:
        row |= with_sum(items(scale), sums.get(scale, 0), 2)
    return row


def test_key_matches_definition():
    inst = psyscreen.load_instrument("scared_c")
    for scale in KEY:
        assert sorted(inst.scale(scale).items) == sorted(items(scale))
    assert sorted(n for v in KEY.values() for n in v) == list(range(1, 42))
    assert not inst.reverse_keyed


def test_all_very_true_gives_maxima():
    out = score("scared_c", {}, fill=2).iloc[0]
    maxima = {"panic": 26, "gad": 18, "separation": 16, "social": 14, "school": 8, "total": 82}
    for s, v in maxima.items():
        assert out[f"scared_c.{s}.raw"] == v


@pytest.mark.parametrize(
    ("total", "birmaher", "china"),
    [
        (22, "normal", "normal"),
        (23, "normal", "abnormal"),  # Chinese norm: total >= 23
        (24, "normal", "abnormal"),
        (25, "abnormal", "abnormal"),  # form: total >= 25
        (30, "abnormal", "abnormal"),
    ],
)
def test_total_cutoff_boundaries(total, birmaher, china):
    # Put the points in panic/somatic (max 26) then GAD so subscale sums are known.
    row = answers_with(panic=min(total, 26), gad=max(0, total - 26))
    out = score("scared_c", row).iloc[0]
    assert out["scared_c.total.raw"] == total
    assert out["scared_c.total.band_class"] == birmaher
    assert out["scared_c.total.band_class_china"] == china


@pytest.mark.parametrize("scale", list(KEY))
def test_subscale_cutoffs_both_sides(scale):
    c = CUTOFF[scale]
    below = score("scared_c", answers_with(**{scale: c - 1})).iloc[0]
    at = score("scared_c", answers_with(**{scale: c})).iloc[0]
    assert below[f"scared_c.{scale}.raw"] == c - 1
    assert below[f"scared_c.{scale}.band_class"] == "normal"
    assert at[f"scared_c.{scale}.raw"] == c
    assert at[f"scared_c.{scale}.band_class"] == "abnormal"


def test_one_missing_item_means_no_subscale_and_no_total():
    row = answers_with(panic=10) | {"scared_c_36": None}  # a school-avoidance item
    out = score("scared_c", row).iloc[0]
    assert np.isnan(out["scared_c.school.raw"])
    assert out["scared_c.school.status"] == "insufficient"
    assert pd.isna(out["scared_c.school.band"])
    assert np.isnan(out["scared_c.total.raw"])
    assert pd.isna(out["scared_c.total.band_class"])  # never "normal" without a score
    assert out["scared_c.panic.raw"] == 10  # other subscales still scored
    assert out["scared_c.panic.band_class"] == "abnormal"
