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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..categories import from_codes
from ..definitions import Instrument
from ..scoring import condition_mask
from .outcome import _GATE_NAMES, _GATE_REASONS, GATES, RESULT_STATUSES, _outcome
from .profile import BandCond, CountCond, RiskProfile, ScoreCond, When


@dataclass
class ScaleView:
    """Band class, band code and band source of one scale, per row (object arrays)."""

    ref: str
    klass: np.ndarray  # 'normal' / 'borderline' / 'abnormal' / None
    band: np.ndarray  # band code or None
    source: np.ndarray  # 'instrument' / 'norm' / None
    #: ``klass`` as positions in ``class_names`` (-1: None), for tests by class
    class_code: np.ndarray | None = None
    class_names: tuple[Any, ...] = ()

    def in_class(self, classes: Any) -> np.ndarray:
        """Rows whose band class is one of ``classes`` (by codes: no test per cell)."""
        if self.class_code is None:
            return np.isin(self.klass, list(classes))
        hit = np.array([c in classes for c in self.class_names] + [False], dtype=bool)
        return hit[self.class_code]


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
    """A column as an object array with ``None`` for missing values."""
    if col is None:
        return np.full(n, None, dtype=object)
    if isinstance(col.dtype, pd.CategoricalDtype):  # by codes: no test per cell
        cats = np.asarray(col.cat.categories, dtype=object)
        codes = col.cat.codes.to_numpy()
        out = np.full(n, None, dtype=object)
        has = codes >= 0
        out[has] = cats[codes[has]]
        return out
    s = col.astype(object)
    return s.where(s.notna(), None).to_numpy(dtype=object)


