"""The ``psyscreen`` command line.

Sub-commands register themselves in :data:`COMMANDS` through :func:`command`;
each gets an ``argparse`` sub-parser and returns an exit code:

* ``0`` success, ``1`` success with row problems (batch runs), ``2`` failure
  (bad input file, bad definition, bad arguments, an unwritable output; one line
  saying what to fix, no traceback unless ``--debug``), ``130`` interrupted (Ctrl-C),
  ``143`` terminated (SIGTERM).

Example:
    $ psyscreen list
    $ psyscreen show phq9
    $ psyscreen validate my_scale.yaml
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence

EXIT_OK, EXIT_ROW_PROBLEMS, EXIT_FAILURE = 0, 1, 2
#: interrupted by Ctrl-C or SIGTERM (128 + the signal number, as shells report it)
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143

#: optional third-party module -> the extra that installs it
OPTIONAL_MODULES = {
    "pyarrow": "io",
    "openpyxl": "io",
    "pyreadstat": "io",
    "matplotlib": "plot",
    "dask": "dask",
    "distributed": "dask",
    "rapidfuzz": "io",
    "opencc": "io",
    "sqlalchemy": "archive",
    "alembic": "archive",
    "psycopg": "archive",
}

#: name -> (help, add_arguments, run)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[..., int]]] = {}
#: name -> examples shown at the end of the sub-command's --help
EXAMPLES: dict[str, str] = {
    "list": "example:\n  psyscreen list --lang zh",
    "show": "examples:\n  psyscreen show phq9\n  psyscreen show default      # a profile\n"
    "  psyscreen show my_scale.yaml --lang zh",
    "validate": "example:\n  psyscreen validate my_scale.yaml mapping.yaml",
    "score": "examples:\n  psyscreen score export.csv --map mapping.yaml --profile default "
    "-o out/results.csv\n  psyscreen score export.csv --map mapping.yaml --instruments "
    "phq9,gad7 -o out/scores.csv",
}


def command(
    name: str,
    help: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    example: str | None = None,
):
    """Decorator registering ``run(args) -> int`` as sub-command ``name``."""

    def wrap(run: Callable[..., int]) -> Callable[..., int]:
        COMMANDS[name] = (help, add_arguments, run)
        if example:
            EXAMPLES[name] = example
        return run

    return wrap


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks and shows each option's default (when it has one)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" not in text
            and action.default not in (None, False, [], argparse.SUPPRESS)
            and action.option_strings
        ):
            text += " (default: %(default)s)"
        return text


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
    p.add_argument(
        "instrument", help="instrument or profile id, or a definition file (instrument, profile)"
    )
    p.add_argument("--lang", choices=["en", "zh"], default="en")


@command(
    "show",
    "show an instrument (items, codes, scales, bands, sources) or a profile, by id or file",
    _show_args,
)
def _show(args: argparse.Namespace) -> int:
    from .discover import show_text

    print(show_text(args.instrument, lang=args.lang))
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

    for mod in ("psyscreen.batch_cli", "psyscreen.map_cli", "psyscreen.archive.cli"):
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
    debug_help = "show the full traceback of a failure (for reporting a bug)"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_, add, run) in COMMANDS.items():
        p = sub.add_parser(
            name,
            help=help_,
            description=help_,
            epilog=EXAMPLES.get(name),
            formatter_class=HelpFormatter,
        )
        add(p)
        # also after the sub-command; SUPPRESS keeps a --debug given before it
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
        p.set_defaults(_run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``psyscreen`` command.

    Every failure is one line on stderr and exit code 2 (``EXIT_FAILURE``); Ctrl-C
    is one line and exit code 130 (outputs under way are removed by the run itself).
    ``--debug`` lets the exception through with its traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = _stop_on_sigterm()
    try:
        return int(args._run(args))
    except (KeyboardInterrupt, Terminated) as e:
        if getattr(args, "debug", False):
            raise
        print("psyscreen: 已中断，未写出任何文件 / interrupted: no output written", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(e, Terminated) else EXIT_INTERRUPTED
    except Exception as e:
        if getattr(args, "debug", False):
            raise
        print(f"psyscreen: error: {failure_message(e)}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class Terminated(BaseException):
    """SIGTERM arrived (``kill``, a service manager, ``timeout``): stop as on Ctrl-C."""


def _stop_on_sigterm():
    """Make SIGTERM unwind like Ctrl-C (temporary outputs removed); returns the old handler.

    Only in the main thread (the only one that may set handlers); ``None`` elsewhere.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise Terminated()

    return signal.signal(signal.SIGTERM, stop)


def failure_message(e: BaseException) -> str:
    """The one-line message for an exception that ends a command (no traceback).

    Errors psyscreen raises for a file, mapping, option or environment carry their
    own message; operating-system errors say why in Chinese and English; anything
    else is an internal error, named by its type only (a library's message can quote
    a line of the input).

    Example:
        >>> failure_message(ZeroDivisionError("x"))[:41]
        '内部错误 / internal error (ZeroDivisionError)'
    """
    if isinstance(e, ModuleNotFoundError):
        extra = OPTIONAL_MODULES.get((e.name or "").split(".")[0])
        if extra is not None:
            return f'this needs the optional package {e.name!r}: pip install "psyscreen[{extra}]"'
    if isinstance(e, _user_errors()):
        msg = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
        # a definition with several problems lists one per line: the command's failure
        # stays one line, every problem kept
        return "; ".join(part.strip() for part in msg.splitlines() if part.strip())
    if isinstance(e, OSError):
        from .batch.failures import os_error_message

        return os_error_message(e)
    if isinstance(e, MemoryError):
        return "内存不足 / out of memory: lower --chunk-rows and run again"
    return (
        f"内部错误 / internal error ({type(e).__name__}): please report it; "
        "rerun with --debug to see the details"
    )


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exception types whose message is written for the person running the command."""
    from .yamlio import DefinitionError

    kinds: list[type[BaseException]] = [DefinitionError, KeyError, FileNotFoundError]
    try:
        from .batch import BatchError, InputFileError
        from .batch.outputs import OutputPathError
        from .batch.privacy import PseudonymKeyError
    except ImportError:  # pragma: no cover - without the io extra
        return tuple(kinds)
    return (*kinds, BatchError, InputFileError, OutputPathError, PseudonymKeyError)


if __name__ == "__main__":  # pragma: no cover
    # run the registry of the imported module, not of this __main__ copy
    from psyscreen.cli import main as _main

    sys.exit(_main())
