"""The typed-records regression cases: varied frames through ``screen_records``.

Each case builds one frame from a fixed seed and screens it with ``screen_records``; the
expected output, ``records.json.gz``, is ``[r.model_dump(mode="json") for r in records]``
per case. It was written by the record builder before its rewrite for speed (issue 16):
``python -m tests.regression.records_cases`` rewrites it, which is only right for an
intended change of results described in ``CHANGELOG.md``, never to make a refactor pass.

The frames draw from :class:`random.Random` (its ``random()`` stream is fixed across Python
versions) and cover: ages 8-20 with out-of-range and missing ages, blanks, out-of-range and
special codes, critical items, straight-lined SDQ forms (a validity check), the default
profile with its norm table, the school and institution profiles (routed by age and by
informant), ``id_column``, a battery instrument absent (``missing_columns="missing"``), and
a custom profile with validity, band-code, T-score and ``all_of`` rules.
"""

from __future__ import annotations

import gzip
import json
import random
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

import psyscreen

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
FIXTURE = HERE / "records.json.gz"

INFORMANTS = ["parent", "teacher", "self", "本人", "家长", None, "someone"]


def _frame(
    instruments: list[str], n: int, seed: int, ages: tuple[float, float] = (4.0, 21.0)
) -> pd.DataFrame:
    """Answers to ``instruments`` for ``n`` children, with ages, ids and informants."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    insts = [psyscreen.load_instrument(i) for i in instruments]
    for k in range(n):
        style = rng.random()
        row: dict[str, Any] = {}
        for inst in insts:
            straight = inst.id.startswith("sdq") and rng.random() < 0.08
            for item in inst.items:
                rs = inst.response_scales[item.response_scale]
                lo, hi = int(rs.min), int(rs.max)
                u = rng.random()
                if (inst.id == "asq" and u < 0.93) or (style > 0.6 and u < 0.85):
                    v: float | None = float(lo)  # a suicide item "no", or a calm child
                elif straight:
                    v = 1.0
                elif u < 0.05:
                    v = None  # blank
                elif u < 0.07:
                    v = float(hi + 2)  # out of range
                elif u < 0.09 and rs.codes:
                    v = float(rs.codes[int(rng.random() * len(rs.codes))].code)
                else:
                    # skew towards low codes for most children, high for a few
                    w = rng.random() ** (0.4 if style < 0.2 else 2.5)
                    v = float(lo + min(int(w * (hi - lo + 1)), hi - lo))
                row[item.id] = v
        a = rng.random()
        if a < 0.05:
            age: float | None = None
        elif a < 0.08:
            age = 25.0
        else:
            age = round(ages[0] + rng.random() * (ages[1] - ages[0]), 2)
        row["age"] = age
        row["child"] = None if rng.random() < 0.05 else f"c{seed}-{k}"
        row["informant"] = INFORMANTS[int(rng.random() * len(INFORMANTS))]
        rows.append(row)
    return pd.DataFrame(rows)


def _custom_profile(tmp: Path) -> Path:
    """The default profile plus SCARED with its T-score table, and rules of every kind."""
    data = yaml.safe_load((ROOT / "profiles" / "default.yaml").read_text("utf-8"))
    data["id"] = "records_fixture"
    data["age"] = {"ge": 12, "lt": 17}  # within SCARED's ages
    data["battery"].append(
        {
            "instrument": "scared_c",
            "required": False,
            "screening_scales": ["total"],
            "band_source": "auto",
            "norm_tables": ["scared_c_cn_12city2008"],
        }
    )
    data["rules"] += [
        {"id": "invalid_any", "level": "attention", "when": {"validity": {}}, "en": "v", "zh": "v"},
        {
            "id": "phq_moderate",
            "level": "attention",
            "when": {"band": {"scale": "phq9.total", "band": ["moderate", "severe"]}},
            "en": "b",
            "zh": "b",
        },
        {
            "id": "scared_t",
            "level": "high_attention",
            "when": {
                "all_of": [
                    {"score": {"scale": "scared_c.total", "field": "t", "ge": 60}},
                    {"band": {"scale": "gad7.total", "band_class": ["borderline", "abnormal"]}},
                ]
            },
            "en": "t",
            "zh": "t",
        },
    ]
    out = tmp / "records_fixture.yaml"
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return out


def cases() -> dict[str, list[dict[str, Any]]]:
    """Per case name, the records as JSON-ready dicts."""
    default = ["phq9", "gad7", "sdq_s", "asq"]
    school = psyscreen.load_profile("school").instruments
    institution = psyscreen.load_profile("institution").instruments
    runs: dict[str, tuple[pd.DataFrame, Any, dict[str, Any]]] = {
        "default": (_frame(default, 400, 1, (10.0, 19.0)), "default", {"id_column": "child"}),
        "school_no_asq": (
            _frame([i for i in school if i != "asq"], 150, 2),
            "school",
            {"missing_columns": "missing"},
        ),
        "default_no_gad7": (
            _frame(["phq9", "sdq_s", "asq"], 150, 3, (10.0, 19.0)),
            "default",
            {"missing_columns": "missing"},
        ),
        "school": (_frame(school, 400, 4), "school", {"id_column": "child"}),
        "institution": (
            _frame(institution, 400, 5),
            "institution",
            {"demographics": {"age": "age", "informant": "informant"}},
        ),
        "institution_no_informant": (
            _frame(institution, 200, 6).drop(columns="informant"),
            "institution",
            {},
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        custom = psyscreen.load_profile(_custom_profile(Path(tmp)))
    df = _frame([*default, "scared_c"], 300, 7, (8.0, 17.0))
    df["sex"] = ["female" if k % 3 else "male" for k in range(len(df))]
    df.loc[::17, "sex"] = None
    demo = {"age": "age", "sex": "sex"}
    runs["custom"] = (df, custom, {"demographics": demo, "id_column": "child"})
    out: dict[str, list[dict[str, Any]]] = {}
    for name, (frame, profile, kw) in runs.items():
        recs = psyscreen.screen_records(frame, profile, **kw)
        out[name] = [_stable(r.model_dump(mode="json")) for r in recs]
    return out


def _stable(rec: dict[str, Any]) -> dict[str, Any]:
    """The record without the library version (a release must not break the fixture)."""
    rec["provenance"]["library_version"] = "<version>"
    return rec


def dumps(data: dict[str, list[dict[str, Any]]]) -> bytes:
    """The fixture's bytes (sorted keys, one line per record for readable diffs)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=0).encode("utf-8")


def regenerate() -> None:
    with gzip.GzipFile(FIXTURE, "wb", mtime=0) as fh:
        fh.write(dumps(cases()))


if __name__ == "__main__":
    regenerate()
