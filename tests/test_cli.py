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
