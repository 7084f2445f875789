"""Routing: which battery of a risk profile applies to each child.

A profile either has one battery (optionally limited to an age interval) or
``routes``, each with an exact-age interval (explicit bounds), optionally an
informant, a battery and rules. Every row is routed on its own cells:

* age from the birth and assessment dates (exact age), else the ``age`` column
  (see :mod:`psyscreen.demographics`); unreadable or absent -> ``no_age``
  (only when the profile needs an age: it has routes or ages);
* the first route whose age interval holds the age and whose informant list
  (if any) holds the row's informant; none -> ``out_of_age_range``.

A profile without ages or routes still honours its instruments' own
``age_range``: a row whose known age lies outside one of them is
``out_of_age_range`` (an unknown age is not gated there).

Example:
    >>> import pandas as pd, psyscreen
    >>> prof = psyscreen.load_profile("school")
    >>> df = pd.DataFrame({"birth_date": ["2014-09-01", "2012-09-01", "2000-01-01", None],
    ...                    "assessment_date": ["2024-08-31", "2024-09-01", "2024-09-01", None]})
    >>> r = route_rows(prof, df)
    >>> r.labels()
    ['primary', 'secondary', 'out_of_age_range', 'no_age']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import demographics as demo
from ..definitions import Interval
from ..masks import interval_mask
from .profile import RiskProfile

#: ``route`` codes that are not a route index.
OUT_OF_RANGE, NO_AGE = -1, -2

#: Informant words (after ``str(v).strip().lower()``) -> informant.
INFORMANT_CODES: dict[str, str] = {
    "self": "self",
    "child": "self",
    "student": "self",
    "本人": "self",
    "自评": "self",
    "学生": "self",
    "儿童": "self",
    "parent": "parent",
    "caregiver": "parent",
    "guardian": "parent",
    "家长": "parent",
    "父母": "parent",
    "监护人": "parent",
    "照料者": "parent",
    "养育者": "parent",
    "保育员": "parent",
    "他评": "parent",
    "teacher": "teacher",
    "老师": "teacher",
    "教师": "teacher",
    "班主任": "teacher",
}


def parse_informant(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Who answered (``self`` / ``parent`` / ``teacher``) per row, with a status.

    Caregivers (照料者, 保育员, 监护人) count as ``parent``: the parent SDQ is the
    caregiver form.

    Example:
        >>> s, st = parse_informant(pd.Series(["本人", "Parent", "保育员", "x", None]))
        >>> s.tolist(), st.tolist()
        (['self', 'parent', 'parent', nan, nan], [0, 0, 0, 2, 1])
    """
    values = pd.Series(values)
    blank = np.asarray(values.isna()) | np.asarray(values.astype(str).str.strip() == "")
    txt = values.astype(str).str.strip().str.lower()
    out = txt.map(INFORMANT_CODES)
    status = np.where(out.notna(), demo.OK, demo.INVALID).astype(np.int8)
    status[blank] = demo.MISSING
    out = out.where(status == demo.OK, np.nan)
    return pd.Series(out.to_numpy(dtype=object), index=values.index), status


@dataclass
class Routing:
    """Per row: route index (or :data:`OUT_OF_RANGE` / :data:`NO_AGE`), age and its source."""

    profile: RiskProfile
    route: np.ndarray
    age: np.ndarray
    age_status: np.ndarray
    #: whether the profile needs an age at all (routes or ages)
    gated: bool

    def known_ages(self) -> np.ndarray:
        """Exact age per row, NaN where it could not be read."""
        return np.where(self.age_status == demo.OK, self.age, np.nan)

    def labels(self) -> list[str]:
        """Route id per row, or the status name."""
        names = self.names()
        return [names[int(k)] for k in self.route]

    def names(self) -> dict[int, str]:
        p = self.profile
        out = {OUT_OF_RANGE: "out_of_age_range", NO_AGE: "no_age"}
        if p.routed:
            out.update({k: r.id for k, r in enumerate(p.routes)})
        else:
            out[0] = ""
        return out

    def groups(self) -> list[tuple[int, np.ndarray]]:
        """(route code, row positions) for every code present, in a fixed order."""
        out = []
        for code in sorted({int(k) for k in np.unique(self.route)}, key=lambda k: (k < 0, k)):
            out.append((code, np.nonzero(self.route == code)[0]))
        return out


def _ages(
    data: pd.DataFrame, demographics: Mapping[str, str] | None, known: demo.Demographics | None
):
    cols = demo.resolve_columns(data, demographics)
    d = known if known is not None else demo.read_demographics(data, cols)
    return d.age_years, d.age_status, cols


def _own_ages(prof: RiskProfile) -> list[Interval]:
    out = []
    for inst_id in prof.instruments:
        iv = prof.instrument(inst_id).age_range.interval()
        if iv is not None:
            out.append(iv)
    return out


def route_rows(
    prof: RiskProfile,
    data: pd.DataFrame,
    demographics: Mapping[str, str] | None = None,
    *,
    read: demo.Demographics | None = None,
) -> Routing:
    """Route every row of ``data`` (see the module docstring). Depends on each row alone.

    ``read``: the demographics of ``data`` when the caller has read them already.
    """
    n = len(data)
    age, age_st, cols = _ages(data, demographics, read)
    known = age_st == demo.OK
    if prof.routed:
        route = np.full(n, OUT_OF_RANGE, dtype=np.int64)
        informant = np.full(n, None, dtype=object)
        if "informant" in cols:
            col = pd.Series(data[cols["informant"]].to_numpy(), index=pd.RangeIndex(n))
            vals, st = demo._per_distinct(parse_informant, col)
            informant = np.where(
                st == demo.OK, vals.to_numpy(dtype=object), np.array(None, dtype=object)
            )
        free = known.copy()
        for k, r in enumerate(prof.routes):
            hit = free & interval_mask(np.where(known, age, np.nan), r.age)
            if r.informant is not None:
                hit &= np.isin(informant, r.informant)
            route[hit] = k
            free &= ~hit
        route[~known] = NO_AGE
        return Routing(prof, route, age, age_st, True)
    route = np.zeros(n, dtype=np.int64)
    ages = prof.age_interval
    if ages is not None:
        route[known & ~interval_mask(np.where(known, age, np.nan), ages)] = OUT_OF_RANGE
        route[~known] = NO_AGE
        return Routing(prof, route, age, age_st, True)
    for iv in _own_ages(prof):  # no ages declared: instruments' own ranges, known ages only
        route[known & ~interval_mask(np.where(known, age, np.nan), iv)] = OUT_OF_RANGE
    return Routing(prof, route, age, age_st, False)


def combine(parts: list[tuple[np.ndarray, pd.DataFrame]], index: pd.Index) -> pd.DataFrame:
    """Frames computed on row subsets (positions, frame) -> one frame in input order.

    Columns keep their first-seen order; a column a part lacks is missing there.

    Example:
        >>> a = pd.DataFrame({"x": [1.0]}); b = pd.DataFrame({"y": ["b"]})
        >>> combine([(np.array([1]), a), (np.array([0]), b)], pd.Index(["r0", "r1"]))
              x    y
        r0  NaN    b
        r1  1.0  NaN
    """
    if len(parts) == 1 and len(parts[0][0]) == len(index):
        out = parts[0][1].copy(deep=False)  # copy-on-write: a new index, no data copied
        out.index = index
        return out
    frames = []
    for pos, frame in parts:
        f = frame.copy(deep=False)
        f.index = pd.Index(pos)
        frames.append(f)
    out = pd.concat(frames, axis=0, sort=False).sort_index(kind="stable")
    out.index = index
    return out
