"""Typed screening records: one pydantic record per child, for systems.

The models are in :mod:`psyscreen.risk.recordmodels` (re-exported here); their JSON
Schema is published as ``psyscreen/schemas/screening_record.schema.json``. A record
carries the result (level or status), the fired rules with their evidence, actions,
intervals, referral and needs-confirmation flags, validity flags, the screening scales,
and provenance (library version and SHA-256 of every definition, norm table and the
profile used). This module builds them for a batch of rows, column by column.

Example:
    >>> import pandas as pd, psyscreen
    >>> df = pd.DataFrame({f"phq9_{i}": [1] for i in range(1, 10)})
    >>> rec = psyscreen.screen_records(df, "default", missing_columns="missing")[0]
    >>> rec.level_code, rec.rules[0].id
    ('crisis', 'critical_item')
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import numpy as np
import pandas as pd
from pydantic import TypeAdapter

from .. import columns as colnames
from ..band_choice import band_column_suffix, object_values
from ..definitions import BandSet, Instrument
from .conditions import CountCond, ScoreCond
from .evaluate import Evaluation
from .nodes import Flags, Node
from .profile import RiskProfile
from .recordmodels import (  # the models are re-exported: they are imported from here
    ActionOut,
    CheckState,
    Evidence,
    FiredRule,
    Intervals,
    Provenance,
    ScaleResult,
    ScreeningRecord,
    copier,
)
from .recordmodels import DefinitionRef as DefinitionRef

# -- building ---------------------------------------------------------------------------
#
# Every part of a record is validated by pydantic once per distinct value (a fired rule with
# its evidence, a scale's result, the actions of one level, a column of plain values), and
# each record is then assembled from those validated parts without validating them again:
# the record's changeable parts (lists, rules, evidence, provenance) are fresh copies
# (recordmodels.copier), its read-only parts are shared.

_SCALE_FIELDS = (
    "raw",
    "status",
    "band",
    "band_class",
    "band_source",
    "t",
    "percentile",
    "norm_table",
    "norm_stratum",
)
_INTERVAL_FIELDS = ("retest_days", "contact_days", "visit_days")
_RECORD = copier(ScreeningRecord)
_FIELDS = list(ScreeningRecord.model_fields)
_COLUMN: dict[str, TypeAdapter[list[Any]]] = {}


def _valid(name: str, values: Sequence[Any]) -> list[Any]:
    """A column of plain values of a record field, as validating the field gives them."""
    ta = _COLUMN.get(name)
    if ta is None:
        field = ScreeningRecord.model_fields[name].annotation
        ta = _COLUMN[name] = TypeAdapter(cast(Any, list)[field])
    return ta.validate_python(values)


def _num(x: Any) -> float | None:
    if x is None or x is pd.NA:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _str(x: Any) -> str | None:
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return None
    return str(x)


def _int(x: Any) -> int | None:
    return None if x is None or x is pd.NA else int(x)


def _numbers(col: pd.Series | None, n: int) -> tuple[list[float | None], list[Any]]:
    """A column as :func:`_num` of each cell (absent: all ``None``), and as cache keys.

    The keys are the values, except that -0.0 (equal to 0.0 as a key, but printed apart)
    becomes a key of its own.
    """
    if col is None:
        return [None] * n, [None] * n
    if col.dtype == np.float64:  # the usual case: NaN is the only missing value
        arr = col.to_numpy()
        values = [None if v != v else v for v in arr.tolist()]
        negative_zero = np.flatnonzero((arr == 0) & np.signbit(arr)).tolist()
    else:
        values = [_num(v) for v in object_values(col, n).tolist()]
        negative_zero = [
            i for i, v in enumerate(values) if v is not None and v == 0 and math.copysign(1, v) < 0
        ]
    if not negative_zero:
        return values, values
    keys: list[Any] = list(values)
    for i in negative_zero:
        keys[i] = ("-0.0",)
    return values, keys


def _strings(col: pd.Series | None, n: int) -> list[str | None]:
    """A column as :func:`_str` of each cell (absent: all ``None``)."""
    if col is None:
        return [None] * n
    if isinstance(col.dtype, pd.CategoricalDtype):  # by codes: one conversion per category
        cats = [_str(c) for c in col.cat.categories.tolist()]
        return [None if c < 0 else cats[c] for c in col.cat.codes.tolist()]
    return [_str(v) for v in object_values(col, n).tolist()]


class _Builder:
    """The records of one batch of rows (one :class:`Evaluation`).

    It is the :class:`~psyscreen.risk.nodes.EvidenceBuilder` the rule nodes ask for evidence:
    each distinct piece of evidence is one :class:`Evidence`, validated once.
    """

    def __init__(self, scores: pd.DataFrame, ev: Evaluation, tables: list):
        self.n = len(scores)
        self.s = scores
        self.ev = ev
        self.p: RiskProfile = ev.profile
        self.tables = {t.ref: t for t in tables}
        self._nums: dict[str, tuple[list[float | None], list[Any]]] = {}
        self._strs: dict[str, list[str | None]] = {}
        self._views: dict[str, tuple[list[Any], list[Any], list[Any]]] = {}
        self._evidence: dict[tuple[Any, ...], Evidence] = {}
        self._keys: dict[str, list[tuple[Any, ...]]] = {}
        self._codes: dict[str, list[int]] = {}
        handlings = [*self.p.levels, *self.p.status_list()]
        self.actions = {a.id: a for h in handlings for a in h.actions}
        self.screening = self.p.screening_scales()

    # -- columns, each converted once -----------------------------------------------------
    def _col(self, name: str) -> pd.Series | None:
        return self.s[name] if name in self.s.columns else None

    def number(self, ref: str, field: str) -> list[float | None]:
        return self._numbers(ref, field)[0]

    def number_key(self, ref: str, field: str) -> list[Any]:
        """:meth:`number` as keys of the caches (see :func:`_numbers`)."""
        return self._numbers(ref, field)[1]

    def _numbers(self, ref: str, field: str) -> tuple[list[float | None], list[Any]]:
        name = colnames.field_of(ref, field)
        if name not in self._nums:
            self._nums[name] = _numbers(self._col(name), self.n)
        return self._nums[name]

    def string(self, ref: str, field: str) -> list[str | None]:
        name = colnames.field_of(ref, field)
        if name not in self._strs:
            self._strs[name] = _strings(self._col(name), self.n)
        return self._strs[name]

    def view(self, ref: str) -> tuple[list[Any], list[Any], list[Any]]:
        """(band, band class, band source) of the band that counts, per row (``None``: none)."""
        if ref not in self._views:
            v = self.ev.scales.get(ref)
            if v is None:
                self._views[ref] = ([None] * self.n, [None] * self.n, [None] * self.n)
            else:
                self._views[ref] = (v.band.tolist(), v.klass.tolist(), v.source.tolist())
        return self._views[ref]

    def _keep(self, key: tuple[Any, ...], data: dict[str, Any]) -> Evidence:
        e = self._evidence[key] = Evidence.model_validate(data)
        return e

    # -- what the rule nodes ask for (psyscreen.risk.nodes.EvidenceBuilder) ---------------
    def _band_keys(self, ref: str) -> list[tuple[Any, ...]]:
        """Per row, what the band evidence of ``ref`` depends on (its key in the cache)."""
        if ref not in self._keys:
            cols = zip(
                self.number_key(ref, "raw"),
                *self.view(ref),
                self.string(ref, "norm_table"),
                self.string(ref, "norm_stratum"),
            )
            self._keys[ref] = [
                ("band", ref, v, b, k, s, t, st) if s == "norm" else ("band", ref, v, b, k, s)
                for v, b, k, s, t, st in cols
            ]
        return self._keys[ref]

    def scale_key(self, ref: str) -> list[Any]:
        """:meth:`_band_keys` as small numbers (one per distinct key: cheaper to hash)."""
        name = f"codes {ref}"
        if name not in self._codes:
            codes: dict[tuple[Any, ...], int] = {}
            self._codes[name] = [codes.setdefault(k, len(codes)) for k in self._band_keys(ref)]
        return self._codes[name]

    def scale_evidence(self, i: int, ref: str) -> Evidence:
        key = self._band_keys(ref)[i]
        hit = self._evidence.get(key)
        if hit is not None:
            return hit
        band, klass, source = (x[i] for x in self.view(ref))
        value = self.number(ref, "raw")[i]
        table = stratum = None
        if source == "norm":
            table, stratum = self.string(ref, "norm_table")[i], self.string(ref, "norm_stratum")[i]
        inst_id, scale_id = ref.split(".", 1)
        data: dict[str, Any] = {
            "kind": "band",
            "instrument": inst_id,
            "scale": scale_id,
            "field": "band_class",
            "value": value,
            "band": _str(band),
            "band_class": _str(klass),
            "band_source": source,
        }
        if source == "instrument":
            bs = self._band_set(self.p.instrument(inst_id), scale_id)
            data["band_set"] = bs.id
            data["unverified"] = bs.unverified
            for b in bs.bands:
                if b.code == band:
                    data["threshold"] = f"{b.interval()} ({b.classification})"
        elif source == "norm":
            data["norm_table"], data["norm_stratum"] = table, stratum
            data["threshold"] = self.norm_threshold(table, scale_id, stratum, band, klass)
            t = self.tables.get(table or "")
            if t is not None:
                notes = list(t.unverified)
                if t.evidence == "unverified":
                    notes.append("norm table evidence: unverified")
                for _, nrow in t.rows_for(scale_id):
                    label = nrow.stratum_label(t.covers.age_unit)
                    if label == stratum and nrow.unverified:
                        notes.append(nrow.unverified)
                data["unverified"] = "; ".join(notes) or None
        return self._keep(key, data)

    def norm_threshold(
        self, ref: str | None, scale_id: str, stratum: str | None, band: Any, klass: Any
    ) -> str:
        """The interval of a norm band: raw-score bounds in the stratum, or T-score bounds."""
        fallback = f"norm band {band} ({klass})"
        table = self.tables.get(ref or "")
        if table is None:
            return fallback
        if table.t_bands is not None:
            for b in table.t_bands.bands:
                if b.code == band:
                    return f"T {b.interval()} ({b.classification})"
            return fallback
        for _, row in table.rows_for(scale_id):
            if row.stratum_label(table.covers.age_unit) != stratum:
                continue
            for b in row.bands:
                if b.code == band:
                    return f"{b.interval()} ({b.classification})"
        return fallback

    def _band_set(self, inst: Instrument, scale_id: str) -> BandSet:
        """The instrument band set whose columns were read (as :mod:`psyscreen.band_choice`)."""
        sc = inst.scale(scale_id)
        ids = [bs.id for bs in sc.bands]
        want = self.p.entry(inst.id).band_set
        if band_column_suffix(ids, want) == "" or want not in ids:
            return sc.bands[0]
        return sc.bands[ids.index(want)]

    @property
    def critical(self) -> dict[tuple[str, str], np.ndarray]:
        return self.ev.critical

    @property
    def validity(self) -> dict[tuple[str, str], np.ndarray]:
        return self.ev.validity

    def fired(self, node: Node, i: int) -> bool:
        m = self.ev.node_fired.get(node)
        return bool(m is not None and m[i])

    def fired_rows(self, node: Node) -> list[bool]:
        m = self.ev.node_fired.get(node)
        return [False] * self.n if m is None else m.tolist()

    def band_class(self, i: int, ref: str) -> Any:
        return self.ev.scales[ref].klass[i]

    def band_classes(self, ref: str) -> list[Any]:
        return self.ev.scales[ref].klass.tolist()

    def count_refs(self, cond: CountCond) -> list[str]:
        return list(cond.scales) if cond.scales is not None else self.screening

    def check_evidence(self, kind: str, inst_id: str, check_id: str) -> Evidence:
        key = (kind, inst_id, check_id)
        hit = self._evidence.get(key)
        if hit is not None:
            return hit
        inst = self.p.instrument(inst_id)
        if kind == "critical":
            ci = next(x for x in inst.critical_items if x.id == check_id)
            items, meaning, unverified = ci.items, ci.meaning, ci.unverified
            thr = f"{ci.mode} of items {ci.condition.describe()}"
        else:
            vc = next(x for x in inst.validity_checks if x.id == check_id)
            items, meaning, unverified = vc.items, vc.meaning, vc.unverified
            thr = vc.condition.describe() if vc.condition is not None else vc.kind
        data = {
            "kind": kind,
            "instrument": inst_id,
            "check": check_id,
            "items": list(items),
            "value": True,
            "threshold": thr,
            "meaning": meaning.best("en"),
            "unverified": unverified,
        }
        return self._keep(key, data)

    def score_key(self, cond: ScoreCond) -> list[Any]:
        """Per row, what the score evidence of ``cond`` depends on (its key in the cache)."""
        name = f"score {id(cond)}"  # not a scale reference: those have no space
        if name not in self._keys:
            none = [None] * self.n
            norm = cond.field != "raw"
            tables = self.string(cond.scale, "norm_table") if norm else none
            strata = self.string(cond.scale, "norm_stratum") if norm else none
            values = self.number_key(cond.scale, cond.field)
            self._keys[name] = [
                ("score", id(cond), v, t, st) for v, t, st in zip(values, tables, strata)
            ]
        return self._keys[name]

    def score_evidence(self, i: int, cond: ScoreCond) -> Evidence:
        key = self.score_key(cond)[i]
        hit = self._evidence.get(key)
        if hit is not None:
            return hit
        value = self.number(cond.scale, cond.field)[i]
        table, stratum = key[3], key[4]
        inst_id, scale_id = cond.scale.split(".", 1)
        data: dict[str, Any] = {
            "kind": "score",
            "instrument": inst_id,
            "scale": scale_id,
            "field": cond.field,
            "value": value,
            "threshold": cond.describe(),
        }
        if cond.field != "raw":
            data["norm_table"], data["norm_stratum"] = table, stratum
        return self._keep(key, data)

    # -- the parts of a record --------------------------------------------------------------
    def _states(self, fired: Flags, known: Flags) -> list[list[CheckState]]:
        """Per row, the states of the checks (one list per distinct combination)."""
        checks = list(fired)
        code = np.zeros(self.n, np.int64)  # base 3 per check: 0 unknown, 1 not fired, 2 fired
        for key in checks:
            code = code * 3 + np.where(known[key], 1 + fired[key].astype(np.int64), 0)
        states: dict[int, list[CheckState]] = {}
        out = []
        for c in code.tolist():
            hit = states.get(c)
            if hit is None:
                hit, rest = [], c
                for inst_id, cid in reversed(checks):
                    rest, digit = divmod(rest, 3)
                    state = None if digit == 0 else digit == 2
                    hit.append(CheckState(instrument=inst_id, check=cid, fired=state))
                hit.reverse()
                states[c] = hit
            out.append(hit)
        return out

    def _scales(self) -> list[list[ScaleResult]]:
        """Per screening scale, its result in each row (one per distinct result)."""
        out = []
        for ref in self.screening:
            inst_id, scale_id = ref.split(".", 1)
            band, klass, source = self.view(ref)
            if ref not in self.ev.scales:
                band = klass = source = [None] * self.n
            fields: list[list[Any]] = [
                self.number(ref, "raw"),
                self.string(ref, "status"),
                [_str(b) for b in band],
                [_str(k) for k in klass],
                source,
                self.number(ref, "t"),
                self.number(ref, "percentile"),
                self.string(ref, "norm_table"),
                self.string(ref, "norm_stratum"),
            ]
            keys = list(fields)
            keys[0], keys[5], keys[6] = (
                self.number_key(ref, f) for f in ("raw", "t", "percentile")
            )
            seen: dict[tuple[Any, ...], ScaleResult] = {}
            results = []
            for i, key in enumerate(zip(*keys)):
                hit = seen.get(key)
                if hit is None:
                    data = dict(zip(_SCALE_FIELDS, (f[i] for f in fields)))
                    hit = seen[key] = ScaleResult.model_validate(
                        {"instrument": inst_id, "scale": scale_id, **data}
                    )
                results.append(hit)
            out.append(results)
        return out

    def _risk(self, name: str, conv: Any) -> list[Any]:
        col = self.ev.columns[name]
        return [conv(v) for v in col.astype(object).where(col.notna(), None).tolist()]

    def _rules(self) -> list[list[FiredRule]]:
        """Per row, the rules that fired: one validated :class:`FiredRule` per rule and
        distinct evidence key (:meth:`~psyscreen.risk.nodes.Node.evidence_key`)."""
        out: list[list[FiredRule]] = [[] for _ in range(self.n)]
        for r in self.p.rules:
            node = self.ev.nodes[r.id]
            head = {"id": r.id, "level": r.level, "rank": self.p.rank(r.level), "en": r.en}
            head["zh"] = r.zh
            made: dict[Any, FiredRule] = {}
            keys = node.evidence_key(self)
            for i in np.flatnonzero(self.ev.rule_fired[r.id]).tolist():
                hit = made.get(keys[i])
                if hit is None:
                    evidence = node.evidence(self, i)
                    hit = made[keys[i]] = FiredRule.model_validate({**head, "evidence": evidence})
                out[i].append(hit)
        return out

    def records(
        self,
        provenance: Provenance,
        ids: Sequence[str | None] | None,
        rows: Sequence[int] | None,
        routes: Sequence[str | None] | None,
    ) -> list[ScreeningRecord]:
        n = self.n

        def acts(text: str) -> list[ActionOut]:
            a = self.actions
            return [ActionOut(id=x, zh=a[x].zh, en=a[x].en) for x in text.split(";") if x]

        def flags(text: str) -> list[str]:
            return _valid("flags", [[f for f in text.split(";") if f]])[0]

        def interval(key: tuple[int | None, ...]) -> Intervals:
            return Intervals.model_validate(dict(zip(_INTERVAL_FIELDS, key)))

        def per_value(values: list[Any], make: Any) -> list[Any]:
            """``make`` of each value, called once per distinct value."""
            made = {v: make(v) for v in set(values)}
            return [made[v] for v in values]

        days = zip(*(self._risk(f"risk.{f}", _int) for f in _INTERVAL_FIELDS))
        risk, plain = self._risk, _valid
        columns: dict[str, Sequence[Any]] = {
            "row": plain("row", rows if rows is not None else range(n)),
            "id": plain("id", ids) if ids is not None else [None] * n,
            "status": plain("status", risk("risk.status", str)),
            "level": plain("level", risk("risk.level", _int)),
            "route": plain("route", routes) if routes is not None else [None] * n,
            "level_code": plain("level_code", risk("risk.level_code", str)),
            "level_zh": plain("level_zh", risk("risk.level_zh", str)),
            "level_en": plain("level_en", risk("risk.level_en", str)),
            "colour": plain("colour", risk("risk.colour", str)),
            "tier3": plain("tier3", risk("risk.tier3", str)),
            "needs_confirmation": plain(
                "needs_confirmation", risk("risk.needs_confirmation", bool)
            ),
            "referral": plain("referral", risk("risk.referral", bool)),
            "rules": self._rules(),
            "reasons_en": plain("reasons_en", risk("risk.reasons", str)),
            "reasons_zh": plain("reasons_zh", risk("risk.reasons_zh", str)),
            "flags": per_value(risk("risk.flags", str), flags),
            "actions": per_value(risk("risk.actions", str), acts),
            "intervals": per_value(list(days), interval),
            "critical": self._states(self.ev.critical, self.ev.critical_known),
            "validity": self._states(self.ev.validity, self.ev.validity_known),
            # per row a tuple of the shared results: the record gets its own list of them
            "scales": list(zip(*self._scales())) if self.screening else [()] * n,
            "provenance": [provenance] * n,
        }
        assert list(columns) == _FIELDS  # a record's dict holds its fields in their order
        given = set(_FIELDS) if routes is not None else set(_FIELDS) - {"route"}
        made = _RECORD.made
        return [made(dict(zip(_FIELDS, values)), set(given)) for values in zip(*columns.values())]


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector (reference counting still frees everything).

    Building a batch allocates some 100 tracked objects per record, and each collection the
    allocations trigger walks the records made so far: that took about three quarters of the
    time of building records. Nothing built here forms a reference cycle. The switch is
    process-wide: it is turned back on only if it was on, so a caller that keeps it off
    keeps it off, and two threads building at once end with it on.

    Turned back on as it is, the collector's first pass would walk every object allocated
    meanwhile (some 50 per record, a third of the build's time) only to find them all alive.
    The records are meant to outlive the call, so the young objects are moved straight into
    the oldest generation (``gc.freeze`` then ``gc.unfreeze``: two list splices, no walk),
    where the next full collection sees them as it would have anyway. That is skipped if
    the process keeps objects frozen (a pre-fork server): unfreezing would release them.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def build_records(
    scores: pd.DataFrame,
    ev: Evaluation,
    provenance: Provenance,
    ids: Sequence[str | None] | None = None,
    tables: list | None = None,
    *,
    rows: Sequence[int] | None = None,
    routes: Sequence[str | None] | None = None,
) -> list[ScreeningRecord]:
    """One :class:`ScreeningRecord` per row of ``scores`` (``tables``: norm tables used).

    ``rows``: the input positions to record (default ``0..n-1``); ``routes``: each row's route
    (default: none set). Every record is built of its own objects: changing one never changes
    another.

    Example:
        >>> import pandas as pd, psyscreen
        >>> from psyscreen.risk.evaluate import evaluate
        >>> from psyscreen.risk.records import Provenance
        >>> prof = psyscreen.load_profile("default")
        >>> s = psyscreen.score(pd.DataFrame({f"phq9_{i}": [2] for i in range(1, 10)}), "phq9")
        >>> prov = Provenance.model_validate(psyscreen.provenance("default"))
        >>> rec = build_records(s, evaluate(s, prof), prov, rows=[7])[0]
        >>> rec.row, rec.rules[0].evidence[0].check
        (7, 'self_harm')
    """
    with _no_cyclic_gc():
        return _build(scores, ev, provenance, ids, tables, rows, routes)


def _build(
    scores: pd.DataFrame,
    ev: Evaluation,
    provenance: Provenance,
    ids: Sequence[str | None] | None,
    tables: list | None,
    rows: Sequence[int] | None,
    routes: Sequence[str | None] | None,
) -> list[ScreeningRecord]:
    return _Builder(scores, ev, tables or []).records(provenance, ids, rows, routes)
