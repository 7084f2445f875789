"""The ``psyscreen score`` sub-command (registered with :func:`psyscreen.cli.command`).

Example:
    $ psyscreen score examples/annual_export.csv --map examples/mapping.yaml \\
          --profile default -o out/results.csv
    $ psyscreen score examples/wjx_export.csv --map mapping.yaml \\
          --instruments phq9,gad7 -o out/scores.csv

Exit codes: 0 success, 1 success with row problems (see the problems file),
2 failure (the message says what to fix).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .cli import EXIT_FAILURE, command


def instrument_list(text: str) -> list[str]:
    """``--instruments phq9,gad7`` as a list of ids (or files)."""
    return [x.strip() for x in text.split(",") if x.strip()]


def source_options(args: argparse.Namespace) -> dict[str, Any]:
    """The battery and the reading options that every export-reading sub-command passes on.

    Example:
        >>> ns = argparse.Namespace(profile=None, instruments=None, encoding=None, sheet="S1")
        >>> source_options(ns)
        {'profile': 'default', 'instruments': None, 'encoding': None, 'sheet': 'S1'}
    """
    return {
        "profile": args.profile or "default",
        "instruments": args.instruments,
        "encoding": args.encoding,
        "sheet": args.sheet,
    }


def _repeatable(p: argparse.ArgumentParser, flag: str, metavar: str, help: str) -> None:
    """An option that may be given several times, collected in order into a list."""
    p.add_argument(flag, action="append", default=[], metavar=metavar, help=help)


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="export file: .csv/.txt/.tsv, .xlsx, .sav or .parquet")
    p.add_argument("-o", "--output", required=True, help="results: .csv, .xlsx or .parquet")
    p.add_argument("--profile", help="risk profile id or file (default: default)")
    p.add_argument(
        "--instruments",
        type=instrument_list,
        metavar="A,B",
        help="score these instruments instead of a profile's battery: scores, bands and "
        "norms where a table applies, no risk levels (e.g. phq9,gad7)",
    )
    p.add_argument(
        "--map", dest="mapping", help="mapping file (YAML): headers, answer texts, roles"
    )
    p.add_argument("--problems", help="problems file (default: <output>.problems.csv)")
    p.add_argument("--manifest", help="run manifest (default: <output>.manifest.json)")
    p.add_argument("--report", help="HTML report (default: <output>.report.html)")
    p.add_argument("--no-report", action="store_true", help="do not write the HTML report")
    p.add_argument(
        "--lang",
        choices=("zh", "en"),
        default="zh",
        help="language of the report and the warning list (default: zh)",
    )
    _repeatable(
        p,
        "--warning-list",
        "PATH",
        "also write the CONFIDENTIAL warning list (预警名单) of the children to act on: "
        ".html (one school per printed page) or .xlsx; may be given twice; never by default",
    )
    p.add_argument("--encoding", help="CSV encoding (default: detected: utf-8, utf-8-sig, gb18030)")
    p.add_argument(
        "--delimiter",
        help="CSV/TXT/TSV field delimiter: ',', ';', tab (default: sniffed from the header line)",
    )
    p.add_argument(
        "--assessment-date",
        metavar="YYYY-MM-DD",
        help="测评日期 of every row, when the export has no such column "
        "(replaces the mapping's column or constant)",
    )
    p.add_argument("--sheet", help="XLSX worksheet (default: the first)")
    p.add_argument("--chunk-rows", type=int, default=50_000, help="rows per chunk (memory)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="only 1 (one process with a reading and a writing thread); more processes "
        "were slower on 2 cores and are refused: for more scale use Dask",
    )
    _repeatable(
        p,
        "--pseudonymise",
        "COLUMN",
        "replace this output column (e.g. id) by a keyed pseudonym (HMAC-SHA256); "
        "key from --key-file or the environment variable PSYSCREEN_PSEUDONYM_KEY",
    )
    p.add_argument("--key-file", help="file holding the pseudonymisation key")
    _repeatable(p, "--drop", "COLUMN", "leave a column out")
    p.add_argument(
        "--no-neutralise",
        action="store_true",
        help="do not neutralise formula-like text cells in CSV/XLSX output",
    )
    p.add_argument("--no-norms", action="store_true", help="do not standardise with norm tables")
    p.add_argument(
        "--archive",
        metavar="DB",
        help="after the run, add the results to this archive (SQLite file or URL; key from "
        "--archive-key-file or PSYSCREEN_ARCHIVE_KEY); see docs/archive.md",
    )
    p.add_argument("--archive-key-file", help="archive key file")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", default=None, help="always show progress")
    bar.add_argument("--quiet", action="store_true", help="never show progress or the summary")


def compact_arrow_memory() -> str:
    """Use Arrow's jemalloc pool, handing freed memory back after 100 ms; returns the pool used.

    For the ``score`` command's own process only (a library caller keeps its pool): at
    1M rows the peak is ~95 MiB lower than with the default pool (mimalloc), at the same
    speed, and a 10M-row run stays at 700 MiB (``docs/performance.md``). A pool chosen with
    ``ARROW_DEFAULT_MEMORY_POOL``, or a pyarrow built without jemalloc, is left as it is.

    Example:
        >>> compact_arrow_memory() in ("jemalloc", "mimalloc", "system")
        True
    """
    import os

    import pyarrow as pa

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return pa.default_memory_pool().backend_name
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(100)
    except (NotImplementedError, pa.ArrowException):
        return pa.default_memory_pool().backend_name
    pa.set_memory_pool(pool)
    return pool.backend_name


@command("score", "score an export file in chunks: results, problems, manifest, report", _args)
def _score(args: argparse.Namespace) -> int:
    from .batch import BatchError, run
    from .batch.run import WORKERS_REFUSED

    if args.workers != 1:  # before anything is read
        raise BatchError(f"--{WORKERS_REFUSED}")
    progress = False if args.quiet else args.progress
    if args.profile and args.instruments:
        print(
            "psyscreen: error: give --profile (risk levels) or --instruments (scores only), "
            "not both",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    compact_arrow_memory()
    # a failure raises: psyscreen.cli.main prints its one line and returns 2
    res = run(
        args.input,
        args.output,
        **source_options(args),
        mapping=args.mapping,
        problems=args.problems,
        manifest=args.manifest,
        report=False if args.no_report else (args.report or True),
        chunk_rows=args.chunk_rows,
        pseudonymise=args.pseudonymise,
        key_file=args.key_file,
        drop=args.drop,
        neutralise=not args.no_neutralise,
        norms=None if args.no_norms else "auto",
        progress=progress,
        delimiter=args.delimiter,
        assessment_date=args.assessment_date,
        report_lang=args.lang,
        warning_lists=args.warning_list or (),
    )
    lists = res.warning_lists
    if not args.quiet:
        rows = res.manifest["rows"]
        print(
            f"{rows['in']} rows in, {rows['out']} rows out "
            f"({rows['rows_with_problems']} with problems, {rows['unreadable']} unreadable)",
            file=sys.stderr,
        )
        for k, v in rows["by_outcome"].items():
            print(f"  {k:<20} {v}", file=sys.stderr)
        print(f"results:  {res.results}", file=sys.stderr)
        print(f"problems: {res.problems}", file=sys.stderr)
        print(f"manifest: {res.manifest_path}", file=sys.stderr)
        if res.report is not None:
            print(f"report:   {res.report}", file=sys.stderr)
        kinds = rows.get("problems_by_kind", {})
        if any(k.endswith((":non_numeric", ":out_of_range")) for k in kinds):
            check = f"psyscreen map check {args.input} --map {args.mapping or 'MAPPING'}"
            if args.instruments:
                check += f" --instruments {','.join(args.instruments)}"
            elif args.profile:
                check += f" --profile {args.profile}"
            print(
                f"答案文本未映射或超出范围：运行 {check} 查看是哪些文本\n"
                f"answers not mapped or out of range: {check} names the texts",
                file=sys.stderr,
            )
    for path in lists:  # printed even with --quiet: a confidential file must not go unnoticed
        print(f"warning list (CONFIDENTIAL 机密): {path}", file=sys.stderr)
    if args.archive:
        code = _to_archive(args, res)
        if code != 0:
            return code
    return res.exit_code


def _to_archive(args: argparse.Namespace, res) -> int:
    """Add a finished run's results to the archive (``--archive``)."""
    from .archive import ArchiveError, open_archive
    from .batch.privacy import PseudonymKeyError

    try:
        with open_archive(args.archive, key_file=args.archive_key_file) as arc:
            added = arc.add_results(res.results, manifest=res.manifest_path)
    except (ArchiveError, PseudonymKeyError) as e:
        print(f"psyscreen: error: archive: {e}", file=sys.stderr)
        return EXIT_FAILURE
    if not args.quiet:
        print(f"archive:  {added.summary('zh')}", file=sys.stderr)
    return 0
