"""Names of outcomes, bands and scales from the definitions' own zh/en texts.

Example:
    >>> from psyscreen.risk import load_profile
    >>> p = load_profile("default")
    >>> band_info(p, "phq9", "total", "moderate", "zh")
    ('中度', '[10, 14]', 'abnormal')
    >>> outcome_name(p, "high_attention", "zh"), outcome_name(p, "invalid_response", "en")
    ('重点关注', 'Invalid response')
"""

from __future__ import annotations

import functools
from typing import Any

from .. import columns as colnames
from ..risk.handling import STATUS_CODES
from .i18n import Messages


def outcome_name(profile: Any, code: str, lang: str) -> str:
    """A level or status (or ``unreadable``) in ``lang``."""
    t = Messages(lang)
    if profile is not None:
        for lv in profile.levels:
            if lv.code == code:
                return t.named(lv)
        st = _status(profile, code)
        if st is not None:
            return t.named(st)
    if code == "unreadable":
        return t("outcome.unreadable")
    return t("outcome.not_graded")


def outcome_colour(profile: Any, code: str) -> str:
    """The profile's colour name of a level or status (``grey`` otherwise)."""
    if profile is not None:
        for lv in profile.levels:
            if lv.code == code:
                return lv.colour
        st = _status(profile, code)
        if st is not None:
            return st.colour
    return "grey"


def _status(profile: Any, code: str) -> Any:
    """The profile's status ``code``, its built-in default when the profile omits it."""
    return profile.status(code) if code in STATUS_CODES else None


def _instrument(profile: Any, inst_id: str) -> Any:
    try:
        return profile.instrument(inst_id)
    except (KeyError, AttributeError, ValueError):
        return None


def band_source(profile: Any, inst_id: str) -> str:
    """``instrument`` or ``norm``: where the profile takes this instrument's bands from."""
    try:
        return profile.entry(inst_id).band_source
    except (KeyError, AttributeError):
        return "instrument"


def scale_name(profile: Any, inst_id: str, scale_id: str, lang: str) -> str:
    """E.g. ``PHQ-9 抑郁严重程度``: the instrument's short name and the scale's label."""
    inst = _instrument(profile, inst_id)
    if inst is None:
        return colnames.ref(inst_id, scale_id)
    try:
        label = Messages(lang).text(inst.scale(scale_id).label)
    except KeyError:
        label = scale_id
    short = getattr(inst, "abbreviation", None) or inst_id.upper().replace("_", "-")
    return f"{short} {label}"


@functools.lru_cache(maxsize=64)
def _norm_bands(table_ref: str) -> dict[str, tuple[Any, str]]:
    from ..norms.loading import read_table

    out: dict[str, tuple[Any, str]] = {}
    try:
        table = read_table(table_ref.split("@", 1)[0])
    except Exception:  # a custom table not shipped: codes are shown as they are
        return out
    for row in table.rows:
        for b in row.bands:
            out.setdefault(b.code, (b.label, b.classification))
    if table.t_bands is not None:
        for b in table.t_bands.bands:
            out.setdefault(b.code, (b.label, b.classification))
    return out


@functools.lru_cache(maxsize=64)
def _norm_table(table_ref: str) -> Any:
    from ..norms.loading import read_table

    try:
        return read_table(table_ref.split("@", 1)[0])
    except Exception:  # a custom table not shipped
        return None


def norm_band_detail(table_ref: str, stratum: str, code: str, lang: str) -> tuple[str, str]:
    """(stratum name in ``lang``, raw-score interval of band ``code`` in that stratum).

    Example:
        >>> norm_band_detail("sdq_s_cn_du2008@1", "11-17 years, boys and girls together",
        ...                  "borderline", "zh")
        ('11-17岁，男女合并', '[15, 17]')
    """
    table = _norm_table(table_ref)
    if table is None:
        return stratum, ""
    unit = table.covers.age_unit
    for row in table.rows:
        if row.stratum_label(unit) != stratum:
            continue
        name = Messages(lang).text(row.label) if row.label is not None else stratum
        for b in row.bands:
            if b.code == code:
                return name, b.describe()
        return name, ""
    return stratum, ""


def band_order(
    profile: Any, inst_id: str, scale_id: str, table_ref: str | None = None
) -> list[str]:
    """Band codes in their natural order (lowest first)."""
    if band_source(profile, inst_id) == "norm" and table_ref:
        return list(_norm_bands(table_ref))
    inst = _instrument(profile, inst_id)
    try:
        sc = inst.scale(scale_id)
    except (KeyError, AttributeError):
        return []
    return [b.code for b in sc.bands[0].bands] if sc.bands else []


def band_info(
    profile: Any, inst_id: str, scale_id: str, code: str, lang: str, table_ref: str | None = None
) -> tuple[str, str, str]:
    """(band name, interval of raw scores or ``""``, classification) of a band code."""
    t = Messages(lang)
    if band_source(profile, inst_id) == "norm" and table_ref:
        label, klass = _norm_bands(table_ref).get(code, (None, ""))
        return (t.text(label) if label is not None else code), "", klass
    inst = _instrument(profile, inst_id)
    try:
        sc = inst.scale(scale_id)
    except (KeyError, AttributeError):
        return code, "", ""
    for b in sc.bands[0].bands if sc.bands else []:
        if b.code == code:
            return t.text(b.label), b.describe(), b.classification
    return code, "", ""
