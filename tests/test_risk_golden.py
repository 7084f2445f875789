"""Golden cases for every rule and status of the default profile, worked by hand.

Each expected value below is derived from the rules in ``profiles/default.yaml``
and the published cut-offs they use, not from psyscreen's output:

* PHQ-9 total bands (Kroenke 2001): 0-4 minimal (normal), 5-9 mild (borderline),
  10-14, 15-19, 20-27 (abnormal); critical item: item 9 >= 1.
* GAD-7 total bands (Spitzer 2006): 0-4 normal, 5-9 borderline, 10-21 abnormal.
* SDQ self-report total difficulties, Chinese bands (Du, Kou & Coghill 2008,
  Table 4, ages 11-17): 0-14 normal, 15-17 borderline, 18-40 abnormal.
* ASQ (NIMH): any 'yes' (1) or refusal (9) on Q1-Q4 is positive; Q5 'yes' is acute.

Rules (highest fired level wins): critical_item -> 危机; two_abnormal and
severe_single (PHQ-9 >= 20 or GAD-7 >= 15) -> 重点关注; one_abnormal and
two_borderline (two scales at least borderline) -> 关注; none -> 正常.
"""

from __future__ import annotations

import pandas as pd
import pytest

import psyscreen

from .test_risk import frame, row, sdq_answers

Case = tuple[str, dict, str, str]

# (case id, answers, expected level code (or status), expected fired rules ';'-joined)
CASES: list[Case] = [
    # -- no rule fires -------------------------------------------------------------------------
    ("all_zero", row(), "normal", ""),
    # PHQ-9 9 = mild (borderline) alone; one borderline is not two
    ("phq_9_borderline_only", row(phq=9), "normal", ""),
    ("sdq_17_borderline_only", row(sdq=17), "normal", ""),
    # PHQ-9 4 is minimal (normal) and GAD-7 5 mild: only one borderline scale
    ("phq_4_gad_5", row(phq=4, gad=5), "normal", ""),
    # ASQ negative screen: Q5 is not asked, a blank Q5 is expected
    ("asq_negative_q5_blank", row(asq=(0, 0, 0, 0, None)), "normal", ""),
    # -- critical_item -> crisis ---------------------------------------------------------------
    # PHQ-9 item 9 = 1: total 1 (minimal) but the critical item fires
    ("phq9_item9", row(phq9_item9=1), "crisis", "critical_item"),
    ("asq_q3_yes", row(asq=(0, 0, 1, 0, 0)), "crisis", "critical_item"),
    # refusal (code 9) on Q1 counts as positive
    ("asq_q1_refused", row(asq=(9, 0, 0, 0, None)), "crisis", "critical_item"),
    # Q5 'yes' (acute) fires on its own
    ("asq_q5_acute", row(asq=(0, 0, 0, 0, 1)), "crisis", "critical_item"),
    # a 'yes' fires even though Q2 is blank (which alone would be insufficient data)
    ("asq_yes_with_blank", row(asq=(1, None, 0, 0, 0)), "crisis", "critical_item"),
    # critical overrides insufficient data (no age, so no SDQ band)
    ("critical_over_insufficient", row(phq9_item9=2, age=None), "crisis", "critical_item"),
    # critical plus the scale rules: every fired rule is listed, in profile order
    # PHQ-9 = 21 + item 9 (3) = 24 >= 20 severe; GAD-7 15 severe; both abnormal
    (
        "critical_with_everything",
        row(phq=21, gad=15, phq9_item9=3),
        "crisis",
        "critical_item;two_abnormal;severe_single;one_abnormal;two_borderline",
    ),
    # -- two_abnormal -> high_attention --------------------------------------------------------
    # PHQ-9 10 (moderate) and GAD-7 10 (moderate): two abnormal, also one abnormal and two
    # at least borderline
    (
        "phq_10_gad_10",
        row(phq=10, gad=10),
        "high_attention",
        "two_abnormal;one_abnormal;two_borderline",
    ),
    (
        "phq_10_sdq_18",
        row(phq=10, sdq=18),
        "high_attention",
        "two_abnormal;one_abnormal;two_borderline",
    ),
    # -- severe_single -> high_attention -------------------------------------------------------
    ("phq_20", row(phq=20), "high_attention", "severe_single;one_abnormal"),
    ("gad_15", row(gad=15), "high_attention", "severe_single;one_abnormal"),
    # just below the severe cut-offs (inclusive >= 20 / >= 15)
    ("phq_19", row(phq=19), "attention", "one_abnormal"),
    ("gad_14", row(gad=14), "attention", "one_abnormal"),
    # -- one_abnormal -> attention -------------------------------------------------------------
    ("phq_10", row(phq=10), "attention", "one_abnormal"),
    ("gad_10", row(gad=10), "attention", "one_abnormal"),
    ("sdq_18", row(sdq=18), "attention", "one_abnormal"),
    # one abnormal plus one borderline also makes two at least borderline
    ("phq_10_gad_5", row(phq=10, gad=5), "attention", "one_abnormal;two_borderline"),
    # -- two_borderline -> attention -----------------------------------------------------------
    ("phq_5_gad_5", row(phq=5, gad=5), "attention", "two_borderline"),
    ("gad_9_sdq_15", row(gad=9, sdq=15), "attention", "two_borderline"),
    # -- insufficient_data ---------------------------------------------------------------------
    # no age: the SDQ band needs the age stratum (11-17) of Du 2008
    # no age: whether the 12-17 battery applies cannot be told (never 'insufficient data')
    ("no_age", row(age=None), "no_age", ""),
    # age 10 is outside the profile's 12-17: not applicable, never normal nor insufficient
    ("age_outside_norms", row(age=10), "out_of_age_range", ""),
    # a blank ASQ screening question with no 'yes': the screen cannot be called negative
    ("asq_blank_no_yes", row(asq=(0, 0, None, 0, None)), "insufficient_data", ""),
    # a level from the data that is there stands (no_age kept as a flag)
    ("no_age_but_phq_10", row(phq=10, age=None), "attention", "one_abnormal"),
]


