"""Pydantic models of a norm table and the checks a table must pass.

A norm table (one YAML file in ``norms/``) belongs to one instrument version
and gives, for one or more of its scales, one *row* per stratum (age band x
sex [x grade]) in one of three *forms*:

``mean_sd``
    ``mean`` and ``sd`` of the raw score: ``z = (raw - mean) / sd``,
    ``T = 50 + 10 z`` and the percentile ``100 * Phi(z)`` from the normal
    distribution (an assumption, not an empirical percentile).
``lookup``
    raw score (or a range of raw scores) -> ``t`` and/or ``percentile`` as
    printed; a missing one is derived through the normal distribution
    (``percentile = 100 * Phi((t - 50) / 10)`` or ``t = 50 + 10 Phi^-1(p/100)``).
``bands``
    band cutoffs of the raw score per stratum (explicit ``ge``/``gt``/``le``/
    ``lt`` bounds and a normal / borderline / abnormal classification).

``mean_sd`` and ``lookup`` tables may add ``t_bands``: a classification of the
T score (e.g. T >= 70 abnormal).

Checks made here, without the instrument (see :func:`check_instrument` for
the rest): strata of a scale neither overlap nor leave a gap inside the range
the table declares in ``covers``; a lookup's entries do not overlap and its T
and percentile never decrease as the raw score rises; quantiles rise with p.
Errors name the row (``rows[3]``) and the problem.

Example:
    >>> t = NormTable.model_validate({
    ...     "id": "demo", "version": "1", "title": {"en": "Demo"},
    ...     "instrument": "gad7", "instrument_version": "2006", "form": "mean_sd",
    ...     "population": {"country": "XX"}, "covers": {"sex": ["female", "male"]},
    ...     "licence": {"name": "made up"}, "source": "demo", "evidence": "unverified",
    ...     "citations": [{"key": "demo", "text": "Made-up example.", "evidence": "unverified"}],
    ...     "rows": [{"scale": "total", "sex": "female", "mean": 5, "sd": 4},
    ...              {"scale": "total", "sex": "male", "mean": 4, "sd": 4}]})
    >>> t.scales
    ['total']
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, model_validator

from ..definitions import (
    Band,
    BandSet,
    Citation,
    Identifier,
    Instrument,
    Interval,
    SourcedModel,
    Text,
    _Model,
)
from ..errors import TableError
from ..formatting import format_number as _num

Sex = Literal["female", "male"]


class Coverage(_Model):
    """The range of the population a table covers, and what it is stratified by.

    ``age`` (with ``age_unit``) bounds the ages the table applies to; every row
    then gives its own age band inside it and the rows must tile it without gap
    or overlap. ``sex`` lists the sexes when the table is split by sex (each
    row then names one); omit it when the norms are for both sexes together.
    ``grade`` (school grade 1-12) works like ``age``. A child's age, sex or
    grade is needed exactly for the dimensions given here.
    """

    age: Interval | None = None
    age_unit: Literal["years", "months"] = "years"
    sex: list[Sex] | None = Field(None, min_length=1)
    grade: Interval | None = None

    @model_validator(mode="after")
    def _finite(self) -> Coverage:
        for name in ("age", "grade"):
            iv = getattr(self, name)
            if iv is not None and (iv.lower is None or iv.upper is None):
                raise ValueError(f"covers.{name} needs both a lower and an upper bound")
        if self.sex is not None and len(set(self.sex)) != len(self.sex):
            raise ValueError("covers.sex lists a sex twice")
        return self


class Population(_Model):
    """The normative sample."""

    country: str = Field(description="Country or region code/name, e.g. CN, GB.")
    region: str | None = Field(None, description="Region or cities sampled.")
    year: str | None = Field(None, description="Year(s) of data collection, e.g. '2001-2002'.")
    n: int | None = Field(None, ge=1, description="Total N of the normative sample.")
    description: str | None = None


class NormLicence(_Model):
    """Terms under which the table's values may be used and redistributed."""

    name: str
    url: str | None = None
    note: str | None = None


class LookupEntry(_Model):
    """One raw score (``raw``) or a range (``ge``/``gt``/``le``/``lt``) -> T and/or percentile."""

    raw: float | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    t: float | None = None
    percentile: float | None = Field(None, ge=0, le=100)

    @model_validator(mode="after")
    def _shape(self) -> LookupEntry:
        bounds = [self.ge, self.gt, self.le, self.lt]
        if (self.raw is None) == all(b is None for b in bounds):
            raise ValueError("give either 'raw' or bounds (ge/gt/le/lt)")
        if self.t is None and self.percentile is None:
            raise ValueError("give 't' and/or 'percentile'")
        if self.t is None and self.percentile in (0, 100):
            raise ValueError("a percentile of 0 or 100 gives no finite T; give 't' too")
        self.interval()  # raises for inconsistent bounds
        return self

    def interval(self) -> Interval:
        if self.raw is not None:
            return Interval(ge=self.raw, le=self.raw)
        return Interval(ge=self.ge, gt=self.gt, le=self.le, lt=self.lt)


