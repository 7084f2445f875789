"""Transfer bundles (学段转接): a signed JSON file of children's screenings and events.

The file is the canonical JSON (sorted keys, no spaces, UTF-8) of a
:class:`~.bundle_model.Bundle`, followed by a newline; the signature is
HMAC-SHA256 over the canonical JSON of the payload with the *bundle key*: the
key in ``--bundle-key-file`` / ``PSYSCREEN_BUNDLE_KEY`` agreed between the two
sites, or else the archive key (two archives of one district sharing a key).
Import refuses, with the reason, a file that is not canonical JSON (truncated,
edited, a flipped byte), does not match the published schema, or whose
signature does not verify; then it merges idempotently (screenings keep their
keys; events are keyed by content).

Re-keying and privacy: children are filed under the sending archive's keyed
hash. If the receiving archive has the same key fingerprint, the hashes are
used as they are and the bundle need not hold any clear id. If the keys differ,
the receiving archive needs each child's clear id to compute its own hash, so
such a bundle must be exported with ``include_ids=True`` (``--include-ids``):
it then holds clear ids and is confidential personal information (the file is
written owner-only, 0600). A single-child bundle without ids can also be
imported with ``clear_id=`` (``--id``), the id the receiving school knows.

Example:
    >>> canonical({"b": 1, "a": [1.5, "学"]})
    b'{"a":[1.5,"\\xe5\\xad\\xa6"],"b":1}'
"""

from __future__ import annotations

import base64
import json
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import sqlalchemy as sa

from .._version import __version__
from . import db
from . import schema as S
from .events import event_key
from .history import read_screenings
from .keys import BUNDLE_KEY_ENV, ArchiveKey, archive_key
from .store import (
    MAX_ROW,
    ImportResult,
    begin_import,
    end_import,
    forgotten_keys,
    insert_rows,
    screening_keys,
)

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "archive_bundle.schema.json"
FORMAT = "psyscreen-archive-bundle"
MAX_BYTES = 1 << 30


class BundleError(db.ArchiveError):
    """A bundle that is refused; the message gives the reason."""


