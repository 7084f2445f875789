"""Vectorised evaluation of a risk profile on scored rows.

The input is the flat score table of :func:`psyscreen.score` (optionally with
norm columns); the output is one set of ``risk.*`` columns per row. Every value
of a row depends on that row alone.

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
   flags (their re-test and actions are added).

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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..definitions import Instrument
from .profile import BandCond, CountCond, RiskProfile, ScoreCond, When

RESULT_STATUSES = ["level", "invalid_response", "insufficient_data"]


@dataclass
class ScaleView:
    """Band class, band code and band source of one scale, per row (object arrays)."""

    ref: str
    klass: np.ndarray  # 'normal' / 'borderline' / 'abnormal' / None
    band: np.ndarray  # band code or None
    source: np.ndarray  # 'instrument' / 'norm' / None


@dataclass
class Evaluation:
    """Everything computed for a batch of rows (used for columns and records)."""

    profile: RiskProfile
    n: int
    columns: pd.DataFrame
    rule_fired: dict[str, np.ndarray] = field(default_factory=dict)
    node_fired: dict[int, np.ndarray] = field(default_factory=dict)
    scales: dict[str, ScaleView] = field(default_factory=dict)
    critical: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    critical_known: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    validity: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    validity_known: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    missing: dict[str, np.ndarray] = field(default_factory=dict)
    rule_rank: np.ndarray | None = None


def _obj(col: pd.Series | None, n: int) -> np.ndarray:
    if col is None:
        return np.full(n, None, dtype=object)
    s = col.astype(object)
    return s.where(s.notna(), None).to_numpy(dtype=object)


def _bool(col: pd.Series | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(fired, known) arrays from a nullable boolean column (absent: unknown)."""
    if col is None:
        return np.zeros(n, bool), np.zeros(n, bool)
    known = col.notna().to_numpy()
    fired = col.fillna(False).to_numpy(dtype=bool) & known
    return fired, known


def _float(col: pd.Series | None, n: int) -> np.ndarray:
    if col is None:
        return np.full(n, np.nan)
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


