"""RCADS child self-report (47 items): golden tests from the scoring rules.

Sources: item-to-subscale lists and the missing-data rule of the Stanford REDCap
autoscoring algorithm rcad47sc.php (more than 2 missing in a subscale: no score; 1-2 missing:
round(sum / answered x n), PHP round = halves up for these scores); User's Guide: total
anxiety = 5 anxiety subscales, total = all 6. No bands, no norms (terms of use).
"""

from __future__ import annotations

import numpy as np
import pytest

import psyscreen

from ._answers import score

KEY = {
    "separation": [5, 9, 17, 18, 33, 45, 46],
    "social": [4, 7, 8, 12, 20, 30, 32, 38, 43],
    "gad": [1, 13, 22, 27, 35, 37],
    "panic": [3, 14, 24, 26, 28, 34, 36, 39, 41],
    "ocd": [10, 16, 23, 31, 42, 44],
    "depression": [2, 6, 11, 15, 19, 21, 25, 29, 40, 47],
}


def ids(scale):
    return [f"rcads_{n}" for n in KEY[scale]]


def test_key_matches_definition_and_no_bands():
    inst = psyscreen.load_instrument("rcads")
    for s in KEY:
        assert sorted(inst.scale(s).items) == sorted(ids(s))
    assert sorted(n for v in KEY.values() for n in v) == list(range(1, 48))
    assert inst.scale("total_anxiety").scales == ["separation", "social", "gad", "panic", "ocd"]
    assert len(inst.scale("total").scales) == 6
    assert all(not s.bands for s in inst.scales)
    assert inst.licence.item_text_allowed is False


def test_all_sometimes():
    out = score("rcads", {}, fill=1).iloc[0]
    for s, items in KEY.items():
        assert out[f"rcads.{s}.raw"] == len(items)
    assert out["rcads.total_anxiety.raw"] == 37
    assert out["rcads.total.raw"] == 47


def test_zero_answers_are_answers():
    # The source PHP tests empty(), which would also count 0 as missing; psyscreen must not.
    out = score("rcads", {}, fill=0).iloc[0]
    assert out["rcads.total.raw"] == 0
    assert out["rcads.total.status"] == "complete"


@pytest.mark.parametrize(
    ("answered", "expected", "status"),
    [
        # separation has 7 items; sums below are of the answered items
        ({"rcads_5": 3, "rcads_9": 0, "rcads_17": 0, "rcads_18": 0, "rcads_33": 0, "rcads_45": 0},
         4, "prorated"),  # 1 missing: 3 x 7 / 6 = 3.5 -> 4 (half up)
        ({"rcads_5": 3, "rcads_9": 0, "rcads_17": 0, "rcads_18": 0, "rcads_33": 0},
         4, "prorated"),  # 2 missing: 3 x 7 / 5 = 4.2 -> 4
        ({"rcads_5": 3, "rcads_9": 2, "rcads_17": 0, "rcads_18": 0, "rcads_33": 0},
         7, "prorated"),  # 2 missing: 5 x 7 / 5 = 7
        ({"rcads_5": 3, "rcads_9": 3, "rcads_17": 3, "rcads_18": 0},
         None, "insufficient"),  # 3 missing: no score
    ],
)  # fmt: skip
def test_proration_two_missing_versus_three(answered, expected, status):
    row = dict.fromkeys(ids("separation")) | answered
    out = score("rcads", row, fill=1).iloc[0]
    assert out["rcads.separation.status"] == status
    if expected is None:
        assert np.isnan(out["rcads.separation.raw"])
        assert np.isnan(out["rcads.total_anxiety.raw"])
        assert np.isnan(out["rcads.total.raw"])
        assert out["rcads.depression.raw"] == 10  # other subscales unaffected
    else:
        assert out["rcads.separation.raw"] == expected
        assert out["rcads.total_anxiety.raw"] == expected + 9 + 6 + 9 + 6
        assert out["rcads.total.raw"] == expected + 30 + 10


def test_depression_with_two_missing():
    # 8 of 10 answered, sum 9: 9 x 10 / 8 = 11.25 -> 11
    items = ids("depression")
    row = dict.fromkeys(items[:2]) | {items[2]: 2} | dict.fromkeys(items[3:], 1)
    out = score("rcads", row, fill=0).iloc[0]
    assert out["rcads.depression.raw"] == 11
    assert out["rcads.total_anxiety.raw"] == 0  # anxiety unaffected by depression items
    assert out["rcads.total.raw"] == 11


def test_depression_missing_leaves_total_anxiety():
    row = dict.fromkeys(ids("depression")[:3])  # 3 missing
    out = score("rcads", row, fill=1).iloc[0]
    assert np.isnan(out["rcads.depression.raw"])
    assert out["rcads.total_anxiety.raw"] == 37
    assert np.isnan(out["rcads.total.raw"])
