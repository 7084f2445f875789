"""The bilingual text of one row's result: fired rules with their reasons, statuses, flags.

Reasons name scales and checks, never values or answers (no child data in a reason).

Example:
    >>> import psyscreen
    >>> prof = psyscreen.load_profile("default")
    >>> en, zh = status_text(prof, 0, [], ["phq9.total"])
    >>> en
    ['also insufficient data (missing: phq9.total): re-test']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .outcome import _GATE_NAMES, _GATE_REASONS, _outcome

if TYPE_CHECKING:
    from .evaluate import Evaluation
    from .nodes import Context
    from .profile import RiskProfile, Rule


def rule_reason(rule: Rule, names: list[str]) -> tuple[str, str]:
    """(English, Chinese) reason of a fired rule, with what made it fire in brackets.

    Example:
        >>> from psyscreen.risk.conditions import Rule
        >>> r = Rule(id="r", level="high", when={"critical": {}}, zh="危", en="crisis")
        >>> rule_reason(r, ["phq9.q9"])
        ('crisis (phq9.q9)', '危（phq9.q9）')
    """
    d = ", ".join(names)
    return (f"{rule.en} ({d})" if d else rule.en), (f"{rule.zh}（{d}）" if d else rule.zh)


def status_text(
    profile: RiskProfile, result: int, invalid: list[str], missing: list[str], gate: int = 0
) -> tuple[list[str], list[str]]:
    """Reasons for the statuses that apply: the result itself, or flags on a kept level."""
    st = profile.statuses
    parts = []
    if gate:
        name = _GATE_NAMES[gate]
        parts.append((profile.status(name), *_GATE_REASONS[name]))
    if invalid:
        parts.append((st.invalid_response, ", ".join(invalid), ", ".join(invalid)))
    if missing:
        m = ", ".join(missing)
        parts.append((st.insufficient_data, f"missing: {m}", f"缺失：{m}"))
    en, zh = [], []
    kept = result < len(profile.levels)
    for status, d_en, d_zh in parts:
        if kept:
            en.append(f"also {status.en.lower()} ({d_en}): re-test")
            zh.append(f"同时{status.zh}（{d_zh}）：需复测")
        else:
            en.append(f"{status.en} ({d_en})")
            zh.append(f"{status.zh}（{d_zh}）")
    return en, zh


def row_text(
    ev: Evaluation, ctx: Context, incomplete: dict[str, np.ndarray], r: int, key: int
) -> dict[str, Any]:
    """All outputs of row ``r`` whose outcome key is ``key`` (see ``evaluate._outcome_key``)."""
    p = ev.profile
    gate = (key // 4) % 4
    t = _outcome(p, key // 16, gate, bool(key & 2), bool(key & 1))
    ids, en, zh = [], [], []
    for rule in p.rules:
        if not ev.rule_fired[rule.id][r]:
            continue
        r_en, r_zh = rule_reason(rule, ev.nodes[rule.id].explain(ctx, r))
        ids.append(rule.id)
        en.append(r_en)
        zh.append(r_zh)
    invalid = [f"{i}.{c}" for (i, c), f in ev.validity.items() if f[r]]
    missing = [k for k, m in ev.missing.items() if m[r]]
    if gate:
        missing = invalid = []
    st_en, st_zh = status_text(p, key // 16, invalid, missing, gate)
    t["rules"] = ";".join(ids)
    t["reasons"] = "; ".join([*en, *st_en])
    t["reasons_zh"] = "；".join([*zh, *st_zh])
    flags = [f"{_GATE_NAMES[gate]}:age"] if gate else []
    flags += [f"invalid:{x}" for x in invalid]
    flags += [f"missing:{k}" for k in missing]
    flags += [f"incomplete:{i}" for i, m in incomplete.items() if m[r]]
    t["flags"] = ";".join(flags)
    return t
