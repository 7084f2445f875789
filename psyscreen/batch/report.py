"""Counts for the manifest and the summary report, gathered chunk by chunk.

:class:`ReportStats` accumulates counts chunk by chunk (memory does not grow with
the number of rows); :func:`render_report` (:mod:`psyscreen.report.aggregate`)
draws the HTML: outcome counts overall and by school, grade, sex and class, with
small cells suppressed (:mod:`psyscreen.report.suppression`).

Group labels are counted from the mapping's roles only (``school``, ``grade``,
``class``, ``sex``); a grade is kept as its parsed number (1-12), so a label that
is not a grade is never kept at all.

Example:
    >>> ReportStats.grade_code(pd.Series(["初二", "8", "张三", None])).tolist()
    ['8', '8', '(invalid)', '(missing)']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import columns as colnames
from .. import demographics as demo
from ..band_choice import choose_band, profile_band
from ..report.aggregate import count_critical, critical_rules, render_report
from ..report.suppression import THRESHOLD

__all__ = ["THRESHOLD", "ReportStats", "render_report"]


class ReportStats:
    """Counts gathered chunk by chunk for the manifest and the report."""

    def __init__(self, plan: Any):
        self.plan = plan
        self.profile = plan.profile
        self.outcomes = self._outcome_order()
        self.by_group: dict[str, Counter] = {
            d: Counter() for d in ("all", "school", "grade", "sex", "class")
        }
        self.scales = self.profile.screening_scales() if self.profile is not None else []
        self.raw_hist: dict[str, Counter] = {s: Counter() for s in self.scales}
        self.band_counts: dict[str, Counter] = {s: Counter() for s in self.scales}
        self.row_status: Counter = Counter()
        self.risk_status: Counter = Counter()
        #: ``critical_item``: children whose result a critical-item rule set (see the report)
        self.critical: Counter = Counter()
        self.problem_counts: Counter = Counter()
        self.instrument_status: Counter = Counter()
        self.norm_tables: set[str] = set()
        self.rows = 0

    def _outcome_order(self) -> list[str]:
        if self.profile is None:
            return []
        return [lv.code for lv in self.profile.levels] + [
            "invalid_response",
            "insufficient_data",
            "out_of_age_range",
            "no_age",
            "unreadable",
        ]

    # -- the counts alone, to merge those of parts (Dask partitions) ------------
    def state(self) -> dict[str, Any]:
        """The counts (picklable, small): what :meth:`merge` adds to another instance.

        Example:
            >>> from types import SimpleNamespace
            >>> s = ReportStats(SimpleNamespace(profile=None))
            >>> s.rows = 3
            >>> t = ReportStats(SimpleNamespace(profile=None))
            >>> t.merge(s.state()); t.merge(s.state()); t.rows
            6
        """
        return {
            "by_group": self.by_group,
            "raw_hist": self.raw_hist,
            "band_counts": self.band_counts,
            "row_status": self.row_status,
            "risk_status": self.risk_status,
            "problem_counts": self.problem_counts,
            "instrument_status": self.instrument_status,
            "norm_tables": self.norm_tables,
            "critical": self.critical,
            "rows": self.rows,
        }

    def merge(self, state: dict[str, Any]) -> None:
        """Add one part's counts, as :meth:`update` on that part's rows would.

        Parts are merged in order, so even the order of the counters' keys is that
        of one pass over the whole file.
        """
        for mine, part in (
            (self.by_group, state["by_group"]),
            (self.raw_hist, state["raw_hist"]),
            (self.band_counts, state["band_counts"]),
        ):
            for key, counts in part.items():
                mine.setdefault(key, Counter()).update(counts)
        self.row_status.update(state["row_status"])
        self.risk_status.update(state["risk_status"])
        self.problem_counts.update(state["problem_counts"])
        self.instrument_status.update(state["instrument_status"])
        self.norm_tables.update(state["norm_tables"])
        self.critical.update(state["critical"])
        self.rows += state["rows"]

    # -- accumulate --------------------------------------------------------------
    def update(self, results: pd.DataFrame, problems: pd.DataFrame) -> None:
        """Add one chunk of results (as produced by ``process_chunk``) and its problems.

        Counting works on the distinct values of each column (factorised codes and
        ``bincount``), so its cost hardly depends on the number of groups.
        """
        n = len(results)
        self.rows += n
        out_codes, out_labels = _factorize(self._outcome(results))
        _count(self.by_group["all"], np.zeros(n, dtype=np.intp), ["all"], out_codes, out_labels)
        found = {}
        for dim in ("school", "grade", "sex", "class"):
            if dim in results:
                found[dim] = self._groups(results[dim], dim)
                if dim != "class":
                    _count(self.by_group[dim], *found[dim], out_codes, out_labels)
        if "class" in found:  # school -> grade -> class, one key per class
            parts = [
                found.get(d, (np.zeros(n, np.intp), [""])) for d in ("school", "grade", "class")
            ]
            combined = np.zeros(n, dtype=np.int64)
            for c, lab in parts:
                combined = combined * len(lab) + c
            uniq, k_codes = np.unique(combined, return_inverse=True)
            labels = []
            for u in uniq.tolist():
                key = []
                for _c, lab in reversed(parts):
                    u, r = divmod(u, len(lab))
                    key.append(lab[r])
                labels.append(tuple(reversed(key)))
            _count(self.by_group["class"], k_codes.ravel(), labels, out_codes, out_labels)
        self.row_status.update(_value_counts(results["row.status"]))
        if "risk.status" in results:
            self.risk_status.update(_value_counts(results["risk.status"]))
            n_crit = count_critical(results.get("risk.rules"), critical_rules(self.profile))
            if n_crit:
                self.critical["critical_item"] += n_crit
        for s in self.scales:
            inst, scale = s.split(".", 1)
            raw = results.get(colnames.field_of(s, "raw"))
            if raw is not None:
                v = raw.to_numpy(dtype=float, na_value=np.nan)
                self.raw_hist[s].update(pd.Series(v[np.isfinite(v)]).value_counts().to_dict())
            band = self._band_column(results, inst, scale)
            if band is not None:
                self.band_counts[s].update(_value_counts(band, missing="(no score)"))
        for ins in self.plan.instruments:
            status = results.get(colnames.status(ins.id))
            if status is not None:
                for value, k in _value_counts(status).items():
                    self.instrument_status[ins.id, value] += k
        for name in results.columns:
            if str(name).endswith(".norm_table"):
                self.norm_tables.update(t for t in _value_counts(results[name], missing="") if t)
        if len(problems):
            pairs = problems.groupby(["field", "problem"], sort=False).size()
            for pair, k in pairs.items():
                self.problem_counts[pair] += int(k)

    def add_unreadable(self, n: int) -> None:
        """Count ``n`` lines that could not be read as rows."""
        self.rows += n
        self.row_status["unreadable"] += n
        self.by_group["all"]["all", "unreadable"] += n

    def _outcome(self, results: pd.DataFrame) -> np.ndarray:
        if "risk.status" not in results:
            return np.full(len(results), "(not graded)", dtype=object)
        status = results["risk.status"].astype(object).to_numpy()
        level = results["risk.level_code"].astype(object).to_numpy()
        return np.where(status == "level", level, status)

    @staticmethod
    def _groups(col: pd.Series, dim: str) -> tuple[np.ndarray, list[str]]:
        """(code per row, label per code): labels made from the distinct values only."""
        codes, uniq = _factorize(col)
        present = [None if _blank(v) else v for v in uniq]
        if dim == "sex":
            sex, st = demo.sex_status(pd.Series(present, dtype=object))
            labels = [
                v if s == demo.OK else ("(invalid)" if s == demo.INVALID else "(missing)")
                for v, s in zip(sex.to_numpy(), st)
            ]
        elif dim == "grade":
            labels = ReportStats.grade_code(pd.Series(present, dtype=object)).tolist()
        else:
            labels = ["(missing)" if v is None else str(v).strip() for v in present]
        return codes, labels

    @staticmethod
    def grade_code(values: pd.Series) -> pd.Series:
        """Grade number as text (``"1"``..``"12"``), ``(invalid)`` or ``(missing)``."""
        num, st = demo.parse_grade(values)
        out = np.where(
            st == demo.OK,
            [f"{g:.0f}" if g == g else "" for g in num],
            np.where(st == demo.MISSING, "(missing)", "(invalid)"),
        )
        return pd.Series(out, index=values.index, dtype=object)

    def _band_column(self, results: pd.DataFrame, inst: str, scale: str) -> pd.Series | None:
        """The band code each row counts in: the one risk evaluation graded it by."""
        ref = colnames.ref(inst, scale)
        try:
            choice = profile_band(results, self.profile, ref)
        except (KeyError, AttributeError):  # no profile, or not one of its instruments
            choice = choose_band(results, ref, "instrument")
        if not any(c in results.columns for c in choice.band_columns):
            return None
        return pd.Series(choice.band, index=results.index, dtype=object)

    # -- summaries ---------------------------------------------------------------
    def counts(self) -> dict[str, Any]:
        """Row counts for the manifest."""
        overall = {k: self.by_group["all"].get(("all", k), 0) for k in self.outcomes}
        if not overall.get("unreadable"):
            overall.pop("unreadable", None)  # listed only when there were such lines
        return {
            "by_row_status": {
                k: self.row_status.get(k, 0) for k in ("ok", "problems", "unreadable")
            },
            "rows_with_problems": self.row_status.get("problems", 0),
            "by_risk_status": dict(sorted(self.risk_status.items())),
            "by_outcome": overall,
            "problems_by_kind": {
                f"{f}:{p}": n for (f, p), n in sorted(self.problem_counts.items())
            },
        }

    def table(self, dim: str) -> tuple[list[Any], np.ndarray]:
        """(group keys, counts[group, outcome]) for ``dim``, as counted (not filtered)."""
        cnt = self.by_group[dim]
        groups = sorted({g for g, _ in cnt}, key=str)
        arr = np.array(
            [[cnt.get((g, o), 0) for o in self.outcomes] for g in groups], dtype=np.int64
        ).reshape(len(groups), len(self.outcomes))
        return groups, arr


def _blank(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


def _factorize(values: Any) -> tuple[np.ndarray, list[Any]]:
    """(code per row, distinct values) with missing values as one value of their own."""
    codes, uniq = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    return codes, list(uniq)


def _value_counts(col: pd.Series, missing: str = "nan") -> dict[str, int]:
    """Counts of the values of ``col`` by their text; missing values as ``missing``."""
    counts = col.value_counts(dropna=False, sort=False)
    out: dict[str, int] = {}
    for v, k in counts.items():
        if k:
            key = missing if _blank(v) else str(v)
            out[key] = out.get(key, 0) + int(k)
    return out


def _count(
    counter: Counter,
    g_codes: np.ndarray,
    g_labels: Sequence[Hashable],
    o_codes: np.ndarray,
    o_labels: list[str],
) -> None:
    """Add the (group, outcome) pair counts of one chunk to ``counter``."""
    if len(g_codes) == 0:
        return
    k = len(o_labels)
    pairs = np.bincount(g_codes * k + o_codes, minlength=len(g_labels) * k)
    for idx in np.nonzero(pairs)[0]:
        counter[g_labels[idx // k], o_labels[idx % k]] += int(pairs[idx])
