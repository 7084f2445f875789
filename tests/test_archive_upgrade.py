"""Revision 0003 (sequential screening keys): an archive and a bundle written before it.

Before 0003 a screening's key was the first 40 hex digits of SHA-256 of
``source:row``; the helpers below rebuild that older state by hand (the tables
of 0002 and 0003 are the same, only the keys differ).
"""

from __future__ import annotations

import hashlib
import json

import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")

import sqlalchemy as sa

from psyscreen.archive import ArchiveVersionError, create_archive, open_archive, upgrade_archive
from psyscreen.archive.bundle import canonical
from psyscreen.archive.keys import ArchiveKey

from .test_archive import KEY, PROV, results


def _old_key(source_sha256: str, row: int) -> str:
    """The screening key psyscreen wrote before revision 0003."""
    return hashlib.sha256(f"{source_sha256}:{row}".encode()).hexdigest()[:40]


def _content(path) -> dict:
    with sa.create_engine(f"sqlite:///{path}").connect() as c:
        return {
            t: sorted(tuple(r) for r in c.execute(sa.text(f"select * from {t}")))
            for t in ("children", "screenings", "events", "layouts", "forgotten")
        }


def _add_two_years(path) -> None:
    a = create_archive(path, key=KEY, clear_ids=True)
    a.add_results(results(["A1", "A2", "A3"]), provenance=PROV)
    a.add_results(
        results(["A1", "A2"], date="2025-10-08", level="normal", gad=3.0), provenance=PROV
    )
    a.record_event("A1", "contact", "2025-10-20")
    a.close()


def test_upgrade_from_0002_rewrites_keys_and_keeps_everything(tmp_path):
    fresh, old = tmp_path / "fresh.sqlite", tmp_path / "old.sqlite"
    _add_two_years(fresh)
    _add_two_years(old)
    eng = sa.create_engine(f"sqlite:///{old}")
    with eng.begin() as c:  # the same archive as revision 0002 wrote it
        for key, sha, row in c.execute(
            sa.text("select screening_key, source_sha256, source_row from screenings")
        ).all():
            c.execute(
                sa.text("update screenings set screening_key = :n where screening_key = :k"),
                {"n": _old_key(sha, row), "k": key},
            )
        c.execute(sa.text("update alembic_version set version_num = '0002'"))
    eng.dispose()
    before = _content(old)
    assert before != _content(fresh)
    with pytest.raises(ArchiveVersionError, match="archive upgrade"):
        open_archive(old, key=KEY)
    assert upgrade_archive(old) == ("0002", "0003")
    after = _content(old)
    # every row kept, only the keys changed, and to exactly what a fresh add writes
    assert after == _content(fresh)
    assert len(after["screenings"]) == len(before["screenings"]) == 5
    a = open_archive(old, key=KEY)
    try:
        r = a.add_results(results(["A1", "A2", "A3"]), provenance=PROV)
        assert (r.stored, r.already) == (0, 3)
        assert [s for s in a.history("A1").screenings["level_code"]] == ["attention", "normal"]
    finally:
        a.close()


def test_a_bundle_with_old_keys_merges_with_what_is_there(tmp_path):
    src = tmp_path / "src.sqlite"
    _add_two_years(src)
    a = open_archive(src, key=KEY)
    a.export_bundle(tmp_path / "b.json", ids=["A1"])
    a.close()
    # the bundle as psyscreen wrote it before 0003: old keys, signed with the same key
    doc = json.loads((tmp_path / "b.json").read_bytes())
    for s in doc["payload"]["children"][0]["screenings"]:
        s["screening_key"] = _old_key(s["source_sha256"], s["source_row"])
    doc["signature"]["value"] = ArchiveKey(KEY).sign(canonical(doc["payload"]))
    (tmp_path / "old.json").write_bytes(canonical(doc) + b"\n")
    dst = create_archive(tmp_path / "dst.sqlite", key=KEY, clear_ids=True)
    try:
        dst.add_results(results(["A1", "A2", "A3"]), provenance=PROV)
        r = dst.import_bundle(tmp_path / "old.json")
        # the 2024 screening is there already (same source and row): one new, one already
        assert r.stored == 1 + 1 and r.already == 1  # + the contact event
        assert len(dst.history("A1").screenings) == 2
        assert dst.import_bundle(tmp_path / "old.json").stored == 0
    finally:
        dst.close()
