"""Risk profiles: loading, validation, the screen() column contract, records and provenance.

``row()`` builds one child's answers to the default battery (PHQ-9, GAD-7, SDQ
self-report, ASQ) from target totals; the golden and property tests reuse it.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
import yaml

import psyscreen
from psyscreen import DefinitionError
from psyscreen.registry import data_dir, schema

RISK_COLUMNS = [
    "risk.status",
    "risk.level",
    "risk.level_code",
    "risk.level_zh",
    "risk.level_en",
    "risk.colour",
    "risk.tier3",
    "risk.needs_confirmation",
    "risk.referral",
    "risk.rules",
    "risk.reasons",
    "risk.retest_days",
    "risk.contact_days",
    "risk.visit_days",
    "risk.actions",
]

SDQ = psyscreen.load_instrument("sdq_s")
SDQ_REVERSE = set(SDQ.reverse_keyed)
SDQ_PROBLEM_ITEMS = [i for s in ("emotion", "conduct", "hyper", "peer") for i in SDQ.scale(s).items]
SDQ_PROSOCIAL_ITEMS = SDQ.scale("prosocial").items


def sdq_answers(total: int, prosocial: int = 1) -> dict:
    """SDQ answers whose total difficulties is ``total`` (items filled in order, 2 each).

    Reverse-keyed items are answered so that their *keyed* value is what is needed
    (keyed = 2 - answer). Prosocial items (not in the total) are all ``prosocial``.
    """
    d = {it: prosocial for it in SDQ_PROSOCIAL_ITEMS}
    left = total
    for it in SDQ_PROBLEM_ITEMS:
        v = min(2, left)
        left -= v
        d[it] = 2 - v if it in SDQ_REVERSE else v
    assert left == 0
    return d


def _fill(prefix: str, n: int, total: int, top: int = 3) -> dict:
    d = {}
    left = total
    for i in range(n):
        v = min(top, left)
        left -= v
        d[f"{prefix}{i + 1}"] = v
    assert left == 0
    return d


def row(
    phq: int = 0,
    gad: int = 0,
    sdq: int = 0,
    asq=(0, 0, 0, 0, None),
    age=14,
    phq9_item9: int = 0,
) -> dict:
    """One child's answers. PHQ-9 total ``phq`` uses items 1-8 only (item 9 is
    ``phq9_item9``, the critical item); GAD-7 total ``gad``; SDQ total ``sdq``;
    ASQ answers Q1-Q5 (None = blank); age in years."""
    d = _fill("phq9_", 8, phq)
    d["phq9_9"] = phq9_item9
    d.update(_fill("gad7_", 7, gad))
    d.update(sdq_answers(sdq))
    d.update({f"asq_{i + 1}": v for i, v in enumerate(asq)})
    d["age"] = age
    return d


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def test_list_and_load_default():
    assert "default" in psyscreen.list_profiles()
    p = psyscreen.load_profile("default")
    assert [lv.zh for lv in p.levels] == ["正常", "关注", "重点关注", "危机"]
    assert [lv.colour for lv in p.levels] == ["green", "yellow", "orange", "red"]
    assert [lv.tier3 for lv in p.levels] == ["低", "中", "高", "高"]
    assert p.instruments == ["phq9", "gad7", "sdq_s", "asq"]
    assert p.screening_scales() == ["phq9.total", "gad7.total", "sdq_s.total"]
    assert len(p.sha256) == 64
    assert psyscreen.load_profile(p) is p
    assert "not the standard" in p.basis.lower() or "not the text" in p.basis.lower()


def test_every_shipped_profile_loads():
    for pid in psyscreen.list_profiles():
        prof = psyscreen.load_profile(pid)
        assert prof.id == pid
        assert all(lv.needs_confirmation for lv in prof.levels[1:])


def test_screen_keeps_index_and_adds_risk_columns():
    df = frame(row(), row(phq=10))
    df.index = ["x", "y"]
    out = psyscreen.screen(df, "default")
    assert list(out.index) == ["x", "y"]
    for c in RISK_COLUMNS:
        assert c in out.columns, c
    for c in ("phq9.total.raw", "sdq_s.total.norm_band_class", "asq.critical.positive"):
        assert c in out.columns, c
    assert out["risk.level"].tolist() == [0, 1]
    assert str(out["risk.level"].dtype) == "Int64"


def test_absent_required_columns_raise_or_give_insufficient():
    df = pd.DataFrame([{k: v for k, v in row().items() if not k.startswith("gad7_")}])
    with pytest.raises(psyscreen.MissingColumnsError):
        psyscreen.screen(df)
    out = psyscreen.screen(df, missing_columns="missing")
    assert out["risk.status"].iloc[0] == "insufficient_data"
    assert "missing:gad7.total" in out["risk.flags"].iloc[0]


def test_records_validate_against_published_schema():
    df = frame(row(phq=12, gad=11), row(), row(phq9_item9=2), row(age=None))
    recs = psyscreen.screen_records(df, "default")
    assert len(recs) == 4
    s = schema("screening_record")
    for r in recs:
        jsonschema.validate(json.loads(r.model_dump_json()), s)
    two = recs[0].rules[0]
    assert two.id == "two_abnormal"
    ev = {(e.instrument, e.scale): e for e in two.evidence}
    assert ev[("phq9", "total")].value == 12
    assert ev[("phq9", "total")].threshold == "[10, 14] (abnormal)"
    assert ev[("phq9", "total")].band_source == "instrument"
    assert ev[("gad7", "total")].band == "moderate"
    assert recs[1].level == 0 and recs[1].rules == []
    crit = recs[2].rules[0]
    assert crit.id == "critical_item" and crit.evidence[0].check == "self_harm"
    assert crit.evidence[0].items == ["phq9_9"]
    # no age: the 12-17 profile cannot tell whether it applies (never 'insufficient data')
    assert recs[3].status == "no_age" and recs[3].level is None
    assert recs[3].flags == ["no_age:age"]


def test_record_norm_evidence_names_table_and_stratum():
    rec = psyscreen.screen_records(frame(row(sdq=18)))[0]
    e = rec.rules[0].evidence[0]
    assert (e.instrument, e.scale, e.value, e.band_class) == ("sdq_s", "total", 18, "abnormal")
    assert e.band_source == "norm"
    assert e.norm_table == "sdq_s_cn_du2008@1"
    assert e.norm_stratum
    assert e.threshold == "[18, 40] (abnormal)"


def test_record_id_only_on_request():
    df = frame(row(), row())
    df["child"] = ["a1", "b2"]
    assert [r.id for r in psyscreen.screen_records(df)] == [None, None]
    assert [r.id for r in psyscreen.screen_records(df, id_column="child")] == ["a1", "b2"]


def test_provenance_helper():
    p = psyscreen.provenance("default")
    assert p["library_version"] == psyscreen.__version__
    prof = psyscreen.load_profile("default")
    assert [i["id"] for i in p["instruments"]] == prof.instruments
    for i in p["instruments"]:
        assert i["sha256"] == psyscreen.load_instrument(i["id"]).sha256
    assert [t["id"] for t in p["norm_tables"]] == ["sdq_s_cn_du2008"]
    assert all(len(t["sha256"]) == 64 for t in p["norm_tables"])
    rec = psyscreen.screen_records(frame(row()))[0]
    assert rec.provenance.model_dump() == p


def test_unknown_profile():
    with pytest.raises(KeyError):
        psyscreen.load_profile("no_such_profile")


# -- profile validation -------------------------------------------------------------------

DEFAULT = yaml.safe_load((data_dir("profiles") / "default.yaml").read_text("utf-8"))


def _load_mutated(tmp_path: Path, fn) -> psyscreen.RiskProfile:
    data = json.loads(json.dumps(DEFAULT))
    fn(data)
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return psyscreen.load_profile(p)


def _set(path: str, value):
    def fn(d):
        keys = path.split(".")
        for k in keys[:-1]:
            d = d[int(k)] if k.isdigit() else d[k]
        last = keys[-1]
        d[int(last) if last.isdigit() else last] = value

    return fn


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (_set("rules.0.level", "purple"), "unknown level"),
        (_set("rules.0.level", "normal"), "cannot assign the lowest level"),
        (_set("levels.1.needs_confirmation", False), "needs_confirmation"),
        (_set("statuses.invalid_response.tier3", "低"), "never read as normal"),
        (_set("statuses.insufficient_data.keep_level_from", "normal"), "above the lowest"),
        (_set("statuses.insufficient_data.retest_days", None), "re-test"),
        (_set("battery.0.screening_scales", ["nope"]), "unknown scale"),
        (
            _set(
                "rules.0.when",
                {"critical": {}, "count": {"band_class": ["abnormal"], "at_least": 1}},
            ),
            "exactly one",
        ),
        (_set("rules.1.when", {"score": {"scale": "rses.total", "ge": 1}}), "not in the battery"),
        (_set("rules.1.when", {"eval": "__import__('os')"}), "Additional properties"),
        (_set("levels.1.code", "insufficient_data"), "reserved"),
        (_set("levels.2.actions.0.zh", "另一个文本"), "different texts"),
    ],
)
def test_bad_profiles_are_rejected(tmp_path, mutation, message):
    with pytest.raises(DefinitionError, match=message):
        _load_mutated(tmp_path, mutation)


def test_three_independent_profile_errors_are_all_reported_with_their_paths(tmp_path):
    def three(d):
        _set("levels.1.needs_confirmation", False)(d)
        _set("statuses.insufficient_data.keep_level_from", "normal")(d)
        _set("statuses.invalid_response.retest_days", None)(d)

    with pytest.raises(DefinitionError) as e:
        _load_mutated(tmp_path, three)
    assert sorted(p for p, _ in e.value.problems) == [
        "levels[1].needs_confirmation",
        "statuses.insufficient_data.keep_level_from",
        "statuses.invalid_response.retest_days",
    ]


def test_profile_with_local_instrument_path(tmp_path, toy_path):
    prof = {
        "id": "local",
        "version": "1",
        "title": {"en": "toy"},
        "basis": "test",
        "battery": [{"instrument": "toy", "path": toy_path.name, "screening_scales": ["a"]}],
        "levels": DEFAULT["levels"],
        "statuses": DEFAULT["statuses"],
        "rules": [
            {"id": "crit", "level": "crisis", "when": {"critical": {}}, "en": "c", "zh": "c"},
            {
                "id": "a_abn",
                "level": "attention",
                "when": {"band": {"scale": "toy.a", "band_class": ["abnormal"]}},
                "en": "a",
                "zh": "a",
            },
        ],
    }
    p = toy_path.parent / "local.yaml"
    p.write_text(yaml.safe_dump(prof, allow_unicode=True), encoding="utf-8")
    loaded = psyscreen.load_profile(p)
    df = pd.DataFrame(
        {"a1": [3, 0], "a2": [0, 3], "a3": [3, 0], "a4": [3, 0], "a5": [3, 0],
         "b1": [0, 0], "b2": [0, 0], "c1": [0, 0]}
    )  # fmt: skip
    out = psyscreen.screen(df, loaded)
    # row 1: a = 3 + (3 - 0) + 3 + 3 + 3 = 15 > 10 -> abnormal (a2 is reverse-keyed on 0..3)
    # row 2: a = 0 + (3 - 3) + 0 + 0 + 0 = 0 -> normal; neither row is straight-lined
    # (codes 3,0,3,3,3 and 0,3,0,0,0) nor inconsistent (a1 and reversed a2 agree).
    assert out["risk.level_code"].tolist() == ["attention", "normal"]
    assert (
        psyscreen.provenance(loaded)["instruments"][0]["sha256"] == loaded.instrument("toy").sha256
    )


# -- the 8-11 example of docs/risk.md ----------------------------------------------------------


def _doc_example(name: str) -> dict:
    text = (Path(__file__).resolve().parents[1] / "docs" / "risk.md").read_text("utf-8")
    block = text.split(f"<!-- risk-example: {name} -->", 1)[1]
    body = block.split("```yaml", 1)[1].split("```", 1)[0]
    return yaml.safe_load(body)


def _least_problem_answers(inst_id: str) -> dict:
    """Every item answered at its 'no problem' end (from higher_is and the reverse keys)."""
    inst = psyscreen.load_instrument(inst_id)
    out = {}
    for it in inst.items:
        rs = inst.response_scales[it.response_scale]
        worse_high = True
        for s in inst.scales:
            if not s.is_composite and it.id in s.items:
                worse_high = (s.higher_is == "worse") != inst.is_reverse(it.id)
        out[it.id] = rs.min if worse_high else rs.max
    return out


def test_docs_example_for_8_to_11_is_a_valid_profile(tmp_path):
    example = _doc_example("child_8_11")
    data = json.loads(json.dumps(DEFAULT))
    data.pop("age")
    data.update(id="child_8_11", age_range={"min": 8, "max": 11}, **example)
    p = tmp_path / "child_8_11.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    prof = psyscreen.load_profile(p)
    assert prof.instruments == ["sdq_p", "scared_c", "dsrsc", "asq"]
    calm = {}
    for inst_id in prof.instruments:
        calm.update(_least_problem_answers(inst_id))
    calm.update(asq_5=None, age=9)
    df = pd.DataFrame([calm, {**calm, "asq_2": 1}, {**calm, "age": None}])
    out = psyscreen.screen(df, prof)
    # all problem scores 0: every band normal; ASQ 'yes' on Q2: crisis; no age: the 8-11
    # profile cannot tell whether it applies
    assert out["risk.level_code"].tolist() == ["normal", "crisis", "no_age"]
    # DSRSC at its worst end (total 36 >= 15, abnormal) alone: one_abnormal -> attention; the
    # record carries the band set's 'unverified' note (the cut-off 15 is from secondary sources)
    worst = {k: (2 if v == 0 else 0) for k, v in _least_problem_answers("dsrsc").items()}
    rec = psyscreen.screen_records(pd.DataFrame([{**calm, **worst}]), prof)[0]
    assert rec.level_code == "attention" and [r.id for r in rec.rules] == ["one_abnormal"]
    ev = rec.rules[0].evidence[0]
    assert (ev.instrument, ev.value, ev.threshold) == ("dsrsc", 36, "[15, 36] (abnormal)")
    assert ev.unverified and "secondary" in ev.unverified
