"""The library logs through ``logging``: silent at import, no personal data in any record."""

from __future__ import annotations

import logging
import subprocess
import sys

import pandas as pd
import pytest

from psyscreen.batch import run
from psyscreen.batch.io import FORMATS


@pytest.mark.slow  # a fresh interpreter
def test_import_logs_nothing_and_only_adds_a_null_handler():
    code = (
        "import logging, sys\n"
        "seen = []\n"
        "class H(logging.Handler):\n"
        "    def emit(self, r): seen.append(r)\n"
        "logging.basicConfig(level=logging.DEBUG, handlers=[H()])\n"
        "import psyscreen, psyscreen.batch.run, psyscreen.research\n"
        "lg = logging.getLogger('psyscreen')\n"
        "print(len([r for r in seen if r.name.startswith('psyscreen')]),"
        " [type(h).__name__ for h in lg.handlers], lg.level)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["0", "['NullHandler']", "0"]
    assert out.stderr == ""


def test_a_run_logs_counts_and_timings_but_no_cell_text(write_export, tmp_path, caplog):
    csv, mapping = write_export(tmp_path, 300, seed=11)
    with caplog.at_level(logging.DEBUG, logger="psyscreen"):
        res = run(
            csv,
            tmp_path / "out" / "results.csv",
            mapping=mapping,
            chunk_rows=100,
            progress=False,
        )
    records = [r for r in caplog.records if r.name.startswith("psyscreen")]
    messages = [r.getMessage() for r in records]
    # the useful records are there: one per chunk, then the total
    per_chunk = [m for m in messages if m.startswith("chunk from row ")]
    assert len(per_chunk) == 300 // 100
    assert messages[-1].startswith(f"scored {res.manifest['rows']['read']} rows in one process in ")
    # arguments are numbers (and the input format), never text taken from the data or paths
    for r in records:
        for a in r.args or ():
            assert isinstance(a, int | float) or a in FORMATS.values(), (r.msg, type(a))
    cells = pd.read_csv(csv, dtype=str, encoding="utf-8-sig").stack().unique()
    texts = {
        c for c in cells if isinstance(c, str) and len(c) >= 3 and not c.replace(".", "").isdigit()
    }
    texts |= {csv.name, csv.parent.name, str(tmp_path)}
    assert texts  # the export has ids, names of schools, dates and labels to look for
    for m in messages:
        assert not [t for t in texts if t in m], m
