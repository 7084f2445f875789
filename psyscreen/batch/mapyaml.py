"""The YAML text of a proposed mapping (the writing half of ``psyscreen map init``).

Every decision is written with its confidence as a comment, in Chinese or English
(:data:`MESSAGES`); a match that is not clear-cut is written commented out with its
alternatives, so that a person confirms it before it is used.

Example:
    >>> d = Decisions("export.csv", None, [], [], [], {}, [], [], [], [], [], 0)
    >>> for line in render(d, "en").splitlines():
    ...     if not line.startswith("#"):
    ...         print(line)
    mapping_version: 1
    columns: {}  # no id, sex, date or grade column recognised
    items: {}  # no item column matched with confidence
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..definitions import Instrument
from .exportscan import shown
from .mapanswers import AnswerPlan
from .mapmatch import Match

#: message key -> (English, Chinese) for the comments of a proposal
MESSAGES: dict[str, tuple[str, str]] = {
    "title": (
        "Mapping proposed by `psyscreen map init` for {file} ({what}).",
        "由 `psyscreen map init` 为 {file} 提出的映射（{what}）。",
    ),
    "read": (
        "Read every comment, fix what is wrong, then run `psyscreen map check` before scoring.",
        "请逐条阅读注释并改正错误；计分前先运行 `psyscreen map check`。",
    ),
    "unsure": (
        "Lines starting with '#  ' are proposals psyscreen was not sure of: confirm one by\n"
        "removing its '#'. Confidence is 0-1 (1 = the header names the item or role exactly).",
        "以 '#  ' 开头的行是 psyscreen 没有把握的提议：确认时去掉行首的 '#'。\n"
        "置信度为 0-1（1 = 表头准确写出了题目或角色）。",
    ),
    "sample": (
        "Answer texts were read from the first {n} rows of the matched columns only.",
        "答案文本只读取了已匹配列的前 {n} 行。",
    ),
    "profile": ("profile {id}", "方案 {id}"),
    "instruments": ("instruments {ids}", "量表 {ids}"),
    "name": (
        "{h}: recognised as a name column and deliberately not read (names never go into results)",
        "{h}：识别为姓名列，有意不读取（姓名不会进入结果）",
    ),
    "platform": (
        "{h}: a survey-platform column, not needed for scoring",
        "{h}：问卷平台自带的列，计分不需要",
    ),
    "why": ("confidence {c:.2f}, {how}", "置信度 {c:.2f}，{how}"),
    "alts": ("; also: {alts}", "；其他候选：{alts}"),
    "header": ("header {x!r}", "表头 {x!r}"),
    "item": ("item {x}", "题目 {x}"),
    "no_roles": ("no id, sex, date or grade column recognised", "未识别出学号、性别、日期或年级列"),
    "instrument": (
        "{id} ({title}): {n} of {total} items",
        "{id}（{title}）：{total} 题中匹配了 {n} 题",
    ),
    "lacking": ("{id}: no confident column for {items}", "{id}：以下题目没有有把握的列：{items}"),
    "no_items": ("no item column matched with confidence", "没有有把握匹配的题目列"),
    "answers_of": ("answers of {which}: {note}", "{which} 的答案：{note}"),
    "missing": ("not answered", "表示未作答"),
    "nothing_certain": (
        "(nothing certain: confirm the tables below)",
        "（没有确定的对照：请确认下面的对照表）",
    ),
    "not_mapped": ("not mapped ({n} cells); {hint}", "未映射（{n} 个单元格）；{hint}"),
    "closest": ("closest labels: {labels}", "最接近的选项：{labels}"),
    "none_close": ("no label is close", "没有接近的选项"),
    "unmatched": ("Headers not matched (not read):", "未匹配的表头（未读取）："),
    "nearest": (" (nearest items: {items})", "（最接近的题目：{items}）"),
    "profile_lacks": (
        "Profile {id} needs {ids}, not (fully) found in this export: choose another profile\n"
        "(psyscreen profiles) or score without risk levels with --instruments.",
        "方案 {id} 需要 {ids}，但导出文件中没有（完整）找到：请选择其他方案\n"
        "（psyscreen profiles），或用 --instruments 只计分不分级。",
    ),
    "next": (
        "Next: psyscreen map check EXPORT --map THIS_FILE{extra}",
        "下一步：psyscreen map check 导出文件 --map 本文件{extra}",
    ),
    "partly": ("Partly found (fix before scoring): {ids}", "只找到部分题目（计分前请修正）：{ids}"),
}


@dataclass
class Decisions:
    """What :func:`render` writes: the matches and answer plans of one export."""

    export: str | Path
    profile: Any  # the profile the instruments came from, or None
    instruments: list[Instrument]
    roles: list[Match]
    items: list[Match]
    near: dict[str, list[str]]  # unmatched header -> nearest item ids
    unmatched: list[str]
    found: list[str]  # instruments with every item matched
    partial: list[str]  # instruments with some items matched
    plans: list[AnswerPlan]
    missing: list[str]  # answer texts that mean "not answered"
    n_read: int  # rows sampled for answer texts


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _num(v: float | None) -> str:
    return "null" if v is None else (str(int(v)) if float(v).is_integer() else repr(v))


def render(d: Decisions, lang: str = "zh") -> str:
    """The mapping YAML for ``d``, its comments in ``lang`` (zh or en); see the module example."""
    zh = lang == "zh"
    prof, insts, roles, items = d.profile, d.instruments, d.roles, d.items
    near, found, partial, plans, missing = d.near, d.found, d.partial, d.plans, d.missing

    def say(key: str, **kw: Any) -> str:
        return MESSAGES[key][1 if zh else 0].format(**kw)

    def comment(key: str, indent: str = "", **kw: Any) -> list[str]:
        return [f"{indent}# {line}" for line in say(key, **kw).split("\n")]

    def why(m: Match) -> str:
        text = say("why", c=m.score / 100, how=m.how[1 if zh else 0])
        if m.alternatives:
            text += say("alts", alts=", ".join(say(k, x=x) for k, x in m.alternatives))
        return text

    def entry(m: Match) -> str:
        # a match psyscreen is unsure of is written commented out, for a person to confirm
        line = f"{m.target}: {_q(m.header)}  # {why(m)}"
        return f"  {line}" if m.active else f"  #  {line}"

    what = (
        say("profile", id=prof.id)
        if prof is not None
        else say("instruments", ids=", ".join(i.id for i in insts))
    )
    out = [
        *comment("title", file=Path(d.export).name, what=what),
        *comment("read"),
        *comment("unsure"),
        *comment("sample", n=d.n_read),
        "mapping_version: 1",
        "columns:",
    ]
    for m in roles:
        if m.kind in ("name", "platform"):
            out += comment(m.kind, "  ", h=_q(m.header))
        else:
            out.append(entry(m))
    if not any(m.kind == "role" and m.active for m in roles):
        out[out.index("columns:")] = f"columns: {{}}  # {say('no_roles')}"
    out.append("items:")
    any_item = False
    for inst in insts:
        ms = sorted(
            (m for m in items if m.target in inst.item_ids),
            key=lambda m: inst.item_ids.index(m.target),
        )
        got = {m.target for m in ms if m.active}
        out += comment(
            "instrument",
            "  ",
            id=inst.id,
            title=inst.title.best(lang),
            n=len(got),
            total=len(inst.items),
        )
        for m in ms:
            out.append(entry(m))
            any_item = any_item or m.active
        lacking = [x for x in inst.item_ids if x not in got]
        if lacking and len(lacking) < len(inst.item_ids):
            out += comment("lacking", "  ", id=inst.id, items=", ".join(lacking))
    if not any_item:
        out[out.index("items:")] = f"items: {{}}  # {say('no_items')}"
    tables = [p for p in plans if p.mode in ("option_numbers", "ambiguous_numbers", "table")]
    for p in plans:
        if p in tables:
            continue
        which = f"{p.instrument} ({', '.join(p.items)})" if p.items else p.instrument
        for n in p.notes:
            out += comment("answers_of", which=which, note=n[1 if zh else 0])
    if missing:
        texts = ", ".join(_q(m) for m in missing)
        out.append(f"missing_answers: [{texts}]  # {say('missing')}")
    usable = [p for p in tables if p.mode != "ambiguous_numbers" and p.codes]
    if tables:
        out.append("answers:" if usable else f"# answers:  {say('nothing_certain')}")
    for p in tables:
        for n in p.notes:
            out.append(f"  # {p.instrument}: {n[1 if zh else 0]}")
        c = "" if p in usable else "#  "
        target = f"items: [{', '.join(p.items)}]" if p.items else f"instruments: [{p.instrument}]"
        out.append(f"  {c}- {target}")
        out.append(f"  {c}  codes:")
        for t, v in p.codes.items():
            out.append(f"  {c}    {_q(t)}: {_num(v)}")
        for t, count, alts in p.unmapped:
            hint = say("closest", labels=", ".join(alts)) if alts else say("none_close")
            out.append(f"      #  {_q(shown(t))}: ?  # {say('not_mapped', n=count, hint=hint)}")
    if d.unmatched:
        out += comment("unmatched")
        for h in d.unmatched:
            hint = say("nearest", items=", ".join(near[h])) if near.get(h) else ""
            out.append(f"#   {_q(shown(h, 80))}{hint}")
    if prof is not None and len(found) < len(insts):
        absent = ", ".join(i.id for i in insts if i.id not in found)
        out += comment("profile_lacks", id=prof.id, ids=absent)
    scores_only = prof is None or len(found) < len(insts)
    out += comment("next", extra=f" --instruments {','.join(found)}" if scores_only else "")
    if partial:
        out += comment("partly", ids=", ".join(partial))
    return "\n".join(out) + "\n"
