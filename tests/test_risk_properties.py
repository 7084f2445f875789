"""Property tests of the default risk profile (hypothesis).

1. A critical item always gives the top level (危机), whatever else is in the row.
2. Making any one answer worse in the problem direction never lowers the level.
3. Missing or invalid data never yields 正常.
4. The result of a row does not depend on the other rows.
5. For random profiles built from every kind of rule node, a row's rules and reasons name
   exactly the rules whose conditions hold for it, and every fired rule of a record
   carries evidence.

To keep the suite fast each example screens one batch: a base row plus all its
variants (every critical setting, every one-step worsening, every kind of damage).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import psyscreen
from psyscreen.risk.evaluate import evaluate, instruments_of
from psyscreen.risk.profile import profile_from_data

PROFILE = psyscreen.load_profile("default")
INSTS = {i: psyscreen.load_instrument(i) for i in PROFILE.instruments}
TOP = len(PROFILE.levels) - 1
RISK = [
    "risk.status",
    "risk.level",
    "risk.level_code",
    "risk.rules",
    "risk.reasons",
    "risk.flags",
    "risk.actions",
    "risk.retest_days",
]


def _direction(inst, item_id: str) -> int:
    """+1 if a higher answer code is worse (more of the problem), -1 if lower is worse.

    From the definitions: a simple scale with ``higher_is: worse`` makes a higher keyed
    value worse; reverse keying flips the direction in answer codes.
    """
    dirs = set()
    for s in inst.scales:
        if s.is_composite or item_id not in s.items:
            continue
        d = 1 if s.higher_is == "worse" else -1
        dirs.add(-d if inst.is_reverse(item_id) else d)
    if not dirs:  # e.g. ASQ Q5 (no scale): 'yes' (1) is worse than 'no'
        return 1
    assert len(dirs) == 1, item_id
    return dirs.pop()


DIRECTION = {(i, it.id): _direction(inst, it.id) for i, inst in INSTS.items() for it in inst.items}


def _codes(inst_id: str, item_id: str) -> list[int]:
    inst = INSTS[inst_id]
    rs = inst.response_scales[inst.item(item_id).response_scale]
    return list(range(rs.min, rs.max + 1))


def _answer(inst_id: str, item_id: str, allow_blank: bool):
    codes = _codes(inst_id, item_id)
    if inst_id == "asq" and item_id != "asq_5":
        codes = [*codes, 9]  # refusal
    opts = st.sampled_from(codes)
    return st.one_of(st.none(), opts) if allow_blank else opts


def rows(allow_blank: bool = False, negative_asq: bool = False, age_missing: bool = False):
    """A strategy for one child's answers to the whole default battery."""
    fields = {}
    for inst_id, inst in INSTS.items():
        for it in inst.items:
            if negative_asq and inst_id == "asq":
                fields[it.id] = st.just(0 if it.id != "asq_5" else None)
            else:
                fields[it.id] = _answer(inst_id, it.id, allow_blank or it.id == "asq_5")
    ages = st.floats(min_value=11, max_value=17.99, allow_nan=False)
    fields["age"] = st.one_of(st.none(), ages) if age_missing else ages
    return st.fixed_dictionaries(fields)


@st.composite
def mild_rows(draw):
    """Complete answers with few problems: per instrument a cap on how far each answer
    goes in the problem direction (so normal and low levels are common), negative ASQ and
    PHQ-9 item 9 = 0 (no critical item)."""
    base = {}
    for inst_id, inst in INSTS.items():
        cap = draw(st.integers(0, 3))
        for it in inst.items:
            codes = _codes(inst_id, it.id)
            steps = draw(st.integers(0, min(cap, len(codes) - 1)))
            d = DIRECTION[(inst_id, it.id)]
            base[it.id] = codes[steps] if d > 0 else codes[-1 - steps]
    base.update({"asq_1": 0, "asq_2": 0, "asq_3": 0, "asq_4": 0, "asq_5": None, "phq9_9": 0})
    base["age"] = draw(st.floats(min_value=11, max_value=17.99, allow_nan=False))
    return base


def _screen(rs: list[dict]) -> pd.DataFrame:
    return psyscreen.screen(pd.DataFrame(rs), PROFILE)


def _critical_variants(base: dict) -> list[dict]:
    out = []
    for v in (1, 2, 3):
        out.append({**base, "phq9_9": v})
    for k in (1, 2, 3, 4):
        for v in (1, 9):
            out.append({**base, f"asq_{k}": v})
    out.append({**base, "asq_5": 1})
    return out


@settings(max_examples=25, deadline=None)
@given(rows(allow_blank=True, age_missing=True))
def test_critical_item_always_gives_top_level(base):
    out = _screen(_critical_variants(base))
    assert (out["risk.status"] == "level").all()
    assert (out["risk.level"] == TOP).all()
    assert (out["risk.level_code"] == "crisis").all()
    assert out["risk.rules"].str.startswith("critical_item").all()


