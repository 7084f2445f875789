"""Paired, alternating CPU timings of ``psyscreen.screen`` from two source trees.

The same synthetic frame (``benchmarks/routing.py``'s generator: six instruments,
random codes, ages uniform in the range given) is screened with tree A, then B, then
A, ... (each run in a fresh process, best of ``--repeat`` calls inside it), so that the
load of a shared host hits both alike; prints each pair and the median ratio B/A.

Usage::

    python benchmarks/screen_paired.py --a /path/to/old/tree --b . --rows 200000
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = """
import importlib.util, json, sys, time
sys.path.insert(0, sys.argv[1])
import psyscreen
spec = importlib.util.spec_from_file_location("routing", sys.argv[2])
routing = importlib.util.module_from_spec(spec)
spec.loader.exec_module(routing)
rows, lo, hi, profile, repeat = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), \\
    sys.argv[6], int(sys.argv[7])
df = routing._frame(rows, lo, hi)
psyscreen.screen(df.head(50), profile)
best = float("inf")
for _ in range(repeat):
    c = time.process_time()
    psyscreen.screen(df, profile)
    best = min(best, time.process_time() - c)
print(json.dumps({"cpu": best, "file": psyscreen.__file__}))
"""

CASES = {
    "default, ages 12-17": ("default", 12.0, 17.99),
    "default, ages 10-19": ("default", 10.0, 19.0),
    "school, ages 8-19": ("school", 8.0, 19.0),
}


def once(tree: str, rows: int, case: str, repeat: int) -> float:
    """Best CPU seconds of ``repeat`` screen calls in a fresh process on ``tree``."""
    profile, lo, hi = CASES[case]
    gen = str(Path(__file__).with_name("routing.py"))
    args = [tree, gen, str(rows), str(lo), str(hi), profile, str(repeat)]
    r = subprocess.run(
        [sys.executable, "-c", CHILD, *args], check=True, capture_output=True, text=True
    )
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["file"].startswith(str(Path(tree).resolve())), got["file"]
    return float(got["cpu"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True, help="tree A (the baseline)")
    ap.add_argument("--b", required=True, help="tree B (the change)")
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    for case in CASES:
        ratios = []
        for k in range(a.rounds):
            ta = once(a.a, a.rows, case, a.repeat)
            tb = once(a.b, a.rows, case, a.repeat)
            ratios.append(tb / ta)
            print(f"{case:22s} round {k + 1}: A {ta:6.2f} s  B {tb:6.2f} s CPU  B/A {tb / ta:.2f}")
        print(f"{case:22s} {a.rows:,} rows: median B/A {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
