"""Risk-evaluation benchmark: ``psyscreen.risk.evaluate.evaluate`` alone, as paired figures.

Scores synthetic answers once (PHQ-9, GAD-7, SDQ self-report with norms, ASQ; random codes,
5% blanks) and prints the CPU time (best of ``--repeat``) of evaluating the default and
school profiles on them, for this checkout and, with ``--baseline DIR``, for another checkout
of psyscreen (e.g. the main branch) run in a subprocess on the same data and seed.

Usage::

    python benchmarks/risk_evaluate.py --rows 200000 --baseline /work/main
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from answers import answers_frame


def measure(rows: int, repeat: int) -> dict[str, float]:
    """CPU seconds of ``evaluate`` per profile (best of ``repeat``) in this interpreter."""
    import psyscreen
    from psyscreen.risk.evaluate import evaluate

    df = answers_frame(rows, missing=0.05, sex=True)
    out = {}
    for name in ("default", "school"):
        prof = psyscreen.load_profile(name)
        part = prof.part(prof.routes[0].id) if prof.routes else prof
        insts = [part.instrument(i) for i in part.instruments]
        scores = psyscreen.score(df, insts, norms="auto", missing_columns="missing")
        evaluate(scores.head(50), part)
        best = float("inf")
        for _ in range(repeat):
            t0 = time.process_time()
            evaluate(scores, part)
            best = min(best, time.process_time() - t0)
        out[name] = best
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", help="another psyscreen checkout to time the same way")
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    here = measure(args.rows, args.repeat)
    if args.json:
        import psyscreen

        print(json.dumps({**here, "from": str(Path(psyscreen.__file__).parent)}))
        return
    base = None
    if args.baseline:
        env = {**os.environ, "PYTHONPATH": str(Path(args.baseline).resolve())}
        cmd = [sys.executable, __file__, "--rows", str(args.rows), "--repeat", str(args.repeat)]
        res = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, check=True)
        base = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"baseline: psyscreen from {base.pop('from')}")
    print(f"evaluate(), {args.rows} rows, CPU s (best of {args.repeat})")
    for name, t in here.items():
        b = f"   baseline {base[name]:.3f}" if base else ""
        print(f"  {name:8s} this checkout {t:.3f}{b}")


if __name__ == "__main__":
    main()
