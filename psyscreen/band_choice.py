"""Which band a row of a scale counts in: the instrument's band set or the norm table's band.

Scoring writes ``band{suffix}`` / ``band_class{suffix}`` per band set and the norms stage
``norm_band`` / ``norm_band_class``; risk evaluation, records and the batch report must all
read the same one for a row. ``band_source`` (of a profile's battery entry) decides:
``instrument``, ``norm``, or ``auto`` (the norm band where the norm table gave one, else the
instrument's band, row by row). This module is below scoring, norms, risk and report so
that each of them can use it without importing a later stage.

Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"x.total.band": ["mild", "mild"],
    ...                       "x.total.band_class": ["normal", "normal"],
    ...                       "x.total.norm_band": ["high", None],
    ...                       "x.total.norm_band_class": ["abnormal", None]})
    >>> choice = choose_band(frame, "x.total", "auto")
    >>> choice.band.tolist(), choice.source.tolist()
    (['high', 'mild'], ['norm', 'instrument'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

BandSource = Literal["auto", "instrument", "norm"]


def band_column_suffix(band_set_ids: Sequence[str], band_set: str | None) -> str:
    """Suffix of the ``band`` / ``band_class`` columns of ``band_set`` among a scale's sets.

    The first band set has no suffix, every further one ``_<id>``; ``None`` means the first.

    Example:
        >>> band_column_suffix(["cn", "uk"], "uk"), band_column_suffix(["cn", "uk"], None)
        ('_uk', '')
    """
    if band_set is None or not band_set_ids or band_set == band_set_ids[0]:
        return ""
    return f"_{band_set}"


def object_values(col: pd.Series | None, n: int) -> np.ndarray:
    """A column as an object array with ``None`` for missing values (absent: all ``None``).

    Example:
        >>> object_values(pd.Series(["a", None]), 2).tolist(), object_values(None, 1).tolist()
        (['a', None], [None])
    """
    if col is None:
        return np.full(n, None, dtype=object)
    if isinstance(col.dtype, pd.CategoricalDtype):  # by codes: no test per cell
        cats = np.asarray(col.cat.categories, dtype=object)
        codes = col.cat.codes.to_numpy()
        out = np.full(n, None, dtype=object)
        has = codes >= 0
        out[has] = cats[codes[has]]
        return out
    s = col.astype(object)
    return s.where(s.notna(), None).to_numpy(dtype=object)


def norm_rows(band_source: str, norm_class: np.ndarray) -> np.ndarray:
    """Per row: does the norm band count (else the instrument's)?

    Example:
        >>> norm_rows("auto", np.array(["normal", None], dtype=object)).tolist()
        [True, False]
    """
    n = len(norm_class)
    if band_source == "instrument":
        return np.zeros(n, bool)
    if band_source == "norm":
        return np.ones(n, bool)
    return np.asarray(norm_class != None, dtype=bool)  # noqa: E711 (elementwise on objects)


@dataclass(frozen=True)
class BandChoice:
    """The band each row counts in, as object arrays (``None``: no band)."""

    klass: np.ndarray  # 'normal' / 'borderline' / 'abnormal' / None
    band: np.ndarray  # band code or None
    source: np.ndarray  # 'instrument' / 'norm' / None
    use_norm: np.ndarray  # bool: the norm columns were read for the row
    #: the band-class columns read: the instrument's (``None``: no instrument bands), the norm's
    class_columns: tuple[str | None, str | None] = (None, None)
    #: the band-code columns that can be read (absent ones give no band)
    band_columns: tuple[str, ...] = ()


def choose_band(
    frame: pd.DataFrame,
    ref: str,
    band_source: str,
    suffix: str = "",
    instrument_bands: bool = True,
) -> BandChoice:
    """The band of scale ``ref`` (``inst.scale``) that counts for each row of ``frame``.

    ``suffix``: of the instrument band set (:func:`band_column_suffix`);
    ``instrument_bands``: whether the scale has instrument bands at all (if not, its
    ``band`` columns are never read).

    Example:
        >>> frame = pd.DataFrame({"x.s.band": ["b1"], "x.s.band_class": ["normal"]})
        >>> choose_band(frame, "x.s", "norm").klass.tolist()
        [None]
    """
    n = len(frame)

    def col(name: str) -> pd.Series | None:
        return frame[name] if name in frame.columns else None

    none = np.full(n, None, dtype=object)
    i_cls = object_values(col(f"{ref}.band_class{suffix}"), n) if instrument_bands else none
    i_band = object_values(col(f"{ref}.band{suffix}"), n) if instrument_bands else none
    n_cls = object_values(col(f"{ref}.norm_band_class"), n)
    n_band = object_values(col(f"{ref}.norm_band"), n)
    use_norm = norm_rows(band_source, n_cls)
    klass = np.where(use_norm, n_cls, i_cls)
    band = np.where(use_norm, n_band, i_band)
    nothing = np.array(None, dtype=object)
    source = np.where(klass != None, np.where(use_norm, "norm", "instrument"), nothing)  # noqa: E711
    own = f"{ref}.band_class{suffix}" if instrument_bands else None
    codes = {"instrument": (f"{ref}.band{suffix}",), "norm": (f"{ref}.norm_band",)}
    band_cols = codes.get(band_source, codes["norm"] + codes["instrument"])
    if not instrument_bands:
        band_cols = codes["norm"]
    return BandChoice(
        klass=klass,
        band=band,
        source=source.astype(object),
        use_norm=use_norm,
        class_columns=(own, f"{ref}.norm_band_class"),
        band_columns=band_cols,
    )


class _Profile(Protocol):
    """What :func:`profile_band` reads of a risk profile."""

    def entry(self, instrument: str) -> Any: ...
    def instrument(self, instrument_id: str) -> Any: ...


def profile_band(frame: pd.DataFrame, profile: _Profile, ref: str) -> BandChoice:
    """:func:`choose_band` for scale ``ref`` as ``profile``'s battery entry says
    (``band_source`` and ``band_set``). Risk evaluation and the batch report both use it,
    so that the report counts the band each row was graded by.

    Example:
        >>> import psyscreen
        >>> prof = psyscreen.load_profile("default")
        >>> s = psyscreen.score(pd.DataFrame({f"gad7_{i}": [3] for i in range(1, 8)}), "gad7")
        >>> profile_band(s, prof, "gad7.total").band.tolist()
        ['severe']
    """
    inst_id, scale_id = ref.split(".", 1)
    entry = profile.entry(inst_id)
    sc = profile.instrument(inst_id).scale(scale_id)
    suffix = band_column_suffix([bs.id for bs in sc.bands], entry.band_set) if sc.bands else ""
    return choose_band(frame, ref, entry.band_source, suffix, bool(sc.bands))
