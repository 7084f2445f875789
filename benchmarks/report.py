"""Report benchmark: seconds to count and draw the aggregate report, this tree vs a baseline.

The same synthetic export (examples/make_example.py, the default battery, 100,000
rows by default) is scored in memory chunk by chunk; the timed parts are the
report's counting (``ReportStats.update`` over all chunks) and drawing
(``render_report``), once with this working tree and once with the baseline
commit (default ``main``, extracted with ``git archive``), each in a fresh
process. Printed side by side with the HTML size.

Usage::

    python benchmarks/report.py                  # 100k rows, baseline main
    python benchmarks/report.py --rows 20000 --baseline HEAD~3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MEASURE = r"""
import json, sys, time
import pandas as pd
from psyscreen.batch.chunk import process_chunk
from psyscreen.batch.ids import IdTracker
from psyscreen.batch.plan import plan_for
from psyscreen.batch.report import ReportStats, render_report

csv, mapping, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3])
headers = list(pd.read_csv(csv, nrows=0, encoding="utf-8-sig").columns)
plan = plan_for(headers, mapping, profile="default")
stats, tracker, row0, t_update = ReportStats(plan), IdTracker(), 0, 0.0
for df in pd.read_csv(csv, dtype=str, encoding="utf-8-sig", chunksize=chunk,
                      keep_default_na=False, na_values=[""]):
    cr = process_chunk(df[plan.read_columns()], plan, row0, tracker)
    t = time.perf_counter(); stats.update(cr.results, cr.problems)
    t_update += time.perf_counter() - t
    row0 += len(df)
man = {"psyscreen_version": "bench", "input": {"file": "export.csv", "format": "csv",
       "sha256": "0" * 64}, "rows": {"in": row0, "out": row0}, "definitions": {}}
t = time.perf_counter(); html = render_report(stats, man); t_render = time.perf_counter() - t
print(json.dumps({"update_s": t_update, "render_s": t_render, "html_bytes": len(html.encode())}))
"""


def _measure(tree: Path, csv: Path, mapping: Path, chunk: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(csv), str(mapping), str(chunk)],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"measuring {tree} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--chunk-rows", type=int, default=50_000)
    p.add_argument("--baseline", default="main", help="git commit to compare with")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from batch import generate

    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        csv, mapping = d / "export.csv", d / "mapping.yaml"
        generate(args.rows, csv, mapping)
        base = d / "baseline"
        base.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.baseline], cwd=ROOT, capture_output=True, check=True
        ).stdout
        with tempfile.TemporaryFile() as f:
            f.write(archive)
            f.seek(0)
            with tarfile.open(fileobj=f) as tar:
                tar.extractall(base, filter="data")
        t0 = time.perf_counter()
        rows = {
            f"baseline ({args.baseline})": _measure(base, csv, mapping, args.chunk_rows),
            "this tree": _measure(ROOT, csv, mapping, args.chunk_rows),
        }
    print(f"report on {args.rows:,} rows (chunks of {args.chunk_rows:,}), seconds:")
    print(f"{'':<22}{'counting':>10}{'drawing':>10}{'HTML bytes':>12}")
    for name, r in rows.items():
        print(f"{name:<22}{r['update_s']:>10.2f}{r['render_s']:>10.2f}{r['html_bytes']:>12,}")
    print(f"(measured in {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
