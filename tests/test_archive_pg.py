"""The archive on a real PostgreSQL server (``PSYSCREEN_TEST_PG_URL``, set by ``.ci/run``)."""

from __future__ import annotations

import os

import pandas as pd
import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("psycopg")

import sqlalchemy as sa

from psyscreen.archive import ArchiveVersionError, create_archive, open_archive
from psyscreen.archive import db as adb

URL = os.environ.get("PSYSCREEN_TEST_PG_URL")
pytestmark = pytest.mark.skipif(not URL, reason="PSYSCREEN_TEST_PG_URL is not set")
KEY = b"pg-key-0123456789abcdef"


@pytest.fixture()
def url():
    eng = sa.create_engine(URL)
    with eng.begin() as c:
        c.execute(sa.text("drop schema public cascade"))
        c.execute(sa.text("create schema public"))
    eng.dispose()
    return URL


def _results(ids, date, level, n):
    return pd.DataFrame({"row": range(len(ids)), "id": ids, "school": "一中", "grade": "初一",
                         "assessment_date": date, "norms.sex": "male", "risk.status": "level",
                         "risk.level_code": level, "risk.level": n,
                         "risk.needs_confirmation": n > 0, "risk.referral": False,
                         "risk.contact_days": 14.0, "risk.visit_days": 30.0,
                         "risk.retest_days": 90.0, "gad7.total.raw": 3.0 + 4 * n})


PROV = {"instruments": [{"id": "gad7", "version": "2006"}]}


def test_postgres_cycle_add_history_due_bundle(url, tmp_path):
    a = create_archive(url, key=KEY, clear_ids=True)
    assert a.dialect == "postgresql"
    r = a.add_results(_results(["A", "B", ""], "2024-10-08", "attention", 1.0), provenance=PROV)
    assert (r.stored, r.skipped) == (2, {"no_id": 1})
    assert a.add_results(_results(["A", "B", ""], "2024-10-08", "attention", 1.0),
                         provenance=PROV).already == 2
    a.add_results(_results(["A"], "2025-10-08", "crisis", 3.0), provenance=PROV)
    a.record_event("B", "confirmation", "2024-10-10", outcome="not_confirmed")
    h = a.history("A")
    assert h.screenings["transition"].tolist() == ["new", "worsened"]
    assert h.changes.loc[0, "diff"] == 8.0 and h.changes.loc[0, "sd"] == 3.2
    due = a.due("2025-10-08")
    assert due["id"].tolist()[0] == "A" and due.loc[0, "level_acted_on"] == "crisis"
    a.export_bundle(tmp_path / "b.json", ids=["A", "B"])
    before = a.content()
    assert a.import_bundle(tmp_path / "b.json").stored == 0
    assert a.content() == before
    assert a.forget("B")["screenings"] == 1
    a.close()
    with open_archive(url, key=KEY) as again:
        assert len(again.content()["screenings"]) == 2


def test_postgres_older_schema_is_refused_until_upgrade(url):
    adb.create_database(url, "fp", False, to="0001").dispose()
    with pytest.raises(ArchiveVersionError, match="upgrade"):
        adb.check_revision(adb.make_engine(url))
    assert adb.upgrade_database(url) == ("0001", "0003")
    adb.check_revision(adb.make_engine(url))


def test_postgres_upgrade_0003_rewrites_old_keys(url):
    import hashlib

    a = create_archive(url, key=KEY)
    df = _results(["A", "B"], "2024-10-08", "attention", 1.0)
    a.add_results(df, provenance=PROV)
    new = sorted(a.content()["screenings"])
    with a.engine.begin() as c:  # the keys revision 0002 wrote: SHA-256 of "source:row"
        for key, sha, row in c.execute(
            sa.text("select screening_key, source_sha256, source_row from screenings")
        ).all():
            old = hashlib.sha256(f"{sha}:{row}".encode()).hexdigest()[:40]
            c.execute(sa.text("update screenings set screening_key = :n where screening_key = :k"),
                      {"n": old, "k": key})
        c.execute(sa.text("update alembic_version set version_num = '0002'"))
    a.close()
    assert adb.upgrade_database(url) == ("0002", "0003")
    with open_archive(url, key=KEY) as again:
        assert sorted(again.content()["screenings"]) == new
        assert again.add_results(df, provenance=PROV).already == 2


def test_postgres_migrations_give_exactly_the_schema(url):
    from tests.test_archive_schema import schema_differences

    eng = adb.make_engine(url)
    try:
        adb.migrate(eng)
        assert schema_differences(eng) == []
    finally:
        eng.dispose()