class _Evaluator:
    def __init__(self, scores: pd.DataFrame, profile: RiskProfile):
        self.s = scores
        self.p = profile
        self.n = len(scores)
        self.ev = Evaluation(profile=profile, n=self.n, columns=pd.DataFrame(index=scores.index))

    def col(self, name: str) -> pd.Series | None:
        return self.s[name] if name in self.s.columns else None

    # -- scale views ---------------------------------------------------------------
    def scale(self, ref: str) -> ScaleView:
        if ref in self.ev.scales:
            return self.ev.scales[ref]
        inst_id, scale_id = ref.split(".", 1)
        entry = self.p.entry(inst_id)
        inst = self.p.instrument(inst_id)
        sc = inst.scale(scale_id)
        suffix = ""
        if sc.bands and entry.band_set is not None:
            k = [bs.id for bs in sc.bands].index(entry.band_set)
            suffix = "" if k == 0 else f"_{entry.band_set}"
        n = self.n
        none = np.full(n, None, dtype=object)
        i_cls = _obj(self.col(f"{ref}.band_class{suffix}"), n) if sc.bands else none
        i_band = _obj(self.col(f"{ref}.band{suffix}"), n) if sc.bands else none
        n_cls = _obj(self.col(f"{ref}.norm_band_class"), n)
        n_band = _obj(self.col(f"{ref}.norm_band"), n)
        if entry.band_source == "instrument":
            use_norm = np.zeros(n, bool)
        elif entry.band_source == "norm":
            use_norm = np.ones(n, bool)
        else:
            use_norm = n_cls != None  # noqa: E711 (elementwise on object arrays)
        klass = np.where(use_norm, n_cls, i_cls)
        band = np.where(use_norm, n_band, i_band)
        source = np.where(klass != None, np.where(use_norm, "norm", "instrument"), None)  # noqa: E711
        view = ScaleView(ref=ref, klass=klass, band=band, source=source.astype(object))
        self.ev.scales[ref] = view
        return view

    # -- critical items and validity checks ------------------------------------------
    def _flags(self, kind: str) -> None:
        target, known_t = (
            (self.ev.critical, self.ev.critical_known)
            if kind == "critical"
            else (self.ev.validity, self.ev.validity_known)
        )
        for b in self.p.battery:
            inst = self.p.instrument(b.instrument)
            if kind == "critical":
                ids = (
                    b.critical_items
                    if b.critical_items is not None
                    else [c.id for c in inst.critical_items]
                )
            else:
                ids = (
                    b.validity_checks
                    if b.validity_checks is not None
                    else [v.id for v in inst.validity_checks]
                )
            for cid in ids:
                fired, known = _bool(self.col(f"{inst.id}.{kind}.{cid}"), self.n)
                target[(inst.id, cid)] = fired
                known_t[(inst.id, cid)] = known

    # -- conditions ------------------------------------------------------------------
    def node(self, w: When) -> np.ndarray:
        k = w.kind
        if k == "critical" or k == "validity":
            c = w.critical if k == "critical" else w.validity
            flags = self.ev.critical if k == "critical" else self.ev.validity
            m = np.zeros(self.n, bool)
            for (inst_id, cid), fired in flags.items():
                if c.instrument in (None, inst_id) and c.id in (None, cid):
                    m |= fired
        elif k == "count":
            m = self._count(w.count)
        elif k == "band":
            m = self._band(w.band)
        elif k == "score":
            m = self._score(w.score)
        elif k == "any_of":
            m = np.zeros(self.n, bool)
            for child in w.any_of:
                m |= self.node(child)
        else:
            m = np.ones(self.n, bool)
            for child in w.all_of:
                m &= self.node(child)
        self.ev.node_fired[id(w)] = m
        return m

    def _count(self, c: CountCond) -> np.ndarray:
        refs = c.scales if c.scales is not None else self.p.screening_scales()
        total = np.zeros(self.n, dtype=np.int64)
        for ref in refs:
            total += np.isin(self.scale(ref).klass, c.band_class)
        return total >= c.at_least

    def _band(self, c: BandCond) -> np.ndarray:
        v = self.scale(c.scale)
        if c.band_class is not None:
            return np.isin(v.klass, c.band_class)
        return np.isin(v.band, c.band)

    def _score(self, c: ScoreCond) -> np.ndarray:
        x = _float(self.col(f"{c.scale}.{c.field}"), self.n)
        m = ~np.isnan(x)
        if c.ge is not None:
            m &= x >= c.ge
        if c.gt is not None:
            m &= x > c.gt
        if c.le is not None:
            m &= x <= c.le
        if c.lt is not None:
            m &= x < c.lt
        return m

    # -- missing data -----------------------------------------------------------------
    def _needs(self) -> dict[str, list[tuple[str, str]]]:
        """Per required instrument: (ref, field) that must be known ('class' or a score)."""
        needs: dict[str, list[tuple[str, str]]] = {}
        for b in self.p.battery:
            if b.required:
                needs[b.instrument] = [(f"{b.instrument}.{s}", "class") for s in b.screening_scales]
                needs[b.instrument] += [
                    (f"{b.instrument}.{s}", "raw")
                    for s in b.required_scales
                    if s not in b.screening_scales
                ]
        for r in self.p.rules:
            for node in r.when.walk():
                refs: list[tuple[str, str]] = []
                if node.count is not None:
                    refs = [(ref, "class") for ref in node.count.scales or []]
                elif node.band is not None:
                    refs = [(node.band.scale, "class")]
                elif node.score is not None:
                    refs = [(node.score.scale, node.score.field)]
                for ref, fld in refs:
                    inst_id = ref.split(".", 1)[0]
                    if fld == "raw" and (ref, "class") in needs.get(inst_id, []):
                        continue  # the band is only there when the raw score is
                    if inst_id in needs and (ref, fld) not in needs[inst_id]:
                        needs[inst_id].append((ref, fld))
        return needs

    def missing(self) -> None:
        for needs in self._needs().values():
            for ref, fld in needs:
                if fld == "class":
                    m = self.scale(ref).klass == None  # noqa: E711
                else:
                    m = np.isnan(_float(self.col(f"{ref}.{fld}"), self.n))
                key = ref if fld in ("class", "raw") else f"{ref}.{fld}"
                self.ev.missing[key] = np.asarray(m, dtype=bool)

    # -- the whole profile --------------------------------------------------------------
    def run(self) -> Evaluation:
        p, n = self.p, self.n
        self._flags("critical")
        self._flags("validity")
        rank = np.zeros(n, dtype=np.int16)
        for r in p.rules:
            m = self.node(r.when)
            self.ev.rule_fired[r.id] = m
            rank = np.where(m, np.maximum(rank, p.rank(r.level)), rank)
        self.ev.rule_rank = rank
        self.missing()
        invalid = np.zeros(n, bool)
        for fired in self.ev.validity.values():
            invalid |= fired
        insufficient = np.zeros(n, bool)
        for m in self.ev.missing.values():
            insufficient |= m
        keep_inv = p.rank(p.statuses.invalid_response.keep_level_from)
        keep_ins = p.rank(p.statuses.insufficient_data.keep_level_from)
        result = np.where(
            invalid & (rank < keep_inv),
            len(p.levels),
            np.where(insufficient & (rank < keep_ins), len(p.levels) + 1, rank),
        )
        self.ev.columns = self._columns(result, invalid, insufficient)
        return self.ev

    # -- output columns -------------------------------------------------------------------
    def _columns(self, result, invalid, insufficient) -> pd.DataFrame:
        p, n = self.p, self.n
        nl = len(p.levels)
        key = result.astype(np.int64) * 4 + invalid.astype(np.int64) * 2 + insufficient
        uniq, inv_idx = np.unique(key, return_inverse=True)
        table = [_outcome(p, int(k) // 4, bool(int(k) & 2), bool(int(k) & 1)) for k in uniq]
        out: dict[str, object] = {}

        def pick(field_: str) -> np.ndarray:
            return np.array([t[field_] for t in table], dtype=object)[inv_idx]

        status = np.where(result < nl, 0, np.where(result == nl, 1, 2))
        out["risk.status"] = pd.Categorical.from_codes(status, RESULT_STATUSES)
        out["risk.level"] = pd.array(
            np.where(result < nl, result, 0).astype("int64"), dtype="Int64"
        )
        out["risk.level"][result >= nl] = pd.NA
        for f in ("level_code", "level_zh", "level_en", "colour", "tier3"):
            out[f"risk.{f}"] = pd.array(pick(f), dtype="string")
        out["risk.needs_confirmation"] = pick("needs_confirmation").astype(bool)
        out["risk.referral"] = pick("referral").astype(bool)
        for f in ("retest_days", "contact_days", "visit_days"):
            out[f"risk.{f}"] = pd.array(pick(f), dtype="Int64")
        out["risk.actions"] = pd.array(pick("actions"), dtype="string")
        out["risk.actions_zh"] = pd.array(pick("actions_zh"), dtype="string")
        out["risk.actions_en"] = pd.array(pick("actions_en"), dtype="string")
        rules, reasons_en, reasons_zh = self._rule_text()
        flags = self._flag_text(invalid, insufficient)
        st_en = pick("status_reason_en")
        st_zh = pick("status_reason_zh")
        out["risk.rules"] = pd.array(rules, dtype="string")
        out["risk.reasons"] = pd.array(_join(st_en, reasons_en, "; "), dtype="string")
        out["risk.reasons_zh"] = pd.array(_join(st_zh, reasons_zh, "；"), dtype="string")
        out["risk.flags"] = pd.array(flags, dtype="string")
        out["risk.profile"] = pd.array(np.full(n, f"{p.id}@{p.version}", object), dtype="string")
        return pd.DataFrame(out, index=self.s.index)

    def _rule_text(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = self.n
        rules = np.full(n, "", dtype=object)
        en = np.full(n, "", dtype=object)
        zh = np.full(n, "", dtype=object)
        for r in self.p.rules:
            m = self.ev.rule_fired[r.id]
            if not m.any():
                continue
            detail = self._detail(r.when)
            d = np.where(detail != "", " (" + detail.astype(object) + ")", "")
            rules = np.where(m, _join(rules, np.full(n, r.id, object), ";"), rules)
            en = np.where(m, _join(en, (r.en + d).astype(object), "; "), en)
            zh = np.where(m, _join(zh, (r.zh + d).astype(object), "；"), zh)
        return rules, en, zh

    def _detail(self, w: When) -> np.ndarray:
        """Which scales / items made a node fire (names only, never values)."""
        n = self.n
        fired = self.ev.node_fired.get(id(w), np.zeros(n, bool))
        out = np.full(n, "", dtype=object)
        k = w.kind
        if k in ("critical", "validity"):
            c = w.critical if k == "critical" else w.validity
            flags = self.ev.critical if k == "critical" else self.ev.validity
            for (inst_id, cid), f in flags.items():
                if c.instrument in (None, inst_id) and c.id in (None, cid):
                    out = np.where(f, _join(out, np.full(n, f"{inst_id}.{cid}", object), ", "), out)
        elif k == "count":
            refs = w.count.scales if w.count.scales is not None else self.p.screening_scales()
            for ref in refs:
                hit = np.isin(self.scale(ref).klass, w.count.band_class)
                out = np.where(hit, _join(out, np.full(n, ref, object), ", "), out)
        elif k in ("band", "score"):
            ref = w.band.scale if k == "band" else w.score.scale
            out = np.full(n, ref, dtype=object)
        else:
            for child in w.any_of or w.all_of:
                cd = self._detail(child)
                out = _join(out, cd, ", ")
        return np.where(fired, out, "")

    def _flag_text(self, invalid, insufficient) -> np.ndarray:
        n = self.n
        out = np.full(n, "", dtype=object)
        for (inst_id, cid), f in self.ev.validity.items():
            out = np.where(f, _join(out, np.full(n, f"invalid:{inst_id}.{cid}", object), ";"), out)
        for key, m in self.ev.missing.items():
            out = np.where(m, _join(out, np.full(n, f"missing:{key}", object), ";"), out)
        for b in self.p.battery:
            if b.required:
                continue
            st = self.col(f"{b.instrument}.status")
            if st is None:
                continue
            s = _obj(st, n)
            hit = np.isin(s, ["partial", "insufficient"])
            tag = np.full(n, f"incomplete:{b.instrument}", object)
            out = np.where(hit, _join(out, tag, ";"), out)
        return out


def _join(a: np.ndarray, b: np.ndarray, sep: str) -> np.ndarray:
    """Elementwise join of two object string arrays, skipping empty parts."""
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    both = (a != "") & (b != "")
    return np.where(both, a + sep + b, np.where(a != "", a, b))


def _min_days(*vals: int | None) -> int | None:
    given = [v for v in vals if v is not None]
    return min(given) if given else None


def _outcome(p: RiskProfile, result: int, invalid: bool, insufficient: bool) -> dict:
    """Output values for one combination of (result, invalid flag, insufficient flag)."""
    nl = len(p.levels)
    if result < nl:
        lv = p.levels[result]
        applied = []
        if invalid:
            applied.append(p.statuses.invalid_response)
        if insufficient:
            applied.append(p.statuses.insufficient_data)
        handlings = [lv, *applied]
        code, zh, en, colour, tier3 = lv.code, lv.zh, lv.en, lv.colour, lv.tier3
        st_en = "; ".join(f"also {s.en.lower()}: level is a lower bound" for s in applied)
        st_zh = "；".join(f"同时{s.zh}：等级为下限" for s in applied)
    else:
        st = p.statuses.invalid_response if result == nl else p.statuses.insufficient_data
        name = "invalid_response" if result == nl else "insufficient_data"
        handlings = [st]
        if result == nl and insufficient:
            handlings.append(p.statuses.insufficient_data)
        code, zh, en, colour, tier3 = name, st.zh, st.en, st.colour, st.tier3
        st_en, st_zh = st.en, st.zh
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
        "status_reason_en": st_en,
        "status_reason_zh": st_zh,
    }


def evaluate(scores: pd.DataFrame, profile: RiskProfile) -> Evaluation:
    """Evaluate ``profile`` on a score table; ``.columns`` holds the ``risk.*`` columns."""
    return _Evaluator(scores, profile).run()


def instruments_of(profile: RiskProfile) -> list[Instrument]:
    """The loaded battery instruments, in battery order."""
    return [profile.instrument(i) for i in profile.instruments]