def _clean(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    if hasattr(v, "item"):  # numpy scalars
        return _clean(v.item())
    return v


def canonical(obj: Any) -> bytes:
    """The canonical JSON bytes that are signed and written."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def signing_key(archive: Any, bundle_key: bytes | ArchiveKey | None,
                bundle_key_file: str | Path | None) -> ArchiveKey:
    """The bundle key: given, from a file / ``PSYSCREEN_BUNDLE_KEY``, else the archive key."""
    if isinstance(bundle_key, ArchiveKey):
        return bundle_key
    if bundle_key is not None:
        return ArchiveKey(bundle_key)
    if bundle_key_file is not None or os.environ.get(BUNDLE_KEY_ENV):
        return archive_key(bundle_key_file, env=BUNDLE_KEY_ENV)
    return archive.key


_SCREENING_FIELDS = [
    "screening_key", "source_sha256", "source_row", "assessment_date", "school", "grade",
    "class_name", "sex", "age", "profile", "profile_sha256", "risk_status", "level_code",
    "level", "needs_confirmation", "referral", "retest_days", "contact_days", "visit_days",
    "rules", "reasons", "reasons_zh", "flags", "layout", "scores",
]


def _bool(v: Any) -> bool | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else bool(v)


def build_payload(archive: Any, child_keys: list[str] | None, selection: dict,
                  include_ids: bool) -> dict:
    """The payload for some children (``None``: those matching ``selection``)."""
    with archive.engine.connect() as conn:
        if child_keys is None:
            where = sa.true()
            if selection.get("school") is not None:
                where = where & (S.screenings.c.school == selection["school"])
            if selection.get("grade") is not None:
                where = where & (S.screenings.c.grade == selection["grade"])
            child_keys = sorted(set(conn.execute(
                sa.select(S.screenings.c.child_key).where(where)).scalars()))
        scr = read_screenings(conn, S.screenings.c.child_key.in_(child_keys))
        ev = pd.read_sql(sa.select(S.events).where(S.events.c.child_key.in_(child_keys)), conn)
        ids = dict(conn.execute(sa.select(S.children.c.child_key, S.children.c.clear_id)
                                .where(S.children.c.child_key.in_(child_keys))).all())
        lay_ids = sorted(set(scr["layout"].dropna()))
        lays = [
            {"layout": r.layout, "columns": json.loads(r.columns),
             "provenance": json.loads(r.provenance)}
            for r in conn.execute(sa.select(S.layouts).where(S.layouts.c.layout.in_(lay_ids)))
        ]
        profs = sorted(set(scr["profile"].dropna()))
        levels = [dict(r._mapping) for r in conn.execute(
            sa.select(S.profile_levels).where(S.profile_levels.c.profile.in_(profs)))]
    if include_ids and not archive.clear_ids:
        raise BundleError("this archive keeps no clear ids, so a bundle with ids cannot be "
                          "made / 本档案库未保存明文编号")
    children = []
    by_child = {k: g for k, g in scr.groupby("child_key", sort=False)}
    ev_by_child = {k: g for k, g in ev.groupby("child_key", sort=False)}
    for ck in child_keys:
        s = by_child.get(ck, scr.iloc[:0])
        e = ev_by_child.get(ck, ev.iloc[:0]).sort_values(["on_date", "kind", "event_key"])
        if s.empty and e.empty:
            continue
        srows = []
        for r in s.to_dict("records"):
            row = {k: _clean(r[k]) for k in _SCREENING_FIELDS}
            row["scores"] = None if r["scores"] is None else base64.b64encode(
                r["scores"]).decode("ascii")
            row["needs_confirmation"] = _bool(r["needs_confirmation"])
            row["referral"] = _bool(r["referral"])
            srows.append(row)
        erows = [{k: _clean(r[k]) for k in ("kind", "on_date", "outcome", "level_code", "note")}
                 for r in e.to_dict("records")]
        child: dict[str, Any] = {"child_key": ck, "screenings": srows, "events": erows}
        if include_ids:
            child["id"] = ids.get(ck)
        children.append(child)
    for lv in levels:
        lv["needs_confirmation"] = _bool(lv["needs_confirmation"])
        lv["referral"] = _bool(lv["referral"])
    return _clean({
        "created_at": db.now(), "psyscreen_version": __version__,
        "source_key_fingerprint": archive.key.fingerprint, "includes_ids": include_ids,
        "selection": selection, "layouts": lays, "profile_levels": levels,
        "children": children,
    })


def export_bundle(
    archive: Any, path: str | Path, *, ids: list[str] | None = None,
    school: str | None = None, grade: str | None = None, include_ids: bool = False,
    bundle_key: bytes | ArchiveKey | None = None, bundle_key_file: str | Path | None = None,
) -> dict[str, int]:
    """Write a signed bundle for some children (clear ``ids``) or a school/grade cohort."""
    if ids is None and school is None:
        raise BundleError("name the children (ids) or a school (and grade) to export")
    keys = None if ids is None else sorted({archive.child_key(i) for i in ids})
    selection = {"school": school, "grade": grade, "children": None if keys is None
                 else str(len(keys))}
    payload = build_payload(archive, keys, selection, include_ids)
    key = signing_key(archive, bundle_key, bundle_key_file)
    doc = {"format": FORMAT, "format_version": 1, "payload": payload,
           "signature": {"alg": "HMAC-SHA256", "key_fingerprint": key.fingerprint,
                         "value": key.sign(canonical(payload))}}
    data = canonical(doc) + b"\n"
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, out)
    counts = {"children": len(payload["children"]),
              "screenings": sum(len(c["screenings"]) for c in payload["children"]),
              "events": sum(len(c["events"]) for c in payload["children"]),
              "with_ids": int(include_ids)}
    with archive.engine.begin() as conn:
        db.audit(conn, "export", counts)
    return counts


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def read_bundle(path: str | Path, key: ArchiveKey) -> dict:
    """The verified bundle document; raises :class:`BundleError` with the reason."""
    p = Path(path)
    if p.stat().st_size > MAX_BYTES:
        raise BundleError("the bundle is larger than 1 GiB / 文件过大")
    data = p.read_bytes()
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleError("the bundle is not valid JSON (truncated or damaged) "
                          "/ 转接包不是有效的 JSON（可能被截断或损坏）") from None
    try:
        again = canonical(doc) + b"\n"
    except ValueError:
        again = b""
    if again != data:
        raise BundleError("the bundle is not in canonical form (edited or damaged) "
                          "/ 转接包格式被改动或损坏")
    sig = doc.get("signature") if isinstance(doc, dict) else None
    if not isinstance(sig, dict) or "payload" not in doc or not all(
        isinstance(sig.get(k), str) for k in ("key_fingerprint", "value")
    ):
        raise BundleError("the bundle has no payload or signature / 转接包缺少内容或签名")
    if sig["key_fingerprint"] != key.fingerprint:
        raise BundleError("the bundle was signed with another key (fingerprints differ): give "
                          "the agreed bundle key / 转接包签名密钥不符")
    # the signature first: nothing unauthenticated is read further
    if not key.verify(canonical(doc["payload"]), sig["value"]):
        raise BundleError("the signature does not verify: the bundle was changed "
                          "/ 签名校验失败：转接包已被改动")
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(x) for x in errors[0].absolute_path)
        raise BundleError(f"the bundle does not match the published schema at {where or '/'} "
                          "/ 转接包不符合结构定义")
    return doc


def import_bundle(
    archive: Any, path: str | Path, *, clear_id: str | None = None,
    bundle_key: bytes | ArchiveKey | None = None, bundle_key_file: str | Path | None = None,
) -> ImportResult:
    """Verify and merge a bundle (idempotent); re-key children when the archive keys differ."""
    doc = read_bundle(path, signing_key(archive, bundle_key, bundle_key_file))
    pay = doc["payload"]
    same_key = pay["source_key_fingerprint"] == archive.key.fingerprint
    kids = pay["children"]
    if not same_key:
        if clear_id is not None:
            if len(kids) != 1:
                raise BundleError("--id is for a bundle of one child")
            kids = [{**kids[0], "id": clear_id}]
        elif not all(k.get("id") for k in kids):
            raise BundleError("the bundle comes from an archive with another key and holds no "
                              "clear ids: export it with --include-ids, or import a one-child "
                              "bundle with --id / 密钥不同且转接包无明文编号，无法重新建档")
    from ..batch.io import sha256_file

    sha = sha256_file(path)
    children, scr, evs, skipped = [], [], [], {}
    for k in kids:
        ck = k["child_key"] if same_key else archive.child_key(k["id"])
        cid = (k.get("id") if archive.clear_ids else None) or (
            clear_id if archive.clear_ids else None)
        children.append({"child_key": ck, "clear_id": cid, "name": None})
        for s in k["screenings"]:
            packed = None if s.get("scores") is None else base64.b64decode(s["scores"])
            # the receiving archive's key of this screening: a bundle written before keys
            # were sequential (revision 0003) carries the old hash key of the same screening
            row = s.get("source_row")
            skey = (screening_keys(s["source_sha256"], np.array([row]))[0]
                    if isinstance(row, int) and 0 <= row <= MAX_ROW else s["screening_key"])
            scr.append({**s, "scores": packed, "child_key": ck, "screening_key": skey})
        for e in k["events"]:
            evs.append({**e, "child_key": ck, "event_key": event_key(
                ck, e["kind"], e["on_date"], e.get("outcome"), e.get("level_code"),
                e.get("note"))})
    rows_in = len(scr) + len(evs)
    with archive.engine.begin() as conn:
        gone = forgotten_keys(conn)
        if gone:
            n0 = len(scr) + len(evs)
            scr = [s for s in scr if s["child_key"] not in gone]
            evs = [e for e in evs if e["child_key"] not in gone]
            children = [c for c in children if c["child_key"] not in gone]
            if n0 - len(scr) - len(evs):
                skipped["forgotten"] = n0 - len(scr) - len(evs)
        res = ImportResult(rows_in=rows_in, stored=0, already=0, skipped=skipped)
        res.import_id = begin_import(conn, "bundle", Path(path).name, sha, rows_in)
        insert_rows(conn, S.children, children)
        insert_rows(conn, S.layouts, [
            {"layout": lay["layout"], "columns": json.dumps(lay["columns"], ensure_ascii=False),
             "provenance": json.dumps(lay["provenance"], sort_keys=True, ensure_ascii=False)}
            for lay in pay["layouts"]])
        insert_rows(conn, S.profile_levels, pay["profile_levels"])
        n = insert_rows(conn, S.screenings, [{**s, "import_id": res.import_id} for s in scr])
        n += insert_rows(conn, S.events, [{**e, "import_id": res.import_id} for e in evs])
        res.stored, res.already = n, len(scr) + len(evs) - n
        end_import(conn, res, "import_bundle")
    return res
