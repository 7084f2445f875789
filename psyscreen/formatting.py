"""How numbers are written in definitions, messages and reports.

Two forms, because they serve two purposes: :func:`exact_number` writes a bound
or a stored value in full (``69.69697``), so that a message never rounds the
number a reader has to find in a file; :func:`format_number` writes a figure for
display in ``%g`` form (``69.697``). Both drop the ``.0`` of whole numbers.

Example:
    >>> exact_number(69.69697), format_number(69.69697), exact_number(10.0)
    ('69.69697', '69.697', '10')
"""

from __future__ import annotations

__all__ = ["exact_number", "format_number"]


def exact_number(x: float) -> str:
    """A number in full (Python's shortest round-trip form), whole numbers without ``.0``.

    Example:
        >>> exact_number(8.0), exact_number(2.5)
        ('8', '2.5')
    """
    return str(int(x)) if float(x).is_integer() else str(x)


def format_number(x: float) -> str:
    """A number for display: whole numbers without ``.0``, others in ``%g`` form.

    Example:
        >>> format_number(10.0), format_number(69.69697), format_number(float("nan"))
        ('10', '69.697', 'nan')
    """
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