def _worsenings(base: dict) -> list[dict]:
    out = []
    for (inst_id, item_id), d in DIRECTION.items():
        x = base[item_id]
        if inst_id == "asq":
            if x in (0, None):  # 'no' (or Q5 not asked) -> 'yes'
                out.append({**base, item_id: 1})
            continue
        new = x + d
        if new in _codes(inst_id, item_id):
            out.append({**base, item_id: new})
    return out


@settings(max_examples=30, deadline=None)
@given(mild_rows())
def test_worse_answer_never_lowers_the_level(base):
    variants = _worsenings(base)
    out = _screen([base, *variants])
    before = out.iloc[0]
    after = out.iloc[1:]
    if before["risk.status"] != "level":
        return
    lv = int(before["risk.level"])
    if lv >= 1:
        # a level from the rules stands even if a worse answer also trips a validity check
        assert (after["risk.status"] == "level").all()
    kept = after[after["risk.status"] == "level"]
    assert (kept["risk.level"] >= lv).all()


def _damage(base: dict) -> list[dict]:
    """Variants with a required answer missing or invalid, or an unreadable response."""
    out = []
    for i in (1, 5, 9):
        out.append({**base, f"phq9_{i}": None})
    out.append({**base, "phq9_2": 4})  # out of range
    out.append({**base, "phq9_7": "x"})  # not a number
    out.append({**base, "gad7_3": None})
    out.append({**base, "gad7_1": 7})
    for k in (1, 2, 3, 4):
        out.append({**base, f"asq_{k}": None})
    sdq = INSTS["sdq_s"]
    for s in ("emotion", "conduct", "hyper", "peer"):
        items = sdq.scale(s).items
        out.append({**base, **{it: None for it in items[:3]}})  # 2 of 5 left: no score
    for code in (0, 1, 2):  # straight-lining on the SDQ
        out.append({**base, **{it.id: code for it in sdq.items}})
    out.append({**base, "age": None})  # no SDQ norm stratum
    out.append({**base, "age": 9.5})  # outside the 11-17 stratum
    return out


@settings(max_examples=30, deadline=None)
@given(mild_rows())
def test_missing_or_invalid_never_normal(base):
    out = _screen(_damage(base))
    assert not (out["risk.level_code"] == "normal").any()
    assert not (out["risk.tier3"] == "低").any()
    assert out["risk.needs_confirmation"].all()
    assert (out["risk.retest_days"].notna() | (out["risk.level_code"] == "crisis")).all()


@settings(max_examples=10, deadline=None)
@given(st.lists(rows(allow_blank=True, age_missing=True), min_size=2, max_size=5), st.randoms())
def test_row_result_independent_of_other_rows(batch, rnd):
    df = pd.DataFrame(batch)
    whole = psyscreen.screen(df, PROFILE)[RISK]
    order = list(range(len(df)))
    rnd.shuffle(order)
    shuffled = psyscreen.screen(df.iloc[order], PROFILE)[RISK]
    pd.testing.assert_frame_equal(shuffled.loc[df.index], whole)
    k = rnd.randrange(len(df))
    alone = psyscreen.screen(df.iloc[[k]], PROFILE)[RISK]
    pd.testing.assert_frame_equal(alone, whole.iloc[[k]])


# -- 5. random profiles built from the rule-node kinds ------------------------------------
# The oracle below reads the score table cell by cell in plain Python (no code of
# psyscreen.risk), so a node kind that fires on the wrong rows or a reason that names the
# wrong rule fails here.

_PROF_DATA = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "profiles" / "default.yaml").read_text("utf-8")
)
_BATTERY = [b for b in _PROF_DATA["battery"] if b["instrument"] in ("phq9", "gad7", "sdq_s")]
_SCALES = ["phq9.total", "gad7.total"]  # instrument bands (sdq_s: norm bands, none here)
_CLASSES = ["normal", "borderline", "abnormal"]
_CODES = {
    ref: [b.code for b in INSTS[ref.split(".")[0]].scale("total").bands[0].bands] for ref in _SCALES
}
_LEVELS = [lv["code"] for lv in _PROF_DATA["levels"]][1:]  # a rule cannot give the lowest


def _subset(values):
    return st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True)


_leaf = st.one_of(
    st.sampled_from([{"critical": {}}, {"critical": {"instrument": "phq9"}}]),
    st.sampled_from([{"validity": {}}, {"validity": {"instrument": "sdq_s"}}]),
    st.builds(
        lambda s, op, x: {"score": {"scale": s, op: x}},
        st.sampled_from(_SCALES),
        st.sampled_from(["ge", "gt", "le", "lt"]),
        st.integers(0, 27),
    ),
    st.sampled_from(_SCALES).flatmap(
        lambda s: st.one_of(
            _subset(_CLASSES).map(lambda c: {"band": {"scale": s, "band_class": c}}),
            _subset(_CODES[s]).map(lambda c: {"band": {"scale": s, "band": c}}),
        )
    ),
    st.builds(
        lambda scales, c, k: {"count": {"band_class": c, "at_least": k, **scales}},
        st.sampled_from([{}, {"scales": _SCALES}, {"scales": ["gad7.total"]}]),
        _subset(_CLASSES),
        st.integers(1, 2),
    ),
)
_when = st.recursive(
    _leaf,
    lambda kids: st.one_of(
        st.lists(kids, min_size=1, max_size=3).map(lambda k: {"any_of": k}),
        st.lists(kids, min_size=1, max_size=3).map(lambda k: {"all_of": k}),
    ),
    max_leaves=6,
)


