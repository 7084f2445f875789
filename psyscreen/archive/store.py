"""Adding a batch run's results to the archive (one transaction per import).

Input: the results file of ``psyscreen score`` (CSV, XLSX or Parquet, with the
flat columns of ``docs/architecture.md``) and the manifest next to it, or the
same as a DataFrame from the API. Each results row becomes one screening keyed
by ``(source hash, row)`` (:func:`screening_keys`): the export's SHA-256 from the manifest (or the
results' own hash when there is no manifest) and the row number, so adding the
same results twice, or the same export scored again, changes nothing.

A row is skipped, with its reason counted in the import log, when it has no
usable id (``no_id``), no readable assessment date (``no_assessment_date``),
was unreadable in the export (``unreadable_row``), has a row number a key cannot
hold (``bad_row``) or belongs to a child erased on request (``forgotten``).
Everything else of the import is written in one transaction: an exception or a
crash part-way leaves the archive as it was.

Example:
    >>> frame = pd.DataFrame({"id": ["S1", " ", "S2"],
    ...                       "assessment_date": ["2024-10-08", "2024-10-08", "bad"]})
    >>> prepared, skipped = prepare(frame, source_sha256="0" * 64, child_key=str.upper)
    >>> prepared["child_key"].tolist(), skipped
    (['S1'], {'no_id': 1, 'no_assessment_date': 1})
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .. import demographics as demo
from . import db
from . import schema as S
from .packing import encode_scores

#: rows per INSERT batch (bounded memory for the parameter lists)
CHUNK_ROWS = 20_000
#: rows of a results file prepared at a time (memory stays bounded; still one transaction)
READ_ROWS = 100_000

#: screening column -> results column
RESULT_COLUMNS = {
    "school": "school",
    "grade": "grade",
    "sex": "norms.sex",
    "age": "norms.age",
    "profile": "risk.profile",
    "risk_status": "risk.status",
    "level_code": "risk.level_code",
    "level": "risk.level",
    "needs_confirmation": "risk.needs_confirmation",
    "referral": "risk.referral",
    "retest_days": "risk.retest_days",
    "contact_days": "risk.contact_days",
    "visit_days": "risk.visit_days",
    "rules": "risk.rules",
    "reasons": "risk.reasons",
    "reasons_zh": "risk.reasons_zh",
    "flags": "risk.flags",
}
_TEXT = {"school", "grade", "sex", "profile", "risk_status", "level_code", "rules", "reasons",
         "reasons_zh", "flags"}
_BOOL = {"needs_confirmation", "referral"}
#: result columns that are not scores (identity, demographics, risk)
_NOT_SCORES = ("row", "id", "name", "school", "grade", "class", "sex", "birth_date",
               "assessment_date", "risk.", "row.")
#: score fields left out: per-item problem codes (in the problems file) and the norm table id
#: (in the layout's provenance)
_NOT_STORED = (".problems", ".norm_table")


@dataclass
class ImportResult:
    """Counts of one import (also in the import log)."""

    rows_in: int
    stored: int
    already: int
    skipped: dict[str, int] = field(default_factory=dict)
    import_id: int | None = None

    def summary(self, lang: str = "zh") -> str:
        """One line for staff."""
        sk = ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items())) or "0"
        if lang == "zh":
            return (f"输入 {self.rows_in} 行，新存入 {self.stored}，已存在 {self.already}，"
                    f"跳过 {sum(self.skipped.values())}（{sk}）")
        return (f"{self.rows_in} rows in, {self.stored} stored, {self.already} already present, "
                f"{sum(self.skipped.values())} skipped ({sk})")


def frame_sha256(df: pd.DataFrame) -> str:
    """A content hash of a DataFrame (columns, index and values)."""
    h = hashlib.sha256(json.dumps([str(c) for c in df.columns]).encode("utf-8"))
    h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    return h.hexdigest()


#: row numbers a screening key holds (12 hex digits)
MAX_ROW = 16**12 - 1


def source_prefix(source_sha256: str) -> str:
    """The 28 hex digits every screening key of one source starts with.

    Example:
        >>> len(source_prefix("0" * 64)), source_prefix("a") == source_prefix("a")
        (28, True)
    """
    return hashlib.sha256(f"psyscreen-screening:{source_sha256}".encode()).hexdigest()[:28]


def screening_keys(source_sha256: str, rows: np.ndarray) -> list[str]:
    """The key of each screening: the source's prefix and the row number (40 hex digits).

    One import's keys are consecutive, so its rows go into one place of the
    primary-key index instead of random pages all over it.

    Example:
        >>> k = screening_keys("0" * 64, np.array([0, 255]))
        >>> [x[28:] for x in k], k[0][:28] == k[1][:28]
        (['000000000000', '0000000000ff'], True)
    """
    pre = source_prefix(source_sha256)
    return [f"{pre}{r:012x}" for r in rows.tolist()]


def _text(col: pd.Series) -> pd.Series:
    s = col.astype("string").str.strip()
    return s.mask(s == "")


def _score_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if not str(c).startswith(_NOT_SCORES)
            and not str(c).endswith(_NOT_STORED) and c not in ("班级",)]


def prepare(
    df: pd.DataFrame,
    *,
    source_sha256: str,
    child_key: Callable[[str], str],
    id_column: str = "id",
    ids_are_keys: bool = False,
    instruments: str | None = None,
    profile_sha256: str | None = None,
    row0: int = 0,
    child_keys: Callable[[list[str]], list[str]] | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Screening rows (archive columns) from a results frame, and skipped counts by reason.

    ``child_keys`` (many ids at once), when given, is used instead of ``child_key``.
    """
    n = len(df)
    skipped: dict[str, int] = {}
    keep = np.ones(n, dtype=bool)

    def skip(mask: np.ndarray, reason: str) -> None:
        hit = mask & keep
        if hit.any():
            skipped[reason] = int(hit.sum())
            keep[hit] = False

    if "row.status" in df.columns:
        skip((df["row.status"].astype("string") == "unreadable").fillna(False).to_numpy(),
             "unreadable_row")
    ids = _text(df[id_column]) if id_column in df.columns else pd.Series(pd.NA, index=df.index,
                                                                         dtype="string")
    skip(ids.isna().to_numpy(), "no_id")
    iso = _iso_dates(df["assessment_date"]) if "assessment_date" in df.columns else None
    skip(np.ones(n, dtype=bool) if iso is None else pd.isna(iso), "no_assessment_date")
    if "row" in df.columns:
        r = pd.to_numeric(df["row"], errors="coerce").to_numpy(dtype="f8", na_value=np.nan)
        # a row number the key cannot hold exactly (missing, fractional, negative, huge)
        skip(~((r >= 0) & (r <= MAX_ROW) & (r == np.floor(r))), "bad_row")
    sel = np.flatnonzero(keep)
    # only the columns used here are cut to the kept rows (a row filter of all ~150 columns
    # of text costs more than the rest of this function); the scores are packed whole
    used = [c for c in ("row", *RESULT_COLUMNS.values(), "class", "班级") if c in df.columns]
    sub = df[used].iloc[sel]
    rows = (r[sel].astype(np.int64) if "row" in df.columns else sel + row0)
    ids_k = ids.iloc[sel].tolist()
    if ids_are_keys:
        keys = ids_k
    elif child_keys is not None:
        keys = child_keys(ids_k)
    else:
        memo: dict[str, str] = {}
        keys = [memo.get(v) or memo.setdefault(v, child_key(v)) for v in ids_k]
    assert iso is not None or not len(sel)  # rows without a date were skipped
    out = pd.DataFrame(
        {
            "screening_key": screening_keys(source_sha256, rows),
            "child_key": keys,
            "source_sha256": source_sha256,
            "source_row": rows.astype(np.int64),
            "assessment_date": iso[sel] if iso is not None else [],
        }
    )
    out["clear_id"] = ids_k
    for name, col in RESULT_COLUMNS.items():
        if col not in sub.columns:
            out[name] = None
            continue
        v = sub[col]
        if name in _TEXT:
            out[name] = _text(v).to_numpy(dtype=object)
        elif name in _BOOL:
            b = v.map({True: True, False: False, "True": True, "False": False, "true": True,
                       "false": False})
            out[name] = b.to_numpy(dtype=object)
        else:
            out[name] = pd.to_numeric(v, errors="coerce").to_numpy()
    cls = "class" if "class" in sub.columns else ("班级" if "班级" in sub.columns else None)
    out["class_name"] = _text(sub[cls]).to_numpy(dtype=object) if cls else None
    out["profile_sha256"] = profile_sha256
    lay, layout, packed = encode_scores(df[_score_columns(df)], instruments or "{}")
    out["scores"] = [packed[i] for i in sel.tolist()] if len(packed) else None
    out["layout"] = lay
    out.attrs["layout"] = layout
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].where(pd.notna(out[c]), None)
    for c in ("age", "level", "retest_days", "contact_days", "visit_days"):
        out[c] = out[c].astype(object).where(pd.notna(out[c]), None)
    return out, skipped


