"""A child's history: screenings and events in time order, and the change between screenings.

For each screening after the first, against the one before it:

* per scale with a raw score in both: the difference, and the reliable change
  index with the SD, reliability and source it used (:mod:`.change`); a scale
  whose instrument version differs between the two screenings, or that only one
  of them has (another form), is listed as ``different_version`` /
  ``not_in_both`` and never compared;
* the level transition (new / persisting / improved / worsened / resolved) of
  the levels the ledger acts on: the confirmed level where a confirmation
  followed the screening, else the screened level.

Example:
    >>> import tempfile, pathlib
    >>> from psyscreen.archive import create_archive
    >>> a = create_archive(pathlib.Path(tempfile.mkdtemp()) / "a.sqlite", key=b"k" * 16)
    >>> rows = pd.DataFrame({"id": ["S1", "S1"], "assessment_date": ["2023-10-09", "2024-10-08"],
    ...                      "risk.status": "level", "risk.level_code": ["normal", "attention"],
    ...                      "risk.level": [0.0, 1.0], "gad7.total.raw": [3.0, 12.0]})
    >>> _ = a.add_results(rows, provenance={"instruments": [{"id": "gad7", "version": "2006"}]})
    >>> h = a.history("S1")
    >>> h.screenings["transition"].tolist()
    ['first_normal', 'new']
    >>> h.changes[["scale", "diff", "status"]].values.tolist()
    [['gad7.total', 9.0, 'no_parameters']]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from . import schema as S
from .change import TRANSITION_TEXT, parameters_for, reliable_change, transition
from .events import EVENT_COLUMNS
from .packing import decode_scores

SCREENING_COLUMNS = [
    "screening_key", "child_key", "assessment_date", "school", "grade", "class_name", "sex",
    "age", "profile", "profile_sha256", "risk_status", "level_code", "level",
    "needs_confirmation", "referral",
    "retest_days", "contact_days", "visit_days", "rules", "reasons", "reasons_zh", "flags",
    "layout", "scores", "source_sha256", "source_row",
]


@dataclass
class History:
    """``screenings`` (one row each, oldest first, with ``confirmed_level``, ``effective_level``
    and ``transition``), ``events`` and ``changes`` (one row per scale and pair)."""

    child_key: str
    screenings: pd.DataFrame
    events: pd.DataFrame
    changes: pd.DataFrame

    def timeline(self, lang: str = "zh") -> list[str]:
        """Screenings and events as lines in time order, for people."""
        from .events import KIND_TEXT

        items = []
        # the rows' fields are the frame's columns, known by name only at run time
        rows: Iterable[Any] = self.screenings.itertuples()
        for s in rows:
            tr = TRANSITION_TEXT[s.transition][0 if lang == "zh" else 1]
            lvl = s.level_code if s.risk_status == "level" else s.risk_status
            conf = f" → {s.confirmed_level}" if s.confirmed_level else ""
            label = "筛查" if lang == "zh" else "screening"
            items.append((s.assessment_date, 0, f"{s.assessment_date} {label} {lvl}{conf} ({tr})"))
        events: Iterable[Any] = self.events.itertuples()
        for e in events:
            name = KIND_TEXT[e.kind][0 if lang == "zh" else 1]
            extra = " ".join(str(x) for x in (e.outcome, e.level_code) if pd.notna(x) and x)
            items.append((e.on_date, 1, f"{e.on_date} {name} {extra}".rstrip()))
        return [t for _, _, t in sorted(items)]


def level_numbers(conn: sa.Connection) -> dict[tuple[str, str], float]:
    """``(profile, level code) -> level number`` from the stored profiles."""
    return {(r.profile, r.level_code): r.level for r in conn.execute(sa.select(S.profile_levels))}


def layouts(conn: sa.Connection, ids: set[str]) -> dict[str, tuple[list[list[str]], dict]]:
    """Layout id -> (score columns as ``[name, kind]``, provenance)."""
    if not ids:
        return {}
    q = sa.select(S.layouts).where(S.layouts.c.layout.in_(sorted(ids)))
    return {r.layout: (json.loads(r.columns), json.loads(r.provenance)) for r in conn.execute(q)}


def read_screenings(conn: sa.Connection, where: Any, *, scores: bool = True,
                    latest_on: str | None = None) -> pd.DataFrame:
    """Screenings matching ``where``, oldest first per child.

    ``scores=False`` leaves out the packed scores; ``latest_on`` keeps only each
    child's latest screening on or before that date (chosen in SQL).
    """
    cols = [c for c in SCREENING_COLUMNS if scores or c not in ("scores", "layout")]
    t = S.screenings
    q = sa.select(*[t.c[c] for c in cols]).where(where)
    if latest_on is not None:
        last = (
            sa.select(t.c.child_key.label("k"), sa.func.max(t.c.assessment_date).label("d"))
            .where(where & (t.c.assessment_date <= latest_on))
            .group_by(t.c.child_key)
            .subquery()
        )
        q = q.join(last, (t.c.child_key == last.c.k) & (t.c.assessment_date == last.c.d))
    df = pd.read_sql(q, conn)
    if not scores:
        df["layout"], df["scores"] = None, None
    return df.sort_values(["child_key", "assessment_date", "source_sha256", "source_row"],
                          kind="stable", ignore_index=True)


def _confirmed(dates: list[str], level_codes: list[Any],
               conf: list[tuple[str, Any]]) -> tuple[list[Any], list[Any]]:
    """One child's ``(confirmed level, confirmed on)`` per screening (dates ascending).

    ``conf`` holds the child's confirmations as ``(date, level code)`` in time
    order: each counts for the latest screening on or before its date, the last
    such one wins; without a level code it confirms the screened level.
    """
    levels: list[Any] = [None] * len(dates)
    on: list[Any] = [None] * len(dates)
    for day, code in conf:
        pos = [i for i, d in enumerate(dates) if d <= day]
        if pos:
            lvl = code if isinstance(code, str) else None
            levels[pos[-1]] = lvl or level_codes[pos[-1]]
            on[pos[-1]] = day
    return levels, on


def _effective_number(prof: Any, code: Any, screened: Any, lvl: Any, status: Any,
                      conf_lvl: Any, numbers: dict[tuple[str, str], float]) -> float | None:
    """The number of the level the ledger acts on (None: not a level)."""
    if conf_lvl is None and status not in (None, "level"):
        return None
    if code == screened and lvl is not None and not pd.isna(lvl):
        return float(lvl)
    return numbers.get((prof, code))


def confirmations(screenings: pd.DataFrame, events: pd.DataFrame,
                  numbers: dict[tuple[str, str], float]) -> pd.DataFrame:
    """Per screening: ``confirmed_level`` (code), ``effective_level`` and its number.

    A confirmation counts for the latest screening on or before its date (of
    the same child); the last such confirmation wins.
    """
    out = screenings.copy()
    levels: list[Any] = [None] * len(out)
    on: list[Any] = [None] * len(out)
    conf = events[events["kind"] == "confirmation"] if len(events) else events
    if len(conf) and len(out):
        # only the children with a confirmation are looked at (a due list has thousands)
        mine: dict[Any, list[tuple[str, Any]]] = {}
        for ck, day, code in zip(conf["child_key"].tolist(), conf["on_date"].tolist(),
                                 conf["level_code"].tolist()):
            mine.setdefault(ck, []).append((day, code))
        rows = out.groupby("child_key", sort=False).indices
        dates, codes = out["assessment_date"].tolist(), out["level_code"].tolist()
        for ck, evs in mine.items():
            pos = rows.get(ck)
            if pos is None:
                continue
            lv, dy = _confirmed([dates[i] for i in pos], [codes[i] for i in pos], evs)
            for i, lvl, day in zip(pos.tolist(), lv, dy):
                if day is not None:
                    levels[i], on[i] = lvl, day
    out["confirmed_level"] = pd.Series(levels, index=out.index, dtype=object)
    out["confirmed_on"] = pd.Series(on, index=out.index, dtype=object)
    eff = out["confirmed_level"].where(out["confirmed_level"].notna(), out["level_code"])
    out["effective_level"] = eff
    out["effective_number"] = [
        _effective_number(p, c, sc, lv, st, cf, numbers)
        for p, c, sc, lv, st, cf in zip(out["profile"], eff, out["level_code"], out["level"],
                                        out["risk_status"], out["confirmed_level"])
    ]
    return out


def _versions(prov: dict) -> dict[str, str | None]:
    return {i.get("id"): i.get("version") for i in prov.get("instruments") or []}


def scale_changes(before: Mapping[str, Any], after: Mapping[str, Any],
                  lay: dict[str, tuple[list[list[str]], dict]]) -> list[dict]:
    """Per scale: difference and RCI between two screenings (rows of :func:`read_screenings`,
    or the same fields as a mapping)."""
    c1, p1 = lay.get(before["layout"], ([], {}))
    c2, p2 = lay.get(after["layout"], ([], {}))
    s1, s2 = decode_scores(c1, before["scores"]), decode_scores(c2, after["scores"])
    v1, v2 = _versions(p1), _versions(p2)
    n1, n2 = [c[0] for c in c1], [c[0] for c in c2]
    scales = sorted({c[:-4] for c in (*n1, *n2) if c.endswith(".raw")})
    rows = []
    for sc in scales:
        inst, scale = sc.split(".", 1)
        row: dict[str, Any] = {
            "from_date": before["assessment_date"], "to_date": after["assessment_date"],
            "scale": sc, "instrument": inst, "version": v2.get(inst), "raw_before": None,
            "raw_after": None, "diff": None, "sd": None, "reliability": None, "se": None,
            "s_diff": None, "rci": None, "reliable": None, "source": None, "evidence": None,
        }
        in1, in2 = f"{sc}.raw" in n1, f"{sc}.raw" in n2
        if not (in1 and in2):
            row["status"] = "not_in_both"
        elif v1.get(inst) != v2.get(inst) or v1.get(inst) is None:
            row["status"] = "different_version" if v1.get(inst) != v2.get(inst) else "no_version"
        else:
            x1, x2 = s1.get(f"{sc}.raw"), s2.get(f"{sc}.raw")
            row.update(raw_before=x1, raw_after=x2)
            if x1 is None or x2 is None:
                row["status"] = "no_score"
            else:
                p = parameters_for(inst, v1.get(inst), scale, before["sex"])
                sd = (p or {}).get("sd")
                rel = (p or {}).get("reliability")
                rc = reliable_change(x1, x2, sd=sd, reliability=rel)
                row.update(rc)
                row["status"] = "ok" if rc["rci"] is not None else "no_parameters"
                if p is not None:
                    row.update(sd=sd, reliability=rel, source=p.get("source"),
                               evidence=p.get("evidence"))
        rows.append(row)
    return rows


CHANGE_COLUMNS = ["from_date", "to_date", "scale", "instrument", "version", "raw_before",
                  "raw_after", "diff", "sd", "reliability", "se", "s_diff", "rci", "reliable",
                  "status", "source", "evidence"]


def _frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """Rows as ``pandas.read_sql`` turns them into a frame (same dtype inference)."""
    return pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)


def history(archive: Any, child_key: str) -> History:
    """All screenings and events of one child, and the changes between screenings.

    A look-up reads a handful of rows: they are ordered and compared as plain
    tuples, become DataFrames once (the frames and dtypes of :func:`read_screenings`
    and :func:`.events.child_events`) and are confirmed by :func:`confirmations`.
    """
    t, e = S.screenings, S.events
    with archive.engine.connect() as conn:
        scr = [tuple(r) for r in conn.execute(
            sa.select(*[t.c[c] for c in SCREENING_COLUMNS]).where(t.c.child_key == child_key))]
        ev = [tuple(r) for r in conn.execute(
            sa.select(*[e.c[c] for c in EVENT_COLUMNS]).where(e.c.child_key == child_key))]
        nums = level_numbers(conn)
        lay = layouts(conn, {r[SCREENING_COLUMNS.index("layout")] for r in scr} - {None})
    # the orders of read_screenings and child_events (one child: its key is the same)
    ix = {c: i for i, c in enumerate(SCREENING_COLUMNS)}
    scr.sort(key=lambda r: (r[ix["assessment_date"]], r[ix["source_sha256"]],
                            r[ix["source_row"]]))
    on_i, kind_i, key_i = (EVENT_COLUMNS.index(c) for c in ("on_date", "kind", "event_key"))
    ev.sort(key=lambda r: (r[on_i], r[kind_i], r[key_i]))
    events = _frame(ev, EVENT_COLUMNS)
    frame = confirmations(_frame(scr, SCREENING_COLUMNS), events, nums)
    recs = [dict(zip(SCREENING_COLUMNS, r)) for r in scr]
    numbers = frame["effective_number"].tolist()
    trans, changes = [], []
    for i, num in enumerate(numbers):
        num = None if num is None or pd.isna(num) else float(num)
        if i == 0:
            trans.append(transition(None, num) if num is not None else "not_comparable")
            prev = num
            continue
        trans.append(transition(prev, num) if prev is not None and num is not None
                     else "not_comparable")
        changes.extend(scale_changes(recs[i - 1], recs[i], lay))
        prev = num
    frame["transition"] = trans
    return History(child_key, frame, events, pd.DataFrame(changes, columns=CHANGE_COLUMNS))
