"""Archive benchmark: adding a year of results to an archive holding earlier years, against
the time the batch run took to score them; history and due-list latency; size per screening.

Steps (SQLite by default; ``--pg-url`` runs the same on a PostgreSQL server):

1. generate a synthetic export of ``--rows`` rows (``benchmarks/batch.py``'s generator) and
   score it with ``psyscreen.run_batch`` (the pairing baseline: scoring time);
2. fill the archive with ``--years`` earlier years: the same children's results with the
   assessment year moved back (added through the API from a DataFrame);
3. time ``Archive.add_results(results.csv)`` of the scored year (file + manifest: what
   ``psyscreen score --archive`` and ``psyscreen archive add`` do);
4. time ``Archive.history(id)`` for ``--history-samples`` random children (median, p95, max,
   the median CPU time, and the median of a second, warm pass over the same children);
5. time ``Archive.due(on, school=...)`` for the smallest synthetic school (about 0.25 % of
   the rows: ~2,500 children at 1M rows), and the archive size per screening.

Usage::

    python benchmarks/archive.py --rows 1000000
    python benchmarks/archive.py --rows 100000 --pg-url postgresql+psycopg://u@host:5432/db
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KEY = b"benchmark-key-0123456789"
SMALL_SCHOOL = "合成示例中学06"


def _batch_module():
    spec = importlib.util.spec_from_file_location("bench_batch", ROOT / "benchmarks/batch.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _size(target: str, engine) -> float:
    if target.startswith("postgresql"):
        with engine.connect() as c:
            import sqlalchemy as sa

            return float(c.execute(sa.text("select pg_database_size(current_database())")).scalar())
    return sum(os.path.getsize(p) for p in (target, target + "-wal") if os.path.exists(p))


def _reset_pg(url: str) -> None:
    import sqlalchemy as sa

    eng = sa.create_engine(url)
    with eng.begin() as c:
        c.execute(sa.text("drop schema public cascade"))
        c.execute(sa.text("create schema public"))
    eng.dispose()


def _copy_sqlite(src: Path, dst: Path) -> None:
    """Copy a closed SQLite archive (its WAL checkpointed first) to ``dst``."""
    import shutil
    import sqlite3

    con = sqlite3.connect(src)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    for f in (dst, Path(str(dst) + "-wal"), Path(str(dst) + "-shm")):
        f.unlink(missing_ok=True)
    shutil.copyfile(src, dst)


def run(
    rows: int,
    years: int,
    work: Path,
    target: str,
    samples: int,
    rescore: bool = False,
    prefilled: Path | None = None,
) -> dict:
    import pandas as pd

    import psyscreen
    from psyscreen.archive import create_archive

    export, mapping = work / "export.csv", work / "mapping.yaml"
    results = work / "results.csv"
    if not export.exists():
        _batch_module().generate(rows, export, mapping)
    if rescore or not results.exists():
        t = time.perf_counter()
        psyscreen.run_batch(export, results, mapping=mapping, progress=False, report=False)
        score_s = time.perf_counter() - t
        (work / "score_seconds.txt").write_text(f"{score_s}")
    score_s = float((work / "score_seconds.txt").read_text())
    manifest = json.loads((work / "results.manifest.json").read_text(encoding="utf-8"))
    from psyscreen.archive import open_archive

    reuse = prefilled is not None and prefilled.exists() and not target.startswith("postgresql")
    if reuse:
        assert prefilled is not None
        _copy_sqlite(prefilled, Path(target))
        arc = open_archive(target, key=KEY)
    else:
        if target.startswith("postgresql"):
            _reset_pg(target)
        arc = create_archive(target, key=KEY)
    prefill = []
    for y in range(years, 0, -1) if not reuse else ():
        t = time.perf_counter()
        n = 0
        for chunk in pd.read_csv(
            results,
            dtype={"id": "string", "school": "string", "grade": "string"},
            chunksize=250_000,
            encoding="utf-8-sig",
            low_memory=False,
        ):
            d = chunk["assessment_date"].astype("string")
            chunk["assessment_date"] = (d.str[:4].astype(int) - y).astype(str) + d.str[4:]
            chunk["row"] = chunk["row"] + n
            man = {"input": {"sha256": f"prefill-{y}-{n}"}}
            arc.add_results(chunk, manifest=man, provenance=manifest["definitions"])
            n += len(chunk)
        prefill.append(time.perf_counter() - t)
    if prefilled is not None and not reuse and not target.startswith("postgresql"):
        arc.close()
        _copy_sqlite(Path(target), prefilled)
        arc = open_archive(target, key=KEY)
    load_before = [round(x, 1) for x in os.getloadavg()]
    t, cpu = time.perf_counter(), time.process_time()
    added = arc.add_results(results)
    add_s, add_cpu = time.perf_counter() - t, time.process_time() - cpu
    ids = pd.read_csv(results, usecols=["id"], dtype={"id": "string"})["id"].dropna().tolist()
    rng = random.Random(7)
    arc.history(ids[0])  # warm the connection pool
    lat, lat_cpu, found = [], [], []
    sample = rng.sample(ids, min(samples, len(ids)))
    for cid in sample:
        t, c = time.perf_counter(), time.process_time()
        h = arc.history(cid)
        lat.append((time.perf_counter() - t) * 1000)
        lat_cpu.append((time.process_time() - c) * 1000)
        found.append(len(h.screenings))
    # the same children again, their pages now cached: what a look-up costs without disk reads
    warm = []
    for cid in sample:
        t = time.perf_counter()
        arc.history(cid)
        warm.append((time.perf_counter() - t) * 1000)
    on = pd.Timestamp.today().date().isoformat()
    t = time.perf_counter()
    due = arc.due(on, school=SMALL_SCHOOL)
    due_s = time.perf_counter() - t
    with arc.engine.connect() as c:
        import sqlalchemy as sa

        n_screen = c.execute(sa.text("select count(*) from screenings")).scalar()
        n_school = c.execute(
            sa.text("select count(distinct child_key) from screenings where school = :s"),
            {"s": SMALL_SCHOOL},
        ).scalar()
    size = _size(target, arc.engine)
    arc.close()
    return {
        "backend": "postgresql" if target.startswith("postgresql") else "sqlite",
        "rows_per_year": rows,
        "years_before": years,
        "screenings": n_screen,
        "score_seconds": round(score_s, 1),
        "prefill_seconds_per_year": [round(x, 1) for x in prefill],
        "add_seconds": round(add_s, 1),
        "add_vs_score": round(add_s / score_s, 2),
        "add_cpu_seconds": round(add_cpu, 1),
        "stored": added.stored,
        "history_ms_median": round(statistics.median(lat), 2),
        "history_ms_p95": round(sorted(lat)[int(0.95 * (len(lat) - 1))], 2),
        "history_ms_max": round(max(lat), 2),
        "history_cpu_ms_median": round(statistics.median(lat_cpu), 2),
        "history_ms_median_warm": round(statistics.median(warm), 2),
        "history_screenings_mean": round(statistics.mean(found), 2),
        "due_school_children": n_school,
        "due_rows": len(due),
        "due_seconds": round(due_s, 3),
        "bytes_per_screening": round(size / n_screen),
        "archive_mb": round(size / 2**20),
        "peak_rss_mb": round(_peak_mb()),
        # the host is shared: the 1/5/15-minute load average before the add and at the end
        "load_before_add": load_before,
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="psyscreen archive benchmark")
    p.add_argument("--rows", type=int, default=1_000_000, help="children per year")
    p.add_argument("--years", type=int, default=4, help="earlier years already archived")
    p.add_argument("--pg-url", help="also run on this PostgreSQL database (it is emptied!)")
    p.add_argument("--no-sqlite", action="store_true")
    p.add_argument("--history-samples", type=int, default=200)
    p.add_argument("--dir", help="work directory (kept; the export is reused)")
    p.add_argument(
        "--rescore",
        action="store_true",
        help="score the export again (the pairing) even if results exist",
    )
    p.add_argument(
        "--prefilled",
        help="SQLite file of the filled earlier years: copied and reused if it exists, "
        "else written after the fill (repeat the add without refilling)",
    )
    a = p.parse_args(argv)
    work = Path(a.dir) if a.dir else Path(tempfile.mkdtemp(prefix="psyscreen-archive-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    out = []
    if not a.no_sqlite:
        db = work / "archive.sqlite"
        for f in (db, Path(str(db) + "-wal"), Path(str(db) + "-shm")):
            f.unlink(missing_ok=True)
        pre = Path(a.prefilled) if a.prefilled else None
        out.append(run(a.rows, a.years, work, str(db), a.history_samples, a.rescore, pre))
        print(json.dumps(out[-1], ensure_ascii=False), flush=True)
    if a.pg_url:
        out.append(
            run(a.rows, a.years, work, a.pg_url, a.history_samples, a.rescore and a.no_sqlite)
        )
        print(json.dumps(out[-1], ensure_ascii=False), flush=True)
    for r in out:
        print(
            f"{r['backend']}: add {r['rows_per_year']:,} rows to {r['years_before']} years: "
            f"{r['add_seconds']} s vs scoring {r['score_seconds']} s "
            f"(x{r['add_vs_score']}); history median {r['history_ms_median']} ms "
            f"(p95 {r['history_ms_p95']}); due list {r['due_school_children']} children "
            f"{r['due_seconds']} s; {r['bytes_per_screening']} B/screening"
        )


if __name__ == "__main__":
    main()
