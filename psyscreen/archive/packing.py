"""Packing a screening's flat score columns into one compact value, and back.

A chunk of results gets one *layout*: per value ``[name, kind, *codes]`` in
packing order, stored once (table ``layouts``) under an id that hashes it with
the definitions' provenance; each screening stores only its packed bytes.
Every value decodes to exactly what was encoded, and every layout written
before the compact kinds (float64 numbers and joined text) still decodes.

Example:
    >>> lay_id, layout, rows = encode_scores(pd.DataFrame({"a.raw": [3], "a.band": ["ok"]}))
    >>> layout, decode_scores(layout, rows[0])
    ([['a.raw', 'i2'], ['a.band', 'c', 'ok']], {'a.raw': 3, 'a.band': 'ok'})
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd

SEP = "\x1f"  # unit separator: joins a screening's text values


def _kind(col: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(col.dtype):
        return "b"
    if pd.api.types.is_integer_dtype(col.dtype):
        return "i"
    if pd.api.types.is_float_dtype(col.dtype):
        return "f"
    if isinstance(col.dtype, pd.StringDtype):  # text only: no value to look at
        return "s"
    vals = col.dropna()
    if (
        len(vals)
        and all(isinstance(v, (bool, np.bool_)) for v in vals.iloc[:1000])
        and vals.map(lambda v: isinstance(v, (bool, np.bool_))).all()
    ):
        return "b"
    return "s"


def _joined_text(frame: pd.DataFrame) -> list[bytes]:
    """Each row's text values joined by ``SEP`` (missing: empty), as UTF-8 bytes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = []
    for c in frame.columns:
        col = frame[c]
        try:
            arr = pa.array(col, from_pandas=True).cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            arr = pa.array(
                col.astype("string").astype(object).where(col.notna(), None), type=pa.string()
            )
        arrays.append(pc.replace_substring(arr, SEP, " "))
    joined = pc.binary_join_element_wise(*arrays, SEP, null_handling="replace", null_replacement="")
    return joined.cast(pa.binary()).to_pylist()


def layout_id(layout: list[list[str]], provenance: str = "{}") -> str:
    """The id of a score layout: a hash of its columns, kinds and provenance (16 hex digits)."""
    return hashlib.sha256(json.dumps([layout, provenance]).encode("utf-8")).hexdigest()[:16]


#: int16 value that stands for a missing number in the compact kinds
_MISSING16 = -32768
#: most distinct values a text column may have in a chunk to be dictionary-coded (one byte)
_MAX_CODES = 255
#: compact kinds: stored as int16 (exact small integers); the letter after is the decoded kind
_SMALL = {"i2": "i", "f2": "f", "b2": "b"}


def _small_ints(v: np.ndarray) -> bool:
    """Whether every non-missing value is an integer an int16 holds exactly (not -0.0)."""
    f = v[~np.isnan(v)]
    if not len(f):
        return True
    return bool(
        np.all(f == np.round(f))
        and np.all(np.abs(f) <= 32767)
        and not np.any((f == 0) & np.signbit(f))
    )


