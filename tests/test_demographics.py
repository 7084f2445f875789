"""Age from dates, sex codes and grades (psyscreen.demographics)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from psyscreen.demographics import (
    INVALID,
    MISSING,
    OK,
    SEX_CODES,
    exact_age,
    parse_age,
    parse_dates,
    parse_grade,
    read_demographics,
    resolve_columns,
    sex_status,
)


def _age(b, a, unit="years"):
    return exact_age(pd.Series([b]), pd.Series([a]), unit).iloc[0]


def test_exact_age_is_whole_on_the_birthday_and_below_the_day_before():
    assert _age("2012-06-15", "2020-06-15") == 8.0
    before = _age("2012-06-15", "2020-06-14")
    assert 7.99 < before < 8.0
    # 2020 is a leap year: from 2019-06-15 to 2020-06-15 is 366 days, 365 elapsed
    assert before == pytest.approx(7 + 365 / 366)


def test_exact_age_fraction_is_calendar_based_not_days_over_365_25():
    # days / 365.25 would give 0.9993 on the first birthday
    assert _age("2019-03-01", "2020-03-01") == 1.0
    assert _age("2015-01-01", "2024-01-01") == 9.0  # 3 leap days in between
    assert _age("2015-01-01", "2015-07-02") == pytest.approx(182 / 365)


def test_29_february_birthday_falls_on_1_march_in_other_years():
    assert _age("2012-02-29", "2021-02-28") < 9.0
    assert _age("2012-02-29", "2021-03-01") == 9.0
    assert _age("2012-02-29", "2020-02-29") == 8.0


def test_exact_age_in_months():
    assert _age("2012-06-15", "2013-01-15", "months") == 7.0
    assert _age("2012-01-31", "2012-02-29", "months") == 1.0  # 31st -> last day of February
    half = _age("2012-06-15", "2012-07-01", "months")
    assert half == pytest.approx(16 / 30)


def test_birth_after_assessment_gives_no_age():
    assert np.isnan(_age("2020-01-02", "2020-01-01"))


def test_parse_dates_formats_and_statuses():
    s = pd.Series(
        ["2012-03-05", "2012/3/5", "2012.03.05", "2012年3月5日", "20120305", " 2012-3-5 "]
    )
    d, st = parse_dates(s)
    assert (d == pd.Timestamp("2012-03-05")).all()
    assert st.tolist() == [OK] * 6
    d, st = parse_dates(pd.Series(["05/03/2012", "2023-02-30", "soon", "", None]))
    assert st.tolist() == [INVALID, INVALID, INVALID, MISSING, MISSING]
    assert d.isna().all()


def test_parse_dates_accepts_datetime_values():
    d, st = parse_dates(pd.Series(pd.to_datetime(["2012-03-05", None])))
    assert st.tolist() == [OK, MISSING]
    d, st = parse_dates(pd.Series([dt.date(2012, 3, 5), dt.datetime(2013, 1, 2, 10, 0)]))
    assert st.tolist() == [OK, OK]
    assert d.iloc[0] == pd.Timestamp("2012-03-05")


@pytest.mark.parametrize(
    "code,expected",
    [
        (1, "male"),
        (2, "female"),
        (1.0, "male"),
        (2.0, "female"),
        ("1", "male"),
        ("2", "female"),
        ("M", "male"),
        ("f", "female"),
        (" Male ", "male"),
        ("FEMALE", "female"),
        ("boy", "male"),
        ("girl", "female"),
        ("男", "male"),
        ("女", "female"),
        ("男生", "male"),
        ("女孩", "female"),
    ],
)
def test_sex_codes(code, expected):
    sex, st = sex_status(pd.Series([code], dtype=object))
    assert sex.iloc[0] == expected
    assert st[0] == OK


@pytest.mark.parametrize("code", [0, 9, "0", "9", "unknown", "未知", "未说明", None, "", "  "])
def test_known_unknown_sex_is_missing(code):
    sex, st = sex_status(pd.Series([code], dtype=object))
    assert st[0] == MISSING
    assert pd.isna(sex.iloc[0])


@pytest.mark.parametrize("code", [3, "x", "mf", 1.5, True, "其他"])
def test_unrecognised_sex_is_invalid_never_guessed(code):
    sex, st = sex_status(pd.Series([code], dtype=object))
    assert st[0] == INVALID
    assert pd.isna(sex.iloc[0])


def test_sex_code_table_is_consistent():
    assert set(SEX_CODES.values()) == {"female", "male", None}
    assert all(k == k.strip().lower() for k in SEX_CODES)


def test_sex_on_numeric_and_string_dtypes():
    sex, st = sex_status(pd.Series([1, 2, None], dtype="Int64"))
    assert sex.tolist()[:2] == ["male", "female"]
    assert st.tolist() == [OK, OK, MISSING]
    sex, st = sex_status(pd.Series(["M", None], dtype="string"))
    assert st.tolist() == [OK, MISSING]


def test_parse_grade():
    g, st = parse_grade(
        pd.Series([3, "4", "Grade 5", "G6", "三年级", "小学六年级", "初一", "初三", "高一", "高三"])
    )
    assert g.tolist() == [3, 4, 5, 6, 3, 6, 7, 9, 10, 12]
    assert (st == OK).all()
    g, st = parse_grade(pd.Series([0, 13, 3.5, "大一", None, ""], dtype=object))
    assert st.tolist() == [INVALID, INVALID, INVALID, INVALID, MISSING, MISSING]
    assert g.isna().all()


def test_parse_age():
    a, st = parse_age(pd.Series([12, "9.5", "12岁", "abc", -1, 130, None], dtype=object))
    assert a.tolist()[:3] == [12.0, 9.5, 12.0]
    assert st.tolist() == [OK, OK, OK, INVALID, INVALID, INVALID, MISSING]


def test_dates_win_over_given_age_and_given_age_is_the_fallback():
    df = pd.DataFrame(
        {
            "age": [5, 11, 11, 11, None],
            "birth_date": ["2010-01-01", None, "2010-01-01", "bad", "2010-01-01"],
            "assessment_date": ["2020-01-01", "2020-01-01", None, "2020-01-01", "2009-01-01"],
        }
    )
    d = read_demographics(df, resolve_columns(df, None))
    assert d.age_years[0] == 10.0 and d.age_source[0] == "dates"
    assert d.age_years[1] == 11.0 and d.age_source[1] == "given"
    assert d.age_years[2] == 11.0 and d.age_source[2] == "given"
    # a date that cannot be read, or birth after assessment: invalid, not the given age
    assert np.isnan(d.age_years[3]) and d.age_status[3] == INVALID
    assert np.isnan(d.age_years[4]) and d.age_status[4] == INVALID
    assert d.age(unit="months")[0] == 120.0


def test_resolve_columns():
    df = pd.DataFrame(columns=["age", "gender", "dob"])
    assert resolve_columns(df, {"sex": "gender", "birth_date": "dob"}) == {
        "sex": "gender",
        "birth_date": "dob",
        "age": "age",
    }
    with pytest.raises(ValueError, match="not in the data"):
        resolve_columns(df, {"sex": "nope"})
    with pytest.raises(ValueError, match="unknown demographics role"):
        resolve_columns(df, {"height": "age"})


def test_large_columns_parse_exactly_as_row_by_row():
    """Columns of >= 1000 rows are parsed once per distinct value: same result as per row."""
    from psyscreen.demographics import _per_distinct

    rng = np.random.default_rng(7)
    n = 3000
    sex = pd.Series(rng.choice(np.array([1, 2, "F", "男", "x", None, 9, 2.0], object), n))
    dates = pd.Series(rng.choice(np.array(["2012-03-05", "2012/3/5", "bad", None, ""]), n))
    grades = pd.Series(rng.choice(np.array(["初二", 3, "Grade 4", "大一", None], object), n))
    for fn, s in ((sex_status, sex), (parse_dates, dates), (parse_grade, grades)):
        fast_v, fast_st = _per_distinct(fn, s)
        slow_v, slow_st = fn(s)
        assert fast_st.tolist() == slow_st.tolist()
        assert fast_v.isna().tolist() == slow_v.isna().tolist()
        ok = ~slow_v.isna().to_numpy()
        assert fast_v[ok].tolist() == slow_v[ok].tolist()


def test_booleans_are_not_merged_with_1_in_large_columns():
    from psyscreen.demographics import _per_distinct

    s = pd.Series(np.array([1, True] * 1000, dtype=object))
    _, st = _per_distinct(sex_status, s)
    assert st.tolist() == [OK, INVALID] * 1000


# --- parse_distinct: parsing remembered across calls equals parsing directly ------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from psyscreen.demographics import ParseCache, parse_distinct  # noqa: E402

_CELLS = st.one_of(
    st.sampled_from(
        [
            "2012-03-05",
            "2012/3/5",
            "2012年3月5日",
            "20120305",
            "2023-02-30",
            "05/03/2012",
            "1",
            "2",
            "M",
            "女",
            "x",
            "初二",
            "高一",
            "三年级",
            "Grade 4",
            "9",
            "0",
            " 12 ",
            "abc",
            "2016-02-29",
        ]
    ),
    st.integers(-3, 130),
    st.floats(-1, 130, allow_nan=False),
)


@settings(max_examples=60, deadline=None)
@given(
    first=st.lists(_CELLS, max_size=25, unique_by=lambda v: (type(v), v)),
    second=st.lists(_CELLS, max_size=25, unique_by=lambda v: (type(v), v)),
    parser=st.sampled_from([parse_dates, parse_age, parse_grade, sex_status]),
)
def test_parse_distinct_equals_the_parser_on_every_call(first, second, parser):
    """Two calls (the second partly seen before, in another order) give what the
    parser gives on the same values directly: the memo never changes a result. The
    cache is this example's own, so no other test's values are in it."""
    cache = ParseCache()
    for values in (first, second, first[::-1] + second):
        arr = np.array(values, dtype=object)
        arr = arr[pd.Index(arr).duplicated() == False]  # noqa: E712 - distinct, as callers pass
        got_v, got_s = parse_distinct(parser, arr, cache)
        want_v, want_s = parser(pd.Series(arr, dtype=object))
        np.testing.assert_array_equal(got_s, np.asarray(want_s))
        pd.testing.assert_series_equal(
            pd.Series(got_v), pd.Series(want_v.to_numpy()), check_dtype=False
        )


def _age_by_hand(b: dt.date | None, a: dt.date | None) -> float:
    """The calendar rule row by row with Python dates (the oracle of ``exact_age``)."""
    if b is None or a is None or a < b:
        return float("nan")

    def birthday(y: int) -> dt.date:
        try:
            return dt.date(y, b.month, b.day)
        except ValueError:  # 29 February in a non-leap year
            return dt.date(y, 3, 1)

    years = a.year - b.year - ((a.month, a.day) < (b.month, b.day))
    last, nxt = birthday(b.year + years), birthday(b.year + years + 1)
    day_ns = 86_400 * 10**9  # the fraction as a division of nanoseconds, as pandas takes it
    return years + float((a - last).days * day_ns) / float((nxt - last).days * day_ns)


_DAYS = st.one_of(
    st.none(),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)),
    # 29 February and the days around it, which random dates rarely hit
    st.builds(
        lambda y, d: dt.date(y, 2, 28) + dt.timedelta(days=d),
        st.sampled_from([1900, 1904, 1969, 2000, 2007, 2008, 2011, 2012, 2023, 2024]),
        st.integers(-1, 2),
    ),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_DAYS, _DAYS), min_size=1, max_size=40))
def test_exact_age_equals_the_calendar_rule_row_by_row(pairs):
    """Bit for bit, for dates before 1970, on 29 February, missing and reversed."""
    births = pd.Series([b for b, _ in pairs], dtype=object)
    assessed = pd.Series([a for _, a in pairs], dtype=object)
    got = exact_age(births, assessed).to_numpy()
    want = np.array([_age_by_hand(b, a) for b, a in pairs])
    np.testing.assert_array_equal(got, want)
    as_dt = exact_age(pd.to_datetime(births), pd.to_datetime(assessed)).to_numpy()
    np.testing.assert_array_equal(as_dt, want)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.datetimes(min_value=dt.datetime(1800, 1, 1), max_value=dt.datetime(2200, 12, 31)),
        ),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["ns", "us", "s"]),
)
def test_datetime_columns_parse_as_datetime_objects_do(values, unit):
    """A datetime64 column (numpy path) gives the dates and statuses of the same
    values as Python objects (the per-value path), times of day dropped."""
    col = pd.Series(np.array(values, dtype=f"datetime64[{unit}]"))
    got_d, got_s = parse_dates(col)
    want_d, want_s = parse_dates(pd.Series(values, dtype=object))
    np.testing.assert_array_equal(got_s, want_s)
    np.testing.assert_array_equal(got_d.to_numpy(), want_d.to_numpy())