def _phq_blank(r: dict) -> dict:
    r = dict(r)
    r["phq9_3"] = None  # PHQ-9 needs all nine items: no score
    return r


def _out_of_range(r: dict) -> dict:
    r = dict(r)
    r["gad7_2"] = 7  # not a GAD-7 code: invalid, treated as missing, no score
    return r


def _sdq_straight(code: int, r: dict) -> dict:
    r = dict(r)
    for it in sdq_answers(0):
        r[it] = code
    return r


CASES += [
    ("phq_item_blank", _phq_blank(row()), "insufficient_data", ""),
    ("gad_out_of_range", _out_of_range(row()), "insufficient_data", ""),
    # -- invalid_response: SDQ straight-lining (psyscreen's check) -----------------------------
    # all 25 SDQ answers 0: problem items 0, the five reverse-keyed problem items (obeys,
    # reflect, attends, friend, popular) score 2 each -> total 10 (normal); no other rule fires
    ("sdq_all_0", _sdq_straight(0, row()), "invalid_response", ""),
    # all 25 answers 1: every problem item scores 1 -> total 20 (abnormal, >= 18): the level
    # from one_abnormal (关注) stands, invalid_response is kept as a flag
    ("sdq_all_1", _sdq_straight(1, row()), "attention", "one_abnormal"),
    # all 25 answers 2: problem items 2, reverse items 0 -> 15 x 2 = 30 (abnormal)
    ("sdq_all_2", _sdq_straight(2, row()), "attention", "one_abnormal"),
    # critical overrides invalid response
    ("critical_over_invalid", _sdq_straight(0, row(phq9_item9=1)), "crisis", "critical_item"),
]


@pytest.fixture(scope="module")
def screened() -> pd.DataFrame:
    df = frame(*(c[1] for c in CASES))
    df.index = [c[0] for c in CASES]
    return psyscreen.screen(df, "default")


@pytest.mark.parametrize(("name", "answers", "level", "rules"), CASES, ids=[c[0] for c in CASES])
def test_golden(screened, name, answers, level, rules):
    r = screened.loc[name]
    assert r["risk.level_code"] == level
    assert r["risk.rules"] == rules
    if level in ("invalid_response", "insufficient_data", "out_of_age_range", "no_age"):
        assert r["risk.status"] == level
        assert pd.isna(r["risk.level"])
    else:
        assert r["risk.status"] == "level"
        expected = ["normal", "attention", "high_attention", "crisis"].index(level)
        assert r["risk.level"] == expected


# -- the handling attached to each outcome, read from the profile's text ------------------------

