"""Standard scores: z, T, percentile and norm bands for the right stratum.

:func:`apply_norms` is called by :func:`psyscreen.score` when ``norms=`` is
given. For every scale a norm table covers it adds the columns
``{instrument}.{scale}.{field}``:

=================  ============================================================
field              meaning
=================  ============================================================
z                  (raw - mean) / sd, or (T - 50) / 10 from a lookup
t                  50 + 10 z, or the T printed in a lookup
percentile         100 * Phi(z) (normal distribution) unless a lookup prints it
norm_band          band code from a band table or the table's ``t_bands``
norm_band_class    normal / borderline / abnormal of that band
norm_table         ``id@version`` of the table used
norm_stratum       readable label of the stratum (e.g. ``female, age [8, 17) years``)
norm_status        ok / no_score / no_demographics / invalid_demographics /
                   no_stratum / out_of_table
=================  ============================================================

and, once per call, the row's ``norms.age`` (years), ``norms.age_source``
(``dates`` / ``given`` / empty), ``norms.sex`` and ``norms.grade`` as read.

Statuses, by precedence: ``no_score`` (the scale has no raw score),
``invalid_demographics`` (a needed age / sex / grade is present but cannot be
read), ``no_demographics`` (a needed one is absent), ``no_stratum`` (the
child's age / sex / grade lies outside every stratum: no nearest group is
ever used), ``out_of_table`` (a raw score the table does not cover; cannot
happen with a table checked against its instrument). Only ``ok`` rows get z,
T, percentile and band. Every value depends on the row alone.

Example:
    >>> import pandas as pd, psyscreen
    >>> items = {f"scared_c_{i}": [1] for i in range(1, 42)}
    >>> df = pd.DataFrame({**items, "sex": ["女"], "age": [12]})
    >>> out = psyscreen.score(df, "scared_c", norms="scared_c_cn_12city2008")
    >>> row = out.iloc[0]
    >>> float(row["scared_c.total.raw"]), round(float(row["scared_c.total.t"]), 1)
    (41.0, 75.4)
    >>> row["scared_c.total.norm_status"], row["scared_c.total.norm_stratum"]
    ('ok', 'female, age [8, 17) years')
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import columns as colnames
from ..bands import apply_bands
from ..categories import VOCAB_DTYPES, DtypeCache, from_codes, from_values
from ..columns import NORM_FIELDS
from ..definitions import BandSet, Instrument
from ..demographics import Demographics, read_demographics, resolve_columns
from ..masks import interval_mask
from ..vocab import AgeSource, BandClass, NormStatus, ParseStatus
from .loading import NormLike, checked, list_norms, read_table
from .models import NormTable

NORM_STATUSES = NormStatus.names()
#: (instrument, scale) -> the table that standardises it (see :func:`select_tables`).
Chosen = Mapping[tuple[str, str], NormTable]


def _as_list(norms: Any) -> list[Any]:
    if isinstance(norms, (list, tuple)):
        return list(norms)
    return [norms]


def select_tables(norms: Any, insts: Sequence[Instrument]) -> dict[tuple[str, str], NormTable]:
    """Which table standardises which ``(instrument, scale)``.

    Explicit tables (ids, paths, :class:`NormTable` objects) come first; two
    explicit tables for the same scale are an error, as is a table for an
    instrument that is not being scored. ``'auto'`` then adds every shipped
    table of a scored instrument (same version) for the scales not yet
    covered; when several shipped tables fit one scale, the one marked
    ``auto_default`` is used, and without such a mark the call fails naming
    the candidates.
    """
    by_id = {i.id: i for i in insts}
    chosen: dict[tuple[str, str], NormTable] = {}
    entries = _as_list(norms)
    auto = any(isinstance(e, str) and e == "auto" for e in entries)
    for e in entries:
        if isinstance(e, str) and e == "auto":
            continue
        table = read_table(e)
        inst = by_id.get(table.instrument)
        if inst is None:
            scored = ", ".join(by_id) or "none"
            raise ValueError(
                f"norm table {table.ref} is for instrument {table.instrument!r}, which is not "
                f"being scored (scored: {scored})"
            )
        checked(table, inst)
        for scale in table.scales:
            key = (inst.id, scale)
            if key in chosen and chosen[key].ref != table.ref:
                raise ValueError(
                    f"two norm tables given for {inst.id}.{scale}: {chosen[key].ref} and "
                    f"{table.ref}; give one"
                )
            chosen[key] = table
    if auto:
        candidates: dict[tuple[str, str], list[NormTable]] = {}
        for tid in list_norms():
            table = read_table(tid)
            inst = by_id.get(table.instrument)
            if inst is None:
                continue
            if inst.version != table.instrument_version:
                warnings.warn(
                    f"shipped norm table {table.ref} is for {inst.id} version "
                    f"{table.instrument_version!r}, not the scored version {inst.version!r}; "
                    "not used",
                    stacklevel=3,
                )
                continue
            checked(table, inst)
            for scale in table.scales:
                if (inst.id, scale) not in chosen:
                    candidates.setdefault((inst.id, scale), []).append(table)
        for key, tables in candidates.items():
            if len(tables) == 1:
                chosen[key] = tables[0]
                continue
            default = [t for t in tables if t.auto_default]
            if len(default) != 1:
                names = ", ".join(t.ref for t in tables)
                raise ValueError(
                    f"several shipped norm tables fit {key[0]}.{key[1]} ({names}) and none is "
                    f"the default; choose with norms=[...]"
                )
            chosen[key] = default[0]
    return chosen


def apply_norms(
    scores: pd.DataFrame,
    data: pd.DataFrame,
    insts: list[Instrument],
    norms: NormLike | str | Iterable[NormLike | str],
    demographics: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Add standard-score columns to ``scores`` (see the module docstring).

    Args:
        scores: output of scoring, with ``{instrument}.{scale}.raw`` columns;
            a scale whose raw column is absent is left out.
        data: the input rows (same length and order as ``scores``) holding the
            demographic columns.
        insts: the scored instruments.
        norms: a table id, path, :class:`NormTable`, ``'auto'``, or a list of these.
        demographics: role -> column for ``age`` (years), ``sex``,
            ``birth_date``, ``assessment_date``, ``grade``; by default columns
            with exactly those names.
    """
    if len(scores) != len(data):
        raise ValueError("scores and data must have the same number of rows")
    chosen = select_tables(norms, insts)
    demo = read_demographics(data, resolve_columns(data, demographics))
    return add_norm_columns(scores, insts, chosen, demo)


