"""Answer codes numbered from 1 (问卷星 "按选项序号"): refused before grading unless the
mapping declares ``codes_start``; declared, they score exactly as the 0-based export."""

from __future__ import annotations

import pandas as pd
import pyarrow.csv as pacsv
import pytest

import psyscreen
from psyscreen.batch import BatchError, run
from psyscreen.batch.mapping import parse_mapping, shift_codes
from psyscreen.cli import EXIT_FAILURE, main
from psyscreen.yamlio import parse_yaml

N = 300
BATTERY = psyscreen.load_profile("default").instruments


@pytest.fixture(scope="module")
def exports(tmp_path_factory, example):
    """The same 300 children exported twice: answer texts, and option numbers (1-based)."""
    d = tmp_path_factory.mktemp("coding")
    texts = example.make_export(N, BATTERY, seed=11, slips=False)
    numbers = texts.copy()
    for iid in BATTERY:
        inst = psyscreen.load_instrument(iid)
        by_scale = example.answer_texts(inst)
        for item in inst.items:
            col = example.header(inst, item)
            options = by_scale[item.response_scale]
            # the platform's option number: 1 for the first option, whatever its code
            numbers[col] = [str(options.index(v) + 1) if v in options else v for v in texts[col]]
    paths = {}
    for name, df in (("texts", texts), ("numbers", numbers)):
        paths[name] = d / f"{name}.csv"
        df.to_csv(paths[name], index=False, encoding="utf-8-sig")
    mapping = example.mapping_yaml(BATTERY)
    paths["mapping"] = d / "mapping.yaml"
    paths["mapping"].write_text(mapping, encoding="utf-8")
    paths["declared"] = d / "declared.yaml"
    paths["declared"].write_text(mapping + "codes_start: 1\n", encoding="utf-8")
    return paths, texts, numbers


def _read(path):
    return pacsv.read_csv(path).to_pandas()


def test_today_a_shifted_export_would_grade_most_children_crisis(exports, tmp_path):
    """The harm the check prevents: declared as 0-based, the option numbers flag most rows."""
    paths, _, _ = exports
    body = paths["mapping"].read_text("utf-8")
    zero = tmp_path / "zero.yaml"  # declaring the scale's own start turns the check off
    zero.write_text(body + "codes_start: 0\n", encoding="utf-8")
    res = run(paths["numbers"], tmp_path / "r.csv", mapping=zero, report=False)
    out = _read(res.results)
    assert (out["risk.level_zh"] == "危机").sum() > N / 2
    assert res.manifest["rows"]["rows_with_problems"] > 0  # the 4s are out of range


def test_option_numbers_are_refused_before_grading(exports, tmp_path, capsys):
    paths, _, _ = exports
    out = tmp_path / "r.csv"
    code = main(["score", str(paths["numbers"]), "--map", str(paths["mapping"]), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == EXIT_FAILURE
    assert "phq9" in err and "codes_start: {phq9: 1}" in err and "按选项序号" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing graded came out


@pytest.mark.parametrize("chunk_rows", [7, 50_000])
def test_refusal_does_not_depend_on_the_chunk_size(exports, tmp_path, chunk_rows):
    paths, _, _ = exports
    with pytest.raises(BatchError, match=r"phq9: the answers look numbered from 1"):
        run(paths["numbers"], tmp_path / "r.csv", mapping=paths["mapping"], chunk_rows=chunk_rows)
    assert list(tmp_path.iterdir()) == []


def test_declared_coding_scores_as_the_text_export(exports, tmp_path):
    paths, _, _ = exports
    a = run(paths["texts"], tmp_path / "a.csv", mapping=paths["mapping"], report=False)
    b = run(paths["numbers"], tmp_path / "b.csv", mapping=paths["declared"], report=False)
    pd.testing.assert_frame_equal(_read(a.results), _read(b.results))
    assert a.manifest["rows"]["by_outcome"] == b.manifest["rows"]["by_outcome"]


def test_per_instrument_declaration_is_needed_for_each_shifted_instrument(exports, tmp_path):
    paths, _, _ = exports
    only_phq9 = tmp_path / "m.yaml"
    only_phq9.write_text(
        paths["mapping"].read_text("utf-8") + "codes_start: {phq9: 1}\n", encoding="utf-8"
    )
    with pytest.raises(BatchError) as e:
        run(paths["numbers"], tmp_path / "r.csv", mapping=only_phq9, report=False)
    assert "phq9:" not in str(e.value) and "codes_start: {" in str(e.value)


def test_an_answer_table_mapping_1_to_0_is_not_a_mismatch(exports, tmp_path):
    paths, _, _ = exports
    tables = ""
    for iid in BATTERY:
        inst = psyscreen.load_instrument(iid)
        for item in inst.items:
            rs = inst.response_scales[item.response_scale]
            codes = ", ".join(f'"{k + 1}": {rs.min + k}' for k in range(rs.max - rs.min + 1))
            tables += f"  - items: [{item.id}]\n    codes: {{{codes}}}\n"
    body = paths["mapping"].read_text("utf-8").replace("answers:\n", "answers:\n" + tables, 1)
    m = tmp_path / "m.yaml"
    m.write_text(body, encoding="utf-8")
    a = run(paths["texts"], tmp_path / "a.csv", mapping=paths["mapping"], report=False)
    b = run(paths["numbers"], tmp_path / "b.csv", mapping=m, report=False)
    pd.testing.assert_frame_equal(_read(a.results), _read(b.results))


def test_a_few_typos_in_a_zero_based_export_are_row_problems_not_a_refusal(exports, tmp_path):
    paths, texts, _ = exports
    df = texts.copy()
    col = next(c for c in df.columns if c.startswith("PHQ9_1"))
    df.loc[[3, 40, 200], col] = "4"  # one past the maximum, but 0s are everywhere
    p = tmp_path / "e.csv"
    df.to_csv(p, index=False, encoding="utf-8-sig")
    res = run(p, tmp_path / "r.csv", mapping=paths["mapping"], report=False)
    probs = _read(res.problems)
    hits = probs[(probs["field"] == "phq9_1") & (probs["problem"] == "out_of_range")]
    assert hits["row"].tolist() == [3, 40, 200]


def test_codes_start_naming_an_instrument_not_in_the_run_is_refused(exports, tmp_path):
    paths, _, _ = exports
    m = tmp_path / "m.yaml"
    m.write_text(paths["mapping"].read_text("utf-8") + "codes_start: {phq8: 1}\n", "utf-8")
    with pytest.raises(BatchError, match="codes_start names phq8"):
        run(paths["texts"], tmp_path / "r.csv", mapping=m)


def test_shift_codes_keeps_special_codes_and_flags_the_other_numbering():
    # ASQ-like yes/no 0-1 with 9 = refused: exported 1-2, 9 keeps its meaning
    t = shift_codes({}, 0, 1, 1, special={"9"})
    assert t == {"0": "-1", "1": "0", "2": "1"}
    # a 1-based scale exported 0-based
    assert shift_codes({}, 1, 4, 0) == {"0": "1", "1": "2", "2": "3", "3": "4", "4": "5"}


def test_codes_start_in_the_mapping_model_and_schema():
    spec = parse_mapping(parse_yaml("codes_start: {phq9: 1}\n"))
    assert spec.code_start("phq9") == 1 and spec.code_start("gad7") is None
    assert parse_mapping(parse_yaml("codes_start: 1\n")).code_start("gad7") == 1
    with pytest.raises(ValueError, match="codes_start"):
        parse_mapping(parse_yaml("codes_start: {phq9: one}\n"))
