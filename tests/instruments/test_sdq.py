"""SDQ self-report (sdq_s) and parent (sdq_p): golden tests from the published scoring rules.

Sources of the expected values (hand-worked):
* item names/numbers: sdqinfo.org syntax pages (c1/c2/c3 variable lists);
* scale membership and reverse items 7, 11, 14, 21, 25 (scored 2/1/0): youthinmind
  "Scoring the SDQ for age 4-17" (2014) and the official R/Stata syntax copies;
* proration: ">= 3 of 5 answered, mean x 5, floor(x + 0.5)" (R syntax) and the youthinmind
  worked example "a score of 4 based on 3 completed items ... scaled up to 7";
* total difficulties = sum of the four problem scales, missing if any is missing (syntax).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psyscreen

from ._answers import score

# Official variable stems by item number (sdqinfo.org c1/c2/c3), typed from the source.
STEMS = {
    1: "consid", 2: "restles", 3: "somatic", 4: "shares", 5: "tantrum", 6: "loner", 7: "obeys",
    8: "worries", 9: "caring", 10: "fidgety", 11: "friend", 12: "fights", 13: "unhappy",
    14: "popular", 15: "distrac", 16: "clingy", 17: "kind", 18: "lies", 19: "bullied",
    20: "helpout", 21: "reflect", 22: "steals", 23: "oldbest", 24: "afraid", 25: "attends",
}  # fmt: skip
SCALES = {
    "emotion": [3, 8, 13, 16, 24],
    "conduct": [5, 7, 12, 18, 22],
    "hyper": [2, 10, 15, 21, 25],
    "peer": [6, 11, 14, 19, 23],
    "prosocial": [1, 4, 9, 17, 20],
}
REVERSED = [7, 11, 14, 21, 25]
VERSIONS = [("sdq_s", "s"), ("sdq_p", "p")]


def ids(prefix: str, numbers: list[int]) -> list[str]:
    return [prefix + STEMS[n] for n in numbers]


@pytest.mark.parametrize(("inst_id", "p"), VERSIONS)
def test_items_scales_and_reverse_keys_match_the_official_key(inst_id, p):
    inst = psyscreen.load_instrument(inst_id)
    assert {i.number: i.id for i in inst.items} == {n: p + s for n, s in STEMS.items()}
    for scale, numbers in SCALES.items():
        assert sorted(inst.scale(scale).items) == sorted(ids(p, numbers))
    assert sorted(inst.reverse_keyed) == sorted(ids(p, REVERSED))
    assert inst.scale("total").scales == ["emotion", "conduct", "hyper", "peer"]
    assert sorted(inst.scale("externalising").scales) == ["conduct", "hyper"]
    assert sorted(inst.scale("internalising").scales) == ["emotion", "peer"]
    assert inst.scale("prosocial").higher_is == "better"


@pytest.mark.parametrize(("inst_id", "p"), VERSIONS)
def test_no_bands_in_the_instrument_files(inst_id, p):
    # SDQ population bands ship as norm tables (norms/), never in the instrument file.
    inst = psyscreen.load_instrument(inst_id)
    assert all(not s.bands for s in inst.scales)
    out = score(inst_id, {})
    assert f"{inst_id}.total.band" not in out.columns


@pytest.mark.parametrize(("inst_id", "p"), VERSIONS)
def test_reverse_items_pattern_all_not_true(inst_id, p):
    # Every item "not true" (0): only the reversed items score (2 each, youthinmind key).
    out = score(inst_id, {}, fill=0).iloc[0]
    expected = {"emotion": 0, "conduct": 2, "hyper": 4, "peer": 4, "prosocial": 0}
    for s, v in expected.items():
        assert out[f"{inst_id}.{s}.raw"] == v
        assert out[f"{inst_id}.{s}.status"] == "complete"
    assert out[f"{inst_id}.total.raw"] == 10  # 0 + 2 + 4 + 4, prosocial excluded
    assert out[f"{inst_id}.externalising.raw"] == 6  # conduct 2 + hyper 4
    assert out[f"{inst_id}.internalising.raw"] == 4  # emotion 0 + peer 4


@pytest.mark.parametrize(("inst_id", "p"), VERSIONS)
def test_reverse_items_pattern_only_reversed_items_zero(inst_id, p):
    # Reversed items "not true" (0 -> 2), all others "certainly true" (2): every scale at max.
    row = {i: 2 for i in ids(p, list(STEMS))} | {i: 0 for i in ids(p, REVERSED)}
    out = score(inst_id, row).iloc[0]
    for s in SCALES:
        assert out[f"{inst_id}.{s}.raw"] == 10
    assert out[f"{inst_id}.total.raw"] == 40
    # and the opposite pattern gives 0 on the problem scales
    row = {i: 0 for i in ids(p, list(STEMS))} | {i: 2 for i in ids(p, REVERSED)}
    out = score(inst_id, row).iloc[0]
    assert out[f"{inst_id}.total.raw"] == 0
    assert out[f"{inst_id}.prosocial.raw"] == 0


@pytest.mark.parametrize(("inst_id", "p"), VERSIONS)
def test_youthinmind_worked_example_4_on_3_items_is_7(inst_id, p):
    # "a score of 4 based on 3 completed items can be scaled up to a score of 7 (6.67 rounded up)"
    som, wor, unh, cli, afr = ids(p, SCALES["emotion"])
    out = score(inst_id, {som: 2, wor: 1, unh: 1, cli: None, afr: None}).iloc[0]
    assert out[f"{inst_id}.emotion.raw"] == 7
    assert out[f"{inst_id}.emotion.status"] == "prorated"
    assert out[f"{inst_id}.emotion.n_answered"] == 3
    # total is the sum of the (prorated) problem scales: 7 + conduct 2 + hyper 4 + peer 4
    assert out[f"{inst_id}.total.raw"] == 17
    assert out[f"{inst_id}.total.status"] == "prorated"


@pytest.mark.parametrize(("inst_id", "p"), VERSIONS)
@pytest.mark.parametrize(("answered_sum", "expected"), [(2, 3), (6, 8), (3, 4), (5, 6)])
def test_four_answered_items_round_half_up(inst_id, p, answered_sum, expected):
    # 4 answered: mean x 5 = 1.25 x sum -> 2.5 -> 3 and 7.5 -> 8 (floor(x + 0.5));
    # 3.75 -> 4; 6.25 -> 6. Half-to-even would give 2 for sum 2.
    items = ids(p, SCALES["prosocial"])  # no reversed items: answer = score
    vals = [min(2, max(0, answered_sum - 2 * k)) for k in range(4)]
    assert sum(vals) == answered_sum
    row = dict(zip(items[:4], vals)) | {items[4]: None}
    out = score(inst_id, row).iloc[0]
    assert out[f"{inst_id}.prosocial.raw"] == expected
    assert out[f"{inst_id}.prosocial.status"] == "prorated"


@pytest.mark.parametrize(("inst_id", "p"), VERSIONS)
def test_two_answered_gives_no_score_and_no_total(inst_id, p):
    items = ids(p, SCALES["peer"])
    row = {items[0]: 2, items[1]: 2, items[2]: None, items[3]: None, items[4]: None}
    out = score(inst_id, row).iloc[0]
    assert np.isnan(out[f"{inst_id}.peer.raw"])
    assert out[f"{inst_id}.peer.status"] == "insufficient"
    assert np.isnan(out[f"{inst_id}.total.raw"])  # all four problem scales required
    assert out[f"{inst_id}.total.status"] == "insufficient"
    assert np.isnan(out[f"{inst_id}.internalising.raw"])
    assert out[f"{inst_id}.externalising.raw"] == 6  # conduct 2 + hyper 4 unaffected
    assert out[f"{inst_id}.status"] == "insufficient"


@pytest.mark.parametrize(("inst_id", "p"), VERSIONS)
def test_prosocial_missing_does_not_touch_total(inst_id, p):
    items = ids(p, SCALES["prosocial"])
    out = score(inst_id, dict.fromkeys(items)).iloc[0]
    assert out[f"{inst_id}.prosocial.status"] == "not_answered"
    assert out[f"{inst_id}.total.raw"] == 10


@pytest.mark.parametrize(("inst_id", "p"), VERSIONS)
def test_out_of_range_answer_is_flagged_and_missing(inst_id, p):
    df = pd.DataFrame([{i: 0 for i in ids(p, list(STEMS))}], dtype=float)
    df[p + "somatic"] = 3.0  # no such code on a 0-2 scale
    res = psyscreen.score_detailed(df, inst_id)
    row = res.scores.iloc[0]
    assert row[f"{inst_id}.emotion.n_invalid"] == 1
    assert row[f"{inst_id}.emotion.status"] == "prorated"  # 4 valid answers remain
    assert res.problems["item"].tolist() == [p + "somatic"]
