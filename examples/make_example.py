"""Generate the SYNTHETIC annual screening export used by the README's main job.

Every value is made up by a seeded random generator: no real child, school or
answer is in these files. The export imitates what a Chinese survey platform
gives a school district: GB18030 encoding, Chinese headers, answer *texts*
(完全不会 / 好几天 / ...) instead of codes, blank answers and a cell that starts
like a formula. With ``--with-slips`` it adds the usual slips of real data
(unreadable answers, a missing or repeated id, an unknown sex code, a birth date
after the assessment date) so that the problems file has work to do; the
committed example has none, so the README's main job exits 0.

Usage (from the repository root)::

    python examples/make_example.py            # writes examples/annual_export.csv + mapping.yaml
    python examples/make_example.py --rows 100000 --instruments phq9 gad7 sdq_s scared_c \\
        --out /tmp/big.csv --mapping /tmp/big_mapping.yaml

The same inputs always give byte-identical files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

#: answer texts as a platform might export them (code -> text), per instrument
ANSWER_TEXTS = {
    "phq9": ["完全不会", "好几天", "一半以上的天数", "几乎每天"],
    "gad7": ["从不", "有几天", "超过一半天数", "几乎每天"],
}
MISSING_TEXT = "未作答"
#: latent cut points per number of answer options (a mostly healthy population)
CUTS = {2: [1.9], 3: [0.8, 1.9], 4: [0.6, 1.5, 2.3]}
GRADES = ["初一", "初二", "初三", "高一", "高二", "高三"]
GRADE_AGE = {"初一": 12, "初二": 13, "初三": 14, "高一": 15, "高二": 16, "高三": 17}


def _instrument(iid: str):
    import sys

    sys.path.insert(0, str(HERE.parent))
    from psyscreen import load_instrument

    return load_instrument(iid)


def default_battery() -> list[str]:
    """Instruments of the shipped default risk profile (what the README's main job scores)."""
    _instrument("phq9")  # puts the repository on sys.path
    from psyscreen import load_profile

    return load_profile("default").instruments


def answer_texts(inst) -> dict[str, list[str]]:
    """Response scale id -> answer text of each code (min..max)."""
    out = {}
    for rs_id, rs in inst.response_scales.items():
        codes = range(rs.min, rs.max + 1)
        if inst.id in ANSWER_TEXTS and len(ANSWER_TEXTS[inst.id]) == len(codes):
            out[rs_id] = ANSWER_TEXTS[inst.id]
        elif all(c in rs.labels and rs.labels[c].zh for c in codes):
            out[rs_id] = [rs.labels[c].zh for c in codes]
        else:
            out[rs_id] = [str(c) for c in codes]
    return out


def header(inst, item) -> str:
    label = item.label.zh if item.label and item.label.zh else ""
    return f"{item.id.upper()} {label}".strip()


def make_export(
    n: int, instruments: list[str], seed: int = 2024, start: int = 0, slips: bool = True
) -> pd.DataFrame:
    """A synthetic export of ``n`` rows (one per child) for ``instruments``.

    Ids run from ``start + 1``; generate a large file in parts with distinct
    ``seed`` and ``start``. ``slips`` injects row problems (missing and repeated
    ids, unknown sex codes, impossible birth dates, unreadable answers); blank
    answers and a formula-like cell are always there.
    """
    rng = np.random.default_rng(seed)
    schools = [f"合成示例中学{k:02d}" for k in range(1, 7)]
    grade = rng.choice(GRADES, n)
    age = np.array([GRADE_AGE[g] for g in grade]) + rng.integers(0, 2, n)
    assess = pd.Timestamp("2024-10-08") + pd.to_timedelta(rng.integers(0, 20, n), unit="D")
    birth = assess - pd.to_timedelta((age * 365.25 + rng.integers(0, 360, n)).astype(int), unit="D")
    df = pd.DataFrame(
        {
            "学号": [f"SYN{k:07d}" for k in range(start + 1, start + n + 1)],
            "学校": rng.choice(schools, n, p=[0.3, 0.25, 0.2, 0.15, 0.0975, 0.0025]),
            "年级": grade,
            "班级": [f"{k}班" for k in rng.integers(1, 9, n)],
            "性别": rng.choice(["男", "女"], n),
            "出生日期": birth.strftime("%Y-%m-%d"),
            "测评日期": assess.strftime("%Y/%m/%d"),
        }
    )
    severity = rng.normal(0.0, 1.0, n)
    for iid in instruments:
        inst = _instrument(iid)
        texts = answer_texts(inst)
        critical = {i for c in inst.critical_items for i in c.items}
        for item in inst.items:
            rs = inst.response_scales[item.response_scale]
            k = rs.max - rs.min + 1
            sign = -1.0 if inst.is_reverse(item.id) else 1.0
            latent = 0.6 * sign * severity + rng.normal(0.0, 0.8, n)
            if item.id in critical:
                latent = latent - 0.8  # self-harm items are endorsed rarely
            code = (
                np.searchsorted(CUTS[k], latent).astype(int)
                if k in CUTS
                else (np.clip(np.floor((latent + 1.2) * k / 3.0), 0, k - 1).astype(int))
            )
            col = np.array(texts[item.response_scale], dtype=object)[code]
            blank = rng.random(n) < 0.004
            col[blank] = MISSING_TEXT if rng.random() < 0.5 else ""
            df[header(inst, item)] = col
    df.loc[rng.integers(0, n), "班级"] = "=1+1"
    if not slips:
        return df
    # the slips of real data (deterministic positions)
    df.loc[rng.choice(n, max(1, n // 500), replace=False), "学号"] = ""
    dup = rng.choice(n, max(1, n // 700), replace=False)
    df.loc[dup, "学号"] = df.loc[(dup + 1) % n, "学号"].to_numpy()
    df.loc[rng.choice(n, max(1, n // 400), replace=False), "性别"] = "X"
    bad_birth = rng.choice(n, max(1, n // 1000), replace=False)
    df.loc[bad_birth, "出生日期"] = "2025-01-01"
    item_cols = df.columns[7:]
    for _ in range(max(1, n // 300)):
        r, c = rng.integers(0, n), rng.integers(0, len(item_cols))
        df.loc[r, item_cols[c]] = rng.choice(["5", "不知道", "2.5"])
    return df


def mapping_yaml(instruments: list[str]) -> str:
    """The mapping file text for an export made by :func:`make_export`."""
    lines = [
        "# Mapping for the SYNTHETIC example export (examples/make_example.py).",
        "# Export headers and answer texts -> psyscreen item ids, codes and roles.",
        "mapping_version: 1",
        "description: 合成示例数据（非真实儿童） / synthetic example export",
        "columns:",
        "  id: 学号",
        "  school: 学校",
        "  grade: 年级",
        "  class: 班级",
        "  sex: 性别",
        "  birth_date: 出生日期",
        "  assessment_date: 测评日期",
        "required: [id, sex]",
        f"missing_answers: [{MISSING_TEXT}]",
        "items:",
    ]
    tables = []
    for iid in instruments:
        inst = _instrument(iid)
        for item in inst.items:
            lines.append(f"  {item.id}: {header(inst, item)}")
        for rs_id, texts in answer_texts(inst).items():
            rs = inst.response_scales[rs_id]
            if texts == [str(c) for c in range(rs.min, rs.max + 1)]:
                continue
            items = [i.id for i in inst.items if i.response_scale == rs_id]
            target = (
                f"instruments: [{iid}]"
                if len(items) == len(inst.items)
                else f"items: [{', '.join(items)}]"
            )
            codes = ", ".join(f"{t}: {rs.min + k}" for k, t in enumerate(texts))
            tables.append(f"  - {target}\n    codes: {{{codes}}}")
    lines.append("answers:")
    lines.extend(tables)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=2000)
    p.add_argument(
        "--instruments", nargs="+", help="default: the battery of the default risk profile"
    )
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--out", default=str(HERE / "annual_export.csv"))
    p.add_argument("--mapping", default=str(HERE / "mapping.yaml"))
    p.add_argument("--encoding", default="gb18030")
    p.add_argument(
        "--with-slips",
        action="store_true",
        help="inject row problems (the committed example has none, so the README's "
        "main job exits 0; with slips it exits 1 = success with row problems)",
    )
    a = p.parse_args(argv)
    a.instruments = a.instruments or default_battery()
    df = make_export(a.rows, a.instruments, a.seed, slips=a.with_slips)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(a.out, index=False, encoding=a.encoding, lineterminator="\r\n")
    Path(a.mapping).write_text(mapping_yaml(a.instruments), encoding="utf-8")
    print(f"wrote {a.out} ({a.rows} rows, {a.encoding}) and {a.mapping}")


if __name__ == "__main__":
    main()
