"""Definition loading: schema, safe YAML, cross-field rules, error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import psyscreen
from psyscreen import DefinitionError, load_instrument
from psyscreen.schemagen import SCHEMAS, render
from psyscreen.yamlio import parse_yaml

from .conftest import TOY_YAML


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "def.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _mutate(tmp_path: Path, fn) -> Path:
    data = yaml.safe_load(TOY_YAML)
    fn(data)
    return _write(tmp_path, yaml.safe_dump(data, allow_unicode=True))


def test_custom_definition_loads(toy):
    assert toy.id == "toy"
    assert toy.scale_range("a") == (0.0, 15.0)
    assert toy.scale_range("b") == (0.0, 3.0)
    assert toy.scale_range("ab") == (0.0, 18.0)
    assert toy.sha256 and len(toy.sha256) == 64


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_published_schemas_are_current(name):
    path = Path(psyscreen.__file__).parent / "schemas" / f"{name}.schema.json"
    assert path.read_text("utf-8") == render(name), "run: python -m psyscreen.schemagen"
    json.loads(path.read_text("utf-8"))


def test_unsafe_yaml_tags_are_rejected(tmp_path):
    p = _write(tmp_path, "id: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(DefinitionError, match="invalid YAML"):
        load_instrument(p)


def test_duplicate_keys_are_rejected():
    with pytest.raises(DefinitionError, match="duplicate key 'a'"):
        parse_yaml("a: 1\na: 2\n")


def test_yaml_syntax_error_names_line(tmp_path):
    p = _write(tmp_path, "id: x\nitems: [a, b\n")
    with pytest.raises(DefinitionError) as e:
        load_instrument(p)
    assert str(p) in str(e.value) and "line" in str(e.value)


@pytest.mark.parametrize(
    ("mutation", "path", "message"),
    [
        (
            lambda d: d["items"][0].update(response_scale="nope"),
            "items[0].response_scale",
            "response scale 'nope'",
        ),
        (lambda d: d["scales"][0]["items"].append("zz"), "scales[0].items[5]", "unknown item 'zz'"),
        (
            lambda d: d.update(reverse_keyed=["a1", "nope"]),
            "reverse_keyed[1]",
            "unknown item 'nope'",
        ),
        (lambda d: d["items"][0].update(id="A1"), "items[0].id", "does not match"),
        (lambda d: d.update(extra_field=1), "", "extra_field"),
        (
            lambda d: d["scales"][0]["bands"][0]["bands"][1].update(ge=9),
            "scales[0].bands[0]",
            "score 8 falls in no band",
        ),
        (
            lambda d: d["scales"][0]["bands"][0]["bands"][1].update(ge=7),
            "scales[0].bands[0]",
            "score 7 falls in several bands",
        ),
        (
            lambda d: d["scales"][0]["missing"].update(prorate=False),
            "scales[0]",
            "count missing answers",
        ),
        (
            lambda d: d["items"][0].update(text={"en": "wording"}),
            "items[0].text",
            "licence does not allow",
        ),
        (
            lambda d: d["scales"][2].update(scales=["a", "later"]),
            "scales[2].scales[1]",
            "must be declared before",
        ),
        (
            lambda d: d["critical_items"][0].update(source="nosuch"),
            "critical_items[0].source",
            "unknown citation",
        ),
        (lambda d: d["scales"][0].update(id="critical"), "scales[0]", "reserved"),
        (
            lambda d: d["scales"][0]["bands"][0]["bands"][2].update(ge=10),
            "scales[0].bands[0].bands[2]",
            "give 'ge' or 'gt', not both",
        ),
        (
            lambda d: d["scales"][0]["bands"][0]["bands"][2].update(lt=14),
            "scales[0].bands[0]",
            "score 14 falls in no band",
        ),
    ],
)
def test_bad_definitions_give_located_errors(tmp_path, mutation, path, message):
    p = _mutate(tmp_path, mutation)
    with pytest.raises(DefinitionError) as e:
        load_instrument(p)
    err = e.value
    assert err.file == str(p)
    if path:
        assert err.path == path
    if message:
        assert message in str(err)


def test_three_independent_cross_field_errors_are_all_reported_with_their_paths(tmp_path):
    def three(d):
        d["items"][1]["response_scale"] = "nope"
        d["scales"][2]["scales"] = ["a", "later"]
        d["critical_items"][0]["source"] = "nosuch"

    with pytest.raises(DefinitionError) as e:
        load_instrument(_mutate(tmp_path, three))
    paths = [p for p, _ in e.value.problems]
    assert paths == ["items[1].response_scale", "scales[2].scales[1]", "critical_items[0].source"]
    text = str(e.value).splitlines()
    assert len(text) == 3 and all(line.startswith(f"{e.value.file}: ") for line in text)
    assert "'later' must be declared before it" in text[1]


def test_errors_in_different_parts_of_the_model_are_all_reported(tmp_path):
    def three(d):
        d["response_scales"]["r03"]["max"] = 0  # a response scale's own check
        d["scales"][0]["bands"][0]["bands"][2]["ge"] = 10  # a band's (ge and gt)
        d["scales"][3]["missing"] = {"min_answered": 2}  # a scale's (more than its 1 item)

    with pytest.raises(DefinitionError) as e:
        load_instrument(_mutate(tmp_path, three))
    assert sorted(p for p, _ in e.value.problems) == [
        "response_scales.r03",
        "scales[0].bands[0].bands[2]",
        "scales[3]",
    ]


def test_three_schema_errors_are_all_reported_with_their_paths(tmp_path):
    def three(d):
        d["scales"][0]["aggregation"] = "median"
        d["items"][2]["number"] = "first"
        d["licence"]["item_text_allowed"] = "maybe"

    with pytest.raises(DefinitionError) as e:
        load_instrument(_mutate(tmp_path, three))
    assert sorted(p for p, _ in e.value.problems) == [
        "items[2].number",
        "licence.item_text_allowed",
        "scales[0].aggregation",
    ]


def test_open_lower_band_covers_minimum(tmp_path):
    # dropping the lower bound of the first band leaves it open: still a valid partition
    p = _mutate(tmp_path, lambda d: d["scales"][0]["bands"][0]["bands"][0].pop("ge"))
    assert load_instrument(p).scale("a").bands[0].bands[0].lower is None


def test_schema_error_has_json_path(tmp_path):
    p = _mutate(tmp_path, lambda d: d["scales"][0].update(aggregation="median"))
    with pytest.raises(DefinitionError) as e:
        load_instrument(p)
    assert e.value.path == "scales[0].aggregation"


def test_unknown_instrument_lists_shipped():
    with pytest.raises(KeyError, match="phq9"):
        load_instrument("no_such_instrument")


def test_band_contains_and_interval():
    from psyscreen.definitions import Band

    b = Band(code="x", label={"en": "x"}, gt=5, le=9, classification="normal")
    assert b.interval() == "(5, 9]"
    assert [b.contains(v) for v in (5, 5.01, 9, 9.01)] == [False, True, True, False]
    with pytest.raises(ValueError, match="empty"):
        Band(code="y", label={"en": "y"}, ge=3, lt=3, classification="normal")


def test_response_scale_rules():
    from psyscreen.definitions import ResponseScale

    with pytest.raises(ValueError, match="inside"):
        ResponseScale(min=0, max=3, codes=[{"code": 2, "value": 1}])
    with pytest.raises(ValueError, match="also a scored code"):
        ResponseScale(min=0, max=3, missing_codes=[3])
    with pytest.raises(ValueError, match="greater than"):
        ResponseScale(min=3, max=3)


def test_categorical_helpers_equal_pandas_constructors():
    """from_codes / from_values give pandas' own categoricals (remembered dtypes)."""
    import numpy as np
    import pandas as pd

    from psyscreen.categories import from_codes, from_values

    codes = np.array([2, -1, 0, 1, 1])
    cats = ["normal", "borderline", "abnormal"]
    for _ in range(2):
        got = from_codes(codes, cats)
        pd.testing.assert_extension_array_equal(got, pd.Categorical.from_codes(codes, cats))
    values = np.array(["male", None, "female", "x", np.nan], dtype=object)
    cats = ["female", "male"]
    expected = pd.Categorical([v if v in cats else None for v in values], cats)
    pd.testing.assert_extension_array_equal(from_values(values, cats), expected)
