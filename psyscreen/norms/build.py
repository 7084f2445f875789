"""Building a norm table from a scored sample (for researchers).

:func:`build_norms` turns a scored DataFrame plus demographic columns into a
:class:`~psyscreen.norms.models.NormTable` in the shipped format, so it can be
saved (:func:`~psyscreen.norms.save_norms`), reviewed, loaded and used to
score new data like any shipped table.

Method (stated so a table built here can be described in a paper):

* strata: the product of the age bands (``age_bands`` edges, each band
  ``[edge_i, edge_i+1)`` in exact age), the sexes present (``'sex'`` in
  ``by``) and the school grades (``grade_bands`` edges, or each grade from the
  lowest to the highest present, when ``'grade'`` is in ``by``);
* rows without a raw score, or whose needed age / sex / grade is missing,
  unreadable or outside the bands, are left out (their count is reported in a
  warning); a stratum without rows is an error, a stratum with fewer than
  ``min_n`` rows gets a :class:`NormBuildWarning`;
* ``form='mean_sd'``: the mean and the sample SD (n - 1 denominator) per
  stratum, rounded to ``decimals``, plus descriptive quantiles (linear
  interpolation between order statistics, numpy's default);
* ``form='lookup'`` (integer scales): for every possible raw score ``x`` the
  mid-rank percentile ``100 * (#below + #equal / 2) / n``, kept inside
  ``[50 / n, 100 - 50 / n]``, and the normalised T ``50 + 10 * Phi^-1(p / 100)``;
* ``smooth=True`` (``mean_sd`` with age bands only): each band's mean and SD
  are replaced by the N-weighted average of itself (weight 2 x N) and its
  neighbouring age bands of the same sex and grade (weight 1 x N each); the
  end bands average with their one neighbour. Unsmoothed values are kept in
  the row note. Smoothing gives up the exact mean 50 / SD 10 of T in the
  sample.

Example:
    >>> import numpy as np, pandas as pd
    >>> from psyscreen.norms import build_norms
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"gad7.total.raw": rng.integers(0, 22, 400).astype(float),
    ...                    "sex": rng.choice(["F", "M"], 400), "age": rng.uniform(12, 18, 400)})
    >>> t = build_norms(df, "gad7", "total", by=["sex"], age_bands=[12, 15, 18])
    >>> [r.stratum_label() for r in t.rows]
    ['female, age [12, 15) years', 'female, age [15, 18) years', 'male, age [12, 15) years', \
'male, age [15, 18) years']
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import columns as colnames
from ..definitions import Instrument
from ..demographics import OK, read_demographics, resolve_columns
from ..errors import NormBuildWarning
from ..masks import interval_mask
from ..registry import load_instrument
from .loading import checked
from .models import Interval, NormTable

DEFAULT_QUANTILES = (5, 10, 25, 50, 75, 90, 95)


def _edges(name: str, edges: Sequence[float]) -> list[float]:
    e = [float(x) for x in edges]
    if len(e) < 2 or any(b <= a for a, b in itertools.pairwise(e)):
        raise ValueError(f"{name} must be at least two strictly increasing edges, got {edges!r}")
    return e


def build_norms(
    scored: pd.DataFrame,
    instrument: str | Path | Instrument,
    scale: str | Sequence[str],
    *,
    by: Sequence[str] = (),
    age_bands: Sequence[float] | None = None,
    age_unit: str = "years",
    grade_bands: Sequence[int] | None = None,
    demographics: Mapping[str, str] | None = None,
    form: str = "mean_sd",
    table_id: str | None = None,
    version: str = "1",
    title: str | None = None,
    population: Mapping[str, Any] | None = None,
    citation: str | None = None,
    licence: str = "local sample; redistribution only as its data owner permits",
    min_n: int = 30,
    smooth: bool = False,
    decimals: int = 4,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
) -> NormTable:
    """Build a norm table for ``scale`` (one id or several) of ``instrument`` from a sample.

    Args:
        scored: one row per child, with ``{instrument}.{scale}.raw`` columns
            (as from :func:`psyscreen.score`) and the demographic columns.
        instrument: the scored instrument (id, path or object).
        scale: scale id or ids.
        by: stratify by ``'sex'`` and/or ``'grade'`` (and ``'age'``, which
            needs ``age_bands``).
        age_bands: edges of the age bands in ``age_unit`` (``[8, 11, 14, 17]``
            gives [8, 11), [11, 14), [14, 17)); also bounds the table's age range.
        grade_bands: edges of grade bands (``[3, 5, 7]`` gives grades 3-4, 5-6);
            default one stratum per grade present.
        demographics: role -> column, as for :func:`psyscreen.score`.
        form: ``'mean_sd'`` or ``'lookup'``.
        population: fields of the table's ``population`` (``country``, ``region``,
            ``year``, ``description``); N is filled in.
        citation: full reference of the sample / study (recorded in the table).
        min_n: strata below this N trigger a :class:`NormBuildWarning`.
        smooth: smooth means and SDs across neighbouring age bands (see module).
        decimals: rounding of the stored mean, SD, quantiles, T and percentile.

    Returns:
        A checked :class:`NormTable` (``evidence: primary``, the sample's own values).
    """
    inst = load_instrument(instrument)
    scales = [scale] if isinstance(scale, str) else list(scale)
    by = list(by)
    unknown = set(by) - {"age", "sex", "grade"}
    if unknown:
        raise ValueError(f"by may contain 'age', 'sex', 'grade', not {sorted(unknown)}")
    if "age" in by and age_bands is None:
        raise ValueError("stratifying by age needs age_bands (edges of the age bands)")
    if form not in ("mean_sd", "lookup"):
        raise ValueError(f"form must be 'mean_sd' or 'lookup', not {form!r}")
    if smooth and (form != "mean_sd" or age_bands is None or len(age_bands) < 3):
        raise ValueError("smooth=True needs form='mean_sd' and at least two age bands")
    if age_unit not in ("years", "months"):
        raise ValueError("age_unit must be 'years' or 'months'")
    for s in scales:
        inst.scale(s)
        if form == "lookup" and not inst.scale_is_integer(s):
            raise ValueError(f"form='lookup' needs an integer scale; {inst.id}.{s} is not")
    cols = resolve_columns(scored, demographics)
    demo = read_demographics(scored, cols)
    n = len(scored)

    age_iv = None
    age_cells: list[dict[str, float]] = [{}]
    if age_bands is not None:
        e = _edges("age_bands", age_bands)
        age_iv = {"ge": e[0], "lt": e[-1]}
        age_cells = [{"ge": a, "lt": b} for a, b in itertools.pairwise(e)]
    usable = np.ones(n, dtype=bool)
    age = demo.age(age_unit)
    if age_iv is not None:
        usable &= demo.age_status == OK
        usable &= (age >= age_iv["ge"]) & (age < age_iv["lt"])
    sexes: list[str | None] = [None]
    if "sex" in by:
        usable &= demo.sex_status == OK
        present = set(demo.sex[usable & (demo.sex_status == OK)].tolist())
        sexes = [s for s in ("female", "male") if s in present]
        if not sexes:
            raise ValueError("no row has a readable sex")
    grade_cells: list[dict[str, float]] = [{}]
    grade_iv = None
    if "grade" in by:
        usable &= demo.grade_status == OK
        g = demo.grade[usable]
        if len(g) == 0:
            raise ValueError("no row has a readable grade")
        if grade_bands is not None:
            e = _edges("grade_bands", grade_bands)
            grade_iv = {"ge": e[0], "lt": e[-1]}
            grade_cells = [{"ge": a, "lt": b} for a, b in itertools.pairwise(e)]
            usable &= (demo.grade >= e[0]) & (demo.grade < e[-1])
        else:
            lo, hi = int(np.nanmin(g)), int(np.nanmax(g))
            grade_iv = {"ge": lo, "le": hi}
            grade_cells = [{"ge": k, "le": k} for k in range(lo, hi + 1)]

    rows: list[dict[str, Any]] = []
    total_used = 0
    for s in scales:
        raw = scored[colnames.scale(inst.id, s, "raw")].to_numpy(dtype=float, na_value=np.nan)
        ok = usable & ~np.isnan(raw)
        left_out = int((~ok).sum())
        if left_out:
            warnings.warn(
                f"{inst.id}.{s}: {left_out} of {n} rows left out (no score, or age / sex / "
                "grade missing, unreadable or outside the bands)",
                NormBuildWarning,
                stacklevel=2,
            )
        total_used = max(total_used, int(ok.sum()))
        scale_rows = []
        for sex, gc, ac in itertools.product(sexes, grade_cells, age_cells):
            m = ok.copy()
            if sex is not None:
                m &= demo.sex == sex
            if gc:
                m &= interval_mask(demo.grade, Interval(**gc))
            if ac:
                m &= interval_mask(age, Interval(**ac))
            x = raw[m]
            row: dict[str, Any] = {"scale": s}
            if ac:
                row["age"] = dict(ac)
            if sex is not None:
                row["sex"] = sex
            if gc:
                row["grade"] = dict(gc)
            where = _describe(s, sex, gc, ac, age_unit)
            if len(x) == 0:
                raise ValueError(f"{inst.id}.{where}: no rows in this stratum")
            if len(x) < min_n:
                warnings.warn(
                    f"{inst.id}.{where}: only {len(x)} rows (min_n={min_n}); its norms are "
                    "imprecise",
                    NormBuildWarning,
                    stacklevel=2,
                )
            row["n"] = len(x)
            if form == "mean_sd":
                if len(x) < 2:
                    raise ValueError(f"{inst.id}.{where}: an SD needs at least 2 rows")
                sd = float(np.std(x, ddof=1))
                if sd == 0:
                    raise ValueError(f"{inst.id}.{where}: all scores equal; SD is 0")
                row["mean"] = float(np.mean(x))
                row["sd"] = sd
                row["quantiles"] = [
                    {"p": float(q), "raw": round(float(np.quantile(x, q / 100)), decimals)}
                    for q in quantiles
                ]
            else:
                s_min, s_max = inst.scale_range(s)
                row["lookup"] = _lookup_entries(x, int(s_min), int(s_max), decimals)
            scale_rows.append((sex, tuple(sorted(gc.items())), row))
        if smooth:
            _smooth(scale_rows)
        for _, _, row in scale_rows:
            if form == "mean_sd":
                row["mean"] = round(row["mean"], decimals)
                row["sd"] = round(row["sd"], decimals)
            rows.append(row)

    covers: dict[str, Any] = {"age_unit": age_unit}
    if age_iv is not None:
        covers["age"] = age_iv
    if sexes != [None]:
        covers["sex"] = sexes
    if grade_iv is not None:
        covers["grade"] = grade_iv
    pop = {"country": "unspecified", **dict(population or {})}
    pop["n"] = total_used
    method = (
        f"Built with psyscreen.build_norms (form {form}"
        + (", smoothed across age bands (1-2-1 N-weighted)" if smooth else "")
        + f", min_n {min_n})."
    )
    data = {
        "id": table_id or f"{inst.id}_local",
        "version": version,
        "title": {"en": title or f"{inst.id} norms built from a local sample"},
        "instrument": inst.id,
        "instrument_version": inst.version,
        "form": form,
        "population": pop,
        "covers": covers,
        "citations": [
            {
                "key": "sample",
                "text": citation or "Local normative sample (no citation given).",
                "evidence": "primary",
            }
        ],
        "source": "sample",
        "licence": {"name": licence},
        "evidence": "primary",
        "notes": [method],
        "rows": rows,
    }
    table = NormTable.model_validate(data)
    return checked(table, inst)


def _describe(scale: str, sex, gc, ac, unit: str) -> str:
    parts = [scale]
    if sex is not None:
        parts.append(sex)
    if gc:
        parts.append("grade " + "..".join(str(v) for v in gc.values()))
    if ac:
        parts.append(f"age [{ac['ge']:g}, {ac['lt']:g}) {unit}")
    return " ".join(parts)


def _lookup_entries(x: np.ndarray, lo: int, hi: int, decimals: int) -> list[dict[str, float]]:
    n = len(x)
    values = np.arange(lo, hi + 1, dtype=float)
    xs = np.sort(x)
    below = np.searchsorted(xs, values, side="left")
    equal = np.searchsorted(xs, values, side="right") - below
    p = 100.0 * (below + 0.5 * equal) / n
    p = np.clip(p, 50.0 / n, 100.0 - 50.0 / n)
    from scipy.special import ndtri

    t = 50.0 + 10.0 * ndtri(p / 100.0)
    return [
        {"raw": float(v), "t": round(float(tv), decimals), "percentile": round(float(pv), decimals)}
        for v, tv, pv in zip(values, t, p)
    ]


def _smooth(scale_rows: list[tuple[Any, Any, dict[str, Any]]]) -> None:
    """1-2-1 N-weighted smoothing of mean and SD across age bands, per sex x grade."""
    groups: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for sex, g, row in scale_rows:
        groups.setdefault((sex, g), []).append(row)
    for band_rows in groups.values():
        band_rows.sort(key=lambda r: r["age"]["ge"])
        orig = [(r["mean"], r["sd"], r["n"]) for r in band_rows]
        for i, r in enumerate(band_rows):
            w = {i: 2.0 * orig[i][2]}
            if i > 0:
                w[i - 1] = float(orig[i - 1][2])
            if i + 1 < len(orig):
                w[i + 1] = float(orig[i + 1][2])
            tot = sum(w.values())
            r["mean"] = sum(orig[j][0] * wj for j, wj in w.items()) / tot
            r["sd"] = sum(orig[j][1] * wj for j, wj in w.items()) / tot
            r["note"] = f"smoothed; unsmoothed mean {orig[i][0]:.{4}f}, SD {orig[i][1]:.{4}f}"
            if not math.isfinite(r["sd"]) or r["sd"] <= 0:  # pragma: no cover - guarded above
                raise ValueError("smoothing produced a non-positive SD")
