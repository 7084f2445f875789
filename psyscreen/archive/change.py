"""Change between two screenings: reliable change index and level transitions.

Reliable change (Jacobson & Truax 1991, J Consult Clin Psychol 59:12-19):

    SE = SD * sqrt(1 - r),   S_diff = sqrt(2 * SE**2),   RCI = (x2 - x1) / S_diff

and ``|RCI| >= 1.96`` is a change unlikely (p < .05) to come from measurement
error alone. The SD and reliability come from ``reliable_change.yaml``
(per instrument version and scale, optionally per sex, each with its source);
where no source gives them the difference is reported without an RCI.

Level transitions (``new`` / ``persisting`` / ``improved`` / ``worsened`` /
``resolved``) compare two results' levels; a status that is not a level
(invalid response, insufficient data) is ``not_comparable``.

Example:
    >>> r = reliable_change(24, 35, se=3.07)
    >>> round(r["s_diff"], 2), round(1.96 * r["s_diff"], 2), round(r["rci"], 2), r["reliable"]
    (4.34, 8.51, 2.53, True)
    >>> transition(0, 2), transition(2, 2), transition(2, 1), transition(1, 0), transition(0, 0)
    ('new', 'persisting', 'improved', 'resolved', 'stable_normal')
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any

#: |RCI| at or above this is reliable change (two-sided p < .05)
CRITICAL = 1.96
PARAMETERS = Path(__file__).resolve().parent / "reliable_change.yaml"


def reliable_change(
    x1: float,
    x2: float,
    *,
    sd: float | None = None,
    reliability: float | None = None,
    se: float | None = None,
) -> dict[str, Any]:
    """Difference and Jacobson-Truax RCI of ``x2 - x1``.

    Give ``sd`` and ``reliability`` (SE = SD * sqrt(1 - r)), or the standard
    error of measurement ``se`` directly (as a test manual prints it).
    """
    diff = float(x2) - float(x1)
    if se is None:
        if sd is None or reliability is None:
            return {"diff": diff, "se": None, "s_diff": None, "rci": None, "reliable": None}
        if not (0 <= reliability < 1) or sd <= 0:
            raise ValueError("reliability must be in [0, 1) and SD positive")
        se = sd * math.sqrt(1.0 - reliability)
    s_diff = math.sqrt(2.0 * se * se)
    rci = diff / s_diff
    return {"diff": diff, "se": se, "s_diff": s_diff, "rci": rci, "reliable": abs(rci) >= CRITICAL}


@lru_cache(maxsize=1)
def _parameters() -> tuple[dict, ...]:
    from ..yamlio import read_yaml

    data, _ = read_yaml(PARAMETERS)
    return tuple(data["parameters"])


def parameters_for(instrument: str, version: str | None, scale: str,
                   sex: str | None = None) -> dict | None:
    """The declared SD/reliability entry for a scale (a sex-specific one first), or ``None``.

    Example:
        >>> parameters_for("gad7", "2006", "total", "female")["sd"]
        3.5
        >>> parameters_for("gad7", "2006", "total") is None
        True
    """
    found = None
    for p in _parameters():
        key = (p["instrument"], str(p.get("version")), p["scale"])
        if key != (instrument, str(version), scale):
            continue
        if p.get("sex") is None and found is None:
            found = p
        if p.get("sex") is not None and p.get("sex") == sex:
            return p
    return found


def transition(before: float | None, after: float | None) -> str:
    """The level transition between two level numbers (``None``: not a level)."""
    if after is None or (before is not None and math.isnan(before)) or math.isnan(after):
        return "not_comparable"
    if before is None:
        return "new" if after > 0 else "first_normal"
    if before == 0 and after == 0:
        return "stable_normal"
    if before == 0:
        return "new"
    if after == 0:
        return "resolved"
    if after == before:
        return "persisting"
    return "worsened" if after > before else "improved"


#: transition -> (zh, en)
TRANSITION_TEXT = {
    "new": ("新发", "new"),
    "persisting": ("持续", "persisting"),
    "improved": ("好转", "improved"),
    "worsened": ("加重", "worsened"),
    "resolved": ("解除", "resolved"),
    "stable_normal": ("保持正常", "stays normal"),
    "first_normal": ("首次筛查正常", "first screening, normal"),
    "not_comparable": ("不可比较", "not comparable"),
}
