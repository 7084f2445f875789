"""Rewrite the expected outputs of the regression cases (see ``cases.py`` for when)."""

from __future__ import annotations

import gzip
import sys
import tempfile
from pathlib import Path

from psyscreen.cli import main

from .cases import CASES, OUTPUTS

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def run_case(name: str, out: Path) -> int:
    """Run one case from the repository root into the directory ``out``."""
    argv = ["score", *CASES[name], "-o", str(out / "results.csv"), "--quiet"]
    return main(argv)


def regenerate() -> None:
    import os

    os.chdir(ROOT)
    for name in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            rc = run_case(name, Path(tmp))
            if rc > 1:
                sys.exit(f"case {name} failed with exit code {rc}")
            for out in OUTPUTS:
                data = (Path(tmp) / out).read_bytes()
                with gzip.GzipFile(HERE / f"{name}.{out}.gz", "wb", mtime=0) as fh:
                    fh.write(data)
            print(f"{name}: exit {rc}")


if __name__ == "__main__":
    regenerate()