def _iso_dates(values: pd.Series) -> np.ndarray:
    """Each row's date as ``YYYY-MM-DD`` text (None: not a readable date).

    :func:`psyscreen.demographics.parse_dates` reads each distinct value once (a
    year's export has a few dozen assessment dates).
    """
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    if not len(uniq):
        return np.full(len(values), None, dtype=object)
    parsed, _ = demo.parse_dates(pd.Series(uniq))
    text = np.full(len(uniq) + 1, None, dtype=object)  # the last: code -1 (missing)
    ok = parsed.notna().to_numpy()
    text[:-1][ok] = parsed[ok].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    return text[codes]


def _insert(conn: sa.Connection, table: sa.Table) -> sa.Insert:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


def insert_rows(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> int:
    """Insert rows, ignoring those whose key exists already; return how many were new."""
    if not rows:
        return 0
    new = 0
    stmt = _insert(conn, table)
    counted = conn.dialect.name == "sqlite"  # sqlite3 sums rowcount over executemany
    if not counted:
        stmt = stmt.returning(*table.primary_key.columns)
    for i in range(0, len(rows), CHUNK_ROWS):
        res = conn.execute(stmt, rows[i : i + CHUNK_ROWS])
        new += max(res.rowcount, 0) if counted else len(res.all())
    return new


def insert_frame(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> int:
    """Bulk-insert a frame's rows, ignoring existing keys; return how many were new.

    The driver's fast paths, inside the caller's transaction: ``executemany``
    of ``INSERT OR IGNORE`` on SQLite; ``COPY`` into a temporary table, then
    ``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL.
    """
    if not len(frame):
        return 0
    cols = [str(c) for c in frame.columns]
    data = list(zip(*(frame[c].tolist() for c in cols)))
    names = ", ".join(cols)
    raw = conn.connection.driver_connection
    # None only once the pool has closed the connection, which a live Connection never is
    assert raw is not None
    if conn.dialect.name == "postgresql":
        tmp = f"_load_{table.name}"
        with raw.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {tmp} "
                        f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP")
            cur.execute(f"TRUNCATE {tmp}")
            with cur.copy(f"COPY {tmp} ({names}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
            cur.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {tmp} "
                        "ON CONFLICT DO NOTHING")
            return max(cur.rowcount, 0)
    if conn.dialect.name != "sqlite":
        return insert_rows(conn, table, frame.to_dict("records"))
    cur = raw.cursor()
    try:
        marks = ", ".join("?" * len(cols))
        cur.executemany(f"INSERT OR IGNORE INTO {table.name} ({names}) VALUES ({marks})", data)
        return max(cur.rowcount, 0)
    finally:
        cur.close()


def begin_import(conn: sa.Connection, kind: str, source: str | None, sha: str | None,
                 rows_in: int) -> int:
    """Open an import log row (completed by :func:`end_import` in the same transaction)."""
    res = conn.execute(
        S.imports.insert().values(at=db.now(), kind=kind, source=source, source_sha256=sha,
                                  rows_in=rows_in, stored=0, already=0, skipped="{}")
    )
    key = res.inserted_primary_key
    assert key is not None  # a single-row INSERT always reports its key
    return int(key[0])


def end_import(conn: sa.Connection, result: ImportResult, action: str) -> None:
    """Complete the import log row and audit the write."""
    conn.execute(
        S.imports.update()
        .where(S.imports.c.import_id == result.import_id)
        .values(stored=result.stored, already=result.already,
                skipped=json.dumps(result.skipped, sort_keys=True))
    )
    db.audit(conn, action, {"rows_in": result.rows_in, "stored": result.stored,
                            "already": result.already, "skipped": sum(result.skipped.values())})


def forgotten_keys(conn: sa.Connection) -> set[str]:
    """Keyed hashes of the children erased on request."""
    return set(conn.execute(sa.select(S.forgotten.c.child_key)).scalars())


def store_profile_levels(conn: sa.Connection, profile: dict | None) -> None:
    """Keep the levels and intervals of the run's profile (when the shipped/loaded one matches)."""
    if not profile or not profile.get("id"):
        return
    from ..risk import load_profile

    try:
        prof = load_profile(profile["id"])
    except Exception:  # a profile file not available here: the rows' own intervals are used
        return
    if prof.version != profile.get("version") or (
        profile.get("sha256") and prof.sha256 != profile["sha256"]
    ):
        return
    name = f"{prof.id}@{prof.version}"
    rows = [
        {"profile": name, "level_code": lv.code, "level": float(i), "zh": lv.zh, "en": lv.en,
         "retest_days": lv.retest_days, "contact_days": lv.contact_days,
         "visit_days": lv.visit_days, "needs_confirmation": lv.needs_confirmation,
         "referral": lv.referral}
        for i, lv in enumerate(prof.levels)
    ]
    insert_rows(conn, S.profile_levels, rows)


def read_results(path: str | Path) -> Iterator[pd.DataFrame]:
    """A results file (CSV/TXT, XLSX or Parquet) in chunks of ``READ_ROWS`` rows.

    id, school, grade and class are read as text.
    """
    p = Path(path)
    text_cols = {c: "string" for c in ("id", "school", "grade", "class", "班级", "name")}
    suf = p.suffix.lower()
    if suf == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(p).iter_batches(batch_size=READ_ROWS):
            yield batch.to_pandas()
    elif suf == ".xlsx":
        yield pd.read_excel(p, dtype=text_cols)
    else:
        yield from pd.read_csv(p, dtype=text_cols, keep_default_na=True, encoding="utf-8-sig",
                               low_memory=False, chunksize=READ_ROWS)


def read_ahead(chunks: Iterator[pd.DataFrame]) -> Generator[pd.DataFrame, None, None]:
    """The same chunks, the next one read in a thread while the caller stores this one.

    Parsing the CSV and SQLite's inserts both release the GIL for much of their
    work, so on two cores they overlap. At most one chunk waits; an error while
    reading is raised here, in order; closing this generator stops the thread.

    Example:
        >>> [len(c) for c in read_ahead(iter([pd.DataFrame({"a": [1]}), pd.DataFrame()]))]
        [1, 0]
    """
    q: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for chunk in chunks:
                if not put((False, chunk)):
                    return
        except BaseException as e:  # handed to the reader, raised there
            put((True, e))
            return
        put((True, None))

    t = threading.Thread(target=work, name="psyscreen-archive-read", daemon=True)
    t.start()
    try:
        while True:
            last, item = q.get()
            if last:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        t.join()


def manifest_for(path: Path) -> Path:
    """The manifest ``psyscreen score`` writes next to a results file."""
    return path.with_name(path.stem + ".manifest.json")


#: SQLite page cache during an import (KiB, negative as the pragma wants): the primary-key
#: and child indexes of a 5-year archive of 1M children are about 250 MB each
IMPORT_CACHE_KIB = 1 << 20


@contextmanager
def _bulk_settings(conn: sa.Connection) -> Iterator[None]:
    """Connection settings for a bulk import on SQLite, restored afterwards.

    Only the page cache and where temporary b-trees live change: neither touches
    durability or atomicity (the import stays one transaction).
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    raw: Any = conn.connection.driver_connection
    before = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
    raw.execute("PRAGMA temp_store=MEMORY")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size={int(before)}")
        raw.execute("PRAGMA temp_store=DEFAULT")


def add_results(
    archive: Any,
    results: pd.DataFrame | str | Path,
    *,
    manifest: dict | str | Path | None = None,
    provenance: dict | None = None,
    id_column: str = "id",
    source: str | None = None,
) -> ImportResult:
    """Add one run's results; see the module docstring for keys, skips and atomicity.

    ``manifest`` defaults to the file next to a results path; for a DataFrame,
    ``provenance`` (as :func:`psyscreen.provenance` returns it) names the
    profile, instrument and norm versions and hashes.
    """
    from ..batch.io import sha256_file

    man: dict | None = None
    chunks: Generator[pd.DataFrame, None, None]
    if isinstance(results, (str, Path)):
        path = Path(results)
        if manifest is None and manifest_for(path).exists():
            manifest = manifest_for(path)
        file_sha = sha256_file(path)
        if isinstance(manifest, (str, Path)):
            man = json.loads(Path(manifest).read_text(encoding="utf-8"))
        elif isinstance(manifest, dict):
            man = manifest
        if man is not None:
            want = (man.get("outputs", {}).get("results") or {}).get("sha256")
            if want and want != file_sha:
                raise db.ArchiveError(
                    "the results file does not match its manifest (changed after the run?) "
                    "/ 结果文件与运行清单不一致"
                )
        chunks = read_ahead(read_results(path))
        source = source or path.name
        sha = (man or {}).get("input", {}).get("sha256") or file_sha
    else:
        df = results
        man = manifest if isinstance(manifest, dict) else None
        sha = (man or {}).get("input", {}).get("sha256") or frame_sha256(df)
        chunks = (df.iloc[i : i + READ_ROWS] for i in range(0, max(len(df), 1), READ_ROWS))
    prov = provenance or (man or {}).get("definitions") or {}
    opts = (man or {}).get("options", {})
    ids_are_keys = False
    if id_column in opts.get("pseudonymised_columns", []):
        if opts.get("pseudonym_key_fingerprint") != archive.key.fingerprint:
            raise db.ArchiveError(
                "the ids were pseudonymised with another key: add the clear results, or "
                "pseudonymise with the archive key / 结果中的编号用其他密钥做了假名化"
            )
        ids_are_keys = True
    instruments = json.dumps(
        {k: prov.get(k) for k in ("profile", "instruments", "norm_tables", "library_version")},
        sort_keys=True, ensure_ascii=False,
    )
    result = ImportResult(rows_in=0, stored=0, already=0)
    with archive.engine.begin() as conn, _bulk_settings(conn):
        gone = forgotten_keys(conn)
        result.import_id = begin_import(conn, "results", source, sha, 0)
        store_profile_levels(conn, prov.get("profile"))
        row0 = 0
        # closing stops the read-ahead thread at once when this transaction fails
        with closing(chunks):
            for chunk in chunks:
                prepared, skipped = prepare(
                    chunk, source_sha256=sha, child_key=archive.child_key,
                    child_keys=archive.key.child_keys, id_column=id_column,
                    ids_are_keys=ids_are_keys, instruments=instruments,
                    profile_sha256=(prov.get("profile") or {}).get("sha256"), row0=row0,
                )
                row0 += len(chunk)
                result.rows_in += len(chunk)
                if len(prepared):
                    lay = prepared.attrs["layout"]
                    insert_rows(conn, S.layouts, [{"layout": prepared["layout"].iloc[0],
                                                   "columns": json.dumps(lay, ensure_ascii=False),
                                                   "provenance": instruments}])
                if gone:
                    hit = prepared["child_key"].isin(gone).to_numpy()
                    if hit.any():
                        skipped["forgotten"] = int(hit.sum())
                        prepared = prepared[~hit]
                for k, v in skipped.items():
                    result.skipped[k] = result.skipped.get(k, 0) + v
                # Rows already archived are found by the primary key as they are inserted
                # (INSERT OR IGNORE / ON CONFLICT DO NOTHING counts what was new): a lookup by
                # source hash first would scan the whole table, there being no index on it.
                # Key order (one import's keys are consecutive) makes the primary-key index
                # inserts one sweep in one place instead of random pages.
                prepared = prepared.sort_values("screening_key", kind="stable")
                kids = prepared.drop_duplicates("child_key")[["child_key", "clear_id"]]
                if not archive.clear_ids:
                    kids = kids.assign(clear_id=None)
                insert_frame(conn, S.children, kids.sort_values("child_key").assign(name=None))
                rows = prepared.drop(columns=["clear_id"]).assign(import_id=result.import_id)
                stored = insert_frame(conn, S.screenings, rows)
                result.stored += stored
                result.already += len(prepared) - stored
        conn.execute(S.imports.update().where(S.imports.c.import_id == result.import_id)
                     .values(rows_in=result.rows_in))
        end_import(conn, result, "add_results")
    return result
