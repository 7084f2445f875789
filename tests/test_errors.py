"""One error hierarchy: every psyscreen error is a PsyscreenError, picklable, with its place."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest

import psyscreen
from psyscreen import errors
from psyscreen.errors import (
    BatchError,
    DefinitionError,
    InputFileError,
    MissingColumnsError,
    NormBuildWarning,
    PseudonymKeyError,
    PsyscreenError,
    PsyscreenWarning,
    TableError,
    UnknownIdError,
)

#: the classes that were ValueErrors before the hierarchy
VALUE_ERRORS = (
    DefinitionError,
    TableError,
    MissingColumnsError,
    InputFileError,
    BatchError,
    PseudonymKeyError,
)


def _all_modules() -> list[str]:
    names = [psyscreen.__name__]
    for m in pkgutil.walk_packages(psyscreen.__path__, prefix="psyscreen."):
        if not m.name.endswith("__main__"):  # importing it runs the command
            names.append(m.name)
    return names


def _exception_classes() -> set[type[BaseException]]:
    """Every exception or warning class defined anywhere in the package (by walking it)."""
    found: set[type[BaseException]] = set()
    for name in _all_modules():
        try:
            mod = importlib.import_module(name)
        except ImportError:  # an optional extra that is not installed
            continue
        for _, obj in vars(mod).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__.startswith("psyscreen")
            ):
                found.add(obj)
    return found


def test_every_exception_class_of_the_package_is_in_the_hierarchy():
    classes = _exception_classes()
    # the seven classes that existed before the hierarchy, plus the new one
    assert {*VALUE_ERRORS, NormBuildWarning, UnknownIdError} <= classes
    for cls in classes:
        if not issubclass(cls, Exception):
            continue  # signal unwinding (cli.Terminated) must escape `except Exception`
        if issubclass(cls, Warning):
            assert issubclass(cls, PsyscreenWarning), cls
        else:
            assert issubclass(cls, PsyscreenError), cls


@pytest.mark.parametrize(
    ("where", "name"),
    [
        ("psyscreen", "DefinitionError"),
        ("psyscreen", "MissingColumnsError"),
        ("psyscreen.yamlio", "DefinitionError"),
        ("psyscreen.norms.models", "TableError"),
        ("psyscreen.responses", "MissingColumnsError"),
        ("psyscreen.batch.io", "InputFileError"),
        ("psyscreen.batch.run", "BatchError"),
        ("psyscreen.batch.privacy", "PseudonymKeyError"),
        ("psyscreen.norms.build", "NormBuildWarning"),
    ],
)
def test_old_import_locations_still_work(where, name):
    assert getattr(importlib.import_module(where), name) is getattr(errors, name)


def test_builtin_bases_are_kept():
    for cls in VALUE_ERRORS:
        assert issubclass(cls, ValueError)
    assert issubclass(UnknownIdError, KeyError)
    assert issubclass(NormBuildWarning, UserWarning)


def _sample(cls: type[BaseException]) -> BaseException:
    """An instance of ``cls`` built from its own signature, with made-up strings."""
    params = [
        p
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self"
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        and p.default is p.empty
    ]
    if not params:  # the plain Exception signature
        return cls("something is wrong")
    args = [
        [("a_1", "a_2")]
        if "tuple[str, str]" in str(p.annotation)
        else ["a_1", "a_2"]
        if "list" in str(p.annotation)
        else f"v_{p.name}"
        for p in params
    ]
    return cls(*args)


def _same(a: BaseException, b: BaseException) -> None:
    assert type(a) is type(b)
    assert str(a) == str(b) and a.args == b.args
    assert vars(a) == vars(b)


@pytest.mark.parametrize(
    "cls",
    sorted(
        (c for c in _exception_classes() if issubclass(c, PsyscreenError)), key=lambda c: c.__name__
    ),
)
def test_every_error_survives_a_pickle_round_trip(cls):
    e = _sample(cls)
    _same(pickle.loads(pickle.dumps(e)), e)


def test_pickle_keeps_attributes_and_location():
    e = DefinitionError("x.yaml", "scales[2].bands[0]", "bands overlap")
    back = pickle.loads(pickle.dumps(e))
    assert (back.file, back.path, back.problem) == ("x.yaml", "scales[2].bands[0]", "bands overlap")
    assert back.location == "x.yaml: scales[2].bands[0]"
    m = pickle.loads(pickle.dumps(MissingColumnsError("phq9", ["phq9_1", "phq9_2"])))
    assert m.missing == ["phq9_1", "phq9_2"] and m.location == "phq9"
    u = pickle.loads(pickle.dumps(UnknownIdError("phq9: no scale 'x'", "scale", "x")))
    assert (u.kind, u.id, str(u)) == ("scale", "x", "phq9: no scale 'x'")
    t = pickle.loads(pickle.dumps(TableError("rows[3]", "gap")))
    assert t.location == "rows[3]" and str(t) == "rows[3]: gap"


def test_location():
    assert DefinitionError("f.yaml", "", "cannot read file").location == "f.yaml"
    assert str(DefinitionError("f.yaml", "", "cannot read file")) == "f.yaml: cannot read file"
    assert TableError("", "empty").location is None
    assert BatchError("no file").location is None


def _raise_in_worker(kind: str) -> None:
    if kind == "definition":
        psyscreen.load_instrument("/nonexistent/dir/x.yaml")
    if kind == "missing":
        psyscreen.score(pd.DataFrame({"a": [1]}), "phq9")
    if kind == "unknown":
        psyscreen.load_instrument("no_such_instrument")


@pytest.mark.slow
def test_errors_raised_in_a_worker_process_arrive_as_themselves():
    # before: a custom __init__ without __reduce__ made the pool report BrokenProcessPool
    with ProcessPoolExecutor(max_workers=1) as pool:
        with pytest.raises(DefinitionError) as d:
            pool.submit(_raise_in_worker, "definition").result()
        assert d.value.file.endswith("x.yaml") and d.value.problem == "no such file"
        with pytest.raises(MissingColumnsError) as m:
            pool.submit(_raise_in_worker, "missing").result()
        assert m.value.instrument == "phq9" and len(m.value.missing) == 9
        with pytest.raises(UnknownIdError) as u:
            pool.submit(_raise_in_worker, "unknown").result()
        assert u.value.kind == "instrument" and u.value.id == "no_such_instrument"


def test_unknown_ids_raise_unknown_id_error_with_a_plain_message():
    with pytest.raises(UnknownIdError) as e:
        psyscreen.load_instrument("no_such_instrument")
    assert str(e.value).startswith("unknown instrument 'no_such_instrument'; shipped: ")
    assert isinstance(e.value, KeyError) and isinstance(e.value, PsyscreenError)
    inst = psyscreen.load_instrument("phq9")
    for lookup, kind in ((inst.item, "item"), (inst.scale, "scale"), (inst.citation, "citation")):
        with pytest.raises(UnknownIdError, match=f"phq9: no {kind} 'nope'") as e:
            lookup("nope")
        assert (e.value.kind, e.value.id) == (kind, "nope")
    with pytest.raises(UnknownIdError, match="unknown norm"):
        psyscreen.load_norms("no_such_table")
    with pytest.raises(UnknownIdError, match="unknown"):
        psyscreen.load_profile("no_such_profile")
    prof = psyscreen.load_profile(psyscreen.list_profiles()[0])
    with pytest.raises(UnknownIdError, match="no level 'nope'"):
        prof.level("nope")


def test_one_except_catches_every_psyscreen_error():
    caught = []
    for f in (
        lambda: psyscreen.load_instrument("no_such_instrument"),
        lambda: psyscreen.load_instrument("/nonexistent/x.yaml"),
        lambda: psyscreen.score(pd.DataFrame({"a": [1]}), "phq9"),
    ):
        try:
            f()
        except PsyscreenError as e:
            caught.append(type(e))
    assert caught == [UnknownIdError, DefinitionError, MissingColumnsError]


def test_a_definition_with_several_problems_fails_in_one_line_naming_each(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = (root / "profiles/default.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("needs_confirmation: true", "needs_confirmation: false"),
                   encoding="utf-8")  # fmt: skip
    argv = [sys.executable, "-m", "psyscreen", "score", str(root / "examples/annual_export.csv"),
            "--map", str(root / "examples/mapping.yaml"), "--profile", str(bad),
            "-o", str(tmp_path / "r.csv")]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for level in ("levels[1]", "levels[2]", "levels[3]"):
        assert f"{level}.needs_confirmation" in lines[0]
    assert not (tmp_path / "r.csv").exists()
