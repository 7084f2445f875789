"""Propose a mapping file from an export's own headers and answer texts (``psyscreen map init``).

psyscreen proposes, a person confirms: every decision is written into the YAML as a
comment, with its confidence; a match that is not clear-cut (low confidence, or a
close second candidate) is written commented out with the alternatives, never used
silently.

* **Role columns** (id, sex, birth date, age, grade, class, school, assessment date or
  submission time) by common Chinese and English header names (:data:`ROLE_NAMES`). A
  name column (姓名) is recognised and deliberately left out; platform columns (序号,
  所用时间, ...) are named as such.
* **Item columns**, each header scored against every item (0-100, rapidfuzz ``WRatio``
  after :func:`~psyscreen.batch.mapping.answer_key`): the item id or instrument
  abbreviation with the item number (``PHQ9_1``, ``GAD-7 Q3``); the item's shipped text
  where its licence allows; its neutral zh/en label; the key phrases of
  ``header_aliases.yaml`` (licensed instruments only); and position within a block (the
  columns of one matrix question, ``8、<intro>—<item>``, or the columns after an
  instrument's intro column, when their count is the instrument's item count). Headers
  and items are paired by an optimal assignment (``scipy.optimize.linear_sum_assignment``).
* **Answers**: the distinct texts of the matched columns (a bounded sample, read by
  :mod:`psyscreen.batch.exportscan`) are compared with the instrument's own response
  labels (simplified or traditional Chinese, full-width characters, blanks: see
  ``answer_key``). When every text is a label, no ``answers:`` table is written (the labels
  apply); integer cells one above the codes (``1..4`` for codes ``0..3``) are read as the
  1-based option numbers of a 问卷星 "按选项序号" export and get an explicit table.

Example:
    >>> header_parts("8、在过去两周里，以下问题困扰你的频率—做事时提不起劲或没有兴趣")
    ('8', '在过去两周里,以下问题困扰你的频率', '做事时提不起劲或没有兴趣')
    >>> role_of("提交答卷时间"), role_of("学生姓名"), role_of("第3题")
    (('assessment_date', 0.9), ('name', 1.0), None)
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..definitions import Instrument
from ..yamlio import read_yaml
from .exportscan import scan_texts, shown
from .mapanswers import AnswerPlan, plan_answers
from .mapping import QUESTION_NUMBER, MappingSpec, answer_key, parse_mapping

#: role -> header names (compared after answer_key, punctuation and blanks removed);
#: a role's first names are its own, later ones (weight 0.9) stand in for it
ROLE_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "id": (
        ("学号", "学籍号", "编号", "学生编号", "考号", "id", "studentid", "respondentid"),
        ("学生id", "用户id", "身份编号"),
    ),
    "name": (("姓名", "名字", "学生姓名", "name", "studentname", "fullname"), ()),
    "sex": (("性别", "sex", "gender"), ()),
    "birth_date": (
        ("出生日期", "出生年月日", "出生年月", "生日", "dateofbirth", "birthdate", "dob"),
        (),
    ),
    "age": (("年龄", "年龄岁", "age", "ageyears"), ()),
    "grade": (("年级", "grade", "yeargroup"), ()),
    "class": (("班级", "班", "class"), ()),
    "school": (("学校", "学校名称", "school", "schoolname"), ()),
    "assessment_date": (
        ("测评日期", "测试日期", "施测日期", "评估日期", "填写日期", "assessmentdate", "testdate"),
        (
            "提交答卷时间",
            "提交时间",
            "答题时间",
            "填写时间",
            "submitted",
            "submissiontime",
            "timestamp",
            "completiontime",
            "date",
        ),
    ),
}
#: columns survey platforms add (not read; named so that they are not "unmatched")
PLATFORM_COLUMNS = (
    "序号",
    "所用时间",
    "来源",
    "来源详情",
    "来自ip",
    "ip",
    "ip地址",
    "总分",
    "答题时长",
    "response",
    "responseno",
    "timetaken",
    "duration",
    "ipaddress",
)
#: a match is written active at or above this score (0-100) and without a close second
ACTIVE_SCORE = 85.0
#: below this score a header is not proposed for an item at all
MIN_SCORE = 60.0
#: a second candidate within this many points makes a match ambiguous
CLOSE = 3.0
#: rows of the export sampled for answer texts
SAMPLE_ROWS = 100_000

_ALIASES = Path(__file__).with_name("header_aliases.yaml")
#: between a matrix question's intro and its row text
_SEPARATORS = re.compile(r"—+|–|:|→|\?|。|\s-\s|\n")


# ---------------------------------------------------------------------------
# headers


def header_parts(header: str) -> tuple[str | None, str | None, str]:
    """(question number, block intro, item text) of an export header (after ``answer_key``).

    ``8、intro—text`` (问卷星 matrix question), ``Q8. text``, ``第8题 text``, ``(8) text``.
    """
    key = answer_key(header)
    m = QUESTION_NUMBER.match(key)
    number = next((g for g in m.groups() if g), None) if m else None
    rest = key[m.end() :] if m else key
    parts = [p.strip() for p in _SEPARATORS.split(rest) if p.strip()]
    if not parts:
        return number, None, rest.strip()
    intro = ",".join(parts[:-1]) or None
    return number, intro, parts[-1]


def _compact(text: str) -> str:
    s = re.sub(r"\((?:必填|选填|required|optional)\)|\*", "", answer_key(text))
    return re.sub(r"[\s\W_]+", "", s)


def role_of(header: str) -> tuple[str, float] | None:
    """(role, confidence) of a header by its name, or None.

    ``name`` and ``platform`` are recognised only to be left out of the mapping.
    """
    key = _compact(header_parts(header)[2])
    if not key or re.fullmatch(r"第?\d+题?", key):
        return None
    if key in {_compact(p) for p in PLATFORM_COLUMNS}:
        return "platform", 1.0
    for role, (own, stand_in) in ROLE_NAMES.items():
        if key in own:
            return role, 1.0
        if key in stand_in:
            return role, 0.9
    return None


# ---------------------------------------------------------------------------
# items


@functools.cache
def _aliases() -> dict[str, dict[str, list[str]]]:
    data, _ = read_yaml(_ALIASES)
    return data or {}


def item_phrases(inst: Instrument) -> dict[str, list[str]]:
    """Item id -> texts a header may be compared with (licence-aware).

    Example:
        >>> from psyscreen import load_instrument
        >>> "提不起劲" in item_phrases(load_instrument("phq9"))["phq9_1"]
        True
        >>> item_phrases(load_instrument("sdq_s"))["sconsid"]
        ['considerate', '体贴他人']
    """
    allowed = inst.licence.item_text_allowed
    aliases = _aliases().get(inst.id, {}) if allowed else {}
    out: dict[str, list[str]] = {}
    for it in inst.items:
        texts = []
        if allowed and it.text is not None:
            texts += [t for t in (it.text.en, it.text.zh) if t]
        if it.label is not None:
            texts += [t for t in (it.label.en, it.label.zh) if t]
        texts += aliases.get(it.id, [])
        out[it.id] = [answer_key(t) for t in texts]
    return out


def _tokens(inst: Instrument) -> list[str]:
    """Ways an export may name the instrument (id, abbreviation), compact."""
    names = {inst.id, inst.id.replace("_", "")}
    if inst.abbreviation:
        names.add(_compact(inst.abbreviation))
    return sorted((n for n in names if n), key=len, reverse=True)


def _numbered(header: str, inst: Instrument) -> tuple[str, tuple[str, str]] | None:
    """(item id, how) when the header names the item by id or instrument + number."""
    key = answer_key(header)
    first = re.split(r"[\s:.、]+", key.strip(), maxsplit=1)[0]
    ids = set(inst.item_ids)
    if first in ids:
        return first, (f"item id {first}", f"题目编号 {first}")
    compact = re.sub(r"[\s\-_.#]", "", key)
    for tok in _tokens(inst):
        m = re.match(rf"^{re.escape(tok)}(?:q|item|第)?(\d+)(?!\d)", compact)
        if m:
            n = int(m.group(1))
            for it in inst.items:
                if (it.number if it.number is not None else inst.items.index(it) + 1) == n:
                    return it.id, (f"{tok.upper()} item number {n}", f"{tok.upper()} 第 {n} 题")
    return None


def _segments(header: str) -> list[str]:
    """The header's item text, and the item text with the parts before it (an item's own
    wording may contain a separator, e.g. "Feeling bad about yourself - or that ...")."""
    key = answer_key(header)
    m = QUESTION_NUMBER.match(key)
    rest = key[m.end() :] if m else key
    parts = [p.strip() for p in _SEPARATORS.split(rest) if p.strip()] or [rest.strip()]
    seps = _SEPARATORS.findall(rest)
    out = [parts[-1]]
    for k in range(len(parts) - 2, -1, -1):
        out.append(parts[k] + (seps[k] if k < len(seps) else " ") + out[-1])
    return out


def _text_score(header: str, phrases: list[str]) -> tuple[float, str]:
    from rapidfuzz import fuzz

    best, how, hits = 0.0, "", 0
    segments = _segments(header)
    for p in phrases:
        s = 0.0
        for text in segments:
            # a key phrase may lie inside a longer header (partial match), but a header
            # shorter than the phrase is compared whole: "情绪" is not "情绪低落"
            s = max(s, float(fuzz.WRatio(text, p) if len(text) >= len(p) else fuzz.ratio(text, p)))
        if s >= ACTIVE_SCORE:
            hits += 1
        if s > best:
            best, how = s, p
    if hits > 1:  # several key phrases of one item: stronger evidence
        best = min(100.0, best + 3.0 * (hits - 1))
    return best, how


@dataclass
class Match:
    """One proposed header -> item or role decision."""

    header: str
    target: str
    kind: str  # "item", "role", "name", "platform"
    score: float  # 0-100
    how: tuple[str, str]  # why, in English and Chinese
    alternatives: list[tuple[str, str]] = field(default_factory=list)  # ("header"|"item", name)
    active: bool = True


def match_items(
    headers: Sequence[str], instruments: Sequence[Instrument]
) -> tuple[list[Match], dict[str, list[str]]]:
    """Item matches for ``headers`` (those not taken by roles): (matches, near misses).

    Example:
        >>> from psyscreen import load_instrument
        >>> hs = [f"{n}、在过去两周里—{t}" for n, t in [(1, "做事时提不起劲或没有兴趣")]]
        >>> m, _ = match_items(hs, [load_instrument("phq9")])
        >>> m[0].target, m[0].active
        ('phq9_1', True)
    """
    from scipy.optimize import linear_sum_assignment

    items = [(inst, it.id) for inst in instruments for it in inst.items]
    if not headers or not items:
        return [], {}
    s = np.zeros((len(headers), len(items)))
    how: dict[tuple[int, int], tuple[str, str]] = {}
    col = {iid: j for j, (_, iid) in enumerate(items)}
    for inst in instruments:
        phrases = item_phrases(inst)
        for i, h in enumerate(headers):
            num = _numbered(h, inst)
            if num is not None:
                s[i, col[num[0]]] = 100.0
                how[i, col[num[0]]] = num[1]
                continue
            for iid, ph in phrases.items():
                sc, p = _text_score(h, ph)
                if sc > s[i, col[iid]]:
                    s[i, col[iid]] = sc
                    how[i, col[iid]] = (f"text like {shown(p, 24)!r}", f"文字接近 {shown(p, 24)!r}")
    _by_position(headers, instruments, s, how, col)
    rows, cols = linear_sum_assignment(-s)
    matches: list[Match] = []
    near: dict[str, list[str]] = {}
    for i, j in zip(rows, cols):
        sc = float(s[i, j])
        h, iid = headers[i], items[j][1]
        if sc < MIN_SCORE:
            continue
        rivals_h = [
            headers[k]
            for k in range(len(headers))
            if k != i and s[k, j] >= max(MIN_SCORE, sc - CLOSE)
        ]
        rivals_i = [
            items[k][1]
            for k in range(len(items))
            if k != j and s[i, k] >= max(MIN_SCORE, sc - CLOSE)
        ]
        alts = [("header", r) for r in rivals_h[:3]] + [("item", r) for r in rivals_i[:3]]
        active = sc >= ACTIVE_SCORE and not alts
        matches.append(Match(h, iid, "item", sc, how.get((i, j), ("", "")), alts, active))
    for i, h in enumerate(headers):
        if not any(m.header == h for m in matches):
            best = np.argsort(-s[i])[:2]
            near[h] = [items[k][1] for k in best if s[i, k] >= 40]
    return matches, near


def _by_position(headers, instruments, s, how, col) -> None:
    """Raise the score of item k for the k-th header of a block of the instrument's size."""
    n = len(headers)
    parts = [header_parts(h) for h in headers]
    blocks: list[tuple[int, int, tuple[str, str], bool]] = []  # (start, end, where, intro)
    i = 0
    while i < n:  # 问卷星 matrix questions: consecutive headers of one number and intro
        j = i
        while j + 1 < n and parts[j + 1][:2] == parts[i][:2] and parts[i][1] is not None:
            j += 1
        if j > i:
            q = parts[i][0] or ""
            blocks.append(
                (i, j + 1, (f"question {q}".strip(), f"第{q}题" if q else "同一题"), False)
            )
        i = j + 1
    for inst in instruments:  # the columns after an intro column naming the instrument
        toks = _tokens(inst)
        for i, h in enumerate(headers):
            c = _compact(h)
            named = any(t in c for t in toks) and not re.search(r"\d", c.replace(toks[0], ""))
            if named and s[i].max() < ACTIVE_SCORE:  # names the instrument, is no item
                where = (f"the columns after intro column {h!r}", f"说明列 {h!r} 之后的列")
                blocks.append((i + 1, i + 1 + len(inst.items), where, True))
    for start, end, where, intro in blocks:
        for inst in instruments:
            ids = inst.item_ids
            if end - start != len(ids) or end > n:
                continue
            js = [col[x] for x in ids]
            agree = disagree = 0
            for k, i in enumerate(range(start, end)):
                best = int(np.argmax(s[i]))
                if s[i, best] < ACTIVE_SCORE:
                    continue
                if best == js[k]:
                    agree += 1
                else:
                    disagree += 1
            # every confident match in the block agrees with its position (or there are none
            # and the block names the instrument): fill the rest by position
            if disagree or (agree == 0 and not intro):
                continue
            for k, i in enumerate(range(start, end)):
                if s[i, js[k]] < 90.0:
                    s[i, js[k]] = 90.0
                    how[i, js[k]] = (
                        f"position {k + 1} of {len(ids)} in {where[0]}",
                        f"{where[1]}中的第 {k + 1}/{len(ids)} 列",
                    )


