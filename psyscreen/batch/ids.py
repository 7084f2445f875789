"""Duplicate ids across the chunks of a run: the tracker of ids seen.

Example:
    >>> import numpy as np
    >>> IdTracker().first_rows(np.array(["a", "a"], dtype=object), np.arange(2)).tolist()
    [-1, 0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class IdTracker:
    """Remembers ids seen (as 64-bit hashes, sorted) to flag duplicates across chunks.

    A repeated id is flagged on every later row, with the row of its first
    occurrence as detail. Memory: 16 bytes per distinct id. Two different ids
    share a hash with probability about n²/2⁶⁵ (3e-8 for a million ids); such a
    pair would be reported as a duplicate, never silently merged.

    Example:
        >>> t = IdTracker()
        >>> t.first_rows(np.array(["a", "b", "a"], dtype=object), np.arange(3)).tolist()
        [-1, -1, 0]
        >>> t.first_rows(np.array(["b", None], dtype=object), np.array([3, 4])).tolist()
        [1, -1]
    """

    def __init__(self) -> None:
        self._hashes = np.empty(0, dtype=np.uint64)
        self._rows = np.empty(0, dtype=np.int64)

    def first_rows(self, ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Row of the first occurrence for each repeated id, -1 otherwise (and for blanks)."""
        first = np.full(len(ids), -1, dtype=np.int64)
        ids = np.asarray(ids, dtype=object)
        present = pd.notna(ids)  # None, NaN, NA: blank
        if not present.any():
            return first
        idx = np.nonzero(present)[0]
        vals = ids[idx]
        if pd.api.types.infer_dtype(vals, skipna=False) != "string":
            vals = vals.astype(str).astype(object)  # e.g. numbers: hashed as their text
        h = pd.util.hash_array(vals, categorize=False)  # same hashes, no factorising
        r = np.asarray(rows, dtype=np.int64)[idx]
        order = np.argsort(h, kind="stable")
        hs, rs = h[order], r[order]
        start = np.r_[True, hs[1:] != hs[:-1]]
        run_first = rs[np.maximum.accumulate(np.where(start, np.arange(len(hs)), 0))]
        pos = np.searchsorted(self._hashes, hs)
        pos_c = np.minimum(pos, max(len(self._hashes) - 1, 0))
        seen = (
            (len(self._hashes) > 0) & (self._hashes[pos_c] == hs)
            if len(self._hashes)
            else (np.zeros(len(hs), dtype=bool))
        )
        prior = np.where(seen, self._rows[pos_c] if len(self._rows) else -1, -1)
        res = np.where(seen, prior, np.where(start, -1, run_first))
        first[idx[order]] = res
        new = start & ~seen
        self._hashes = np.insert(self._hashes, pos[new], hs[new])
        self._rows = np.insert(self._rows, pos[new], rs[new])
        return first


def _id_values(canon: pd.DataFrame) -> np.ndarray:
    return canon["id"].astype(object).where(canon["id"].notna(), None).to_numpy()
