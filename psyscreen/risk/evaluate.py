"""Vectorised evaluation of a risk profile on scored rows: the rule level and the statuses.

The input is the flat score table of :func:`psyscreen.score` (optionally with
norm columns); the output is one set of ``risk.*`` columns per row. Every value
of a row depends on that row alone. The rules' conditions are node trees
(:mod:`psyscreen.risk.nodes`); bands come from :mod:`psyscreen.band_choice`, missing-data
causes from :mod:`psyscreen.risk.missing`, text from :mod:`psyscreen.risk.reasons`.

How one row is graded (see ``docs/risk.md``):

1. every rule is evaluated; the rule level is the highest level of a fired rule
   (the lowest level when none fired);
2. ``invalid``: a selected validity check of a battery instrument fired;
   ``insufficient``: a required battery instrument lacks data a rule needs (a
   screening or required scale without a score or band, a
   score a rule reads);
3. if ``invalid`` and the rule level is below
   ``statuses.invalid_response.keep_level_from`` the result is the status
   ``invalid_response``; else if ``insufficient`` and the rule level is below
   ``statuses.insufficient_data.keep_level_from`` it is ``insufficient_data``;
   otherwise it is the rule level, with the statuses that applied kept as
   flags (their re-test and actions are added);
4. rows the caller marks as outside the profile's ages (``out_of_age_range``) or
   without a readable age (``no_age``) get that status unless the rule level
   reaches the status's ``keep_level_from`` (by default the top level: a
   critical item is never hidden); their invalid / insufficient flags are not
   reported (the battery does not apply to them).

Example:
    >>> import pandas as pd, psyscreen
    >>> from psyscreen.risk.evaluate import evaluate
    >>> prof = psyscreen.load_profile("default")
    >>> scores = psyscreen.score(pd.DataFrame({f"phq9_{i}": [0] for i in range(1, 10)}),
    ...                          "phq9")
    >>> evaluate(scores, prof).columns["risk.status"].tolist()
    ['insufficient_data']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import columns as colnames
from ..categories import from_codes
from ..definitions import Instrument
from .missing import incomplete, missing_causes
from .nodes import Node, fire, node_of
from .outcome import GATES, RESULT_STATUSES
from .profile import RiskProfile
from .reasons import row_text
from .spread import combinations, take_strings
from .views import ScaleView, flags, numbers, scale_view

__all__ = ["GATES", "RESULT_STATUSES", "Evaluation", "ScaleView", "evaluate", "instruments_of"]


@dataclass
class Evaluation:
    """Everything computed for a batch of rows (used for columns and records)."""

    profile: RiskProfile
    n: int
    columns: pd.DataFrame
    rule_fired: dict[str, np.ndarray] = field(default_factory=dict)
    #: per node of ``nodes`` (keyed by the node itself, by identity), its mask
    node_fired: dict[Node, np.ndarray] = field(default_factory=dict)
    #: per rule id, the node tree of its condition
    nodes: dict[str, Node] = field(default_factory=dict)
    scales: dict[str, ScaleView] = field(default_factory=dict)
    critical: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    critical_known: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    validity: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    validity_known: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    missing: dict[str, np.ndarray] = field(default_factory=dict)
    rule_rank: np.ndarray | None = None


class _Evaluator:
    """One batch of rows; the :class:`~psyscreen.risk.nodes.Context` the nodes read."""

    def __init__(
        self,
        scores: pd.DataFrame,
        profile: RiskProfile,
        gate: np.ndarray | None = None,
        absent: frozenset[str] = frozenset(),
    ):
        self.s = scores
        self.p = profile
        self._n = len(scores)
        self.gate = np.zeros(self._n, np.int8) if gate is None else np.asarray(gate, np.int8)
        self.absent = absent
        self.ev = Evaluation(profile=profile, n=self._n, columns=pd.DataFrame(index=scores.index))
        self.ev.nodes = {r.id: node_of(r.when) for r in profile.rules}
        self._class_cache: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}

    # -- the Context of the nodes ------------------------------------------------------
    @property
    def n(self) -> int:
        return self._n

    @property
    def fired(self) -> dict[Node, np.ndarray]:
        return self.ev.node_fired

    @property
    def critical(self) -> dict[tuple[str, str], np.ndarray]:
        return self.ev.critical

    @property
    def validity(self) -> dict[tuple[str, str], np.ndarray]:
        return self.ev.validity

    def col(self, name: str) -> pd.Series | None:
        return self.s[name] if name in self.s.columns else None

    def number(self, name: str) -> np.ndarray:
        return numbers(self.col(name), self._n)

    def scale(self, ref: str) -> ScaleView:
        if ref not in self.ev.scales:
            self.ev.scales[ref] = scale_view(self.s, self.p, ref)
        return self.ev.scales[ref]

    def in_class(self, ref: str, classes: Sequence[str]) -> np.ndarray:
        """Rows whose band class on ``ref`` is one of ``classes`` (computed once per pair)."""
        key = (ref, tuple(classes))
        hit = self._class_cache.get(key)
        if hit is None:
            hit = self._class_cache[key] = self.scale(ref).in_class(classes)
        return hit

    def screening_scales(self) -> list[str]:
        return self.p.screening_scales()

    # -- critical items and validity checks ------------------------------------------
    def _flags(self) -> None:
        for b in self.p.battery:
            inst = self.p.instrument(b.instrument)
            crit = b.critical_items
            if crit is None:
                crit = [c.id for c in inst.critical_items]
            val = b.validity_checks
            if val is None:
                val = [v.id for v in inst.validity_checks]
            for column, ids, fired_t, known_t in (
                (colnames.critical, crit, self.ev.critical, self.ev.critical_known),
                (colnames.validity, val, self.ev.validity, self.ev.validity_known),
            ):
                for cid in ids:
                    fired, known = flags(self.col(column(inst.id, cid)), self._n)
                    fired_t[(inst.id, cid)] = fired
                    known_t[(inst.id, cid)] = known

    # -- the whole profile --------------------------------------------------------------
    def run(self) -> Evaluation:
        p, n = self.p, self._n
        self._flags()
        rank = np.zeros(n, dtype=np.int16)
        for r in p.rules:
            m = fire(self.ev.nodes[r.id], self)
            self.ev.rule_fired[r.id] = m
            rank = np.where(m, np.maximum(rank, p.rank(r.level)), rank)
        self.ev.rule_rank = rank
        self.ev.missing = missing_causes(
            p, list(self.ev.nodes.values()), self.col, self.scale, n, self.absent
        )
        invalid = np.zeros(n, bool)
        for fired in self.ev.validity.values():
            invalid |= fired
        insufficient = np.zeros(n, bool)
        for m in self.ev.missing.values():
            insufficient |= m
        gated = self.gate > 0
        invalid &= ~gated
        insufficient &= ~gated
        nl = len(p.levels)
        keep = {name: p.rank(p.status(name).keep_level_from) for name in RESULT_STATUSES[1:]}
        result = np.where(
            invalid & (rank < keep["invalid_response"]),
            nl,
            np.where(insufficient & (rank < keep["insufficient_data"]), nl + 1, rank),
        )
        for name, code in GATES.items():
            hit = (self.gate == code) & (rank < keep[name])
            result = np.where(hit, nl + 1 + code, result)
        self.ev.columns = self._columns(result, invalid, insufficient)
        return self.ev

    # -- output columns -------------------------------------------------------------------
    def _columns(
        self, result: np.ndarray, invalid: np.ndarray, insufficient: np.ndarray
    ) -> pd.DataFrame:
        """Output columns. Text is built once per distinct combination of everything it
        depends on (few in practice) and then spread to the rows: fast for big batches."""
        p, n = self.p, self._n
        nl = len(p.levels)
        key = (
            (result.astype(np.int64) * 4 + self.gate.astype(np.int64)) * 4
            + invalid.astype(np.int64) * 2
            + insufficient
        )
        partial = incomplete(p, self.col, n)
        inv, first = combinations(key, self._text_inputs(partial))
        texts = [row_text(self.ev, self, partial, int(r), int(key[r])) for r in first]
        out: dict[str, object] = {}

        def col(field_: str) -> pd.api.extensions.ExtensionArray:
            return take_strings([t[field_] for t in texts], inv)

        def flag(field_: str) -> np.ndarray:  # per combination, then spread by numbers
            return np.array([bool(t[field_]) for t in texts] + [False], dtype=bool)[inv]

        status = np.where(result < nl, 0, result - nl + 1)
        out["risk.status"] = from_codes(status, RESULT_STATUSES)
        out["risk.level"] = pd.arrays.IntegerArray(
            np.where(result < nl, result, 0).astype("int64"), result >= nl
        )
        for f in ("level_code", "level_zh", "level_en", "colour", "tier3"):
            out[colnames.risk(f)] = col(f)
        out["risk.needs_confirmation"] = flag("needs_confirmation")
        out["risk.referral"] = flag("referral")
        for f in ("retest_days", "contact_days", "visit_days"):
            per = [t[f] for t in texts]
            miss = np.array([x is None for x in per] + [True], dtype=bool)
            days = np.array([0 if x is None else x for x in per] + [0], dtype="int64")
            out[colnames.risk(f)] = pd.arrays.IntegerArray(days[inv], miss[inv])
        for f in ("actions", "actions_zh", "actions_en", "rules", "reasons", "reasons_zh"):
            out[colnames.risk(f)] = col(f)
        out["risk.flags"] = col("flags")
        out["risk.profile"] = take_strings([f"{p.id}@{p.version}"], np.zeros(n, np.int64))
        return pd.DataFrame(out, index=self.s.index)

    def _text_inputs(self, partial: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Every boolean array the text of a row depends on (besides the outcome key)."""
        arrays = list(self.ev.rule_fired.values()) + list(self.ev.node_fired.values())
        arrays += list(self.ev.critical.values()) + list(self.ev.validity.values())
        arrays += list(self.ev.missing.values()) + list(partial.values())
        for root in self.ev.nodes.values():
            for node in root.walk():
                arrays += node.text_inputs(self)
        return arrays


def evaluate(
    scores: pd.DataFrame,
    profile: RiskProfile,
    gate: np.ndarray | None = None,
    absent: frozenset[str] = frozenset(),
) -> Evaluation:
    """Evaluate ``profile`` on a score table; ``.columns`` holds the ``risk.*`` columns.

    ``gate``: per row 0, or a code of :data:`GATES` (the row is outside the profile's
    ages / has no age). ``absent``: required instruments with no column in the data.
    """
    return _Evaluator(scores, profile, gate, absent).run()


def instruments_of(profile: RiskProfile) -> list[Instrument]:
    """The loaded battery instruments, in battery order."""
    return [profile.instrument(i) for i in profile.instruments]
