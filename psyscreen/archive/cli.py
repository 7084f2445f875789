"""The ``psyscreen archive`` sub-commands (registered with :func:`psyscreen.cli.command`).

Exit codes: 0 success, 1 success with rows skipped (counted by reason in the import
log), 2 failure (the message says what to fix).

Example:
    $ export PSYSCREEN_ARCHIVE_KEY=...            # or --key-file FILE
    $ psyscreen archive init --archive school.sqlite
    $ psyscreen archive add out/results.csv --archive school.sqlite
    $ psyscreen archive due --on 2024-11-30 --school 第一中学 --archive school.sqlite -o due.csv
    $ psyscreen archive event S001 visit 2024-11-03 --archive school.sqlite
    $ psyscreen archive history S001 --archive school.sqlite
"""

from __future__ import annotations

import argparse
import sys

from ..cli import EXIT_FAILURE, EXIT_OK, EXIT_ROW_PROBLEMS, command

ACTIONS = ("init", "upgrade", "add", "event", "events", "history", "due", "cohort", "export",
           "import", "forget", "log")


def _common(p: argparse.ArgumentParser, key: bool = True) -> None:
    p.add_argument("--archive", required=True,
                   help="archive: a SQLite file path or a SQLAlchemy URL (postgresql+psycopg://...)")
    if key:
        p.add_argument("--key-file", help="archive key file (default: env PSYSCREEN_ARCHIVE_KEY)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of messages")


def _args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True)
    s = sub.add_parser("init", help="create an archive (SQLite file: owner-only)")
    _common(s)
    s.add_argument("--clear-ids", action="store_true",
                   help="also keep clear ids (default: only their keyed hash)")
    s = sub.add_parser("upgrade", help="migrate an archive made by an older psyscreen")
    _common(s, key=False)
    s = sub.add_parser("add", help="add a results file of 'psyscreen score'")
    _common(s)
    s.add_argument("results", help="results file (.csv/.xlsx/.parquet)")
    s.add_argument("--manifest", help="run manifest (default: next to the results)")
    s = sub.add_parser("event", help="record one follow-up event")
    _common(s)
    s.add_argument("id")
    s.add_argument("kind", help="contact/visit/confirmation/referral_made/referral_attended/"
                   "closed (or 联系/家访/确认/转介/就诊/结案)")
    s.add_argument("date")
    s.add_argument("--outcome", help="confirmation: confirmed / changed / not_confirmed")
    s.add_argument("--level", help="confirmed level when changed (e.g. attention / 关注)")
    s.add_argument("--note")
    s = sub.add_parser("events", help="add follow-up events from a CSV/XLSX file")
    _common(s)
    s.add_argument("file", help="columns id, kind, date [, outcome, level, note]")
    s = sub.add_parser("history", help="a child's screenings, events and changes")
    _common(s)
    s.add_argument("id")
    s.add_argument("--changes", action="store_true", help="also print per-scale changes")
    s = sub.add_parser("due", help="the due list (预警台账) on a date")
    _common(s)
    s.add_argument("--on", required=True, help="date (YYYY-MM-DD)")
    s.add_argument("--school")
    s.add_argument("-o", "--output", help="write the full list (.csv/.xlsx) instead of printing")
    s = sub.add_parser("cohort", help="year-over-year level transitions by school and grade")
    _common(s)
    s.add_argument("--from-year", type=int, required=True, help="school year (Sept-Aug)")
    s.add_argument("--to-year", type=int, required=True)
    s.add_argument("--school")
    s.add_argument("-o", "--output", help="write .csv instead of printing")
    s = sub.add_parser("export", help="write a signed transfer bundle (学段转接)")
    _common(s)
    s.add_argument("-o", "--output", required=True, help="bundle file (.json)")
    s.add_argument("--id", action="append", dest="ids", help="a child (repeatable)")
    s.add_argument("--school")
    s.add_argument("--grade")
    s.add_argument("--include-ids", action="store_true",
                   help="put clear ids in the bundle (needed when the receiving key differs)")
    s.add_argument("--bundle-key-file", help="agreed bundle key (default: env "
                   "PSYSCREEN_BUNDLE_KEY, else the archive key)")
    s = sub.add_parser("import", help="verify and merge a transfer bundle")
    _common(s)
    s.add_argument("bundle")
    s.add_argument("--id", help="the child's id, for a one-child bundle without ids")
    s.add_argument("--bundle-key-file")
    s = sub.add_parser("forget", help="erase a child's data on request (logged)")
    _common(s)
    s.add_argument("id")
    s = sub.add_parser("log", help="the import log and the audit table")
    _common(s)


