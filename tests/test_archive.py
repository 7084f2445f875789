"""The archive (一人一档): storage, keys, versions, events, history, due list, bundles, cohort."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pandas as pd
import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")

import sqlalchemy as sa

from psyscreen.archive import (
    ArchiveError,
    ArchiveVersionError,
    create_archive,
    open_archive,
    reliable_change,
    store,
    upgrade_archive,
)
from psyscreen.archive import db as adb
from psyscreen.archive.bundle import BundleError, read_bundle
from psyscreen.archive.due import due_items

KEY = b"test-key-0123456789abcdef"
PROV = {"profile": {"id": "default", "version": "1.0"},
        "instruments": [{"id": "gad7", "version": "2006"}, {"id": "phq9", "version": "2001"}]}


def results(ids, date="2024-10-08", level="attention", n_level=1.0, gad=12.0, sex="female",
            school="一中", grade="初一"):
    """A small results frame in the flat column contract (hand-written values)."""
    n = len(ids)
    return pd.DataFrame({
        "row": range(n), "id": ids, "school": school, "grade": grade, "assessment_date": date,
        "norms.sex": sex, "risk.status": "level", "risk.level_code": level,
        "risk.level": n_level, "risk.needs_confirmation": level != "normal",
        "risk.referral": False, "risk.retest_days": 90.0, "risk.contact_days": 14.0,
        "risk.visit_days": 30.0, "risk.profile": "default@1.0",
        "gad7.total.raw": gad, "gad7.total.status": "complete", "phq9.total.raw": 5.0,
    })


@pytest.fixture()
def arc(tmp_path):
    a = create_archive(tmp_path / "a.sqlite", key=KEY, clear_ids=True)
    yield a
    a.close()


# -- reliable change: published worked example -------------------------------------------------

def test_rci_matches_published_worked_example():
    # Wodrich & Farrell, "Social-emotional assessment in schools", Appendix E "How to calculate
    # a reliable change index" (https://opentextbooks.library.arizona.edu/wodrichseas/back-matter/
    # how-to-calculate-a-reliable-change-index-rci): Piers-Harris-2 total SEM 3.07,
    # S_diff 4.34, 1.96 x S_diff = 8.51, pre 24 -> post 35 (change 11): reliable change.
    r = reliable_change(24, 35, se=3.07)
    assert round(r["s_diff"], 2) == 4.34
    assert round(1.96 * r["s_diff"], 2) == 8.51
    assert r["diff"] == 11 and r["reliable"] is True
    # a change of 8 stays under 8.51: not reliable
    assert reliable_change(24, 32, se=3.07)["reliable"] is False


def test_rci_from_sd_and_reliability_uses_se_formula():
    # SE = SD * sqrt(1 - r): SD 10 and r .91 give SE 3 exactly (10 * 0.3)
    r = reliable_change(10, 20, sd=10, reliability=0.91)
    assert r["se"] == pytest.approx(3.0)
    assert r["s_diff"] == pytest.approx((2 * 9) ** 0.5)
    assert reliable_change(1, 2)["rci"] is None


# -- creation, keys, versions --------------------------------------------------------------------

def test_sqlite_file_is_owner_only_and_key_is_checked(tmp_path):
    p = tmp_path / "x.sqlite"
    create_archive(p, key=KEY).close()
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    with pytest.raises(ArchiveError, match="not the archive's key"):
        open_archive(p, key=b"another-key-0123456789")
    with pytest.raises(ArchiveError, match="exists already"):
        create_archive(p, key=KEY)
    with pytest.raises(ArchiveError, match="no archive"):
        open_archive(tmp_path / "missing.sqlite", key=KEY)
    with sa.create_engine(f"sqlite:///{p}").connect() as c:
        meta = dict(c.execute(sa.text("select name, value from meta")).all())
    assert KEY.decode() not in json.dumps(meta)


def test_older_archive_needs_explicit_upgrade_and_newer_is_refused(tmp_path):
    p = tmp_path / "old.sqlite"
    adb.create_database(p, "fp", False, to="0001").dispose()
    with pytest.raises(ArchiveVersionError, match="archive upgrade"):
        adb.check_revision(adb.make_engine(p))
    assert upgrade_archive(p) == ("0001", "0003")
    adb.check_revision(adb.make_engine(p))
    eng = adb.make_engine(p)
    with eng.begin() as c:
        c.execute(sa.text("update alembic_version set version_num = '0099'"))
    with pytest.raises(ArchiveVersionError, match="newer"):
        adb.check_revision(eng)
    with pytest.raises(ArchiveVersionError, match="newer"):
        upgrade_archive(p)


# -- adding results ------------------------------------------------------------------------------

def test_add_is_idempotent_and_skips_rows_without_id(arc):
    df = results(["A1", "A2", " ", None])
    r1 = arc.add_results(df, provenance=PROV)
    assert (r1.rows_in, r1.stored, r1.already, r1.skipped) == (4, 2, 0, {"no_id": 2})
    before = arc.content()
    r2 = arc.add_results(df, provenance=PROV)
    assert (r2.stored, r2.already) == (0, 2)
    assert arc.content() == before
    log = arc.import_log()
    assert log["stored"].tolist() == [2, 0]
    assert json.loads(log["skipped"].iloc[0]) == {"no_id": 2}
    audit = arc.audit_log()
    assert set(audit["action"]) == {"create", "add_results"}
    assert not audit["counts"].str.contains("A1").any()


def test_bad_date_is_reported_not_archived(arc):
    df = results(["A1", "A2"])
    df.loc[1, "assessment_date"] = "08/10/2024"
    r = arc.add_results(df, provenance=PROV)
    assert r.stored == 1 and r.skipped == {"no_assessment_date": 1}


def test_exception_mid_import_leaves_archive_unchanged(arc, monkeypatch):
    arc.add_results(results(["A1"]), provenance=PROV)
    before, log_before = arc.content(), len(arc.import_log())
    real = store.insert_frame

    def failing(conn, table, rows):
        if table.name == "screenings":
            real(conn, table, rows.iloc[:1])  # part of the batch is written first...
            raise RuntimeError("disk full")  # ...then a real exception mid-transaction
        return real(conn, table, rows)

    monkeypatch.setattr(store, "insert_frame", failing)
    with pytest.raises(RuntimeError):
        arc.add_results(results(["B1", "B2", "B3"], date="2025-10-08"), provenance=PROV)
    assert arc.content() == before
    assert len(arc.import_log()) == log_before


_CHILD = """
import sys, pandas as pd
from psyscreen.archive import open_archive
n = int(sys.argv[2]); tag = sys.argv[3]
df = pd.DataFrame({"row": range(n), "id": [f"{tag}{i}" for i in range(n)],
                   "assessment_date": "2024-10-08", "risk.status": "level",
                   "risk.level_code": "normal", "risk.level": 0.0, "gad7.total.raw": 1.0})