class Quantile(_Model):
    """A descriptive quantile of the raw score in a stratum: ``p`` percent score <= ``raw``."""

    p: float = Field(gt=0, lt=100)
    raw: float


class NormRow(_Model):
    """One stratum of one scale."""

    scale: Identifier
    age: Interval | None = None
    sex: Sex | None = None
    grade: Interval | None = None
    n: int | None = Field(None, ge=1, description="N of this stratum; null when not published.")
    label: Text | None = Field(None, description="Readable stratum label (else generated).")
    mean: float | None = None
    sd: float | None = Field(None, gt=0)
    quantiles: list[Quantile] = Field(default_factory=list)
    lookup: list[LookupEntry] = Field(default_factory=list)
    bands: list[Band] = Field(default_factory=list)
    note: str | None = None
    unverified: str | None = Field(None, description="Why this row is not verified.")

    def stratum_label(self, unit: str = "years") -> str:
        """The row's label, or one generated from its bounds."""
        if self.label is not None:
            return self.label.best("en")
        parts: list[str] = []
        if self.sex is not None:
            parts.append(self.sex)
        if self.age is not None:
            parts.append("age " + self.age.describe(unit))
        if self.grade is not None:
            parts.append("grade " + self.grade.describe())
        return ", ".join(parts) or "all"


class NormTable(SourcedModel):
    """A norm table: see the module docstring and ``docs/norms.md``."""

    id: Identifier
    version: str
    title: Text
    instrument: Identifier = Field(description="Id of the instrument the table belongs to.")
    instrument_version: str = Field(description="Version of that instrument definition.")
    form: Literal["mean_sd", "lookup", "bands"]
    description: str | None = None
    population: Population
    covers: Coverage
    t_bands: BandSet | None = Field(
        None, description="Classification of T scores (mean_sd and lookup tables only)."
    )
    citations: list[Citation] = Field(min_length=1)
    source: Identifier = Field(description="Citation key of the table's values.")
    licence: NormLicence
    evidence: Literal["primary", "secondary", "unverified"] = Field(
        description="primary: values read in the original publication; secondary: "
        "third-party copy or abstract; unverified: not confirmed."
    )
    unverified: list[str] = Field(default_factory=list)
    auto_default: bool = Field(
        False,
        description="Chosen by norms='auto' when several shipped tables fit the same scale.",
    )
    notes: list[str] = Field(default_factory=list)
    rows: list[NormRow] = Field(min_length=1)

    @property
    def ref(self) -> str:
        """``id@version``, as written to the ``norm_table`` column."""
        return f"{self.id}@{self.version}"

    @property
    def scales(self) -> list[str]:
        """Scale ids the table covers, in order of first appearance."""
        return list(dict.fromkeys(r.scale for r in self.rows))

    def rows_for(self, scale: str) -> list[tuple[int, NormRow]]:
        """``(index, row)`` of every row of ``scale``."""
        return [(i, r) for i, r in enumerate(self.rows) if r.scale == scale]

    @model_validator(mode="after")
    def _check(self) -> NormTable:
        keys = [c.key for c in self.citations]
        if len(set(keys)) != len(keys):
            raise TableError("citations", "duplicate citation key")
        if self.source not in keys:
            raise TableError("source", f"unknown citation {self.source!r}")
        if self.t_bands is not None:
            if self.form == "bands":
                raise TableError("t_bands", "t_bands need a mean_sd or lookup table")
            if self.t_bands.source not in keys:
                raise TableError("t_bands.source", f"unknown citation {self.t_bands.source!r}")
            try:
                self.t_bands.check_partition(-math.inf, math.inf)
            except ValueError as e:
                raise TableError("t_bands", str(e)) from None
        for i, row in enumerate(self.rows):
            _check_row(self, i, row)
        for scale in self.scales:
            _check_strata(self, scale)
        return self


