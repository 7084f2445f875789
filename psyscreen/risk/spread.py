"""Computing per distinct combination and spreading to the rows: the row-dedup key.

Risk text depends on a few dozen boolean masks per row; rows with the same masks get the
same text. :func:`combinations` finds the distinct combinations (the masks bit-packed into
one byte string per row), :func:`take_strings` spreads per-combination text to the rows.

Example:
    >>> import numpy as np
    >>> inv, first = combinations(np.array([1, 1, 2]), [np.array([True, True, False])])
    >>> inv.tolist(), first.tolist(), take_strings(["a", "b"], inv).tolist()
    ([0, 0, 1], [0, 2], ['a', 'a', 'b'])
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def combinations(key: np.ndarray, arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(inverse, first): the distinct combinations of ``key`` and the boolean ``arrays``.

    ``first[j]`` is a row with combination j; ``inverse[i]`` the combination of row i.
    """
    n = len(key)
    parts = [np.ascontiguousarray(key.astype("<i8")).view(np.uint8).reshape(n, 8)]
    if arrays:
        parts.append(np.packbits(np.column_stack(arrays), axis=1))
    m = np.ascontiguousarray(np.concatenate(parts, axis=1))
    v = m.view(np.dtype((np.void, m.shape[1]))).ravel()
    _, first, inverse = np.unique(v, return_index=True, return_inverse=True)
    return inverse.ravel(), first


def take_strings(values: list[str], idx: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``values[idx]`` as a pandas string array (built in Arrow, no Python per row)."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is optional
        return pd.array(np.array(values, dtype=object)[idx], dtype="string")
    arr = pa.array(values, type=pa.large_string()).take(pa.array(idx, type=pa.int64()))
    return pd.arrays.ArrowStringArray(arr)
