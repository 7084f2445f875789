"""Property: any sequence of imports and events, in any order and repeated, gives one archive."""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("sqlalchemy")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psyscreen.archive import create_archive

KEY = b"prop-key-0123456789abcdef"
PROV = {"instruments": [{"id": "gad7", "version": "2006"}]}


def _frame(k: int) -> pd.DataFrame:
    ids = [f"C{(k + i) % 5}" for i in range(3)]
    return pd.DataFrame({
        "row": range(3), "id": ids, "assessment_date": f"202{k}-10-0{k + 1}",
        "risk.status": "level", "risk.level_code": ["normal", "attention", "crisis"][k % 3],
        "risk.level": float(k % 3), "gad7.total.raw": [float(k), float(k + 1), None],
    })


FRAMES = [_frame(k) for k in range(3)]
EVENTS = [("C0", "contact", "2021-11-01", None, None), ("C1", "visit", "2022-01-05", None, None),
          ("C2", "confirmation", "2020-10-02", "changed", "attention"),
          ("C3", "closed", "2022-12-01", None, None)]
OPS = [("frame", i) for i in range(len(FRAMES))] + [("event", i) for i in range(len(EVENTS))]


def _apply(a, ops):
    for kind, i in ops:
        if kind == "frame":
            a.add_results(FRAMES[i], provenance=PROV)
        else:
            cid, k, d, out, lvl = EVENTS[i]
            a.record_event(cid, k, d, outcome=out, level=lvl)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    a = create_archive(tmp_path_factory.mktemp("ref") / "ref.sqlite", key=KEY)
    _apply(a, OPS)
    yield a.content(), a.due("2023-06-30")
    a.close()


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(OPS), repeats=st.lists(st.sampled_from(OPS), max_size=4))
def test_any_order_and_repeats_give_the_same_archive(reference, tmp_path_factory, order, repeats):
    a = create_archive(tmp_path_factory.mktemp("p") / "a.sqlite", key=KEY)
    try:
        _apply(a, list(order) + list(repeats))
        content, due = reference
        assert a.content() == content
        pd.testing.assert_frame_equal(a.due("2023-06-30"), due)
    finally:
        a.close()
