"""The tracker of ids seen (issue 16): every repeat found across chunks, in bounded memory.

Its answer must be a plain dict's on any id stream cut into any chunks, also when
hash bits collide (forced here), since candidates are checked against the real ids.
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from psyscreen.batch.ids import IdTracker

VALUES = st.one_of(
    st.none(),
    st.sampled_from(["a", "b", "A", " a", "", "学号1", "1", "é", "e\u0301"]),
    st.integers(0, 3),
    st.text(max_size=4),
)


def _dict_answer(stream: list) -> list[int]:
    """Row of the first occurrence of each repeated id, -1 otherwise: the plain way."""
    first: dict[str, int] = {}
    out = []
    for row, v in enumerate(stream):
        if v is None:
            out.append(-1)
            continue
        key = str(v)
        out.append(first.get(key, -1))
        first.setdefault(key, row)
    return out


class _Colliding(IdTracker):
    """Every id in one bucket with one of two keys: nearly every lookup is a collision."""

    @staticmethod
    def _split(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = np.array([len(str(t)) % 2 for t in texts], dtype=np.uint32)
        return np.zeros(len(texts), dtype=np.intp), key


def _answer(tracker: IdTracker, stream: list, cuts: list[int]) -> list[int]:
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(stream)}), len(stream)]
    got: list[int] = []
    with tracker:
        for a, z in itertools.pairwise(bounds):
            ids = np.array(stream[a:z], dtype=object)
            got += tracker.first_rows(ids, np.arange(a, z, dtype=np.int64)).tolist()
    return got


@settings(max_examples=200, deadline=None)
@given(stream=st.lists(VALUES, max_size=80), cuts=st.lists(st.integers(0, 80), max_size=6))
def test_the_tracker_answers_as_a_dict_whatever_the_chunking(stream, cuts):
    assert _answer(IdTracker(), stream, cuts) == _dict_answer(stream)


@settings(max_examples=200, deadline=None)
@given(stream=st.lists(VALUES, max_size=80), cuts=st.lists(st.integers(0, 80), max_size=6))
def test_colliding_hash_bits_are_never_reported_as_repeats(stream, cuts):
    assert _answer(_Colliding(), stream, cuts) == _dict_answer(stream)


def test_repeats_far_apart_in_a_long_stream_are_found_with_their_first_row():
    n, chunk = 200_000, 20_000
    ids = np.array([f"S{i:07d}" for i in range(n)], dtype=object)
    ids[150_000] = ids[7]  # a repeat 15 chunks later
    ids[199_999] = ids[150_001]
    with IdTracker() as t:
        got = np.concatenate(
            [t.first_rows(ids[a : a + chunk], np.arange(a, a + chunk)) for a in range(0, n, chunk)]
        )
    assert {int(i): int(got[i]) for i in np.flatnonzero(got >= 0)} == {150_000: 7, 199_999: 150_001}


def test_memory_is_eight_bytes_per_distinct_id():
    with IdTracker() as t:
        t.first_rows(np.array([f"id{i}" for i in range(10_000)], dtype=object), np.arange(10_000))
        held = sum(k.nbytes + o.nbytes for k, o in zip(t._keys, t._ords))
    assert held == 8 * 10_000
