"""Routing benchmark: the cost of age routing, as paired figures.

Prints the CPU time (best of ``--repeat``) of ``psyscreen.screen`` on the same synthetic
answers (PHQ-9, GAD-7, SDQ self-report, ASQ, DSRSC, SCARED; random codes) for:

* ``default, ages 12-17``: one battery, every row in range (the path without routing);
* ``default, ages 10-19``: the same battery, rows outside 12-17 graded as out of age range;
* ``school, ages 8-19``: three routes, each row scored on its own route's battery.

Usage::

    python benchmarks/routing.py --rows 200000
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
from answers import answers_frame

import psyscreen


def _cpu(df: pd.DataFrame, profile: str, repeat: int) -> float:
    psyscreen.screen(df.head(50), profile)  # load definitions first
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        psyscreen.screen(df, profile)
        best = min(best, time.process_time() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    cases = [
        ("default, ages 12-17", "default", 12.0, 17.99),
        ("default, ages 10-19", "default", 10.0, 19.0),
        ("school, ages 8-19", "school", 8.0, 19.0),
    ]
    base = None
    for label, profile, lo, hi in cases:
        s = _cpu(answers_frame(a.rows, ages=(lo, hi)), profile, a.repeat)
        base = base or s
        print(
            f"{label:22s} {a.rows:>9,} rows  {s:6.2f} s CPU  {a.rows / s:>10,.0f} rows/s  "
            f"x{s / base:.2f} of the unrouted path"
        )


if __name__ == "__main__":
    main()
