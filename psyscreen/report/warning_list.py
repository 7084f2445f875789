"""The warning list (预警名单): the children to act on, for the people responsible.

One row per child at a level above the lowest, or with a status that asks for
re-testing (invalid response, insufficient data, an unreadable line): never a
child at the lowest level, never anyone left out because a value was missing.
Rows are sorted by urgency (the highest level first, then re-test statuses,
then unreadable lines; then school, grade, class and row), and carry the row
number, id (or pseudonym), school, grade, class, level, the reasons with the
scores and thresholds that fired, the actions, the dates by which contact,
visit, confirmation and re-test are due (assessment date + the profile's
interval from the results columns ``risk.contact_days``, ``risk.visit_days``,
``risk.confirm_days`` when the profile has it, ``risk.retest_days``) and a
blank column for the worker's notes.

It is confidential (机密) and never produced by default: the HTML (one school
per printed page) and XLSX outputs say so on every page / at the top.

Built from a results DataFrame (the flat result columns), so any source of
results can feed it: a run's results file (:func:`read_results`), a Dask
partition, the archive's due list.

Example:
    >>> import pandas as pd
    >>> res = pd.DataFrame({
    ...     "row": [0, 1, 2], "id": ["S1", "S2", "S3"], "school": ["一中"] * 3,
    ...     "risk.status": ["level", "level", "insufficient_data"],
    ...     "risk.level": [0, 3, None], "risk.level_code": ["normal", "crisis", None],
    ...     "risk.contact_days": [30, 1, None], "assessment_date": ["2024-10-08"] * 3,
    ... })
    >>> wl = warning_list(res)
    >>> wl.rows["row"].tolist(), wl.rows["contact_due"].tolist()
    (['1', '2'], ['2024-10-09', '方案未规定'])
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import columns as colnames
from .. import demographics as demo
from . import charts
from .aggregate import _natural_key
from .i18n import Messages
from .labels import (
    band_info,
    band_source,
    norm_band_detail,
    outcome_colour,
    outcome_name,
    scale_name,
)

#: the columns of :attr:`WarningList.rows`, in order (catalogue ids ``wl.<name>``)
COLUMNS = (
    "row",
    "id",
    "school",
    "grade",
    "class",
    "level",
    "reasons",
    "actions",
    "assessed",
    "contact_due",
    "visit_due",
    "confirm_due",
    "retest_due",
    "notes",
)
#: due-date columns and the results column of their interval (days)
DUE = {
    "contact_due": "risk.contact_days",
    "visit_due": "risk.visit_days",
    "confirm_due": "risk.confirm_days",
    "retest_due": "risk.retest_days",
}


@dataclass
class WarningList:
    """The listed children (``rows``: :data:`COLUMNS` plus ``level_code``, ``colour``)."""

    rows: pd.DataFrame
    lang: str = "zh"
    pseudonymised: bool = False
    profile: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def schools(self) -> list[tuple[str, pd.DataFrame]]:
        """(school, its rows in urgency order) in the order of the schools' names."""
        key = self.rows["school"].fillna("")
        return [(s, self.rows[key == s]) for s in sorted(key.unique())]


def _text(col: pd.Series | None, n: int) -> pd.Series:
    if col is None:
        return pd.Series([""] * n, dtype=object)
    out = col.astype(object).where(col.notna(), "")
    return out.map(lambda v: "" if v is None else str(v)).reset_index(drop=True)


def _num(col: pd.Series | None, n: int) -> np.ndarray:
    if col is None:
        return np.full(n, np.nan)
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)


def _flag(col: pd.Series | None, n: int) -> np.ndarray:
    if col is None:
        return np.zeros(n, dtype=bool)
    return col.astype(str).str.lower().isin(["true", "1", "1.0"]).to_numpy()


