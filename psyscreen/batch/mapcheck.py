"""A dry run of a mapping against an export (``psyscreen map check``): what would go wrong.

Nothing is scored and nothing is written. The check reads the export's headers and
streams only the mapped item columns (bounded memory: counts of distinct texts and
running sums), then reports

* every mapped header that is missing, with "did you mean";
* instruments the profile needs that the export lacks;
* every answer text in a mapped item column that the mapping does not cover, with its
  count (answer options are not personal data; texts are cut at 40 characters; no value
  of an unmapped or free-text column is ever read);
* columns that look 1-based (codes one above the scale: option numbers);
* columns that look reversed (texts mapped against the order of the instrument's own
  labels, or an item whose answers run against the rest of its scale: item-rest
  correlation below -0.2 over at least 30 complete rows);
* instruments whose answers are read by their own response labels (no ``answers:``).

Example:
    >>> f = Finding("missing_header", "phq9_1", "'PHQ9_1'", ["'PHQ9-1'"])
    >>> print(f.line("en"))
    missing header: phq9_1: 'PHQ9_1' (did you mean 'PHQ9-1'?)
    >>> print(f.line("zh"))
    缺少列：phq9_1：'PHQ9_1'（是否应为 'PHQ9-1'？）
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..definitions import Instrument
from .exportscan import ColumnTexts, shown
from .mapanswers import MAX_UNMAPPED_SHOWN
from .mapping import (
    MappingSpec,
    answer_key,
    did_you_mean,
    is_number,
    label_codes,
    map_answers,
)

#: finding kind -> (en, zh) title; ``info`` kinds do not fail the check
KINDS: dict[str, tuple[str, str]] = {
    "missing_header": ("missing header", "缺少列"),
    "missing_instrument": ("instrument not in the export", "导出文件缺少量表"),
    "unmapped_text": ("answer text not mapped", "未映射的答案文本"),
    "one_based": ("looks 1-based (option numbers)", "疑似按选项序号（从1开始）"),
    "reversed": ("looks reversed", "疑似反向"),
    "labels_used": ("answers read by the instrument's own labels", "按量表自带选项文本读取答案"),
}
INFO = {"labels_used"}
#: an item-rest correlation below this (with enough rows) reads as a reversed column
REVERSED_R = -0.2
MIN_ROWS_R = 30


@dataclass
class Finding:
    """One thing the check found: kind, what it is about, detail, suggestions."""

    kind: str
    subject: str
    detail: str | tuple[str, str] = ""  # one text, or (English, Chinese)
    suggestions: list[str] = field(default_factory=list)

    def line(self, lang: str = "zh") -> str:
        """One line for a person, in ``lang`` (zh or en)."""
        title = KINDS[self.kind][1 if lang == "zh" else 0]
        sep, open_, close = ("：", "（", "）") if lang == "zh" else (": ", " (", ")")
        text = f"{title}{sep}{self.subject}"
        detail = self.detail
        if isinstance(detail, tuple):
            detail = detail[1 if lang == "zh" else 0]
        if detail:
            text += f"{sep}{detail}"
        if self.suggestions:
            alts = " / ".join(self.suggestions)
            text += (
                f"{open_}是否应为 {alts}？{close}"
                if lang == "zh"
                else (f"{open_}did you mean {alts}?{close}")
            )
        return text


@dataclass
class CheckReport:
    """Findings of :func:`check_mapping`, and how many rows were read."""

    findings: list[Finding]
    rows: int

    @property
    def ok(self) -> bool:
        """True when nothing needs fixing (informational findings aside)."""
        return not any(f.kind not in INFO for f in self.findings)

    def text(self, lang: str = "zh") -> str:
        """The report for a person."""
        head = (
            f"检查了 {self.rows} 行（未计分，未写出任何文件）"
            if lang == "zh"
            else f"checked {self.rows} rows (nothing scored, nothing written)"
        )
        lines = [head] + [f.line(lang) for f in self.findings]
        if any(f.kind == "missing_instrument" for f in self.findings):
            lines.append(
                "可用 --profile 选择适合此导出文件的方案（psyscreen profiles），或用 --instruments "
                "只计分不分级"
                if lang == "zh"
                else "choose a profile for this export with --profile (see psyscreen profiles), "
                "or score without risk levels with --instruments"
            )
        if self.ok:
            lines.append("映射可以使用。" if lang == "zh" else "the mapping can be used.")
        return "\n".join(lines) + "\n"


def check_mapping(
    export: str | Path,
    mapping: str | Path | MappingSpec,
    *,
    profile: Any = "default",
    instruments: Sequence[Any] | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    max_rows: int | None = None,
    chunk_rows: int = 50_000,
) -> CheckReport:
    """Check ``mapping`` against ``export`` without scoring (see the module docstring).

    ``instruments`` instead of ``profile``: check for a scores-only run.

    Example:
        >>> rep = check_mapping("examples/wjx_export.csv", "examples/wjx_mapping.yaml",
        ...                     instruments=["phq9", "gad7"])  # doctest: +SKIP
        >>> rep.ok, [f.kind for f in rep.findings]  # doctest: +SKIP
        (True, ['labels_used', 'labels_used'])
    """
    from .io import open_source
    from .plan import _mapping, _resolve_profile

    spec = _mapping(mapping)[0]
    prof, insts = _resolve_profile(profile, instruments)
    src = open_source(
        export,
        encoding=encoding or spec.encoding,
        sheet=sheet or spec.sheet,
        value_labels=spec.value_labels,
    )
    present = list(src.headers)
    findings: list[Finding] = []
    for role, h in spec.role_headers().items():
        if h not in present:
            findings.append(_missing(role, h, present))
    for h in spec.keep:
        if h not in present:
            findings.append(_missing("keep", h, present))
    checked: list[Instrument] = []
    for inst in insts:
        gone = [i for i in inst.item_ids if spec.header(i) not in present]
        if len(gone) == len(inst.item_ids):
            needed = prof is not None and prof.entry(inst.id).required
            why = (
                (f"profile {prof.id} needs it", f"方案 {prof.id} 需要")
                if needed
                else ("asked for with --instruments", "--instruments 中指定")
            )
            if prof is None or needed:
                findings.append(Finding("missing_instrument", inst.id, why))
            continue
        findings += [_missing(i, spec.header(i), present) for i in gone]
        checked.append(inst)
    for inst in checked:
        if not any(spec.names_answers(i, inst.id) for i in inst.item_ids) and label_codes(
            inst, inst.item_ids[0]
        ):
            findings.append(Finding("labels_used", inst.id, _labels(inst)))
    cols = {
        i: spec.header(i) for inst in checked for i in inst.item_ids if spec.header(i) in present
    }
    tables = {
        i: spec.answer_table(i, inst.id, label_codes(inst, i))
        for inst in checked
        for i in inst.item_ids
        if i in cols
    }
    texts = {i: ColumnTexts() for i in cols}
    sums = {i: np.zeros(6) for i in cols}  # n, x, y, xy, xx, yy (item vs rest of its scale)
    rows = 0
    headers = list(dict.fromkeys(cols.values()))
    for chunk in src.chunks(headers, headers, chunk_rows):
        if max_rows is not None and rows + len(chunk) > max_rows:
            chunk = chunk.iloc[: max_rows - rows]
        codes = {}
        for i, h in cols.items():
            texts[i].add(chunk[h])
            codes[i] = _numbers(map_answers(chunk[h], tables[i]))
        for inst in checked:
            _rest_sums(inst, codes, sums)
        rows += len(chunk)
        if max_rows is not None and rows >= max_rows:
            break
    for inst in checked:
        for i in inst.item_ids:
            if i in cols:
                findings += _column_findings(inst, i, cols[i], texts[i], tables[i], sums[i])
    return CheckReport(findings, rows)


def _missing(what: str, header: str, present: list[str]) -> Finding:
    return Finding(
        "missing_header", what, repr(header), [repr(h) for h in did_you_mean(header, present)]
    )


def _labels(inst: Instrument) -> str:
    rs = inst.response_scales[inst.item(inst.item_ids[0]).response_scale]
    return ", ".join(
        f"{' / '.join(t for t in (lab.zh, lab.en) if t)}={c}"
        for c, lab in sorted(rs.labels.items())
    )


def _valid_codes(inst: Instrument, item: str) -> set[str]:
    rs = inst.response_scales[inst.item(item).response_scale]
    ok = {str(c) for c in range(rs.min, rs.max + 1)}
    return ok | {str(c.code) for c in rs.codes} | {str(m) for m in rs.missing_codes}


def _column_findings(
    inst: Instrument, item: str, header: str, texts: ColumnTexts, table: dict[str, str], s
) -> list[Finding]:
    out: list[Finding] = []
    valid = _valid_codes(inst, item)
    rs = inst.response_scales[inst.item(item).response_scale]
    mapped: set[int] = set()
    unmapped: list[Finding] = []
    for t in texts.texts:
        code = table.get(answer_key(t), t)
        if code == "":
            continue
        if code not in valid:
            detail: str | tuple[str, str] = f"{shown(t)!r} × {texts.counts[t]}"
            if is_number(code):  # a number the mapping lets through, outside the scale
                detail = (
                    f"{detail}, not a code of {rs.min}..{rs.max}",
                    f"{detail}，不是 {rs.min}..{rs.max} 的编码",
                )
            unmapped.append(Finding("unmapped_text", f"{item} ({header!r})", detail))
        if is_number(code):
            mapped.add(int(float(code)))
    if len(unmapped) > MAX_UNMAPPED_SHOWN:  # free text, not answer options: show none
        n = sum(texts.counts[t] for t in texts.texts if table.get(answer_key(t), t) not in valid)
        unmapped = [
            Finding(
                "unmapped_text",
                f"{item} ({header!r})",
                (
                    f"{len(unmapped)} different texts in {n} cells: looks like free text "
                    "(not shown)",
                    f"{n} 个单元格中有 {len(unmapped)} 种文本：像是开放文本（不显示）",
                ),
            )
        ]
    out += unmapped
    if texts.other:
        out.append(
            Finding(
                "unmapped_text",
                f"{item} ({header!r})",
                (f"{texts.other} cells of further texts", f"另有 {texts.other} 个单元格的其他文本"),
            )
        )
    if rs.max + 1 in mapped and rs.min not in mapped:
        vals = sorted(v for v in mapped if v > rs.min)
        out.append(
            Finding(
                "one_based",
                f"{item} ({header!r})",
                (
                    f"values {vals[0]}..{vals[-1]}, codes {rs.min}..{rs.max}",
                    f"取值 {vals[0]}..{vals[-1]}，编码为 {rs.min}..{rs.max}",
                ),
            )
        )
    labels = label_codes(inst, item)
    flipped = [
        t
        for t in texts.texts
        if answer_key(t) in labels
        and answer_key(t) in table
        and table[answer_key(t)] != labels[answer_key(t)]
        and table[answer_key(t)] == str(rs.min + rs.max - int(labels[answer_key(t)]))
    ]
    if flipped:
        pairs = ", ".join(f"{shown(t)!r}->{table[answer_key(t)]}" for t in flipped[:4])
        out.append(
            Finding(
                "reversed",
                f"{item} ({header!r})",
                (
                    "mapped against the instrument's labels: " + pairs,
                    "映射与量表选项顺序相反：" + pairs,
                ),
            )
        )
    n, x, y, xy, xx, yy = s
    if n >= MIN_ROWS_R:
        cov = xy / n - (x / n) * (y / n)
        var = (xx / n - (x / n) ** 2) * (yy / n - (y / n) ** 2)
        r = cov / np.sqrt(var) if var > 0 else 0.0
        if r < REVERSED_R:
            out.append(
                Finding(
                    "reversed",
                    f"{item} ({header!r})",
                    (
                        f"item-rest correlation {r:.2f} over {int(n)} rows",
                        f"与同一分量表其余题目的相关系数为 {r:.2f}（{int(n)} 行）",
                    ),
                )
            )
    return out


def _numbers(col: pd.Series) -> np.ndarray:
    """Mapped answers as floats (NaN for text or blank), converting each category once."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = pd.to_numeric(pd.Series(col.cat.categories, dtype=object), errors="coerce")
        values = np.append(cats.to_numpy(dtype=float), np.nan)
        return values[col.cat.codes.to_numpy()]  # code -1 (missing) takes the last, NaN
    return pd.to_numeric(col.astype(object), errors="coerce").to_numpy(dtype=float)


def _rest_sums(inst: Instrument, codes: dict[str, np.ndarray], sums: dict[str, np.ndarray]) -> None:
    """Add this chunk to each item's running sums against the rest of its largest scale."""
    scales = sorted((s for s in inst.scales if not s.is_composite), key=lambda s: -len(s.items))
    for item in inst.item_ids:
        if item not in codes:
            continue
        scale = next((s for s in scales if item in s.items), None)
        if scale is None or len(scale.items) < 3 or not all(i in codes for i in scale.items):
            continue
        rs = inst.response_scales[inst.item(item).response_scale]
        keyed = np.column_stack(
            [(rs.min + rs.max - codes[i]) if inst.is_reverse(i) else codes[i] for i in scale.items]
        )
        own = keyed[:, scale.items.index(item)]
        rest = np.nansum(keyed, axis=1) - own
        ok = np.isfinite(keyed).all(axis=1)
        if not ok.any():
            continue
        a, b = own[ok], rest[ok]
        sums[item] += [len(a), a.sum(), b.sum(), (a * b).sum(), (a * a).sum(), (b * b).sum()]
