"""Band application: the band code and class of each score, shared by scales and norms.

A lower module than both :mod:`psyscreen.scoring` and :mod:`psyscreen.norms.apply`, so
that neither stage imports the other.

Example:
    >>> import numpy as np
    >>> from psyscreen import load_instrument
    >>> bs = load_instrument("gad7").scales[0].bands[0]
    >>> code, klass = apply_bands(np.array([2.0, 12.0, np.nan]), bs)
    >>> code.tolist(), klass.tolist()
    (['minimal', 'moderate', nan], ['normal', 'abnormal', nan])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .categories import VOCAB_DTYPES, DtypeCache, from_codes
from .definitions import BandSet
from .masks import interval_mask
from .vocab import BandClass

#: The band classes in categorical order.
BAND_CLASSES = BandClass.names()


def apply_bands(
    raw: np.ndarray, bs: BandSet, dtypes: DtypeCache | None = None
) -> tuple[pd.Categorical, pd.Categorical]:
    """Band code and classification of each score (missing where there is no score).

    The first band of ``bs`` whose interval holds the score wins; ``dtypes`` keeps the
    band codes' dtype across calls.
    """
    codes = [b.code for b in bs.bands]
    idx = np.full(len(raw), -1, dtype=np.int16)
    for k, b in enumerate(bs.bands):
        idx[interval_mask(raw, b) & (idx < 0)] = k
    klass = np.array([BandClass(b.classification).code for b in bs.bands] + [-1], dtype=np.int8)
    return from_codes(idx, codes, dtypes), from_codes(klass[idx], VOCAB_DTYPES[BandClass])
