"""The warning list (预警名单): who is listed, in which order, with which dates and reasons;
its HTML and XLSX outputs; the CLI never writes it unless asked.

Expected values are written here from the default profile's published intervals and
the PHQ-9 bands (Kroenke et al. 2001: moderate 10-14), not taken from the code.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from psyscreen.batch import run, warning_list
from psyscreen.cli import main
from psyscreen.report.warning_list import read_results, to_html, write_warning_list

ROOT = Path(__file__).resolve().parents[1]


def _results() -> pd.DataFrame:
    """Result columns as ``psyscreen score`` writes them, for six children."""
    rows = [
        # row, id, school, grade, class, status, level, code, contact, visit, retest, confirm
        (0, "S0", "一中", "初二", "1班", "level", 0, "normal", 30, 60, 365, "false"),
        (1, "S1", "一中", "初二", "2班", "level", 1, "attention", 14, 30, 90, "true"),
        (2, "S2", "二中", "高一", "1班", "level", 3, "crisis", 1, 7, None, "true"),
        (
            3,
            "S3",
            "一中",
            "初一",
            "1班",
            "insufficient_data",
            None,
            "insufficient_data",
            None,
            None,
            14,
            "true",
        ),
        (4, "S4", "一中", "初一", "3班", "level", 2, "high_attention", 7, 14, 30, "true"),
        (5, "S5", "二中", "高一", "2班", "level", 1, "attention", 14, 30, 90, "true"),
    ]
    cols = ["row", "id", "school", "grade", "class", "risk.status", "risk.level",
            "risk.level_code", "risk.contact_days", "risk.visit_days", "risk.retest_days",
            "risk.needs_confirmation"]  # fmt: skip
    df = pd.DataFrame(rows, columns=cols)
    df["row.status"] = "ok"
    df["assessment_date"] = ["2024-10-08", "2024-10-08", "2024/10/30", "", "2024-10-08", "bad"]
    df["risk.reasons_zh"] = ["", "一个筛查量表异常（phq9.total）", "危急条目阳性（phq9.self_harm）",
                             "数据不足", "两个及以上筛查量表异常", "一个筛查量表异常"]  # fmt: skip
    df["phq9.total.raw"] = [2, 12, 3, None, 16, 4]
    df["phq9.total.band"] = ["minimal", "moderate", "minimal", None, "moderately_severe", "minimal"]
    df["phq9.total.band_class"] = ["normal", "abnormal", "normal", None, "abnormal", "normal"]
    df["phq9.critical.self_harm"] = ["false", "false", "true", "false", "false", "false"]
    df["risk.actions_zh"] = "措施"
    return df


def test_listed_children_order_and_due_dates():
    wl = warning_list(_results())
    rows = wl.rows
    # the child at 正常 is not listed; every other child is, by urgency
    assert rows["id"].tolist() == ["S2", "S4", "S1", "S5", "S3"]
    assert rows["level"].tolist() == ["危机", "重点关注", "关注", "关注", "数据不足"]
    crisis = rows.iloc[0]
    assert (crisis["assessed"], crisis["contact_due"], crisis["visit_due"]) == (
        "2024-10-30",
        "2024-10-31",  # + 1 day
        "2024-11-06",  # + 7 days
    )
    assert crisis["retest_due"] == "方案未规定"  # the profile sets no re-test for 危机
    assert crisis["confirm_due"].startswith("需复核")  # no interval in the profile
    attention = rows.iloc[2]
    assert (attention["contact_due"], attention["visit_due"], attention["retest_due"]) == (
        "2024-10-22",
        "2024-11-07",
        "2025-01-06",
    )
    # an unreadable assessment date: the interval is given, never a made-up date
    assert rows.iloc[3]["contact_due"] == "14天内（缺测评日期）"
    assert rows.iloc[4]["retest_due"] == "14天内（缺测评日期）"


def test_reasons_name_scores_thresholds_and_critical_items():
    rows = warning_list(_results()).rows.set_index("id")
    assert "PHQ-9 抑郁严重程度 12分（中度，[10, 14]）" in rows.loc["S1", "reasons"]
    assert "中重度，[15, 19]" in rows.loc["S4", "reasons"]
    assert "第9题≥1" in rows.loc["S2", "reasons"]  # the critical item's own meaning
    en = warning_list(_results(), lang="en").rows.set_index("id")
    assert "PHQ-9 Depression severity 12 (Moderate, [10, 14])" in en.loc["S1", "reasons"]


def test_html_one_page_per_school_marked_confidential():
    html = to_html(warning_list(_results()))
    assert html.count("<section class='page'>") == 2  # 一中, 二中
    assert html.count("机密") >= 2 and "break-after:page" in html
    first = html.index("一中（")
    assert first < html.index("二中（")
    assert "<script" not in html and "http" not in html


def test_xlsx_is_text_only_and_confidential(tmp_path):
    from openpyxl import load_workbook

    df = _results()
    df.loc[1, "id"] = "=HYPERLINK(1)"
    path = write_warning_list(warning_list(df, pseudonymised=True), tmp_path / "wl.xlsx")
    ws = load_workbook(path).active
    assert "机密" in ws["A1"].value
    assert ws["B2"].value == "编号（化名）"  # pseudonymised ids say so
    ids = [ws.cell(row=r, column=2) for r in range(3, ws.max_row + 1)]
    cell = next(c for c in ids if c.value == "=HYPERLINK(1)")
    assert cell.data_type == "s"  # written as text, never as a formula
    assert ws.max_row == 2 + 5


def test_cli_writes_it_only_when_asked_and_prints_its_path(tmp_path, capsys):
    csv, mapping = ROOT / "examples/annual_export.csv", ROOT / "examples/mapping.yaml"
    out = tmp_path / "a"
    assert (
        main(["score", str(csv), "--map", str(mapping), "-o", str(out / "r.csv"), "--quiet"]) == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "r.csv",
        "r.manifest.json",
        "r.problems.csv",
        "r.report.html",
    ]
    capsys.readouterr()
    wl_html, wl_xlsx = tmp_path / "b" / "名单.html", tmp_path / "b" / "名单.xlsx"
    args = ["score", str(csv), "--map", str(mapping), "-o", str(tmp_path / "b" / "r.csv")]
    code = main([*args, "--quiet", "--warning-list", str(wl_html), "--warning-list", str(wl_xlsx)])
    assert code == 0 and wl_html.exists() and wl_xlsx.exists()
    err = capsys.readouterr().err
    assert str(wl_html) in err and str(wl_xlsx) in err and "机密" in err
    assert main([*args, "--warning-list", str(tmp_path / "x.csv")]) == 2
    report = tmp_path / "b" / "r.report.html"
    assert main([*args, "--warning-list", str(report)]) == 2  # never over another output
    assert "机密" not in report.read_text("utf-8")


def test_every_child_above_normal_is_listed_once(tmp_path):
    res = run(
        ROOT / "examples/annual_export.csv",
        tmp_path / "r.csv",
        mapping=ROOT / "examples/mapping.yaml",
        report=False,
        progress=False,
    )
    rows = warning_list(read_results(res.results)).rows
    by = res.manifest["rows"]["by_outcome"]
    assert len(rows) == sum(n for k, n in by.items() if k != "normal")
    assert rows["row"].is_unique
    levels = rows["level_code"].tolist()
    rank = {"crisis": 0, "high_attention": 1, "attention": 2}
    first_status = next(i for i, c in enumerate(levels) if c not in rank)
    assert all(c not in rank for c in levels[first_status:])  # levels first, statuses after
    assert [rank[c] for c in levels[:first_status]] == sorted(
        rank[c] for c in levels[:first_status]
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_headers_in_the_language_asked(lang):
    html = to_html(warning_list(_results(), lang=lang))
    zh, en = lang == "zh", lang == "en"
    assert ("工作记录" in html) == zh and ("Worker&#x27;s notes" in html) == en
    assert ("机密" in html) == zh and ("CONFIDENTIAL" in html) == en


def test_cli_warning_list_uses_the_profile_the_run_scored_with(tmp_path: Path) -> None:
    # without --profile the run scores with 'default': its warning list must name that
    # profile's levels and actions, exactly as with an explicit --profile default
    lists = []
    for name, extra in (("implicit", []), ("explicit", ["--profile", "default"])):
        out = tmp_path / name
        argv = ["score", str(ROOT / "examples/annual_export.csv"), "--map",
                str(ROOT / "examples/mapping.yaml"), "-o", str(out / "r.csv"), "--no-report",
                "--quiet", "--warning-list", str(out / "w.html"), *extra]  # fmt: skip
        assert main(argv) in (0, 1)
        lists.append((out / "w.html").read_bytes())
    assert lists[0] == lists[1]
