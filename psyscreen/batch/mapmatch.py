"""Which export column is which: role columns by header name, item columns by a scored
optimal assignment (the matching half of ``psyscreen map init``).

Role columns (id, sex, birth date, ...) are recognised by common Chinese and English
header names (:data:`ROLE_NAMES`); item columns by scoring each header against every
item (0-100) on its id or number, its licensed text, its neutral label, the key phrases
of ``header_aliases.yaml`` and its position within a block, then pairing headers and
items by ``scipy.optimize.linear_sum_assignment``.

Example:
    >>> header_parts("8、在过去两周里，以下问题困扰你的频率—做事时提不起劲或没有兴趣")
    ('8', '在过去两周里,以下问题困扰你的频率', '做事时提不起劲或没有兴趣')
    >>> role_of("提交答卷时间"), role_of("学生姓名"), role_of("第3题")
    (('assessment_date', 0.9), ('name', 1.0), None)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..definitions import Instrument
from ..yamlio import read_yaml
from .exportscan import shown
from .mapping import QUESTION_NUMBER, answer_key

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


def _split(header: str) -> tuple[str | None, str, list[str]]:
    """(question number, the text after it, that text's non-empty separator-split parts)."""
    key = answer_key(header)
    m = QUESTION_NUMBER.match(key)
    number = next((g for g in m.groups() if g), None) if m else None
    rest = key[m.end() :] if m else key
    return number, rest, [p.strip() for p in _SEPARATORS.split(rest) if p.strip()]


def header_parts(header: str) -> tuple[str | None, str | None, str]:
    """(question number, block intro, item text) of an export header (after ``answer_key``).

    ``8、intro—text`` (问卷星 matrix question), ``Q8. text``, ``第8题 text``, ``(8) text``.
    """
    number, rest, parts = _split(header)
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
    _, rest, parts = _split(header)
    parts = parts or [rest.strip()]
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
    for i, j in zip(rows.tolist(), cols.tolist()):
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


def _by_position(
    headers: Sequence[str],
    instruments: Sequence[Instrument],
    s: np.ndarray,
    how: dict[tuple[int, int], tuple[str, str]],
    col: dict[str, int],
) -> None:
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
