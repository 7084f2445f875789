"""Risk levels: the risk stage of the flow, in the style of DB12/T 3037.

This package provides the stage's functions; :mod:`psyscreen.pipeline` runs them in order
(score -> norms -> risk -> records) behind :func:`psyscreen.screen` and
:func:`psyscreen.screen_records`. It never imports the pipeline.

* :func:`load_profile`, :func:`list_profiles` - shipped or your own profiles;
* :func:`route_rows`, :func:`~psyscreen.risk.evaluate.evaluate`,
  :func:`~psyscreen.risk.records.build_records` - routing, grading and records;
* :func:`norm_choice`, :func:`norm_tables` - the norm tables a profile scores with;
* :func:`provenance` - library version and hashes of everything a profile uses.

The shipped ``default`` profile is psyscreen's own design in the style of
DB12/T 3037-2023, not the text of that standard (see ``docs/risk.md``).

Example:
    >>> import psyscreen
    >>> from psyscreen.risk import norm_choice
    >>> choice = norm_choice(psyscreen.load_profile("school"), "auto")
    >>> sorted(choice.parts)[:2]
    ['', 'primary']
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..norms.apply import Chosen, select_tables
from .evaluate import RESULT_STATUSES, instruments_of
from .profile import RiskProfile, list_profiles, load_profile
from .records import ScreeningRecord
from .routes import route_rows

ProfileLike = str | Path | RiskProfile

__all__ = [
    "RESULT_STATUSES",
    "NormChoice",
    "RiskProfile",
    "ScreeningRecord",
    "list_profiles",
    "load_profile",
    "norm_choice",
    "norm_tables",
    "provenance",
    "provenance_of",
    "route_rows",
    "tables_of",
]


#: names that moved to :mod:`psyscreen.pipeline`; kept here, deprecated, for one release
_MOVED = ("screen", "screen_records", "screen_staged")


def __getattr__(name: str) -> Any:
    """``psyscreen.risk.screen`` and friends, deprecated: use :func:`psyscreen.screen`.

    Looked up in the loaded pipeline, never imported from here: the risk stage does not
    depend on the sequencer (``import psyscreen``, which any use of this package runs
    first, has loaded it).
    """
    if name in _MOVED:
        warnings.warn(
            f"psyscreen.risk.{name} is deprecated: use psyscreen.pipeline.{name}"
            + (" or psyscreen." + name if name != "screen_staged" else ""),
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(sys.modules["psyscreen.pipeline"], name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _resolve_norms(prof: RiskProfile, norms: Any) -> Any:
    if norms is None:
        if any(b.band_source == "norm" for b in prof.entries()):
            raise ValueError(
                f"profile {prof.id!r} takes bands from norm tables (band_source: norm); "
                "norms=None cannot be used with it"
            )
        return None
    if isinstance(norms, str) and norms == "auto":
        pinned = list(dict.fromkeys(t for b in prof.entries() for t in b.norm_tables))
        return [*pinned, "auto"]
    return norms


def _chosen(prof: RiskProfile, norms: Any) -> Chosen:
    """Which norm table standardises which scale of the profile's battery."""
    resolved = _resolve_norms(prof, norms)
    return {} if resolved is None else select_tables(resolved, instruments_of(prof))


@dataclass(frozen=True)
class NormChoice:
    """The norm tables of every battery a profile can score with, selected once (a batch
    plan holds one, so that no chunk selects again).

    ``whole``: the tables of the profile's one battery (None for a routed profile, which
    is never scored whole); ``parts``: route id (``''``: the rows outside the routes) ->
    tables of that route's battery.
    """

    whole: Chosen | None = None
    parts: dict[str, Chosen] = field(default_factory=dict)


def norm_choice(prof: RiskProfile, norms: Any) -> NormChoice:
    """The norm tables of each battery of ``prof`` with the ``norms`` argument of
    :func:`psyscreen.screen` (the choice never depends on the data).

    Example:
        >>> import psyscreen
        >>> c = norm_choice(psyscreen.load_profile("default"), "auto")
        >>> sorted({t.id for t in c.whole.values()})
        ['sdq_s_cn_du2008']
    """
    parts = {r.id: _chosen(prof.part(r.id), norms) for r in prof.routes}
    parts[""] = _chosen(prof.part(None), norms)
    return NormChoice(None if prof.routed else _chosen(prof, norms), parts)


def tables_of(chosen: Chosen) -> list:
    """The distinct tables of ``chosen``, sorted by reference."""
    unique = {t.ref: t for t in chosen.values()}
    return [unique[k] for k in sorted(unique)]


def norm_tables(profile: ProfileLike, norms: Any = "auto") -> list:
    """The norm tables :func:`screen` uses with this profile and ``norms`` argument.

    The choice depends on the profile and ``norms`` only, never on the data.

    Example:
        >>> import psyscreen
        >>> from psyscreen.risk import norm_tables
        >>> isinstance(norm_tables("default"), list)
        True
    """
    return tables_of(_chosen(load_profile(profile), norms))


def provenance(profile: ProfileLike, norms: Any = "auto") -> dict:
    """Library version and SHA-256 of the profile, its instruments and norm tables.

    The norm tables are those :func:`screen` uses with the same ``norms``
    argument (the choice does not depend on the data), so a batch manifest can
    call this once per run.

    Example:
        >>> import psyscreen
        >>> p = psyscreen.provenance("default")
        >>> p["profile"]["id"], len(p["profile"]["sha256"])
        ('default', 64)
    """
    prof = load_profile(profile)
    return provenance_of(prof, norm_tables(prof, norms))


def provenance_of(prof: RiskProfile, tables: list) -> dict:
    """:func:`provenance` of a loaded profile with the norm ``tables`` it used."""
    return {
        "library": "psyscreen",
        "library_version": __version__,
        "profile": {"id": prof.id, "version": prof.version, "sha256": prof.sha256},
        "instruments": [
            {"id": i.id, "version": i.version, "sha256": i.sha256} for i in instruments_of(prof)
        ],
        "norm_tables": [{"id": t.id, "version": t.version, "sha256": t.sha256} for t in tables],
    }
