"""map init: proposed mappings score like hand-written ones, on several export layouts."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psyscreen.batch import run
from psyscreen.batch.mapinit import (
    ACTIVE_SCORE,
    header_parts,
    item_phrases,
    match_items,
    propose_mapping,
    role_of,
)
from psyscreen.registry import load_instrument

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))
from make_wjx_example import ZH_ANSWERS, make_wjx  # noqa: E402

INSTRUMENTS = ["phq9", "gad7"]


def _write(df: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".xlsx":
        df.to_excel(path, index=False)
    else:
        df.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _score(export: Path, mapping: Path, out: Path) -> pd.DataFrame:
    res = run(export, out, mapping=mapping, instruments=INSTRUMENTS, report=False)
    assert res.manifest["rows"]["in"] == res.manifest["rows"]["out"]
    return pd.read_csv(out, dtype=str, keep_default_na=False)


def _proposed(export: Path, tmp: Path) -> Path:
    prop = propose_mapping(export, instruments=INSTRUMENTS)
    path = tmp / f"{export.stem}.proposed.yaml"
    path.write_text(prop.text, encoding="utf-8")
    prop.spec()  # a valid mapping
    return path


@pytest.mark.parametrize(
    ("layout", "suffix"),
    [("text", ".csv"), ("numbers", ".csv"), ("english", ".csv"), ("text", ".xlsx")],
)
def test_proposed_mapping_scores_like_the_hand_written_one(tmp_path, layout, suffix):
    df, hand = make_wjx(120, layout, seed=7)
    export = _write(df, tmp_path / f"export_{layout}{suffix}")
    hand_path = tmp_path / "hand.yaml"
    hand_path.write_text(yaml.safe_dump(hand, allow_unicode=True), encoding="utf-8")
    want = _score(export, hand_path, tmp_path / "hand.csv")
    got = _score(export, _proposed(export, tmp_path), tmp_path / "proposed.csv")
    pd.testing.assert_frame_equal(got, want)
    # the scores are there (not an all-missing result that would also compare equal)
    assert (want["phq9.total.status"] == "complete").mean() > 0.9
    assert want["row.problems"].eq("").all()


def test_option_numbers_get_an_explicit_table_and_texts_use_the_labels(tmp_path):
    df, _ = make_wjx(60, "numbers")
    text = propose_mapping(_write(df, tmp_path / "n.csv"), instruments=INSTRUMENTS, lang="en").text
    data = yaml.safe_load(text)
    assert data["answers"][0]["codes"] == {"1": 0, "2": 1, "3": 2, "4": 3}
    assert "1-based option numbers" in text
    df, _ = make_wjx(60, "text")
    text = propose_mapping(_write(df, tmp_path / "t.csv"), instruments=INSTRUMENTS, lang="en").text
    data = yaml.safe_load(text)
    assert "answers" not in data  # the instruments' own labels apply
    assert "own response labels" in text
    assert data["missing_answers"] == ["(跳过)"]


def test_roles_name_and_platform_columns(tmp_path):
    df, _ = make_wjx(30, "text")
    prop = propose_mapping(_write(df, tmp_path / "t.csv"), instruments=INSTRUMENTS, lang="en")
    data = yaml.safe_load(prop.text)
    assert data["columns"] == {
        "id": "2、学号",
        "sex": "3、性别",
        "birth_date": "4、出生日期",
        "grade": "5、年级",
        "class": "6、班级",
        "assessment_date": "7、测评日期",
    }
    assert "1、姓名" not in str(data)  # the name column is only named in a comment
    assert '"1、姓名": recognised as a name column and deliberately not read' in prop.text
    assert '#  assessment_date: "提交答卷时间"' in prop.text  # the alternative, commented out
    # the free-text question is neither mapped nor read
    assert prop.unmatched == ["10、你还有什么想对老师说的吗？"]
    assert "希望多一些体育课" not in prop.text
    for name in df["1、姓名"]:  # synthetic names: never in the proposal
        assert name not in prop.text


def test_an_unclear_header_is_written_commented_out_with_its_alternatives(tmp_path):
    phq = load_instrument("phq9")
    headers = ["PHQ9_1", "情绪"]  # "情绪" is no item text: at best a weak, unsure match
    matches, _ = match_items(headers, [phq])
    by_header = {m.header: m for m in matches}
    assert by_header["PHQ9_1"].active and by_header["PHQ9_1"].target == "phq9_1"
    weak = by_header.get("情绪")
    assert weak is None or (not weak.active and weak.score < ACTIVE_SCORE)


def test_two_headers_for_one_item_are_ambiguous():
    phq = load_instrument("phq9")
    matches, _ = match_items(["感到心情低落", "心情低落、沮丧"], [phq])
    assert matches and not any(m.active for m in matches if m.target == "phq9_2")
    assert any(kind == "header" for m in matches for kind, _ in m.alternatives)


def test_position_in_a_block_after_an_intro_column():
    gad = load_instrument("gad7")
    headers = ["GAD-7 广泛性焦虑量表", *[f"第{k}题" for k in range(1, 8)]]
    matches, _ = match_items(headers, [gad])
    got = {m.header: (m.target, m.active) for m in matches}
    assert got["第1题"] == ("gad7_1", True) and got["第7题"] == ("gad7_7", True)
    assert all("position" in m.how[0] for m in matches if m.header.startswith("第"))


def test_header_parts_and_roles():
    assert header_parts("Q3. Trouble relaxing") == ("3", None, "trouble relaxing")
    assert header_parts("第12题：學號") == ("12", None, "学号")
    assert role_of("第12题：學號") == ("id", 1.0)
    assert role_of("Date of birth") == ("birth_date", 1.0)
    assert role_of("做事时提不起劲") is None


def test_item_text_and_aliases_only_where_the_licence_allows():
    sdq = load_instrument("sdq_s")
    assert not sdq.licence.item_text_allowed
    for iid, phrases in item_phrases(sdq).items():
        item = sdq.item(iid)
        labels = {t.casefold() for t in (item.label.en, item.label.zh) if t}
        assert set(phrases) <= labels
    phq = load_instrument("phq9")
    assert "little interest or pleasure in doing things" in item_phrases(phq)["phq9_1"]


def test_committed_example_mapping_is_what_map_init_proposes():
    export = ROOT / "examples" / "wjx_export.csv"
    fresh = propose_mapping(export, instruments=INSTRUMENTS).text
    committed = (ROOT / "examples" / "wjx_mapping.yaml").read_text(encoding="utf-8")
    assert committed == fresh, "regenerate: psyscreen map init ... -o examples/wjx_mapping.yaml"


def test_committed_example_export_is_what_the_script_makes(tmp_path):
    df, _ = make_wjx(300)
    out = tmp_path / "w.csv"
    df.to_csv(out, index=False, encoding="utf-8-sig", lineterminator="\n")
    assert out.read_bytes() == (ROOT / "examples" / "wjx_export.csv").read_bytes()


def test_example_end_to_end_against_scores_counted_by_hand(tmp_path):
    export = ROOT / "examples" / "wjx_export.csv"
    res = _score(export, ROOT / "examples" / "wjx_mapping.yaml", tmp_path / "r.csv")
    raw = pd.read_csv(export, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    phq_cols = [c for c in raw.columns if c.startswith("8、")]
    # PHQ-9 total by hand: answer text -> its position among the four anchors (Kroenke 2001)
    order = {t: k for k, t in enumerate(ZH_ANSWERS)}
    order.update({"一半以上的天數": 2})
    for r in range(40):
        cells = [raw.loc[r, c].strip() for c in phq_cols]
        if "(跳过)" in cells:
            assert res.loc[r, "phq9.total.raw"] == ""
            continue
        assert int(res.loc[r, "phq9.total.raw"]) == sum(order[c] for c in cells)
    assert "risk.level" not in res.columns  # scores only: no risk level


_RENAMES = st.fixed_dictionaries(
    {
        "number": st.sampled_from(["8、", "Q8. ", "第8题 ", ""]),
        "intro": st.sampled_from(["在过去两周里，以下问题困扰你的频率—", "最近两周—", ""]),
        "traditional": st.booleans(),
        "fullwidth": st.booleans(),
    }
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rename=_RENAMES, order=st.randoms(use_true_random=False))
def test_renaming_or_reordering_columns_never_changes_the_scores(tmp_path_factory, rename, order):
    from opencc import OpenCC

    tmp = tmp_path_factory.mktemp("prop")
    df, hand = make_wjx(40, "text", seed=3)
    base = _write(df, tmp / "base.csv")
    base_map = tmp / "base.yaml"
    base_map.write_text(yaml.safe_dump(hand, allow_unicode=True), encoding="utf-8")
    want = _score(base, base_map, tmp / "base_out.csv")
    s2t = OpenCC("s2t")

    def new_name(h: str) -> str:
        if not (h.startswith("8、") or h.startswith("9、")):
            return h
        q = h.split("、")[0]
        text = h.split("—")[-1]
        if rename["traditional"]:
            text = s2t.convert(text)
        if rename["fullwidth"]:
            q = q.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
        prefix = rename["number"].replace("8", q) if rename["number"] else ""
        return f"{prefix}{rename['intro']}{text}"

    renamed = df.rename(columns=new_name)
    cols = list(renamed.columns)
    order.shuffle(cols)
    export = _write(renamed[cols], tmp / "renamed.csv")
    got = _score(export, _proposed(export, tmp), tmp / "renamed_out.csv")
    pd.testing.assert_frame_equal(got, want)


def test_free_text_in_a_matched_column_is_never_written(tmp_path):
    df, hand = make_wjx(60, "text")
    df[hand["items"]["phq9_1"]] = [f"合成文本{k}" for k in range(60)]
    text = propose_mapping(_write(df, tmp_path / "f.csv"), instruments=INSTRUMENTS, lang="en").text
    assert "looks like free text" in text and "合成文本" not in text


def test_the_annual_example_headers_and_unsure_answer_texts(tmp_path):
    """PHQ9_1-style headers map by id; GAD-7 texts that are not its labels stay unconfirmed."""
    prop = propose_mapping(ROOT / "examples" / "annual_export.csv", profile="default", lang="en")
    hand = yaml.safe_load((ROOT / "examples" / "mapping.yaml").read_text(encoding="utf-8"))
    spec = prop.spec()
    assert spec.items == hand["items"]
    assert spec.role_headers() == {**hand["columns"], "class": "班级"}  # kept by hand, a role now
    assert prop.found == ["phq9", "gad7", "sdq_s", "asq"]
    gad = [t for t in spec.answers if t.instruments == ["gad7"]]
    assert gad and gad[0].codes == {"几乎每天": 3.0}  # the one exact label
    for text in ("从不", "有几天", "超过一半天数"):  # not labels: listed, commented out
        assert f'#  "{text}": ?  # not mapped' in prop.text
    assert "closest labels: 一半以上的天数=2" in prop.text


@pytest.mark.parametrize(
    "style",
    [
        "Q8_{k} {t}",
        "8.{k} {t}",
        "8({t})",
        "第8题-{t}",
        "{t}（单选题）",
        "在过去两周，你有多少时候受到以下问题困扰？{t}",
        "过去两周内：{t}。",
        "8、在过去两周里\n{t}",
    ],
)
def test_header_styles_of_other_platforms(style):
    from make_wjx_example import ZH_ITEMS

    insts = [load_instrument(i) for i in INSTRUMENTS]
    ids = [i for inst in insts for i in inst.item_ids]
    headers = [style.format(k=k + 1, t=t) for i in INSTRUMENTS for k, t in enumerate(ZH_ITEMS[i])]
    matches, _ = match_items(headers, insts)
    assert {(m.header, m.target) for m in matches if m.active} == set(zip(headers, ids))


def test_comments_are_chinese_by_default_and_english_on_request(tmp_path):
    df, _ = make_wjx(30, "numbers")
    export = _write(df, tmp_path / "n.csv")
    zh = propose_mapping(export, instruments=INSTRUMENTS).text
    en = propose_mapping(export, instruments=INSTRUMENTS, lang="en").text
    assert "识别为姓名列，有意不读取" in zh and "从 1 开始的选项序号" in zh
    assert "recognised as a name column" in en and "recognised as a name column" not in zh
    assert yaml.safe_load(zh) == yaml.safe_load(en)  # the same mapping either way
