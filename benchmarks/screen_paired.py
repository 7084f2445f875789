"""Paired, alternating CPU timings of ``psyscreen.screen`` from two source trees.

The same synthetic frame (``benchmarks/routing.py``'s generator: six instruments,
random codes, ages uniform in the range given) is screened with tree A, then B, then
A, ... (each run in a fresh process, best of ``--repeat`` calls inside it), so that the
load of a shared host hits both alike; prints each pair and the median ratio B/A.

``--records``: instead, ``screen_records`` against ``screen`` (issue 16: at most 3x) on
``benchmarks/screen_reference.py``'s frame (default profile, ages 12-17, blanks and
out-of-range codes): in one process per tree, the two calls alternate ``--pairs`` times
(CPU seconds each) and the median ratio records / screen is printed per tree; with
``--a`` too, the trees alternate as well and the median B/A of ``screen_records`` follows.

Usage::

    python benchmarks/screen_paired.py --a /path/to/old/tree --b . --rows 200000
    python benchmarks/screen_paired.py --records --a /path/to/old/tree --b .
"""

from __future__ import annotations

import argparse
import json
import os
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

RECORDS_CHILD = """
import importlib.util, json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
import psyscreen
spec = importlib.util.spec_from_file_location("screen_reference", sys.argv[2])
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
rows, pairs = int(sys.argv[3]), int(sys.argv[4])
df, demo = ref.synthetic(rows), {"age": "age"}
psyscreen.screen_records(df.head(50), "default", demographics=demo)
screen, records = [], []
for _ in range(pairs):
    c = time.process_time()
    psyscreen.screen(df, "default", demographics=demo)
    screen.append(time.process_time() - c)
    c = time.process_time()
    psyscreen.screen_records(df, "default", demographics=demo)
    records.append(time.process_time() - c)
print(json.dumps({"screen": screen, "records": records, "file": psyscreen.__file__}))
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


def records_once(tree: str, rows: int, pairs: int) -> tuple[list[float], list[float]]:
    """CPU seconds of ``screen`` and ``screen_records``, alternating, in a fresh process."""
    gen = str(Path(__file__).with_name("screen_reference.py"))
    r = subprocess.run(
        [sys.executable, "-c", RECORDS_CHILD, tree, gen, str(rows), str(pairs)],
        check=True,
        capture_output=True,
        text=True,
    )
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["file"].startswith(str(Path(tree).resolve())), got["file"]
    return got["screen"], got["records"]


def records_main(trees: dict[str, str], rows: int, rounds: int, pairs: int) -> None:
    """Print screen_records / screen per tree and, for two trees, records B/A."""
    ratios: dict[str, list[float]] = {k: [] for k in trees}
    best: dict[str, list[float]] = {k: [] for k in trees}
    for k in range(rounds):
        for name, tree in trees.items():
            screen, records = records_once(tree, rows, pairs)
            pair = [r / s for s, r in zip(screen, records)]
            ratios[name] += pair
            best[name].append(min(records))
            print(
                f"round {k + 1} tree {name}: screen {statistics.median(screen):5.2f} s  "
                f"screen_records {statistics.median(records):5.2f} s CPU (medians of {pairs}); "
                f"ratios {' '.join(f'{x:.1f}' for x in pair)}  [{uptime()}]"
            )
    for name, rs in ratios.items():
        med = statistics.median(rs)
        print(
            f"tree {name}: screen_records / screen on {rows:,} rows: median {med:.2f}"
            f" ({min(rs):.2f}-{max(rs):.2f}) over {len(rs)} alternating pairs (target <= 3)"
        )
    if len(trees) == 2:
        b_over_a = [b / a for a, b in zip(best["A"], best["B"])]
        print(f"screen_records B/A (best per round): median {statistics.median(b_over_a):.2f}")


def uptime() -> str:
    """The host's load averages: the figures are from a shared machine."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", help="tree A (the baseline)")
    ap.add_argument("--b", required=True, help="tree B (the change)")
    ap.add_argument("--rows", type=int, help="default 200,000; with --records 20,000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--records", action="store_true", help="screen_records against screen")
    ap.add_argument("--pairs", type=int, default=5, help="--records: pairs per process")
    a = ap.parse_args()
    if a.rows is None:
        a.rows = 20_000 if a.records else 200_000
    if a.records:
        trees = {"A": a.a, "B": a.b} if a.a else {"B": a.b}
        records_main(trees, a.rows, a.rounds, a.pairs)
        return
    if a.a is None:
        ap.error("--a is required (without --records)")
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
