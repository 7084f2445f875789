"""Bulk-add internals: packed scores decode exactly (all kinds, old layouts), dates, read-ahead."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psyscreen.archive.packing import SEP, decode_scores, encode_scores

_INTS = st.one_of(st.none(), st.integers(-40000, 40000), st.integers(-3, 30))
_FLOATS = st.one_of(st.none(), st.floats(allow_nan=False), st.sampled_from([0.0, -0.0, 1.0, 2.5]))
_TEXT = st.one_of(
    st.none(), st.sampled_from(["normal", "borderline", "异常", f"a{SEP}b"]), st.text(max_size=4)
)


def _expected(v: object, kind: str) -> object:
    """What one cell must decode to: missing (None/NaN/blank text) is None, else the value."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if kind == "s":
        t = str(v).replace(SEP, " ")
        return t or None
    return v


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b and type(a) is type(b)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(
            st.lists(_INTS, min_size=n, max_size=n),
            st.lists(_FLOATS, min_size=n, max_size=n),
            st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n),
            st.lists(_TEXT, min_size=n, max_size=n),
        )
    )
)
def test_round_trip_is_exact(cols: tuple) -> None:
    ints, floats, bools, texts = cols
    df = pd.DataFrame(
        {
            "x.raw": pd.array(ints, dtype="Int64"),
            "x.t": pd.Series([np.nan if v is None else v for v in floats], dtype="f8"),
            "x.flag": pd.array(bools, dtype="boolean"),
            "x.band": pd.Series(texts, dtype=object),
        }
    )
    _, layout, rows = encode_scores(df)
    for i, packed in enumerate(rows):
        got = decode_scores(layout, packed)
        assert _same(got["x.raw"], _expected(ints[i], "i"))
        assert _same(got["x.t"], _expected(floats[i], "f"))
        assert _same(got["x.flag"], _expected(bools[i], "b"))
        assert got["x.band"] == _expected(texts[i], "s")


def test_small_integers_and_few_texts_are_compact() -> None:
    df = pd.DataFrame(
        {
            "a.raw": [3, 27],
            "a.t": [55.0, 61.0],
            "a.z": [0.25, -1.5],
            "a.band": ["normal", "abnormal"],
        }
    )
    _, layout, rows = encode_scores(df)
    assert [c[1] for c in layout] == ["i2", "f2", "f", "c"]
    assert layout[3] == ["a.band", "c", "abnormal", "normal"]
    assert len(rows[0]) == 2 + 2 + 8 + 1  # two int16, one float64, one code byte
    assert decode_scores(layout, rows[1]) == {
        "a.raw": 27,
        "a.t": 61.0,
        "a.z": -1.5,
        "a.band": "abnormal",
    }


def test_an_old_float64_layout_still_decodes() -> None:
    # the packing of archives and bundles written before the compact kinds (hand-built)
    layout = [["a.raw", "i"], ["a.ok", "b"], ["a.t", "f"], ["a.band", "s"], ["a.st", "s"]]
    packed = np.array([7.0, 1.0, np.nan], dtype="<f8").tobytes() + f"normal{SEP}".encode()
    assert decode_scores(layout, packed) == {
        "a.raw": 7,
        "a.ok": True,
        "a.t": None,
        "a.band": "normal",
        "a.st": None,
    }


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(["2024-10-08", "2024/10/8", "2024年10月8日", "", " ", "2023-02-30"]),
            st.text(max_size=10),
        ),
        max_size=20,
    )
)
def test_dates_read_once_per_value_are_read_as_row_by_row(values: list) -> None:
    from psyscreen.archive.store import _iso_dates
    from psyscreen.demographics import parse_dates

    col = pd.Series(values, dtype=object)
    want = [None if pd.isna(d) else d.strftime("%Y-%m-%d") for d in parse_dates(col)[0]]
    assert list(_iso_dates(col)) == want


def test_read_ahead_keeps_order_raises_in_place_and_stops_when_closed() -> None:
    import threading

    from psyscreen.archive.store import read_ahead

    def chunks(fail: bool):
        for i in range(3):
            if fail and i == 2:
                raise OSError("disk gone")
            yield pd.DataFrame({"i": [i]})

    assert [c["i"].iloc[0] for c in read_ahead(chunks(False))] == [0, 1, 2]
    got = []
    with pytest.raises(OSError, match="disk gone"):
        for c in read_ahead(chunks(True)):
            got.append(c["i"].iloc[0])
    assert got == [0, 1]
    it = read_ahead(pd.DataFrame({"i": [i]}) for i in range(100))
    next(it)
    it.close()
    assert not any(t.name == "psyscreen-archive-read" for t in threading.enumerate())
