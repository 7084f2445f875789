"""Run with the interpreter of a NON-editable install, from outside the repository:
every shipped instrument, norm table and profile must be found as package data."""

import sys
from pathlib import Path

import psyscreen
from psyscreen.registry import data_dir

repo = Path(sys.argv[1])
pkg = Path(psyscreen.__file__).resolve().parent
assert pkg != (repo / "psyscreen").resolve(), f"psyscreen imported from the checkout: {pkg}"
assert "site-packages" in pkg.parts, f"psyscreen is not an installed copy: {pkg}"
for kind in ("instruments", "norms", "profiles"):
    shipped = sorted(p.name for p in (repo / kind).iterdir() if p.is_file())
    installed = sorted(p.name for p in data_dir(kind).iterdir() if p.is_file())
    assert installed == shipped, f"{kind}: installed {installed} != repository {shipped}"
    assert pkg in data_dir(kind).parents, f"{kind} not read from the installed package"
for iid in psyscreen.list_instruments():
    psyscreen.load_instrument(iid)
# the header hints of `psyscreen map init` ship inside the package
from psyscreen.batch.mapinit import item_phrases  # noqa: E402

assert "提不起劲" in item_phrases(psyscreen.load_instrument("phq9"))["phq9_1"]
print(f"package data ok: {len(psyscreen.list_instruments())} instruments from {pkg}")