def _check_row(t: NormTable, i: int, row: NormRow) -> None:
    p = f"rows[{i}]"
    given = {
        "mean": row.mean is not None,
        "sd": row.sd is not None,
        "quantiles": bool(row.quantiles),
        "lookup": bool(row.lookup),
        "bands": bool(row.bands),
    }
    need = {"mean_sd": ("mean", "sd"), "lookup": ("lookup",), "bands": ("bands",)}[t.form]
    allowed = set(need) | ({"quantiles"} if t.form == "mean_sd" else set())
    missing = [f for f in need if not given[f]]
    if missing:
        raise TableError(p, f"a {t.form} table needs {' and '.join(missing)} in every row")
    extra = [f for f, g in given.items() if g and f not in allowed]
    if extra:
        raise TableError(p, f"{', '.join(extra)} do not belong in a {t.form} table")
    cov = t.covers
    for dim in ("age", "grade"):
        iv, civ = getattr(row, dim), getattr(cov, dim)
        if civ is None and iv is not None:
            raise TableError(f"{p}.{dim}", f"the table does not declare covers.{dim}")
        if civ is not None:
            if iv is None:
                raise TableError(p, f"{dim} bounds are required (the table covers {dim})")
            if not iv.within(civ):
                raise TableError(
                    f"{p}.{dim}",
                    f"{dim} {iv.describe()} lies outside covers.{dim} {civ.describe()}",
                )
    if row.grade is not None and not any(row.grade.contains(g) for g in range(1, 13)):
        raise TableError(f"{p}.grade", f"grade {row.grade.describe()} contains no grade 1-12")
    if cov.sex is None and row.sex is not None:
        raise TableError(f"{p}.sex", "the table is not split by sex (no covers.sex)")
    if cov.sex is not None:
        if row.sex is None:
            raise TableError(p, "sex is required (the table is split by sex)")
        if row.sex not in cov.sex:
            raise TableError(f"{p}.sex", f"{row.sex!r} is not in covers.sex")
    if row.quantiles:
        ps = [q.p for q in row.quantiles]
        if ps != sorted(ps) or len(set(ps)) != len(ps):
            raise TableError(f"{p}.quantiles", "quantiles must be listed by increasing p")
        for j, (a, b) in enumerate(itertools.pairwise(row.quantiles)):
            if b.raw < a.raw:
                raise TableError(
                    f"{p}.quantiles[{j + 1}]",
                    f"non-monotone: P{_num(b.p)} = {_num(b.raw)} is below "
                    f"P{_num(a.p)} = {_num(a.raw)}",
                )
    if row.lookup:
        _check_lookup(p, row.lookup)


def _entry_key(e: LookupEntry) -> tuple[float, int]:
    iv = e.interval()
    return (-math.inf if iv.lower is None else iv.lower, 1 if iv.gt is not None else 0)


def _check_lookup(p: str, entries: list[LookupEntry]) -> None:
    order = sorted(range(len(entries)), key=lambda j: _entry_key(entries[j]))
    if order != list(range(len(entries))):
        raise TableError(f"{p}.lookup", "entries must be listed by increasing raw score")
    for j in range(1, len(entries)):
        a, b = entries[j - 1].interval(), entries[j].interval()
        if a.upper is None or b.lower is None:
            raise TableError(f"{p}.lookup[{j}]", "overlaps the previous entry")
        if a.upper > b.lower or (a.upper == b.lower and a.le is not None and b.ge is not None):
            raise TableError(
                f"{p}.lookup[{j}]",
                f"raw {b.describe()} overlaps the previous entry {a.describe()}",
            )
        for field in ("t", "percentile"):
            prev = [getattr(entries[k], field) for k in range(j)]
            prev = [v for v in prev if v is not None]
            cur = getattr(entries[j], field)
            if prev and cur is not None and cur < max(prev):
                raise TableError(
                    f"{p}.lookup[{j}]",
                    f"non-monotone {field}: {_num(cur)} at raw {b.describe()} is below "
                    f"{_num(max(prev))} at a lower raw score",
                )


def _points(iv: Interval | None, bounds: list[Interval], integer: bool) -> Sequence[float | None]:
    """Test points that hit every elementary piece of ``iv`` cut at the rows' bounds."""
    if iv is None:
        return [None]
    lower, upper = iv.lower, iv.upper
    if lower is None or upper is None:  # Coverage refuses open bounds before this runs
        raise TableError("covers", "needs both a lower and an upper bound")
    if integer:
        return [float(g) for g in range(math.floor(lower), math.ceil(upper) + 1) if iv.contains(g)]
    cuts = {lower, upper}
    for b in bounds:
        cuts.update(x for x in (b.lower, b.upper) if x is not None)
    inside = sorted(c for c in cuts if lower <= c <= upper)
    pts = inside + [(a + b) / 2 for a, b in itertools.pairwise(inside)]
    return sorted(x for x in pts if iv.contains(x))


