"""Rule nodes (psyscreen.risk.nodes): what each kind reads and what a profile may name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from psyscreen.errors import PsyscreenError
from psyscreen.risk.conditions import When
from psyscreen.risk.nodes import node_of
from psyscreen.risk.profile import profile_from_data

DEFAULT = Path(__file__).resolve().parents[1] / "profiles" / "default.yaml"


def _with_rule(when: dict) -> dict:
    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    data["rules"] = [{"id": "x", "level": "attention", "when": when, "zh": "甲", "en": "a"}]
    return data


def test_refs_name_the_scores_and_bands_a_tree_reads_once_each():
    w = When.model_validate(
        {
            "all_of": [
                {"score": {"scale": "phq9.total", "field": "t", "ge": 60}},
                {"band": {"scale": "gad7.total", "band_class": ["abnormal"]}},
                {"count": {"band_class": ["abnormal"], "at_least": 1}},
                {"any_of": [{"band": {"scale": "gad7.total", "band": ["severe"]}}]},
            ]
        }
    )
    node = node_of(w)
    assert node.refs() == [("phq9.total", "t"), ("gad7.total", "class")]
    assert [n.kind for n in node.walk()] == [
        "all_of", "score", "band", "count", "any_of", "band",
    ]  # fmt: skip
    assert not all(n.fallback_safe for n in node.walk())
    assert all(n.fallback_safe for n in node_of(When.model_validate({"critical": {}})).walk())


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ({"critical": {"id": "nope"}}, "unknown critical item"),
        ({"validity": {"id": "nope"}}, "unknown validity check"),
        ({"score": {"scale": "phq9.nope", "ge": 1}}, "unknown scale 'phq9.nope'"),
        ({"band": {"scale": "scared_c.total", "band_class": ["abnormal"]}}, "not in the battery"),
    ],
)
def test_a_rule_naming_what_the_battery_lacks_is_refused(when, message):
    with pytest.raises(PsyscreenError, match=message):
        profile_from_data(_with_rule(when), str(DEFAULT))


def test_a_rule_naming_a_known_critical_item_is_accepted():
    prof = profile_from_data(_with_rule({"critical": {"id": "self_harm"}}), str(DEFAULT))
    assert [r.id for r in prof.rules] == ["x"]
