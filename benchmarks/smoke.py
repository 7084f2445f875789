"""CI-sized smoke benchmark: prints paired figures so a slowdown shows in every run's log.

On 100,000 rows (``--rows``): ``psyscreen score`` (whole process, default options)
against the fair floor of ``benchmarks/fairfloor.py``, ``psyscreen.screen`` against the
hand-written reference of ``benchmarks/screen_reference.py`` (and their agreement),
and ``screen_records`` against ``screen`` on 5,000 rows. Asserts nothing about time;
it fails only if a run fails or the reference disagrees with ``screen``.

Usage::

    python benchmarks/smoke.py
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fairfloor import paired, uptime  # noqa: E402
from screen_reference import compare, definitions, records_vs_screen, reference, synthetic  # noqa: E402


def _generate(rows: int, work: Path) -> tuple[Path, Path]:
    spec = importlib.util.spec_from_file_location("bench_batch", HERE / "batch.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    inp, mapping = work / "export.csv", work / "mapping.yaml"
    mod.generate(rows, inp, mapping)
    return inp, mapping


def main() -> None:
    import psyscreen

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--pairs", type=int, default=1)
    a = p.parse_args()
    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="psyscreen-smoke-"))
    print(f"== smoke benchmark, {a.rows:,} rows [{uptime()}]")
    inp, mapping = _generate(a.rows, work)
    print("batch: psyscreen score vs the fair floor")
    paired(inp, mapping, a.pairs, work)

    print("core: psyscreen.screen vs the hand-written reference")
    df, d, demo = synthetic(a.rows), definitions(), {"age": "age"}
    psyscreen.screen(df.head(200), "default", demographics=demo)
    ratios = []
    for k in range(a.pairs):
        t = time.perf_counter()
        ref = reference(df, d)
        tr = time.perf_counter() - t
        t = time.perf_counter()
        got = psyscreen.screen(df, "default", demographics=demo)
        ts = time.perf_counter() - t
        ratios.append(ts / tr)
        print(f"  pair {k + 1}: screen {ts:.2f} s  reference {tr:.2f} s  ratio {ts / tr:.2f}")
    print(f"  screen / reference: median {statistics.median(ratios):.2f} [{uptime()}]")
    bad = {c: n for c, n in compare(ref, got).items() if n}
    if bad:
        raise SystemExit(f"reference and screen disagree (rows per column): {bad}")
    print("  reference agrees with screen on every compared column")

    print("records: screen_records vs screen")
    records_vs_screen(df.head(5000), 1)
    print(f"smoke benchmark took {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
