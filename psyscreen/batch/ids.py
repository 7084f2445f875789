"""Duplicate ids across the chunks of a run: the tracker of ids seen, in bounded memory.

Memory holds 8 bytes per distinct id (40 bits of its hash and its number); the ids
themselves, with the row of their first occurrence, are spilled to an anonymous
temporary file (removed by the system when closed, never named). Every id whose
hash bits match one seen before is compared with that id as read back from the
file, so a hash collision is never reported as a duplicate.

Example:
    >>> import numpy as np
    >>> with IdTracker() as t:
    ...     t.first_rows(np.array(["a", "a"], dtype=object), np.arange(2)).tolist()
    [-1, 0]
"""

from __future__ import annotations

import tempfile
from typing import IO, Any

import numpy as np
import pandas as pd

from ..errors import BatchError

#: the top bits of an id's 64-bit hash choose its bucket; the next 32 are kept
_BUCKET_BITS = 4
_KEY_SHIFT = 64 - _BUCKET_BITS - 32
#: one spilled record per distinct id: where its UTF-8 text is, and its first row
_RECORD = np.dtype([("offset", "<i8"), ("length", "<i8"), ("row", "<i8")])


class IdTracker:
    """Remembers the ids seen, to flag repeated ids across chunks (the whole file).

    A repeated id is flagged on every later row, with the row of its first
    occurrence. Blank ids (None, NaN, NA) are never repeats. Ids that are not
    text are compared as their text. Memory: 8 bytes per distinct id in 16
    sorted buckets (an insert copies one bucket, not everything seen); the ids and
    their first rows are on disk and read back only for a candidate repeat.

    Example:
        >>> t = IdTracker()
        >>> t.first_rows(np.array(["a", "b", "a"], dtype=object), np.arange(3)).tolist()
        [-1, -1, 0]
        >>> t.first_rows(np.array(["b", None], dtype=object), np.array([3, 4])).tolist()
        [1, -1]
        >>> t.close()
    """

    def __init__(self) -> None:
        n = 1 << _BUCKET_BITS
        self._keys = [np.empty(0, dtype=np.uint32) for _ in range(n)]
        self._ords = [np.empty(0, dtype=np.uint32) for _ in range(n)]
        self._count = 0  # distinct ids so far: the next id's number
        self._bytes = 0  # bytes of id text spilled so far
        self._records: IO[bytes] | None = None
        self._texts: IO[bytes] | None = None

    def __enter__(self) -> IdTracker:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Remove the spill files (the tracker forgets every id)."""
        for f in (self._records, self._texts):
            if f is not None:
                f.close()
        self._records = self._texts = None

    def first_rows(self, ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Row of the first occurrence for each repeated id, -1 otherwise (and for blanks).

        ``ids`` and ``rows`` (their row numbers, increasing across calls) are one chunk.
        """
        first = np.full(len(ids), -1, dtype=np.int64)
        ids = np.asarray(ids, dtype=object)
        present = pd.notna(ids)
        if not present.any():
            return first
        idx = np.nonzero(present)[0]
        vals = ids[idx]
        if pd.api.types.infer_dtype(vals, skipna=False) != "string":
            vals = vals.astype(str).astype(object)  # e.g. numbers: compared as their text
        codes, uniques = pd.factorize(vals)  # exact, in order of appearance
        _, pos = np.unique(codes, return_index=True)
        r = np.asarray(rows, dtype=np.int64)[idx]
        chunk_first = r[pos]  # per distinct id: its first row in this chunk
        prior = self._remember(np.asarray(uniques, dtype=object), chunk_first)
        earlier = np.where(prior < 0, chunk_first, prior)[codes]
        first[idx] = np.where(earlier < r, earlier, -1)
        return first

    @staticmethod
    def _split(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(bucket, 32-bit key) of each text: bits of its 64-bit hash."""
        h = pd.util.hash_array(texts, categorize=False)
        bucket = (h >> np.uint64(64 - _BUCKET_BITS)).astype(np.intp)
        key = ((h >> np.uint64(_KEY_SHIFT)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        return bucket, key

    def _remember(self, texts: np.ndarray, first: np.ndarray) -> np.ndarray:
        """Per distinct text, the first row of the same id in an earlier chunk, or -1;
        the texts not seen before are remembered with their ``first`` rows."""
        prior = np.full(len(texts), -1, dtype=np.int64)
        if self._count + len(texts) > 0xFFFFFFFF:  # ids are numbered in 32 bits
            raise BatchError("more than 4,294,967,295 distinct ids: split the file")
        bucket, key = self._split(texts)
        order = np.argsort((bucket.astype(np.uint64) << np.uint64(32)) | key, kind="stable")
        bucket, key = bucket[order], key[order]
        cuts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1], True])
        number = self._count
        for a, z in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
            b, q = bucket[a], order[a:z]
            keys, ords = self._keys[b], self._ords[b]
            lo = np.searchsorted(keys, key[a:z], side="left")
            hits = np.empty(0, dtype=np.intp)
            if len(keys):
                hits = np.flatnonzero(keys[np.minimum(lo, len(keys) - 1)] == key[a:z])
            for i in hits:  # a repeat, or (rarely) another id with the same hash bits
                for o in ords[lo[i] : np.searchsorted(keys, key[a + i], side="right")]:
                    text, row = self._read(int(o))
                    if text == texts[q[i]]:
                        prior[q[i]] = row
                        break
            new = prior[q] < 0
            k = int(new.sum())
            self._keys[b] = np.insert(keys, lo[new], key[a:z][new])
            self._ords[b] = np.insert(ords, lo[new], np.arange(number, number + k, dtype=np.uint32))
            number += k
        fresh = order[prior[order] < 0]  # in the order their numbers were given
        self._spill(texts[fresh], first[fresh])
        self._count = number
        return prior

    # -- disk: the ids' text and first rows ------------------------------------------

    def _spill(self, texts: np.ndarray, first: np.ndarray) -> None:
        if self._records is None:
            # open until close(): the files live as long as the tracker
            self._records = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115
            self._texts = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115
        assert self._texts is not None
        import pyarrow as pa

        arr = pa.array(texts, type=pa.large_string())
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[: len(arr) + 1]
        data = arr.buffers()[2]
        lengths = np.diff(offsets)
        rec = np.empty(len(texts), dtype=_RECORD)
        rec["length"] = lengths
        rec["offset"] = self._bytes + offsets[:-1] - offsets[0]
        rec["row"] = first
        if data is not None:
            self._write(self._texts, memoryview(data)[offsets[0] : offsets[-1]].tobytes())
        self._write(self._records, rec.tobytes())
        self._bytes += int(lengths.sum())

    @staticmethod
    def _write(f: IO[bytes], data: bytes) -> None:
        f.seek(0, 2)  # reads move the position: append at the end
        view = memoryview(data)
        while view:  # an unbuffered write may write less than asked
            n = f.write(view)
            view = view[n or 0 :]

    def _read(self, number: int) -> tuple[str, int]:
        """(text, first row) of distinct id ``number``."""
        assert self._records is not None and self._texts is not None
        size = _RECORD.itemsize
        rec = np.frombuffer(_pread(self._records, size, number * size), dtype=_RECORD)[0]
        raw = _pread(self._texts, int(rec["length"]), int(rec["offset"]))
        return raw.decode("utf-8", "surrogatepass"), int(rec["row"])


def _pread(f: IO[bytes], n: int, at: int) -> bytes:
    f.seek(at)
    out = f.read(n)
    if out is None or len(out) != n:
        raise BatchError("the temporary file of ids seen was cut short")
    return out


def _id_values(canon: pd.DataFrame) -> np.ndarray:
    return canon["id"].astype(object).where(canon["id"].notna(), None).to_numpy()
