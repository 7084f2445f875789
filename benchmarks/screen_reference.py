"""A hand-written vectorised scorer of the default battery, to time ``psyscreen.screen`` against.

Written from the definitions' rules (``instruments/*.yaml``, ``norms/*.yaml``,
``profiles/default.yaml``, read here with plain YAML, none of psyscreen's scoring code):
read codes (special codes such as the ASQ's 9 = refused map to their value), drop codes
outside the response scale (invalid, never 0), reverse-key, sum, prorate per the
scale's missing rule (``min_answered``, mean x items, half up), composite scales,
bands, the norm table's bands for the child's stratum, critical items, and the
default profile's grading (critical item first, then two abnormal or a severe single
score, then one abnormal or two borderline; an insufficient or invalid instrument
gives its status unless a level from attention up fired; only the scales the grading
reads count: a missing prosocial score does not make the SDQ short of data).

It covers what the default profile needs (one stratum of ages, no sex split), not
psyscreen's generality, and it compares the columns below row for row.

Usage::

    python benchmarks/screen_reference.py --rows 1000000 --pairs 5

It also times ``screen_records`` against ``screen`` on the first ``--records-rows`` rows.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
BATTERY = ("phq9", "gad7", "sdq_s", "asq")
LEVELS = ("normal", "attention", "high_attention", "crisis")


def _yaml(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def definitions() -> dict[str, Any]:
    """The battery's instrument definitions, the SDQ norm table and the profile, as dicts."""
    prof = _yaml(ROOT / "profiles/default.yaml")
    insts = {i: _yaml(ROOT / f"instruments/{i}.yaml") for i in BATTERY}
    norms = {}
    for entry in prof["battery"]:
        for t in entry.get("norm_tables", []):
            norms[entry["instrument"]] = _yaml(ROOT / f"norms/{t}.yaml")
    return {"profile": prof, "instruments": insts, "norms": norms}


def synthetic(rows: int, seed: int = 0) -> pd.DataFrame:
    """Item codes (float, NaN = blank) with ~2% blanks and ~0.5% out-of-range codes; ages 12-17."""
    d = definitions()
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    for iid, inst in d["instruments"].items():
        for item in inst["items"]:
            rs = inst["response_scales"][item["response_scale"]]
            lo, hi = rs["min"], rs["max"]
            extra = [c["code"] for c in rs.get("codes", [])]
            choices = list(range(lo, hi + 1)) + extra + [hi + 3, np.nan]
            k = hi - lo + 1
            if iid == "asq":
                p = [0.95] + [0.02] * (k - 1)
            else:
                p = [0.55 / 0.55 * w for w in np.geomspace(1, 0.3, k)]
            p = list(np.array(p) / sum(p) * (0.975 - 0.003 * len(extra)))
            p += [0.003] * len(extra) + [0.005, 0.02]
            cols[item["id"]] = rng.choice(np.array(choices, dtype=float), rows, p=p)
    df = pd.DataFrame(cols)
    # a few straight-lined SDQ forms (every item the same answer)
    sdq = [it["id"] for it in d["instruments"]["sdq_s"]["items"]]
    straight = rng.random(rows) < 0.003
    df.loc[straight, sdq] = 1.0
    df["age"] = rng.integers(12, 18, rows)
    return df


