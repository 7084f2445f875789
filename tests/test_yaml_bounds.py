"""Bounded YAML: alias bombs, recursive aliases, deep nesting and huge files are refused
fast and without large memory; ordinary aliases still work; no code execution."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from psyscreen import yamlio
from psyscreen.batch import load_mapping
from psyscreen.yamlio import DefinitionError, parse_yaml, read_yaml


def billion_laughs(levels: int = 9, prefix: str = "mapping_version: 1\n") -> str:
    """The classic alias bomb: each level lists the one before nine times."""
    lines = ["x0: &l0 [" + ",".join(['"lol"'] * 9) + "]"]
    for i in range(1, levels):
        lines.append(f"x{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return prefix + "\n".join(lines) + "\n"


def _limited_python(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with 1.5 GB of address space at most."""
    wrapper = textwrap.dedent(
        """
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
        """
    )
    return subprocess.run(
        [sys.executable, "-c", wrapper + code],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_billion_laughs_mapping_is_refused_fast_and_small(tmp_path):
    # 9 levels expand to 9**9 = 387 million nodes; today's loader needs minutes and GBs
    bomb = tmp_path / "mapping.yaml"
    bomb.write_text(billion_laughs(), encoding="utf-8")
    assert bomb.stat().st_size < 700
    code = textwrap.dedent(
        f"""
        import time, resource
        from psyscreen.cli import main
        t = time.perf_counter()
        rc = main(["validate", {str(bomb)!r}])
        print(rc, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """
    )
    done = _limited_python(code)
    rc, seconds, max_kib = done.stdout.split()
    assert rc == "2", done.stderr
    assert "aliases expand to more than" in done.stderr and "Traceback" not in done.stderr
    # a sanity bound, not a benchmark: the refusal does not build the expansion
    assert float(seconds) < 5 and int(max_kib) < 1024 * 1024


def test_alias_bomb_in_a_score_run_is_exit_2(tmp_path):
    export = tmp_path / "e.csv"
    export.write_text("id\n1\n", encoding="utf-8")
    bomb = tmp_path / "m.yaml"
    bomb.write_text(billion_laughs(), encoding="utf-8")
    code = textwrap.dedent(
        f"""
        from psyscreen.cli import main
        print(main(["score", {str(export)!r}, "--map", {str(bomb)!r}, "-o",
                    {str(tmp_path / "r.csv")!r}, "--quiet"]))
        """
    )
    done = _limited_python(code)
    assert done.stdout.strip() == "2", done.stderr
    assert "YAML" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "r.csv").exists()


def test_aliases_within_bounds_still_work():
    text = textwrap.dedent(
        """
        answers:
          - instruments: [phq9]
            codes: &four {完全不会: 0, 好几天: 1, 一半以上的天数: 2, 几乎每天: 3}
          - instruments: [gad7]
            codes: *four
        """
    )
    spec = load_mapping_text(text)
    assert spec.answer_table("gad7_1", "gad7")["几乎每天"] == "3"


def load_mapping_text(text: str):
    from psyscreen.batch.mapping import parse_mapping

    return parse_mapping(parse_yaml(text))


def test_an_expansion_just_over_the_bound_is_refused(monkeypatch):
    monkeypatch.setattr(yamlio, "MAX_ALIAS_NODES", 50)
    ok = "a: &a [1, 2, 3, 4, 5]\nb: [*a, *a, *a, *a, *a]\n"  # aliases add 30 nodes
    assert parse_yaml(ok)["b"][4] == [1, 2, 3, 4, 5]
    with pytest.raises(DefinitionError, match="aliases expand"):
        parse_yaml(ok + "c: [*a, *a, *a, *a, *a]\n")  # 60 nodes


def test_recursive_alias_is_refused():
    with pytest.raises(DefinitionError, match="recursive YAML alias"):
        parse_yaml("a: &a [1, *a]\n")


def test_deep_nesting_is_refused():
    deep = "a:\n" + "".join("  " * i + "- \n" for i in range(1, 400)) + "  " * 400 + "- 1\n"
    with pytest.raises(DefinitionError, match="nested deeper than"):
        parse_yaml(deep)


def test_a_huge_file_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(yamlio, "MAX_YAML_BYTES", 1000)
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * 200 + "a: 1\n", encoding="utf-8")
    read = []
    real_open = open

    def spy_open(path, mode="r", *a, **k):
        f = real_open(path, mode, *a, **k)
        real_read = f.read
        f.read = lambda n=-1: read.append(n) or real_read(n)  # type: ignore[method-assign]
        return f

    monkeypatch.setattr("builtins.open", spy_open)
    with pytest.raises(DefinitionError, match="too large"):
        read_yaml(big)
    assert read == [1001]  # never more than the bound was read


def test_shipped_limit_refuses_a_file_over_8_mib(tmp_path):
    big = tmp_path / "profile.yaml"
    with open(big, "w", encoding="utf-8") as f:
        f.write("battery: [phq9]\n")
        f.write(("# " + "x" * 1022 + "\n") * (9 * 1024))
    with pytest.raises(DefinitionError, match="too large"):
        read_yaml(big)


def test_no_python_objects(tmp_path):
    p = Path(tmp_path) / "evil.yaml"
    p.write_text("a: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="invalid YAML"):
        read_yaml(p)
    with pytest.raises(DefinitionError):
        load_mapping(p)
