"""The audit of the shipped data against primary sources (issue 12): one test per defect.

Each test fails on the data as shipped before the audit. Expected texts are those of the
sources named in the test (NIMH pages, Fendrich 1990 abstract, Mølland 2023 Table 2, the
Changning plan in shared/seeds), not our own output. The CES-DC cut-off and the SDQ UK
prosocial bands are also tested on scores (tests/instruments/test_cesdc.py,
tests/test_norms_shipped.py).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import psyscreen
from psyscreen import load_instrument, load_norms, load_profile

ROOT = Path(__file__).resolve().parent.parent


def _cite(obj, key):
    return next(c for c in obj.citations if c.key == key)


def test_1_cesdc_total_of_15_is_at_the_cut_off():
    # Fendrich, Weissman & Warner 1990 (PMID 2301363): "a cutoff point of 15 and above"
    items = {f"cesdc_{i}": [0] for i in range(1, 21)}
    for i in (4, 8, 12, 16):
        items[f"cesdc_{i}"] = [3]  # positive items: 3 scores 0
    for i in (1, 2, 3, 5, 6):
        items[f"cesdc_{i}"] = [3]  # 5 x 3 = 15
    out = psyscreen.score(pd.DataFrame(items), "cesdc")
    assert out["cesdc.total.raw"].iloc[0] == 15
    assert out["cesdc.total.band_class"].iloc[0] == "abnormal"
    assert _cite(load_instrument("cesdc"), "fendrich1990").evidence == "primary"


def test_2_sdq_uk_parent_prosocial_and_ages():
    # Mølland et al. 2023, BMC Pediatrics, Table 2, "UK 4-17": prosocial borderline 5, abnormal 4
    t = load_norms("sdq_p_uk_bands")
    row = next(r for r in t.rows if r.scale == "prosocial")
    bands = {b.code: (b.lower, b.upper) for b in row.bands}
    assert bands == {"normal": (6, 10), "borderline": (5, 5), "abnormal": (0, 4)}
    assert (t.covers.age.ge, t.covers.age.lt) == (4, 18)
    assert "Meltzer" not in (t.description or "")


def test_3_scared_poor_five_factor_fit_is_the_chinese_journal_paper():
    notes = " ".join(load_instrument("scared_c").notes)
    assert "2008(4):241-245" in notes
    assert "fitted poorly in a Chinese sample of 12 cities (Su et al. 2008" not in notes


def test_4_phqa_prose_names_both_exchanged_pairs():
    # NIMH PHQ-A page: 4 = appetite / weight, 5 = tired (adult PHQ-9: 4 tired, 5 appetite)
    text = (ROOT / "instruments" / "phqa.yaml").read_text("utf-8")
    assert "phqa_4 is appetite and phqa_5 fatigue" in text
    fmt = (ROOT / "docs" / "definition-format.md").read_text("utf-8")
    assert "items 1 and 2, and 4 and 5" in fmt
    inst = load_instrument("phqa")
    assert inst.scale("total").bands[0].source == "gladpc_scoring"
    assert not any("no separate adolescent band study" in u for u in inst.unverified)


def test_5_asq_rules_cite_nimh_pathways_and_record_the_age_conflict():
    inst = load_instrument("asq")
    crit = {c.id: c.source for c in inst.critical_items}
    assert crit == {"positive": "nimh_outpatient", "acute": "nimh_ed"}
    assert _cite(inst, "nimh_ed").evidence == "primary"
    assert "refuses to answer" in _cite(inst, "nimh_outpatient").locator
    assert not any("refusal-is-positive" in u for u in inst.unverified)
    ages = next(u for u in inst.unverified if u.startswith("Ages"))
    assert "ages 10 above" in ages and "8 years and above" in ages


def test_6_phq9_and_gad7_ages_are_cited_or_unverified():
    for inst_id in ("phq9", "gad7"):
        inst = load_instrument(inst_id)
        assert inst.age_range.min == 12
        assert any("age_range.min 12" in u for u in inst.unverified)
    assert "13-17" in _cite(load_instrument("phq9"), "richardson2010").locator
    assert "11 to 17" in _cite(load_instrument("gad7"), "gad7_youth_primary_care").locator


def test_7_changning_intervals_cite_the_primary_text():
    seeds = [ROOT.parent / "shared", Path("/work/shared")]
    seed = next((d / "seeds/004_644a763e2ba9fe6c.txt" for d in seeds if d.is_dir()), Path("-"))
    prof = load_profile("default")
    c = _cite(prof, "changning")
    assert c.evidence == "primary" and "004_644a763e2ba9fe6c.txt line 54" in c.locator
    assert "长民〔2024〕6号" in c.text
    assert not any("Changning" in u for u in prof.unverified)
    if seed.exists():  # the policy text itself, where shared/ is laid out beside the repo
        line = seed.read_text("utf-8").splitlines()[53]
        assert "至少每个月联系一次" in line and "每两周联系一次" in line
    assert (prof.level("normal").contact_days, prof.level("normal").visit_days) == (30, 60)
    assert (prof.level("attention").contact_days, prof.level("attention").visit_days) == (14, 30)


def test_8_dsrsc_citations_are_complete_or_marked():
    inst = load_instrument("dsrsc")
    assert _cite(inst, "datanalysis_dsrs").url == "https://statistics.datanalysis.net/?p=20317"
    su = _cite(inst, "su2003")
    assert "2003" in su.text and "unverified" in su.text
    assert any("journal, volume and pages" in u for u in inst.unverified)
