"""The aggregate report: one self-contained HTML page for readers beyond the school.

Counts of children by risk level (or re-test status) overall and by school,
grade, sex and class, suppressed as :mod:`psyscreen.report.suppression`
describes; score distributions against each scale's bands; data quality. Inline
CSS and SVG only (no scripts, images or external files); Chinese by default,
English with ``lang="en"``.

Group labels come only from the mapping's group roles and are filtered: a grade
is shown by its own name (初一 ...) only when it parses as a grade, a school or
class name only when at least k children share it; anything else is "其他".

Example:
    >>> groups = {"一中": np.array([9, 1]), "二中": np.array([6, 0]), "张三": np.array([1, 0])}
    >>> [label for label, _ in plain_groups(groups, "school", Messages("zh"))]
    ['一中', '二中', '其他']
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import charts
from .i18n import Messages
from .labels import band_info, band_order, band_source, outcome_colour, outcome_name, scale_name
from .suppression import THRESHOLD, GroupTable, Suppressed, suppress_table, suppress_tables

STYLE = """
body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','PingFang SC','Microsoft YaHei',
sans-serif;margin:2em;color:#222;max-width:80em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #999}
h3{font-size:1.05em}table{border-collapse:collapse;margin:.5em 0 1em}
td,th{border:1px solid #bbb;padding:.2em .5em;text-align:right}
th{background:#f2f2f2}tr:first-child th{white-space:normal;max-width:8em}
table.meta th{white-space:nowrap;max-width:none}
td.l,th.l{text-align:left}td.l{white-space:normal;max-width:12em}.note{color:#444;font-size:.9em;max-width:60em}
.ph{display:inline-block;border:1px dashed #333;padding:0 .3em;color:#333;font-size:.9em}
.sw{display:inline-block;width:.8em;height:.8em;margin-right:.3em;border:1px solid #222}
.m{font-weight:bold}.key{font-weight:bold;font-size:1.1em;max-width:60em}
table.meta td{white-space:normal;max-width:50em}
@media print{body{margin:0}h2{break-after:avoid}table{break-inside:avoid}}
"""
_LOW = ("(invalid)", "(missing)")


def _e(x: Any) -> str:
    return html.escape(str(x))


def _natural_key(s: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s))


def plain_groups(
    groups: dict[Any, np.ndarray], dim: str, t: Messages, k: int = THRESHOLD
) -> list[tuple[str, list[Any]]]:
    """(label, member keys) per published group, in natural order, 其他 last.

    ``grade`` keys are grade numbers as text (or ``(invalid)``/``(missing)``);
    ``sex`` keys ``female``/``male``/...; other keys are the group's own text, shown
    only when at least ``k`` children share it. A group of fewer than ``k``
    children is folded into 其他 (which, if still smaller than ``k``, has all its
    cells suppressed).
    """
    named: list[tuple[str, list[Any], tuple]] = []
    other: list[Any] = []
    for key, arr in groups.items():
        n = int(arr.sum())
        if dim == "grade" and key not in _LOW:
            named.append((t.grade(int(key)), [key], (0, int(key))))
        elif dim == "sex" and key in ("female", "male"):
            named.append((t(f"sex.{key}"), [key], (0, key == "male")))
        elif key == "(missing)":
            named.append((t("group.missing"), [key], (1,)))
        elif dim not in ("grade", "sex") and key not in _LOW and n >= k:
            named.append((str(key), [key], (0, _natural_key(str(key)))))
        else:
            other.append(key)
            continue
        if n < k:
            other.append(named.pop()[1][0])
    return with_other(named, other, t)


def with_other(named: list[tuple[str, list, tuple]], other: list, t: Messages) -> list:
    """(label, keys) of the named groups in the order of their sort keys, then 其他."""
    named = sorted(named, key=lambda g: g[2])
    out = [(label, keys) for label, keys, _ in named]
    if other:
        out.append((t("group.other"), other))
    return out


def published_rows(
    members: list[list[int]], labels: list[str], arr: np.ndarray, t: Messages
) -> tuple[list[str], np.ndarray]:
    """(label, counts) per published row (``members``: input rows of each); a folded
    row is 其他, or 其他（含…） naming the groups it took in.

    Example:
        >>> published_rows([[0], [1, 2]], ["初一", "初三", "其他"], np.ones((3, 2)), Messages("zh"))
        (['初一', '其他（含初三）'], array([[1., 1.],
               [2., 2.]]))
    """
    other = t("group.other")
    shown = []
    for m in members:
        names = [labels[x] for x in m if labels[x] != other]
        if len(m) == 1:
            shown.append(labels[m[0]])
        elif not names:
            shown.append(other)
        else:
            shown.append(t("group.other_with", groups="、".join(names)))
    return shown, np.array([arr[m].sum(axis=0) for m in members])


def outcome_codes(stats: Any) -> list[str]:
    """Every outcome counted: the run's own list, then any other outcome found in the counts.

    An outcome outside ``stats.outcomes`` (say an ``unreadable`` line in a run without a
    profile) still gets a column, so that the report's columns always add up to its rows.
    """
    codes = list(stats.outcomes) or ["(not graded)"]
    seen = set(codes)
    for _g, o in stats.by_group["all"]:
        if o not in seen:
            seen.add(o)
            codes.append(o)
    return codes


def critical_rules(profile: Any) -> set[str]:
    """Ids of the profile's rules (its own and its routes') that fire on a critical item."""
    if profile is None:
        return set()
    rules = list(getattr(profile, "rules", None) or [])
    for route in getattr(profile, "routes", None) or []:
        rules += list(route.rules)
    return {r.id for r in rules if r.when.critical is not None}


def count_critical(rules: Any, ids: set[str]) -> int:
    """How many of the ``risk.rules`` texts (``a;b;c``) name one of the rules ``ids``.

    Example:
        >>> import pandas as pd
        >>> count_critical(pd.Series(["critical_item;one_abnormal", "", "two_abnormal"]),
        ...                {"critical_item"})
        1
    """
    if not ids or rules is None:
        return 0
    padded = ";" + rules.astype(str).fillna("") + ";"
    hit = np.zeros(len(padded), dtype=bool)
    for rid in ids:
        hit |= padded.str.contains(f";{rid};", regex=False).to_numpy(dtype=bool)
    return int(hit.sum())


def shown_critical(crisis: int | None, critical: int, k: int) -> int | None:
    """The critical-item count as published beside a published crisis count (None: hidden).

    Hidden with the crisis count, when it is under ``k`` (but not 0), or when the crisis
    children not put there by a critical item (the difference a reader can take) are fewer
    than ``k`` but not none.

    Example:
        >>> shown_critical(191, 191, 5), shown_critical(12, 9, 5), shown_critical(12, 6, 5)
        (191, None, 6)
    """
    if crisis is None:
        return None
    if critical == 0:
        return 0  # nothing a reader could not tell already
    if critical < k:
        return None
    rest = crisis - critical
    return critical if rest == 0 or rest >= k else None


class _Columns:
    """The outcome columns of the count tables: levels, statuses, the merged level."""

    def __init__(self, stats: Any, overall: np.ndarray):
        prof = stats.profile
        codes = outcome_codes(stats)
        keep = [j for j, c in enumerate(codes) if c != "unreadable" or overall[j] > 0]
        self.idx = keep
        self.codes = [codes[j] for j in keep]
        levels = [lv.code for lv in prof.levels] if prof is not None else []
        self.tiers = [levels.index(c) if c in levels else 0 for c in self.codes]
        top = levels[-2:] if len(levels) >= 3 else []
        self.merge = tuple(self.codes.index(c) for c in top if c in self.codes)
        self.merged_from = top[0] if top else None
        self.profile = prof


class _Page:
    def __init__(self, stats: Any, manifest: dict[str, Any], lang: str, k: int):
        self.stats, self.manifest, self.k = stats, manifest, k
        self.t = Messages(lang)
        self.lang = lang
        self.prof = stats.profile

    # -- counts ----------------------------------------------------------------
    def counts(self, dim: str) -> dict[Any, np.ndarray]:
        cnt = self.stats.by_group[dim]
        outcomes = outcome_codes(self.stats)
        pos = {o: j for j, o in enumerate(outcomes)}
        out: dict[Any, np.ndarray] = {}
        for (g, o), n in cnt.items():
            if o in pos:
                out.setdefault(g, np.zeros(len(outcomes), dtype=np.int64))[pos[o]] += n
        return out

    # -- cells -----------------------------------------------------------------
    def cell(self, n: int, total: int, hidden: bool, head: bool = False) -> str:
        tag = "th" if head else "td"
        if hidden:
            ph = self.t("cell.placeholder", k=self.k)
            title = _e(self.t("cell.suppressed"))
            return f"<{tag}><span class='ph' title='{title}'>{_e(ph)}</span></{tag}>"
        rate = self.t.pct(100.0 * n / total) if total else "—"
        return f"<{tag}>{self.t.num(n)} ({rate})</{tag}>"

    def header(self, cols: _Columns) -> str:
        t = self.t
        out = [f"<tr><th class='l'>{_e(t('col.group'))}</th><th>{_e(t('col.children'))}</th>"]
        for j, code in enumerate(cols.codes):
            colour = charts.COLOURS.get(outcome_colour(self.prof, code), "#999")
            out.append(
                f"<th><span class='sw' style='background:{colour}'></span>"
                f"{_e(outcome_name(self.prof, code, self.lang))}</th>"
            )
            if cols.merge and j == cols.merge[-1]:
                out.append(f"<th class='m'>{_e(self.merged_name(cols))}</th>")
        return "".join(out) + "</tr>"

    def merged_name(self, cols: _Columns) -> str:
        level = outcome_name(self.prof, cols.merged_from or "", self.lang)
        return self.t("outcome.merged", level=level)

    def row(
        self, label: str, counts: np.ndarray, res: Suppressed, i: int, cols: _Columns, head: bool
    ) -> str:
        total = int(counts.sum())
        tag = "th" if head else "td"
        out = [f"<tr><{tag} class='l'>{_e(label)}</{tag}><{tag}>{self.t.num(total)}</{tag}>"]
        for j in range(len(cols.codes)):
            out.append(self.cell(int(counts[j]), total, bool(res.hidden[i, j]), head))
            if cols.merge and j == cols.merge[-1]:
                m = int(counts[list(cols.merge)].sum())
                out.append(self.cell(m, total, bool(res.merged_hidden[i]), head))
        return "".join(out) + "</tr>"

    def table(
        self,
        title: str,
        labels: Sequence[str],
        counts: np.ndarray,
        res: Suppressed,
        top: Suppressed,
        overall: np.ndarray,
        cols: _Columns,
        total_label: str,
    ) -> str:
        out = [f"<h3>{_e(title)}</h3><table>", self.header(cols)]
        for i, label in enumerate(labels):
            out.append(self.row(label, counts[i], res, i, cols, head=False))
        out.append(self.row(total_label, overall, top, 0, cols, head=True))
        return "".join(out) + "</table>"


def _reorder(res: Suppressed, order: list[int]) -> Suppressed:
    return Suppressed(
        res.counts[order],
        res.hidden[order],
        res.merged[order] if len(res.merged) else res.merged,
        res.merged_hidden[order] if len(res.merged_hidden) else res.merged_hidden,
        res.totals_hidden,
        res.merged_total_hidden,
    )


def _sub(arr: np.ndarray, cols: _Columns) -> np.ndarray:
    return arr[..., cols.idx]


def render_report(
    stats: Any, manifest: dict[str, Any], lang: str = "zh", k: int = THRESHOLD
) -> str:
    """The aggregate report as an HTML string (depends on the data and versions, not the clock)."""
    page = _Page(stats, manifest, lang, k)
    t = page.t
    outcomes = outcome_codes(stats)
    overall_full = page.counts("all").get("all", np.zeros(len(outcomes), dtype=np.int64))
    cols = _Columns(stats, overall_full)
    overall = _sub(overall_full, cols)
    parts = [_head(page, manifest)]
    parts.append(f"<h2>{_e(t('sec.levels'))}</h2>")
    if overall.sum() < k:
        # every outcome keeps its column (a routed status is never left out), all hidden
        parts.append(_all_hidden_table(page, overall, cols))
        parts.append(f"<p class='note'>{_e(t('method.text', k=k, k1=k - 1, merged=''))}</p>")
        return "".join(parts) + "</body></html>\n"
    dims = [d for d in ("school", "grade", "sex") if stats.by_group.get(d)]
    grouped = []
    for d in dims:
        counts = page.counts(d)
        groups = plain_groups(counts, d, t, k)
        arr = np.array([sum(counts[x] for x in keys) for _, keys in groups], dtype=np.int64)
        arr = _sub(arr.reshape(len(groups), -1), cols)
        grouped.append((d, [g for g, _ in groups], [keys for _, keys in groups], arr))
    top, tables, classes = _suppress(page, cols, overall, grouped)
    parts.append(_key_figures(page, overall, top, cols))
    parts.append(_level_chart(page, overall, top, cols))
    empty = Suppressed(
        overall[None, :],
        top.hidden,
        top.merged,
        top.merged_hidden,
        top.totals_hidden,
        top.merged_total_hidden,
    )
    parts.append(
        page.table(
            t("table.all"),
            [],
            np.zeros((0, len(cols.codes))),
            empty,
            top,
            overall,
            cols,
            t("table.all"),
        )
    )
    for (d, labels, _keys, arr), tab in zip(grouped, tables):
        if tab is None:
            continue
        order = sorted(range(len(tab.members)), key=lambda i: (len(tab.members[i]) > 1, i))
        tab = GroupTable([tab.members[i] for i in order], _reorder(tab.result, order))
        shown, sums = published_rows(tab.members, labels, arr, t)
        parts.append(
            page.table(t(f"table.{d}"), shown, sums, tab.result, top, overall, cols, t("col.total"))
        )
    if classes:
        parts.append(f"<h2>{_e(t('sec.classes'))}</h2>")
        for c in classes:
            parts.append(
                page.table(
                    t("table.class", school=c.school),
                    c.labels,
                    c.counts,
                    c.result,
                    c.top,
                    c.school_counts,
                    cols,
                    c.school,
                )
            )
    parts.append(f"<h2>{_e(t('sec.scores'))}</h2>")
    parts.append(_scale_section(page))
    parts.append(f"<h2>{_e(t('sec.quality'))}</h2>")
    parts.append(_quality_section(page))
    merged = page.merged_name(cols) if cols.merge else ""
    parts.append(f"<h2>{_e(t('sec.method'))}</h2>")
    parts.append(f"<p class='note'>{_e(t('method.text', k=k, k1=k - 1, merged=merged))}</p>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _all_hidden_table(page: _Page, overall: np.ndarray, cols: _Columns) -> str:
    """The overall table of a run with fewer than k children: every cell hidden."""
    n = len(cols.codes)
    res = Suppressed(
        overall[None, :],
        np.ones((1, n), dtype=bool),
        np.zeros(1, dtype=np.int64),
        np.ones(1, dtype=bool),
        np.ones(n, dtype=bool),
        True,
    )
    none = np.zeros((0, n))
    t = page.t
    return page.table(t("table.all"), [], none, res, res, overall, cols, t("table.all"))


def _head(page: _Page, manifest: dict[str, Any]) -> str:
    t, prof = page.t, page.prof
    m_in = manifest["input"]
    defs = manifest.get("definitions", {})
    title = t("report.title")
    rows = manifest["rows"]
    meta = [
        (t("meta.input"), f"{m_in['file']} ({m_in['format']}, sha256 {m_in['sha256'][:16]}…)"),
        (t("meta.rows"), f"{t.num(rows['in'])} / {t.num(rows['out'])}"),
        (t("meta.version"), manifest["psyscreen_version"]),
    ]
    if prof is not None:
        meta.append((t("meta.profile"), f"{prof.id} {prof.version} — {t.text(prof.title)}"))
    insts = ", ".join(f"{i['id']} {i['version']}" for i in defs.get("instruments", []))
    meta.append((t("meta.instruments"), insts or t("meta.none")))
    meta.append((t("meta.norms"), ", ".join(sorted(page.stats.norm_tables)) or t("meta.none")))
    lang = "zh-CN" if page.lang == "zh" else "en"
    out = [
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>",
        f"<title>{_e(title)}</title>",
        f"<style>{STYLE}</style></head><body><h1>{_e(title)}</h1>",
        f"<p class='note'>{_e(t('report.audience'))} {_e(t('report.not_diagnosis'))}</p>",
        "<table class='meta'>",
    ]
    out += [f"<tr><th class='l'>{_e(a)}</th><td class='l'>{_e(b)}</td></tr>" for a, b in meta]
    return "".join(out) + "</table>"


def _key_figures(page: _Page, overall: np.ndarray, top: Suppressed, cols: _Columns) -> str:
    """The line above the chart: crisis, of which by a critical item, and the merged top."""
    prof, t, k = page.prof, page.t, page.k
    if prof is None or not cols.merge:
        return ""
    j = cols.merge[-1]
    crisis = None if top.hidden[0, j] else int(overall[j])
    critical = shown_critical(crisis, int(page.stats.critical.get("critical_item", 0)), k)
    merged = None if top.merged_hidden[0] else int(top.merged[0])

    def show(n: int | None) -> str:
        return t("cell.placeholder", k=k) if n is None else t.num(n)

    text = t(
        "key.crisis",
        crisis=show(crisis),
        critical=show(critical),
        merged=page.merged_name(cols),
        top=show(merged),
    )
    return f"<p class='key' id='key-figures'>{_e(text)}</p>"


def _level_chart(page: _Page, overall: np.ndarray, top: Suppressed, cols: _Columns) -> str:
    items = []
    for j, code in enumerate(cols.codes):
        colour = charts.COLOURS.get(outcome_colour(page.prof, code), "#757575")
        value = None if top.hidden[0, j] else int(overall[j])
        items.append((outcome_name(page.prof, code, page.lang), value, colour))
        if cols.merge and j == cols.merge[-1]:
            m = None if top.merged_hidden[0] else int(top.merged[0])
            items.append((page.merged_name(cols), m, charts.COLOURS["red"]))
    hidden = f"{page.t('cell.placeholder', k=page.k)} {page.t('cell.suppressed')}"
    return charts.bar_chart(items, page.t("chart.levels"), hidden)


def _suppress(page: _Page, cols: _Columns, overall: np.ndarray, grouped: list) -> tuple:
    """(overall, tables, class tables) suppressed together until they agree."""
    from .class_view import class_tables

    arrs = [g[3] for g in grouped]
    dims = [g[0] for g in grouped]
    forced: list[np.ndarray | None] = [None] * len(arrs)
    class_counts = page.counts("class") if page.stats.by_group.get("class") else {}
    for _ in range(sum(a.size for a in arrs) + 1):
        top, tables = suppress_tables(overall, arrs, cols.tiers, cols.merge, page.k, forced=forced)
        school = tables[dims.index("school")] if "school" in dims else None
        if not class_counts or school is None:
            return top, tables, []
        s = dims.index("school")
        _d, labels, keys, arr = grouped[s]
        classes, need = class_tables(class_counts, labels, keys, arr, school, cols, page.t, page.k)
        if need is None:
            return top, tables, classes
        forced[s] = need if forced[s] is None else (forced[s] | need)
    raise RuntimeError("suppression did not converge: this is a bug in psyscreen")


def _scale_section(page: _Page) -> str:
    stats, t, k = page.stats, page.t, page.k
    out = []
    for s in stats.scales:
        inst_id, scale_id = s.split(".", 1)
        table_ref = next((r for r in sorted(stats.norm_tables) if r.startswith(inst_id)), None)
        name = scale_name(page.prof, inst_id, scale_id, page.lang)
        out.append(f"<h3>{_e(name)}</h3>")
        bands = stats.band_counts[s]
        if bands:
            order = band_order(page.prof, inst_id, scale_id, table_ref)
            names = sorted(bands, key=lambda b: (order.index(b) if b in order else len(order), b))
            arr = np.array([[bands[b] for b in names]], dtype=np.int64)
            klass = [
                band_info(page.prof, inst_id, scale_id, b, page.lang, table_ref)[2] for b in names
            ]
            tiers = [{"borderline": 1, "abnormal": 2}.get(c, 0) for c in klass]
            res = suppress_table(arr, tiers, threshold=k)
            total = int(arr.sum())
            heads = []
            for b in names:
                if b == "(no score)":
                    heads.append(t("band.no_score"))
                    continue
                label, interval, _ = band_info(
                    page.prof, inst_id, scale_id, b, page.lang, table_ref
                )
                heads.append(f"{label} {interval}".strip())
            out.append("<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in heads) + "</tr><tr>")
            out += [
                page.cell(int(arr[0, j]), total, bool(res.hidden[0, j])) for j in range(len(names))
            ]
            out.append("</tr></table>")
        hist = stats.raw_hist[s]
        if sum(hist.values()) >= k:
            out.append(_hist(page, s, inst_id, scale_id, name))
    return "".join(out)


def _hist(page: _Page, s: str, inst_id: str, scale_id: str, name: str) -> str:
    hist = page.stats.raw_hist[s]
    xs = sorted(hist)
    arr = np.array([[hist[x] for x in xs]], dtype=np.int64)
    res = suppress_table(arr, [0] * len(xs), threshold=page.k)
    bars: list[tuple[float, int | None, str]] = []
    source_norm = band_source(page.prof, inst_id) == "norm"
    for j, x in enumerate(xs):
        if res.hidden[0, j]:
            bars.append((x, None, ""))
            continue
        colour = "#757575"
        if not source_norm:
            inst = page.prof.instrument(inst_id) if page.prof is not None else None
            sc = inst.scale(scale_id) if inst is not None else None
            for b in sc.bands[0].bands if sc is not None and sc.bands else []:
                if b.contains(x):
                    colour = charts.BAND_COLOURS.get(b.classification, colour)
        bars.append((x, int(arr[0, j]), colour))
    legend = (
        []
        if source_norm
        else [(page.t(f"bandclass.{c}"), colour) for c, colour in charts.BAND_COLOURS.items()]
    )
    title = page.t("chart.hist", scale=name, k=page.k)
    hidden = f"{page.t('cell.placeholder', k=page.k)}"
    return charts.histogram(bars, title, name, legend, hidden)


def _quality_section(page: _Page) -> str:
    stats, t = page.stats, page.t
    out = [
        f"<h3>{_e(t('quality.rows'))}</h3><table><tr><th class='l'>{_e(t('quality.row_status'))}"
        f"</th><th>{_e(t('quality.count'))}</th></tr>"
    ]
    for key in ("ok", "problems", "unreadable"):
        out.append(
            f"<tr><td class='l'>{_e(t('quality.' + key))}</td>"
            f"<td>{t.num(stats.row_status.get(key, 0))}</td></tr>"
        )
    out.append("</table>")
    if stats.problem_counts:
        out.append(
            f"<h3>{_e(t('quality.by_column'))}</h3>"
            f"<p class='note'>{_e(t('quality.by_column_note'))}</p>"
            f"<table><tr><th class='l'>{_e(t('quality.field'))}</th><th class='l'>"
            f"{_e(t('quality.column'))}</th><th class='l'>{_e(t('quality.problem'))}</th>"
            f"<th>{_e(t('quality.count'))}</th></tr>"
        )
        for (f, p), n in sorted(stats.problem_counts.items()):
            col = stats.plan.headers.get(f, f)
            out.append(
                f"<tr><td class='l'>{_e(f)}</td><td class='l'>{_e(col)}</td>"
                f"<td class='l'>{_e(t.get('problem.' + p, p))}</td><td>{t.num(n)}</td></tr>"
            )
        out.append("</table>")
    if stats.instrument_status:
        names = ["complete", "partial", "insufficient", "invalid_response", "not_answered"]
        out.append(
            f"<h3>{_e(t('quality.instruments'))}</h3><table><tr><th class='l'>"
            f"{_e(t('quality.instrument'))}</th>"
        )
        out += [f"<th>{_e(t('istatus.' + n))}</th>" for n in names] + ["</tr>"]
        for inst in stats.plan.instruments:
            out.append(f"<tr><td class='l'>{_e(t.text(inst.title))}</td>")
            out += [
                f"<td>{t.num(stats.instrument_status.get((inst.id, n), 0))}</td>" for n in names
            ]
            out.append("</tr>")
        out.append("</table>")
    return "".join(out)
