"""Notebook-friendly display of research results (text and HTML).

Every result object of :mod:`psyscreen.research` derives from :class:`Result`:
it has a ``title``, a ``summary()`` DataFrame and a list of ``notes`` that state
the methods used (CI method, missing-data handling, N). ``repr`` prints them
as text; Jupyter shows them as an HTML table via ``_repr_html_``.

Example:
    >>> import pandas as pd
    >>> from psyscreen.research._display import render_text
    >>> print(render_text("Demo", pd.DataFrame({"x": [1.0]}), ["a note"]))
    Demo
         x
    0  1.0
    - a note
"""

from __future__ import annotations

import html

import pandas as pd


def render_text(title: str, table: pd.DataFrame, notes: list[str]) -> str:
    """Title, table and notes as plain text."""
    with pd.option_context("display.width", 120, "display.max_columns", 30):
        body = table.to_string()
    lines = [title, body, *(f"- {n}" for n in notes)]
    return "\n".join(lines)


def render_html(title: str, table: pd.DataFrame, notes: list[str]) -> str:
    """Title, table and notes as an HTML fragment for notebooks."""
    parts = [f"<div><strong>{html.escape(title)}</strong>"]
    parts.append(table.to_html(float_format=lambda x: f"{x:.4g}", na_rep="", border=0))
    if notes:
        parts.append(
            "<ul style='font-size:smaller'>"
            + "".join(f"<li>{html.escape(n)}</li>" for n in notes)
            + "</ul>"
        )
    parts.append("</div>")
    return "".join(parts)


class Result:
    """Mixin giving a result dataclass a text ``repr`` and an HTML view.

    Subclasses implement ``title`` (property), ``summary()`` and ``notes``.
    """

    @property
    def title(self) -> str:  # pragma: no cover - overridden
        return type(self).__name__

    def summary(self) -> pd.DataFrame:  # pragma: no cover - overridden
        raise NotImplementedError

    def method_notes(self) -> list[str]:
        return list(getattr(self, "notes", []) or [])

    def extra_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """Further (title, table) pairs shown after the summary."""
        return []

    def __repr__(self) -> str:
        text = render_text(self.title, self.summary(), self.method_notes())
        for title, table in self.extra_tables():
            text += "\n" + render_text(title, table, [])
        return text

    def _repr_html_(self) -> str:
        out = render_html(self.title, self.summary(), self.method_notes())
        for title, table in self.extra_tables():
            out += render_html(title, table, [])
        return out