HANDLING = {
    # level code: (zh, colour, tier3, needs_confirmation, referral, retest, contact, visit)
    "normal": ("正常", "green", "低", False, False, 365, 30, 60),
    "attention": ("关注", "yellow", "中", True, False, 90, 14, 30),
    "high_attention": ("重点关注", "orange", "高", True, True, 30, 7, 14),
    "crisis": ("危机", "red", "高", True, True, None, 1, 7),
    "invalid_response": ("无效作答", "grey", "待复测", True, False, 14, None, None),
    "insufficient_data": ("数据不足", "grey", "待复测", True, False, 14, None, None),
    "no_age": ("年龄缺失", "grey", "待复测", True, False, 14, None, None),
    "out_of_age_range": ("不适用年龄", "grey", "不适用", True, False, 14, None, None),
}


@pytest.mark.parametrize(
    "name", ["all_zero", "phq_10", "phq_20", "phq9_item9", "sdq_all_0", "no_age"]
)
def test_handling(screened, name):
    r = screened.loc[name]
    zh, colour, tier3, conf, ref, retest, contact, visit = HANDLING[r["risk.level_code"]]
    assert (r["risk.level_zh"], r["risk.colour"], r["risk.tier3"]) == (zh, colour, tier3)
    assert (bool(r["risk.needs_confirmation"]), bool(r["risk.referral"])) == (conf, ref)
    got = [r["risk.retest_days"], r["risk.contact_days"], r["risk.visit_days"]]
    assert [None if pd.isna(x) else int(x) for x in got] == [retest, contact, visit]


def test_kept_level_adds_status_retest_and_flag(screened):
    # 关注 (re-test 90 days) plus invalid_response (re-test 14 days): the shorter applies,
    # the re-test action is added and the flag names the check
    r = screened.loc["sdq_all_1"]
    assert r["risk.retest_days"] == 14
    assert "retest_supervised" in r["risk.actions"].split(";")
    assert "invalid:sdq_s.straight_line" in r["risk.flags"].split(";")
    assert bool(r["risk.needs_confirmation"])
    r = screened.loc["no_age_but_phq_10"]
    assert r["risk.retest_days"] == 14
    # the SDQ sheet is complete: what is missing is the age (to choose the battery)
    assert r["risk.flags"].split(";") == ["no_age:age"]
    assert "add_age" in r["risk.actions"].split(";")


def test_reasons_name_scales_not_values(screened):
    r = screened.loc["phq_10_gad_10"]
    assert r["risk.reasons"].startswith(
        "two or more screening scales abnormal (phq9.total, gad7.total)"
    )
    assert "10" not in r["risk.reasons"].replace("phq9", "")
    assert "两个及以上筛查量表异常" in r["risk.reasons_zh"]
    assert screened.loc["phq9_item9", "risk.reasons"] == "critical item positive (phq9.self_harm)"


def test_status_reasons_name_what_is_missing_or_invalid(screened):
    assert screened.loc["no_age", "risk.reasons"] == (
        "Age unknown (no readable age: add birth_date and assessment_date (or age) so that "
        "the battery for the child's age can be chosen)"
    )
    assert screened.loc["no_age", "risk.reasons_zh"] == (
        "年龄缺失（无法读取年龄：请补录出生日期和测评日期（或年龄），以便选择适用的量表组合）"
    )
    assert screened.loc["sdq_all_0", "risk.reasons"] == "Invalid response (sdq_s.straight_line)"
    assert screened.loc["sdq_all_1", "risk.reasons"] == (
        "one screening scale abnormal (sdq_s.total); "
        "also invalid response (sdq_s.straight_line): re-test"
    )


def test_validity_flags_and_evidence_levels_in_the_record():
    rec = psyscreen.screen_records(frame(_sdq_straight(0, row(phq9_item9=1))))[0]
    assert rec.flags == ["invalid:sdq_s.straight_line"]
    assert [v.fired for v in rec.validity] == [True]
    rec2 = psyscreen.screen_records(frame(_sdq_straight(1, row())))[0]
    assert rec2.rules[0].evidence[0].unverified is None  # Du 2008 bands: primary evidence


def test_record_lists_every_critical_item_with_its_state():
    # PHQ-9 item 9 = 0, ASQ all 'no' with Q5 not asked: self_harm and positive are False,
    # acute cannot be told (blank Q5)
    rec = psyscreen.screen_records(frame(row()))[0]
    states = {(c.instrument, c.check): c.fired for c in rec.critical}
    assert states == {
        ("phq9", "self_harm"): False,
        ("asq", "positive"): False,
        ("asq", "acute"): None,
    }
