"""Mapping benchmark: ``map init`` and ``map check`` against the ``score`` run they prepare.

Writes a synthetic 问卷星-style export (examples/make_wjx_example.py: PHQ-9 + GAD-7,
answer texts, platform and free-text columns) of ``--rows`` rows, then times, each in
a fresh process (peak memory = the process's maximum resident set size):

* ``map init``: headers, then the answer texts of the matched columns (first 100,000 rows);
* ``map check``: the whole file, matched item columns only, nothing written;
* ``score --instruments phq9,gad7``: the run itself (results, problems, manifest; no report).

Usage::

    python benchmarks/mapping.py                # 200,000 rows
    python benchmarks/mapping.py --rows 50000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STEP = """
import json, resource, sys, time
from psyscreen.batch import check_mapping, propose_mapping, run
what, export, mapping, out = sys.argv[1:5]
t = time.perf_counter()
if what == "init":
    Path = __import__("pathlib").Path
    Path(mapping).write_text(propose_mapping(export, instruments=["phq9", "gad7"]).text, "utf-8")
elif what == "check":
    rep = check_mapping(export, mapping, instruments=["phq9", "gad7"])
    assert rep.ok, rep.text("en")
else:
    run(export, out, mapping=mapping, instruments=["phq9", "gad7"], report=False)
secs = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": secs, "peak_mib": peak}))
"""


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=200_000)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export.csv"
        mapping = Path(tmp) / "mapping.yaml"
        # written by another process: Linux keeps the peak RSS across exec, so a parent
        # holding the DataFrame would inflate every child's figure
        script = ROOT / "examples" / "make_wjx_example.py"
        subprocess.run(
            [
                sys.executable,
                str(script),
                "--rows",
                str(args.rows),
                "--seed",
                "1",
                "--out",
                str(export),
            ],
            check=True,
            capture_output=True,
        )
        size = export.stat().st_size / 2**20
        print(f"export: {args.rows:,} rows, {size:.1f} MiB")
        for what in ("init", "check", "score"):
            res = subprocess.run(
                [sys.executable, "-c", STEP, what, str(export), str(mapping), f"{tmp}/r.csv"],
                capture_output=True,
                text=True,
                check=True,
            )
            m = json.loads(res.stdout.strip().splitlines()[-1])
            print(
                f"{'map ' + what if what != 'score' else 'score':<10} "
                f"{m['seconds']:7.2f} s  {args.rows / m['seconds']:>10,.0f} rows/s  "
                f"peak {m['peak_mib']:6.0f} MiB"
            )


if __name__ == "__main__":
    main()
