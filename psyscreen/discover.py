"""What ``psyscreen show``, ``profiles``, ``show-profile`` and ``schema`` print.

``show`` knows the kinds of definition: an id is looked up among the shipped
instruments, then the shipped risk profiles; a file is told by its top-level keys.

Example:
    >>> show_text("default").splitlines()[0][:27]
    '## profile default: Default'
    >>> "phq9_9" in show_text("phq9")
    True
"""

from __future__ import annotations

import json
from pathlib import Path

from .catalogue import instrument_markdown
from .definitions import Text
from .formatting import format_number

#: ``psyscreen schema`` kinds -> published schema file names (psyscreen/schemas/)
SCHEMA_KINDS = {
    "instrument": "instrument",
    "mapping": "mapping",
    "norms": "norm_table",
    "norm_table": "norm_table",
    "profile": "risk_profile",
    "risk_profile": "risk_profile",
    "record": "screening_record",
    "screening_record": "screening_record",
}


def show_text(name: str, lang: str = "en") -> str:
    """Markdown for an instrument or profile (id or file), or KeyError naming both lists."""
    from .registry import list_instruments, load_instrument
    from .risk import list_profiles, load_profile

    p = Path(name)
    if p.suffix in (".yaml", ".yml") or p.exists():
        from .yamlio import read_yaml

        data = read_yaml(p)[0]
        if isinstance(data, dict) and ("battery" in data or "levels" in data):
            return profile_markdown(load_profile(p), lang)
        return instrument_markdown(load_instrument(p), lang=lang)
    if name in list_instruments():
        return instrument_markdown(load_instrument(name), lang=lang)
    if name in list_profiles():
        return profile_markdown(load_profile(name), lang)
    raise KeyError(
        f"unknown instrument or profile {name!r}; instruments: {', '.join(list_instruments())}; "
        f"profiles: {', '.join(list_profiles())}"
    )


def _t(text: Text | None, lang: str) -> str:
    return " ".join(text.best(lang).split()) if text is not None else ""


def profile_markdown(prof, lang: str = "en") -> str:
    """A Markdown description of a risk profile: battery, levels, rules.

    Example:
        >>> from psyscreen import load_profile
        >>> "| phq9 | yes |" in profile_markdown(load_profile("default"))
        True
    """
    out = [f"## profile {prof.id}: {_t(prof.title, lang)} (version {prof.version})", ""]
    if prof.description:
        out += [" ".join(prof.description.split()), ""]
    out += [f"- basis: {' '.join(prof.basis.split())}"]
    if prof.age_range:
        lo, hi = prof.age_range.get("min"), prof.age_range.get("max")
        out.append(
            f"- ages: {format_number(lo) if lo is not None else ''}-"
            f"{format_number(hi) if hi is not None else ''}"
        )
    for u in prof.unverified:
        out.append(f"- **unverified**: {' '.join(u.split())}")
    out += ["", "| instrument | required | screening scales | bands from |", "|---|---|---|---|"]
    for b in prof.battery:
        out.append(
            f"| {b.instrument} | {'yes' if b.required else 'no'} | "
            f"{', '.join(b.screening_scales) or '-'} | {b.band_source} |"
        )
    out += ["", "Levels (lowest first):", ""]
    for lv in prof.levels:
        out.append(f"- `{lv.code}` {lv.zh} / {lv.en} ({lv.colour})")
    out += ["", "Rules:", ""]
    for r in prof.rules:
        out.append(f"- `{r.id}` -> {r.level}: {r.zh if lang == 'zh' else r.en}")
    out += [
        "",
        "Score an export with it: psyscreen score EXPORT --map MAPPING "
        f"--profile {prof.id} -o out/results.csv",
    ]
    return "\n".join(out) + "\n"


def profiles_text(lang: str = "en") -> str:
    """One line per shipped risk profile: id, version, instruments, title.

    Example:
        >>> profiles_text().split()[0]
        'default'
    """
    from .risk import list_profiles, load_profile

    lines = []
    for pid in list_profiles():
        prof = load_profile(pid)
        lines.append(
            f"{pid:<14} {prof.version:<6} {','.join(prof.instruments):<28} {_t(prof.title, lang)}"
        )
    return "\n".join(lines) + "\n"


def schema_text(kind: str) -> str:
    """The published JSON Schema of ``kind`` (see :data:`SCHEMA_KINDS`), as JSON text.

    Example:
        >>> json.loads(schema_text("mapping"))["title"]
        'psyscreen batch mapping file'
    """
    from .registry import schema

    if kind not in SCHEMA_KINDS:
        raise KeyError(f"unknown schema kind {kind!r}; kinds: {', '.join(SCHEMA_KINDS)}")
    return json.dumps(schema(SCHEMA_KINDS[kind]), indent=2, ensure_ascii=False) + "\n"
