"""The message catalogue of the report and the warning list (``messages.yaml``).

One file holds every label of the two outputs in Chinese and English; level,
status, band and action names come from the definitions' own zh/en texts. The
catalogue is plain data read with the project's safe YAML loader: no plural forms
are needed in either language, so gettext's compiled catalogues would add a build
step without adding a feature.

Example:
    >>> t = Messages("zh")
    >>> t("col.total"), Messages("en")("col.total")
    ('合计', 'Total')
    >>> t("outcome.merged", level="重点关注"), t.grade(8), t.num(12345)
    ('重点关注及以上', '初二', '12,345')
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from ..yamlio import parse_yaml

LANGS = ("zh", "en")
_FILE = Path(__file__).with_name("messages.yaml")


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """msgid -> {zh, en}: the whole catalogue (checked: both languages everywhere)."""
    data = parse_yaml(_FILE.read_bytes(), str(_FILE))
    for key, texts in data.items():
        if not isinstance(texts, dict) or set(texts) != set(LANGS):
            raise ValueError(f"{_FILE.name}: {key}: give exactly zh and en")
    return data


class Messages:
    """Texts in one language: ``t(msgid, **fields)``, numbers, grades, definition texts."""

    def __init__(self, lang: str = "zh"):
        if lang not in LANGS:
            raise ValueError(f"language must be one of {', '.join(LANGS)}, not {lang!r}")
        self.lang = lang

    def __call__(self, msgid: str, **fields: Any) -> str:
        text = catalogue()[msgid][self.lang]
        return text.format(**fields) if fields else text

    def get(self, msgid: str, default: str) -> str:
        """The text of ``msgid`` if the catalogue has it, else ``default`` (e.g. a new code)."""
        texts = catalogue().get(msgid)
        return texts[self.lang] if texts else default

    def text(self, t: Any) -> str:
        """A definition's :class:`~psyscreen.definitions.Text` in this language."""
        return t.best(self.lang) if hasattr(t, "best") else str(t)

    def named(self, obj: Any) -> str:
        """A level or status name from its own ``zh``/``en`` fields."""
        first = getattr(obj, self.lang, None)
        return first or getattr(obj, "zh", None) or getattr(obj, "en", None) or str(obj)

    def grade(self, n: int) -> str:
        """The name of school grade ``n`` (1-12)."""
        return self(f"grade.{n}")

    @staticmethod
    def num(n: int) -> str:
        """A count with thousands separators."""
        return f"{int(n):,}"

    @staticmethod
    def pct(p: float) -> str:
        """A percentage with one decimal."""
        return f"{p:.1f}%"
