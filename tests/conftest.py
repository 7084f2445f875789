"""Shared test helpers."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def example():
    """``examples/make_example.py`` as a module (the synthetic export generator)."""
    spec = importlib.util.spec_from_file_location("make_example", ROOT / "examples/make_example.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def write_export(example):
    """A function writing a synthetic export with slips (UTF-8 with BOM) and its mapping.

    ``write_export(directory, n, seed, repeat=(row, as_row))`` gives row ``row`` the id
    of row ``as_row``; it returns ``(csv_path, mapping_path)``.
    """
    import psyscreen

    battery = psyscreen.load_profile("default").instruments

    def write(d: Path, n: int, seed: int, repeat: tuple[int, int] | None = None):
        df = example.make_export(n, battery, seed=seed, slips=True)
        if repeat is not None:
            df.loc[repeat[0], "学号"] = df.loc[repeat[1], "学号"]
        csv, mapping = d / "export.csv", d / "mapping.yaml"
        df.to_csv(csv, index=False, encoding="utf-8-sig")
        mapping.write_text(example.mapping_yaml(battery), encoding="utf-8")
        return csv, mapping

    return write


# A small custom instrument exercising every core feature, written as a researcher would.
TOY_YAML = textwrap.dedent(
    """
    id: toy
    version: "1"
    title: {en: Toy scale}
    informant: self
    licence: {name: test only, item_text_allowed: false}
    citations:
      - {key: src, text: "Made-up definition for tests.", evidence: unverified}
    response_scales:
      r03: {min: 0, max: 3}
      yn:
        min: 0
        max: 1
        codes: [{code: 9, value: 1, label: {en: refused}}]
        missing_codes: [-1]
    items:
      - {id: a1, response_scale: r03}
      - {id: a2, response_scale: r03}
      - {id: a3, response_scale: r03}
      - {id: a4, response_scale: r03}
      - {id: a5, response_scale: r03}
      - {id: b1, response_scale: r03}
      - {id: b2, response_scale: r03}
      - {id: c1, response_scale: yn}
    reverse_keyed: [a2, b2]
    scales:
      - id: a
        label: {en: A}
        items: [a1, a2, a3, a4, a5]
        missing: {min_answered: 3, prorate: true, rounding: half_up, source: src}
        bands:
          - id: main
            source: src
            bands:
              - {code: low, label: {en: low}, ge: 0, lt: 8, classification: normal}
              - {code: mid, label: {en: mid}, ge: 8, le: 10, classification: borderline}
              - {code: high, label: {en: high}, gt: 10, classification: abnormal}
      - id: b
        label: {en: B}
        items: [b1, b2]
        aggregation: mean
        missing: {min_answered: 1}
        higher_is: better
      - id: ab
        label: {en: A plus B}
        scales: [a, b]
      - id: c
        label: {en: C}
        items: [c1]
    critical_items:
      - id: c_yes
        items: [c1]
        condition: {ge: 1}
        meaning: {en: said yes or refused}
        source: src
    validity_checks:
      - id: same
        kind: straight_line
        items: [a1, a2, a3, a4, a5]
        min_answered: 5
        meaning: {en: same answer everywhere}
      - id: pairs
        kind: inconsistent_pairs
        pairs: [[a1, a2]]
        max_difference: 2
        meaning: {en: a1 and reversed a2 disagree}
    """
)


@pytest.fixture
def toy_path(tmp_path: Path) -> Path:
    p = tmp_path / "toy.yaml"
    p.write_text(TOY_YAML, encoding="utf-8")
    return p


@pytest.fixture
def toy(toy_path: Path):
    from psyscreen import load_instrument

    return load_instrument(toy_path)