def _random_profile(whens: list[dict], levels: list[str]):
    data = {k: v for k, v in _PROF_DATA.items() if k != "rules"}
    data["battery"] = _BATTERY
    data["rules"] = [
        {"id": f"r{k}", "level": lv, "when": w, "en": f"<rule {k}>", "zh": f"《规则{k}》"}
        for k, (w, lv) in enumerate(zip(whens, levels))
    ]
    return profile_from_data(data)


def _cell(scores: pd.DataFrame, row: int, name: str):
    if name not in scores.columns:
        return None
    v = scores[name].iloc[row]
    return None if pd.isna(v) else v


def _holds(w: dict, scores: pd.DataFrame, row: int, prof) -> bool:
    """The condition ``w`` for one row, read from the score table by hand."""
    ((kind, c),) = w.items()
    if kind in ("any_of", "all_of"):
        hits = [_holds(x, scores, row, prof) for x in c]
        return any(hits) if kind == "any_of" else all(hits)
    if kind in ("critical", "validity"):
        cols = [
            f"{b.instrument}.{kind}.{cid}"
            for b in prof.battery
            if c.get("instrument") in (None, b.instrument)
            for cid in (
                [x.id for x in prof.instrument(b.instrument).critical_items]
                if kind == "critical"
                else [x.id for x in prof.instrument(b.instrument).validity_checks]
            )
        ]
        return any(bool(_cell(scores, row, col)) for col in cols)
    if kind == "score":
        raw = _cell(scores, row, f"{c['scale']}.raw")
        ((op, x),) = ((k, v) for k, v in c.items() if k != "scale")
        if raw is None:
            return False
        return {"ge": raw >= x, "gt": raw > x, "le": raw <= x, "lt": raw < x}[op]
    if kind == "band":
        if "band_class" in c:
            return _cell(scores, row, f"{c['scale']}.band_class") in c["band_class"]
        return _cell(scores, row, f"{c['scale']}.band") in c["band"]
    scales = c.get("scales", [*_SCALES, "sdq_s.total"])  # default: the screening scales
    n = sum(_cell(scores, row, f"{s}.band_class") in c["band_class"] for s in scales)
    return n >= c["at_least"]


def _sheet(inst_id: str, lo: int, hi: int):
    items = [it.id for it in INSTS[inst_id].items]
    answer = st.one_of(st.none(), st.integers(lo, hi))
    return st.one_of(
        st.lists(answer, min_size=len(items), max_size=len(items)),
        answer.map(lambda a: [a] * len(items)),  # straight-lined (or all blank)
    ).map(lambda vals: dict(zip(items, vals)))


_children = st.lists(
    st.tuples(_sheet("phq9", 0, 3), _sheet("gad7", 0, 3), _sheet("sdq_s", 0, 2)).map(
        lambda t: {**t[0], **t[1], **t[2]}
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(_when, st.sampled_from(_LEVELS)), min_size=1, max_size=5),
    _children,
)
def test_reasons_name_exactly_the_rules_whose_conditions_hold(rules, children):
    prof = _random_profile([w for w, _ in rules], [lv for _, lv in rules])
    scores = psyscreen.score(pd.DataFrame(children), instruments_of(prof))
    ev = evaluate(scores, prof)
    out = ev.columns
    for row in range(len(children)):
        want = [f"r{k}" for k, (w, _) in enumerate(rules) if _holds(w, scores, row, prof)]
        got = [r for r in str(out["risk.rules"].iloc[row]).split(";") if r]
        assert got == want
        assert [r for r in want] == [rid for rid, m in ev.rule_fired.items() if m[row]]
        en, zh = str(out["risk.reasons"].iloc[row]), str(out["risk.reasons_zh"].iloc[row])
        for k in range(len(rules)):
            assert (f"<rule {k}>" in en) == (f"r{k}" in want)
            assert (f"《规则{k}》" in zh) == (f"r{k}" in want)


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.tuples(_when, st.sampled_from(_LEVELS)), min_size=1, max_size=4),
    _children,
)
def test_every_fired_rule_of_a_record_carries_evidence(rules, children):
    prof = _random_profile([w for w, _ in rules], [lv for _, lv in rules])
    df = pd.DataFrame([{**c, "age": 13.5} for c in children])
    records = psyscreen.screen_records(df, prof, missing_columns="missing")
    flat = psyscreen.screen(df, prof, missing_columns="missing")
    for rec, listed in zip(records, flat["risk.rules"].astype(str)):
        assert [r.id for r in rec.rules] == [r for r in listed.split(";") if r]
        for fired in rec.rules:
            assert fired.evidence, fired.id
            for e in fired.evidence:
                assert e.kind in ("critical", "validity", "band", "score")
