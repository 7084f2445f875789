"""Batch runs: every row accounted for, problems without personal data, determinism,
input formats and encodings, outputs, privacy, fail-fast errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import psyscreen
from psyscreen.batch import BatchError, InputFileError, load_mapping, run
from psyscreen.batch.io import detect_encoding
from psyscreen.cli import EXIT_FAILURE, EXIT_OK, EXIT_ROW_PROBLEMS, main
from psyscreen.yamlio import DefinitionError

ROOT = Path(__file__).resolve().parents[1]
N = 120


BATTERY = psyscreen.load_profile("default").instruments


@pytest.fixture(scope="module")
def export(tmp_path_factory, example) -> tuple[pd.DataFrame, Path, Path]:
    """A small synthetic export (GB18030 CSV) and its mapping file."""
    d = tmp_path_factory.mktemp("export")
    df = example.make_export(N, BATTERY, seed=7)
    csv = d / "export.csv"
    df.to_csv(csv, index=False, encoding="gb18030")
    mapping = d / "mapping.yaml"
    mapping.write_text(example.mapping_yaml(BATTERY), encoding="utf-8")
    return df, csv, mapping


@pytest.fixture(scope="module")
def baseline(export, tmp_path_factory):
    _, csv, mapping = export
    out = tmp_path_factory.mktemp("base") / "results.csv"
    res = run(csv, out, mapping=mapping, chunk_rows=1000, progress=False)
    return res


def _read(path: Path) -> pd.DataFrame:
    return pacsv.read_csv(path).to_pandas()


def test_every_row_once_in_order_with_status(baseline):
    df = _read(baseline.results)
    assert df["row"].tolist() == list(range(N))
    assert df["row.status"].isin(["ok", "problems"]).all()
    assert df["risk.status"].notna().all()
    m = baseline.manifest["rows"]
    assert m["in"] == m["out"] == N
    assert sum(m["by_outcome"].values()) == N
    assert sum(m["by_row_status"].values()) == N


def test_problems_file_has_row_numbers_and_no_personal_data(export, baseline):
    src, _, _ = export
    probs = _read(baseline.problems)
    assert list(probs.columns) == ["row", "line", "column", "field", "problem", "detail"]
    assert len(probs) > 0 and probs["row"].between(0, N - 1).all()
    kinds = set(zip(probs["field"], probs["problem"]))
    assert ("id", "missing") in kinds and ("sex", "unknown_code") in kinds
    text = baseline.problems.read_text("utf-8-sig")
    for sid in src["学号"]:
        if sid:
            assert sid not in text
    assert "不知道" not in text  # a non-numeric answer is reported, never quoted
    # each row with problems says so, and lists them
    res = _read(baseline.results)
    flagged = set(res.loc[res["row.status"] == "problems", "row"])
    assert flagged == set(probs["row"])


def test_duplicate_ids_across_chunks_are_flagged(tmp_path, export):
    df, _, mapping = export
    df = df.copy()
    df.loc[N - 1, "学号"] = df.loc[0, "学号"] = "SYN-DUP"
    csv = tmp_path / "dup.csv"
    df.to_csv(csv, index=False, encoding="utf-8")
    res = run(csv, tmp_path / "r.csv", mapping=mapping, chunk_rows=50, report=False)
    probs = _read(res.problems)
    dup = probs[(probs["field"] == "id") & (probs["problem"] == "duplicate")]
    assert N - 1 in set(dup["row"])
    assert "same id as row 0" in set(dup["detail"])


def test_identical_outputs_whatever_the_chunk_size(export, baseline, tmp_path):
    _, csv, mapping = export
    res = run(csv, tmp_path / "results.csv", mapping=mapping, chunk_rows=50, progress=False)
    assert res.results.read_bytes() == baseline.results.read_bytes()
    assert res.problems.read_bytes() == baseline.problems.read_bytes()
    assert res.report.read_bytes() == baseline.report.read_bytes()
    a, b = baseline.manifest, res.manifest
    assert a["outputs"]["results"]["sha256"] == b["outputs"]["results"]["sha256"]
    assert a["input"]["sha256"] == b["input"]["sha256"]
    assert "started_at" in b and "finished_at" in b


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_encodings_detected(export, baseline, tmp_path, encoding):
    df, _, mapping = export
    csv = tmp_path / "e.csv"
    df.to_csv(csv, index=False, encoding=encoding)
    res = run(csv, tmp_path / "results.csv", mapping=mapping, report=False)
    assert res.manifest["input"]["encoding"] == encoding
    assert res.results.read_bytes() == baseline.results.read_bytes()


def test_detect_encoding_on_a_cut_multibyte_character():
    raw = "学号,性别\n1,男\n".encode()
    assert detect_encoding(raw[:-3]) == "utf-8"
    assert detect_encoding("性别".encode("gbk")) == "gb18030"


def _same_results(a: Path, b: Path, skip: tuple[str, ...] = ()) -> None:
    ta, tb = _read(a).drop(columns=list(skip)), _read(b).drop(columns=list(skip))
    pd.testing.assert_frame_equal(ta, tb)


def test_xlsx_and_parquet_inputs_give_the_same_results(export, baseline, tmp_path):
    df, _, mapping = export
    xlsx, parquet = tmp_path / "e.xlsx", tmp_path / "e.parquet"
    df.to_excel(xlsx, index=False)  # (pandas writes '=1+1' as a formula: not compared)
    df.to_parquet(parquet, index=False)
    for f, skip in ((xlsx, ("class",)), (parquet, ("line",))):  # Parquet has no lines
        res = run(f, tmp_path / f"{f.suffix[1:]}.csv", mapping=mapping, report=False)
        assert res.manifest["rows"]["out"] == N
        _same_results(res.results, baseline.results, skip)


def test_sav_value_labels_and_user_missing(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    n = 6
    items = {f"gad7_{i}": [1.0, 2.0, 3.0, 4.0, 9.0, 1.0] for i in range(1, 8)}
    df = pd.DataFrame({"sid": [f"S{k}" for k in range(n)], **items})
    labels = {1.0: "从不", 2.0: "有几天", 3.0: "超过一半天数", 4.0: "几乎每天", 9.0: "拒答"}
    sav = tmp_path / "e.sav"
    pyreadstat.write_sav(
        df,
        str(sav),
        variable_value_labels={c: labels for c in items},
        missing_ranges={c: [9.0] for c in items},
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {id: sid}\n"
        "answers:\n  - instruments: [gad7]\n"
        "    codes: {从不: 0, 有几天: 1, 超过一半天数: 2, 几乎每天: 3}\n",
        encoding="utf-8",
    )
    prof = tmp_path / "p.yaml"
    prof.write_text(_gad7_profile(), encoding="utf-8")
    res = run(sav, tmp_path / "r.csv", mapping=mapping, profile=prof, report=False)
    out = _read(res.results)
    assert out["gad7.total.raw"].tolist()[:4] == [0.0, 7.0, 14.0, 21.0]
    # code 9 is user-missing: missing, not an out-of-range answer
    assert out.loc[4, "gad7.total.n_answered"] == 0 and out.loc[4, "row.status"] == "ok"
    assert out.loc[4, "risk.status"] == "insufficient_data"


def _gad7_profile() -> str:
    """The default profile cut down to GAD-7 (the SAV test needs one short instrument)."""
    from psyscreen.yamlio import read_yaml

    data, _ = read_yaml(ROOT / "profiles/default.yaml")
    data["battery"] = [b for b in data["battery"] if b["instrument"] == "gad7"]
    data.pop("age", None)  # the SAV has no age column: grade without the 12-17 age gate
    keep = {"gad7"}

    def uses_only(node) -> bool:
        text = json.dumps(node)
        return all(i in keep for i in BATTERY if f'"{i}' in text) and not any(
            f'"{i}' in text or f"'{i}." in text or f'"{i}.' in text for i in set(BATTERY) - keep
        )

    data["rules"] = [r for r in data["rules"] if uses_only(r["when"])]
    return json.dumps(data, ensure_ascii=False)


def test_output_formats_and_formula_neutralisation(export, tmp_path):
    _, csv, mapping = export
    r_csv = run(csv, tmp_path / "r.csv", mapping=mapping, report=False)
    r_pq = run(csv, tmp_path / "r.parquet", mapping=mapping, report=False)
    r_xl = run(csv, tmp_path / "r.xlsx", mapping=mapping, report=False)
    assert r_csv.results.read_bytes()[:3] == b"\xef\xbb\xbf"  # BOM: Excel reads UTF-8
    c = _read(r_csv.results)
    p = pq.read_table(r_pq.results).to_pandas()
    x = pd.read_excel(r_xl.results)
    assert len(c) == len(p) == len(x) == N
    assert "'=1+1" in set(c["class"]) and "'=1+1" in set(x["class"])
    assert "=1+1" in set(p["class"])  # Parquet keeps the exact text
    assert not c["class"].astype(str).str.match(r"^[=+\-@]").any()
    np.testing.assert_allclose(p["phq9.total.raw"], c["phq9.total.raw"])


def test_pseudonymise_and_drop(export, tmp_path, monkeypatch):
    df, csv, mapping = export
    key = "k" * 32
    monkeypatch.setenv("PSYSCREEN_PSEUDONYM_KEY", key)
    res = run(
        csv, tmp_path / "r.csv", mapping=mapping, pseudonymise=["id"], drop=["school"], report=False
    )
    out = _read(res.results)
    assert "school" not in out.columns
    ids = out["id"].dropna()
    ids = ids[ids != ""]  # a blank id stays blank
    assert 0 < len(ids) < N
    assert ids.str.fullmatch(r"[0-9a-f]{32}").all()
    assert not set(df["学号"]) & set(ids)
    text = res.manifest_path.read_text("utf-8")
    assert key not in text and res.manifest["options"]["pseudonym_key_fingerprint"]
    monkeypatch.delenv("PSYSCREEN_PSEUDONYM_KEY")
    with pytest.raises(ValueError, match="key of at least 16 bytes"):
        run(csv, tmp_path / "r2.csv", mapping=mapping, pseudonymise=["id"], report=False)


def test_wrong_file_fails_fast_with_what_to_fix(export, tmp_path):
    df, _, mapping = export
    csv = tmp_path / "bad.csv"
    df.drop(columns=[df.columns[8]]).to_csv(csv, index=False)
    with pytest.raises(BatchError, match=r"phq9: 1 item column\(s\) not found: phq9_2"):
        run(csv, tmp_path / "r.csv", mapping=mapping)
    assert not (tmp_path / "r.csv").exists()
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(InputFileError, match="unsupported file type"):
        run(tmp_path / "x.json", tmp_path / "r.csv")
    with pytest.raises(KeyError, match="unknown"):
        run(csv, tmp_path / "r.csv", mapping=mapping, profile="no_such_profile")


def test_mapping_file_is_validated(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("columns: {id: 学号}\nitmes: {}\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="itmes"):
        load_mapping(bad)
    bad.write_text("required: [sex]\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="required role 'sex'"):
        load_mapping(bad)


def test_unreadable_lines_are_accounted_for(export, tmp_path):
    df, _, mapping = export
    csv = tmp_path / "ragged.csv"
    df.iloc[:10].to_csv(csv, index=False, encoding="utf-8")
    lines = csv.read_text("utf-8").splitlines()
    lines.insert(4, "only,three,fields")
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run(csv, tmp_path / "r.csv", mapping=mapping, report=False)
    m = res.manifest["rows"]
    assert m["in"] == m["out"] == 11 and m["unreadable"] == 1
    out = _read(res.results)
    assert (out["row.status"] == "unreadable").sum() == 1
    assert res.exit_code == 1


def test_report_is_self_contained_and_suppresses_small_cells(baseline):
    html = baseline.report.read_text("utf-8")
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "<svg" in html and "<img" not in html  # charts are inline SVG with real text
    assert "class='ph'" in html  # small counts are suppressed, drawn as placeholders
    assert "按学校" in html and "合成示例中学01" in html


def test_cli_exit_codes(export, tmp_path, capsys):
    df, csv, mapping = export
    assert (
        main(
            [
                "score",
                str(csv),
                "--map",
                str(mapping),
                "-o",
                str(tmp_path / "a.csv"),
                "--quiet",
                "--no-report",
            ]
        )
        == EXIT_ROW_PROBLEMS
    )
    clean = tmp_path / "clean.csv"
    df.iloc[:3].assign(性别="男", 学号=["a", "b", "c"]).to_csv(clean, index=False)
    # the first 3 rows may hold injected answer slips: keep only rows without them
    res = run(clean, tmp_path / "c0.csv", mapping=mapping, report=False)
    code = main(
        [
            "score",
            str(clean),
            "--map",
            str(mapping),
            "-o",
            str(tmp_path / "b.csv"),
            "--quiet",
            "--no-report",
        ]
    )
    assert code == (
        EXIT_OK if res.manifest["rows"]["rows_with_problems"] == 0 else EXIT_ROW_PROBLEMS
    )
    assert main(["score", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "c.csv")]) == (
        EXIT_FAILURE
    )
    assert "no such file" in capsys.readouterr().err


def test_examples_are_generated_by_the_script(tmp_path, example):
    example.main(["--out", str(tmp_path / "e.csv"), "--mapping", str(tmp_path / "m.yaml")])
    assert (tmp_path / "e.csv").read_bytes() == (ROOT / "examples/annual_export.csv").read_bytes()
    assert (tmp_path / "m.yaml").read_text("utf-8") == (ROOT / "examples/mapping.yaml").read_text(
        "utf-8"
    )


def test_run_batch_is_exported():
    assert psyscreen.run_batch is run
