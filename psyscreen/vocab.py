"""The closed vocabularies of results: problem codes, statuses and band classes.

Integer vocabularies (:class:`CellProblem`, :class:`ParseStatus`) are the codes kept in
numpy arrays; text vocabularies are :class:`~enum.StrEnum` members whose value is the
exact text written to output files, and whose declaration order is the order of the
categories of the result column (so a member's :attr:`~Vocabulary.code` is its
categorical code).

Example:
    >>> ScaleStatus.PRORATED.code, ScaleStatus.names()[:2]
    (1, ['complete', 'prorated'])
    >>> CellProblem.OUT_OF_RANGE.text, int(CellProblem.OUT_OF_RANGE)
    ('out_of_range', 3)
"""

from __future__ import annotations

import sys
from enum import Enum, IntEnum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - Python 3.10

    class StrEnum(str, Enum):
        """:class:`enum.StrEnum` of Python 3.11."""

        def __str__(self) -> str:
            return str(self.value)


class CellProblem(IntEnum):
    """What is wrong with one answer cell (``ItemValues.problem``)."""

    OK = 0
    BLANK = 1
    MISSING_CODE = 2
    OUT_OF_RANGE = 3
    NON_NUMERIC = 4
    NO_COLUMN = 5

    @property
    def text(self) -> str:
        """The name written to problem tables, e.g. ``'out_of_range'``."""
        return self.name.lower()


#: Cell problems that are data errors (reported), as opposed to plain missing answers.
DATA_ERRORS = (CellProblem.OUT_OF_RANGE, CellProblem.NON_NUMERIC)


class ParseStatus(IntEnum):
    """Status of one parsed demographic value (``IMPLAUSIBLE``: a real but unlikely date)."""

    OK = 0
    MISSING = 1
    INVALID = 2
    IMPLAUSIBLE = 3


class Vocabulary(StrEnum):
    """A text vocabulary whose declaration order gives the categorical codes."""

    @classmethod
    def names(cls) -> list[str]:
        """The values in declaration order (the categories of the result column)."""
        return [m.value for m in cls]

    @property
    def code(self) -> int:
        """Position of the member in its vocabulary (its categorical code)."""
        return type(self)._member_names_.index(self.name)


class ScaleStatus(Vocabulary):
    """Status of one scale score."""

    COMPLETE = "complete"
    PRORATED = "prorated"
    INSUFFICIENT = "insufficient"
    NOT_ANSWERED = "not_answered"


class InstrumentStatus(Vocabulary):
    """Status of one instrument for one row."""

    COMPLETE = "complete"
    PARTIAL = "partial"
    INSUFFICIENT = "insufficient"
    INVALID_RESPONSE = "invalid_response"
    NOT_ANSWERED = "not_answered"
    OUT_OF_AGE_RANGE = "out_of_age_range"


class BandClass(Vocabulary):
    """Classification of a band."""

    NORMAL = "normal"
    BORDERLINE = "borderline"
    ABNORMAL = "abnormal"


class NormStatus(Vocabulary):
    """Whether a row got standard scores from a norm table, and if not why."""

    OK = "ok"
    NO_SCORE = "no_score"
    NO_DEMOGRAPHICS = "no_demographics"
    INVALID_DEMOGRAPHICS = "invalid_demographics"
    NO_STRATUM = "no_stratum"
    OUT_OF_TABLE = "out_of_table"


class RiskStatus(Vocabulary):
    """``risk.status`` of a screened row."""

    LEVEL = "level"
    INVALID_RESPONSE = "invalid_response"
    INSUFFICIENT_DATA = "insufficient_data"
    OUT_OF_AGE_RANGE = "out_of_age_range"
    NO_AGE = "no_age"


class RowStatus(Vocabulary):
    """``row.status`` of a batch result row."""

    OK = "ok"
    PROBLEMS = "problems"
    UNREADABLE = "unreadable"


class AgeSource(Vocabulary):
    """Where a row's age came from (``''``: it has none)."""

    DATES = "dates"
    GIVEN = "given"
    NONE = ""
