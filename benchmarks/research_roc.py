"""Time AUC + DeLong CI (psyscreen.research.roc) at 1,000,000 rows.

Run from the repository root: ``python benchmarks/research_roc.py [n_rows]``.
Prints wall-clock times (best of 3) for integer scale scores (PHQ-9-like
totals 0-27, heavy ties) and for continuous scores, and the bootstrap time for
integer scores (the bootstrap resamples value counts, so it scales with the
number of distinct scores, not with N). Synthetic data only.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

try:
    from psyscreen.research import compare_auc, roc
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from psyscreen.research import compare_auc, roc


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(n: int = 1_000_000) -> None:
    rng = np.random.default_rng(2024)
    y = (rng.random(n) < 0.1).astype(np.int8)
    integer = np.clip(np.round(rng.normal(6 + 6 * y, 4)), 0, 27)
    continuous = rng.normal(y * 1.0, 1.0)
    print(f"rows: {n:,} ({int(y.sum()):,} cases)")
    for label, s in (("integer 0-27", integer), ("continuous", continuous)):
        t, r = best_of(lambda s=s: roc(s, y, n_boot=0))
        print(
            f"AUC + DeLong CI, {label:13s}: {t:6.2f} s   AUC {r.auc:.4f} "
            f"(95% CI {r.ci[0]:.4f}-{r.ci[1]:.4f})"
        )
    t, r = best_of(lambda: roc(integer, y, n_boot=1000, seed=0), repeat=1)
    print(f"AUC + DeLong + 1000 bootstrap resamples + band, integer: {t:6.2f} s")
    t, c = best_of(lambda: compare_auc(integer, continuous, y), repeat=1)
    print(f"paired DeLong comparison of two scores:               {t:6.2f} s   p = {c.p_value:.3g}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
