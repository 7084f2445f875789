"""The summary report: one self-contained HTML file of aggregates, small cells suppressed.

:class:`ReportStats` accumulates counts chunk by chunk (memory does not grow with
the number of rows); :func:`render_report` writes the HTML: inline CSS, plots as
inline PNG (matplotlib, if installed; otherwise tables only), no external files.

Sections: outcome (risk level or status) counts and rates overall and by school,
grade and sex; score distributions of each screening scale against its bands;
data quality (row problems by column and kind, instrument statuses).

Small-cell suppression (see :func:`suppress`): a count of 1-4 children is not
shown, nor its rate; a group with 1-4 children is not shown at all. Then, so that
no suppressed count can be worked out from the totals shown, every row and every
column of a table that has exactly one suppressed cell gets a second one (the
smallest other count), repeated until no row or column has exactly one.
Zeros are shown. Tables are protected one by one: a reader who combines the
school, grade and sex tables of the same run could still narrow some counts down,
so share the report only with people entitled to the aggregate data.

Example:
    >>> import numpy as np
    >>> suppress(np.array([[10, 3, 20], [12, 9, 30]])).astype(int).tolist()
    [[1, 1, 0], [1, 1, 0]]
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from .. import demographics as demo

THRESHOLD = 5
STYLE = """
body{font-family:-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei',sans-serif;
margin:2em;color:#222;max-width:72em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:.2em .6em;
text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}.s{color:#999}
.note{color:#555;font-size:.9em}.sw{display:inline-block;width:.8em;height:.8em;margin-right:.3em}
"""
COLOURS = {
    "green": "#2e7d32",
    "yellow": "#f9a825",
    "orange": "#ef6c00",
    "red": "#c62828",
    "grey": "#757575",
}


def suppress(counts: np.ndarray, threshold: int = THRESHOLD) -> np.ndarray:
    """Cells to hide in a table of counts whose row and column totals are published.

    Primary: counts 1..threshold-1, and every cell of a row whose total is
    1..threshold-1. Complementary: while some row or column has exactly one hidden
    cell, hide its smallest other cell (non-zero first).

    Example:
        >>> suppress(np.array([[2, 8], [7, 9]])).astype(int).tolist()
        [[1, 1], [1, 1]]
    """
    c = np.asarray(counts, dtype=np.int64)
    if c.size == 0:
        return np.zeros(c.shape, dtype=bool)
    hide = (c > 0) & (c < threshold)
    totals = c.sum(axis=1)
    hide[(totals > 0) & (totals < threshold)] = True
    changed = True
    while changed:
        changed = False
        for axis in (1, 0):
            view_h = hide if axis == 1 else hide.T
            view_c = c if axis == 1 else c.T
            for i in range(view_h.shape[0]):
                if view_h[i].sum() != 1:
                    continue
                cand = np.nonzero(~view_h[i])[0]
                if len(cand) == 0:
                    continue
                vals = view_c[i, cand]
                key = np.where(vals > 0, vals, np.iinfo(np.int64).max)
                j = cand[int(np.argmin(key))] if (vals > 0).any() else cand[0]
                view_h[i, j] = True
                changed = True
    return hide


class ReportStats:
    """Counts gathered chunk by chunk for the manifest and the report."""

    def __init__(self, plan: Any):
        self.plan = plan
        self.profile = plan.profile
        self.outcomes = self._outcome_order()
        self.by_group: dict[str, Counter] = {
            d: Counter() for d in ("all", "school", "grade", "sex")
        }
        self.scales = self.profile.screening_scales() if self.profile is not None else []
        self.raw_hist: dict[str, Counter] = {s: Counter() for s in self.scales}
        self.band_counts: dict[str, Counter] = {s: Counter() for s in self.scales}
        self.row_status: Counter = Counter()
        self.risk_status: Counter = Counter()
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
        for dim in ("school", "grade", "sex"):
            if dim in results:
                g_codes, g_labels = self._groups(results[dim], dim)
                _count(self.by_group[dim], g_codes, g_labels, out_codes, out_labels)
        self.row_status.update(_value_counts(results["row.status"]))
        if "risk.status" in results:
            self.risk_status.update(_value_counts(results["risk.status"]))
        for s in self.scales:
            inst, scale = s.split(".", 1)
            raw = results.get(f"{s}.raw")
            if raw is not None:
                v = raw.to_numpy(dtype=float, na_value=np.nan)
                self.raw_hist[s].update(pd.Series(v[np.isfinite(v)]).value_counts().to_dict())
            band = self._band_column(results, inst, scale)
            if band is not None:
                self.band_counts[s].update(_value_counts(band, missing="(no score)"))
        for inst in self.plan.instruments:
            col = results.get(f"{inst.id}.status")
            if col is not None:
                for v, k in _value_counts(col).items():
                    self.instrument_status[inst.id, v] += k
        for c in results.columns:
            if str(c).endswith(".norm_table"):
                self.norm_tables.update(v for v in _value_counts(results[c], missing="") if v)
        if len(problems):
            pairs = problems.groupby(["field", "problem"], sort=False).size()
            for key, k in pairs.items():
                self.problem_counts[key] += int(k)

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
        else:
            labels = ["(missing)" if v is None else str(v) for v in present]
        return codes, labels

    def _band_column(self, results: pd.DataFrame, inst: str, scale: str) -> pd.Series | None:
        src = "instrument"
        if self.profile is not None:
            try:
                src = self.profile.entry(inst).band_source
            except (KeyError, AttributeError):
                src = "instrument"
        name = f"{inst}.{scale}.norm_band" if src == "norm" else f"{inst}.{scale}.band"
        return results.get(name)

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

    def table(self, dim: str) -> tuple[list[str], np.ndarray]:
        """(group names, counts[group, outcome]) for ``dim``."""
        cnt = self.by_group[dim]
        groups = sorted({g for g, _ in cnt}, key=_natural)
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
    g_labels: list[str],
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


def _natural(s: str) -> tuple:
    return (s.startswith("("), len(s) if s.isdigit() else 0, s)


# ---------------------------------------------------------------------------
# HTML


def _e(x: Any) -> str:
    return html.escape(str(x))


def _outcome_label(stats: ReportStats, code: str) -> str:
    p = stats.profile
    if p is not None:
        for lv in p.levels:
            if lv.code == code:
                sw = f'<span class="sw" style="background:{COLOURS.get(lv.colour, "#999")}"></span>'
                return f"{sw}{_e(lv.zh)} {_e(lv.en)}"
    names = {
        "invalid_response": "无效作答 invalid response",
        "insufficient_data": "数据不足 insufficient data",
        "out_of_age_range": "不适用年龄 out of age range",
        "no_age": "年龄缺失 age unknown",
        "unreadable": "无法读取 unreadable line",
    }
    return _e(names.get(code, code))


def _count_table(stats: ReportStats, dim: str, title: str) -> str:
    groups, arr = stats.table(dim)
    if not groups:
        return ""
    keep = [j for j, o in enumerate(stats.outcomes) if arr[:, j].sum() > 0 or j < 4]
    outcomes = [stats.outcomes[j] for j in keep]
    arr = arr[:, keep]
    hide = suppress(arr)
    totals = arr.sum(axis=1)
    out = [f"<h3>{_e(title)}</h3><table><tr><th class='l'>group</th><th>children</th>"]
    out += [f"<th>{_outcome_label(stats, o)}</th>" for o in outcomes]
    out.append("</tr>")
    for i, g in enumerate(groups):
        small = 0 < totals[i] < THRESHOLD
        tot = "&lt;5" if small else str(int(totals[i]))
        out.append(f"<tr><td class='l'>{_e(g)}</td><td>{tot}</td>")
        for j in range(len(outcomes)):
            if hide[i, j]:
                out.append("<td class='s'>—</td>")
            else:
                rate = 100.0 * arr[i, j] / totals[i] if totals[i] else 0.0
                out.append(f"<td>{int(arr[i, j])} ({rate:.1f}%)</td>")
        out.append("</tr>")
    col_tot = arr.sum(axis=0)
    grand = int(col_tot.sum())
    out.append(f"<tr><th class='l'>total</th><th>{grand}</th>")
    col_hide = suppress(col_tot[None, :])[0]  # the same cells as in the overall table
    for j in range(len(outcomes)):
        if col_hide[j]:
            out.append("<th class='s'>—</th>")
        else:
            rate = 100.0 * col_tot[j] / grand if grand else 0.0
            out.append(f"<th>{int(col_tot[j])} ({rate:.1f}%)</th>")
    out.append("</tr></table>")
    return "".join(out)


def _png(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def _have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _outcome_plot(stats: ReportStats) -> str:
    from matplotlib.figure import Figure

    _, arr = stats.table("all")
    if arr.size == 0:
        return ""
    counts = arr[0]
    hide = suppress(counts[None, :])[0]
    labels, values, colours = [], [], []
    for j, o in enumerate(stats.outcomes):
        if counts[j] == 0 or hide[j]:
            continue
        labels.append(o)
        values.append(int(counts[j]))
        colour = "grey"
        if stats.profile is not None:
            for lv in stats.profile.levels:
                if lv.code == o:
                    colour = lv.colour
        colours.append(COLOURS.get(colour, "#757575"))
    if not values:
        return ""
    fig = Figure(figsize=(7, 2.8))
    ax = fig.add_subplot()
    ax.bar(labels, values, color=colours)
    ax.set_ylabel("children")
    ax.set_title("Outcome (risk level or status); suppressed counts not drawn")
    fig.tight_layout()
    return _png(fig)


def _scale_section(stats: ReportStats, plots: bool) -> str:
    out = []
    for s in stats.scales:
        inst_id, scale_id = s.split(".", 1)
        out.append(f"<h3>{_e(s)}</h3>")
        bands = stats.band_counts[s]
        if bands:
            names = sorted(bands, key=lambda b: (b == "(no score)", str(b)))
            inst = next((i for i in stats.plan.instruments if i.id == inst_id), None)
            order = _band_order(inst, scale_id)
            names = sorted(names, key=lambda b: order.get(b, 999))
            arr = np.array([[bands[b] for b in names]], dtype=np.int64)
            hide = suppress(arr)[0]
            total = int(arr.sum())
            out.append("<table><tr>" + "".join(f"<th>{_e(b)}</th>" for b in names) + "</tr><tr>")
            for j, _b in enumerate(names):
                if hide[j]:
                    out.append("<td class='s'>—</td>")
                else:
                    out.append(f"<td>{int(arr[0, j])} ({100.0 * arr[0, j] / total:.1f}%)</td>")
            out.append("</tr></table>")
        if plots and stats.raw_hist[s]:
            out.append(_hist_plot(stats, s, inst_id, scale_id))
    return "".join(out)


def _band_order(inst, scale_id: str) -> dict[str, int]:
    if inst is None:
        return {}
    try:
        sc = inst.scale(scale_id)
    except KeyError:
        return {}
    if not sc.bands:
        return {}
    return {b.code: k for k, b in enumerate(sc.bands[0].bands)}


def _hist_plot(stats: ReportStats, s: str, inst_id: str, scale_id: str) -> str:
    from matplotlib.figure import Figure

    hist = stats.raw_hist[s]
    xs = sorted(x for x, n in hist.items() if n >= THRESHOLD)
    if not xs:
        return ""
    fig = Figure(figsize=(7, 2.6))
    ax = fig.add_subplot()
    inst = next((i for i in stats.plan.instruments if i.id == inst_id), None)
    klass_colour = {"normal": "#2e7d32", "borderline": "#f9a825", "abnormal": "#c62828"}
    colours = []
    bands = []
    if inst is not None:
        sc = inst.scale(scale_id)
        bands = sc.bands[0].bands if sc.bands else []
    for x in xs:
        c = "#757575"
        for b in bands:
            if b.contains(x):
                c = klass_colour.get(b.classification, c)
        colours.append(c)
    ax.bar(xs, [hist[x] for x in xs], width=0.8 if len(xs) > 1 else 0.5, color=colours)
    ax.set_xlabel(f"{s} raw score (colour: band class of the instrument's first band set)")
    ax.set_ylabel("children")
    ax.set_title("scores held by fewer than 5 children are not drawn", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def _quality_section(stats: ReportStats) -> str:
    out = ["<h3>Rows</h3><table><tr><th class='l'>row status</th><th>rows</th></tr>"]
    for k in ("ok", "problems", "unreadable"):
        out.append(f"<tr><td class='l'>{k}</td><td>{stats.row_status.get(k, 0)}</td></tr>")
    out.append("</table>")
    if stats.problem_counts:
        out.append(
            "<h3>Row problems by column</h3><p class='note'>Counts of problems (a row can "
            "have several); the rows are listed in the problems file by row number.</p>"
            "<table><tr><th class='l'>field</th><th class='l'>column</th>"
            "<th class='l'>problem</th><th>count</th></tr>"
        )
        for (f, p), n in sorted(stats.problem_counts.items()):
            col = stats.plan.headers.get(f, f)
            out.append(
                f"<tr><td class='l'>{_e(f)}</td><td class='l'>{_e(col)}</td>"
                f"<td class='l'>{_e(p)}</td><td>{n}</td></tr>"
            )
        out.append("</table>")
    if stats.instrument_status:
        out.append("<h3>Instrument status</h3><table><tr><th class='l'>instrument</th>")
        names = ["complete", "partial", "insufficient", "invalid_response", "not_answered"]
        names.append("out_of_age_range")
        out += [f"<th>{n}</th>" for n in names] + ["</tr>"]
        for inst in stats.plan.instruments:
            out.append(f"<tr><td class='l'>{_e(inst.id)}</td>")
            out += [f"<td>{stats.instrument_status.get((inst.id, n), 0)}</td>" for n in names]
            out.append("</tr>")
        out.append("</table>")
    return "".join(out)


def render_report(stats: ReportStats, manifest: dict[str, Any]) -> str:
    """The report as an HTML string (depends on the data and versions, not on the clock)."""
    plots = _have_matplotlib()
    prof = stats.profile
    m_in = manifest["input"]
    defs = manifest.get("definitions", {})
    title = "psyscreen screening summary 筛查汇总报告"
    parts = [
        f"<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'><title>{title}</title>",
        f"<style>{STYLE}</style></head><body><h1>{title}</h1>",
        "<p class='note'>Aggregates only. Counts of 1-4 children are suppressed (—), with "
        "complementary suppression so that they cannot be recovered from totals; groups of "
        "1-4 children show no breakdown. Screening results are not diagnoses: every level "
        "above the lowest needs confirmation.</p>",
        "<table>",
        f"<tr><th class='l'>input</th><td class='l'>{_e(m_in['file'])} ({m_in['format']}, "
        f"sha256 {m_in['sha256'][:16]}…)</td></tr>",
        f"<tr><th class='l'>rows in / out</th><td class='l'>{manifest['rows']['in']} / "
        f"{manifest['rows']['out']}</td></tr>",
        f"<tr><th class='l'>psyscreen</th><td class='l'>{_e(manifest['psyscreen_version'])}"
        "</td></tr>",
    ]
    if prof is not None:
        parts.append(
            f"<tr><th class='l'>risk profile</th><td class='l'>{_e(prof.id)} {_e(prof.version)}"
            f" — {_e(prof.title.best('zh'))}</td></tr>"
        )
    insts = ", ".join(f"{i['id']} {i['version']}" for i in defs.get("instruments", []))
    parts.append(f"<tr><th class='l'>instruments</th><td class='l'>{_e(insts)}</td></tr>")
    norms = ", ".join(sorted(stats.norm_tables)) or "none"
    parts.append(f"<tr><th class='l'>norm tables</th><td class='l'>{_e(norms)}</td></tr></table>")
    parts.append("<h2>Risk levels 风险等级</h2>")
    if plots:
        parts.append(_outcome_plot(stats))
    parts.append(_count_table(stats, "all", "All children"))
    for dim, label in (
        ("school", "By school 按学校"),
        ("grade", "By grade 按年级"),
        ("sex", "By sex 按性别"),
    ):
        if stats.by_group[dim]:
            parts.append(_count_table(stats, dim, label))
    parts.append("<h2>Score distributions 分数分布</h2>")
    parts.append(_scale_section(stats, plots))
    parts.append("<h2>Data quality 数据质量</h2>")
    parts.append(_quality_section(stats))
    if not plots:
        parts.append("<p class='note'>Plots omitted: matplotlib is not installed.</p>")
    parts.append("</body></html>\n")
    return "".join(parts)