def warning_list(
    results: pd.DataFrame,
    profile: Any = "default",
    lang: str = "zh",
    pseudonymised: bool = False,
) -> WarningList:
    """The warning list of a results DataFrame (see the module docstring).

    ``profile``: the risk profile (id, path or object) whose names and bands are
    used for the texts; the levels and intervals themselves are read from the
    results. ``pseudonymised``: the ``id`` column holds pseudonyms.
    """
    from ..risk import load_profile

    prof = load_profile(profile) if profile is not None else None
    t = Messages(lang)
    res = results.reset_index(drop=True)
    n = len(res)
    status = _text(res.get("risk.status"), n)
    code = _text(res.get("risk.level_code"), n)
    level = _num(res.get("risk.level"), n)
    row_status = _text(res.get("row.status"), n)
    lowest = prof.levels[0].code if prof is not None else "normal"
    unreadable = (row_status == "unreadable").to_numpy()
    at_lowest = ((status == "level") & (code == lowest)).to_numpy() & ~unreadable
    keep = ~at_lowest & ~((status == "") & (row_status != "unreadable")).to_numpy()
    # urgency: highest level first; re-test statuses after the levels; unreadable last
    urgency = np.where(status == "level", level, np.where(unreadable, -2.0, -1.0))
    urgency = np.where(np.isnan(urgency), -1.0, urgency)
    res = res[keep].copy()
    res["_urgency"] = -urgency[keep]
    for c in ("school", "grade", "class"):
        res[f"_{c}"] = _text(res.get(c), len(res)).to_numpy()
    res["_row"] = _num(res.get("row"), len(res))
    grade_no, _ = demo.parse_grade(res["_grade"].replace("", None))
    res["_grade_no"] = grade_no.fillna(99).to_numpy()
    res["_class_key"] = res["_class"].map(_natural_key)
    res = res.sort_values(
        ["_urgency", "_school", "_grade_no", "_grade", "_class_key", "_row"], kind="stable"
    )
    res = res.reset_index(drop=True)
    m = len(res)
    codes = _text(res.get("risk.level_code"), m)
    unread = (_text(res.get("row.status"), m) == "unreadable").to_numpy()
    codes = codes.where(~unread, "unreadable")
    out = pd.DataFrame(
        {
            "row": res["_row"].map(lambda v: "" if v != v else f"{int(v)}"),
            "id": _text(res.get("id"), m),
            "school": res["_school"],
            "grade": res["_grade"],
            "class": res["_class"],
            "level": [outcome_name(prof, c, lang) for c in codes],
            "reasons": _reasons(res, prof, t, unread),
            "actions": _text(res.get("risk.actions_zh" if lang == "zh" else "risk.actions_en"), m),
            "assessed": "",
        }
    )
    dates, dstatus = demo.parse_dates(_text(res.get("assessment_date"), m).replace("", None))
    out["assessed"] = [
        d.strftime("%Y-%m-%d") if s == demo.OK else "" for d, s in zip(dates, dstatus)
    ]
    confirm = _flag(res.get("risk.needs_confirmation"), m)
    for name, col in DUE.items():
        out[name] = _due(res, col, dates, dstatus, t, confirm if name == "confirm_due" else None)
    out["notes"] = ""
    out["level_code"] = codes.to_numpy()
    out["colour"] = [charts.COLOURS.get(outcome_colour(prof, c), "#757575") for c in codes]
    ref = f"{prof.id}@{prof.version}" if prof is not None else None
    return WarningList(out, lang, pseudonymised, ref)


def _due(
    res: pd.DataFrame,
    col: str,
    dates: pd.Series,
    dstatus: np.ndarray,
    t: Messages,
    confirm: np.ndarray | None,
) -> list[str]:
    m = len(res)
    if col not in res:
        if confirm is None:
            return [t("wl.not_set")] * m
        return [t("wl.confirm_needed") if c else t("wl.not_due") for c in confirm]
    days = _num(res[col], m)
    out = []
    for d, s, k in zip(dates, dstatus, days):
        if k != k:  # no interval for this level or status in the profile
            out.append(t("wl.not_set"))
        elif s == demo.OK:
            out.append((d + pd.Timedelta(days=int(k))).strftime("%Y-%m-%d"))
        else:
            out.append(t("wl.within", n=int(k)))
    return out


