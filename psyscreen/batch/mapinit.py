"""Propose a mapping file from an export's own headers and answer texts (``psyscreen map init``).

psyscreen proposes, a person confirms: every decision is written into the YAML as a
comment, with its confidence; a match that is not clear-cut (low confidence, or a
close second candidate) is written commented out with the alternatives, never used
silently.

* **Role columns** (id, sex, birth date, age, grade, class, school, assessment date or
  submission time) by common Chinese and English header names (:data:`ROLE_NAMES`). A
  name column (姓名) is recognised and deliberately left out; platform columns (序号,
  所用时间, ...) are named as such.
* **Item columns**, each header scored against every item (0-100, rapidfuzz ``WRatio``
  after :func:`~psyscreen.batch.mapping.answer_key`): the item id or instrument
  abbreviation with the item number (``PHQ9_1``, ``GAD-7 Q3``); the item's shipped text
  where its licence allows; its neutral zh/en label; the key phrases of
  ``header_aliases.yaml`` (licensed instruments only); and position within a block (the
  columns of one matrix question, ``8、<intro>—<item>``, or the columns after an
  instrument's intro column, when their count is the instrument's item count). Headers
  and items are paired by an optimal assignment (``scipy.optimize.linear_sum_assignment``).
* **Answers**: the distinct texts of the matched columns (a bounded sample, read by
  :mod:`psyscreen.batch.exportscan`) are compared with the instrument's own response
  labels (simplified or traditional Chinese, full-width characters, blanks: see
  ``answer_key``). When every text is a label, no ``answers:`` table is written (the labels
  apply); integer cells one above the codes (``1..4`` for codes ``0..3``) are read as the
  1-based option numbers of a 问卷星 "按选项序号" export and get an explicit table.

The matching is :mod:`psyscreen.batch.mapmatch`, the YAML writing
:mod:`psyscreen.batch.mapyaml`; this module joins them to one proposal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .exportscan import scan_texts
from .mapanswers import AnswerPlan, plan_answers
from .mapmatch import (
    ACTIVE_SCORE,
    CLOSE,
    MIN_SCORE,
    PLATFORM_COLUMNS,
    ROLE_NAMES,
    Match,
    header_parts,
    item_phrases,
    match_items,
    role_of,
)
from .mapping import MappingSpec, parse_mapping
from .mapyaml import MESSAGES, Decisions, render

__all__ = [
    "ACTIVE_SCORE",
    "CLOSE",
    "MESSAGES",
    "MIN_SCORE",
    "PLATFORM_COLUMNS",
    "ROLE_NAMES",
    "SAMPLE_ROWS",
    "Match",
    "Proposal",
    "header_parts",
    "item_phrases",
    "match_items",
    "propose_mapping",
    "role_of",
]

#: rows of the export sampled for answer texts
SAMPLE_ROWS = 100_000


@dataclass
class Proposal:
    """A proposed mapping: the YAML text (with comments) and the decisions behind it."""

    text: str
    matches: list[Match]
    unmatched: list[str]
    found: list[str]
    answers: list[AnswerPlan]
    missing_answers: list[str]

    def spec(self) -> MappingSpec:
        """The proposal parsed as a mapping (what ``psyscreen score`` would read)."""
        import yaml

        return parse_mapping(yaml.safe_load(self.text), "<proposal>")


def propose_mapping(
    export: str | Path,
    *,
    profile: Any = None,
    instruments: Sequence[Any] | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    sample_rows: int = SAMPLE_ROWS,
    lang: str = "zh",
) -> Proposal:
    """Propose a mapping for ``export`` (headers, then the answer texts of matched columns).

    ``instruments`` (ids, paths or objects) or ``profile`` (id, path or object; default
    ``default``) say which instruments to look for. Only role and matched item columns
    are read, at most ``sample_rows`` rows. The comments are in ``lang`` (zh or en).

    Example:
        >>> p = propose_mapping(
        ...     "examples/wjx_export.csv", instruments=["phq9", "gad7"]
        ... )  # doctest: +SKIP
        >>> p.found, p.unmatched  # doctest: +SKIP
        (['phq9', 'gad7'], ['10、你还有什么想对老师说的吗？'])
    """
    from ..registry import load_instrument
    from ..risk import load_profile
    from .io import open_source

    prof = None
    if instruments:
        insts = [load_instrument(i) for i in instruments]
    else:
        prof = load_profile(profile or "default")
        insts = [prof.instrument(i) for i in prof.instruments]
    src = open_source(export, encoding=encoding, sheet=sheet)
    headers = [h for h in src.headers if h]
    roles: list[Match] = []
    taken: dict[str, Match] = {}
    for h in headers:
        r = role_of(h)
        if r is None:
            continue
        role, conf = r
        kind = role if role in ("name", "platform") else "role"
        m = Match(h, role, kind, conf * 100, ("header name", "列名"))
        if kind == "role":
            prev = taken.get(role)
            if prev is not None and prev.score >= m.score:
                prev.alternatives.append(("header", h))
                m.active = False
                m.alternatives.append(("header", prev.header))
            elif prev is not None:
                prev.active = False
                m.alternatives.append(("header", prev.header))
                taken[role] = m
            else:
                taken[role] = m
        roles.append(m)
    rest = [h for h in headers if not any(m.header == h for m in roles)]
    items, near = match_items(rest, insts)
    active = {m.target: m for m in items if m.active}
    found = [i.id for i in insts if all(x in active for x in i.item_ids)]
    partial = [i.id for i in insts if i.id not in found and any(x in active for x in i.item_ids)]
    texts, n_read = scan_texts(src, [m.header for m in items if m.active], max_rows=sample_rows)
    plans: list[AnswerPlan] = []
    missing: list[str] = []
    for inst in insts:
        groups: dict[str, list[str]] = {}
        for x in inst.item_ids:
            if x in active:
                groups.setdefault(inst.item(x).response_scale, []).append(x)
        for group in groups.values():
            plan, miss = plan_answers(inst, group, {x: texts[active[x].header] for x in group})
            if len(groups) == 1:
                plan.items = []
            plans.append(plan)
            missing += [m for m in miss if m not in missing]
    unmatched = [h for h in rest if h not in {m.header for m in items}]
    decisions = Decisions(
        export, prof, insts, roles, items, near, unmatched, found, partial, plans, missing, n_read
    )
    text = render(decisions, lang)
    return Proposal(text, roles + items, unmatched, found, plans, missing)
