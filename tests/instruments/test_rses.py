"""Rosenberg Self-Esteem Scale: golden tests from the UMD scoring instructions.

Source: UMD page (copy): SA = 3, A = 2, D = 1, SD = 0; asterisked items 2, 5, 6, 8, 9 reversed
(SA = 0 ... SD = 3); sum of the 10 items, 0-30, higher = higher self-esteem. UMD FAQ: no
cut-off points, so no bands.
"""

from __future__ import annotations

import numpy as np

import psyscreen

from ._answers import answers, score

SA, A, D, SD = 3, 2, 1, 0
REVERSED = ["rses_2", "rses_5", "rses_6", "rses_8", "rses_9"]
FORWARD = ["rses_1", "rses_3", "rses_4", "rses_7", "rses_10"]


def test_definition():
    inst = psyscreen.load_instrument("rses")
    assert inst.reverse_keyed == REVERSED
    assert inst.scale("total").higher_is == "better"
    assert inst.scale("total").bands == []


def test_all_strongly_agree_is_15():
    # five forward items x 3 + five reversed items x 0
    assert score("rses", {}, fill=SA).iloc[0]["rses.total.raw"] == 15


def test_all_agree_is_15_and_all_disagree_is_15():
    # forward 5 x 2 + reversed 5 x 1 = 15; forward 5 x 1 + reversed 5 x 2 = 15
    assert score("rses", {}, fill=A).iloc[0]["rses.total.raw"] == 15
    assert score("rses", {}, fill=D).iloc[0]["rses.total.raw"] == 15


def test_range_ends():
    high = {i: SA for i in FORWARD} | {i: SD for i in REVERSED}
    low = {i: SD for i in FORWARD} | {i: SA for i in REVERSED}
    assert score("rses", high).iloc[0]["rses.total.raw"] == 30
    assert score("rses", low).iloc[0]["rses.total.raw"] == 0


def test_one_to_four_coding_is_caught_not_silently_scored():
    df = answers("rses", {}, fill=4)  # 1-4 coded data: 4 is out of range on 0-3
    res = psyscreen.score_detailed(df, "rses")
    assert np.isnan(res.scores.iloc[0]["rses.total.raw"])
    assert res.scores.iloc[0]["rses.total.n_invalid"] == 10
    assert set(res.problems["problem"]) == {"out_of_range"}
