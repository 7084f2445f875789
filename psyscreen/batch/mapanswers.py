"""How the answer texts of matched columns become codes in a proposed mapping (``map init``).

The distinct texts of an instrument's matched columns (one response scale at a time)
are compared with its own response labels after
:func:`~psyscreen.batch.mapping.answer_key`:

* every text a label (or a "not answered" text): no table, the labels apply;
* only integers: codes as they are, 1-based option numbers (问卷星 "按选项序号": the
  scale's top code plus one appears, e.g. ``4`` for codes ``0..3``) get an explicit table,
  numbers that fit both readings get the table commented out;
* otherwise an explicit table: the labels found, texts close to one label (rapidfuzz
  ``WRatio`` >= 88 with a margin of 5 over the next label) with a comment, and the rest
  listed as not mapped with the closest labels. More than :data:`MAX_UNMAPPED_SHOWN`
  unmapped texts read as free text: none is shown.

Example:
    >>> from psyscreen import load_instrument
    >>> from psyscreen.batch.exportscan import ColumnTexts
    >>> t = ColumnTexts(counts={"1": 5, "2": 3, "4": 1})
    >>> plan, missing = plan_answers(load_instrument("gad7"), ["gad7_1"], {"gad7_1": t})
    >>> plan.mode, plan.codes["4"]
    ('option_numbers', 3.0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..definitions import Instrument
from .exportscan import ColumnTexts, shown
from .mapping import answer_key, label_codes

#: answer texts that mean "not answered" on common platforms (compared after answer_key)
MISSING_TEXTS = ("未作答", "未答", "(跳过)", "跳过", "(空)", "空", "n/a", "-")
#: more distinct unmapped texts than this in a column: free text, none is shown
MAX_UNMAPPED_SHOWN = 20


@dataclass
class AnswerPlan:
    """How the answer texts of one group of item columns become codes."""

    instrument: str
    items: list[str]
    mode: str  # labels, codes, option_numbers, ambiguous_numbers, table, empty
    codes: dict[str, float | None] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (en, zh)
    unmapped: list[tuple[str, int, list[str]]] = field(default_factory=list)


def _int(key: str) -> int | None:
    m = re.fullmatch(r"[+-]?\d+(?:\.0+)?", key)
    return int(float(key)) if m else None


def plan_answers(
    inst: Instrument, items: list[str], texts: dict[str, ColumnTexts]
) -> tuple[AnswerPlan, list[str]]:
    """(answer plan, missing-answer texts found) for items of one response scale."""
    from rapidfuzz import fuzz

    labels = label_codes(inst, items[0])
    rs = inst.response_scales[inst.item(items[0]).response_scale]
    pooled: dict[str, int] = {}
    for col in texts.values():
        for text, n in col.counts.items():
            pooled[text] = pooled.get(text, 0) + n
    missing = [t for t in pooled if answer_key(t) in {answer_key(m) for m in MISSING_TEXTS}]
    rest = {t: n for t, n in pooled.items() if t not in missing}
    plan = AnswerPlan(inst.id, items, "empty")
    if not rest:
        plan.notes.append(("no answers in the sample", "样本中没有答案"))
        return plan, missing
    labelled = {t: labels[answer_key(t)] for t in rest if answer_key(t) in labels}
    ints = {t: _int(answer_key(t)) for t in rest if t not in labelled}
    numbers = {t: v for t, v in ints.items() if v is not None}
    others = [t for t in rest if t not in labelled and t not in numbers]
    label_list = ", ".join(
        f"{' / '.join(t for t in (lab.zh, lab.en) if t)}={c}"
        for c, lab in sorted(rs.labels.items())
    )
    if not others and not numbers:
        plan.mode = "labels"
        plan.notes.append(
            (
                f"every text is one of {inst.id}'s own response labels ({label_list})",
                f"所有文本都是 {inst.id} 自带的选项文本（{label_list}），无需对照表",
            )
        )
        return plan, missing
    if not others and not labelled:
        vals = set(numbers.values())
        lo, hi = rs.min, rs.max
        k = hi - lo + 1
        extra = {str(c.code) for c in rs.codes} | {str(m) for m in rs.missing_codes}
        plain = {v for v in vals if str(v) not in extra}
        if plain <= set(range(lo, hi + 1)) and (lo in plain or lo >= 1):
            plan.mode = "codes"
            plan.notes.append(
                (f"the cells are already codes {lo}..{hi}", f"单元格已是编码 {lo}..{hi}")
            )
        elif plain <= set(range(1, k + 1)) and k in plain:
            plan.mode = "option_numbers"
            plan.codes = {str(j): float(lo + j - 1) for j in range(1, k + 1)}
            plan.notes.append(
                (
                    f"the cells are 1-based option numbers 1..{k} (问卷星 '按选项序号' export): "
                    f"option j is code {lo}+j-1, assuming the options were listed in code order",
                    f"单元格是从 1 开始的选项序号 1..{k}（问卷星“按选项序号”导出）：第 j 个选项"
                    f"对应编码 {lo}+j-1，前提是选项按编码顺序排列",
                )
            )
        elif plain <= set(range(1, hi + 1)):
            plan.mode = "ambiguous_numbers"
            plan.codes = {str(j): float(lo + j - 1) for j in range(1, k + 1)}
            plan.notes.append(
                (
                    f"numbers {min(plain)}..{max(plain)} fit both codes {lo}..{hi} and option "
                    f"numbers 1..{k}: check the export settings; the table for option numbers "
                    "is written commented out",
                    f"数字 {min(plain)}..{max(plain)} 既可能是编码 {lo}..{hi}，也可能是选项序号 "
                    f"1..{k}：请核对导出设置；按选项序号的对照表以注释形式写出",
                )
            )
        else:
            plan.mode = "codes"
            plan.notes.append(
                (
                    f"numbers outside {lo}..{hi} and outside 1..{k}: they will be flagged "
                    "out_of_range",
                    f"有超出 {lo}..{hi} 和 1..{k} 的数字：计分时会标记为超出范围",
                )
            )
        return plan, missing
    plan.mode = "table"
    plan.codes = {t: float(c) for t, c in labelled.items() if _int(c) is not None}
    for t in [*numbers, *others]:
        scored = sorted(
            ((float(fuzz.WRatio(answer_key(t), lab)), lab) for lab in labels),
            reverse=True,
        )
        best = scored[0] if scored else (0.0, "")
        second = scored[1][0] if len(scored) > 1 else 0.0
        code = labels.get(best[1])
        if best[0] >= 88 and best[0] - second >= 5 and code is not None and _int(code) is not None:
            plan.codes[t] = float(code)
            plan.notes.append(
                (
                    f"{shown(t)!r} read as label {best[1]!r} (similarity {best[0]:.0f})",
                    f"{shown(t)!r} 按选项 {best[1]!r} 读取（相似度 {best[0]:.0f}）",
                )
            )
        else:
            near = [f"{lab}={labels[lab]}" for sc, lab in scored[:3] if sc >= 50]
            plan.unmapped.append((t, rest[t], near))
    if len(plan.unmapped) > MAX_UNMAPPED_SHOWN:  # free text, not answer options: show none
        n = sum(c for _, c, _ in plan.unmapped)
        plan.notes.append(
            (
                f"{len(plan.unmapped)} different texts ({n} cells) match no label: this looks "
                "like free text, not answer options (not shown); check the column",
                f"{len(plan.unmapped)} 种文本（{n} 个单元格）与任何选项都不匹配：像是开放文本而"
                "不是选项（不显示）；请核对该列",
            )
        )
        plan.unmapped = []
    return plan, missing
