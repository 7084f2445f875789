"""Follow-up events: contact, home visit, confirmation, referral, case closed.

An event is keyed by a hash of its content (child, kind, date, outcome, level,
note), so recording the same event twice, or importing the same events file
again, stores it once. Events may arrive before the screening they follow.

Kinds (Chinese names accepted too): ``contact`` 联系, ``visit`` 家访,
``confirmation`` 确认 (outcome ``confirmed`` 确认 / ``changed`` 变更, with the
confirmed ``level`` / ``not_confirmed`` 未确认: the child is 正常),
``referral_made`` 转介, ``referral_attended`` 就诊, ``closed`` 结案.

Bulk files (CSV / XLSX) have the columns ``id``, ``kind``, ``date`` and
optionally ``outcome``, ``level``, ``note``; a bad row is skipped with its
reason (no id, unknown kind, bad date, ...), the rest stored in one transaction.

Example:
    >>> normalise_event("家访", "2024/11/3")
    ('visit', '2024-11-03', None, None)
    >>> normalise_event("confirmation", "2024-11-03", "changed", "重点关注")
    ('confirmation', '2024-11-03', 'changed', 'high_attention')
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from .. import demographics as demo
from ..errors import PsyscreenError
from . import db
from . import schema as S
from .store import ImportResult, begin_import, end_import, forgotten_keys, insert_rows

KINDS = {
    "contact": "contact", "联系": "contact",
    "visit": "visit", "home_visit": "visit", "家访": "visit", "走访": "visit",
    "confirmation": "confirmation", "确认": "confirmation", "复核": "confirmation",
    "referral_made": "referral_made", "转介": "referral_made",
    "referral_attended": "referral_attended", "就诊": "referral_attended",
    "closed": "closed", "结案": "closed",
}
OUTCOMES = {
    "confirmed": "confirmed", "确认": "confirmed", "属实": "confirmed",
    "changed": "changed", "变更": "changed",
    "not_confirmed": "not_confirmed", "未确认": "not_confirmed", "排除": "not_confirmed",
}
#: level names accepted for a confirmed level (codes of the default profile and their zh)
LEVELS = {
    "normal": "normal", "正常": "normal",
    "attention": "attention", "关注": "attention",
    "high_attention": "high_attention", "重点关注": "high_attention",
    "crisis": "crisis", "危机": "crisis",
}
KIND_TEXT = {
    "contact": ("联系", "contact"),
    "visit": ("家访", "home visit"),
    "confirmation": ("确认", "confirmation"),
    "referral_made": ("转介", "referral made"),
    "referral_attended": ("转介就诊", "referral attended"),
    "closed": ("结案", "case closed"),
}


class EventError(PsyscreenError, ValueError):
    """An event that cannot be recorded; ``reason`` is a short code."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


def _date(value: Any) -> str:
    d, st = demo.parse_dates(pd.Series([value], dtype=object))
    if st[0] != 0:
        raise EventError("bad_date", "the date is missing or not a year-month-day date")
    return d.iloc[0].strftime("%Y-%m-%d")


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and pd.isna(v)) or (str(v).strip() == "")


def normalise_event(kind: Any, on: Any, outcome: Any = None,
                    level: Any = None) -> tuple[str, str, str | None, str | None]:
    """``(kind, ISO date, outcome, level code)`` checked; raises :class:`EventError`."""
    k = KINDS.get(str(kind).strip())
    if k is None:
        known = sorted(set(KINDS.values()))
        raise EventError("unknown_kind", f"unknown event kind (one of {known})")
    date = _date(on)
    out = None if _blank(outcome) else OUTCOMES.get(str(outcome).strip())
    lvl = None if _blank(level) else str(level).strip()
    if lvl is not None:
        lvl = LEVELS.get(lvl, lvl)
    if k == "confirmation":
        if out is None:
            raise EventError("bad_outcome", "a confirmation needs an outcome: confirmed, changed "
                             "or not_confirmed")
        if out == "changed" and lvl is None:
            raise EventError("no_level", "a changed confirmation needs the confirmed level")
        if out == "not_confirmed":
            lvl = "normal"
    elif not _blank(outcome):
        raise EventError("bad_outcome", "only a confirmation has an outcome")
    return k, date, out, lvl


def event_key(child_key: str, kind: str, on: str, outcome: str | None, level: str | None,
              note: str | None) -> str:
    """The content hash of an event (40 hex digits)."""
    body = json.dumps([child_key, kind, on, outcome, level, note], ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:40]