def add_norm_columns(
    scores: pd.DataFrame,
    insts: Sequence[Instrument],
    chosen: Chosen,
    demo: Demographics,
    dtypes: DtypeCache | None = None,
) -> pd.DataFrame:
    """The norm stage: ``scores`` plus the columns of every scale a table in ``chosen``
    covers, from tables already selected and demographics already read.

    Example:
        >>> import pandas as pd, psyscreen
        >>> from psyscreen.demographics import read_demographics
        >>> inst = psyscreen.load_instrument("scared_c")
        >>> scores = pd.DataFrame({"scared_c.total.raw": [41.0]})
        >>> demo = read_demographics(pd.DataFrame({"sex": ["女"], "age": [12]}),
        ...                          {"sex": "sex", "age": "age"})
        >>> chosen = select_tables("scared_c_cn_12city2008", [inst])
        >>> out = add_norm_columns(scores, [inst], chosen, demo)
        >>> out["scared_c.total.norm_status"].tolist()
        ['ok']
    """
    new: dict[str, Any] = {}
    for inst in insts:
        for scale in inst.scales:
            table = chosen.get((inst.id, scale.id))
            if table is None:
                continue
            raw_col = colnames.scale(inst.id, scale.id, "raw")
            if raw_col not in scores.columns:  # a caller passing only some scales
                continue
            raw = scores[raw_col].to_numpy(dtype=float, na_value=np.nan)
            out = standardise(raw, table, scale.id, demo, dtypes)
            for f in NORM_FIELDS:
                new[colnames.scale(inst.id, scale.id, f)] = out[f]
    if chosen:
        new[colnames.norms("age")] = demo.age_years
        new[colnames.norms("age_source")] = from_values(demo.age_source, AgeSource.names(), dtypes)
        new[colnames.norms("sex")] = from_values(demo.sex, ["female", "male"], dtypes)
        new[colnames.norms("grade")] = demo.grade
    extra = pd.DataFrame(new, index=scores.index)
    return pd.concat([scores, extra], axis=1)


