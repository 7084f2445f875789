"""CLI discovery (show, profiles, show-profile, schema, --help) and the map sub-commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from psyscreen.cli import build_parser, main
from psyscreen.registry import load_instrument

ROOT = Path(__file__).resolve().parent.parent
EXPORT = ROOT / "examples" / "wjx_export.csv"


def test_show_lists_every_item_with_codes_scales_and_reverse_keys(capsys):
    assert main(["show", "sdq_s"]) == 0
    out = capsys.readouterr().out
    inst = load_instrument("sdq_s")
    for it in inst.items:
        assert f"| `{it.id}` | {it.number} | {it.label.en} / {it.label.zh} |" in out
    reversed_rows = [ln for ln in out.splitlines() if ln.startswith("| `") and ln.endswith("yes |")]
    assert sorted(r.split("`")[1] for r in reversed_rows) == sorted(inst.reverse_keyed)
    assert "0 = " in out  # response codes with their labels


def test_show_knows_profiles_and_names_both_lists_when_unknown(capsys):
    assert main(["show", "default"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## profile default") and "unknown instrument" not in out
    assert main(["show", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "instruments: asq" in err and "profiles: default" in err


def test_profiles_show_profile_and_schema(capsys):
    assert main(["profiles"]) == 0
    assert capsys.readouterr().out.startswith("default ")
    assert main(["show-profile", "default", "--lang", "zh"]) == 0
    assert "危机" in capsys.readouterr().out
    assert main(["schema", "mapping"]) == 0
    printed = json.loads(capsys.readouterr().out)
    shipped = json.loads(
        (ROOT / "psyscreen" / "schemas" / "mapping.schema.json").read_text(encoding="utf-8")
    )
    assert printed == shipped


@pytest.mark.parametrize("name", ["score", "map", "show", "profiles", "schema", "list"])
def test_every_subcommand_help_has_an_example(name, capsys):
    with pytest.raises(SystemExit):
        main([name, "--help"])
    out = capsys.readouterr().out
    assert "example" in out and "psyscreen " in out.split("example")[-1]


def test_help_shows_defaults():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    text = " ".join(sub.choices["score"].format_help().split())
    assert "rows per chunk (memory) (default: 50000)" in text
    text = " ".join(sub.choices["map"].format_help().split())
    assert "example" in text


def test_map_init_then_check_then_score(tmp_path, capsys):
    mapping = tmp_path / "mapping.yaml"
    args = ["map", "init", str(EXPORT), "--instruments", "phq9,gad7", "-o", str(mapping)]
    assert main(args) == 0
    assert "16" in capsys.readouterr().err
    assert main(args) == 2  # never overwrites without --force
    assert "--force" in capsys.readouterr().err
    assert main(["map", "init", str(EXPORT), "-o", str(EXPORT)]) == 2  # nor the export
    check = ["map", "check", str(EXPORT), "--map", str(mapping)]
    assert main([*check, "--instruments", "phq9,gad7"]) == 0
    assert "映射可以使用" in capsys.readouterr().out
    assert main([*check, "--lang", "en"]) == 1  # the default profile needs more instruments
    assert "instrument not in the export: sdq_s" in capsys.readouterr().out
    out = tmp_path / "r.csv"
    score = ["score", str(EXPORT), "--map", str(mapping), "--instruments", "phq9,gad7"]
    assert main([*score, "-o", str(out), "--quiet"]) == 0
    assert out.read_text(encoding="utf-8-sig").count("\n") == 301


def test_score_refuses_profile_and_instruments_together(tmp_path, capsys):
    args = ["score", str(EXPORT), "-o", str(tmp_path / "r.csv"), "--profile", "default"]
    assert main([*args, "--instruments", "phq9"]) == 2
    assert "not both" in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()


def test_score_with_unmapped_texts_points_to_map_check(tmp_path, capsys):
    import pandas as pd

    df = pd.read_csv(EXPORT, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.iloc[0, 11] = "一半以上天数"
    export = tmp_path / "e.csv"
    df.to_csv(export, index=False, encoding="utf-8-sig")
    mapping = ROOT / "examples" / "wjx_mapping.yaml"
    args = ["score", str(export), "--map", str(mapping), "--instruments", "phq9,gad7"]
    assert main([*args, "-o", str(tmp_path / "r.csv"), "--no-report"]) == 1
    err = capsys.readouterr().err
    assert f"psyscreen map check {export} --map {mapping} --instruments phq9,gad7" in err
    assert (
        main(["map", "check", str(export), "--map", str(mapping), "--instruments", "phq9,gad7"])
        == 1
    )
    assert "'一半以上天数' × 1" in capsys.readouterr().out
