"""The README's main job and its siblings stay byte-identical to their recorded outputs.

The expected files were recorded from the release before the one-way-flow restructuring
(``tests/regression/``); a refactor must not change a byte of them.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from tests.regression.cases import CASES, OUTPUTS
from tests.regression.regenerate import ROOT, run_case

HERE = Path(__file__).parent / "regression"


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_are_byte_identical(name: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    rc = run_case(name, tmp_path)
    assert rc in (0, 1)
    for out in OUTPUTS:
        expected = gzip.decompress((HERE / f"{name}.{out}.gz").read_bytes())
        got = (tmp_path / out).read_bytes()
        if got != expected:
            want_lines, got_lines = expected.splitlines(), got.splitlines()
            first = next(
                (i for i, (a, b) in enumerate(zip(want_lines, got_lines)) if a != b),
                min(len(want_lines), len(got_lines)),
            )
            pytest.fail(
                f"{name}/{out} differs from the recording from line {first + 1} "
                f"({len(got_lines)} lines, expected {len(want_lines)})"
            )


def test_cases_cover_the_readme_main_job() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert " ".join(CASES["default"]) in readme
    assert os.path.exists(ROOT / CASES["default"][0])
