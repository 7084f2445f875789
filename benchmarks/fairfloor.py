"""The fair I/O floor of ``psyscreen score`` and paired, alternating whole-process timings.

The floor does the least any tool must do with the same file: pyarrow reads the same
CSV with **every column as text** (as psyscreen does: codes are mapped from answer
texts, never guessed as numbers) and writes **as many bytes as psyscreen writes**
(the input's columns repeated until the byte count matches, quoted only where needed,
as psyscreen's CSV is: pyarrow's default quotes every string and writes ~20% more).

``paired`` runs psyscreen (``python -m psyscreen score``: default options, report and
manifest on, one process) and the floor alternately, each under ``/usr/bin/time -v``
for its peak RSS, so the load of a shared host falls on both alike, and prints each
pair's ratio, the median and the range.

Usage (from ``benchmarks/batch.py --paired`` or ``benchmarks/smoke.py``)::

    python benchmarks/fairfloor.py export.csv mapping.yaml --pairs 5
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FLOOR = r"""
import json, os, sys, time
import pyarrow as pa, pyarrow.csv as pacsv
inp, out, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = time.perf_counter()
with open(inp, "rb") as f:
    first = f.readline().decode("utf-8-sig").rstrip("\r\n")
names = next(iter(__import__("csv").reader([first])))
reader = pacsv.open_csv(
    inp,
    read_options=pacsv.ReadOptions(block_size=1 << 24),
    convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}),
)
in_bytes = os.path.getsize(inp)
opts = pacsv.WriteOptions(quoting_style="needed")
writer, rows, n_cols = None, 0, 0
with open(out, "wb") as f:
    for batch in reader:
        k = batch.num_columns
        if not n_cols:
            # bytes of the first batch as read and as encoded: scales the column count so
            # that the output's size matches psyscreen's whatever the quoting
            sink = pa.BufferOutputStream()
            pacsv.write_csv(pa.Table.from_batches([batch]), sink, write_options=opts)
            encoded = sink.getvalue().size
            out_per_in = encoded / min(in_bytes, 1 << 24)
            n_cols = max(1, round(k * target / (in_bytes * out_per_in)))
        cols = [batch.column(j % k) for j in range(n_cols)]
        names_out = [f"{batch.schema.names[j % k]}_{j // k}" for j in range(n_cols)]
        table = pa.Table.from_arrays(cols, names=names_out)
        if writer is None:
            writer = pacsv.CSVWriter(f, table.schema, write_options=opts)
        writer.write_table(table)
        rows += batch.num_rows
    writer.close()
print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows}))
"""


@dataclass
class Run:
    """One timed process: wall seconds, peak RSS (MiB) and the bytes it wrote."""

    seconds: float
    peak_mib: float
    out_bytes: int


def _timed(cmd: list[str], out_dir: Path, ok: tuple[int, ...] = (0,)) -> Run:
    """Run ``cmd`` under ``/usr/bin/time -v``; wall time from here (the whole process).

    ``ok``: accepted exit statuses (``psyscreen score`` exits 1 when rows have problems,
    which the synthetic export has on purpose).
    """
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    t = time.perf_counter()
    r = subprocess.run(
        ["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, cwd=ROOT, check=False
    )
    seconds = time.perf_counter() - t
    if r.returncode not in ok:
        raise RuntimeError(f"{cmd[:4]} failed ({r.returncode}): {r.stderr[-2000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    peak = int(m.group(1)) / 1024 if m else float("nan")
    written = sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file())
    return Run(seconds, peak, written)


def run_psyscreen(inp: Path, mapping: Path, out_dir: Path) -> Run:
    """``psyscreen score`` with the default options (report and manifest on), one process."""
    cmd = [sys.executable, "-m", "psyscreen", "score", str(inp), "--map", str(mapping)]
    cmd += ["--profile", "default", "-o", str(out_dir / "results.csv")]
    return _timed(cmd, out_dir, (0, 1))


def run_floor(inp: Path, out_dir: Path, target_bytes: int) -> Run:
    """The fair floor: read every column as text, write ``target_bytes`` (about) of CSV."""
    cmd = [sys.executable, "-c", FLOOR, str(inp), str(out_dir / "floor.csv"), str(target_bytes)]
    return _timed(cmd, out_dir)


def uptime() -> str:
    """The host's load averages (1, 5, 15 min): the figures are from a shared machine."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def paired(inp: Path, mapping: Path, pairs: int, work: Path | None = None) -> dict[str, object]:
    """Time psyscreen and the floor alternately ``pairs`` times; print and return the figures."""
    work = work or Path(tempfile.mkdtemp(prefix="psyscreen-floor-"))
    ratios, ps_s, fl_s, ps_mem, fl_mem = [], [], [], [], []
    target = 0
    for k in range(pairs):
        # psyscreen first: its first run gives the byte count the floor must write
        ps = run_psyscreen(inp, mapping, work / "ps")
        if not target:
            target = ps.out_bytes
            size = inp.stat().st_size
            print(f"  psyscreen writes {target:,} bytes (all files); input {size:,} bytes")
        fl = run_floor(inp, work / "floor", target)
        ratios.append(ps.seconds / fl.seconds)
        ps_s.append(ps.seconds)
        fl_s.append(fl.seconds)
        ps_mem.append(ps.peak_mib)
        fl_mem.append(fl.peak_mib)
        print(
            f"  pair {k + 1}: psyscreen {ps.seconds:6.1f} s {ps.peak_mib:5.0f} MiB "
            f"({ps.out_bytes:,} B)  floor {fl.seconds:6.1f} s {fl.peak_mib:5.0f} MiB "
            f"({fl.out_bytes:,} B)  ratio {ratios[-1]:.2f}  [{uptime()}]",
            flush=True,
        )
    med = statistics.median(ratios)
    print(
        f"  median ratio psyscreen/floor over {pairs} pairs: {med:.2f} "
        f"({min(ratios):.2f}-{max(ratios):.2f}); psyscreen {statistics.median(ps_s):.1f} s, "
        f"floor {statistics.median(fl_s):.1f} s; peak RSS psyscreen {max(ps_mem):.0f} MiB, "
        f"floor {max(fl_mem):.0f} MiB"
    )
    return {
        "ratio_median": med,
        "ratio_range": [min(ratios), max(ratios)],
        "psyscreen_s": ps_s,
        "floor_s": fl_s,
        "psyscreen_peak_mib": max(ps_mem),
        "floor_peak_mib": max(fl_mem),
        "psyscreen_bytes": target,
        "load": uptime(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("input", type=Path)
    p.add_argument("mapping", type=Path)
    p.add_argument("--pairs", type=int, default=5)
    a = p.parse_args()
    print(json.dumps(paired(a.input, a.mapping, a.pairs)))


if __name__ == "__main__":
    main()
