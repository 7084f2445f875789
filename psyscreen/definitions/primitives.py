"""The building blocks every kind of definition shares: one model base and the primitives.

Instrument definitions, norm tables, risk profiles and column mappings are all frozen
pydantic models that forbid unknown keys (:class:`DefinitionModel`); texts, citations,
licences and intervals with explicit bounds are written the same way in all of them. The
models are pure data: applying an interval to an array of scores is
:mod:`psyscreen.masks`' job.

Cross-field validators report every problem they find, each at its own path, through
:class:`Problems` (the loader turns them into one :class:`~psyscreen.errors.DefinitionError`).

Example:
    >>> Interval(ge=8, lt=17).describe("years")
    '[8, 17) years'
    >>> Text(zh="正常").best("en")
    '正常'
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from ..errors import DefinitionProblems
from ..formatting import exact_number

__all__ = [
    "ID_PATTERN",
    "Band",
    "BandSet",
    "Citation",
    "DefinitionModel",
    "Identifier",
    "Interval",
    "Licence",
    "Problems",
    "SourcedModel",
    "Text",
    "duplicates",
    "unknown",
]

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
Identifier = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=64)]


class DefinitionModel(BaseModel):
    """Base of every definition model: frozen, and unknown keys are errors (typos never pass).

    Example:
        >>> Text.model_config["extra"], Text.model_config["frozen"]
        ('forbid', True)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourcedModel(DefinitionModel):
    """A definition read from a file: it knows the file and the SHA-256 of its bytes.

    The loader (:mod:`psyscreen.loader`) sets both; a model built in code has neither.

    Example:
        >>> from psyscreen import load_instrument
        >>> load_instrument("phq9").source_path.endswith("phq9.yaml")
        True
    """

    _source: str | None = PrivateAttr(None)
    _sha256: str | None = PrivateAttr(None)

    @property
    def source_path(self) -> str | None:
        """The file this definition was loaded from, if any."""
        return self._source

    @property
    def sha256(self) -> str | None:
        """SHA-256 of the definition file's bytes (provenance), if loaded from a file."""
        return self._sha256


class Problems:
    """The problems one cross-field validator finds, each at its path inside the model.

    Collect with :meth:`add`, then :meth:`raise_any` raises them all at once as a
    :class:`~psyscreen.errors.DefinitionProblems` (a ``ValueError``, so pydantic
    reports it at the model's own location and the loader prefixes that).

    Example:
        >>> p = Problems()
        >>> p.add("items[2].response_scale", "not declared")
        >>> p.raise_any()
        Traceback (most recent call last):
        ...
        psyscreen.errors.DefinitionProblems: items[2].response_scale: not declared
    """

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, path: str, problem: str) -> None:
        """Record ``problem`` at ``path`` (``""``: the model itself)."""
        self.found.append((path, problem))

    def raise_any(self) -> None:
        """Raise every recorded problem, if there is one."""
        if self.found:
            raise DefinitionProblems(self.found)


def duplicates(values: Iterable[str]) -> list[tuple[int, str]]:
    """Positions and values that repeat an earlier value.

    Example:
        >>> duplicates(["a", "b", "a"])
        [(2, 'a')]
    """
    seen: set[str] = set()
    out = []
    for k, v in enumerate(values):
        if v in seen:
            out.append((k, v))
        seen.add(v)
    return out


def unknown(values: Iterable[str], known: set[str]) -> list[tuple[int, str]]:
    """Positions and values not in ``known``.

    Example:
        >>> unknown(["a", "x"], {"a"})
        [(1, 'x')]
    """
    return [(k, v) for k, v in enumerate(values) if v not in known]


def _unique(values: Iterable[str], what: str) -> None:
    """Raise ValueError naming the first repeated value (for single-problem validators)."""
    for _, v in duplicates(values)[:1]:
        raise ValueError(f"duplicate {what} {v!r}")


class Text(DefinitionModel):
    """A short text in English and/or Chinese."""

    en: str | None = None
    zh: str | None = None

    @model_validator(mode="after")
    def _one_language(self) -> Text:
        if not (self.en or self.zh):
            raise ValueError("give at least one of 'en' or 'zh'")
        return self

    def best(self, lang: str = "en") -> str:
        """The text in ``lang`` if given, else the other language."""
        first = self.zh if lang == "zh" else self.en
        return first or self.en or self.zh or ""


class Citation(DefinitionModel):
    """A source: full reference plus the exact place (page, table) used."""

    key: Identifier
    text: str = Field(description="Full reference.")
    locator: str | None = Field(None, description="Page, table or section used.")
    url: str | None = None
    doi: str | None = None
    evidence: Literal["primary", "secondary", "unverified"] = Field(
        "primary",
        description="primary: read in the original or an official page; secondary: "
        "third-party copy; unverified: not confirmed.",
    )


class Licence(DefinitionModel):
    """The licence under which the instrument may be used and what may be shipped."""

    name: str
    item_text_allowed: bool = Field(
        description="True only when the licence allows redistributing item wording."
    )
    url: str | None = None
    note: str | None = None


