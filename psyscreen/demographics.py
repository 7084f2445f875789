"""Age, sex and school grade of each row, for choosing a norm stratum.

Everything here is vectorised and row-independent: the age, sex or grade of a
row depends on that row's cells only, and nothing is ever guessed. A value
that is absent gets the status ``missing``; a value that is present but cannot
be read (an unknown sex code, a date that does not exist, a birth date after
the assessment date) gets the status ``invalid``. Neither is ever replaced by
a default.

Age
    *Exact age* comes from the birth date and the assessment date when both
    are present: completed years (months) plus the elapsed fraction of the
    current year (month), computed on the calendar, so a child is exactly 8.0
    on its eighth birthday. A 29 February birthday falls on 1 March in other
    years. When either date is absent the given ``age`` column (in years) is
    used. When both dates are present but the birth date is after the
    assessment date, or a date cannot be read, the age is ``invalid`` (the
    given age is *not* used instead: the row's data contradict each other).

Sex (see :data:`SEX_CODES`)
    ``1`` / ``M`` / ``male`` / ``boy`` / ``男`` -> male and ``2`` / ``F`` /
    ``female`` / ``girl`` / ``女`` -> female (case-insensitive, surrounding
    blanks ignored). The numeric codes follow GB/T 2261.1-2003 and ISO/IEC 5218
    (0 = not known, 1 = male, 2 = female, 9 = not stated); ``0`` and ``9`` and
    the words ``unknown`` / ``未知`` / ``未说明`` count as ``missing``. Any other
    code is ``invalid``.

Grade (see :func:`parse_grade`)
    School grade as an integer 1-12 (primary 1-6, junior secondary 初一-初三
    = 7-9, senior secondary 高一-高三 = 10-12): numbers, ``"3"``, ``"Grade 3"``,
    ``"三年级"``, ``"小学三年级"``, ``"初二"``, ``"高一"`` are read.

Example:
    >>> import pandas as pd
    >>> from psyscreen.demographics import exact_age, parse_sex
    >>> exact_age(pd.Series(["2010-03-01"]), pd.Series(["2020-03-01"])).tolist()
    [10.0]
    >>> parse_sex(pd.Series([1, "F", "女", "x", None])).tolist()
    ['male', 'female', 'female', nan, nan]
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from .vocab import ParseStatus

#: Roles a demographics mapping may name, with the default column name of each.
#: ``informant`` (who answered) is read by routed risk profiles only
#: (:func:`psyscreen.risk.routes.parse_informant`).
DEMOGRAPHIC_ROLES = ("age", "sex", "birth_date", "assessment_date", "grade", "informant")
#: Deprecated alias of :data:`DEMOGRAPHIC_ROLES` (one release).
ROLES = DEMOGRAPHIC_ROLES

#: Per-value status codes (:class:`~psyscreen.vocab.ParseStatus`; ``IMPLAUSIBLE``: a real
#: calendar date outside :data:`DATE_RANGE`).
OK, MISSING, INVALID, IMPLAUSIBLE = (
    ParseStatus.OK,
    ParseStatus.MISSING,
    ParseStatus.INVALID,
    ParseStatus.IMPLAUSIBLE,
)
#: Dates (birth or assessment) outside these years, both inclusive, are ``implausible``:
#: placeholders such as 9999-12-31 or 0000-01-01, or typing slips such as 2300-01-01.
DATE_RANGE = (1900, 2099)

#: Recognised sex codes (after ``str(value).strip().lower()``; integral floats
#: such as ``1.0`` from spreadsheets are read as ``1``). ``None`` = known to be
#: unknown (counts as missing).
SEX_CODES: dict[str, str | None] = {
    # GB/T 2261.1-2003 / ISO/IEC 5218 numeric codes
    "1": "male",
    "2": "female",
    "0": None,
    "9": None,
    # letters and words
    "m": "male",
    "male": "male",
    "boy": "male",
    "f": "female",
    "female": "female",
    "girl": "female",
    "unknown": None,
    # Chinese
    "男": "male",
    "男性": "male",
    "男生": "male",
    "男孩": "male",
    "女": "female",
    "女性": "female",
    "女生": "female",
    "女孩": "female",
    "未知": None,
    "未说明": None,
}

SEXES = ("female", "male")

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_GRADE_WORDS: dict[str, int] = {}
for _w, _k in _CN_DIGITS.items():
    _GRADE_WORDS[f"{_w}年级"] = _k
    _GRADE_WORDS[f"小学{_w}年级"] = _k
    _GRADE_WORDS[f"小{_w}"] = _k
for _w, _k in (("一", 7), ("二", 8), ("三", 9)):
    _GRADE_WORDS[f"初{_w}"] = _k
    _GRADE_WORDS[f"初中{_w}年级"] = _k
for _w, _k in (("一", 10), ("二", 11), ("三", 12)):
    _GRADE_WORDS[f"高{_w}"] = _k
    _GRADE_WORDS[f"高中{_w}年级"] = _k

_DATE_RE = re.compile(
    r"^\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{2})(\d{2}))"
    # a time of day after the date (its date part is used): ' 8:04', ' 08:04:52', 'T08:04:52.5Z'
    r"(?:(?:\s+|T)\d{1,2}[:时]\d{2}(?:[:分]\d{2}(?:\.\d+)?秒?)?"
    r"\s*(?:Z|[+-]\d{2}:?\d{2})?)?\s*$"
)


def _blank(s: pd.Series) -> np.ndarray:
    """True where a cell is absent: NA or an empty/whitespace string."""
    na = s.isna().to_numpy()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        txt = s.astype("string").str.strip()
        na = na | (txt == "").fillna(True).to_numpy(dtype=bool)
    return na


def _norm_text(s: pd.Series) -> pd.Series:
    """Lower-cased stripped text; integral floats (``1.0``) become ``'1'``."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return pd.Series(pd.NA, index=s.index, dtype="string").where(s.isna(), "invalid-bool")
    txt = s.astype("string").str.strip().str.lower()
    return txt.str.replace(r"^([+-]?\d+)\.0*$", r"\1", regex=True)


