"""The mapping file: how an export's headers and answer texts become item ids and codes.

Survey platforms export one column per question with the question text as header
and the answer *text* in each cell (从不 / 有时 / 经常). A mapping file (YAML, read
with the safe loader of :mod:`psyscreen.yamlio` and checked against the published
``mapping.schema.json``) says:

* ``columns``: which export header holds the id, sex, birth date, age, grade,
  school and assessment date (all optional; ``required`` lists those that must exist);
* ``items``: item id -> export header (an item not listed is looked for under its id);
* ``answers``: answer text -> code, for the items of listed instruments or listed items;
  a code of ``null`` means "not answered";
* ``missing_answers``: texts meaning "not answered" in any item column (e.g. ``未作答``);
* ``keep``: further columns copied to the results unchanged (e.g. class);
* ``constants``: roles given once for the whole run (``assessment_date: 2024-10-18``);
* ``encoding`` (CSV), ``sheet`` (XLSX) and ``value_labels`` (SPSS) reading options;
* ``codes_start``: instrument id -> the code the export uses for the lowest option of
  the instrument's response scale (e.g. ``{phq9: 1}`` for a 问卷星 export "按选项序号",
  whose PHQ-9 answers are 1-4 instead of 0-3), or one number for every instrument;
  the codes are shifted back when mapping (see :func:`shift_codes`).

Answer texts are compared after :func:`answer_key` (Unicode NFKC, so full-width
characters read as half-width; traditional Chinese read as simplified; surrounding
blanks removed; case ignored). An item that no table names (by instrument or item)
is mapped by its instrument's own response labels (zh and en), when the definition
declares them: a mapping may omit ``answers:`` for such instruments.

Mapped codes are validated by the instrument's response scale like any other
answer: a text that no table maps stays text and is flagged ``non_numeric``.

Example:
    >>> spec = parse_mapping({"columns": {"id": "学号"}, "items": {"phq9_1": "Q1"},
    ...     "answers": [{"instruments": ["phq9"], "codes": {"完全不会": 0, "好几天": 1}}]})
    >>> spec.answer_table("phq9_1", "phq9")["好几天"]
    '1'
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field, model_validator

from ..definitions import Identifier, _Model
from ..loader import DEFAULT_LIBRARY, Kind
from ..yamlio import read_yaml

if TYPE_CHECKING:
    from ..definitions import Instrument
    from ..definitions.primitives import Text

#: Roles a mapping can give a column; the results use these as column names.
ROLES = ("id", "school", "grade", "class", "sex", "birth_date", "age", "assessment_date")
Role = Literal["id", "school", "grade", "class", "sex", "birth_date", "age", "assessment_date"]


class Columns(_Model):
    """Export header of each role column (omit a role the export does not have)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str | None = Field(None, description="Respondent id (checked for blanks, duplicates).")
    school: str | None = None
    grade: str | None = None
    class_: str | None = Field(
        None, alias="class", description="Class within the grade (班级), for class-level views."
    )
    sex: str | None = None
    birth_date: str | None = None
    age: str | None = Field(None, description="Age in years, used when no birth date is given.")
    assessment_date: str | None = None

    def header(self, role: str) -> str | None:
        """Export header of ``role`` (``class`` is stored as ``class_``)."""
        return getattr(self, "class_" if role == "class" else role)


class Constants(_Model):
    """Roles given once for the whole run instead of a column."""

    assessment_date: str | None = Field(
        None,
        description="Assessment date of every row (YYYY-MM-DD), when the export has no column.",
    )

    @model_validator(mode="after")
    def _dates(self) -> Constants:
        if self.assessment_date is not None:
            from ..demographics import OK, parse_dates

            d, st = parse_dates(pd.Series([self.assessment_date], dtype=object))
            if st[0] != OK:
                raise ValueError(
                    f"constants.assessment_date {self.assessment_date!r} is not a plausible "
                    "date (YYYY-MM-DD)"
                )
            object.__setattr__(self, "assessment_date", d.iloc[0].date().isoformat())
        return self