def encode_scores(
    scores: pd.DataFrame, provenance: str = "{}"
) -> tuple[str, list[list[str]], list[bytes]]:
    """``(layout id, layout, one packed value per row)`` of the flat score columns.

    The layout lists, per value, ``[name, kind, *codes]`` in the order the
    values are packed: numbers that are small integers in every row as int16
    (kinds ``i2``/``f2``/``b2``, missing: -32768), other numbers as float64
    (``i``/``f``/``b``, missing: NaN), text columns with at most 255 distinct
    values as one byte indexing the codes listed in the layout (``c``, 0:
    missing), other text joined by ``SEP`` (``s``, UTF-8). Every value decodes
    to what was encoded; the layout is stored once (table ``layouts``), so a
    screening holds its values only.

    Example:
        >>> df = pd.DataFrame({"a.x.raw": [1, 2], "a.x.t": [50.5, None],
        ...                    "a.x.band": ["b", None], "a.c.y": [True, pd.NA]})
        >>> lay_id, layout, rows = encode_scores(df)
        >>> layout
        [['a.x.raw', 'i2'], ['a.c.y', 'b2'], ['a.x.t', 'f'], ['a.x.band', 'c', 'b']]
        >>> len(rows[0]), decode_scores(layout, rows[1])
        (13, {'a.x.raw': 2, 'a.c.y': None, 'a.x.t': None, 'a.x.band': None})
    """
    kinds = {str(c): _kind(scores[c]) for c in scores.columns}
    n = len(scores)
    small: list[tuple[str, np.ndarray]] = []
    wide: list[tuple[str, np.ndarray]] = []
    coded: list[tuple[str, list[str], np.ndarray]] = []
    txt: list[str] = []
    for c in scores.columns:
        name, kind, v = str(c), kinds[str(c)], scores[c]
        if kind == "s":
            # pyarrow-backed or object text: the distinct values and each row's code
            t = v.astype("string")
            t = t.str.replace(SEP, " ", regex=False)
            codes, uniq = pd.factorize(t, sort=True, use_na_sentinel=True)
            if len(uniq) <= _MAX_CODES and "" not in set(uniq):
                coded.append((name, [str(u) for u in uniq], (codes + 1).astype(np.uint8)))
            else:
                txt.append(name)
            continue
        if kind == "b":
            v = v.map({True: 1.0, False: 0.0}, na_action="ignore")
        f = pd.to_numeric(v, errors="coerce").to_numpy(dtype="f8", na_value=np.nan)
        (small if _small_ints(f) else wide).append((name, f))
    layout = (
        [[name, kind + "2"] for name, _ in small for kind in (kinds[name],)]
        + [[name, kinds[name]] for name, _ in wide]
        + [[name, "c", *uniq] for name, uniq, _ in coded]
        + [[name, "s"] for name in txt]
    )
    lay_id = layout_id(layout, provenance)
    if not n:
        return lay_id, layout, []
    parts: list[np.ndarray] = []
    if small:
        m16 = np.empty((n, len(small)), dtype="<i2")
        for j, (_, f) in enumerate(small):
            m16[:, j] = np.where(np.isnan(f), _MISSING16, np.nan_to_num(f)).astype("<i2")
        parts.append(m16.view(np.uint8))
    if wide:
        parts.append(np.column_stack([f for _, f in wide]).astype("<f8").view(np.uint8))
    if coded:
        parts.append(np.column_stack([c for _, _, c in coded]))
    if parts:
        mat = np.ascontiguousarray(np.hstack(parts))
        heads = mat.view(np.dtype((np.void, mat.shape[1]))).ravel().tolist()
    else:
        heads = [b""] * n
    if not txt:
        return lay_id, layout, heads
    tails = _joined_text(scores[txt])
    return lay_id, layout, [h + t for h, t in zip(heads, tails)]


def decode_scores(layout: str | list, scores: bytes | None) -> dict[str, Any]:
    """The flat score columns of one screening from its layout and packed values.

    Reads every layout :func:`encode_scores` has written (float64-only layouts of
    older archives and bundles included).
    """
    cols = json.loads(layout) if isinstance(layout, str) else layout
    if scores is None:
        return {}
    out: dict[str, Any] = {}
    k16 = sum(1 for c in cols if c[1] in _SMALL)
    k64 = sum(1 for c in cols if c[1] in ("i", "f", "b"))
    kc = sum(1 for c in cols if c[1] == "c")
    small = np.frombuffer(scores, dtype="<i2", count=k16).tolist()
    wide = np.frombuffer(scores, dtype="<f8", count=k64, offset=2 * k16).tolist()
    codes = scores[2 * k16 + 8 * k64 : 2 * k16 + 8 * k64 + kc]
    texts = scores[2 * k16 + 8 * k64 + kc :].decode("utf-8").split(SEP)
    i16 = i64 = ic = it = 0
    for c in cols:
        name, kind = c[0], c[1]
        if kind in _SMALL:
            x = small[i16]
            i16 += 1
            kind = _SMALL[kind]
            v: Any = None if x == _MISSING16 else x
        elif kind == "c":
            x = codes[ic]
            ic += 1
            out[name] = c[1 + x] if x else None
            continue
        elif kind == "s":
            t = texts[it]
            it += 1
            out[name] = t if t != "" else None
            continue
        else:
            y = wide[i64]
            i64 += 1
            v = None if y != y else y  # NaN: missing
        if v is None:
            out[name] = None
        elif kind == "i":
            out[name] = int(v)
        elif kind == "b":
            out[name] = bool(v)
        else:
            out[name] = float(v)
    return out
