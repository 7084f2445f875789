"""Safe output cells: formula neutralisation and keyed pseudonyms.

* A text cell that a spreadsheet would run as a formula (it starts with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe
  (the OWASP "CSV injection" advice), so Excel and WPS show it as text.
* An id is replaced by ``HMAC-SHA256(key, id)`` (first 32 hex digits): the same
  id and key always give the same pseudonym, so yearly files can still be
  linked by whoever holds the key, and without the key the id cannot be
  recovered by trying candidate ids. The key comes from an environment
  variable or a key file and is never logged or written to the manifest
  (the manifest records only a fingerprint of it: SHA-256 of "psyscreen-key:" + key,
  first 12 hex digits, so two runs can be checked for using the same key).

Example:
    >>> import pyarrow as pa
    >>> neutralise_formulas(pa.array(["=1+1", "ok", None, "-3"])).to_pylist()
    ["'=1+1", 'ok', None, "'-3"]
    >>> p = Pseudonymiser(b"0123456789abcdef")
    >>> p.pseudonym("S001") == p.pseudonym(" S001 "), len(p.pseudonym("S001"))
    (True, 32)
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import PseudonymKeyError

#: first characters that make a spreadsheet treat a cell as a formula
FORMULA_BYTES = b"=+-@\t\r"
_FORMULA_TABLE = np.zeros(256, dtype=bool)
_FORMULA_TABLE[list(FORMULA_BYTES)] = True
KEY_ENV = "PSYSCREEN_PSEUDONYM_KEY"


def neutralise_formulas(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Prefix text cells that start like a formula with an apostrophe.

    The test looks at the first byte of each cell in the Arrow buffers (every
    formula start is one ASCII byte, and in UTF-8 no other character starts with
    such a byte), so a column without such cells costs one vectorised pass. Of a
    dictionary array of text, the distinct texts are neutralised.

    Example:
        >>> neutralise_formulas(pa.array(["=1+1", "ok", None])).to_pylist()
        ["'=1+1", 'ok', None]
        >>> d = pa.array(["-2", "-2", "a"]).dictionary_encode()
        >>> neutralise_formulas(d).to_pylist()
        ["'-2", "'-2", 'a']
    """
    if not _is_text(arr.type):
        return arr
    if isinstance(arr, pa.ChunkedArray):
        return pa.chunked_array([neutralise_formulas(c) for c in arr.chunks], type=arr.type)
    if pa.types.is_dictionary(arr.type):
        texts = arr.dictionary
        values = neutralise_formulas(texts)
        return arr if values is texts else pa.DictionaryArray.from_arrays(arr.indices, values)
    hit = formula_cells(arr)
    if not hit.any():
        return arr
    quote, empty = pa.scalar("'", type=arr.type), pa.scalar("", type=arr.type)
    return pc.if_else(pa.array(hit), pc.binary_join_element_wise(quote, arr, empty), arr)


def _is_text(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def formula_cells(arr: pa.Array) -> np.ndarray:
    """Per cell of a string array: does it start like a formula (``FORMULA_BYTES``)?

    Example:
        >>> formula_cells(pa.array(["=1", "", None, "a-", "@"])).tolist()
        [True, False, False, False, True]
    """
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=bool)
    _, offsets_buf, data_buf = arr.buffers()
    otype = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=otype)[arr.offset : arr.offset + n + 1]
    starts = offsets[:-1]
    nonempty = offsets[1:] > starts
    if data_buf is None or not nonempty.any():
        return np.zeros(n, dtype=bool)
    data = np.frombuffer(data_buf, dtype=np.uint8)
    first = np.zeros(n, dtype=np.uint8)
    first[nonempty] = data[starts[nonempty]]
    hit = nonempty & _FORMULA_TABLE[first]
    if arr.null_count:
        hit &= arr.is_valid().to_numpy(zero_copy_only=False)
    return hit


def neutralise_table(table: pa.Table) -> pa.Table:
    """:func:`neutralise_formulas` on every text column of ``table`` and on its header row.

    A column name is a cell too (the first row of a CSV or XLSX file): a kept column
    whose export header starts like a formula is written with the apostrophe.

    Example:
        >>> t = neutralise_table(pa.table({"=HYPERLINK(1)": ["=2"], "n": [1]}))
        >>> t.column_names, t.column(0).to_pylist()
        (["'=HYPERLINK(1)", 'n'], ["'=2"])
    """
    cols = [neutralise_formulas(c) for c in table.columns]
    return pa.Table.from_arrays(cols, names=neutralise_names(table.column_names))


def neutralise_names(names: list[str]) -> list[str]:
    """Column names with formula-like ones prefixed by an apostrophe (as cells are)."""
    return neutralise_formulas(pa.array(names, type=pa.string())).to_pylist()


def load_key(key_file: str | Path | None = None, env: str = KEY_ENV) -> bytes:
    """The pseudonymisation key from ``key_file`` or else the environment variable ``env``.

    The key must have at least 16 bytes. Error messages never show it.
    """
    if key_file is not None:
        try:
            key = Path(key_file).read_bytes().strip()
        except OSError as e:
            raise PseudonymKeyError(f"cannot read the key file: {e.strerror}") from None
        where = "the key file"
    else:
        key = os.environ.get(env, "").encode("utf-8")
        where = f"the environment variable {env}"
    if len(key) < 16:
        raise PseudonymKeyError(
            f"pseudonymisation needs a secret key of at least 16 bytes in {where} "
            "(e.g. from: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return key


class Pseudonymiser:
    """Keyed pseudonyms for id cells (HMAC-SHA256, 32 hex digits); blanks stay blank."""

    def __init__(self, key: bytes):
        self._key = key
        self.fingerprint = hashlib.sha256(b"psyscreen-key:" + key).hexdigest()[:12]

    def __repr__(self) -> str:  # never show the key
        return f"Pseudonymiser(fingerprint={self.fingerprint})"

    def pseudonym(self, value: str) -> str:
        """The pseudonym of one id (trimmed)."""
        return self.pseudonyms([value])[0]

    def pseudonyms(self, values: list[str]) -> list[str]:
        """:meth:`pseudonym` of many ids, the keyed HMAC state prepared once for all.

        Example:
            >>> p = Pseudonymiser(b"0123456789abcdef")
            >>> p.pseudonyms(["S1", " S1 "]) == [p.pseudonym("S1")] * 2
            True
        """
        base = hmac.new(self._key, digestmod=hashlib.sha256)
        out = []
        for v in values:
            h = base.copy()
            h.update(v.strip().encode("utf-8"))
            out.append(h.hexdigest()[:32])
        return out

    def array(self, arr: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Pseudonyms of a text column (nulls and blank cells stay null)."""
        values = arr.cast(pa.string()).to_pylist()
        present = [i for i, v in enumerate(values) if v is not None and v.strip()]
        out: list[str | None] = [None] * len(values)
        for i, p in zip(present, self.pseudonyms([values[i] for i in present])):
            out[i] = p
        return pa.array(out, type=pa.string())