class AnswerTable(_Model):
    """Answer text -> code for the items of ``instruments`` and/or the listed ``items``."""

    instruments: list[Identifier] = Field(default_factory=list)
    items: list[Identifier] = Field(default_factory=list)
    codes: dict[str, float | None] = Field(
        min_length=1, description="Answer text (trimmed) -> code; null means not answered."
    )

    @model_validator(mode="after")
    def _target(self) -> AnswerTable:
        if not (self.instruments or self.items):
            raise ValueError("an answer table needs 'instruments' or 'items'")
        bad = [k for k, v in self.codes.items() if v is not None and not math.isfinite(v)]
        if bad:
            raise ValueError(
                f"answer code(s) for {', '.join(map(repr, bad))} are not finite numbers "
                "(.nan/.inf): give a number, or null for 'not answered'"
            )
        seen: dict[str, tuple[str, float | None]] = {}
        for text, code in self.codes.items():
            key = answer_key(text)
            if key in seen and seen[key][1] != code:
                raise ValueError(
                    f"answer texts {seen[key][0]!r} and {text!r} read as the same text "
                    "(width, traditional/simplified and case are ignored) but have different codes"
                )
            seen[key] = (text, code)
        return self


class MappingSpec(_Model):
    """A mapping file. See the module docstring and ``docs/batch.md``."""

    mapping_version: Literal[1] = Field(1, description="Format version of this file.")
    description: str | None = None
    columns: Columns = Field(default_factory=Columns)
    required: list[Role] = Field(
        default_factory=list,
        description="Roles whose column must be in the export (the run stops otherwise).",
    )
    items: dict[Identifier, str] = Field(default_factory=dict)
    answers: list[AnswerTable] = Field(default_factory=list)
    missing_answers: list[str] = Field(default_factory=list)
    keep: list[str] = Field(default_factory=list)
    constants: Constants = Field(default_factory=Constants)
    encoding: str | None = Field(None, description="CSV encoding; default: detected.")
    sheet: str | None = Field(None, description="XLSX worksheet; default: the first.")
    value_labels: bool = Field(
        True, description="SPSS .sav: replace coded values by their value labels before mapping."
    )
    codes_start: dict[Identifier, int] | int = Field(
        default_factory=dict,
        description="The code the export uses for the lowest option of each instrument's "
        "response scale (instrument id -> code, or one code for every instrument), e.g. "
        "{phq9: 1} when PHQ-9 answers are exported as 1-4 instead of 0-3. Declaring it "
        "(even as the scale's own lowest code) also turns off the coding-mismatch check.",
    )

    def code_start(self, instrument_id: str) -> int | None:
        """The declared first code of an instrument's answers (None: not declared)."""
        if isinstance(self.codes_start, int):
            return self.codes_start
        return self.codes_start.get(instrument_id)

    @model_validator(mode="after")
    def _check(self) -> MappingSpec:
        if self.constants.assessment_date and self.columns.assessment_date:
            raise ValueError(
                "assessment_date is given both as a column and as a constant: keep one"
            )
        for role in self.required:
            if self.columns.header(role) is None:
                raise ValueError(f"required role {role!r} has no column in 'columns'")
        headers = [h for h in self.role_headers().values()] + list(self.items.values())
        headers += self.keep
        seen: set[str] = set()
        for h in headers:
            if h in seen:
                raise ValueError(f"export header {h!r} is mapped twice")
            seen.add(h)
        return self

    def role_headers(self) -> dict[str, str]:
        """role -> export header, for the roles given."""
        return {r: h for r in ROLES if (h := self.columns.header(r))}

    def constant_roles(self) -> dict[str, str]:
        """role -> value (ISO text) of the roles given as constants."""
        return {k: v for k, v in self.constants.model_dump().items() if v is not None}

    def header(self, item_id: str) -> str:
        """Export header of an item (its id when the mapping does not list it)."""
        return self.items.get(item_id, item_id)

    def names_answers(self, item_id: str, instrument_id: str) -> bool:
        """Whether an answer table names the item or its instrument."""
        return any(item_id in t.items or instrument_id in t.instruments for t in self.answers)

    def answer_table(
        self, item_id: str, instrument_id: str, labels: dict[str, str] | None = None
    ) -> dict[str, str]:
        """Answer key (:func:`answer_key`) -> code text ('' = not answered) for one item.

        Tables naming the item win over tables naming its instrument; later tables
        win over earlier ones of the same kind. ``missing_answers`` apply to every item.
        ``labels`` (see :func:`label_codes`) map the item when no table names it.
        """
        table: dict[str, str] = {answer_key(t): "" for t in self.missing_answers}
        if labels and not self.names_answers(item_id, instrument_id):
            table.update(labels)
        for by_item in (False, True):
            for t in self.answers:
                hit = item_id in t.items if by_item else instrument_id in t.instruments
                if hit:
                    table.update({answer_key(k): _code_text(v) for k, v in t.codes.items()})
        return table


