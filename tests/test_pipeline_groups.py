"""Grouping rows by battery is a speed matter only: every way of grouping gives one result.

``psyscreen.pipeline._graded`` scores the rows without an age together with the rows in
range (one battery, gates per row), and, when the battery outside the ages scores alike,
every row in one call. Both shortcuts are checked here against the general path, which
scores each route group on its own (the path routed profiles always take), and against
scoring each row alone (every stage depends on each row alone).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import psyscreen
from psyscreen import pipeline

BATTERY = [psyscreen.load_instrument(i) for i in ("phq9", "gad7", "sdq_s", "asq")]

# in range, outside 12-17, missing, unreadable
AGES = st.sampled_from([12, 13.5, 17, 17.9, 9, 18, 25, None, "abc"])


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    cols: dict[str, list] = {}
    for inst in BATTERY:
        for item in inst.items:
            rs = inst.response_scales[item.response_scale]
            codes = [*range(int(rs.min), int(rs.max) + 1), None, 99]
            cols[item.id] = draw(st.lists(st.sampled_from(codes), min_size=n, max_size=n))
    cols["age"] = draw(st.lists(AGES, min_size=n, max_size=n))
    cols["sex"] = draw(st.lists(st.sampled_from(["男", "女", None]), min_size=n, max_size=n))
    return pd.DataFrame(cols).astype({"age": object})


def _text(df: pd.DataFrame) -> str:
    return df.to_csv(index=False)


def _general(monkeypatch, df: pd.DataFrame) -> pd.DataFrame:
    with monkeypatch.context() as m:
        m.setattr(pipeline, "_fallback_scores_alike", lambda *a, **k: False)
        m.setattr(pipeline, "_one_battery_groups", lambda prof, groups, routing: groups)
        return psyscreen.screen(df)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frames())
def test_one_call_equals_group_by_group(monkeypatch, df: pd.DataFrame) -> None:
    assert _text(psyscreen.screen(df)) == _text(_general(monkeypatch, df))


@settings(max_examples=25, deadline=None)
@given(frames())
def test_every_row_as_if_alone(df: pd.DataFrame) -> None:
    whole = psyscreen.screen(df)
    for i in range(len(df)):
        alone = psyscreen.screen(df.iloc[[i]])
        assert _text(whole.iloc[[i]].reset_index(drop=True)) == _text(alone.reset_index(drop=True))


def test_shortcuts_are_taken_and_refused_where_they_must_be() -> None:
    prof = psyscreen.load_profile("default")
    from psyscreen.risk import norm_choice

    choice = norm_choice(prof, "auto")
    full = pd.DataFrame({i: [0] for inst in BATTERY for i in inst.item_ids})
    assert pipeline._fallback_scores_alike(prof, choice, full, None)
    # an absent column: optional outside the ages, required inside: score group by group
    assert not pipeline._fallback_scores_alike(prof, choice, full.drop(columns="asq_1"), None)
    # a routed profile never scores in one call
    school = psyscreen.load_profile("school")
    assert not pipeline._fallback_scores_alike(school, norm_choice(school, "auto"), full, None)
    # all four kinds of rows present: in range + no age merge, outside stays apart
    df = full.loc[[0, 0, 0, 0]].reset_index(drop=True).assign(age=[12, None, 30, 15])
    routing = psyscreen.risk.route_rows(prof, df)
    got = pipeline._one_battery_groups(prof, routing.groups(), routing)
    assert [(c, p.tolist()) for c, p in got] == [(0, [0, 1, 3]), (-1, [2])]
    assert pipeline._gates(routing.route).tolist()[1:3] != [0, 0]
    np.testing.assert_array_equal(pipeline._gates(np.array([0, 3])), [0, 0])
