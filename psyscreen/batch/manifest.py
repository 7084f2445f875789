"""The run manifest's parts: timestamps, output entries and provenance of definitions.

Example:
    >>> from psyscreen.batch.manifest import _now
    >>> _now()[:2]
    '20'
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

from .._version import __version__
from ..definitions import Instrument
from .io import sha256_file


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def _out_entry(p: Path, written: Path, sha256: str | None = None) -> dict[str, Any]:
    """Manifest entry of output ``p`` (its bytes are in ``written`` until renamed);
    ``sha256``: already known (else the file is hashed)."""
    digest = sha256 or sha256_file(written)
    return {"file": str(p), "sha256": digest, "bytes": os.path.getsize(written)}


def _provenance(prof, insts: list[Instrument], norms: Any) -> dict[str, Any]:
    """Versions and content hashes of the profile, instruments and norm tables used."""
    from ..risk import provenance

    if prof is None:  # scores only: the instruments and the norm tables they pick
        tables: list = []
        if norms is not None:
            from ..norms import select_tables

            tables = sorted(
                {t.ref: t for t in select_tables(norms, insts).values()}.values(),
                key=lambda t: t.ref,
            )
        return {
            "library": "psyscreen",
            "library_version": __version__,
            "profile": None,
            "instruments": [{"id": i.id, "version": i.version, "sha256": i.sha256} for i in insts],
            "norm_tables": [{"id": t.id, "version": t.version, "sha256": t.sha256} for t in tables],
        }
    return provenance(prof, norms)