def event_row(child_key: str, kind: Any, on: Any, outcome: Any = None, level: Any = None,
              note: Any = None) -> dict:
    """One events-table row (checked)."""
    k, d, out, lvl = normalise_event(kind, on, outcome, level)
    n = None if _blank(note) else str(note).strip()
    return {"event_key": event_key(child_key, k, d, out, lvl, n), "child_key": child_key,
            "kind": k, "on_date": d, "outcome": out, "level_code": lvl, "note": n}


def _store(archive: Any, rows: list[dict], clear: dict[str, str], rows_in: int,
           skipped: dict[str, int], source: str | None, sha: str | None) -> ImportResult:
    with archive.engine.begin() as conn:
        gone = forgotten_keys(conn)
        kept = [r for r in rows if r["child_key"] not in gone]
        if len(kept) < len(rows):
            skipped["forgotten"] = len(rows) - len(kept)
        res = ImportResult(rows_in=rows_in, stored=0, already=0, skipped=skipped)
        res.import_id = begin_import(conn, "events", source, sha, rows_in)
        kids = {r["child_key"] for r in kept}
        insert_rows(conn, S.children, [
            {"child_key": k, "clear_id": clear.get(k) if archive.clear_ids else None, "name": None}
            for k in sorted(kids)
        ])
        res.stored = insert_rows(conn, S.events, [{**r, "import_id": res.import_id} for r in kept])
        res.already = len(kept) - res.stored
        end_import(conn, res, "add_events")
    return res


def record_event(archive: Any, clear_id: str, kind: str, on: Any, *, outcome: str | None = None,
                 level: str | None = None, note: str | None = None) -> ImportResult:
    """Record one event for a child (by clear id); raises :class:`EventError` if invalid."""
    if _blank(clear_id):
        raise EventError("no_id", "an event needs the child's id")
    ck = archive.child_key(str(clear_id))
    row = event_row(ck, kind, on, outcome, level, note)
    return _store(archive, [row], {ck: str(clear_id).strip()}, 1, {}, "api", None)


def read_events(path: str | Path) -> pd.DataFrame:
    """An events file (CSV or XLSX), every cell as text."""
    p = Path(path)
    if p.suffix.lower() == ".xlsx":
        return pd.read_excel(p, dtype=str)
    return pd.read_csv(p, dtype=str, encoding="utf-8-sig", keep_default_na=False)


def add_events(archive: Any, events: pd.DataFrame | str | Path) -> ImportResult:
    """Add events in bulk; bad rows are counted by reason and left out."""
    source = sha = None
    if isinstance(events, (str, Path)):
        from ..batch.io import sha256_file

        source, sha = Path(events).name, sha256_file(events)
        events = read_events(events)
    missing = {"id", "kind", "date"} - set(events.columns)
    if missing:
        raise db.ArchiveError(f"the events file needs the columns {sorted(missing)} "
                              "/ 随访记录文件缺少列")
    rows: list[dict] = []
    clear: dict[str, str] = {}
    skipped: dict[str, int] = {}
    for rec in events.to_dict("records"):
        cid = rec.get("id")
        try:
            if _blank(cid):
                raise EventError("no_id", "no id")
            ck = archive.child_key(str(cid))
            rows.append(event_row(ck, rec.get("kind"), rec.get("date"), rec.get("outcome"),
                                  rec.get("level"), rec.get("note")))
            clear[ck] = str(cid).strip()
        except EventError as e:
            skipped[e.reason] = skipped.get(e.reason, 0) + 1
    return _store(archive, rows, clear, len(events), skipped, source, sha)


#: the columns of an events frame (:func:`child_events`, a history's ``events``)
EVENT_COLUMNS = ["child_key", "kind", "on_date", "outcome", "level_code", "note", "event_key"]


def child_events(conn: Any, child_keys: list[str] | None = None) -> pd.DataFrame:
    """Events (of some children, or all) as a DataFrame sorted by child, date, kind."""
    import sqlalchemy as sa

    q = sa.select(*[S.events.c[c] for c in EVENT_COLUMNS])
    if child_keys is not None:
        q = q.where(S.events.c.child_key.in_(child_keys))
    df = pd.read_sql(q, conn)
    return df.sort_values(["child_key", "on_date", "kind", "event_key"], kind="stable",
                          ignore_index=True)
