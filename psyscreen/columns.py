"""The column contract between stages: every result column name is built here.

Scales: ``{instrument}.{scale}.{field}`` (``raw``, ``status``, ``band``, ``t``, ...);
instruments: ``{instrument}.status`` and ``{instrument}.problems``; critical items and
validity checks: ``{instrument}.critical.{id}``, ``{instrument}.validity.{id}``; the
demographics norms were read with: ``norms.{field}``; risk: ``risk.{field}``.

Example:
    >>> scale("phq9", "total", "raw"), status("phq9"), risk("status")
    ('phq9.total.raw', 'phq9.status', 'risk.status')
    >>> band_field(0, "cn"), band_field(1, "cn", "band_class")
    ('band', 'band_class_cn')
"""

from __future__ import annotations

#: The fields standardisation adds to a scale, in column order.
NORM_FIELDS = (
    "z",
    "t",
    "percentile",
    "norm_band",
    "norm_band_class",
    "norm_table",
    "norm_stratum",
    "norm_status",
)
#: The ``norms.*`` columns: the demographics as read for the norm stratum.
NORM_DEMOGRAPHICS = ("age", "age_source", "sex", "grade")


def ref(instrument: str, scale_id: str) -> str:
    """``{instrument}.{scale}``: how a scale is named in profiles and column names."""
    return f"{instrument}.{scale_id}"


def scale(instrument: str, scale_id: str, field: str) -> str:
    """The column of ``field`` of one scale, ``{instrument}.{scale}.{field}``."""
    return f"{instrument}.{scale_id}.{field}"


def field_of(scale_ref: str, field: str) -> str:
    """The column of ``field`` of the scale named by ``scale_ref`` (see :func:`ref`).

    Example:
        >>> field_of("phq9.total", "norm_table")
        'phq9.total.norm_table'
    """
    return f"{scale_ref}.{field}"


def band_field(k: int, set_id: str, field: str = "band") -> str:
    """``band`` / ``band_class`` for a scale's first band set (``k == 0``), else with
    the set's id as a suffix (``band_{set}``)."""
    return field if k == 0 else f"{field}_{set_id}"


def status(instrument: str) -> str:
    """The instrument status column, ``{instrument}.status``."""
    return f"{instrument}.status"


def problems(instrument: str) -> str:
    """The ``item:problem;...`` column of an instrument, ``{instrument}.problems``."""
    return f"{instrument}.problems"


def critical(instrument: str, item_id: str) -> str:
    """The column of one critical item, ``{instrument}.critical.{id}``."""
    return f"{instrument}.critical.{item_id}"


def validity(instrument: str, check_id: str) -> str:
    """The column of one validity check, ``{instrument}.validity.{id}``."""
    return f"{instrument}.validity.{check_id}"


def norms(field: str) -> str:
    """A ``norms.*`` column (see :data:`NORM_DEMOGRAPHICS`)."""
    return f"norms.{field}"


def risk(field: str) -> str:
    """A ``risk.*`` column, e.g. ``risk.status``."""
    return f"risk.{field}"