def _reasons(res: pd.DataFrame, prof: Any, t: Messages, unread: np.ndarray) -> list[str]:
    """The profile's reasons, then each screening scale outside its normal band with its
    score and band interval, then the critical items that fired (their meaning)."""
    lang = t.lang
    base = _text(res.get("risk.reasons_zh" if lang == "zh" else "risk.reasons"), len(res))
    scales = prof.screening_scales() if prof is not None else []
    crit = []
    if prof is not None:
        for inst_id in prof.instruments:
            for c in prof.instrument(inst_id).critical_items:
                crit.append((colnames.critical(inst_id, c.id), t.text(c.meaning)))
    sep = "；" if lang == "zh" else "; "
    out = []
    for i in range(len(res)):
        if unread[i]:
            out.append(t("wl.unreadable"))
            continue
        parts = [base.iloc[i]] if base.iloc[i] else []
        scores = []
        for s in scales:
            inst_id, scale_id = s.split(".", 1)
            scores += _score(res, i, prof, inst_id, scale_id, t)
        if scores:
            parts.append(t("wl.scores") + sep.join(scores))
        fired = [meaning for col, meaning in crit if col in res and _is_true(res[col].iloc[i])]
        if fired:
            parts.append(t("wl.critical") + sep.join(fired))
        out.append("\n".join(parts))
    return out


def _is_true(v: Any) -> bool:
    return str(v).lower() in ("true", "1", "1.0")


def _score(res: pd.DataFrame, i: int, prof: Any, inst_id: str, scale_id: str, t: Messages):
    norm = band_source(prof, inst_id) == "norm"
    base = colnames.ref(inst_id, scale_id)
    band_col = colnames.field_of(base, "norm_band" if norm else "band")
    klass_col = colnames.field_of(base, "norm_band_class" if norm else "band_class")
    if band_col not in res or klass_col not in res:
        return []
    band, klass = res[band_col].iloc[i], res[klass_col].iloc[i]
    if not isinstance(band, str) or not band or klass == "normal":
        return []
    name = scale_name(prof, inst_id, scale_id, t.lang)
    table = res.get(colnames.field_of(base, "norm_table"))
    ref = str(table.iloc[i]) if table is not None else None
    label, interval, _ = band_info(prof, inst_id, scale_id, band, t.lang, ref)
    raw_cell = res[colnames.field_of(base, "raw")].iloc[i]
    raw = pd.to_numeric(pd.Series([raw_cell]), errors="coerce").iloc[0]
    value = "" if raw != raw else f"{raw:g}"
    if norm:
        # the stratum is written with the norm band it explains
        stratum = res[colnames.field_of(base, "norm_stratum")]
        where, interval = norm_band_detail(ref or "", str(stratum.iloc[i]), band, t.lang)
        table_name = (ref or "").split("@", 1)[0]
        interval = t("wl.norm_detail", interval=interval, table=table_name, stratum=where)
    return [t("wl.scale_score", scale=name, value=value, band=label, interval=interval)]


# ---------------------------------------------------------------------------
# outputs


def headers(wl: WarningList) -> list[str]:
    """Column headers in the list's language."""
    t = Messages(wl.lang)
    return [t("wl.pseudonym") if c == "id" and wl.pseudonymised else t(f"wl.{c}") for c in COLUMNS]


STYLE = """
@page{size:A4 landscape;margin:12mm}
body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','PingFang SC','Microsoft YaHei',
sans-serif;color:#111;margin:1em;font-size:10.5pt}
.page{break-after:page}.page:last-child{break-after:auto}
.conf{border:2px solid #b00;color:#b00;font-weight:bold;padding:.3em .6em;margin:.4em 0}
h1{font-size:1.3em;margin:.2em 0}h2{font-size:1.1em;margin:.4em 0}
table{border-collapse:collapse;width:100%;table-layout:fixed}
td,th{border:1px solid #666;padding:.25em .35em;vertical-align:top;text-align:left;
overflow-wrap:anywhere;word-break:break-word;white-space:pre-line}
th{background:#eee}.lv{font-weight:bold;border-left:6px solid var(--c)}
.notes{height:3.2em}.small{font-size:.9em;color:#333}
"""
#: relative column widths of the HTML table (sums to 100)
_WIDTHS = (4, 8, 0, 5, 5, 6, 22, 16, 7, 7, 7, 7, 7, 12)


