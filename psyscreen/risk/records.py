"""Typed screening records: one pydantic record per child, for systems.

The JSON Schema of :class:`ScreeningRecord` is published as
``psyscreen/schemas/screening_record.schema.json``. A record carries the
result (level or status), the fired rules with their evidence, actions,
intervals, referral and needs-confirmation flags, validity flags, the
screening scales, and provenance (library version and SHA-256 of every
definition, norm table and the profile used).

Example:
    >>> import pandas as pd, psyscreen
    >>> df = pd.DataFrame({f"phq9_{i}": [1] for i in range(1, 10)})
    >>> rec = psyscreen.screen_records(df, "default", missing_columns="missing")[0]
    >>> rec.level_code, rec.rules[0].id
    ('crisis', 'critical_item')
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from .. import columns as colnames
from ..definitions import Instrument
from .conditions import CountCond, ScoreCond
from .evaluate import Evaluation
from .nodes import Node
from .profile import RiskProfile


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Evidence(_Model):
    """One fact a rule used: a scale's band or score, a critical item or a validity flag."""

    kind: Literal["band", "score", "critical", "validity"]
    instrument: str
    scale: str | None = None
    check: str | None = Field(None, description="Critical item or validity check id.")
    items: list[str] = Field(default_factory=list, description="Item ids (critical items).")
    field: str | None = Field(None, description="raw, t, z, percentile or band_class.")
    value: float | str | bool | None = None
    band: str | None = None
    band_class: str | None = None
    threshold: str | None = Field(
        None, description="The cutoff that was met, e.g. '>= 10' or the band interval '[10, 14]'."
    )
    band_source: Literal["instrument", "norm"] | None = None
    band_set: str | None = Field(None, description="Instrument band set id (instrument bands).")
    norm_table: str | None = Field(None, description="'id@version' of the norm table used.")
    norm_stratum: str | None = None
    meaning: str | None = None
    unverified: str | None = Field(
        None, description="Why the cut-off, band, item or check used is not verified, if so."
    )


class FiredRule(_Model):
    id: str
    level: str
    rank: int
    en: str
    zh: str
    evidence: list[Evidence] = Field(default_factory=list)


class ActionOut(_Model):
    id: str
    zh: str
    en: str


class Intervals(_Model):
    retest_days: int | None = None
    contact_days: int | None = None
    visit_days: int | None = None


class CheckState(_Model):
    """A critical item or validity check of the battery and whether it fired."""

    instrument: str
    check: str
    fired: bool | None = Field(description="null: could not be told (answers missing).")


class ScaleResult(_Model):
    instrument: str
    scale: str
    raw: float | None = None
    status: str | None = None
    band: str | None = None
    band_class: str | None = None
    band_source: Literal["instrument", "norm"] | None = None
    t: float | None = None
    percentile: float | None = None
    norm_table: str | None = None
    norm_stratum: str | None = None


class DefinitionRef(_Model):
    id: str
    version: str
    sha256: str | None = None


class Provenance(_Model):
    library: str = "psyscreen"
    library_version: str
    profile: DefinitionRef
    instruments: list[DefinitionRef]
    norm_tables: list[DefinitionRef] = Field(default_factory=list)


class ScreeningRecord(_Model):
    """The screening result of one child (one input row)."""

    row: int = Field(description="0-based position of the input row.")
    id: str | None = Field(None, description="Respondent id, only when the caller asked for it.")
    status: Literal["level", "invalid_response", "insufficient_data", "out_of_age_range", "no_age"]
    level: int | None = Field(description="Level number (0 = lowest); null unless status is level.")
    route: str | None = Field(
        None, description="Route of a routed profile the child was graded on (null: none)."
    )
    level_code: str
    level_zh: str
    level_en: str
    colour: str
    tier3: str
    needs_confirmation: bool
    referral: bool
    rules: list[FiredRule]
    reasons_en: str
    reasons_zh: str
    flags: list[str]
    actions: list[ActionOut]
    intervals: Intervals
    critical: list[CheckState]
    validity: list[CheckState]
    scales: list[ScaleResult]
    provenance: Provenance


# -- building ---------------------------------------------------------------------------


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


