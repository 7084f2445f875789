"""The norm table format: schema, model checks and errors naming file, row and problem.

The tables written here are MADE UP for tests (their citations say so); they are not norms.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from psyscreen import DefinitionError, load_instrument, load_norms
from psyscreen.norms import NormTable, read_table, save_norms, table_yaml
from psyscreen.norms.models import Interval
from psyscreen.registry import schema

MADE_UP = {"key": "madeup", "text": "MADE-UP values for tests only.", "evidence": "unverified"}


def gad7_table(**over: Any) -> dict[str, Any]:
    """A made-up mean/SD table for gad7.total: girls and boys, ages [12, 15) and [15, 18)."""
    rows = []
    for sex, base in (("female", 5.0), ("male", 4.0)):
        for lo, hi, shift in ((12, 15, 0.0), (15, 18, 1.0)):
            rows.append(
                {
                    "scale": "total",
                    "sex": sex,
                    "age": {"ge": lo, "lt": hi},
                    "n": 100,
                    "mean": base + shift,
                    "sd": 4.0,
                }
            )
    data: dict[str, Any] = {
        "id": "gad7_madeup",
        "version": "1",
        "title": {"en": "MADE-UP GAD-7 norms (tests only)"},
        "instrument": "gad7",
        "instrument_version": load_instrument("gad7").version,
        "form": "mean_sd",
        "population": {"country": "XX", "n": 400},
        "covers": {"age": {"ge": 12, "lt": 18}, "age_unit": "years", "sex": ["female", "male"]},
        "citations": [MADE_UP],
        "source": "madeup",
        "licence": {"name": "test only"},
        "evidence": "unverified",
        "rows": rows,
    }
    data.update(over)
    return data


def gad7_lookup(**over: Any) -> dict[str, Any]:
    """A made-up lookup (raw 0-21 -> T, percentile) for gad7.total, one stratum."""
    entries = [{"ge": 0, "le": 2, "t": 40, "percentile": 16}]
    entries += [
        {"raw": r, "t": 40 + 2 * (r - 2), "percentile": min(99, 16 + 4 * (r - 2))}
        for r in range(3, 21)
    ]
    entries += [{"raw": 21, "t": 80}]
    data = gad7_table(
        form="lookup",
        covers={"age": {"ge": 12, "lt": 18}},
        rows=[{"scale": "total", "age": {"ge": 12, "lt": 18}, "lookup": entries}],
    )
    data.update(over)
    return data


def write(tmp_path: Path, data: dict[str, Any], name: str = "t.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def load_error(tmp_path: Path, data: dict[str, Any]) -> DefinitionError:
    p = write(tmp_path, data)
    with pytest.raises(DefinitionError) as e:
        load_norms(p)
    assert e.value.file == str(p.resolve()) or e.value.file == str(p)
    return e.value


def test_valid_tables_load(tmp_path):
    t = load_norms(write(tmp_path, gad7_table()))
    assert t.ref == "gad7_madeup@1" and t.scales == ["total"]
    assert t.sha256 and len(t.sha256) == 64
    lk = load_norms(write(tmp_path, gad7_lookup(), "l.yaml"))
    assert lk.form == "lookup"


def test_overlapping_strata_are_rejected_naming_the_row(tmp_path):
    data = gad7_table()
    data["rows"][1]["age"] = {"ge": 14, "lt": 18}  # female [12,15) and [14,18) overlap
    err = load_error(tmp_path, data)
    assert err.path == "rows[1]"
    assert "overlaps rows[0]" in err.problem and "female" in err.problem and "age 14" in err.problem


def test_gap_inside_the_declared_range_is_rejected(tmp_path):
    data = gad7_table()
    data["rows"][3]["age"] = {"ge": 16, "lt": 18}  # male [12,15) then [16,18): 15-16 missing
    err = load_error(tmp_path, data)
    assert err.path == "rows"
    assert "gap" in err.problem and "male" in err.problem and "age 15" in err.problem


def test_gap_of_one_point_between_exclusive_bounds_is_found(tmp_path):
    data = gad7_table()
    data["rows"][1]["age"] = {"gt": 15, "lt": 18}  # [12,15) and (15,18): age 15.0 uncovered
    err = load_error(tmp_path, data)
    assert "gap" in err.problem and "age 15 years" in err.problem


def test_a_missing_sex_is_a_gap(tmp_path):
    data = gad7_table()
    data["rows"] = [r for r in data["rows"] if r["sex"] == "female"]
    err = load_error(tmp_path, data)
    assert "gap" in err.problem and "male" in err.problem


def test_a_row_outside_the_declared_range_is_rejected(tmp_path):
    data = gad7_table()
    data["rows"][1]["age"] = {"ge": 15, "lt": 19}
    err = load_error(tmp_path, data)
    assert err.path == "rows[1].age" and "outside covers.age" in err.problem


def test_rows_must_give_the_dimensions_the_table_covers(tmp_path):
    data = gad7_table()
    del data["rows"][2]["sex"]
    err = load_error(tmp_path, data)
    assert err.path == "rows[2]" and "sex is required" in err.problem
    data = gad7_table(covers={"age": {"ge": 12, "lt": 18}})
    err = load_error(tmp_path, data)
    assert err.path == "rows[0].sex" and "not split by sex" in err.problem


def test_fields_of_another_form_are_rejected(tmp_path):
    data = gad7_table()
    data["rows"][0]["lookup"] = [{"raw": 0, "t": 40}]
    err = load_error(tmp_path, data)
    assert err.path == "rows[0]" and "lookup do not belong in a mean_sd table" in err.problem
    data = gad7_table()
    del data["rows"][0]["sd"]
    err = load_error(tmp_path, data)
    assert "needs sd" in err.problem


def test_lookup_must_cover_every_possible_raw_score(tmp_path):
    data = gad7_lookup()
    entries = data["rows"][0]["lookup"]
    data["rows"][0]["lookup"] = [e for e in entries if e.get("raw") != 7]
    err = load_error(tmp_path, data)
    assert err.path == "rows[0].lookup"
    assert "band set 'lookup': score 7 falls in no band" in err.problem


def test_lookup_beyond_the_scale_range_is_rejected(tmp_path):
    data = gad7_lookup()
    data["rows"][0]["lookup"].append({"raw": 22, "t": 81})
    p = write(tmp_path, data)
    # the model alone accepts it; the instrument check does not (22 > max 21)
    assert read_table(p).form == "lookup"
    with pytest.raises(DefinitionError):
        load_norms(p)


def test_non_monotone_percentiles_are_rejected(tmp_path):
    data = gad7_lookup()
    data["rows"][0]["lookup"][4]["percentile"] = 1
    err = load_error(tmp_path, data)
    assert err.path == "rows[0].lookup[4]"
    assert "non-monotone percentile" in err.problem


def test_non_monotone_t_is_rejected(tmp_path):
    data = gad7_lookup()
    data["rows"][0]["lookup"][6]["t"] = 20
    err = load_error(tmp_path, data)
    assert err.path == "rows[0].lookup[6]" and "non-monotone t" in err.problem


def test_overlapping_or_unsorted_lookup_entries_are_rejected(tmp_path):
    data = gad7_lookup()
    data["rows"][0]["lookup"][1] = {"ge": 2, "le": 3, "t": 41}
    err = load_error(tmp_path, data)
    assert err.path == "rows[0].lookup[1]" and "overlaps" in err.problem
    data = gad7_lookup()
    data["rows"][0]["lookup"].reverse()
    err = load_error(tmp_path, data)
    assert "increasing raw score" in err.problem


def test_lookup_entry_needs_t_or_percentile(tmp_path):
    data = gad7_lookup()
    data["rows"][0]["lookup"][3] = {"raw": 5}
    err = load_error(tmp_path, data)
    assert err.path.startswith("rows[0].lookup[3]") or err.path.startswith("rows.0.lookup.3")


def test_non_monotone_quantiles_are_rejected(tmp_path):
    data = gad7_table()
    data["rows"][0]["quantiles"] = [{"p": 10, "raw": 3}, {"p": 50, "raw": 2}]
    err = load_error(tmp_path, data)
    assert err.path == "rows[0].quantiles[1]" and "non-monotone" in err.problem


def test_bands_must_partition_the_scale_range(tmp_path):
    bands = [
        {"code": "normal", "label": {"en": "n"}, "ge": 0, "le": 9, "classification": "normal"},
        {"code": "high", "label": {"en": "h"}, "ge": 11, "le": 21, "classification": "abnormal"},
    ]
    data = gad7_table(
        form="bands",
        covers={"age": {"ge": 12, "lt": 18}},
        rows=[{"scale": "total", "age": {"ge": 12, "lt": 18}, "bands": bands}],
    )
    err = load_error(tmp_path, data)
    assert err.path == "rows[0].bands" and "score 10 falls in no band" in err.problem


def test_unknown_scale_and_wrong_version_are_rejected(tmp_path):
    data = gad7_table()
    for r in data["rows"]:
        r["scale"] = "nope"
    err = load_error(tmp_path, data)
    assert err.path == "rows[0].scale" and "no scale 'nope'" in err.problem
    err = load_error(tmp_path, gad7_table(instrument_version="0.0-other"))
    assert err.path == "instrument_version"


def test_mean_outside_the_scale_range_is_rejected(tmp_path):
    data = gad7_table()
    data["rows"][0]["mean"] = 30
    err = load_error(tmp_path, data)
    assert err.path == "rows[0].mean"


def test_schema_rejects_unknown_fields_and_bad_values(tmp_path):
    err = load_error(tmp_path, gad7_table(colour="red"))
    assert "colour" in err.problem
    data = gad7_table()
    data["rows"][0]["sd"] = 0
    err = load_error(tmp_path, data)
    assert err.path == "rows[0].sd"
    data = gad7_table()
    data["rows"][0]["sex"] = "boy"
    err = load_error(tmp_path, data)
    assert err.path == "rows[0].sex"


def test_unknown_source_citation_is_rejected(tmp_path):
    err = load_error(tmp_path, gad7_table(source="elsewhere"))
    assert err.path == "source"


def test_duplicate_yaml_keys_are_rejected(tmp_path):
    p = write(tmp_path, gad7_table())
    p.write_text(p.read_text("utf-8") + "version: '2'\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="duplicate key"):
        load_norms(p)


def test_table_round_trips_through_yaml_and_schema(tmp_path):
    t = load_norms(write(tmp_path, gad7_lookup()))
    p = save_norms(t, tmp_path / "copy.yaml")
    again = load_norms(p)
    assert again.model_dump() == t.model_dump()
    import jsonschema

    jsonschema.validate(yaml.safe_load(table_yaml(t)), schema("norm_table"))


def test_models_can_be_built_in_python():
    t = NormTable.model_validate(copy.deepcopy(gad7_table()))
    assert [r.stratum_label() for r in t.rows][:2] == [
        "female, age [12, 15) years",
        "female, age [15, 18) years",
    ]


def test_interval_semantics():
    iv = Interval(ge=8, lt=17)
    assert iv.contains(8) and iv.contains(16.999) and not iv.contains(17)
    assert iv.describe("years") == "[8, 17) years"
    assert Interval(gt=8, le=10).describe() == "(8, 10]"
    assert Interval(ge=9, le=10).within(iv) and not Interval(ge=9, le=17).within(iv)
    with pytest.raises(ValueError):
        Interval(ge=3, lt=3)
    with pytest.raises(ValueError):
        Interval(ge=3, gt=2)