def sex_status(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Map sex codes to ``'female'`` / ``'male'``; also return a status per row.

    Returns ``(sex, status)`` where ``sex`` is an object Series (``'female'``,
    ``'male'`` or NaN) and ``status`` an int8 array of ``OK`` / ``MISSING`` /
    ``INVALID`` (see :data:`SEX_CODES`).

    Example:
        >>> import pandas as pd
        >>> sex, st = sex_status(pd.Series(["M", 9, "x", None]))
        >>> sex.tolist(), st.tolist()
        (['male', nan, nan, nan], [0, 1, 2, 1])
    """
    values = pd.Series(values)
    blank = _blank(values)
    txt = _norm_text(values)
    codes = {k: (2 if v is None else SEXES.index(v)) for k, v in SEX_CODES.items()}
    k = (
        pd.Series(txt.astype(object).where(txt.notna(), None).to_numpy())
        .map(codes)
        .to_numpy(dtype=float)
    )
    status = np.full(len(values), OK, dtype=np.int8)
    status[np.isnan(k)] = INVALID
    status[k == 2] = MISSING
    status[blank] = MISSING
    out = np.full(len(values), np.nan, dtype=object)
    for j, name in enumerate(SEXES):
        out[(k == j) & (status == OK)] = name
    return pd.Series(out, index=values.index, dtype=object), status


def parse_sex(values: pd.Series) -> pd.Series:
    """``'female'`` / ``'male'`` per row, NaN where missing or not recognised.

    Example:
        >>> import pandas as pd
        >>> parse_sex(pd.Series(["male", 2, "男"])).tolist()
        ['male', 'female', 'male']
    """
    return sex_status(values)[0]


def parse_dates(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Read dates; return ``(datetime64 Series, status)``.

    Accepted: datetime values of any kind (pandas/numpy/Python datetimes and dates,
    Excel datetime cells, Parquet/Arrow timestamps), and text in year-month-day
    order (``2012-03-05``, ``2012/3/5``, ``2012.03.05``, ``2012年3月5日``,
    ``20120305``), also followed by a time of day (``2024/10/18 8:04:52``,
    ``2010-01-02 00:00:00``, ``2010-01-02T08:00:00Z``): the date part is used, as
    written. Day-first or month-first text (``05/03/2012``) is ambiguous and is
    ``invalid``, as is a date that does not exist (``2023-02-30``). A real date
    outside the years of :data:`DATE_RANGE` is ``implausible`` (never an error).

    Example:
        >>> import pandas as pd
        >>> d, st = parse_dates(pd.Series(["2012年3月5日", "05/03/2012", None,
        ...                                "2024/10/18 8:04:52", "9999-12-31"]))
        >>> d.dt.strftime("%Y-%m-%d").tolist()[:1], st.tolist()
        (['2012-03-05'], [0, 2, 1, 0, 3])
        >>> d[3].date().isoformat()
        '2024-10-18'
    """
    values = pd.Series(values)
    n = len(values)
    if values.dtype.kind == "M":  # tz-naive datetimes (a batch's parsed dates): numpy only
        return _plausible_days(values.to_numpy().astype("datetime64[D]"), values.index)
    year = np.full(n, np.nan)
    month = np.full(n, np.nan)
    day = np.full(n, np.nan)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        blank = values.isna().to_numpy()
        dt = values.dt
        year, month, day = (
            dt.year.to_numpy(dtype=float, na_value=np.nan),
            dt.month.to_numpy(dtype=float, na_value=np.nan),
            dt.day.to_numpy(dtype=float, na_value=np.nan),
        )
    else:
        blank = _blank(values)
        obj = values.astype(object).to_numpy()
        is_dt = np.array(
            [not isinstance(v, (str, bool, np.bool_)) and hasattr(v, "year") for v in obj],
            dtype=bool,
        )
        for i in np.flatnonzero(is_dt & ~blank):
            v = obj[i]
            year[i], month[i], day[i] = v.year, v.month, v.day
        for i in np.flatnonzero(~is_dt & ~blank):
            if isinstance(obj[i], np.datetime64):
                ts = str(obj[i].astype("datetime64[D]"))
                if ts != "NaT" and ts[:1] != "-":
                    y, m, d = ts.split("-")[-3:]
                    year[i], month[i], day[i] = float(y), float(m), float(d)
        text = ~is_dt & ~blank & np.isnan(year)
        if text.any():
            parts = values[text].astype("string").str.extract(_DATE_RE)
            year[text] = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float)
            month[text] = pd.to_numeric(parts[1].fillna(parts[3]), errors="coerce").to_numpy(
                dtype=float
            )
            day[text] = pd.to_numeric(parts[2].fillna(parts[4]), errors="coerce").to_numpy(
                dtype=float
            )
    ok = ~np.isnan(year) & (month >= 1) & (month <= 12) & (day >= 1)
    yi = np.where(ok, year, 2000).astype(np.int64)
    leap = (yi % 4 == 0) & ((yi % 100 != 0) | (yi % 400 == 0))
    mdays = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    mi = np.where(ok, month, 1).astype(np.int64)
    last = mdays[mi - 1] + ((mi == 2) & leap)
    ok &= day <= last
    lo, hi = DATE_RANGE
    plausible = ok & (year >= lo) & (year <= hi)
    status = np.full(n, INVALID, dtype=np.int8)
    status[ok & ~plausible] = IMPLAUSIBLE
    status[plausible] = OK
    status[blank] = MISSING
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    good = plausible & ~blank
    if good.any():
        out[good] = _ymd(year[good], month[good], day[good])
    return pd.Series(out, index=values.index), status