# ---------------------------------------------------------------------------
# the proposal


@dataclass
class Proposal:
    """A proposed mapping: the YAML text (with comments) and the decisions behind it."""

    text: str
    matches: list[Match]
    unmatched: list[str]
    found: list[str]
    answers: list[AnswerPlan]
    missing_answers: list[str]

    def spec(self) -> MappingSpec:
        """The proposal parsed as a mapping (what ``psyscreen score`` would read)."""
        import yaml

        return parse_mapping(yaml.safe_load(self.text), "<proposal>")


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _num(v: float | None) -> str:
    return "null" if v is None else (str(int(v)) if float(v).is_integer() else repr(v))


def propose_mapping(
    export: str | Path,
    *,
    profile: Any = None,
    instruments: Sequence[Any] | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    sample_rows: int = SAMPLE_ROWS,
    lang: str = "zh",
) -> Proposal:
    """Propose a mapping for ``export`` (headers, then the answer texts of matched columns).

    ``instruments`` (ids, paths or objects) or ``profile`` (id, path or object; default
    ``default``) say which instruments to look for. Only role and matched item columns
    are read, at most ``sample_rows`` rows. The comments are in ``lang`` (zh or en).

    Example:
        >>> p = propose_mapping(
        ...     "examples/wjx_export.csv", instruments=["phq9", "gad7"]
        ... )  # doctest: +SKIP
        >>> p.found, p.unmatched  # doctest: +SKIP
        (['phq9', 'gad7'], ['10、你还有什么想对老师说的吗？'])
    """
    from ..registry import load_instrument
    from ..risk import load_profile
    from .io import open_source

    prof = None
    if instruments:
        insts = [load_instrument(i) for i in instruments]
    else:
        prof = load_profile(profile or "default")
        insts = [prof.instrument(i) for i in prof.instruments]
    src = open_source(export, encoding=encoding, sheet=sheet)
    headers = [h for h in src.headers if h]
    roles: list[Match] = []
    taken: dict[str, Match] = {}
    for h in headers:
        r = role_of(h)
        if r is None:
            continue
        role, conf = r
        kind = role if role in ("name", "platform") else "role"
        m = Match(h, role, kind, conf * 100, ("header name", "列名"))
        if kind == "role":
            prev = taken.get(role)
            if prev is not None and prev.score >= m.score:
                prev.alternatives.append(("header", h))
                m.active = False
                m.alternatives.append(("header", prev.header))
            elif prev is not None:
                prev.active = False
                m.alternatives.append(("header", prev.header))
                taken[role] = m
            else:
                taken[role] = m
        roles.append(m)
    rest = [h for h in headers if not any(m.header == h for m in roles)]
    items, near = match_items(rest, insts)
    active = {m.target: m for m in items if m.active}
    found = [i.id for i in insts if all(x in active for x in i.item_ids)]
    partial = [i.id for i in insts if i.id not in found and any(x in active for x in i.item_ids)]
    texts, n_read = scan_texts(src, [m.header for m in items if m.active], max_rows=sample_rows)
    plans: list[AnswerPlan] = []
    missing: list[str] = []
    for inst in insts:
        groups: dict[str, list[str]] = {}
        for x in inst.item_ids:
            if x in active:
                groups.setdefault(inst.item(x).response_scale, []).append(x)
        for group in groups.values():
            plan, miss = plan_answers(inst, group, {x: texts[active[x].header] for x in group})
            if len(groups) == 1:
                plan.items = []
            plans.append(plan)
            missing += [m for m in miss if m not in missing]
    unmatched = [h for h in rest if h not in {m.header for m in items}]
    text = _render(
        export,
        prof,
        insts,
        roles,
        items,
        near,
        unmatched,
        found,
        partial,
        plans,
        missing,
        n_read,
        lang,
    )
    return Proposal(text, roles + items, unmatched, found, plans, missing)


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


