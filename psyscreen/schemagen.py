"""Generate the published JSON Schemas from the pydantic models.

The files in ``psyscreen/schemas/`` are generated, never edited by hand; a
test fails when they are stale. Regenerate with::

    python -m psyscreen.schemagen

Example:
    >>> from psyscreen.schemagen import generate
    >>> generate("instrument")["title"]
    'psyscreen instrument definition'
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

#: schema name -> (module, model class, title)
SCHEMAS: dict[str, tuple[str, str, str]] = {
    "instrument": ("psyscreen.definitions", "Instrument", "psyscreen instrument definition"),
    "mapping": ("psyscreen.batch.mapping", "MappingSpec", "psyscreen batch mapping file"),
    "norm_table": ("psyscreen.norms.models", "NormTable", "psyscreen norm table"),
    "risk_profile": ("psyscreen.risk.profile", "RiskProfile", "psyscreen risk profile"),
    "screening_record": ("psyscreen.risk.records", "ScreeningRecord", "psyscreen screening record"),
    "archive_bundle": (
        "psyscreen.archive.bundle_model",
        "Bundle",
        "psyscreen archive transfer bundle",
    ),
}

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


def generate(name: str) -> dict:
    """The JSON Schema of ``name`` as a dict."""
    module, cls, title = SCHEMAS[name]
    model = getattr(importlib.import_module(module), cls)
    schema = model.model_json_schema(by_alias=True, mode="validation")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://psyscreen.invalid/schemas/{name}.schema.json",
        **schema,
        "title": title,
    }
    return schema


def render(name: str) -> str:
    """The schema file text (stable key order, trailing newline)."""
    return json.dumps(generate(name), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name in SCHEMAS:
        (SCHEMA_DIR / f"{name}.schema.json").write_text(render(name), encoding="utf-8")
        print(f"wrote {name}.schema.json")


if __name__ == "__main__":
    main()