def to_html(wl: WarningList) -> str:
    """The list as one HTML page per school, each headed by the confidentiality notice."""
    t = Messages(wl.lang)
    title = t("wl.title")
    heads = headers(wl)
    cols = [c for c in COLUMNS if c != "school"]
    widths = [w for c, w in zip(COLUMNS, _WIDTHS) if c != "school"]
    lang = "zh-CN" if wl.lang == "zh" else "en"
    out = [
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)} - {html.escape(t('wl.secret'))}</title>",
        f"<style>{STYLE}</style></head><body>",
    ]
    groups = wl.schools() or [("", wl.rows)]
    for school, rows in groups:
        out.append("<section class='page'>")
        out.append(f"<div class='conf'>{html.escape(t('wl.confidential'))}</div>")
        out.append(f"<h1>{html.escape(title)}</h1>")
        label = school or t("group.missing")
        out.append(f"<h2>{html.escape(t('wl.page', school=label, n=t.num(len(rows))))}</h2>")
        meta = t("wl.generated")
        if wl.profile:
            meta += f" {t('wl.profile')}: {wl.profile}"
        out.append(f"<p class='small'>{html.escape(meta)}</p>")
        if rows.empty:
            out.append(f"<p>{html.escape(t('wl.none'))}</p></section>")
            continue
        out.append("<table><colgroup>")
        out += [f"<col style='width:{w}%'>" for w in widths]
        out.append("</colgroup><tr>")
        out += [f"<th>{html.escape(h)}</th>" for c, h in zip(COLUMNS, heads) if c != "school"]
        out.append("</tr>")
        for _, r in rows.iterrows():
            out.append("<tr>")
            for c in cols:
                v = html.escape(str(r[c]))
                if c == "level":
                    out.append(f"<td class='lv' style='--c:{r['colour']}'>{v}</td>")
                elif c == "notes":
                    out.append("<td class='notes'></td>")
                else:
                    out.append(f"<td>{v}</td>")
            out.append("</tr>")
        out.append("</table></section>")
    out.append("</body></html>\n")
    return "".join(out)


def to_xlsx(wl: WarningList, path: str | Path) -> Path:
    """The list as one XLSX sheet: the confidentiality notice on top, one row per child.

    Every cell is written as text (a value starting with ``=`` is never a formula).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    t = Messages(wl.lang)
    wb = Workbook()
    ws = wb.active
    ws.title = t("wl.sheet")
    wb.properties.title = f"{t('wl.title')} - {t('wl.confidential')}"
    wb.properties.keywords = "confidential 机密"
    ws.append([t("wl.confidential")])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    ws["A1"].font = Font(bold=True, color="BB0000", size=12)
    ws.append(headers(wl))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for _, r in wl.rows.iterrows():
        ws.append([str(r[c]) for c in COLUMNS])
        for cell in ws[ws.max_row]:
            cell.data_type = "s"
            cell.alignment = wrap
        lv = ws.cell(row=ws.max_row, column=COLUMNS.index("level") + 1)
        lv.fill = PatternFill("solid", fgColor=r["colour"].lstrip("#"))
        lv.font = Font(bold=True, color="FFFFFF" if r["level_code"] != "attention" else "000000")
    widths = (6, 14, 16, 8, 8, 10, 60, 40, 11, 11, 11, 14, 11, 30)
    for k, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(k)].width = w
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = f"A2:{get_column_letter(len(COLUMNS))}{max(ws.max_row, 2)}"
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape"
    ws.oddHeader.center.text = t("wl.confidential")
    path = Path(path)
    wb.save(path)
    return path


def write_warning_list(wl: WarningList, path: str | Path) -> Path:
    """Write ``wl`` as HTML (``.html``/``.htm``) or XLSX (``.xlsx``), by the file's suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".html", ".htm", ".xlsx"):
        raise ValueError(f"warning list: give a .html or .xlsx file, not {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        return to_xlsx(wl, path)
    path.write_text(to_html(wl), encoding="utf-8")
    return path


def read_results(path: str | Path) -> pd.DataFrame:
    """A results file written by ``psyscreen score`` (CSV, XLSX or Parquet), as text."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".xlsx":
        return pd.read_excel(path, dtype=str)
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
