"""The ``map``, ``profiles``, ``show-profile`` and ``schema`` sub-commands.

Registered with :func:`psyscreen.cli.command`; the work is done by
:mod:`psyscreen.batch.mapinit`, :mod:`psyscreen.batch.mapcheck` and :mod:`psyscreen.discover`.

Example:
    $ psyscreen map init examples/wjx_export.csv --instruments phq9,gad7 -o mapping.yaml
    $ psyscreen map check examples/wjx_export.csv --map mapping.yaml --instruments phq9,gad7
    $ psyscreen profiles
    $ psyscreen schema mapping

``map check`` exits 0 when the mapping can be used, 1 when it found something to fix,
2 when the files cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from .batch_cli import instrument_list, source_options
from .cli import EXIT_FAILURE, EXIT_OK, EXIT_ROW_PROBLEMS, HelpFormatter, command


def _battery(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--profile", help="risk profile id or file whose battery to look for (default: default)"
    )
    g.add_argument(
        "--instruments",
        type=instrument_list,
        metavar="A,B",
        help="instruments to look for instead of a profile (e.g. phq9,gad7)",
    )
    p.add_argument("--encoding", help="CSV encoding (default: detected: utf-8, utf-8-sig, gb18030)")
    p.add_argument("--sheet", help="XLSX worksheet (default: the first)")
    p.add_argument(
        "--lang", choices=["zh", "en"], default="zh", help="language of the report and comments"
    )


def _map_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="map_command", required=True, metavar="{init,check}")
    init = sub.add_parser(
        "init",
        help="propose a mapping file from the export's headers and answer texts",
        description="Propose a mapping file: every decision is explained in a YAML comment; "
        "unsure matches are written commented out with the alternatives.",
        epilog="example:\n  psyscreen map init export.csv --instruments phq9,gad7 -o mapping.yaml",
        formatter_class=HelpFormatter,
    )
    init.add_argument("export", help="export file: .csv/.txt/.tsv, .xlsx, .sav or .parquet")
    init.add_argument("-o", "--output", required=True, help="mapping file to write (YAML)")
    init.add_argument("--force", action="store_true", help="replace an existing output file")
    init.add_argument(
        "--sample-rows",
        type=int,
        default=100_000,
        help="rows read for answer texts (default: 100000)",
    )
    _battery(init)
    check = sub.add_parser(
        "check",
        help="dry run: what the mapping misses in the export (nothing is scored)",
        description="Check a mapping against an export without scoring or writing anything.",
        epilog="example:\n  psyscreen map check export.csv --map mapping.yaml "
        "--instruments phq9,gad7",
        formatter_class=HelpFormatter,
    )
    check.add_argument("export", help="export file: .csv/.txt/.tsv, .xlsx, .sav or .parquet")
    check.add_argument("--map", dest="mapping", required=True, help="mapping file (YAML)")
    _battery(check)


@command(
    "map",
    "start a mapping from an export (map init) and check it (map check)",
    _map_args,
    example="examples:\n  psyscreen map init export.csv --instruments phq9,gad7 -o mapping.yaml\n"
    "  psyscreen map check export.csv --map mapping.yaml --instruments phq9,gad7",
)
def _map(args: argparse.Namespace) -> int:
    from .batch import BatchError, InputFileError

    try:
        if args.map_command == "init":
            return _init(args)
        return _check(args)
    except (BatchError, InputFileError) as e:
        print(f"psyscreen: error: {e}", file=sys.stderr)
        return EXIT_FAILURE


def _init(args: argparse.Namespace) -> int:
    from .batch.mapinit import propose_mapping

    out = Path(args.output)
    if out.resolve() == Path(args.export).resolve():
        print("psyscreen: error: the output would overwrite the export", file=sys.stderr)
        return EXIT_FAILURE
    if out.exists() and not args.force:
        print(f"psyscreen: error: {out} exists; pass --force to replace it", file=sys.stderr)
        return EXIT_FAILURE
    prop = propose_mapping(
        args.export,
        **source_options(args),
        sample_rows=args.sample_rows,
        lang=args.lang,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(prop.text, encoding="utf-8")
    n_active = sum(1 for m in prop.matches if m.active and m.kind == "item")
    n_unsure = sum(1 for m in prop.matches if not m.active and m.kind in ("item", "role"))
    zh = args.lang == "zh"
    print(
        (
            f"已写出 {out}：{n_active} 个题目列已匹配，{n_unsure} 个待确认（已注释），"
            f"{len(prop.unmatched)} 列未匹配；找到的量表：{', '.join(prop.found) or '无'}"
        )
        if zh
        else (
            f"wrote {out}: {n_active} item columns matched, {n_unsure} to confirm (commented out), "
            f"{len(prop.unmatched)} headers unmatched; instruments found: "
            f"{', '.join(prop.found) or 'none'}"
        ),
        file=sys.stderr,
    )
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from .batch.mapcheck import check_mapping

    rep = check_mapping(args.export, args.mapping, **source_options(args))
    print(rep.text(args.lang), end="")
    return EXIT_OK if rep.ok else EXIT_ROW_PROBLEMS


def _printing(
    name: str,
    help: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    example: str,
    text: Callable[[argparse.Namespace], str],
) -> None:
    """Register sub-command ``name``: it prints ``text(args)`` and exits 0."""

    def run(args: argparse.Namespace) -> int:
        print(text(args), end="")
        return EXIT_OK

    command(name, help, add_arguments, example=f"example:\n  {example}")(run)


def _lang(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="language of titles")


def _profile_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("profile", help="profile id or file")
    _lang(p)


def _schema_args(p: argparse.ArgumentParser) -> None:
    from .discover import SCHEMA_KINDS

    p.add_argument("kind", choices=sorted(SCHEMA_KINDS), help="which definition file")


def _profiles_text(args: argparse.Namespace) -> str:
    from .discover import profiles_text

    return profiles_text(args.lang)


def _profile_text(args: argparse.Namespace) -> str:
    from .discover import profile_markdown
    from .risk import load_profile

    return profile_markdown(load_profile(args.profile), args.lang) + "\n"


def _schema_text(args: argparse.Namespace) -> str:
    from .discover import schema_text

    return schema_text(args.kind)


_printing("profiles", "list the shipped risk profiles", _lang, "psyscreen profiles", _profiles_text)
_printing(
    "show-profile",
    "show one risk profile: battery, levels, rules",
    _profile_args,
    "psyscreen show-profile default --lang zh",
    _profile_text,
)
_printing(
    "schema",
    "print the published JSON Schema of a definition file",
    _schema_args,
    "psyscreen schema mapping > mapping.schema.json",
    _schema_text,
)
