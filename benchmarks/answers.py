"""Synthetic answer frames shared by the core benchmarks (random codes, one row a child).

Example (from a benchmark script, which has this folder on ``sys.path``)::

    from answers import answers_frame
    df = answers_frame(100_000, ages=(10, 19), missing=0.05, sex=True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the instruments of the default and school profiles' batteries
INSTRUMENTS = ("phq9", "gad7", "sdq_s", "asq", "dsrsc", "scared_c")


def answers_frame(
    n: int,
    ages: tuple[float, float] = (12, 17.9),
    missing: float = 0.0,
    sex: bool = False,
    seed: int = 1,
) -> pd.DataFrame:
    """``n`` rows of uniformly random answer codes for :data:`INSTRUMENTS`, each answer
    blank with probability ``missing``; ``asq_5`` (asked only after a yes) blank; an
    ``age`` uniform in ``ages``; with ``sex``, ``M`` or ``F`` at random."""
    import psyscreen

    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    for inst_id in INSTRUMENTS:
        inst = psyscreen.load_instrument(inst_id)
        for item in inst.items:
            rs = inst.response_scales[item.response_scale]
            v = rng.integers(rs.min, rs.max + 1, n).astype(float)
            if missing:
                v[rng.random(n) < missing] = np.nan
            cols[item.id] = v
    cols["asq_5"] = np.full(n, np.nan)
    cols["age"] = rng.uniform(ages[0], ages[1], n)
    if sex:
        cols["sex"] = rng.choice(["M", "F"], n)
    return pd.DataFrame(cols)
