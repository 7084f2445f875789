"""The hand-written reference scorer of benchmarks/ agrees with psyscreen.screen row for row.

Only agreement is tested here; timings are printed by the benchmark scripts, never asserted.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

import psyscreen

ROOT = Path(__file__).resolve().parents[1]


def _reference():
    spec = importlib.util.spec_from_file_location(
        "screen_reference", ROOT / "benchmarks/screen_reference.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def ref_mod():
    return _reference()


def test_reference_agrees_with_screen_on_5000_rows(ref_mod):
    df = ref_mod.synthetic(5000, seed=7)
    got = psyscreen.screen(df, "default", demographics={"age": "age"})
    ref = ref_mod.reference(df)
    diff = ref_mod.compare(ref, got)
    assert len(diff) > 50
    assert {c: k for c, k in diff.items() if k} == {}
    # the synthetic rows reach every level and both statuses, so the grading is exercised
    codes = set(ref["risk.level_code"])
    assert {"normal", "attention", "high_attention", "crisis", "insufficient_data"} <= codes


def test_compare_counts_a_changed_row(ref_mod):
    df = ref_mod.synthetic(300, seed=3)
    ref = ref_mod.reference(df)
    got = ref.copy()
    got.loc[5, "phq9.total.raw"] = 99.0
    got.loc[[1, 2], "risk.level_code"] = (
        "normal" if ref.loc[1, "risk.level_code"] != "normal" else "crisis"
    )
    diff = ref_mod.compare(ref, got)
    assert diff["phq9.total.raw"] == 1
    assert diff["risk.level_code"] >= 1
    assert sum(diff.values()) <= 3


def test_synthetic_codes_include_blanks_and_out_of_range(ref_mod):
    df = ref_mod.synthetic(2000, seed=1)
    assert df["phq9_1"].isna().any()
    assert (df["phq9_1"] > 3).any()
    assert (df["asq_1"] == 9).any()
    assert isinstance(df, pd.DataFrame)
