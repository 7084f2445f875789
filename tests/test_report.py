"""The aggregate report: Chinese first, natural order, privacy of group labels, class view.

Runs on a copy of the bundled synthetic example in which a few cells of the
group columns hold children's names, as in an export whose columns shifted.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from psyscreen.batch import run
from psyscreen.report.i18n import catalogue

ROOT = Path(__file__).resolve().parents[1]
#: planted in the group columns of a few rows; no output may show them
NAMES = ("王小明", "李娜娜", "张伟伟")


@pytest.fixture(scope="module")
def shifted(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("shifted")
    df = pd.read_csv(ROOT / "examples/annual_export.csv", dtype=str, encoding="gb18030")
    df.loc[5, "年级"] = NAMES[0]  # a name where the grade should be
    df.loc[6, "学校"] = NAMES[1]  # and where the school should be
    df.loc[7, "班级"] = NAMES[2]  # and the class
    csv = d / "export.csv"
    df.to_csv(csv, index=False, encoding="utf-8-sig")
    return csv, ROOT / "examples/mapping.yaml"


@pytest.fixture(scope="module")
def reports(shifted, tmp_path_factory) -> dict[str, str]:
    csv, mapping = shifted
    out = {}
    for lang in ("zh", "en"):
        d = tmp_path_factory.mktemp(lang)
        res = run(csv, d / "results.csv", mapping=mapping, progress=False, report_lang=lang)
        out[lang] = res.report.read_text("utf-8")
    return out


def _table(html: str, title: str) -> str:
    start = html.index(f"<h3>{title}</h3>")
    return html[start : html.index("</table>", start)]


def _first_cells(table: str) -> list[str]:
    return re.findall(r"<tr><t[dh] class=.l.>([^<]*)</t[dh]>", table)[1:]  # not the header


def test_no_cell_text_of_a_child_in_the_report(reports):
    for html in reports.values():
        for name in NAMES:
            assert name not in html
    # the rows with a name are counted under 其他, not dropped
    assert _first_cells(_table(reports["zh"], "按年级"))[-2].startswith("其他")
    assert _first_cells(_table(reports["zh"], "按学校"))[-2].startswith("其他")


def test_chinese_by_default_with_the_definitions_own_names(reports):
    html = reports["zh"]
    assert "<html lang='zh-CN'>" in html
    for text in (
        "心理健康筛查汇总报告",
        "按学校",
        "按性别",
        "无或极轻",
        "中重度",
        "重点关注及以上",
    ):
        assert text in html
    assert _first_cells(_table(html, "按性别"))[:2] == ["女", "男"]
    for english in ("female", "moderately_severe", "By school", "children", ">total<"):
        assert english not in html


def test_english_on_request(reports):
    html = reports["en"]
    for text in ("By school", "Female", "Moderately severe", "High attention or above"):
        assert text in html
    assert "按学校" not in html


def test_grades_and_bands_in_natural_order_with_thousands_separators(reports):
    html = reports["zh"]
    grades = _first_cells(_table(html, "按年级"))
    # one child with a name for a grade: 其他 (1 child) takes in a grade, so that the
    # number of children at the top levels of 其他 cannot be worked out
    assert grades == ["初一", "初二", "高一", "高二", "高三", "其他（含初三）", "合计"]
    phq = html[html.index("PHQ-9 抑郁严重程度</h3>") :]
    order = [phq.index(b) for b in ("无或极轻", "轻度", "中度", "中重度", "重度")]
    assert order == sorted(order)
    sdq = html[html.index("SDQ 困难总分</h3>") :]
    assert sdq.index("正常") < sdq.index("临界") < sdq.index("异常")
    assert "<td>2,000</td>" in html or "<th>2,000</th>" in html  # 2000 children


def test_the_overall_row_is_named_once_and_the_top_levels_are_published(reports):
    html = reports["zh"]
    overall = _table(html, "全体儿童")
    assert _first_cells(overall) == ["全体儿童"]
    # 191 children at 危机 and 28 at 重点关注 in the example: both published, and merged
    assert "191 (9.6%)" in overall and "28 (1.4%)" in overall and "219 (10.9%)" in overall
    school = _table(html, "按学校")
    for row in school.split("<tr>")[2:]:
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)
        merged = cells[2 + 4]  # group, children, 正常, 关注, 重点关注, 危机 -> merged
        assert "class='ph'" not in merged  # every school has at least 5 at the top levels


def test_class_view_by_school_grade_and_class(reports):
    html = reports["zh"]
    assert "班级视图" in html
    table = _table(html, "合成示例中学01：按班级")
    labels = _first_cells(table)
    assert labels[0] == "初一 1班" and labels[-1] == "合成示例中学01"
    assert "'=1+1" not in html and "=1+1" not in html  # a formula planted in 班级


def test_self_contained_and_svg_charts(reports):
    html = reports["zh"]
    assert "<script" not in html and "<img" not in html and "http" not in html
    assert html.count("<svg") >= 1 + 3  # risk levels and a histogram per screening scale
    assert re.search(r"<text[^>]*>正常</text>", html)  # chart labels are real text


def test_every_message_id_used_is_in_the_catalogue():
    used = set()
    for path in (ROOT / "psyscreen/report").glob("*.py"):
        text = path.read_text("utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.0-9]+)["']""", text))
        used |= set(re.findall(r"""self\.t\(\s*["']([a-z_]+\.[a-z_.0-9]+)["']""", text))
    assert used, "no message ids found"
    missing = used - set(catalogue())
    assert not missing
    for texts in catalogue().values():
        assert texts["zh"] and texts["en"]
