"""Levels and statuses of a risk profile: what to do, in Chinese and English.

A :class:`Level` is one warning level (正常 / 关注 / ...); a :class:`Status` is a result that
is not a level (无效作答, 数据不足, 不适用年龄, 年龄缺失) and is never read as normal.

Example:
    >>> default_age_status("no_age", "attention").tier3
    '待复测'
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..definitions import Identifier, Text, _Model

#: The results that are not levels, in the order of ``risk.status`` after ``level``.
STATUS_CODES = ("invalid_response", "insufficient_data", "out_of_age_range", "no_age")


class Action(_Model):
    """A recommended action, with a stable id and text in Chinese and English."""

    id: Identifier
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Handling(_Model):
    """What to do for a level or status: actions, referral and intervals (days)."""

    needs_confirmation: bool = Field(
        description="Confirm by a second screening or an interview before the result is final."
    )
    referral: bool = Field(description="Refer to mental-health / professional services.")
    retest_days: int | None = Field(
        None, ge=0, description="Re-screen after this many days (null: no re-test planned)."
    )
    contact_days: int | None = Field(
        None, ge=0, description="Follow-up contact at least every this many days (null: none)."
    )
    visit_days: int | None = Field(
        None, ge=0, description="Home / face-to-face visit at least every this many days."
    )
    actions: list[Action] = Field(default_factory=list)


class Level(Handling):
    """One risk level. Levels are listed lowest first; the position is the level number."""

    code: Identifier
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    colour: str = Field(min_length=1, description="Colour name used on reports, e.g. 'green'.")
    tier3: Literal["低", "中", "高"] = Field(description="Three-level mapping 低 / 中 / 高.")
    description: Text | None = None


class Status(Handling):
    """A result that is not a level (invalid response, insufficient data).

    ``keep_level_from`` names the lowest level that still stands when this
    status applies: if the rules that could be evaluated already give that
    level or a higher one, the level is reported (with the status as a flag
    and its re-test added); otherwise the status is the result. It must be set,
    so that the top level (critical items) always overrides a status.
    """

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    colour: str = Field(min_length=1)
    tier3: str = Field(
        min_length=1, description="Explicit 3-level value for this status; never '低'."
    )
    keep_level_from: Identifier
    description: Text | None = None

    @model_validator(mode="after")
    def _not_low(self) -> Status:
        if self.tier3 == "低":
            raise ValueError("a status must not map to tier3 '低' (it is never read as normal)")
        return self


class Statuses(_Model):
    """The results that are not levels. ``out_of_age_range`` and ``no_age`` may be omitted:
    then the defaults of :func:`default_age_status` apply (kept level: the top level for
    out_of_age_range, the second level for no_age)."""

    invalid_response: Status
    insufficient_data: Status
    out_of_age_range: Status | None = Field(
        None,
        description="The child's age lies outside the profile's ages or every route "
        "(zh 不适用年龄). Never normal, never insufficient data.",
    )
    no_age: Status | None = Field(
        None, description="The profile needs the child's age and none could be read."
    )


_AGE_STATUS_TEXT = {
    "out_of_age_range": (
        "不适用年龄",
        "Out of age range",
        "儿童年龄不在本方案适用范围内，结果不能解读（不是正常）",
        "The child's age is outside the ages this profile covers: no result (not normal)",
        Action(
            id="screen_for_age",
            zh="按儿童年龄选用适用的筛查方案重新筛查",
            en="Screen again with a profile that covers the child's age",
        ),
    ),
    "no_age": (
        "年龄缺失",
        "Age unknown",
        "无法读取儿童年龄，不能选择适用的量表组合",
        "The child's age could not be read, so no battery could be chosen",
        Action(
            id="add_age",
            zh="补录出生日期与测评日期（或年龄）后重新评定",
            en="Add the birth date and assessment date (or the age), then grade again",
        ),
    ),
}


def default_age_status(name: str, top_level: str) -> Status:
    """The built-in ``out_of_age_range`` / ``no_age`` status (``top_level`` is kept).

    Example:
        >>> default_age_status("out_of_age_range", "crisis").zh
        '不适用年龄'
    """
    zh, en, d_zh, d_en, action = _AGE_STATUS_TEXT[name]
    return Status(
        zh=zh,
        en=en,
        colour="grey",
        tier3="不适用" if name == "out_of_age_range" else "待复测",
        keep_level_from=top_level,
        description=Text(zh=d_zh, en=d_en),
        needs_confirmation=True,
        referral=False,
        retest_days=14,
        actions=[action],
    )
