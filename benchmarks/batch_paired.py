"""Paired, alternating timings of ``psyscreen.run_batch`` from two source trees.

Runs the same export with tree A, then B, then A, ... (each run in a fresh process),
so that the load of a shared host hits both alike, and prints each pair and the
median ratio B/A. Used to check that a change keeps the batch path within 5%.

Usage::

    python benchmarks/batch_paired.py --a /path/to/old/tree --b . \\
        --input export.csv --mapping mapping.yaml --rounds 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import psyscreen
t, c = time.perf_counter(), time.process_time()
res = psyscreen.run_batch(sys.argv[2], sys.argv[4], mapping=sys.argv[3], progress=False)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - c,
                  "rows": res.manifest["rows"]["out"]}))
"""


def once(tree: str, inp: str, mapping: str, out: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of all threads) of one run in a fresh process."""
    r = subprocess.run(
        [sys.executable, "-c", CHILD, tree, inp, mapping, out],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    got = json.loads(r.stdout.strip().splitlines()[-1])
    return got["seconds"], got["cpu"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", required=True, help="source tree of the baseline")
    p.add_argument("--b", required=True, help="source tree of the change")
    p.add_argument("--input", required=True)
    p.add_argument("--mapping", required=True)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="psyscreen-paired-"))
    wall, cpu = [], []
    for k in range(a.rounds):
        ta, ca = once(a.a, a.input, a.mapping, str(work / "a.csv"))
        tb, cb = once(a.b, a.input, a.mapping, str(work / "b.csv"))
        wall.append(tb / ta)
        cpu.append(cb / ca)
        print(
            f"round {k + 1}: wall A {ta:6.1f} s  B {tb:6.1f} s  B/A {tb / ta:.3f}   "
            f"CPU A {ca:6.1f} s  B {cb:6.1f} s  B/A {cb / ca:.3f}",
            flush=True,
        )
    print(
        f"median B/A over {a.rounds} pairs: wall {statistics.median(wall):.3f}, "
        f"CPU {statistics.median(cpu):.3f}"
    )


if __name__ == "__main__":
    main()