def _render(
    export,
    prof,
    insts,
    roles,
    items,
    near,
    unmatched,
    found,
    partial,
    plans,
    missing,
    n_read,
    lang="zh",
) -> str:
    zh = lang == "zh"

    def say(key: str, **kw: Any) -> str:
        return MESSAGES[key][1 if zh else 0].format(**kw)

    def comment(key: str, indent: str = "", **kw: Any) -> list[str]:
        return [f"{indent}# {line}" for line in say(key, **kw).split("\n")]

    def why(m: Match) -> str:
        text = say("why", c=m.score / 100, how=m.how[1 if zh else 0])
        if m.alternatives:
            text += say("alts", alts=", ".join(say(k, x=x) for k, x in m.alternatives))
        return text

    what = (
        say("profile", id=prof.id)
        if prof is not None
        else say("instruments", ids=", ".join(i.id for i in insts))
    )
    out = [
        *comment("title", file=Path(export).name, what=what),
        *comment("read"),
        *comment("unsure"),
        *comment("sample", n=n_read),
        "mapping_version: 1",
        "columns:",
    ]
    for m in roles:
        if m.kind in ("name", "platform"):
            out += comment(m.kind, "  ", h=_q(m.header))
        else:
            line = f"{m.target}: {_q(m.header)}  # {why(m)}"
            out.append(f"  {line}" if m.active else f"  #  {line}")
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
            line = f"{m.target}: {_q(m.header)}  # {why(m)}"
            out.append(f"  {line}" if m.active else f"  #  {line}")
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
        for t, n, alts in p.unmapped:
            hint = say("closest", labels=", ".join(alts)) if alts else say("none_close")
            out.append(f"      #  {_q(shown(t))}: ?  # {say('not_mapped', n=n, hint=hint)}")
    if unmatched:
        out += comment("unmatched")
        for h in unmatched:
            hint = say("nearest", items=", ".join(near[h])) if near.get(h) else ""
            out.append(f"#   {_q(shown(h, 80))}{hint}")
    if prof is not None and len(found) < len(insts):
        lacking = ", ".join(i.id for i in insts if i.id not in found)
        out += comment("profile_lacks", id=prof.id, ids=lacking)
    scores_only = prof is None or len(found) < len(insts)
    out += comment("next", extra=f" --instruments {','.join(found)}" if scores_only else "")
    if partial:
        out += comment("partly", ids=", ".join(partial))
    return "\n".join(out) + "\n"
