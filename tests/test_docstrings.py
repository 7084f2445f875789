"""Every docstring example in the package runs and gives what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import psyscreen

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(psyscreen.__path__, prefix="psyscreen.")
    if not m.name.endswith("__main__")  # importing it runs the command line
)


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_hold(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{module}: {result.failed} docstring example(s) fail"
