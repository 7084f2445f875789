"""map check names what a mapping misses; answer labels as a fallback; scores-only runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from psyscreen.batch import BatchError, run
from psyscreen.batch.mapcheck import check_mapping
from psyscreen.cli import main

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))
from make_wjx_example import make_wjx  # noqa: E402

INSTRUMENTS = ["phq9", "gad7"]


def _export(tmp: Path, df: pd.DataFrame, name: str = "e.csv") -> Path:
    path = tmp / name
    df.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _mapping(tmp: Path, data: dict, name: str = "m.yaml") -> Path:
    path = tmp / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_check_names_each_injected_unmapped_text_and_missing_header(tmp_path):
    df, hand = make_wjx(200, "text", seed=11)
    h1, h5 = hand["items"]["phq9_1"], hand["items"]["gad7_5"]
    df.loc[[3, 8, 9], h1] = "一半以上天数"  # a typo of 一半以上的天数
    df.loc[[4], h5] = "不知道"
    df.loc[[5, 6], h5] = "   "  # blanks are missing answers, not unmapped texts
    hand["items"]["gad7_2"] = hand["items"]["gad7_2"].replace("控制", "空制")  # mistyped header
    hand["columns"]["grade"] = "年纪"
    rep = check_mapping(_export(tmp_path, df), _mapping(tmp_path, hand), instruments=INSTRUMENTS)
    assert not rep.ok and rep.rows == 200
    lines = [f.line("en") for f in rep.findings]
    assert f"answer text not mapped: phq9_1 ({h1!r}): '一半以上天数' × 3" in lines
    assert f"answer text not mapped: gad7_5 ({h5!r}): '不知道' × 1" in lines
    missing = {f.subject: f for f in rep.findings if f.kind == "missing_header"}
    assert set(missing) == {"gad7_2", "grade"}
    assert missing["grade"].suggestions == ["'5、年级'"]
    real = next(c for c in df.columns if c.endswith("不能够停止或控制担忧"))
    assert missing["gad7_2"].suggestions[0] == repr(real)
    # the Chinese report names them too; no cell of another column is printed
    text = rep.text("zh")
    assert "未映射的答案文本" in text and "是否应为 '5、年级'" in text
    for name in df["1、姓名"]:
        assert name not in text


def test_check_finds_one_based_and_reversed_columns(tmp_path):
    df, hand = make_wjx(300, "text", seed=5)
    # a 1-based numeric column, and a column whose answers were mapped upside down
    df[hand["items"]["phq9_3"]] = df[hand["items"]["phq9_3"]].map(
        {"完全不会": "1", "好几天": "2", "一半以上的天数": "3", "几乎每天": "4"}
    )
    hand["answers"].append(
        {
            "items": ["gad7_4"],
            "codes": {"完全不会": 3, "好几天": 2, "一半以上的天数": 1, "几乎每天": 0},
        }
    )
    rep = check_mapping(_export(tmp_path, df), _mapping(tmp_path, hand), instruments=INSTRUMENTS)
    kinds = {(f.kind, f.subject.split()[0]) for f in rep.findings}
    assert ("one_based", "phq9_3") in kinds
    assert ("reversed", "gad7_4") in kinds
    reversed_details = [f.detail[0] for f in rep.findings if f.kind == "reversed"]
    assert any("correlation" in d for d in reversed_details)
    assert any("against the instrument's labels" in d for d in reversed_details)
    assert not any(k == "reversed" and s != "gad7_4" for k, s in kinds)


def test_check_without_answers_says_the_labels_apply(tmp_path):
    df, hand = make_wjx(80, "text")
    del hand["answers"]
    rep = check_mapping(_export(tmp_path, df), _mapping(tmp_path, hand), instruments=INSTRUMENTS)
    assert rep.ok
    assert [(f.kind, f.subject) for f in rep.findings] == [
        ("labels_used", "phq9"),
        ("labels_used", "gad7"),
    ]


def test_check_names_the_instruments_a_profile_needs(tmp_path):
    df, hand = make_wjx(20, "text")
    rep = check_mapping(_export(tmp_path, df), _mapping(tmp_path, hand), profile="default")
    lacking = [f.subject for f in rep.findings if f.kind == "missing_instrument"]
    assert lacking == ["sdq_s", "asq"]
    assert "--instruments" in rep.text("en") and "--profile" in rep.text("en")


def test_labels_map_answers_when_the_mapping_has_no_table(tmp_path):
    """Traditional characters, full-width blanks and stray spaces read as the labels."""
    df, hand = make_wjx(150, "text", seed=2)
    export = _export(tmp_path, df)
    with_table = run(
        export,
        tmp_path / "a.csv",
        mapping=_mapping(tmp_path, hand),
        instruments=INSTRUMENTS,
        report=False,
    )
    del hand["answers"]
    without = run(
        export,
        tmp_path / "b.csv",
        mapping=_mapping(tmp_path, hand, "n.yaml"),
        instruments=INSTRUMENTS,
        report=False,
    )
    a = pd.read_csv(with_table.results, dtype=str)
    b = pd.read_csv(without.results, dtype=str)
    pd.testing.assert_frame_equal(a, b)
    assert without.manifest["rows"]["rows_with_problems"] == 0
    assert without.manifest["definitions"]["profile"] is None


def test_score_instruments_gives_scores_without_risk_levels(tmp_path):
    df, hand = make_wjx(30, "text")
    export, mapping = _export(tmp_path, df), _mapping(tmp_path, hand)
    out = tmp_path / "o.csv"
    code = main(
        [
            "score",
            str(export),
            "--map",
            str(mapping),
            "--instruments",
            "phq9,gad7",
            "-o",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    res = pd.read_csv(out, dtype=str)
    assert "phq9.total.band" in res and "gad7.total.raw" in res
    assert not [c for c in res.columns if c.startswith("risk.")]
    man = json.loads(out.with_name("o.manifest.json").read_text(encoding="utf-8"))
    assert [i["id"] for i in man["definitions"]["instruments"]] == INSTRUMENTS


def test_incomplete_battery_error_names_both_ways_forward(tmp_path, capsys):
    df, hand = make_wjx(10, "text")
    export, mapping = _export(tmp_path, df), _mapping(tmp_path, hand)
    with pytest.raises(BatchError) as e:
        run(export, tmp_path / "o.csv", mapping=mapping, profile="default", report=False)
    msg = str(e.value)
    assert "--profile" in msg and "--instruments phq9,gad7" in msg and "sdq_s" in msg
    code = main(["score", str(export), "--map", str(mapping), "-o", str(tmp_path / "o.csv")])
    assert code == 2 and "--instruments phq9,gad7" in capsys.readouterr().err


def test_a_mistyped_header_gets_did_you_mean(tmp_path):
    df, hand = make_wjx(10, "text")
    hand["columns"]["id"] = "2、学好"
    with pytest.raises(BatchError, match=r"did you mean '2、学号'"):
        run(
            _export(tmp_path, df),
            tmp_path / "o.csv",
            mapping=_mapping(tmp_path, hand),
            instruments=INSTRUMENTS,
            report=False,
        )


def test_free_text_in_an_item_column_is_never_printed(tmp_path):
    df, hand = make_wjx(60, "text")
    # a mistaken mapping: the free-text question as gad7_7
    free = "10、你还有什么想对老师说的吗？"
    df[free] = [f"合成文本{k}" for k in range(60)]
    hand["items"]["gad7_7"] = free
    rep = check_mapping(_export(tmp_path, df), _mapping(tmp_path, hand), instruments=INSTRUMENTS)
    text = rep.text("en")
    assert "looks like free text (not shown)" in text
    assert "合成文本" not in text


def test_answer_texts_that_read_alike_with_different_codes_are_refused():
    from psyscreen.batch.mapping import parse_mapping
    from psyscreen.yamlio import DefinitionError

    with pytest.raises(DefinitionError, match="read as the same text"):
        parse_mapping({"answers": [{"instruments": ["asq"], "codes": {"是": 1, "是 ": 0}}]})
    spec = parse_mapping({"answers": [{"instruments": ["asq"], "codes": {"是": 1, "是 ": 1}}]})
    assert spec.answer_table("asq_1", "asq")["是"] == "1"
