"""The instrument catalogue, generated from the shipped YAML definitions.

``docs/instruments.md`` is the output of :func:`render_catalogue`; a test fails
when the committed file differs from a fresh rendering. Regenerate with::

    python -m psyscreen.catalogue

Example:
    >>> from psyscreen import load_instrument
    >>> print(instrument_markdown(load_instrument("gad7")).splitlines()[0])
    ## gad7: Generalized Anxiety Disorder 7-item scale (version 2006)
"""

from __future__ import annotations

from pathlib import Path

from .definitions import Instrument
from .formatting import format_number as _num
from .registry import list_instruments, load_instrument

CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "docs" / "instruments.md"


def _age(inst: Instrument) -> str:
    ages = inst.age_range
    if ages.min is None and ages.max is None:
        return "any"
    return (
        (_num(ages.min) if ages.min is not None else "")
        + "-"
        + (_num(ages.max) if ages.max is not None else "")
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def instrument_markdown(inst: Instrument, lang: str = "en") -> str:
    """A Markdown description of one instrument (used by ``psyscreen show``)."""
    out = [f"## {inst.id}: {inst.title.best(lang)} (version {inst.version})", ""]
    other = inst.title.best("zh" if lang == "en" else "en")
    if other != inst.title.best(lang):
        out += [f"_{other}_", ""]
    if inst.description:
        out += [_one_line(inst.description), ""]
    out += [
        f"- informant: {inst.informant}; ages: {_age(inst)}; items: {len(inst.items)}",
        f"- licence: {inst.licence.name} (item text shipped: "
        f"{'yes' if inst.licence.item_text_allowed else 'no'})"
        + (f"; {_one_line(inst.licence.note)}" if inst.licence.note else ""),
    ]
    if inst.reverse_keyed:
        out.append(f"- reverse-keyed items: {', '.join(inst.reverse_keyed)}")
    for u in inst.unverified:
        out.append(f"- **unverified**: {_one_line(u)}")
    out += ["", *items_markdown(inst, lang)]
    out += ["", "| scale | items | range | missing-data rule | bands |", "|---|---|---|---|---|"]
    band_notes: list[str] = []
    for s in inst.scales:
        lo, hi = inst.scale_range(s.id)
        comps = ", ".join(s.scales) if s.is_composite else f"{len(s.items)} items"
        n = len(s.scales or s.items)
        req = s.missing.required(n)
        rule = "all required" if req == n else f">= {req} of {n}"
        if s.missing.prorate:
            rule += f", prorated ({s.missing.rounding})"
        if s.missing.source:
            rule += f" [{s.missing.source}]"
        bands = "<br>".join(
            f"{bs.id}{' (**unverified**)' if bs.unverified else ''}: "
            + "; ".join(f"{b.code} {b.interval()} {b.classification}" for b in bs.bands)
            + f" [{bs.source}]"
            for bs in s.bands
        )
        out.append(
            f"| {s.id} ({s.label.best(lang)}, {s.aggregation}, higher is {s.higher_is}) "
            f"| {comps} | {_num(lo)}-{_num(hi)} | {rule} | {bands or '-'} |"
        )
        for bs in s.bands:
            if bs.note:
                band_notes.append(f"- `{s.id}` / `{bs.id}`: {_one_line(bs.note)}")
            if bs.unverified:
                band_notes.append(
                    f"- `{s.id}` / `{bs.id}` **unverified**: {_one_line(bs.unverified)}"
                )
    if band_notes:
        out += ["", "Band notes:", "", *band_notes]
    if inst.critical_items:
        out += ["", "Critical items:", ""]
        for ci in inst.critical_items:
            flag = f" (**unverified**: {_one_line(ci.unverified)})" if ci.unverified else ""
            out.append(
                f"- `{ci.id}`{flag}: {ci.mode} of {', '.join(ci.items)} {ci.condition.describe()}: "
                f"{ci.meaning.best(lang)} [{ci.source}]"
            )
    if inst.validity_checks:
        out += ["", "Validity checks:", ""]
        for v in inst.validity_checks:
            flag = " (**unverified**)" if v.unverified else ""
            out.append(f"- `{v.id}` ({v.kind}){flag}: {v.meaning.best(lang)}")
    if inst.notes:
        out += ["", "Notes:", ""]
        out += [f"- {_one_line(n)}" for n in inst.notes]
    out += ["", "Sources:", ""]
    for c in inst.citations:
        extra = "".join(
            f" {x}" for x in (c.locator and f"({c.locator})", c.url, c.doi and f"doi:{c.doi}") if x
        )
        out.append(f"- [{c.key}] {c.text}{extra} _{c.evidence}_")
    return "\n".join(out) + "\n"


def items_markdown(inst: Instrument, lang: str = "en") -> list[str]:
    """Lines of Markdown: response codes with their labels, then one row per item id.

    Example:
        >>> from psyscreen import load_instrument
        >>> rows = items_markdown(load_instrument("gad7"))
        >>> rows[0], rows[-1]
        ('Response codes:', '| `gad7_7` | 7 | afraid / 害怕 | freq4 | total |  |')
    """
    out = ["Response codes:", ""]
    for rs_id, rs in inst.response_scales.items():
        codes = [
            f"{c} = {rs.labels[c].best(lang)}" if c in rs.labels else str(c)
            for c in range(rs.min, rs.max + 1)
        ]
        codes += [
            f"{c.code} = {c.label.best(lang) if c.label else ''} (scored {c.value})".replace(
                " =  (", " ("
            )
            for c in rs.codes
        ]
        if rs.missing_codes:
            codes.append("missing: " + ", ".join(map(str, rs.missing_codes)))
        out.append(f"- `{rs_id}`: " + "; ".join(codes))
    out += [
        "",
        "| item id | no. | label | response scale | scales | reverse |",
        "|---|---|---|---|---|---|",
    ]
    for it in inst.items:
        label = " / ".join(t for t in (it.label.en, it.label.zh) if t) if it.label else ""
        scales = ", ".join(s.id for s in inst.scales if it.id in s.items)
        out.append(
            f"| `{it.id}` | {it.number if it.number is not None else ''} | {label} "
            f"| {it.response_scale} | {scales} | {'yes' if inst.is_reverse(it.id) else ''} |"
        )
    return out


def _overview(insts: list[Instrument]) -> list[str]:
    rows = [
        "| id | instrument | informant | ages | items | scales | item text | unverified facts |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i in insts:
        n_unv = (
            len(i.unverified)
            + sum(1 for s in i.scales for bs in s.bands if bs.unverified)
            + sum(1 for c in i.critical_items if c.unverified)
        )
        rows.append(
            f"| `{i.id}` | {i.title.best('en')} / {i.title.best('zh')} | {i.informant} "
            f"| {_age(i)} | {len(i.items)} | {len(i.scales)} "
            f"| {'yes' if i.licence.item_text_allowed else 'no'} | {n_unv} |"
        )
    return rows


def render_catalogue() -> str:
    """The whole catalogue as Markdown.

    Example:
        >>> render_catalogue().splitlines()[0]
        '# Instrument catalogue'
    """
    insts = [load_instrument(i) for i in list_instruments()]
    head = [
        "# Instrument catalogue",
        "",
        "Generated from `instruments/*.yaml` by `python -m psyscreen.catalogue`;"
        " do not edit by hand.",
        "Bounds use interval notation: `[a, b]` includes both ends, `(a, b)` excludes them.",
        "Source keys in brackets refer to each instrument's list of sources; evidence levels are"
        " _primary_ (original or official page), _secondary_ (third-party copy) and"
        " _unverified_ (not confirmed).",
        "",
        *_overview(insts),
        "",
    ]
    body = [instrument_markdown(i) for i in insts]
    return "\n".join(head) + "\n" + "\n".join(body)


def main() -> None:
    CATALOGUE_PATH.write_text(render_catalogue(), encoding="utf-8")
    print(f"wrote {CATALOGUE_PATH}")


if __name__ == "__main__":
    main()
