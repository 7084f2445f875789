"""The psyscreen command: list, show, validate, exit codes."""

from __future__ import annotations

import pytest

from psyscreen import list_instruments
from psyscreen.cli import EXIT_FAILURE, EXIT_OK, main


def test_list(capsys):
    assert main(["list"]) == EXIT_OK
    out = capsys.readouterr().out
    for iid in list_instruments():
        assert iid in out


def test_show(capsys):
    assert main(["show", "phq9"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "phq9_9" in out and "kroenke2001" in out and "[10, 14]" in out


def test_show_unknown_is_clean_failure(capsys):
    assert main(["show", "nope"]) == EXIT_FAILURE
    assert "unknown instrument" in capsys.readouterr().err


def test_validate_ok_and_bad(tmp_path, toy_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: 1\n", encoding="utf-8")
    assert main(["validate", str(toy_path)]) == EXIT_OK
    assert main(["validate", str(toy_path), str(bad)]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert "INVALID" in err and str(bad) in err


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert "psyscreen" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("norms/sdq_s_cn_du2008.yaml", "norm table"),
        ("profiles/default.yaml", "risk profile"),
        ("instruments/sdq_s.yaml", "instrument"),
    ],
)
def test_validate_other_kinds(path, kind, capsys):
    from pathlib import Path

    p = Path(__file__).resolve().parent.parent / path
    assert main(["validate", str(p)]) == EXIT_OK
    assert kind in capsys.readouterr().out


def test_validate_bad_norm_table_names_place(tmp_path, capsys):
    from pathlib import Path

    import yaml

    src = Path(__file__).resolve().parent.parent / "norms" / "sdq_s_cn_du2008.yaml"
    data = yaml.safe_load(src.read_text("utf-8"))
    data["rows"][0]["bands"][0]["le"] = 99  # overlaps the next band
    bad = tmp_path / "norm.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert main(["validate", str(bad)]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert str(bad) in err and "rows[0]" in err


def test_missing_optional_package_is_a_clean_failure(monkeypatch, capsys):
    import psyscreen.cli as cli

    def needs_pyarrow(args):
        raise ModuleNotFoundError("No module named 'pyarrow'", name="pyarrow")

    monkeypatch.setitem(cli.COMMANDS, "list", ("list", cli._no_args, needs_pyarrow))
    assert main(["list"]) == EXIT_FAILURE
    assert 'pip install "psyscreen[io]"' in capsys.readouterr().err


def test_score_uses_arrow_jemalloc_pool_unless_one_is_chosen(monkeypatch):
    import pyarrow as pa

    from psyscreen.batch_cli import compact_arrow_memory

    before = pa.default_memory_pool()
    try:
        monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
        assert compact_arrow_memory() == before.backend_name  # the user's choice stands
        assert pa.default_memory_pool().backend_name == before.backend_name
        monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL")
        try:
            pa.jemalloc_memory_pool()
        except NotImplementedError:
            assert compact_arrow_memory() == before.backend_name
        else:
            assert compact_arrow_memory() == "jemalloc"
            assert pa.default_memory_pool().backend_name == "jemalloc"
    finally:
        pa.set_memory_pool(before)
