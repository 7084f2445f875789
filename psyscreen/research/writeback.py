"""Writing cutpoint results back as definitions: band sets, instruments, norm tables.

* :func:`bandset_from_cutoffs` - cutoffs -> a :class:`~psyscreen.definitions.BandSet`
  of a scale with explicit bounds (``ge``/``lt`` for ``>=`` cutoffs, ``gt``/``le``
  for ``>``) from the scale's lowest to its highest possible score;
* :func:`add_bandset` - a copy of an instrument with the band set added (and its
  citation), validated like a definition file (JSON Schema + model rules);
* :func:`bandset_yaml` / :func:`instrument_yaml` - YAML text to paste into or
  save as a definition file (read back with :func:`psyscreen.yamlio.parse_yaml`);
* :func:`norm_table_from_groups` - cutoffs per age band x sex
  (:func:`~psyscreen.research.cutpoints.cutpoints_by_group`) -> a band-cutoff
  :class:`~psyscreen.norms.NormTable` (form ``bands``) checked against the instrument.

The source of a derived band set is *your* study: pass a citation describing
it. Bands made from a sample are estimates; the note records method, N and CI.

Example:
    >>> from psyscreen import load_instrument
    >>> bs = bandset_from_cutoffs(load_instrument("phq9"), "total", [11], ">=",
    ...                           id="local", source="kroenke2001")
    >>> [b.interval() for b in bs.bands]
    ['[0, 11)', '[11, 27]']
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .. import columns as colnames
from ..definitions import Band, BandSet, Citation, Instrument, Text
from ..errors import UnknownIdError
from ..registry import instrument_from_data, load_instrument
from ._data import check_direction, higher_is_positive

__all__ = [
    "add_bandset",
    "bands_from_cutoffs",
    "bandset_from_cutoffs",
    "bandset_yaml",
    "instrument_yaml",
    "norm_table_from_groups",
]

ZH = {"normal": "正常", "borderline": "临界", "abnormal": "异常"}
CLASSES = ("normal", "borderline", "abnormal")


def _default_codes(n: int) -> list[str]:
    if n == 2:
        return ["normal", "abnormal"]
    if n == 3:
        return ["normal", "borderline", "abnormal"]
    return ["normal", *(f"level_{i}" for i in range(1, n))]


def bands_from_cutoffs(
    lo: float,
    hi: float,
    cutoffs: Sequence[float],
    direction: str,
    *,
    codes: Sequence[str] | None = None,
    classifications: Sequence[str] | None = None,
    labels: Mapping[str, Text | Mapping[str, str]] | None = None,
) -> list[Band]:
    """Bands covering ``[lo, hi]`` split at ``cutoffs``, least severe first.

    ``direction`` says how a cutoff splits: ``">="`` puts the cutoff value in the
    more severe band (``ge: c`` / ``lt: c``), ``">"`` in the less severe band
    (``gt: c`` / ``le: c``); ``"<="`` and ``"<"`` do the same for scales where
    lower scores are worse. ``codes``/``classifications`` list the bands from the
    least to the most severe (default: normal / [borderline /] abnormal).

    Example:
        >>> [b.interval() for b in bands_from_cutoffs(0, 21, [5, 10], ">")]
        ['[0, 5]', '(5, 10]', '(10, 21]']
    """
    check_direction(direction)
    cs = [float(c) for c in cutoffs]
    if not cs or any(not np.isfinite(c) for c in cs):
        raise ValueError("every cutoff must be a finite number (a cutpoint was not found?)")
    n = len(cs) + 1
    codes = list(codes or _default_codes(n))
    if len(codes) != n:
        raise ValueError(f"{len(cs)} cutoff(s) make {n} bands; got {len(codes)} codes")
    if classifications is None:
        if all(c in CLASSES for c in codes):
            classifications = codes
        elif n <= 3:
            classifications = list(_default_codes(n))
        else:
            raise ValueError("give classifications= (normal/borderline/abnormal) for each band")
    classifications = list(classifications)
    if len(classifications) != n or any(c not in CLASSES for c in classifications):
        raise ValueError(f"classifications must be {n} of {CLASSES}")
    up = higher_is_positive(direction)
    inclusive_severe = direction in (">=", "<=")
    if up and any(b <= a for a, b in itertools.pairwise(cs)):
        raise ValueError(f"cutoffs must increase with severity for {direction!r}: {cs}")
    if not up and any(b >= a for a, b in itertools.pairwise(cs)):
        raise ValueError(f"cutoffs must decrease with severity for {direction!r}: {cs}")
    # the number line from lo to hi, split at the cutoffs (ascending)
    edges = sorted(cs)
    order = list(range(n)) if up else list(reversed(range(n)))  # severity of each piece
    out: list[Band] = []
    for piece in range(n):
        sev = order[piece]
        kw: dict[str, float] = {}
        if piece == 0:
            kw["ge"] = lo
        else:
            c = edges[piece - 1]
            # the piece above a cutoff holds c when the cutoff value is in the
            # more severe band and that band is the upper one
            kw["ge" if (inclusive_severe == up) else "gt"] = c
        if piece == n - 1:
            kw["le"] = hi
        else:
            c = edges[piece]
            kw["lt" if (inclusive_severe == up) else "le"] = c
        code = codes[sev]
        lab = (labels or {}).get(code)
        label = (
            lab
            if isinstance(lab, Text)
            else Text(**lab)
            if lab is not None
            else Text(en=code.replace("_", " ").capitalize(), zh=ZH.get(code))
        )
        try:
            out.append(Band(code=code, label=label, classification=classifications[sev], **kw))
        except ValueError:
            raise ValueError(
                f"cutoff(s) {cs} leave band {code!r} empty inside the score range {lo:g}-{hi:g}"
            ) from None
    return out if up else list(reversed(out))


def bandset_from_cutoffs(
    instrument: str | Instrument,
    scale: str,
    cutoffs: Sequence[float],
    direction: str = ">=",
    *,
    id: str,
    source: str,
    codes: Sequence[str] | None = None,
    classifications: Sequence[str] | None = None,
    labels: Mapping[str, Text | Mapping[str, str]] | None = None,
    note: str | None = None,
    unverified: str | None = None,
) -> BandSet:
    """A band set of ``scale`` made from cutoffs (see :func:`bands_from_cutoffs`).

    ``source`` is the key of the citation of the study the cutoffs come from
    (add the citation with :func:`add_bandset`). The bands span the scale's
    declared range and are checked to partition it.
    """
    inst = load_instrument(instrument)
    lo, hi = inst.scale_range(scale)
    sc = inst.scale(scale)
    up = higher_is_positive(direction)
    if (sc.higher_is == "worse") != up:
        raise ValueError(
            f"{colnames.ref(inst.id, scale)}: higher scores are {sc.higher_is}, but direction "
            f"{direction!r} treats {'higher' if up else 'lower'} scores as positive"
        )
    bands = bands_from_cutoffs(
        lo, hi, cutoffs, direction, codes=codes, classifications=classifications, labels=labels
    )
    bs = BandSet(id=id, source=source, note=note, unverified=unverified, bands=bands)
    bs.check_partition(lo, hi, inst.scale_is_integer(scale))
    return bs


def _dump(inst: Instrument) -> dict[str, Any]:
    return inst.model_dump(mode="json", by_alias=True, exclude_none=True)


def add_bandset(
    instrument: str | Instrument,
    scale: str,
    bandset: BandSet,
    *,
    citation: Citation | Mapping[str, Any] | None = None,
    first: bool = False,
    replace: bool = False,
) -> Instrument:
    """A copy of ``instrument`` with ``bandset`` added to ``scale``, fully validated.

    Args:
        citation: the study the bands come from (its ``key`` must equal
            ``bandset.source``), unless the instrument already cites it.
        first: make it the scale's first band set (the one ``score()`` reports as
            ``band``); by default it is appended (reported as ``band_{id}``).
        replace: replace a band set with the same id instead of failing.

    Example:
        >>> bs = bandset_from_cutoffs("gad7", "total", [8], id="local", source="local2025")
        >>> inst = add_bandset("gad7", "total", bs, citation={"key": "local2025",
        ...     "text": "Local validation study (synthetic example).", "evidence": "primary"})
        >>> [b.id for b in inst.scale("total").bands]
        ['severity', 'local']
    """
    inst = load_instrument(instrument)
    data = _dump(inst)
    cites = data.setdefault("citations", [])
    if citation is not None:
        cit = citation if isinstance(citation, Citation) else Citation(**dict(citation))
        if cit.key != bandset.source:
            raise ValueError(f"citation key {cit.key!r} differs from the band set source")
        if any(c["key"] == cit.key for c in cites):
            raise ValueError(f"{inst.id} already has a citation {cit.key!r}")
        cites.append(cit.model_dump(mode="json", exclude_none=True))
    elif not any(c["key"] == bandset.source for c in cites):
        raise ValueError(
            f"{inst.id} has no citation {bandset.source!r}: pass citation= describing the study"
        )
    for s in data["scales"]:
        if s["id"] != scale:
            continue
        sets = [b for b in s.get("bands", []) if not (replace and b["id"] == bandset.id)]
        new = bandset.model_dump(mode="json", exclude_none=True)
        s["bands"] = [new, *sets] if first else [*sets, new]
        break
    else:
        raise UnknownIdError(f"{inst.id}: no scale {scale!r}", "scale", scale)
    return instrument_from_data(data, f"<{inst.id} + band set {bandset.id}>")


def _tidy(x: Any) -> Any:
    """Whole-number floats as ints (``ge: 8`` rather than ``ge: 8.0``) for readable YAML."""
    if isinstance(x, float) and x.is_integer():
        return int(x)
    if isinstance(x, dict):
        return {k: _tidy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_tidy(v) for v in x]
    return x


def bandset_yaml(bandset: BandSet) -> str:
    """YAML text of a band set (an item of a scale's ``bands:`` list).

    Example:
        >>> bs = bandset_from_cutoffs("gad7", "total", [8], id="local", source="x")
        >>> bandset_yaml(bs).splitlines()[0]
        'id: local'
    """
    data = _tidy(bandset.model_dump(mode="json", exclude_none=True))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def instrument_yaml(instrument: Instrument) -> str:
    """YAML text of a whole instrument definition (e.g. after :func:`add_bandset`)."""
    return yaml.safe_dump(_tidy(_dump(instrument)), sort_keys=False, allow_unicode=True, width=100)


_INTERVAL = re.compile(r"^\s*([\[(])\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*([\])])\s*$")


def _parse_interval(label: Any) -> dict[str, float]:
    m = _INTERVAL.match(str(label))
    if not m:
        raise ValueError(
            f"age group {label!r} is not an interval like '[6, 9)' (use research.age_band)"
        )
    lo_b, lo, hi, hi_b = m.groups()
    return {("ge" if lo_b == "[" else "gt"): float(lo), ("le" if hi_b == "]" else "lt"): float(hi)}


def norm_table_from_groups(
    groups: Any,
    instrument: str | Instrument,
    scale: str,
    *,
    id: str,
    version: str,
    title: Mapping[str, str],
    citation: Citation | Mapping[str, Any],
    population: Mapping[str, Any],
    licence: Mapping[str, Any] | None = None,
    age: str | None = None,
    sex: str | None = None,
    age_unit: str = "years",
    codes: Sequence[str] | None = None,
    classifications: Sequence[str] | None = None,
    evidence: str = "primary",
    notes: Sequence[str] = (),
):
    """A band-cutoff norm table (form ``bands``) from per-group cutpoints.

    Args:
        groups: a :class:`~psyscreen.research.cutpoints.GroupCutpoints`.
        age: the grouping column holding age bands labelled like ``"[6, 9)"``
            (see :func:`~psyscreen.research.cutpoints.age_band`).
        sex: the grouping column holding sex (any coding
            :func:`psyscreen.demographics.parse_sex` reads).
        citation, population, licence, title: table metadata (see ``docs/norms.md``).

    Every group needs a cutoff: a group reported without one (too few cases)
    raises an error rather than being filled from another group.
    """
    from ..demographics import parse_sex
    from ..norms import NormTable
    from ..norms.loading import checked

    inst = load_instrument(instrument)
    dims = [d for d in (age, sex) if d is not None]
    if sorted(dims) != sorted(groups.by):
        raise ValueError(f"name every grouping column as age= or sex=: groups are by {groups.by}")
    table = groups.table.reset_index()
    table = table[~(table[groups.by] == "all").all(axis=1)]
    missing = table[table["cutoff"].isna()]
    if len(missing):
        raise ValueError(
            f"{len(missing)} group(s) have no cutoff (too few cases or non-cases); "
            "merge groups or collect more data - no group is filled from another"
        )
    lo, hi = inst.scale_range(scale)
    cit = citation if isinstance(citation, Citation) else Citation(**dict(citation))
    rows = []
    ages = []
    sexes = set()
    for _, g in table.iterrows():
        bands = bands_from_cutoffs(
            lo, hi, [g["cutoff"]], groups.direction, codes=codes, classifications=classifications
        )
        row: dict[str, Any] = {
            "scale": scale,
            "n": int(g["n_pos"] + g["n_neg"]),
            "bands": [b.model_dump(mode="json", exclude_none=True) for b in bands],
            "note": (
                f"cutoff {groups.direction} {g['cutoff']:g} "
                f"(bootstrap CI {g['cutoff_lower']:g}-{g['cutoff_upper']:g}); "
                f"{int(g['n_pos'])} cases, {int(g['n_neg'])} non-cases; "
                f"{groups.criterion.describe()}"
            ),
        }
        if age is not None:
            iv = _parse_interval(g[age])
            row["age"] = iv
            ages.append(iv)
        if sex is not None:
            s = parse_sex(pd.Series([g[sex]], dtype=object))
            if not isinstance(s.iloc[0], str):
                raise ValueError(f"sex group {g[sex]!r} is not a recognised sex code")
            row["sex"] = s.iloc[0]
            sexes.add(s.iloc[0])
        rows.append(row)
    covers: dict[str, Any] = {}
    if ages:
        lows = [min(v for k, v in a.items() if k in ("ge", "gt")) for a in ages]
        highs = [max(v for k, v in a.items() if k in ("le", "lt")) for a in ages]
        first = ages[int(np.argmin(lows))]
        last = ages[int(np.argmax(highs))]
        covers["age"] = {
            **({"ge": first["ge"]} if "ge" in first else {"gt": first["gt"]}),
            **({"le": last["le"]} if "le" in last else {"lt": last["lt"]}),
        }
        covers["age_unit"] = age_unit
    if sexes:
        covers["sex"] = sorted(sexes)
    data = {
        "id": id,
        "version": version,
        "title": dict(title),
        "instrument": inst.id,
        "instrument_version": inst.version,
        "form": "bands",
        "population": dict(population),
        "covers": covers,
        "citations": [cit.model_dump(mode="json", exclude_none=True)],
        "source": cit.key,
        "licence": dict(licence or {"name": "own data"}),
        "evidence": evidence,
        "notes": [
            "Band cutoffs per stratum from psyscreen.research.cutpoints_by_group "
            f"({groups.criterion.describe()}; {groups.n_boot} bootstrap resamples, "
            f"seed {groups.seed}).",
            *notes,
        ],
        "rows": rows,
    }
    return checked(NormTable.model_validate(data), inst)