def shift_codes(
    table: dict[str, str], lo: int, hi: int, start: int, special: AbstractSet[str] = frozenset()
) -> dict[str, str]:
    """``table`` plus the export's numeric codes read with the scale starting at ``start``.

    The export codes ``start .. start + hi - lo`` become ``lo .. hi``; a code of the
    other numbering that is now outside (e.g. ``0`` when the export starts at 1) is
    mapped outside the scale, so it is reported ``out_of_range``, never scored.
    Texts the answer table already maps, and the scale's ``special`` codes (extra and
    missing codes such as 9 = refused), keep their meaning.

    Example:
        >>> shift_codes({"从不": "0"}, 0, 3, 1)
        {'从不': '0', '0': '-1', '1': '0', '2': '1', '3': '2', '4': '3'}
    """
    shift = start - lo
    out = dict(table)
    for code in range(min(lo, start), max(hi, hi + shift) + 1):
        key = str(code)
        if key not in out and key not in special:
            out[key] = str(code - shift)
    return out


#: a question number at the start of a header (after answer_key): 8、 / Q8. / 第8题 / (8)
QUESTION_NUMBER = re.compile(
    r"^\s*(?:第\s*(\d+)\s*题|q\s*(\d+)|\((\d+)\)|(\d+)(?=\s*[、.:)\]]))\s*[、.:)\]]?\s*"
)


@functools.lru_cache(maxsize=1 << 16)
def answer_key(text: Any) -> str:
    """An answer text as compared with mapping and label texts.

    NFKC (full-width letters, digits and punctuation as half-width), traditional
    Chinese as simplified (OpenCC ``t2s`` tables), blanks around removed, case folded.

    Example:
        >>> answer_key(" 一半以上的天數　"), answer_key("Not At All"), answer_key("１")
        ('一半以上的天数', 'not at all', '1')
    """
    s = unicodedata.normalize("NFKC", str(text)).strip()
    if any(ord(c) > 0x2E7F for c in s):  # CJK: the converter is only needed then
        s = _t2s().convert(s)
    return s.casefold()


def did_you_mean(name: str, choices: Sequence[str], limit: int = 3) -> list[str]:
    """The ``choices`` closest to ``name`` (a mistyped header), best first.

    Compared by :func:`answer_key` with rapidfuzz's ``WRatio`` (a library scorer that
    handles reordered and partial text); only candidates scoring 50 or more.

    Example:
        >>> did_you_mean("学好", ["1、学号", "2、姓名", "3、性别"])
        ['1、学号']
    """
    from rapidfuzz import fuzz, process

    def bare(text: str) -> str:  # without a question number ("5、年级" -> "年级")
        key = answer_key(text)
        m = QUESTION_NUMBER.match(key)
        return key[m.end() :] if m else key

    keys: dict[str, str] = {}
    for c in choices:
        keys.setdefault(answer_key(c), c)
        keys.setdefault(bare(c), c)
    hits = process.extract(bare(name), list(keys), scorer=fuzz.WRatio, limit=None, score_cutoff=50)
    out: list[str] = []
    for k, _score, _ in hits:
        if keys[k] not in out:
            out.append(keys[k])
    return out[:limit]


@functools.cache
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


def label_codes(inst: Instrument, item_id: str) -> dict[str, str]:
    """Answer key -> code text from the item's response-scale labels (zh and en).

    Example:
        >>> from psyscreen import load_instrument
        >>> label_codes(load_instrument("phq9"), "phq9_1")["好几天"]
        '1'
    """
    rs = inst.response_scales[inst.item(item_id).response_scale]
    labelled: list[tuple[int | str, Text]] = [(code, text) for code, text in rs.labels.items()]
    labelled += [(c.code, c.label) for c in rs.codes if c.label is not None]
    out: dict[str, str] = {}
    for code, text in labelled:
        for t in (text.zh, text.en):
            if t:
                out[answer_key(t)] = str(code)
    return out