print("start", flush=True)
with open_archive(sys.argv[1], key=b"test-key-0123456789abcdef") as a:
    a.add_results(df)
print("done", flush=True)
"""


def test_kill_9_mid_import_leaves_archive_whole(tmp_path):
    p = tmp_path / "k.sqlite"
    create_archive(p, key=KEY).close()
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(p), "400000", "K"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "start"
    time.sleep(1.0)
    proc.kill()
    proc.wait()
    assert "done" not in proc.stdout.read()  # killed part-way through the import
    with open_archive(p, key=KEY) as a:
        n = len(a.content()["screenings"])
        with a.engine.connect() as c:
            assert c.execute(sa.text("pragma integrity_check")).scalar() == "ok"
        assert n in (0, 400000)
        assert len(a.import_log()) == (1 if n else 0)


def test_two_concurrent_imports_both_land(tmp_path):
    p = tmp_path / "c.sqlite"
    create_archive(p, key=KEY).close()
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, str(p), "3000", tag],
                              stdout=subprocess.PIPE, text=True) for tag in ("P", "Q")]
    outs = [pr.communicate(timeout=300)[0] for pr in procs]
    assert all(pr.returncode == 0 for pr in procs), outs
    with open_archive(p, key=KEY) as a:
        assert len(a.content()["screenings"]) == 6000
        assert len(a.content()["children"]) == 6000
        with a.engine.connect() as c:
            assert c.execute(sa.text("pragma integrity_check")).scalar() == "ok"
        assert a.import_log()["stored"].tolist() == [3000, 3000]


# -- events, history, due ------------------------------------------------------------------------

def test_events_bulk_file_with_bad_rows(arc, tmp_path):
    f = tmp_path / "ev.csv"
    pd.DataFrame({
        "id": ["A1", "A1", "", "A1", "A1"],
        "kind": ["联系", "visit", "visit", "party", "confirmation"],
        "date": ["2024-10-20", "2024/10/25", "2024-10-25", "2024-10-25", "2024-10-26"],
        "outcome": ["", "", "", "", ""],
    }).to_csv(f, index=False)
    r = arc.add_events(f)
    assert (r.stored, r.skipped) == (2, {"no_id": 1, "unknown_kind": 1, "bad_outcome": 1})
    assert arc.add_events(f).already == 2


def test_confirmation_changes_the_level_the_ledger_acts_on(arc):
    arc.add_results(results(["A1"], level="high_attention", n_level=2.0), provenance=PROV)
    due = arc.due("2024-10-08")
    assert due.loc[0, "level_acted_on"] == "high_attention"
    assert "confirmation" in due.loc[0, "due"]
    arc.record_event("A1", "confirmation", "2024-10-10", outcome="changed", level="关注")
    h = arc.history("A1")
    assert h.screenings.loc[0, "confirmed_level"] == "attention"
    due = arc.due("2024-10-10")
    assert due.empty or "confirmation" not in due.loc[0, "due"]
    arc.record_event("A1", "confirmation", "2024-10-10", outcome="not_confirmed")
    assert arc.history("A1").screenings.loc[0, "effective_level"] == "normal"


def test_due_dates_at_interval_boundaries():
    s = {"assessment_date": "2024-10-01", "needs_confirmation": False, "referral": False,
         "contact_days": 14.0, "visit_days": 30.0, "retest_days": 90.0}
    assert due_items(s, [], "2024-10-14") == []
    assert due_items(s, [], "2024-10-15") == [("contact", "2024-10-15", 0)]
    assert due_items(s, [], "2024-10-16") == [("contact", "2024-10-15", 1)]
    # a visit counts as a contact; contact restarts from it
    assert due_items(s, [("visit", "2024-10-10")], "2024-10-23") == []
    assert due_items(s, [("visit", "2024-10-10")], "2024-10-24")[0] == ("contact", "2024-10-24", 0)
    # visit: 30 days after the screening -> 2024-10-31; retest: 90 days -> 2024-12-30
    assert ("visit", "2024-10-31", 0) in due_items(s, [("contact", "2024-10-20")], "2024-10-31")
    assert ("retest", "2024-12-30", 0) in due_items(s, [], "2024-12-30")
    # closed case: only the re-test remains
    assert due_items(s, [("closed", "2024-10-05")], "2024-12-30") == [
        ("retest", "2024-12-30", 0)]


def test_due_list_most_urgent_first_and_by_school(arc):
    arc.add_results(results(["N1"], level="normal", n_level=0.0), provenance=PROV)
    arc.add_results(results(["C1"], level="crisis", n_level=3.0, school="二中"), provenance=PROV)
    arc.add_results(results(["T1"], level="attention", n_level=1.0, date="2024-10-01"),
                    provenance=PROV)
    due = arc.due("2024-11-30")
    assert due["id"].tolist() == ["C1", "T1", "N1"]
    assert due.loc[0, "reasons"].startswith("待确认")
    assert due.loc[0, "gad7.total.raw"] == 12.0
    assert arc.due("2024-11-30", school="二中")["id"].tolist() == ["C1"]
    assert "contact due" in arc.due("2024-11-30", lang="en").loc[2, "reasons"]


def test_history_change_rci_and_versions(arc):
    arc.add_results(results(["A1"], date="2023-10-09", gad=4.0, level="normal", n_level=0.0),
                    provenance=PROV)
    arc.add_results(results(["A1"], date="2024-10-08", gad=15.0, level="high_attention",
                            n_level=2.0), provenance=PROV)
    other = {"instruments": [{"id": "gad7", "version": "2099"}, {"id": "phq9", "version": "2001"}]}
    arc.add_results(results(["A1"], date="2025-10-08", gad=3.0), provenance=other)
    h = arc.history("A1")
    assert h.screenings["transition"].tolist() == ["first_normal", "new", "improved"]
    g = h.changes[h.changes.scale == "gad7.total"].reset_index(drop=True)
    # Löwe 2008 women: SD 3.5, alpha .89 -> SE = 3.5 * sqrt(.11)
    assert g.loc[0, "sd"] == 3.5 and g.loc[0, "reliability"] == 0.89
    se = 3.5 * 0.11 ** 0.5
    assert g.loc[0, "rci"] == pytest.approx(11 / (2 * se * se) ** 0.5)
    assert g.loc[0, "status"] == "ok" and g.loc[0, "reliable"]
    assert g.loc[1, "status"] == "different_version" and pd.isna(g.loc[1, "rci"])
    p = h.changes[h.changes.scale == "phq9.total"]
    assert set(p["status"]) == {"no_parameters"}


def test_forget_erases_and_keeps_it_erased(arc):
    df = results(["A1", "A2"])
    arc.add_results(df, provenance=PROV)
    arc.record_event("A1", "contact", "2024-10-20")
    assert arc.forget("A1") == {"screenings": 1, "events": 1, "children": 1}
    assert arc.history("A1").screenings.empty
    r = arc.add_results(results(["A1", "A2"], date="2025-10-01"), provenance=PROV)
    assert r.skipped == {"forgotten": 1}
    last = arc.audit_log().iloc[-2]
    assert last["action"] == "forget" and "A1" not in last["counts"]
    assert arc.child_key("A1") not in last["counts"]


# -- bundles -------------------------------------------------------------------------------------

def _two_children(arc):
    arc.add_results(results(["A1", "A2"]), provenance=PROV)
    arc.add_results(results(["A1"], date="2025-10-08", gad=5.0), provenance=PROV)
    arc.record_event("A1", "visit", "2024-10-20", note="家访：母亲在家")


def test_bundle_round_trip_is_exact(arc, tmp_path):
    _two_children(arc)
    arc.export_bundle(tmp_path / "b.json", ids=["A1", "A2"])
    b = create_archive(tmp_path / "b.sqlite", key=KEY)
    r = b.import_bundle(tmp_path / "b.json")
    assert r.stored == 4
    ca, cb = arc.content(), b.content()
    for t in ("screenings", "events", "layouts", "profile_levels"):
        assert ca[t] == cb[t], t
    assert b.import_bundle(tmp_path / "b.json").stored == 0
    assert b.content() == cb


def test_every_flipped_byte_and_truncation_is_refused(arc, tmp_path):
    arc.add_results(results(["A1"]), provenance=PROV)
    p = tmp_path / "b.json"
    arc.export_bundle(p, ids=["A1"])
    data = p.read_bytes()
    read_bundle(p, arc.key)
    bad = tmp_path / "bad.json"
    for i in range(len(data)):  # every byte, each with one of its 8 bits flipped
        flipped = bytearray(data)
        flipped[i] ^= 1 << (i % 8)
        bad.write_bytes(bytes(flipped))
        with pytest.raises(BundleError):
            read_bundle(bad, arc.key)
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError, match="not valid JSON"):
        read_bundle(bad, arc.key)


def test_bundle_rekeys_with_ids_when_keys_differ(arc, tmp_path):
    _two_children(arc)
    arc.export_bundle(tmp_path / "noids.json", ids=["A1"])
    arc.export_bundle(tmp_path / "ids.json", school="一中", include_ids=True)
    other = create_archive(tmp_path / "o.sqlite", key=b"other-key-0123456789ab")
    with pytest.raises(BundleError, match="another key"):
        other.import_bundle(tmp_path / "ids.json")
    with pytest.raises(BundleError, match="include-ids"):
        other.import_bundle(tmp_path / "noids.json", bundle_key=KEY)
    r = other.import_bundle(tmp_path / "ids.json", bundle_key=KEY)
    assert r.stored == 4
    h = other.history("A1")
    assert len(h.screenings) == 2 and len(h.events) == 1
    assert h.child_key != arc.child_key("A1")
    one = create_archive(tmp_path / "one.sqlite", key=b"third-key-0123456789ab")
    one.import_bundle(tmp_path / "noids.json", bundle_key=KEY, clear_id="A1")
    assert len(one.history("A1").screenings) == 2
    assert stat.S_IMODE(os.stat(tmp_path / "ids.json").st_mode) == 0o600


# -- cohort --------------------------------------------------------------------------------------

def test_cohort_transitions_suppress_small_cells(arc):
    ids = [f"S{i}" for i in range(20)]
    arc.add_results(results(ids, date="2023-10-09", level="normal", n_level=0.0),
                    provenance=PROV)
    lv = ["normal"] * 17 + ["attention"] * 3
    df = results(ids, date="2024-10-08")
    df["risk.level_code"] = lv
    arc.add_results(df, provenance=PROV)
    tab = arc.cohort(2023, 2024)
    row = tab.loc[("一中", "初一", "normal")]
    assert pd.isna(row["attention"]) and pd.isna(row["normal"])  # 3 hidden, and its complement
    tab_all = arc.cohort(2023, 2024, school="无此校")
    assert tab_all.empty


# -- command line --------------------------------------------------------------------------------

def test_cli_cycle(tmp_path, monkeypatch, capsys):
    from psyscreen.cli import main

    monkeypatch.setenv("PSYSCREEN_ARCHIVE_KEY", KEY.decode())
    db = str(tmp_path / "cli.sqlite")
    res = tmp_path / "r.csv"
    results(["A1", "A2"], level="crisis", n_level=3.0).to_csv(res, index=False)
    assert main(["archive", "init", "--archive", db, "--clear-ids"]) == 0
    assert main(["archive", "add", str(res), "--archive", db]) == 0
    assert "新存入 2" in capsys.readouterr().err
    assert main(["archive", "event", "A1", "家访", "2024-10-09", "--archive", db]) == 0
    assert main(["archive", "history", "A1", "--archive", db]) == 0
    assert "家访" in capsys.readouterr().out
    assert main(["archive", "due", "--on", "2024-10-31", "--archive", db,
                 "-o", str(tmp_path / "due.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "due.csv")) == 2
    assert main(["archive", "history", "ZZ", "--archive", db]) == 2
    monkeypatch.setenv("PSYSCREEN_ARCHIVE_KEY", "wrong-key-0123456789")
    assert main(["archive", "due", "--on", "2024-10-31", "--archive", db]) == 2
    assert "密钥" in capsys.readouterr().err


def test_score_with_archive_adds_the_run(tmp_path, monkeypatch):
    from pathlib import Path

    from psyscreen.cli import main

    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("PSYSCREEN_ARCHIVE_KEY", KEY.decode())
    db = str(tmp_path / "s.sqlite")
    out = tmp_path / "out" / "results.csv"
    assert main(["archive", "init", "--archive", db]) == 0
    code = main(["score", str(root / "examples/annual_export.csv"), "--map",
                 str(root / "examples/mapping.yaml"), "-o", str(out), "--archive", db,
                 "--no-report", "--quiet"])
    assert code in (0, 1)
    with open_archive(db, key=KEY) as a:
        log = a.import_log()
        assert log.loc[0, "rows_in"] == 2000
        assert log.loc[0, "stored"] + sum(json.loads(log.loc[0, "skipped"]).values()) == 2000
        manifest = json.loads(out.with_name("results.manifest.json").read_text("utf-8"))
        assert log.loc[0, "source_sha256"] == manifest["input"]["sha256"]
        with a.engine.connect() as c:
            prov = json.loads(c.execute(sa.text("select provenance from layouts")).scalar())
        assert {i["id"] for i in prov["instruments"]} == {"phq9", "gad7", "sdq_s", "asq"}
    # the same results again: nothing new (exit 0, everything already present)
    assert main(["archive", "add", str(out), "--archive", db]) in (0, 1)
    with open_archive(db, key=KEY) as a:
        assert a.import_log().loc[1, "stored"] == 0


def _history_before(arc, child_key):
    """The history as it was built before the plain-row rewrite (frames, ``iterrows``): the
    reference the faster build must equal field for field."""
    from psyscreen.archive import history as H
    from psyscreen.archive.events import child_events

    with arc.engine.connect() as conn:
        scr = H.read_screenings(conn, H.S.screenings.c.child_key == child_key)
        ev = child_events(conn, [child_key])
        nums = H.level_numbers(conn)
        lay = H.layouts(conn, set(scr["layout"].dropna()))
    scr = H.confirmations(scr, ev, nums)
    trans, changes, prev = [], [], None
    for _, row in scr.iterrows():
        num = row["effective_number"]
        num = None if num is None or pd.isna(num) else float(num)
        if prev is None:
            trans.append(H.transition(None, num) if num is not None else "not_comparable")
        else:
            pn = prev["effective_number"]
            pn = None if pn is None or pd.isna(pn) else float(pn)
            trans.append(H.transition(pn, num) if pn is not None and num is not None
                         else "not_comparable")
            changes.extend(H.scale_changes(prev, row, lay))
        prev = row
    scr["transition"] = trans
    return scr, ev, pd.DataFrame(changes, columns=H.CHANGE_COLUMNS)


def test_history_equals_the_frame_built_history_on_a_varied_archive(arc):
    prov_old = {**PROV, "instruments": [{"id": "gad7", "version": "2001"}]}
    arc.add_results(results(["A", "B", "C", "D"], date="2022-10-10", level="normal",
                            n_level=0.0, gad=3.0, sex=None), provenance=PROV)
    arc.add_results(results(["A", "B", "C"], date="2023-10-09", level="crisis", n_level=3.0,
                            gad=19.0), provenance=prov_old)
    r3 = results(["A", "B", "C"], date="2024-10-08", gad=11.0)
    r3.loc[0, "risk.status"], r3.loc[0, "risk.level_code"], r3.loc[0, "risk.level"] = (
        "invalid", None, None)
    r3.loc[1, "gad7.total.raw"] = None
    arc.add_results(r3, provenance=PROV)
    arc.add_results(results(["A"], date="2024-10-08", gad=13.0, school="二中"), provenance=PROV)
    arc.record_event("A", "confirmation", "2023-10-20", outcome="changed", level="attention")
    arc.record_event("A", "confirmation", "2023-11-20", outcome="confirmed")
    arc.record_event("B", "contact", "2024-10-09")
    arc.record_event("B", "confirmation", "2021-01-01", outcome="confirmed")
    arc.record_event("C", "confirmation", "2024-10-08", outcome="not_confirmed", level="normal")
    for cid in ("A", "B", "C", "D", "nobody"):
        key = arc.child_key(cid)
        h = arc.history(child_key=key)
        scr, ev, ch = _history_before(arc, key)
        pd.testing.assert_frame_equal(h.screenings, scr, check_exact=True)
        pd.testing.assert_frame_equal(h.events, ev, check_exact=True)
        pd.testing.assert_frame_equal(h.changes, ch, check_exact=True)
    # the cases above were exercised: changes compared, a confirmed level shown
    a = arc.history("A")
    assert len(a.changes) and a.screenings["confirmed_level"].notna().any()
