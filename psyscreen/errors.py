"""The errors psyscreen raises on purpose, under one base class.

Every exception class of the package derives from :class:`PsyscreenError`, so
``except PsyscreenError`` catches all of them and nothing else; each also keeps
the built-in base it had (``ValueError`` for bad definitions and files,
``KeyError`` for unknown ids), so existing ``except ValueError`` code still works.
The classes are importable from here and from the module that raises them
(``psyscreen.yamlio.DefinitionError`` is ``psyscreen.errors.DefinitionError``).

Every error survives pickling with its attributes, so an error raised in a
worker process (``workers>1``, Dask) reaches the caller as itself rather than
as a ``BrokenProcessPool``. ``location`` says where the problem is when there is
a where (a definition file and the path inside it, a norm table row).

Messages never quote cell contents of the data.

Example:
    >>> import pickle
    >>> from psyscreen.errors import DefinitionError, PsyscreenError
    >>> e = DefinitionError("phq9.yaml", "scales[2].bands[0]", "bands overlap")
    >>> isinstance(e, PsyscreenError), isinstance(e, ValueError)
    (True, True)
    >>> e.location
    'phq9.yaml: scales[2].bands[0]'
    >>> str(pickle.loads(pickle.dumps(e)))
    'phq9.yaml: scales[2].bands[0]: bands overlap'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "BatchError",
    "DefinitionError",
    "DefinitionProblems",
    "InputFileError",
    "MissingColumnsError",
    "NormBuildWarning",
    "PseudonymKeyError",
    "PsyscreenError",
    "PsyscreenWarning",
    "TableError",
    "UnknownIdError",
]


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """Recreate a pickled error without calling its ``__init__`` (whose signature varies)."""
    err = cls.__new__(cls, *args)
    BaseException.__init__(err, *args)
    err.__dict__.update(state)
    return err


class PsyscreenError(Exception):
    """Base of every error psyscreen raises on purpose.

    Subclasses may take their own ``__init__`` arguments: pickling restores the
    message (``args``) and the attributes, whatever the signature.

    Example:
        >>> from psyscreen.errors import BatchError, PsyscreenError
        >>> issubclass(BatchError, PsyscreenError), BatchError("no file").location
        (True, None)
    """

    @property
    def location(self) -> str | None:
        """Where the problem is (file and path inside it), or None when it has no place."""
        return None

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class PsyscreenWarning(UserWarning):
    """Base of every warning psyscreen issues."""


class DefinitionError(PsyscreenError, ValueError):
    """A definition file is not valid.

    ``file`` is the file (or ``<string>``), ``path`` the location inside it
    (e.g. ``scales[2].bands[0]``) and ``problem`` what is wrong: the first
    problem found. ``problems`` lists every problem found as ``(path, problem)``
    pairs (the first is ``(path, problem)``); the message shows them all, one a line.

    Example:
        >>> DefinitionError("<string>", "", "no such file").location
        '<string>'
        >>> e = DefinitionError("x.yaml", "items[0].id", "bad id", [("scales[1]", "empty")])
        >>> print(e)
        x.yaml: items[0].id: bad id
        x.yaml: scales[1]: empty
        >>> len(e.problems)
        2
    """

    def __init__(
        self,
        file: str,
        path: str,
        problem: str,
        more: Sequence[tuple[str, str]] = (),
    ):
        self.file, self.path, self.problem = file, path, problem
        self.problems: list[tuple[str, str]] = [(path, problem), *more]
        super().__init__("\n".join(f"{self._at(p)}: {q}" for p, q in self.problems))

    def _at(self, path: str) -> str:
        return f"{self.file}: {path}" if path else self.file

    @property
    def location(self) -> str:
        return self._at(self.path)


class DefinitionProblems(PsyscreenError, ValueError):
    """Several problems a cross-field check of a definition model found, each at its path
    relative to the model (raised inside validators; loading turns it into a
    :class:`DefinitionError` naming the file and the full paths).

    Example:
        >>> e = DefinitionProblems([("items[1]", "unknown scale"), ("", "no bands")])
        >>> print(e)
        items[1]: unknown scale
        no bands
        >>> e.location
        'items[1]'
    """

    def __init__(self, problems: Sequence[tuple[str, str]]):
        self.problems = list(problems)
        super().__init__("\n".join(f"{p}: {q}" if p else q for p, q in self.problems))

    @property
    def location(self) -> str | None:
        return self.problems[0][0] or None if self.problems else None


class TableError(PsyscreenError, ValueError):
    """A problem at ``path`` (e.g. ``rows[3].lookup[2]``) of a norm table.

    Example:
        >>> str(TableError("rows[3].lookup[2]", "raw scores not increasing"))
        'rows[3].lookup[2]: raw scores not increasing'
    """

    def __init__(self, path: str, problem: str):
        self.path, self.problem = path, problem
        super().__init__(f"{path}: {problem}" if path else problem)

    @property
    def location(self) -> str | None:
        return self.path or None


class MissingColumnsError(PsyscreenError, ValueError):
    """Item columns of an instrument are absent from the data.

    ``location`` is the instrument whose columns are missing.

    Example:
        >>> MissingColumnsError("phq9", ["phq9_1"]).location
        'phq9'
    """

    def __init__(self, instrument: str, missing: list[str]):
        self.instrument, self.missing = instrument, missing
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        super().__init__(
            f"{instrument}: {len(missing)} item column(s) not in the data: {shown}. "
            "Rename the columns to the item ids (or pass columns={item_id: column}), "
            "or pass missing_columns='missing' to score them as unanswered."
        )

    @property
    def location(self) -> str:
        return self.instrument


class UnknownIdError(PsyscreenError, KeyError):
    """An id (instrument, norm table, profile, item, scale, level, column...) that does not exist.

    A ``KeyError`` as well, whose text is the plain message (a bare ``KeyError``
    shows its message in quotes). ``kind`` names what was looked up, ``id`` the
    id asked for.

    Example:
        >>> e = UnknownIdError("phq9: no scale 'x'", kind="scale", id="x")
        >>> str(e), isinstance(e, KeyError), e.kind
        ("phq9: no scale 'x'", True, 'scale')
    """

    def __init__(self, message: str, kind: str = "", id: str = ""):
        self.kind, self.id = kind, id
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InputFileError(PsyscreenError, ValueError):
    """The input file cannot be used as a whole (wrong format, encoding, columns).

    The message says what to fix; it never quotes cell contents.
    """


class BatchError(PsyscreenError, ValueError):
    """The run cannot start or continue: a wrong file, mapping or profile.

    The message says what to fix; it never quotes cell contents.
    """


class PseudonymKeyError(PsyscreenError, ValueError):
    """No usable pseudonymisation key."""


class NormBuildWarning(PsyscreenWarning):
    """A built table rests on a small stratum, or rows were left out."""
