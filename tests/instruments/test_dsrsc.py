"""DSRSC (Birleson): golden tests from the published scoring rules.

Source: scale summary citing Birleson et al. 1987 (scales.arabpsychology.com): for items 1, 2,
4, 7, 8, 9, 11, 12, 13 and 16 'mostly' scores 0, 'sometimes' 1, 'never' 2; for items 3, 5, 6,
10, 14, 15, 17 and 18 'mostly' 2, 'sometimes' 1, 'never' 0. Answers are entered as
0 = never, 1 = sometimes, 2 = mostly. Cut-offs: >= 15 (primary), >= 13, Henan rural 14.
"""

from __future__ import annotations

import numpy as np
import pytest

import psyscreen

from ._answers import score, with_sum

NEVER, SOMETIMES, MOSTLY = 0, 1, 2
POSITIVE = [1, 2, 4, 7, 8, 9, 11, 12, 13, 16]
NEGATIVE = [3, 5, 6, 10, 14, 15, 17, 18]


def ids(numbers):
    return [f"dsrsc_{n}" for n in numbers]


def test_reverse_keys():
    assert sorted(psyscreen.load_instrument("dsrsc").reverse_keyed) == sorted(ids(POSITIVE))


@pytest.mark.parametrize(("answer", "expected"), [(NEVER, 20), (SOMETIMES, 18), (MOSTLY, 16)])
def test_same_answer_everywhere(answer, expected):
    # never: 10 positive items x 2 = 20; sometimes: 18 x 1; mostly: 8 negative items x 2 = 16.
    assert score("dsrsc", {}, fill=answer).iloc[0]["dsrsc.total.raw"] == expected


def test_range_ends():
    worst = {i: NEVER for i in ids(POSITIVE)} | {i: MOSTLY for i in ids(NEGATIVE)}
    best = {i: MOSTLY for i in ids(POSITIVE)} | {i: NEVER for i in ids(NEGATIVE)}
    assert score("dsrsc", worst).iloc[0]["dsrsc.total.raw"] == 36
    assert score("dsrsc", best).iloc[0]["dsrsc.total.raw"] == 0


@pytest.mark.parametrize(
    ("total", "primary15", "newton13", "henan14"),
    [
        (12, "normal", "normal", "normal"),
        (13, "normal", "abnormal", "normal"),
        (14, "normal", "abnormal", "abnormal"),
        (15, "abnormal", "abnormal", "abnormal"),
    ],
)
def test_cutoff_boundaries(total, primary15, newton13, henan14):
    row = {i: MOSTLY for i in ids(POSITIVE)} | with_sum(ids(NEGATIVE), total, 2)
    out = score("dsrsc", row).iloc[0]
    assert out["dsrsc.total.raw"] == total
    assert out["dsrsc.total.band_class"] == primary15
    assert out["dsrsc.total.band_class_cutoff13"] == newton13
    assert out["dsrsc.total.band_class_henan_rural"] == henan14


def test_item_10_is_not_made_critical_without_a_source():
    inst = psyscreen.load_instrument("dsrsc")
    assert inst.critical_items == []
    assert any("dsrsc_10" in n and "NOT defined" in n for n in inst.notes)


def test_missing_item_gives_no_score():
    out = score("dsrsc", {"dsrsc_10": None}, fill=1).iloc[0]
    assert np.isnan(out["dsrsc.total.raw"])
    assert out["dsrsc.total.status"] == "insufficient"
