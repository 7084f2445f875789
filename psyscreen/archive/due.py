"""The due list (预警台账): who needs a contact, visit, confirmation, referral or re-test.

For each child, from the latest screening on or before the date and the events
after it (the level acted on is the confirmed level where there is one):

* ``confirmation`` 待确认 — the screen needs confirmation and none is recorded:
  due on the screening date;
* ``referral`` 待转介 — the level asks for referral and none is recorded: due
  on the screening date (or the confirmation date);
* ``contact`` 联系 — ``contact_days`` after the last screening, contact or visit;
* ``visit`` 家访 — ``visit_days`` after the last screening or visit;
* ``retest`` 复测 — ``retest_days`` after the screening.

Intervals are the profile's for the level acted on (the results'
``risk.contact_days`` / ``risk.visit_days`` / ``risk.retest_days``; for a
confirmed level that differs, the profile's intervals of that level). A case
closed (结案) after the screening keeps only its re-test. An item is due on
its due date and overdue after it (``due_date <= on``, inclusive). Most
urgent first: highest level, then most days overdue.

Example:
    >>> due_items({"assessment_date": "2024-10-01", "needs_confirmation": False,
    ...            "referral": False, "contact_days": 14.0, "visit_days": None,
    ...            "retest_days": 90.0}, [], "2024-10-15")
    [('contact', '2024-10-15', 0)]
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from . import schema as S
from .events import child_events
from .history import confirmations, layouts, level_numbers, read_screenings
from .packing import decode_scores

ITEM_TEXT = {
    "confirmation": (
        "待确认：需二次筛查或访谈确认",
        "confirmation due: second screening or interview",
    ),
    "referral": ("待转介：需转介专业机构", "referral due: refer to professional services"),
    "contact": ("待联系", "contact due"),
    "visit": ("待家访", "home visit due"),
    "retest": ("待复测", "re-test due"),
}
#: urgency of the level acted on (statuses rank above normal, below attention)
URGENCY = {"crisis": 4, "high_attention": 3, "attention": 2, "invalid_response": 1.5,
           "insufficient_data": 1.5, "normal": 0}


def _d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def _plus(day: str, days: float | None) -> str | None:
    if days is None or pd.isna(days):
        return None
    return (_d(day) + dt.timedelta(days=int(days))).isoformat()


def due_items(s: dict, events: list[tuple[str, str]], on: str) -> list[tuple[str, str, int]]:
    """``(item, due date, days overdue)`` due on ``on`` for one child.

    ``s`` holds the latest screening's date, flags and the intervals of the
    level acted on; ``events`` are ``(kind, date)`` on or after it.
    """
    start = s["assessment_date"]
    kinds: dict[str, list[str]] = {}
    for kind, day in events:
        if start <= day <= on:
            kinds.setdefault(kind, []).append(day)
    closed = bool(kinds.get("closed"))
    items: list[tuple[str, str | None]] = []
    if not closed:
        if s.get("needs_confirmation") and not kinds.get("confirmation"):
            items.append(("confirmation", start))
        if s.get("referral") and not kinds.get("referral_made"):
            items.append(("referral", max([start, *kinds.get("confirmation", [])])))
        last_contact = max([start, *kinds.get("contact", []), *kinds.get("visit", [])])
        items.append(("contact", _plus(last_contact, s.get("contact_days"))))
        last_visit = max([start, *kinds.get("visit", [])])
        items.append(("visit", _plus(last_visit, s.get("visit_days"))))
    items.append(("retest", _plus(start, s.get("retest_days"))))
    out = []
    for item, due in items:
        if due is not None and due <= on:
            out.append((item, due, (_d(on) - _d(due)).days))
    return out


def _as_date(on: Any) -> str:
    return pd.Timestamp(on).date().isoformat()


def due_list(archive: Any, on: Any, *, school: str | None = None, lang: str = "zh",
             flat: bool = True) -> pd.DataFrame:
    """Every child with something due or overdue on ``on`` (optionally of one school).

    One row per child, most urgent first: ``child_key`` (and ``id`` if the
    archive keeps clear ids), school, grade, class, the latest screening's
    date and level, ``confirmed_level``, ``level_acted_on``, ``due`` (items),
    ``due_date`` (earliest), ``days_overdue`` (largest), ``reasons`` (in
    ``lang``, the other language in ``reasons_en`` / ``reasons_zh``) and, with
    ``flat``, the latest screening's flat result columns (``risk.*``, scores).
    """
    day = _as_date(on)
    with archive.engine.connect() as conn:
        where = S.screenings.c.assessment_date <= day
        if school is not None:
            keys = S.screenings.c.child_key.in_(
                S.screenings.select().with_only_columns(S.screenings.c.child_key)
                .where(S.screenings.c.school == school)
            )
            where = where & keys
        scr = read_screenings(conn, where, scores=flat, latest_on=day)
        latest = scr.groupby("child_key", sort=False).tail(1)
        if school is not None:
            latest = latest[latest["school"] == school]
        ev = child_events(conn, latest["child_key"].tolist() if school is not None else None)
        nums = level_numbers(conn)
        lay = layouts(conn, set(latest["layout"].dropna())) if flat else {}
        kids = {}
        if archive.clear_ids:
            import sqlalchemy as sa

            q = sa.select(S.children.c.child_key, S.children.c.clear_id)
            kids = dict(conn.execute(q).all())
        intervals = _intervals(conn)
    latest = confirmations(latest.reset_index(drop=True), ev, nums)
    by_child: dict[str, list[tuple[str, str]]] = {}
    for k, kind, d in zip(ev["child_key"], ev["kind"], ev["on_date"]):
        by_child.setdefault(k, []).append((kind, d))
    rows = []
    for s in latest.to_dict("records"):
        s = dict(s)
        acted = s["effective_level"]
        if s["confirmed_level"] and s["confirmed_level"] != s["level_code"]:
            iv = intervals.get((s["profile"], acted))
            if iv is not None:
                s.update(retest_days=iv[0], contact_days=iv[1], visit_days=iv[2],
                         referral=bool(iv[4]))
            elif acted == "normal":
                s["referral"] = False
        if s["confirmed_level"]:
            s["needs_confirmation"] = False
        items = due_items(s, by_child.get(s["child_key"], []), day)
        if not items:
            continue
        zh = "；".join(f"{ITEM_TEXT[i][0]}（{d}到期{'，逾期' + str(n) + '天' if n else ''}）"
                      for i, d, n in items)
        en = "; ".join(f"{ITEM_TEXT[i][1]} ({d}{', ' + str(n) + ' days overdue' if n else ''})"
                      for i, d, n in items)
        status_level = acted if s["risk_status"] in (None, "level") or s["confirmed_level"] \
            else s["risk_status"]
        row = {
            "child_key": s["child_key"],
            "school": s["school"], "grade": s["grade"], "class": s["class_name"],
            "assessment_date": s["assessment_date"],
            "screened_level": s["level_code"] if s["risk_status"] == "level" else s["risk_status"],
            "confirmed_level": s["confirmed_level"],
            "level_acted_on": status_level,
            "due": ";".join(i for i, _, _ in items),
            "due_date": min(d for _, d, _ in items),
            "days_overdue": max(n for _, _, n in items),
            "reasons": zh if lang == "zh" else en,
            "reasons_zh": zh, "reasons_en": en,
            "_urgency": URGENCY.get(status_level, 1.0),
        }
        if archive.clear_ids:
            row["id"] = kids.get(s["child_key"])
        if flat:
            for name, col in (("risk.status", "risk_status"), ("risk.level_code", "level_code"),
                              ("risk.level", "level"), ("risk.reasons", "reasons"),
                              ("risk.reasons_zh", "reasons_zh"), ("risk.rules", "rules"),
                              ("risk.flags", "flags"), ("risk.profile", "profile"),
                              ("risk.needs_confirmation", "needs_confirmation"),
                              ("risk.referral", "referral"), ("risk.contact_days", "contact_days"),
                              ("risk.visit_days", "visit_days"),
                              ("risk.retest_days", "retest_days")):
                row[name] = s[col]
            cols = lay.get(s["layout"], ([], {}))[0]
            row.update(decode_scores(cols, s["scores"]))
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=["child_key", "school", "grade", "class", "due", "due_date",
                                     "days_overdue", "reasons"])
    df = df.sort_values(["_urgency", "days_overdue", "due_date", "child_key"],
                        ascending=[False, False, True, True], kind="stable")
    return df.drop(columns="_urgency").reset_index(drop=True)


def _intervals(conn: Any) -> dict[tuple[str, str], tuple]:
    rows = conn.execute(
        S.profile_levels.select().with_only_columns(
            S.profile_levels.c.profile, S.profile_levels.c.level_code,
            S.profile_levels.c.retest_days, S.profile_levels.c.contact_days,
            S.profile_levels.c.visit_days, S.profile_levels.c.needs_confirmation,
            S.profile_levels.c.referral,
        )
    )
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}