def _open(args: argparse.Namespace):
    from . import open_archive

    return open_archive(args.archive, key_file=args.key_file)


def _write(df, path: str) -> None:
    from pathlib import Path

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix.lower() == ".xlsx":
        df.to_excel(p, index=False)
    else:
        df.to_csv(p, index=False, encoding="utf-8-sig")


def _run(args: argparse.Namespace) -> int:
    import pandas as pd

    zh = args.lang == "zh"
    a = args.action
    if a == "init":
        from . import create_archive

        arc = create_archive(args.archive, key_file=args.key_file, clear_ids=args.clear_ids)
        print(("已创建档案库" if zh else "archive created") +
              f" (key fingerprint {arc.key.fingerprint})", file=sys.stderr)
        arc.close()
        return EXIT_OK
    if a == "upgrade":
        from .db import upgrade_database

        old, new = upgrade_database(args.archive)
        print(f"{old} -> {new}" if old != new else ("已是最新" if zh else "already current"),
              file=sys.stderr)
        return EXIT_OK
    code = EXIT_OK
    with _open(args) as arc:
        if a == "add":
            res = arc.add_results(args.results, manifest=args.manifest)
            print(res.summary(args.lang), file=sys.stderr)
            code = EXIT_ROW_PROBLEMS if res.skipped else EXIT_OK
        elif a == "event":
            res = arc.record_event(args.id, args.kind, args.date, outcome=args.outcome,
                                   level=args.level, note=args.note)
            print(res.summary(args.lang), file=sys.stderr)
            code = EXIT_ROW_PROBLEMS if res.skipped else EXIT_OK
        elif a == "events":
            res = arc.add_events(args.file)
            print(res.summary(args.lang), file=sys.stderr)
            code = EXIT_ROW_PROBLEMS if res.skipped else EXIT_OK
        elif a == "history":
            h = arc.history(args.id)
            if h.screenings.empty and h.events.empty:
                print("档案中无此儿童" if zh else "no such child in the archive", file=sys.stderr)
                return EXIT_FAILURE
            for line in h.timeline(args.lang):
                print(line)
            if args.changes and not h.changes.empty:
                print(h.changes.to_string(index=False))
        elif a == "due":
            due = arc.due(args.on, school=args.school, lang=args.lang)
            if args.output:
                _write(due, args.output)
                print(f"{len(due)} " + ("名儿童有到期事项" if zh else "children with items due"),
                      file=sys.stderr)
            else:
                cols = [c for c in ("id", "child_key", "school", "grade", "class",
                                    "level_acted_on", "days_overdue", "reasons") if c in due]
                with pd.option_context("display.max_rows", None, "display.width", 200,
                                       "display.max_colwidth", 120):
                    print(due[cols].to_string(index=False))
        elif a == "cohort":
            tab = arc.cohort(args.from_year, args.to_year, school=args.school)
            if args.output:
                tab.to_csv(args.output, encoding="utf-8-sig")
            else:
                print(tab.to_string())
        elif a == "export":
            counts = arc.export_bundle(args.output, ids=args.ids, school=args.school,
                                       grade=args.grade, include_ids=args.include_ids,
                                       bundle_key_file=args.bundle_key_file)
            print(", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)
        elif a == "import":
            res = arc.import_bundle(args.bundle, clear_id=args.id,
                                    bundle_key_file=args.bundle_key_file)
            print(res.summary(args.lang), file=sys.stderr)
            code = EXIT_ROW_PROBLEMS if res.skipped else EXIT_OK
        elif a == "forget":
            counts = arc.forget(args.id)
            print(("已删除：" if zh else "erased: ") +
                  ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)
        elif a == "log":
            with pd.option_context("display.width", 200, "display.max_columns", None):
                print(arc.import_log().to_string(index=False))
                print(arc.audit_log().to_string(index=False))
    return code


@command("archive", "一人一档: the archive of screenings and follow-up per child", _args)
def _archive(args: argparse.Namespace) -> int:
    from ..batch.privacy import PseudonymKeyError
    from .db import ArchiveError
    from .events import EventError

    try:
        return _run(args)
    except (ArchiveError, EventError, PseudonymKeyError) as e:
        print(f"psyscreen: error: {e}", file=sys.stderr)
        return EXIT_FAILURE