def _where(sex: str | None, age: float | None, grade: float | None, unit: str) -> str:
    parts = []
    if sex is not None:
        parts.append(sex)
    if age is not None:
        parts.append(f"age {_num(age)} {unit}")
    if grade is not None:
        parts.append(f"grade {_num(grade)}")
    return ", ".join(parts) or "the whole population"


def _check_strata(t: NormTable, scale: str) -> None:
    """No two rows of ``scale`` overlap and together they cover ``t.covers``."""
    rows = t.rows_for(scale)
    cov = t.covers
    ages = _points(cov.age, [r.age for _, r in rows if r.age is not None], integer=False)
    grades = _points(cov.grade, [], integer=True)
    sexes: list[str | None] = list(cov.sex) if cov.sex is not None else [None]
    for sex, age, grade in itertools.product(sexes, ages, grades):
        hits = [
            i
            for i, r in rows
            if (sex is None or r.sex == sex)
            # a table covering a dimension has its bounds in every row (_check_row)
            and (age is None or (r.age is not None and r.age.contains(age)))
            and (grade is None or (r.grade is not None and r.grade.contains(grade)))
        ]
        where = _where(sex, age, grade, cov.age_unit)
        if not hits:
            raise TableError("rows", f"scale {scale!r}: gap: no row covers {where} (inside covers)")
        if len(hits) > 1:
            raise TableError(
                f"rows[{hits[1]}]",
                f"scale {scale!r}: overlaps rows[{hits[0]}] at {where}",
            )


def check_instrument(t: NormTable, inst: Instrument) -> None:
    """Check ``t`` against the instrument it belongs to; raise :class:`TableError`.

    The instrument id and version must match, every scale must exist, a lookup
    must cover every raw score the scale can take (every integer in its range
    for an integer scale, else the whole interval), bands must partition the
    scale's range, and a mean must lie inside the range.
    """
    if inst.id != t.instrument:
        raise TableError("instrument", f"table is for {t.instrument!r}, not {inst.id!r}")
    if inst.version != t.instrument_version:
        raise TableError(
            "instrument_version",
            f"table is for {t.instrument} version {t.instrument_version!r}; the instrument "
            f"definition is version {inst.version!r}",
        )
    known = {s.id for s in inst.scales}
    for i, row in enumerate(t.rows):
        p = f"rows[{i}]"
        if row.scale not in known:
            raise TableError(f"{p}.scale", f"{t.instrument} has no scale {row.scale!r}")
        lo, hi = inst.scale_range(row.scale)
        integer = inst.scale_is_integer(row.scale)
        if row.mean is not None and not lo <= row.mean <= hi:
            raise TableError(
                f"{p}.mean", f"mean {_num(row.mean)} outside the scale range {_num(lo)}-{_num(hi)}"
            )
        if row.lookup:
            bs = BandSet(
                id="lookup",
                source=t.source,
                bands=[
                    Band(
                        code=f"e{j}",
                        label=Text(en="entry"),
                        classification="normal",
                        **e.interval().model_dump(),
                    )
                    for j, e in enumerate(row.lookup)
                ],
            )
            _partition(bs, lo, hi, integer, f"{p}.lookup")
            scale_iv = Interval(ge=lo, le=hi)
            for j, e in enumerate(row.lookup):
                iv = e.interval()
                possible = (
                    any(iv.contains(x) for x in range(math.ceil(lo), math.floor(hi) + 1))
                    if integer
                    else _intersects(iv, scale_iv)
                )
                if not possible:
                    raise TableError(
                        f"{p}.lookup[{j}]",
                        f"raw {iv.describe()} lies outside the scale range {_num(lo)}-{_num(hi)}",
                    )
        if row.bands:
            bs = BandSet(id="norm", source=t.source, bands=row.bands)
            _partition(bs, lo, hi, integer, f"{p}.bands")


def _partition(bs: BandSet, lo: float, hi: float, integer: bool, path: str) -> None:
    """``BandSet.check_partition`` over the scale range, as a TableError at ``path``."""
    try:
        bs.check_partition(lo, hi, integer)
    except ValueError as e:
        raise TableError(path, f"{e} (scale range {_num(lo)}-{_num(hi)})") from None


def _intersects(a: Interval, b: Interval) -> bool:
    """Whether two intervals share a point."""
    lo_a = -math.inf if a.lower is None else a.lower
    hi_a = math.inf if a.upper is None else a.upper
    lo_b = -math.inf if b.lower is None else b.lower
    hi_b = math.inf if b.upper is None else b.upper
    lo, hi = max(lo_a, lo_b), min(hi_a, hi_b)
    if lo < hi:
        return True
    return lo == hi and a.contains(lo) and b.contains(lo)