def _code_text(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def parse_mapping(data: Any, file: str = "<mapping>") -> MappingSpec:
    """Validate parsed mapping data (schema, then model rules)."""
    return DEFAULT_LIBRARY.from_data(MAPPING, data, file)


def _texts(data: dict) -> dict:
    """Headers and answer texts as strings (YAML reads ``1:`` or ``- 2024`` as numbers)."""
    out = dict(data)
    if isinstance(out.get("columns"), dict):
        out["columns"] = {k: _str(v) for k, v in out["columns"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = {k: _str(v) for k, v in out["items"].items()}
    if isinstance(out.get("constants"), dict):
        out["constants"] = {
            k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in out["constants"].items()
        }
    for key in ("keep", "missing_answers"):
        if isinstance(out.get(key), list):
            out[key] = [_str(v) for v in out[key]]
    if isinstance(out.get("answers"), list):
        out["answers"] = [
            {**t, "codes": {_str(k): v for k, v in t["codes"].items()}}
            if isinstance(t, dict) and isinstance(t.get("codes"), dict)
            else t
            for t in out["answers"]
        ]
    return out


def _str(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, (dict, list)):
        return v
    return _cell_text(v) if isinstance(v, (int, float)) else v


def load_mapping(path: str | Path) -> tuple[MappingSpec, str]:
    """Read and validate a mapping file. Returns (spec, sha256 of the file)."""
    data, digest = read_yaml(path)
    return parse_mapping(data, str(path)), digest


#: column mappings of export files (by path only), schema ``mapping``; not cached, so an
#: edited mapping is always read again (``load_mapping`` also returns the file's hash)
MAPPING: Kind[MappingSpec] = Kind(
    "mapping", MappingSpec, "mapping", "a mapping file", prepare=_texts, cached=False
)


# ---------------------------------------------------------------------------
# applying a mapping to a chunk


def as_text_category(col: pd.Series) -> pd.Series:
    """A column as a categorical of trimmed texts; numbers as plain text (``1.0`` -> ``1``).

    Example:
        >>> as_text_category(pd.Series([1.0, None, 2.5])).tolist()
        ['1', nan, '2.5']
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories
        if pd.api.types.is_string_dtype(cats.dtype) or cats.dtype == object:
            new = [_cell_text(c) for c in cats]
            return _recode(col, new)
        col = col.astype(cats.dtype)
    if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
        cat = col.astype("category")
        return _recode(cat, [_cell_text(c) for c in cat.cat.categories])
    cat = col.astype("object").astype("category")
    return _recode(cat, [_cell_text(c) for c in cat.cat.categories])


def _cell_text(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (bool, np.bool_)):
        # Excel's spelling: a TRUE cell is no answer code (it is flagged, never read as 1)
        return "TRUE" if v else "FALSE"
    if hasattr(v, "isoformat"):
        s = v.isoformat()
        return s[:10] if s.endswith("T00:00:00") else s
    return str(v).strip()


def _recode(cat: pd.Series, new_categories: list[str]) -> pd.Series:
    """Rename the categories of ``cat`` (several may merge into one)."""
    uniq, inverse = np.unique(
        np.asarray(new_categories, dtype=object).astype(str), return_inverse=True
    )
    codes = cat.cat.codes.to_numpy()
    remapped = np.where(codes >= 0, inverse[codes] if len(inverse) else -1, -1)
    return pd.Series(
        pd.Categorical.from_codes(remapped, pd.Index(uniq, dtype=object)), index=cat.index
    )


def map_answers(col: pd.Series, table: dict[str, str]) -> pd.Series:
    """Translate one item column by ``table`` (trimmed text -> code text).

    Cells are looked up by :func:`answer_key`; a text the table lacks is kept.
    Numeric columns pass through unchanged (fast path) unless the table maps numbers.

    Example:
        >>> table = {"从不": "0", "经常": "2"}
        >>> map_answers(pd.Series(["从不", " 經常", "?", "３"]), table).tolist()
        ['0', '2', '?', '3']
    """
    if pd.api.types.is_numeric_dtype(col.dtype) and not any(is_number(k) for k in table):
        return col
    if isinstance(col.dtype, pd.CategoricalDtype) and (
        pd.api.types.is_string_dtype(col.cat.categories.dtype) or col.cat.categories.dtype == object
    ):
        # text categories: translate the few distinct answers in one recode
        texts = (_cell_text(c) for c in col.cat.categories)
        return _recode(col, [_lookup(table, t) for t in texts])
    cat = as_text_category(col)
    cats = list(cat.cat.categories)
    return _recode(cat, [_lookup(table, c) for c in cats])


def _lookup(table: dict[str, str], text: str) -> str:
    """The code of ``text``; a text not in the table is kept (a number in its NFKC form)."""
    key = answer_key(text)
    if key in table:
        return table[key]
    return key if is_number(key) else text


def is_number(key: str) -> bool:
    """Whether a text reads as a number (``float``)."""
    try:
        float(key)
    except ValueError:
        return False
    return True