class Interval(DefinitionModel):
    """An interval with explicit bounds: ``ge`` (>=) or ``gt`` (>), ``le`` (<=) or ``lt`` (<).

    An omitted bound is open. Example: ``{ge: 8, lt: 17}`` is 8 <= x < 17 (ages
    "8-16" in completed years). Used for bands here and for strata in norm tables.

    Example:
        >>> Interval(gt=5, le=9).describe()
        '(5, 9]'
    """

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def _what(self) -> str:
        return "interval"

    @model_validator(mode="after")
    def _bounds(self) -> Interval:
        what = self._what()
        if self.ge is not None and self.gt is not None:
            raise ValueError(f"{what}: give 'ge' or 'gt', not both")
        if self.le is not None and self.lt is not None:
            raise ValueError(f"{what}: give 'le' or 'lt', not both")
        lo, hi = self.lower, self.upper
        empty = (
            lo is not None
            and hi is not None
            and (lo > hi or (lo == hi and not (self.lower_inclusive and self.upper_inclusive)))
        )
        if empty:
            raise ValueError(f"{what} {self.describe()} is empty")
        return self

    @property
    def lower(self) -> float | None:
        return self.ge if self.ge is not None else self.gt

    @property
    def upper(self) -> float | None:
        return self.le if self.le is not None else self.lt

    @property
    def lower_inclusive(self) -> bool:
        return self.ge is not None

    @property
    def upper_inclusive(self) -> bool:
        return self.le is not None

    def describe(self, unit: str = "") -> str:
        """Interval notation, e.g. ``[5, 10)`` (``[`` includes the bound, ``(`` excludes it)."""
        lo = (
            "(-inf"
            if self.lower is None
            else ("[" if self.lower_inclusive else "(") + exact_number(self.lower)
        )
        hi = (
            "inf)"
            if self.upper is None
            else exact_number(self.upper) + ("]" if self.upper_inclusive else ")")
        )
        return f"{lo}, {hi}" + (f" {unit}" if unit else "")

    def interval(self) -> str:
        """Same as :meth:`describe` without a unit."""
        return self.describe()

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the interval."""
        if self.lower is not None and (x < self.lower or (x == self.lower and self.gt is not None)):
            return False
        return not (
            self.upper is not None and (x > self.upper or (x == self.upper and self.lt is not None))
        )

    def within(self, other: Interval) -> bool:
        """Whether every point of this interval lies in ``other``."""
        lo, hi, olo, ohi = self.lower, self.upper, other.lower, other.upper
        if olo is not None:
            if lo is None or lo < olo:
                return False
            if lo == olo and other.gt is not None and self.ge is not None:
                return False
        if ohi is not None:
            if hi is None or hi > ohi:
                return False
            if hi == ohi and other.lt is not None and self.le is not None:
                return False
        return True

    def overlaps(self, other: Interval) -> bool:
        """Whether the two intervals share a point.

        Example:
            >>> Interval(ge=8, lt=12).overlaps(Interval(ge=12, lt=18))
            False
        """

        def below(x: Interval, y: Interval) -> bool:  # x lies entirely below y
            if x.upper is None or y.lower is None:
                return False
            return x.upper < y.lower or (
                x.upper == y.lower and not (x.upper_inclusive and y.lower_inclusive)
            )

        return not (below(self, other) or below(other, self))


class Band(Interval):
    """One band of a scale with explicit bounds.

    Give a lower bound as ``ge`` (inclusive) or ``gt`` (exclusive) and an upper
    bound as ``le`` (inclusive) or ``lt`` (exclusive). An omitted bound is open.
    ``classification`` places the band on the common normal / borderline /
    abnormal axis used by risk rules.
    """

    code: Identifier
    label: Text
    classification: Literal["normal", "borderline", "abnormal"]

    def _what(self) -> str:
        return f"band {self.code!r}"

    @model_validator(mode="after")
    def _one_bound(self) -> Band:
        if self.lower is None and self.upper is None:
            raise ValueError(f"band {self.code!r}: at least one bound is required")
        return self


class BandSet(DefinitionModel):
    """Bands that partition a scale's range, from one source."""

    id: Identifier
    source: Identifier = Field(description="Key of a citation of the instrument.")
    note: str | None = None
    unverified: str | None = Field(None, description="Why these bands are not verified.")
    bands: list[Band] = Field(min_length=1)

    def check_partition(self, lo: float, hi: float, integer: bool = False) -> None:
        """Raise ValueError unless every possible score falls in exactly one band.

        For an integer-valued scale the possible scores are the integers in
        [lo, hi] (so 0-4 and 5-9 meet); otherwise the bands must cover the
        real interval [lo, hi] without gap or overlap.
        """
        if integer:
            for x in range(math.ceil(lo), math.floor(hi) + 1):
                hits = [b.code for b in self.bands if b.contains(x)]
                if len(hits) != 1:
                    what = "no band" if not hits else f"several bands ({', '.join(hits)})"
                    raise ValueError(f"band set {self.id!r}: score {x} falls in {what}")
            return
        bands = sorted(
            self.bands, key=lambda b: (-math.inf if b.lower is None else b.lower, b.gt is not None)
        )
        first, last = bands[0], bands[-1]
        if first.lower is not None and (
            first.lower > lo or (first.lower == lo and not first.lower_inclusive)
        ):
            raise ValueError(
                f"band set {self.id!r} does not cover the minimum score {exact_number(lo)}"
            )
        if last.upper is not None and (
            last.upper < hi or (last.upper == hi and not last.upper_inclusive)
        ):
            raise ValueError(
                f"band set {self.id!r} does not cover the maximum score {exact_number(hi)}"
            )
        for a, b in itertools.pairwise(bands):
            if a.upper is None or b.lower is None:
                raise ValueError(f"band set {self.id!r}: bands {a.code!r} and {b.code!r} overlap")
            if a.upper < b.lower or (
                a.upper == b.lower and not (a.upper_inclusive or b.lower_inclusive)
            ):
                raise ValueError(
                    f"band set {self.id!r}: gap between {a.code!r} {a.interval()} "
                    f"and {b.code!r} {b.interval()}"
                )
            if a.upper > b.lower or (a.upper_inclusive and b.lower_inclusive):
                raise ValueError(
                    f"band set {self.id!r}: bands {a.code!r} {a.interval()} and "
                    f"{b.code!r} {b.interval()} overlap"
                )
