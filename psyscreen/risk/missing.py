"""Missing-data causes: what a required battery result lacks, per row and by cause.

A required instrument needs a band class for each screening scale, a score for each
required scale, and whatever its rules read. A cause is keyed ``inst.scale`` (no score),
``inst.scale.field`` (no such score, e.g. no T), ``inst.scale [norm <status>]`` (a score
but no norm band, e.g. no stratum for the child's age: a complete answer sheet is never
called missing) or ``inst [not in the data]``.

Example:
    >>> import psyscreen
    >>> prof = psyscreen.load_profile("default")
    >>> needs(prof, [])["phq9"][:1]
    [('phq9.total', 'class')]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..band_choice import object_values
from .views import numbers

if TYPE_CHECKING:
    from .nodes import Node
    from .profile import RiskProfile
    from .views import ScaleView


def needs(profile: RiskProfile, roots: Sequence[Node]) -> dict[str, list[tuple[str, str]]]:
    """Per required instrument: the (scale, field) pairs that must be known ('class': a band)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for b in profile.battery:
        if b.required:
            out[b.instrument] = [(f"{b.instrument}.{s}", "class") for s in b.screening_scales]
            out[b.instrument] += [
                (f"{b.instrument}.{s}", "raw")
                for s in b.required_scales
                if s not in b.screening_scales
            ]
    for root in roots:
        for ref, fld in root.refs():
            inst_id = ref.split(".", 1)[0]
            if fld == "raw" and (ref, "class") in out.get(inst_id, []):
                continue  # the band is only there when the raw score is
            if inst_id in out and (ref, fld) not in out[inst_id]:
                out[inst_id].append((ref, fld))
    return out


def missing_causes(
    profile: RiskProfile,
    roots: Sequence[Node],
    col: Callable[[str], pd.Series | None],
    scale: Callable[[str], ScaleView],
    n: int,
    absent: frozenset[str] = frozenset(),
) -> dict[str, np.ndarray]:
    """Per cause (see the module), the rows it applies to; ``absent``: instruments with no
    column in the data (said once, not once per scale)."""
    out: dict[str, np.ndarray] = {}
    for inst_id, wanted in needs(profile, roots).items():
        if inst_id in absent:
            out[f"{inst_id} [not in the data]"] = np.ones(n, bool)
            continue
        for ref, fld in wanted:
            key = ref if fld in ("class", "raw") else f"{ref}.{fld}"
            if fld != "class":
                out[key] = np.asarray(np.isnan(numbers(col(f"{ref}.{fld}"), n)), dtype=bool)
                continue
            m = np.asarray(scale(ref).klass == None, dtype=bool)  # noqa: E711
            raw = col(f"{ref}.raw")
            norm_status = col(f"{ref}.norm_status")
            if raw is None or norm_status is None:
                out[key] = m
                continue
            scored = ~np.isnan(numbers(raw, n))
            out[key] = m & ~scored
            why = object_values(norm_status, n)
            for status in sorted({str(x) for x in why[m & scored]}):
                out[f"{key} [norm {status}]"] = m & scored & (why == status)
    return out


def incomplete(
    profile: RiskProfile, col: Callable[[str], pd.Series | None], n: int
) -> dict[str, np.ndarray]:
    """Optional instruments answered only in part (reported as flags, not as missing)."""
    out = {}
    for b in profile.battery:
        st = col(f"{b.instrument}.status")
        if b.required or st is None:
            continue
        out[b.instrument] = np.isin(object_values(st, n), ["partial", "insufficient"])
    return out