class _Builder:
    def __init__(self, scores: pd.DataFrame, ev: Evaluation, provenance: Provenance, tables: list):
        self.tables = {t.ref: t for t in tables}
        self._cache: dict[str, Any] = {}
        self._risk = {
            c: ev.columns[c].astype(object).where(ev.columns[c].notna(), None).to_numpy()
            for c in ev.columns.columns
        }
        self.s = scores
        self.ev = ev
        self.p: RiskProfile = ev.profile
        self.prov = provenance
        handlings = [*self.p.levels, *self.p.status_list()]
        self.actions = {a.id: a for h in handlings for a in h.actions}

    def cell(self, i: int, name: str) -> Any:
        if name not in self._cache:
            if name not in self.s.columns:
                self._cache[name] = None
            else:
                col = self.s[name]
                self._cache[name] = col.astype(object).where(col.notna(), None).to_numpy()
        arr = self._cache[name]
        return None if arr is None else arr[i]

    def scale_evidence(self, i: int, ref: str) -> Evidence:
        inst_id, scale_id = ref.split(".", 1)
        inst = self.p.instrument(inst_id)
        v = self.ev.scales.get(ref)
        source = v.source[i] if v is not None else None
        band = v.band[i] if v is not None else None
        klass = v.klass[i] if v is not None else None
        e = Evidence(
            kind="band",
            instrument=inst_id,
            scale=scale_id,
            field="band_class",
            value=_num(self.cell(i, colnames.field_of(ref, "raw"))),
            band=_str(band),
            band_class=_str(klass),
            band_source=source,
        )
        if source == "instrument":
            bs = self._band_set(inst, scale_id)
            e.band_set = bs.id
            e.unverified = bs.unverified
            for b in bs.bands:
                if b.code == band:
                    e.threshold = f"{b.interval()} ({b.classification})"
        elif source == "norm":
            e.norm_table = _str(self.cell(i, colnames.field_of(ref, "norm_table")))
            e.norm_stratum = _str(self.cell(i, colnames.field_of(ref, "norm_stratum")))
            e.threshold = self.norm_threshold(e.norm_table, scale_id, e.norm_stratum, band, klass)
            table = self.tables.get(e.norm_table or "")
            if table is not None:
                notes = list(table.unverified)
                if table.evidence == "unverified":
                    notes.append("norm table evidence: unverified")
                for _, nrow in table.rows_for(scale_id):
                    label = nrow.stratum_label(table.covers.age_unit)
                    if label == e.norm_stratum and nrow.unverified:
                        notes.append(nrow.unverified)
                e.unverified = "; ".join(notes) or None
        return e

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

    def _band_set(self, inst: Instrument, scale_id: str):
        sc = inst.scale(scale_id)
        want = self.p.entry(inst.id).band_set
        for bs in sc.bands:
            if want is None or bs.id == want:
                return bs
        return sc.bands[0]

    # -- what the rule nodes ask for (psyscreen.risk.nodes.EvidenceBuilder) ---------------
    @property
    def critical(self) -> dict[tuple[str, str], np.ndarray]:
        return self.ev.critical

    @property
    def validity(self) -> dict[tuple[str, str], np.ndarray]:
        return self.ev.validity

    def fired(self, node: Node, i: int) -> bool:
        m = self.ev.node_fired.get(node)
        return bool(m is not None and m[i])

    def band_class(self, i: int, ref: str) -> Any:
        return self.ev.scales[ref].klass[i]

    def count_refs(self, cond: CountCond) -> list[str]:
        return list(cond.scales) if cond.scales is not None else self.p.screening_scales()

    def check_evidence(self, kind: str, inst_id: str, check_id: str) -> Evidence:
        inst = self.p.instrument(inst_id)
        if kind == "critical":
            ci = next(x for x in inst.critical_items if x.id == check_id)
            items, meaning, unverified = ci.items, ci.meaning, ci.unverified
            thr = f"{ci.mode} of items {ci.condition.describe()}"
        else:
            vc = next(x for x in inst.validity_checks if x.id == check_id)
            items, meaning, unverified = vc.items, vc.meaning, vc.unverified
            thr = vc.condition.describe() if vc.condition is not None else vc.kind
        return Evidence(
            kind=kind,
            instrument=inst_id,
            check=check_id,
            items=list(items),
            value=True,
            threshold=thr,
            meaning=meaning.best("en"),
            unverified=unverified,
        )

    def score_evidence(self, i: int, cond: ScoreCond) -> Evidence:
        inst_id, scale_id = cond.scale.split(".", 1)
        e = Evidence(
            kind="score",
            instrument=inst_id,
            scale=scale_id,
            field=cond.field,
            value=_num(self.cell(i, colnames.field_of(cond.scale, cond.field))),
            threshold=cond.describe(),
        )
        if cond.field != "raw":
            e.norm_table = _str(self.cell(i, colnames.field_of(cond.scale, "norm_table")))
            e.norm_stratum = _str(self.cell(i, colnames.field_of(cond.scale, "norm_stratum")))
        return e

    @staticmethod
    def _states(i: int, fired: dict, known: dict) -> list[CheckState]:
        out = []
        for (inst_id, cid), f in fired.items():
            state = bool(f[i]) if known[(inst_id, cid)][i] else None
            out.append(CheckState(instrument=inst_id, check=cid, fired=state))
        return out

    def record(self, i: int, rid: str | None) -> ScreeningRecord:
        row = {c: a[i] for c, a in self._risk.items()}
        fired = [
            FiredRule(
                id=r.id,
                level=r.level,
                rank=self.p.rank(r.level),
                en=r.en,
                zh=r.zh,
                evidence=self.ev.nodes[r.id].evidence(self, i),
            )
            for r in self.p.rules
            if self.ev.rule_fired[r.id][i]
        ]
        critical = self._states(i, self.ev.critical, self.ev.critical_known)
        validity = self._states(i, self.ev.validity, self.ev.validity_known)
        scales = []
        for ref in self.p.screening_scales():
            inst_id, scale_id = ref.split(".", 1)
            v = self.ev.scales.get(ref)
            scales.append(
                ScaleResult(
                    instrument=inst_id,
                    scale=scale_id,
                    raw=_num(self.cell(i, colnames.field_of(ref, "raw"))),
                    status=_str(self.cell(i, colnames.field_of(ref, "status"))),
                    band=_str(v.band[i]) if v else None,
                    band_class=_str(v.klass[i]) if v else None,
                    band_source=v.source[i] if v else None,
                    t=_num(self.cell(i, colnames.field_of(ref, "t"))),
                    percentile=_num(self.cell(i, colnames.field_of(ref, "percentile"))),
                    norm_table=_str(self.cell(i, colnames.field_of(ref, "norm_table"))),
                    norm_stratum=_str(self.cell(i, colnames.field_of(ref, "norm_stratum"))),
                )
            )
        action_ids = [a for a in str(row["risk.actions"]).split(";") if a]
        level = row["risk.level"]
        return ScreeningRecord(
            row=i,
            id=rid,
            status=str(row["risk.status"]),
            level=None if level is None else int(level),
            level_code=str(row["risk.level_code"]),
            level_zh=str(row["risk.level_zh"]),
            level_en=str(row["risk.level_en"]),
            colour=str(row["risk.colour"]),
            tier3=str(row["risk.tier3"]),
            needs_confirmation=bool(row["risk.needs_confirmation"]),
            referral=bool(row["risk.referral"]),
            rules=fired,
            reasons_en=str(row["risk.reasons"]),
            reasons_zh=str(row["risk.reasons_zh"]),
            flags=[f for f in str(row["risk.flags"]).split(";") if f],
            actions=[
                ActionOut(id=a, zh=self.actions[a].zh, en=self.actions[a].en) for a in action_ids
            ],
            intervals=Intervals(
                retest_days=_int(row["risk.retest_days"]),
                contact_days=_int(row["risk.contact_days"]),
                visit_days=_int(row["risk.visit_days"]),
            ),
            critical=critical,
            validity=validity,
            scales=scales,
            provenance=self.prov,
        )


def _int(x: Any) -> int | None:
    return None if x is None or x is pd.NA else int(x)


def build_records(
    scores: pd.DataFrame,
    ev: Evaluation,
    provenance: Provenance,
    ids: list[str | None] | None = None,
    tables: list | None = None,
) -> list[ScreeningRecord]:
    """One :class:`ScreeningRecord` per row of ``scores`` (``tables``: norm tables used)."""
    b = _Builder(scores, ev, provenance, tables or [])
    return [b.record(i, None if ids is None else ids[i]) for i in range(len(scores))]