def _plausible_days(days: np.ndarray, index: pd.Index) -> tuple[pd.Series, np.ndarray]:
    """:func:`parse_dates` of datetimes given as days: NaT is ``missing``, a year outside
    :data:`DATE_RANGE` ``implausible`` (and NaT in the dates)."""
    blank = np.isnat(days)
    lo, hi = DATE_RANGE  # years lo-hi: the days from 1 January lo to 31 December hi
    plausible = (days >= np.datetime64(f"{lo:04d}-01-01")) & (
        days <= np.datetime64(f"{hi:04d}-12-31")
    )
    status = np.full(len(days), IMPLAUSIBLE, dtype=np.int8)
    status[plausible] = OK
    status[blank] = MISSING
    out = np.where(plausible, days, np.datetime64("NaT", "D")).astype("datetime64[ns]")
    return pd.Series(out, index=index), status


def _parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day (int64; 1970-01-01 where NaT) of ``datetime64[D]`` values.

    Integer arithmetic on the proleptic Gregorian calendar (H. Hinnant's
    ``civil_from_days``, https://howardhinnant.github.io/date_algorithms.html): numpy's
    casts to month and year units take ~25 ns a value each, and a day needs one more (about
    1.3 ms for each cast of 50k values, against ~2.3 ms here for all three parts).

    Example:
        >>> [p.tolist() for p in _parts(np.array(["1969-12-31", "2024-02-29"], "M8[D]"))]
        [[1969, 2024], [12, 2], [31, 29]]
    """
    z = np.where(np.isnat(days), 0, days.astype(np.int64)) + 719_468
    era = z // 146_097
    doe = z - era * 146_097  # day of the 400-year era, 0-146096
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)  # day of the year from 1 March
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def _days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """``datetime64[D]`` of valid calendar dates (``days_from_civil``, as :func:`_parts`).

    Example:
        >>> _days(np.array([1969, 2024]), np.array([12, 2]), np.array([31, 29])).tolist()
        [datetime.date(1969, 12, 31), datetime.date(2024, 2, 29)]
    """
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return (era * 146_097 + doe - 719_468).astype("datetime64[D]")


def _age_years(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Exact age in years from birth and assessment days (``datetime64[D]``; NaN for NaT).

    The calendar rule of :func:`exact_age` in numpy: completed years, plus the days
    since the last birthday over the days from it to the next, the fraction taken
    in nanoseconds as pandas' timedelta division takes it.
    """
    by, bm, bd = _parts(b)
    ay, am, ad = _parts(a)
    ok = ~(np.isnat(b) | np.isnat(a))
    before = (am < bm) | ((am == bm) & (ad < bd))
    years = np.where(ok, ay - by - before, 0)
    feb29 = (bm == 2) & (bd == 29)

    def birthday(y: np.ndarray) -> np.ndarray:  # 29 Feb -> 1 Mar in other years
        leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
        shift = feb29 & ~leap
        return _days(y, np.where(shift, 3, bm), np.where(shift, 1, bd))

    y0 = np.where(ok, by, 2000) + years
    last, nxt = birthday(y0), birthday(y0 + 1)

    def ns(t: np.ndarray) -> np.ndarray:
        return t.astype("timedelta64[ns]").astype(np.int64).astype(np.float64)

    out = years + ns(a - last) / ns(nxt - last)
    return np.where(ok, out, np.nan)


def _ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Dates from year, month and day arrays (each a valid calendar date), vectorised.

    Example:
        >>> import numpy as np
        >>> _ymd(np.array([2024.0]), np.array([2.0]), np.array([29.0])).astype(str).tolist()
        ['2024-02-29T00:00:00.000000000']
    """
    months = ((y.astype(np.int64) - 1970) * 12 + (m.astype(np.int64) - 1)).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + (d.astype(np.int64) - 1).astype("timedelta64[D]")
    return days.astype("datetime64[ns]")


def exact_age(birth: pd.Series, assessed: pd.Series, unit: str = "years") -> pd.Series:
    """Exact age at assessment, in ``'years'`` or ``'months'`` (NaN if not computable).

    Completed years plus the elapsed fraction of the current year of life, on
    the calendar (a child is exactly 8.0 on its eighth birthday). Months:
    completed months plus the elapsed fraction of the current month of life
    (a 31st becomes the last day of a shorter month).

    Example:
        >>> import pandas as pd
        >>> exact_age(pd.Series(["2012-06-15"]), pd.Series(["2020-06-14"])).round(4).tolist()
        [7.9973]
        >>> exact_age(pd.Series(["2012-06-15"]), pd.Series(["2013-01-15"]), "months").tolist()
        [7.0]
    """
    b, _ = parse_dates(birth)
    a, _ = parse_dates(assessed)
    b = b.reset_index(drop=True)
    a = a.reset_index(drop=True)
    if unit == "months":
        out = _age_months(b, a)
    elif unit == "years":
        out = _age_years(b.to_numpy().astype("datetime64[D]"), a.to_numpy().astype("datetime64[D]"))
    else:
        raise ValueError(f"unit must be 'years' or 'months', not {unit!r}")
    out = np.where(a.to_numpy() < b.to_numpy(), np.nan, out)
    return pd.Series(out, index=pd.Series(birth).index, dtype=float)


def _add_months(b: pd.Series, months: np.ndarray) -> pd.Series:
    y = b.dt.year.to_numpy(dtype=float)
    m0 = b.dt.month.to_numpy(dtype=float) - 1 + months
    y = y + np.floor(m0 / 12)
    m = np.mod(m0, 12) + 1
    d = b.dt.day.to_numpy(dtype=float)
    ok = ~(np.isnan(y) | np.isnan(m) | np.isnan(d))
    out = pd.Series(pd.NaT, index=b.index, dtype="datetime64[ns]")
    if ok.any():
        first = pd.to_datetime(
            pd.DataFrame({"year": y[ok], "month": m[ok], "day": 1}).astype("int64")
        )
        dim = first.dt.days_in_month.to_numpy()
        day = np.minimum(d[ok], dim).astype("int64")
        out[ok] = (first + pd.to_timedelta(day - 1, unit="D")).to_numpy()
    return out


def _age_months(b: pd.Series, a: pd.Series) -> np.ndarray:
    months = (a.dt.year - b.dt.year) * 12 + (a.dt.month - b.dt.month)
    months = months.to_numpy(dtype=float)
    cand = _add_months(b, months)
    over = (cand > a).to_numpy()
    months = np.where(over, months - 1, months)
    last = _add_months(b, months)
    nxt = _add_months(b, months + 1)
    frac = ((a - last) / (nxt - last)).to_numpy(dtype=float)
    return months + frac


def parse_grade(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """School grade 1-12 per row, with a status (see the module docstring).

    Example:
        >>> import pandas as pd
        >>> g, st = parse_grade(pd.Series([3, "Grade 4", "初二", "高三", "大一", None]))
        >>> g.tolist(), st.tolist()
        ([3.0, 4.0, 8.0, 12.0, nan, nan], [0, 0, 0, 0, 2, 1])
    """
    values = pd.Series(values)
    blank = _blank(values)
    txt = _norm_text(values).str.replace(r"\s+", "", regex=True)
    txt = txt.str.replace(r"^(grade|g|年级)", "", regex=True)
    num = pd.to_numeric(txt, errors="coerce").to_numpy(dtype=float)
    words = txt.map(lambda t: _GRADE_WORDS.get(t, np.nan) if isinstance(t, str) else np.nan)
    num = np.where(np.isnan(num), words.to_numpy(dtype=float), num)
    valid = np.isfinite(num) & (num == np.round(num)) & (num >= 1) & (num <= 12)
    status = np.full(len(values), OK, dtype=np.int8)
    status[~valid] = INVALID
    status[blank] = MISSING
    out = np.where(status == OK, num, np.nan)
    return pd.Series(out, index=values.index, dtype=float), status


def parse_age(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """A given age in years (numbers; text like ``'12'`` or ``'12岁'``) with a status.

    Ages below 0 or above 120 are ``invalid``.

    Example:
        >>> import pandas as pd
        >>> a, st = parse_age(pd.Series([12, "9.5", "12岁", "abc", -1, None]))
        >>> a.tolist()[:3], st.tolist()
        ([12.0, 9.5, 12.0], [0, 0, 0, 2, 2, 1])
    """
    values = pd.Series(values)
    blank = _blank(values)
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        num = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        txt = values.astype("string").str.strip()
        txt = txt.str.replace(r"\s*(岁|周岁|y|years?)$", "", regex=True)
        num = pd.to_numeric(txt, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    valid = np.isfinite(num) & (num >= 0) & (num <= 120)
    status = np.full(len(values), OK, dtype=np.int8)
    status[~valid] = INVALID
    status[blank] = MISSING
    return pd.Series(np.where(status == OK, num, np.nan), index=values.index), status


def _per_distinct(
    fn: Any, s: pd.Series, cache: ParseCache | None = None
) -> tuple[pd.Series, np.ndarray]:
    """``fn(s)``, computed once per distinct value of ``s`` (same result, much faster).

    Every parser here is a function of the cell alone, so parsing the distinct
    values and mapping back gives exactly the per-row result.
    """
    categorical = isinstance(s.dtype, pd.CategoricalDtype)
    if len(s) < 1000 or (categorical and len(s.cat.categories) > len(s) // 2):
        # the parsers see a categorical's values as plain objects, as with any column
        return fn(s.astype(object) if categorical else s)
    if s.dtype == object and any(isinstance(v, (bool, np.bool_)) for v in s.to_numpy()):
        return fn(s)  # factorize would merge True with 1: parse row by row
    codes, factors = pd.factorize(s, use_na_sentinel=True)
    if len(factors) > len(s) // 2:
        return fn(s)
    wide = s.dtype == object or categorical
    uniq = np.asarray(factors, dtype=object) if wide else np.asarray(factors)
    arr, st = parse_distinct(fn, uniq, cache)
    na = np.array([np.datetime64("NaT")], dtype=arr.dtype) if arr.dtype.kind == "M" else None
    if na is None:
        na = np.array([np.nan], dtype=arr.dtype)
    full = np.concatenate([arr, na])
    status = np.append(st, np.int8(MISSING)).astype(np.int8)
    return pd.Series(full[codes], index=s.index), status[codes]


class _ParseMemo:
    """A parser's results per distinct value, kept across calls (the chunks of a batch).

    Values are looked up with a pandas hash index (no Python loop); only values
    not seen before are parsed. At most ``LIMIT`` values are kept: past that the
    memo starts afresh (results never depend on it, only the time does).
    """

    LIMIT = 100_000

    def __init__(self, fn: Any):
        self.fn = fn
        self.lock = threading.Lock()
        self.state: tuple[pd.Index, np.ndarray, np.ndarray] | None = None

    def __call__(self, uniq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self.lock:
            state = self.state
        if state is None:
            pos = np.full(len(uniq), -1, dtype=np.intp)
        else:
            pos = state[0].get_indexer(pd.Index(uniq))
        miss = pos < 0
        if state is not None and not miss.any():
            return state[1][pos], state[2][pos]
        new = uniq[miss]
        vals, st = self.fn(pd.Series(new))
        vals, st = vals.to_numpy(), np.asarray(st, dtype=np.int8)
        if state is None or len(state[0]) + len(new) > self.LIMIT:
            keys, values, status = pd.Index(new), vals, st
        else:
            keys = state[0].append(pd.Index(new))
            values = np.concatenate([state[1], vals.astype(state[1].dtype, copy=False)])
            status = np.concatenate([state[2], st])
        with self.lock:
            self.state = (keys, values, status)
        out_v = np.empty(len(uniq), dtype=values.dtype)
        out_s = np.empty(len(uniq), dtype=np.int8)
        out_v[miss], out_s[miss] = vals, st
        if state is not None and (~miss).any():
            out_v[~miss], out_s[~miss] = state[1][pos[~miss]], state[2][pos[~miss]]
        return out_v, out_s


@dataclass
class ParseCache:
    """Parse memos per (parser, dtype), owned by the caller (a pipeline or batch plan)
    and passed in, so that a batch parses each distinct birth date, sex code or grade
    once, not once per chunk."""

    memos: dict[tuple[Any, str], _ParseMemo] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def memo(self, fn: Any, dtype: str) -> _ParseMemo:
        """The memo of ``fn`` on values of ``dtype`` (made on first use)."""
        with self.lock:
            return self.memos.setdefault((fn, dtype), _ParseMemo(fn))


def parse_distinct(
    fn: Any, values: np.ndarray, cache: ParseCache | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``fn`` (a parser of this module) on distinct, non-blank ``values``: (values, status).

    With a ``cache``, results are remembered per parser across calls. Every parser
    here is a function of the cell alone, so this equals ``fn(pd.Series(values))``;
    values that Python counts as equal but parse differently (``True`` and ``1``)
    are parsed directly, never looked up.

    Example:
        >>> import numpy as np
        >>> v, st = parse_distinct(parse_grade, np.array(["初二", "高一"], dtype=object))
        >>> v.tolist(), st.tolist()
        ([8.0, 10.0], [0, 0])
    """
    values = np.asarray(values)
    if (
        len(values) == 0
        or values.dtype == bool
        or any(isinstance(v, (bool, np.bool_)) for v in values)
    ):
        vals, st = fn(pd.Series(values))
        return vals.to_numpy(), np.asarray(st, dtype=np.int8)
    if cache is None:
        vals, st = fn(pd.Series(values))
        return vals.to_numpy(), np.asarray(st, dtype=np.int8)
    # the parser sees the values with their own dtype
    return cache.memo(fn, values.dtype.str)(values)


@dataclass(frozen=True)
class Demographics:
    """Per-row age (years), age source, sex, grade and their statuses."""

    age_years: np.ndarray
    age_source: np.ndarray  # object: 'dates' / 'given' / '' (none)
    age_status: np.ndarray
    sex: np.ndarray  # object: 'female' / 'male' / nan
    sex_status: np.ndarray
    grade: np.ndarray
    grade_status: np.ndarray

    def age(self, unit: str) -> np.ndarray:
        """Age in ``'years'`` or ``'months'``."""
        return self.age_years * 12.0 if unit == "months" else self.age_years

    def take(self, pos: np.ndarray) -> Demographics:
        """The rows at positions ``pos`` (for a subset of rows scored on its own).

        Example:
            >>> import pandas as pd
            >>> d = read_demographics(pd.DataFrame({"age": [9, 15]}), {"age": "age"})
            >>> d.take(np.array([1])).age_years.tolist()
            [15.0]
        """
        return Demographics(*(getattr(self, f.name)[pos] for f in fields(self)))


def resolve_columns(data: pd.DataFrame, demographics: Mapping[str, str] | None) -> dict[str, str]:
    """Role -> column: given names, else columns named exactly like the role.

    Raises ``ValueError`` for an unknown role or a named column that is absent.

    Example:
        >>> import pandas as pd
        >>> resolve_columns(pd.DataFrame(columns=["age", "gender"]), {"sex": "gender"})
        {'sex': 'gender', 'age': 'age'}
    """
    out: dict[str, str] = {}
    for role, col in dict(demographics or {}).items():
        if role not in DEMOGRAPHIC_ROLES:
            roles = ", ".join(DEMOGRAPHIC_ROLES)
            raise ValueError(f"unknown demographics role {role!r}; roles are {roles}")
        if col not in data.columns:
            raise ValueError(f"demographics column {col!r} (role {role!r}) is not in the data")
        out[role] = col
    for role in DEMOGRAPHIC_ROLES:
        if role not in out and role in data.columns:
            out[role] = role
    return out


def read_demographics(
    data: pd.DataFrame, columns: Mapping[str, str], cache: ParseCache | None = None
) -> Demographics:
    """Read age, sex and grade of every row (see the module docstring for the rules).

    ``cache`` remembers parsed values across calls (see :class:`ParseCache`).
    """
    n = len(data)
    idx = pd.RangeIndex(n)

    def col(role: str) -> pd.Series | None:
        c = columns.get(role)
        if c is None:
            return None
        v = data[c]  # a categorical stays one (parsed per category), anything else as before
        return pd.Series(
            v.array if isinstance(v.dtype, pd.CategoricalDtype) else v.to_numpy(), index=idx
        )

    age = np.full(n, np.nan)
    source = np.full(n, "", dtype=object)
    age_st = np.full(n, MISSING, dtype=np.int8)
    given = col("age")
    if given is not None:
        g, gst = _per_distinct(parse_age, given, cache)
        age = g.to_numpy(dtype=float)
        age_st = gst.copy()
        source[gst == OK] = "given"
    b, a = col("birth_date"), col("assessment_date")
    if b is not None and a is not None:
        bd, bst = _per_distinct(parse_dates, b, cache)
        ad, ast = _per_distinct(parse_dates, a, cache)
        both = (bst != MISSING) & (ast != MISSING)
        readable = (bst == OK) & (ast == OK)
        exact = exact_age(bd, ad).to_numpy(dtype=float)
        good = readable & np.isfinite(exact)
        age = np.where(good, exact, age)
        source[good] = "dates"
        age_st[good] = OK
        bad = both & ~good
        age[bad] = np.nan
        source[bad] = ""
        age_st[bad] = INVALID
    sex = np.full(n, np.nan, dtype=object)
    sex_st = np.full(n, MISSING, dtype=np.int8)
    s = col("sex")
    if s is not None:
        sx, sex_st = _per_distinct(sex_status, s, cache)
        sex = sx.to_numpy(dtype=object)
    grade = np.full(n, np.nan)
    grade_st = np.full(n, MISSING, dtype=np.int8)
    gcol = col("grade")
    if gcol is not None:
        gr, grade_st = _per_distinct(parse_grade, gcol, cache)
        grade = gr.to_numpy(dtype=float)
    return Demographics(age, source, age_st, sex, sex_st, grade, grade_st)