def _bands(values: np.ndarray, bands: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    code = np.full(len(values), None, dtype=object)
    cls = np.full(len(values), None, dtype=object)
    for b in bands:
        hit = (values >= b["ge"]) & (values <= b["le"])
        code[hit] = b["code"]
        cls[hit] = b["classification"]
    return code, cls


def reference(df: pd.DataFrame, d: dict[str, Any] | None = None) -> pd.DataFrame:
    """Score and grade ``df`` (item-id columns, ``age``); columns named as psyscreen's."""
    d = d or definitions()
    n = len(df)
    out: dict[str, Any] = {}
    incomplete: list[np.ndarray] = []
    invalid_rows = np.zeros(n, dtype=bool)
    critical = np.zeros(n, dtype=bool)
    screening: list[tuple[np.ndarray, np.ndarray]] = []  # (abnormal, at least borderline)
    prof = {e["instrument"]: e for e in d["profile"]["battery"]}
    for iid, inst in d["instruments"].items():
        rev = set(inst.get("reverse_keyed", []))
        vals: dict[str, np.ndarray] = {}
        bad: dict[str, np.ndarray] = {}
        for item in inst["items"]:
            rs = inst["response_scales"][item["response_scale"]]
            x = df[item["id"]].to_numpy(dtype=float)
            for c in rs.get("codes", []):
                x = np.where(x == c["code"], c["value"], x)
            ok = (x >= rs["min"]) & (x <= rs["max"]) & (x == np.floor(x))
            bad[item["id"]] = ~np.isnan(x) & ~ok
            v = np.where(ok, x, np.nan)
            vals[item["id"]] = rs["min"] + rs["max"] - v if item["id"] in rev else v
        raw: dict[str, np.ndarray] = {}
        status: dict[str, np.ndarray] = {}
        for s in inst["scales"]:
            key = f"{iid}.{s['id']}"
            if "scales" in s:
                parts = np.column_stack([raw[p] for p in s["scales"]])
                r = np.where(np.isnan(parts).any(axis=1), np.nan, parts.sum(axis=1))
                st_parts = np.column_stack([status[p] for p in s["scales"]])
                st = np.where(
                    np.isnan(r),
                    np.where(
                        (st_parts == "not_answered").all(axis=1), "not_answered", "insufficient"
                    ),
                    np.where((st_parts == "complete").all(axis=1), "complete", "prorated"),
                )
            else:
                m = np.column_stack([vals[i] for i in s["items"]])
                k = len(s["items"])
                answered = (~np.isnan(m)).sum(axis=1)
                out[key + ".n_answered"] = answered
                out[key + ".n_invalid"] = np.column_stack([bad[i] for i in s["items"]]).sum(axis=1)
                miss = s.get("missing", {})
                need = miss.get("min_answered", k) if miss.get("prorate") else k
                total = np.nansum(m, axis=1)
                r = np.floor(total / np.maximum(answered, 1) * k + 0.5)
                r = np.where(answered == k, total, r)
                r = np.where(answered >= need, r, np.nan)
                st = np.where(
                    answered == k,
                    "complete",
                    np.where(answered >= need, "prorated", "insufficient"),
                )
                blank = np.column_stack([np.isnan(df[i].to_numpy(dtype=float)) for i in s["items"]])
                st = np.where(blank.all(axis=1), "not_answered", st)
            raw[s["id"]], status[s["id"]] = r, st
            out[key + ".raw"], out[key + ".status"] = r, st
            if s.get("bands"):
                code, cls = _bands(r, s["bands"][0]["bands"])
                out[key + ".band"], out[key + ".band_class"] = code, cls
        # norms: the stratum covering the child's age (the default's table has one per scale)
        table = d["norms"].get(iid)
        if table is not None:
            age = df["age"].to_numpy(dtype=float)
            for row in table["rows"]:
                key = f"{iid}.{row['scale']}"
                a = row["age"]
                inside = (age >= a["ge"]) & (age < a["lt"])
                code, cls = _bands(np.where(inside, raw[row["scale"]], np.nan), row["bands"])
                out[key + ".norm_band"], out[key + ".norm_band_class"] = code, cls
        for ci in inst.get("critical_items", []):
            m = np.column_stack([vals[i] for i in ci["items"]])
            cond = ci["condition"]
            hit = m >= cond["ge"] if "ge" in cond else m == cond["eq"]
            fired = hit.any(axis=1)
            # three-valued: not fired with a blank or invalid item is unknown, not "no"
            unknown = ~fired & np.isnan(m).any(axis=1)
            out[f"{iid}.critical.{ci['id']}"] = pd.arrays.BooleanArray(fired, unknown)
            if ci["id"] in prof[iid].get("critical_items", [ci["id"]]):
                critical |= fired
        entry = prof[iid]
        # an instrument is short of data when a scale the grading reads has no score
        needed = entry.get("required_scales") or entry["screening_scales"]
        short = np.column_stack([np.isnan(raw[s]) for s in needed])
        incomplete.append(np.asarray(short.any(axis=1), dtype=bool))
        for chk in entry.get("extra_validity_checks", []):
            if chk["kind"] == "straight_line":
                m = np.column_stack([vals[it["id"]] for it in inst["items"]])
                full = (~np.isnan(m)).sum(axis=1) >= chk["min_answered"]
                same = np.nanmax(m, axis=1) == np.nanmin(m, axis=1)
                invalid_rows |= full & same
        for sc in entry.get("screening_scales", []):
            field = "norm_band_class" if entry.get("band_source") == "norm" else "band_class"
            cls = out[f"{iid}.{sc}.{field}"]
            screening.append((cls == "abnormal", np.isin(cls, ["abnormal", "borderline"])))
    n_abn = sum(a.astype(int) for a, _ in screening)
    n_bl = sum(b.astype(int) for _, b in screening)
    severe = (np.nan_to_num(out["phq9.total.raw"]) >= 20) | (
        np.nan_to_num(out["gad7.total.raw"]) >= 15
    )
    level = np.select(
        [critical, (n_abn >= 2) | severe, (n_abn >= 1) | (n_bl >= 2)], [3, 2, 1], default=0
    )
    status_ = np.where(
        level >= 1,
        "level",
        np.where(
            invalid_rows,
            "invalid_response",
            np.where(np.logical_or.reduce(incomplete), "insufficient_data", "level"),
        ),
    )
    out["risk.status"] = status_
    out["risk.level_code"] = np.where(
        status_ == "level", np.array(LEVELS, dtype=object)[level], status_
    )
    return pd.DataFrame(out, index=df.index)


def compare(ref: pd.DataFrame, got: pd.DataFrame) -> dict[str, int]:
    """Disagreeing rows per column of ``ref`` (NaN/None/NA equal to each other)."""
    diff: dict[str, int] = {}
    for c in ref.columns:
        a = ref[c]
        b = got[c]
        na_a, na_b = pd.isna(a).to_numpy(), pd.isna(b).to_numpy()
        if a.dtype.kind in "fiub" and str(b.dtype) not in ("category", "string", "str", "object"):
            same = np.isclose(
                a.to_numpy(dtype=float), pd.to_numeric(b).to_numpy(dtype=float, na_value=np.nan)
            )
        else:
            same = a.astype(str).to_numpy() == b.astype(object).astype(str).to_numpy()
        diff[c] = int((~((na_a & na_b) | (~na_a & ~na_b & same))).sum())
    return diff


def records_vs_screen(df: pd.DataFrame, pairs: int = 3) -> float:
    """Time ``screen_records`` and ``screen`` alternately on ``df``; print pairs, return median."""
    import psyscreen

    demo = {"age": "age"}
    psyscreen.screen_records(df.head(50), "default", demographics=demo)  # warm
    ratios = []
    for k in range(pairs):
        t = time.perf_counter()
        psyscreen.screen(df, "default", demographics=demo)
        ts = time.perf_counter() - t
        t = time.perf_counter()
        psyscreen.screen_records(df, "default", demographics=demo)
        tr = time.perf_counter() - t
        ratios.append(tr / ts)
        print(
            f"  pair {k + 1}: screen_records {tr:6.2f} s  screen {ts:6.2f} s  ratio {tr / ts:.1f}"
        )
    med = statistics.median(ratios)
    print(
        f"screen_records / screen on {len(df):,} rows: median {med:.1f} "
        f"({min(ratios):.1f}-{max(ratios):.1f}) over {pairs} pairs (target <= 3)"
    )
    return med


def main() -> None:
    import psyscreen

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--pairs", type=int, default=5)
    p.add_argument("--records-rows", type=int, default=20_000, help="0: skip screen_records")
    a = p.parse_args()
    df = synthetic(a.rows)
    d = definitions()
    demo = {"age": "age"}
    psyscreen.screen(df.head(200), "default", demographics=demo)  # warm (definitions, imports)
    got = psyscreen.screen(df, "default", demographics=demo)
    ref = reference(df, d)
    diff = compare(ref, got)
    print(f"{a.rows:,} rows, {len(diff)} columns compared; disagreeing rows per column:")
    print("  " + (", ".join(f"{c}: {k}" for c, k in diff.items() if k) or "none (all 0)"))
    print(f"  total disagreeing cells: {sum(diff.values())}")
    levels = ref["risk.level_code"].value_counts().to_dict()
    print(f"  risk.level_code of the synthetic rows: {levels}")
    ratios = []
    for k in range(a.pairs):
        t = time.perf_counter()
        reference(df, d)
        tr = time.perf_counter() - t
        t = time.perf_counter()
        psyscreen.screen(df, "default", demographics=demo)
        ts = time.perf_counter() - t
        ratios.append(ts / tr)
        print(f"  pair {k + 1}: screen {ts:6.2f} s  reference {tr:6.2f} s  ratio {ts / tr:.2f}")
    print(
        f"screen / reference: median {statistics.median(ratios):.2f} "
        f"({min(ratios):.2f}-{max(ratios):.2f}) over {a.pairs} pairs (target <= 1.5)"
    )
    if a.records_rows:
        records_vs_screen(df.head(a.records_rows), min(a.pairs, 3))


if __name__ == "__main__":
    main()
