"""Generate a SYNTHETIC 问卷星-style export (PHQ-9 + GAD-7) for docs/getting-started.md.

Every value is made up by a seeded random generator: no real child, school or answer
is in these files. The export looks like what a school gets from a survey platform:
platform columns (序号, 提交答卷时间 with times like ``2024/10/18 8:04:52``, 所用时间,
来源), numbered Chinese questions (``8、在过去两周里，以下问题困扰你的频率—做事时提不起劲
或没有兴趣``), answer *texts* with the slips of real exports (traditional characters,
full-width blanks, a skipped question written ``(跳过)``), a name column and a free-text
question. Layouts (``--layout``):

* ``text``: 问卷星 "按选项文本" export (the committed ``examples/wjx_export.csv``);
* ``numbers``: 问卷星 "按选项序号" export: 1-based option numbers 1..4 instead of texts;
* ``english``: English headers and answer labels.

Usage (from the repository root)::

    python examples/make_wjx_example.py            # writes examples/wjx_export.csv

The same inputs always give byte-identical files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

INTRO = "在过去两周里，以下问题困扰你的频率"
#: synthetic question wordings (PHQ-9 and GAD-7 are public domain, translations included)
ZH_ITEMS = {
    "phq9": [
        "做事时提不起劲或没有兴趣",
        "感到心情低落、沮丧或绝望",
        "入睡困难、睡不安稳或睡眠过多",
        "感觉疲倦或没有活力",
        "食欲不振或吃太多",
        "觉得自己很糟，或觉得自己很失败，或让自己或家人失望",
        "对事物专注有困难，例如阅读报纸或看电视时",
        "行动或说话速度缓慢到别人已经察觉，或正好相反，烦躁或坐立不安、动来动去的情况比平常多",
        "有不如死掉或用某种方式伤害自己的念头",
    ],
    "gad7": [
        "感觉紧张、焦虑或急切",
        "不能够停止或控制担忧",
        "对各种各样的事情担忧过多",
        "很难放松下来",
        "由于不安而无法静坐",
        "变得容易烦恼或急躁",
        "感到似乎将有可怕的事情发生而害怕",
    ],
}
ZH_ANSWERS = ["完全不会", "好几天", "一半以上的天数", "几乎每天"]
#: how some cells of a real export differ from the labels (same meaning)
VARIANTS = {"一半以上的天数": "一半以上的天數", "好几天": "好几天　", "完全不会": " 完全不会"}
EN_ANSWERS = ["Not at all", "Several days", "More than half the days", "Nearly every day"]
SKIPPED = "(跳过)"
GRADES = {"初一": 12, "初二": 13, "初三": 14, "高一": 15, "高二": 16, "高三": 17}
LAYOUTS = ("text", "numbers", "english")


def _instrument(iid: str):
    import sys

    sys.path.insert(0, str(HERE.parent))
    from psyscreen import load_instrument

    return load_instrument(iid)


def _codes(rng: np.random.Generator, n: int, k_items: int, severity: np.ndarray) -> np.ndarray:
    latent = 0.6 * severity[:, None] + rng.normal(0.0, 0.8, (n, k_items))
    return np.searchsorted([0.6, 1.5, 2.3], latent).astype(int)


def make_wjx(n: int = 300, layout: str = "text", seed: int = 2024) -> tuple[pd.DataFrame, dict]:
    """(export, hand-written mapping as a dict) for ``layout`` (one of :data:`LAYOUTS`).

    Example:
        >>> df, mapping = make_wjx(5)
        >>> df.columns[11]
        '8、在过去两周里，以下问题困扰你的频率—做事时提不起劲或没有兴趣'
        >>> mapping["items"]["phq9_1"] == df.columns[11]
        True
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}")
    rng = np.random.default_rng(seed)
    en = layout == "english"
    grade = rng.choice(list(GRADES), n)
    age = np.array([GRADES[g] for g in grade]) + rng.integers(0, 2, n)
    day = pd.Timestamp("2024-10-14") + pd.to_timedelta(rng.integers(0, 10, n), unit="D")
    submitted = day + pd.to_timedelta(rng.integers(7 * 3600, 17 * 3600, n), unit="s")
    birth = day - pd.to_timedelta((age * 365.25 + rng.integers(0, 360, n)).astype(int), unit="D")
    surnames, given = list("赵钱孙李周吴郑王"), list("子涵浩然一诺欣怡宇轩梓萱")
    names = [rng.choice(surnames) + "".join(rng.choice(given, 2)) for _ in range(n)]
    h = {
        "seq": "序号" if not en else "Response #",
        "submitted": "提交答卷时间" if not en else "Submitted",
        "seconds": "所用时间" if not en else "Time taken",
        "name": "1、姓名" if not en else "Name",
        "id": "2、学号" if not en else "Student ID",
        "sex": "3、性别" if not en else "Gender",
        "birth_date": "4、出生日期" if not en else "Date of birth",
        "grade": "5、年级" if not en else "Grade",
        "class": "6、班级" if not en else "Class",
        "assessment_date": "7、测评日期" if not en else "Assessment date",
    }
    df = pd.DataFrame(
        {
            h["seq"]: np.arange(1, n + 1),
            h["submitted"]: [f"{t.year}/{t.month}/{t.day} {t.hour}:{t:%M:%S}" for t in submitted],
            h["seconds"]: [f"{s}秒" for s in rng.integers(90, 600, n)],
            h["name"]: names,
            h["id"]: [f"WJX{k:05d}" for k in range(1, n + 1)],
            h["sex"]: rng.choice(["男", "女"] if not en else ["male", "female"], n),
            h["birth_date"]: birth.strftime("%Y-%m-%d"),
            h["grade"]: grade if not en else [f"Grade {GRADES[g] - 5}" for g in grade],
            h["class"]: [f"{k}班" if not en else f"Class {k}" for k in rng.integers(1, 7, n)],
            h["assessment_date"]: day.strftime("%Y-%m-%d"),
        }
    )
    if not en:
        df.insert(3, "来源", rng.choice(["微信", "手机提交", "链接"], n))
    severity = rng.normal(0.0, 1.0, n)
    items: dict[str, str] = {}
    codes_table: dict[str, float | None] = {}
    for q, iid in ((8, "phq9"), (9, "gad7")):
        inst = _instrument(iid)
        codes = _codes(rng, n, len(inst.items), severity)
        for k, item in enumerate(inst.items):
            if en:
                header = f"{iid.upper()} - Over the last 2 weeks - {item.text.en}"
            else:
                header = f"{q}、{INTRO}—{ZH_ITEMS[iid][k]}"
            items[item.id] = header
            c = codes[:, k]
            if layout == "numbers":
                col = (c + 1).astype(str).astype(object)
            else:
                col = np.array(EN_ANSWERS if en else ZH_ANSWERS, dtype=object)[c]
                if not en:  # traditional characters and stray blanks in a few cells
                    slip = rng.random(n) < 0.05
                    col[slip] = [VARIANTS.get(t, t) for t in col[slip]]
            skipped = rng.random(n) < 0.01
            col[skipped] = "" if layout == "numbers" else SKIPPED
            df[header] = col
    df["10、你还有什么想对老师说的吗？" if not en else "Anything else?"] = rng.choice(
        ["", "没有", "希望多一些体育课", "（合成示例文本）"] if not en else ["", "no", "n/a"], n
    )
    if layout == "numbers":
        codes_table = {str(j + 1): float(j) for j in range(4)}
    elif en:
        codes_table = {t: float(j) for j, t in enumerate(EN_ANSWERS)}
    else:
        codes_table = {t: float(j) for j, t in enumerate(ZH_ANSWERS)}
        codes_table.update({VARIANTS[t]: float(ZH_ANSWERS.index(t)) for t in VARIANTS})
    mapping = {
        "mapping_version": 1,
        "columns": {r: h[r] for r in ("id", "sex", "birth_date", "grade", "class")}
        | {"assessment_date": h["assessment_date"]},
        "items": items,
        "answers": [{"instruments": ["phq9", "gad7"], "codes": codes_table}],
    }
    if layout != "numbers":
        mapping["missing_answers"] = [SKIPPED]
    return df, mapping


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=300)
    p.add_argument("--layout", choices=LAYOUTS, default="text")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--out", default=str(HERE / "wjx_export.csv"))
    args = p.parse_args(argv)
    df, _ = make_wjx(args.rows, args.layout, args.seed)
    df.to_csv(args.out, index=False, encoding="utf-8-sig", lineterminator="\n")
    print(f"wrote {args.out} ({len(df)} synthetic rows)")


if __name__ == "__main__":
    main()
