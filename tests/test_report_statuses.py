"""Every result status has a name and a column in the report, and the columns add up.

The routed statuses (``out_of_age_range`` 不适用年龄, ``no_age`` 年龄缺失) are counted in their
own columns, never folded into 正常; a run of fewer than k children still lists every outcome
(all hidden). Counts are made by :class:`ReportStats` from result rows built here, so the
expected numbers are the row counts drawn by hypothesis, not the code's output.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import psyscreen
from psyscreen.batch.report import ReportStats, render_report
from psyscreen.registry import data_dir
from psyscreen.report.labels import outcome_name
from psyscreen.risk.handling import STATUS_CODES
from psyscreen.risk.outcome import RESULT_STATUSES
from psyscreen.risk.profile import profile_from_data
from psyscreen.yamlio import read_yaml

PROFILES = ("default", "school", "institution")
MANIFEST_INPUT = {"file": "export.csv", "format": "csv", "sha256": "0" * 64}


def _stats(profile, outcomes: list[str], unreadable: int = 0) -> ReportStats:
    """ReportStats of one chunk whose rows have the given outcomes (a level code or a status)."""
    levels = {lv.code for lv in profile.levels}
    stats = ReportStats(SimpleNamespace(profile=profile, instruments=[]))
    stats.scales = []
    status = ["level" if o in levels else o for o in outcomes]
    level = [o if o in levels else None for o in outcomes]
    df = pd.DataFrame(
        {"risk.status": status, "risk.level_code": level, "row.status": ["ok"] * len(outcomes)}
    )
    stats.update(df, pd.DataFrame(columns=["field", "problem"]))
    if unreadable:
        stats.add_unreadable(unreadable)
    return stats


def _render(stats: ReportStats, lang: str = "zh", k: int = 5) -> str:
    manifest = {
        "input": MANIFEST_INPUT,
        "rows": {"in": stats.rows, "out": stats.rows},
        "psyscreen_version": "test",
        "definitions": {},
    }
    return render_report(stats, manifest, lang=lang, k=k)


def _overall(html: str, title: str = "全体儿童") -> dict[str, str]:
    """Column name -> published cell of the overall table (``人数`` holds the row total)."""
    start = html.index(f"<h3>{title}</h3>")
    table = html[start : html.index("</table>", start)]
    rows = re.findall(r"<tr>(.*?)</tr>", table)
    heads = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<th[^>]*>(.*?)</th>", rows[0])]
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<th[^>]*>(.*?)</th>", rows[1])]
    return dict(zip(heads[1:], cells[1:]))


def _number(cell: str) -> int | None:
    """The count in a published cell (``12 (40.0%)``), None for a hidden one (``<5``)."""
    if cell.startswith("&lt;") or cell.startswith("<"):
        return None
    return int(cell.split(" ")[0].replace(",", ""))


@pytest.mark.parametrize("name", PROFILES)
def test_every_result_status_has_its_own_name_in_zh_and_en(name):
    prof = psyscreen.load_profile(name)
    stats = ReportStats(SimpleNamespace(profile=prof, instruments=[]))
    assert set(RESULT_STATUSES[1:]) <= set(stats.outcomes)
    codes = [*RESULT_STATUSES[1:], "unreadable"]
    for lang in ("zh", "en"):
        names = [outcome_name(prof, c, lang) for c in codes]
        levels = {outcome_name(prof, lv.code, lang) for lv in prof.levels}
        assert len(set(names)) == len(names)  # none shares a name with another
        assert not set(names) & levels  # nor with a level (正常 ...)
        assert outcome_name(None, "x", lang) not in names  # nor falls back to "not graded"


def test_a_profile_without_its_own_age_statuses_names_them_by_the_defaults():
    data, _ = read_yaml(data_dir("profiles") / "default.yaml")
    for name in ("out_of_age_range", "no_age"):
        data["statuses"].pop(name, None)
    prof = profile_from_data(data)
    assert outcome_name(prof, "out_of_age_range", "zh") == "不适用年龄"
    assert outcome_name(prof, "no_age", "en") == prof.status("no_age").en


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fewer_than_k_children_still_list_every_outcome_all_hidden(lang):
    prof = psyscreen.load_profile("school")
    html = _render(_stats(prof, ["out_of_age_range", "no_age", "normal"]), lang)
    title = "全体儿童" if lang == "zh" else "All children"
    cells = _overall(html, title)
    for code in (*STATUS_CODES, *(lv.code for lv in prof.levels)):
        name = outcome_name(prof, code, lang)
        assert name in cells
        assert _number(cells[name]) is None  # hidden: three children in all
    assert cells["人数" if lang == "zh" else "Children"] == "3"


OUTCOME = st.sampled_from(["normal", "attention", "high_attention", "crisis", *STATUS_CODES])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(OUTCOME, min_size=1, max_size=40),
    st.integers(min_value=0, max_value=3),
    st.sampled_from(PROFILES),
)
def test_the_overall_table_adds_up_to_the_input_rows(outcomes, unreadable, name):
    prof = psyscreen.load_profile(name)
    stats = _stats(prof, outcomes, unreadable)
    n = len(outcomes) + unreadable
    want = {c: outcomes.count(c) for c in set(outcomes)}
    if unreadable:
        want["unreadable"] = unreadable
    # k = 1 hides nothing: every column is the drawn count and they add up to the rows
    cells = _overall(_render(stats, k=1))
    assert int(cells.pop("人数").replace(",", "")) == n
    merged = cells.pop("重点关注及以上")
    got = {c: _number(cells[outcome_name(prof, c, "zh")]) for c in want}
    assert got == want
    assert sum(_number(v) or 0 for v in cells.values()) == n
    assert _number(merged) == want.get("high_attention", 0) + want.get("crisis", 0)
    # k = 5: the same columns; every published number is the true one, 正常 never takes in
    # the routed statuses, and the top levels are published once they reach k
    cells = _overall(_render(stats, k=5))
    assert int(cells.pop("人数").replace(",", "")) == n
    merged = cells.pop("重点关注及以上")
    for code in ("normal", "attention", "high_attention", "crisis", *STATUS_CODES):
        shown = _number(cells[outcome_name(prof, code, "zh")])
        assert shown in (None, want.get(code, 0))
    top = want.get("high_attention", 0) + want.get("crisis", 0)
    assert _number(merged) in ((top,) if n >= 5 and top >= 5 else (None, top))
    # a crisis count of k or more is published unless, with the merged count (always
    # published from k), it would give away a small 重点关注 count (merged - crisis)
    high = want.get("high_attention", 0)
    if n >= 5 and want.get("crisis", 0) >= 5 and (high == 0 or high >= 5):
        assert _number(cells["危机"]) == want["crisis"]


@given(st.integers(0, 60), st.integers(0, 60), st.integers(1, 10))
def test_the_critical_item_count_never_reveals_a_small_difference(crisis, critical, k):
    from psyscreen.report.aggregate import shown_critical

    critical = min(critical, crisis)
    got = shown_critical(crisis, critical, k)
    assert got in (None, critical)
    if got is not None and got > 0:
        assert got >= k and (crisis - got == 0 or crisis - got >= k)
    if critical >= k and crisis - critical >= k:
        assert got == critical  # nothing to protect: published
    assert shown_critical(None, critical, k) is None  # hidden with the crisis count


def test_key_figures_give_the_crisis_and_critical_item_counts_first():
    prof = psyscreen.load_profile("default")
    stats = _stats(prof, ["crisis"] * 12 + ["normal"] * 20)
    stats.critical["critical_item"] = 7  # 7 by a critical item, 5 by scores: both published
    html = _render(stats)
    key = re.search(r"<p class='key' id='key-figures'>(.*?)</p>", html).group(1)
    assert html.index(key) < html.index("<svg")
    assert key.startswith("危机：12人") and "7人" in key
    stats.critical["critical_item"] = 9  # 3 by scores could be read off: hidden
    key = re.search(r"<p class='key' id='key-figures'>(.*?)</p>", _render(stats)).group(1)
    assert key.startswith("危机：12人") and "9人" not in key and "&lt;5人" in key