def _class_codes(
    inst_col: pd.Series | None, norm_col: pd.Series | None, use_norm: np.ndarray, n: int
) -> tuple[tuple[Any, ...], np.ndarray | None]:
    """(class names, per row the position of its class in them or -1) from categoricals.

    ``None`` for the codes when a column is not categorical (then classes are
    tested on the objects).
    """
    names: list[Any] = []
    codes = []
    for col in (inst_col, norm_col):
        if col is None:
            codes.append(np.full(n, -1, dtype=np.int64))
            continue
        if not isinstance(col.dtype, pd.CategoricalDtype):
            return (), None
        pos = []
        for c in col.cat.categories:
            if c not in names:
                names.append(c)
            pos.append(names.index(c))
        own = col.cat.codes.to_numpy()
        lookup = np.array([*pos, -1], dtype=np.int64)
        codes.append(lookup[own])
    return tuple(names), np.where(use_norm, codes[1], codes[0])


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
    def __init__(
        self,
        scores: pd.DataFrame,
        profile: RiskProfile,
        gate: np.ndarray | None = None,
        absent: frozenset[str] = frozenset(),
    ):
        self.s = scores
        self.p = profile
        self.n = len(scores)
        self.gate = np.zeros(self.n, np.int8) if gate is None else np.asarray(gate, np.int8)
        self.absent = absent
        self.ev = Evaluation(profile=profile, n=self.n, columns=pd.DataFrame(index=scores.index))
        self._incomplete_cache: dict[str, np.ndarray] | None = None
        self._class_cache: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}

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
        names, code = _class_codes(
            self.col(f"{ref}.band_class{suffix}") if sc.bands else None,
            self.col(f"{ref}.norm_band_class"),
            use_norm,
            n,
        )
        view = ScaleView(
            ref=ref,
            klass=klass,
            band=band,
            source=source.astype(object),
            class_code=code,
            class_names=names,
        )
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
            total += self._in_class(ref, c.band_class)
        return total >= c.at_least

    def _in_class(self, ref: str, classes: list[str]) -> np.ndarray:
        """Rows whose band class on ``ref`` is one of ``classes`` (computed once per pair)."""
        key = (ref, tuple(classes))
        hit = self._class_cache.get(key)
        if hit is None:
            hit = self._class_cache[key] = self.scale(ref).in_class(classes)
        return hit

    def _band(self, c: BandCond) -> np.ndarray:
        v = self.scale(c.scale)
        if c.band_class is not None:
            return v.in_class(c.band_class)
        return np.isin(v.band, c.band)

    def _score(self, c: ScoreCond) -> np.ndarray:
        return condition_mask(_float(self.col(f"{c.scale}.{c.field}"), self.n), c.condition)

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
        """What a required result lacks, by cause: no score at all (key ``inst.scale``), or a
        score without a norm band (key ``inst.scale [norm <status>]``, e.g. no stratum for
        the child's age), so that reasons never call a complete answer sheet 'missing'."""
        for inst_id, needs in self._needs().items():
            if inst_id in self.absent:  # no column of it in the data: say so, once
                self.ev.missing[f"{inst_id} [not in the data]"] = np.ones(self.n, bool)
                continue
            for ref, fld in needs:
                key = ref if fld in ("class", "raw") else f"{ref}.{fld}"
                if fld != "class":
                    m = np.isnan(_float(self.col(f"{ref}.{fld}"), self.n))
                    self.ev.missing[key] = np.asarray(m, dtype=bool)
                    continue
                m = np.asarray(self.scale(ref).klass == None, dtype=bool)  # noqa: E711
                raw = self.col(f"{ref}.raw")
                norm_status = self.col(f"{ref}.norm_status")
                if raw is None or norm_status is None:
                    self.ev.missing[key] = m
                    continue
                scored = ~np.isnan(_float(raw, self.n))
                self.ev.missing[key] = m & ~scored
                why = _obj(norm_status, self.n)
                for status in sorted({str(x) for x in why[m & scored]}):
                    self.ev.missing[f"{key} [norm {status}]"] = m & scored & (why == status)

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
    def _columns(self, result, invalid, insufficient) -> pd.DataFrame:
        """Output columns. Text is built once per distinct combination of everything it
        depends on (few in practice) and then spread to the rows: fast for big batches."""
        p, n = self.p, self.n
        nl = len(p.levels)
        key = (
            (result.astype(np.int64) * 4 + self.gate.astype(np.int64)) * 4
            + invalid.astype(np.int64) * 2
            + insufficient
        )
        inv, first = _combinations(key, self._text_inputs())
        texts = [self._row_text(int(r), int(key[r])) for r in first]
        out: dict[str, object] = {}

        def col(field_: str) -> pd.api.extensions.ExtensionArray:
            return _take_strings([t[field_] for t in texts], inv)

        def flags(field_: str) -> np.ndarray:  # per combination, then spread by numbers
            return np.array([bool(t[field_]) for t in texts] + [False], dtype=bool)[inv]

        status = np.where(result < nl, 0, result - nl + 1)
        out["risk.status"] = from_codes(status, RESULT_STATUSES)
        out["risk.level"] = pd.arrays.IntegerArray(
            np.where(result < nl, result, 0).astype("int64"), result >= nl
        )
        for f in ("level_code", "level_zh", "level_en", "colour", "tier3"):
            out[f"risk.{f}"] = col(f)
        out["risk.needs_confirmation"] = flags("needs_confirmation")
        out["risk.referral"] = flags("referral")
        for f in ("retest_days", "contact_days", "visit_days"):
            per = [t[f] for t in texts]
            miss = np.array([x is None for x in per] + [True], dtype=bool)
            days = np.array([0 if x is None else x for x in per] + [0], dtype="int64")
            out[f"risk.{f}"] = pd.arrays.IntegerArray(days[inv], miss[inv])
        for f in ("actions", "actions_zh", "actions_en", "rules", "reasons", "reasons_zh"):
            out[f"risk.{f}"] = col(f)
        out["risk.flags"] = col("flags")
        out["risk.profile"] = _take_strings([f"{p.id}@{p.version}"], np.zeros(n, np.int64))
        return pd.DataFrame(out, index=self.s.index)

    def _text_inputs(self) -> list[np.ndarray]:
        """Every boolean array the text of a row depends on (besides the outcome key)."""
        arrays = list(self.ev.rule_fired.values()) + list(self.ev.node_fired.values())
        arrays += list(self.ev.critical.values()) + list(self.ev.validity.values())
        arrays += list(self.ev.missing.values()) + list(self._incomplete().values())
        for r in self.p.rules:
            for node in r.when.walk():
                if node.count is not None:
                    for ref in self._count_refs(node):
                        arrays.append(self._in_class(ref, node.count.band_class))
        return arrays

    def _count_refs(self, node: When) -> list[str]:
        c = node.count
        return list(c.scales) if c.scales is not None else self.p.screening_scales()

    def _incomplete(self) -> dict[str, np.ndarray]:
        """Optional instruments answered only in part (reported as flags)."""
        if self._incomplete_cache is None:
            out = {}
            for b in self.p.battery:
                st = self.col(f"{b.instrument}.status")
                if b.required or st is None:
                    continue
                out[b.instrument] = np.isin(_obj(st, self.n), ["partial", "insufficient"])
            self._incomplete_cache = out
        return self._incomplete_cache

    def _row_text(self, r: int, key: int) -> dict:
        """All outputs of row ``r`` whose outcome key is ``key``."""
        p = self.p
        gate = (key // 4) % 4
        t = _outcome(p, key // 16, gate, bool(key & 2), bool(key & 1))
        ids, en, zh = [], [], []
        for rule in p.rules:
            if not self.ev.rule_fired[rule.id][r]:
                continue
            d = ", ".join(self._detail(rule.when, r))
            ids.append(rule.id)
            en.append(f"{rule.en} ({d})" if d else rule.en)
            zh.append(f"{rule.zh}（{d}）" if d else rule.zh)
        invalid = [f"{i}.{c}" for (i, c), f in self.ev.validity.items() if f[r]]
        missing = [k for k, m in self.ev.missing.items() if m[r]]
        if gate:
            missing = invalid = []
        st_en, st_zh = self._status_text(key // 16, invalid, missing, gate)
        t["rules"] = ";".join(ids)
        t["reasons"] = "; ".join([*en, *st_en])
        t["reasons_zh"] = "；".join([*zh, *st_zh])
        flags = [f"{_GATE_NAMES[gate]}:age"] if gate else []
        flags += [f"invalid:{x}" for x in invalid]
        flags += [f"missing:{k}" for k in missing]
        flags += [f"incomplete:{i}" for i, m in self._incomplete().items() if m[r]]
        t["flags"] = ";".join(flags)
        return t

    def _status_text(
        self, result: int, invalid: list[str], missing: list[str], gate: int = 0
    ) -> tuple[list[str], list[str]]:
        """Reasons for the statuses that apply: the result itself, or flags on a kept level."""
        st = self.p.statuses
        parts = []
        if gate:
            name = _GATE_NAMES[gate]
            parts.append((self.p.status(name), *_GATE_REASONS[name]))
        if invalid:
            parts.append((st.invalid_response, ", ".join(invalid), ", ".join(invalid)))
        if missing:
            m = ", ".join(missing)
            parts.append((st.insufficient_data, f"missing: {m}", f"缺失：{m}"))
        en, zh = [], []
        kept = result < len(self.p.levels)
        for status, d_en, d_zh in parts:
            if kept:
                en.append(f"also {status.en.lower()} ({d_en}): re-test")
                zh.append(f"同时{status.zh}（{d_zh}）：需复测")
            else:
                en.append(f"{status.en} ({d_en})")
                zh.append(f"{status.zh}（{d_zh}）")
        return en, zh

    def _detail(self, w: When, r: int) -> list[str]:
        """Which scales / items made a node fire for row ``r`` (names only, never values)."""
        if not self.ev.node_fired[id(w)][r]:
            return []
        k = w.kind
        if k in ("critical", "validity"):
            c = w.critical if k == "critical" else w.validity
            flags = self.ev.critical if k == "critical" else self.ev.validity
            return [
                f"{i}.{cid}"
                for (i, cid), f in flags.items()
                if c.instrument in (None, i) and c.id in (None, cid) and f[r]
            ]
        if k == "count":
            return [
                ref for ref in self._count_refs(w) if self.scale(ref).klass[r] in w.count.band_class
            ]
        if k == "band":
            return [w.band.scale]
        if k == "score":
            return [w.score.scale]
        out: list[str] = []
        for child in w.any_of or w.all_of:
            out += [x for x in self._detail(child, r) if x not in out]
        return out


def _combinations(key: np.ndarray, arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(inverse, first): the distinct combinations of ``key`` and the boolean ``arrays``.

    ``first[j]`` is a row with combination j; ``inverse[i]`` the combination of row i.
    """
    n = len(key)
    parts = [np.ascontiguousarray(key.astype("<i8")).view(np.uint8).reshape(n, 8)]
    if arrays:
        parts.append(np.packbits(np.column_stack(arrays), axis=1))
    m = np.ascontiguousarray(np.concatenate(parts, axis=1))
    v = m.view(np.dtype((np.void, m.shape[1]))).ravel()
    _, first, inverse = np.unique(v, return_index=True, return_inverse=True)
    return inverse.ravel(), first


def _take_strings(values: list[str], idx: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``values[idx]`` as a pandas string array (built in Arrow, no Python per row)."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is optional
        return pd.array(np.array(values, dtype=object)[idx], dtype="string")
    arr = pa.array(values, type=pa.large_string()).take(pa.array(idx, type=pa.int64()))
    return pd.arrays.ArrowStringArray(arr)


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