def _unique_labels(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, lab in enumerate(labels):
        out.append(lab if lab not in seen else f"{lab} (rows[{i}])")
        seen[lab] = i
    return out


def stratum_of(table: NormTable, scale: str, demo: Demographics) -> tuple[np.ndarray, np.ndarray]:
    """Per row: index into ``table.rows_for(scale)`` (-1: none) and a status code.

    The status is ``ok``, ``no_demographics``, ``invalid_demographics`` or
    ``no_stratum`` (codes of :data:`NORM_STATUSES`).
    """
    rows = table.rows_for(scale)
    cov = table.covers
    n = len(demo.age_years)
    missing = np.zeros(n, dtype=bool)
    invalid = np.zeros(n, dtype=bool)
    age = demo.age(cov.age_unit)
    if cov.age is not None:
        missing |= demo.age_status == ParseStatus.MISSING
        invalid |= demo.age_status == ParseStatus.INVALID
    if cov.sex is not None:
        missing |= demo.sex_status == ParseStatus.MISSING
        invalid |= demo.sex_status == ParseStatus.INVALID
    if cov.grade is not None:
        missing |= demo.grade_status == ParseStatus.MISSING
        invalid |= demo.grade_status == ParseStatus.INVALID
    stratum = np.full(n, -1, dtype=np.int64)
    for k, (_, r) in enumerate(rows):
        m = np.ones(n, dtype=bool)
        # a table covering a dimension has its bounds in every row (models._check_row)
        if cov.age is not None:
            m &= interval_mask(age, r.age) if r.age is not None else False
        if cov.sex is not None:
            m &= demo.sex == r.sex
        if cov.grade is not None:
            m &= interval_mask(demo.grade, r.grade) if r.grade is not None else False
        stratum[m & (stratum < 0)] = k
    status = np.full(n, NormStatus.OK.code, dtype=np.int8)
    status[stratum < 0] = NormStatus.NO_STRATUM.code
    status[missing] = NormStatus.NO_DEMOGRAPHICS.code
    status[invalid] = NormStatus.INVALID_DEMOGRAPHICS.code
    stratum[missing | invalid] = -1
    return stratum, status


def standardise(
    raw: np.ndarray,
    table: NormTable,
    scale: str,
    demo: Demographics,
    dtypes: DtypeCache | None = None,
) -> dict[str, Any]:
    """The norm columns of one scale (arrays/categoricals keyed by field name)."""
    rows = [r for _, r in table.rows_for(scale)]
    n = len(raw)
    stratum, status = stratum_of(table, scale, demo)
    status[np.isnan(raw)] = NormStatus.NO_SCORE.code
    z = np.full(n, np.nan)
    t = np.full(n, np.nan)
    pct = np.full(n, np.nan)
    band_codes: list[str] = []
    band_idx = np.full(n, -1, dtype=np.int64)
    klass_idx = np.full(n, -1, dtype=np.int8)
    ok = status == NormStatus.OK.code
    if table.form == "mean_sd":
        mean = np.array([r.mean for r in rows], dtype=float)
        sd = np.array([r.sd for r in rows], dtype=float)
        k = stratum[ok]
        z[ok] = (raw[ok] - mean[k]) / sd[k]
        t[ok] = 50.0 + 10.0 * z[ok]
        from scipy.special import ndtr  # imported here: keeps `import psyscreen` light

        pct[ok] = 100.0 * ndtr(z[ok])
    elif table.form == "lookup":
        for k, r in enumerate(rows):
            sel = np.nonzero(ok & (stratum == k))[0]
            if len(sel) == 0:
                continue
            tz, tt, tp, hit = _lookup(r.lookup, raw[sel])
            z[sel], t[sel], pct[sel] = tz, tt, tp
            status[sel[~hit]] = NormStatus.OUT_OF_TABLE.code
    else:
        for k, r in enumerate(rows):
            sel = np.nonzero(ok & (stratum == k))[0]
            if len(sel) == 0:
                continue
            bs = BandSet(id="norm", source=table.source, bands=r.bands)
            codes, klass = apply_bands(raw[sel], bs, dtypes)
            local = np.array(codes.codes, dtype=np.int64)
            mapping = np.array([_code_index(band_codes, c) for c in codes.categories] + [-1])
            band_idx[sel] = mapping[local]
            klass_idx[sel] = np.array(klass.codes, dtype=np.int8)
            status[sel[local < 0]] = NormStatus.OUT_OF_TABLE.code
    if table.t_bands is not None:
        codes, klass = apply_bands(t, table.t_bands, dtypes)
        band_codes = list(codes.categories)
        band_idx = np.array(codes.codes, dtype=np.int64)
        klass_idx = np.array(klass.codes, dtype=np.int8)
    bad = status != NormStatus.OK.code
    for arr in (z, t, pct):
        arr[bad] = np.nan
    band_idx[bad] = -1
    klass_idx[bad] = -1
    labels = _unique_labels([r.stratum_label(table.covers.age_unit) for r in rows])
    return {
        "z": z,
        "t": t,
        "percentile": pct,
        "norm_band": from_codes(band_idx, band_codes, dtypes),
        "norm_band_class": from_codes(klass_idx, VOCAB_DTYPES[BandClass]),
        "norm_table": from_codes(np.zeros(n, dtype=np.int8), [table.ref], dtypes),
        "norm_stratum": from_codes(stratum, labels, dtypes),
        "norm_status": from_codes(status, VOCAB_DTYPES[NormStatus]),
    }


def _code_index(codes: list[str], code: str) -> int:
    if code not in codes:
        codes.append(code)
    return codes.index(code)


def _lookup(entries, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """z, T, percentile and a hit mask for raw scores ``x`` in a lookup."""
    ivs = [e.interval() for e in entries]
    lo = np.array([-np.inf if iv.lower is None else iv.lower for iv in ivs])
    lo_excl = np.array([iv.gt is not None for iv in ivs])
    idx = np.searchsorted(lo, x, side="right") - 1
    idx = np.clip(idx, 0, len(ivs) - 1)
    step_back = (x == lo[idx]) & lo_excl[idx] & (idx > 0)
    idx = np.where(step_back, idx - 1, idx)
    hit = np.zeros(len(x), dtype=bool)
    for j, iv in enumerate(ivs):
        on = idx == j
        if on.any():
            hit[on] = interval_mask(x[on], iv)
    tv = np.array([np.nan if e.t is None else e.t for e in entries])[idx]
    pv = np.array([np.nan if e.percentile is None else e.percentile for e in entries])[idx]
    from scipy.special import ndtr, ndtri

    z = np.where(np.isnan(tv), ndtri(pv / 100.0), (tv - 50.0) / 10.0)
    t = np.where(np.isnan(tv), 50.0 + 10.0 * z, tv)
    p = np.where(np.isnan(pv), 100.0 * ndtr(z), pv)
    z[~hit] = t[~hit] = p[~hit] = np.nan
    return z, t, p, hit
