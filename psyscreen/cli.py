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


@command("validate", "validate instrument definition files", _validate_args)
def _validate(args: argparse.Namespace) -> int:
    from .registry import validate_file
    from .yamlio import DefinitionError

    code = EXIT_OK
    for f in args.files:
        try:
            inst = validate_file(f)
        except DefinitionError as e:
            print(f"INVALID {e}", file=sys.stderr)
            code = EXIT_FAILURE
        else:
            print(
                f"ok      {f}: {inst.id} {inst.version} ({len(inst.items)} items, "
                f"{len(inst.scales)} scales)"
            )
    return code


def _load_plugins() -> None:
    """Import modules that register further sub-commands (if present)."""
    import importlib

    for mod in ("psyscreen.batch_cli",):
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
    except (DefinitionError, KeyError, FileNotFoundError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f"psyscreen: error: {msg}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
