"""What a result says and asks for: names, colour, 3-level, actions and intervals of one
combination of (result, age gate, invalid flag, insufficient flag), and the age-gate reasons.

Example:
    >>> import psyscreen
    >>> prof = psyscreen.load_profile("default")
    >>> _outcome(prof, 4, 0, False, False)["level_zh"]  # result 4 = len(levels): invalid
    '无效作答'
"""

from __future__ import annotations

from .profile import RiskProfile

#: The results after ``level``, in the order of ``risk.status``.
RESULT_STATUSES = ["level", "invalid_response", "insufficient_data", "out_of_age_range", "no_age"]
#: Per-row gate codes passed to :func:`psyscreen.risk.evaluate.evaluate` (0: none).
GATES = {"out_of_age_range": 1, "no_age": 2}


def _min_days(*vals: int | None) -> int | None:
    given = [v for v in vals if v is not None]
    return min(given) if given else None


_GATE_NAMES = {code: name for name, code in GATES.items()}
_GATE_REASONS = {
    "out_of_age_range": (
        "no battery of this profile is meant for the child's age; screen with one that is",
        "本方案没有适用于该儿童年龄的量表组合，请改用适用的方案筛查",
    ),
    "no_age": (
        "no readable age: add birth_date and assessment_date (or age) so that the battery "
        "for the child's age can be chosen",
        "无法读取年龄：请补录出生日期和测评日期（或年龄），以便选择适用的量表组合",
    ),
}


def _outcome(p: RiskProfile, result: int, gate: int, invalid: bool, insufficient: bool) -> dict:
    """Output values for one combination of (result, gate, invalid flag, insufficient flag)."""
    nl = len(p.levels)
    tier3: str  # a level's tier3 is one of three names, a status's any text
    if result < nl:
        lv = p.levels[result]
        applied = [p.status(_GATE_NAMES[gate])] if gate else []
        if invalid:
            applied.append(p.statuses.invalid_response)
        if insufficient:
            applied.append(p.statuses.insufficient_data)
        handlings = [lv, *applied]
        code, zh, en, colour, tier3 = lv.code, lv.zh, lv.en, lv.colour, lv.tier3
    else:
        name = RESULT_STATUSES[result - nl + 1]
        st = p.status(name)
        handlings = [st]
        if result == nl and insufficient:
            handlings.append(p.statuses.insufficient_data)
        code, zh, en, colour, tier3 = name, st.zh, st.en, st.colour, st.tier3
    actions = []
    seen = set()
    for h in handlings:
        for a in h.actions:
            if a.id not in seen:
                seen.add(a.id)
                actions.append(a)
    return {
        "level_code": code,
        "level_zh": zh,
        "level_en": en,
        "colour": colour,
        "tier3": tier3,
        "needs_confirmation": any(h.needs_confirmation for h in handlings),
        "referral": any(h.referral for h in handlings),
        "retest_days": _min_days(*(h.retest_days for h in handlings)),
        "contact_days": _min_days(*(h.contact_days for h in handlings)),
        "visit_days": _min_days(*(h.visit_days for h in handlings)),
        "actions": ";".join(a.id for a in actions),
        "actions_zh": "；".join(a.zh for a in actions),
        "actions_en": "; ".join(a.en for a in actions),
    }
