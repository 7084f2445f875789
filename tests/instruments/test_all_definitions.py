"""Checks over every shipped instrument definition.

Every YAML validates against the published JSON Schema and loads; every citation key used
exists; every instrument has a licence and a locatable source; no item wording where the
licence does not allow it; evidence tags are honest (a band set or critical item resting on an
unverified source says why); and docs/instruments.md is the current rendering.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import psyscreen
from psyscreen.catalogue import CATALOGUE_PATH, render_catalogue
from psyscreen.registry import data_dir, schema
from psyscreen.yamlio import read_yaml

SHIPPED = psyscreen.list_instruments()

# Instruments whose wording must never ship (licence not confirmed or restrictive).
NO_ITEM_TEXT = {"asq", "cesdc", "dsrsc", "phqa", "rcads", "rses", "scared_c", "sdq_p", "sdq_s"}


def test_the_expected_instruments_ship():
    expected = NO_ITEM_TEXT | {"phq9", "gad7"}
    assert expected <= set(SHIPPED)


@pytest.mark.parametrize("inst_id", SHIPPED)
def test_yaml_validates_against_published_schema(inst_id):
    data, _ = read_yaml(Path(data_dir("instruments")) / f"{inst_id}.yaml")
    jsonschema.validate(data, schema("instrument"))
    inst = psyscreen.load_instrument(inst_id)
    assert inst.id == inst_id  # file name and id agree


@pytest.mark.parametrize("inst_id", SHIPPED)
def test_every_citation_key_used_exists(inst_id):
    inst = psyscreen.load_instrument(inst_id)
    keys = {c.key for c in inst.citations}
    used = set()
    for s in inst.scales:
        used |= {bs.source for bs in s.bands}
        if s.missing.source:
            used.add(s.missing.source)
    used |= {c.source for c in inst.critical_items}
    used |= {v.source for v in inst.validity_checks if v.source}
    assert used <= keys, used - keys


@pytest.mark.parametrize("inst_id", SHIPPED)
def test_licence_and_locatable_source(inst_id):
    inst = psyscreen.load_instrument(inst_id)
    assert inst.licence.name.strip()
    assert any(c.url or c.doi for c in inst.citations), "no citation with a URL or DOI"
    for c in inst.citations:
        assert c.locator or c.url or c.doi, f"citation {c.key} cannot be located"


@pytest.mark.parametrize("inst_id", SHIPPED)
def test_no_item_text_where_not_allowed(inst_id):
    inst = psyscreen.load_instrument(inst_id)
    if inst_id in NO_ITEM_TEXT:
        assert inst.licence.item_text_allowed is False
    if not inst.licence.item_text_allowed:
        assert all(i.text is None for i in inst.items)


@pytest.mark.parametrize("inst_id", SHIPPED)
def test_items_have_bilingual_labels(inst_id):
    inst = psyscreen.load_instrument(inst_id)
    for i in inst.items:
        assert i.label is not None and i.label.en and i.label.zh, i.id
    assert inst.title.en and inst.title.zh


@pytest.mark.parametrize("inst_id", SHIPPED)
def test_unverified_sources_are_declared(inst_id):
    inst = psyscreen.load_instrument(inst_id)
    evidence = {c.key: c.evidence for c in inst.citations}
    for s in inst.scales:
        for bs in s.bands:
            if evidence[bs.source] == "unverified":
                assert bs.unverified, f"{s.id}/{bs.id} rests on an unverified source"
    for c in inst.critical_items:
        if evidence[c.source] == "unverified":
            assert c.unverified, f"critical item {c.id} rests on an unverified source"


def test_catalogue_is_current():
    assert CATALOGUE_PATH.read_text(encoding="utf-8") == render_catalogue(), (
        "docs/instruments.md is stale: run `python -m psyscreen.catalogue`"
    )


def test_catalogue_lists_every_instrument_and_flags_unverified_bands():
    text = render_catalogue()
    for inst_id in SHIPPED:
        assert f"## {inst_id}: " in text
    assert "china (**unverified**)" in text  # SCARED Chinese cut-off is marked


@pytest.mark.parametrize("inst_id", SHIPPED)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_complete_valid_answers_score_in_range_with_a_band(inst_id, data):
    # Any complete set of declared codes: every scale is complete, within its declared range,
    # and falls in exactly one band of every band set (bands partition the range).
    inst = psyscreen.load_instrument(inst_id)
    row = {}
    for item in inst.items:
        rs = inst.response_scales[item.response_scale]
        codes = list(range(rs.min, rs.max + 1)) + [c.code for c in rs.codes if c.value is not None]
        row[item.id] = data.draw(st.sampled_from(codes), label=item.id)
    out = psyscreen.score(pd.DataFrame([row]), inst).iloc[0]
    for s in inst.scales:
        lo, hi = inst.scale_range(s.id)
        assert out[f"{inst_id}.{s.id}.status"] == "complete"
        assert lo <= out[f"{inst_id}.{s.id}.raw"] <= hi
        for k, bs in enumerate(s.bands):
            suffix = "" if k == 0 else f"_{bs.id}"
            assert not pd.isna(out[f"{inst_id}.{s.id}.band{suffix}"])
