"""The ``psyscreen`` command line.

Sub-commands register themselves in :data:`COMMANDS` through :func:`command`;
each gets an ``argparse`` sub-parser and returns an exit code:

* ``0`` success, ``1`` success with row problems (batch runs), ``2`` failure
  (bad input file, bad definition, bad arguments).

Example:
    $ psyscreen list
    $ psyscreen show phq9
    $ psyscreen validate my_scale.yaml
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

EXIT_OK, EXIT_ROW_PROBLEMS, EXIT_FAILURE = 0, 1, 2

#: optional third-party module -> the extra that installs it
OPTIONAL_MODULES = {
    "pyarrow": "io",
    "openpyxl": "io",
    "pyreadstat": "io",
    "matplotlib": "plot",
    "dask": "dask",
    "distributed": "dask",
    "sqlalchemy": "archive",
    "alembic": "archive",
    "psycopg": "archive",
}

#: name -> (help, add_arguments, run)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[..., int]]] = {}


def command(name: str, help: str, add_arguments: Callable[[argparse.ArgumentParser], None]):
    """Decorator registering ``run(args) -> int`` as sub-command ``name``."""

    def wrap(run: Callable[..., int]) -> Callable[..., int]:
        COMMANDS[name] = (help, add_arguments, run)
        return run

    return wrap


def _no_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="language of titles")


@command("list", "list the shipped instruments", _no_args)
def _list(args: argparse.Namespace) -> int:
    from .registry import list_instruments, load_instrument

    for iid in list_instruments():
        inst = load_instrument(iid)
        print(f"{iid:<14} {inst.version:<8} {inst.informant:<8} {inst.title.best(args.lang)}")
    return EXIT_OK


def _show_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("instrument", help="instrument id or path to a definition file")
    p.add_argument("--lang", choices=["en", "zh"], default="en")


@command("show", "show one instrument: items, scales, bands, sources", _show_args)
def _show(args: argparse.Namespace) -> int:
    from .catalogue import instrument_markdown
    from .registry import load_instrument

    print(instrument_markdown(load_instrument(args.instrument), lang=args.lang))
    return EXIT_OK


def _validate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="definition files (YAML)")
    p.add_argument(
        "--kind",
        choices=["auto", *KINDS],
        default="auto",
        help="what the files are (default: told from their top-level keys)",
    )


#: kind of definition file -> top-level keys that identify it
KINDS = {
    "norms": ("rows", "form"),
    "profile": ("battery", "levels"),
    "mapping": ("mapping_version",),
    "instrument": ("items", "scales"),
}


def _kind_of(data: object) -> str:
    if isinstance(data, dict):
        for kind, keys in KINDS.items():
            if any(k in data for k in keys):
                return kind
    return "instrument"


def validate_any(path: str, kind: str = "auto") -> str:
    """Validate one definition file of any kind; return a one-line summary.

    Raises :class:`~psyscreen.yamlio.DefinitionError` naming file, path and problem.
    """
    from .yamlio import read_yaml

    data, _ = read_yaml(path)
    kind = _kind_of(data) if kind == "auto" else kind
    if kind == "norms":
        from .norms import load_norms

        t = load_norms(path)
        return f"norm table {t.id} {t.version} for {t.instrument} ({len(t.rows)} rows)"
    if kind == "profile":
        from .risk import load_profile

        prof = load_profile(path)
        return f"risk profile {prof.id} {prof.version} ({', '.join(prof.instruments)})"
    if kind == "mapping":
        from .batch.mapping import load_mapping

        load_mapping(path)
        return "mapping file"
    from .registry import validate_file

    inst = validate_file(path)
    return (
        f"instrument {inst.id} {inst.version} ({len(inst.items)} items, {len(inst.scales)} scales)"
    )


@command(
    "validate",
    "validate definition files (instruments, norm tables, profiles, mappings)",
    _validate_args,
)
def _validate(args: argparse.Namespace) -> int:
    from .yamlio import DefinitionError

    code = EXIT_OK
    for f in args.files:
        try:
            summary = validate_any(f, args.kind)
        except DefinitionError as e:
            print(f"INVALID {e}", file=sys.stderr)
            code = EXIT_FAILURE
        else:
            print(f"ok      {f}: {summary}")
    return code


def _load_plugins() -> None:
    """Import modules that register further sub-commands (if present)."""
    import importlib

    for mod in ("psyscreen.batch_cli", "psyscreen.archive.cli"):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    _load_plugins()
    parser = argparse.ArgumentParser(
        prog="psyscreen",
        description="Validated psychometric scoring for child and adolescent "
        "mental-health screening.",
    )
    parser.add_argument("--version", action="version", version=f"psyscreen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_, add, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        add(p)
        p.set_defaults(_run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``psyscreen`` command."""
    from .yamlio import DefinitionError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args))
    except ModuleNotFoundError as e:
        extra = OPTIONAL_MODULES.get((e.name or "").split(".")[0])
        if extra is None:
            raise
        print(
            f"psyscreen: error: this needs the optional package {e.name!r}: "
            f'pip install "psyscreen[{extra}]"',
            file=sys.stderr,
        )
        return EXIT_FAILURE
    except (DefinitionError, KeyError, FileNotFoundError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f"psyscreen: error: {msg}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    # run the registry of the imported module, not of this __main__ copy
    from psyscreen.cli import main as _main

    sys.exit(_main())
