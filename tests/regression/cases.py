"""The regression cases: the README's main job and its siblings on the bundled examples.

Each case is a ``psyscreen score`` command line. ``python -m tests.regression.regenerate``
rewrites the expected outputs; do that only for a change of results that is intended and
described in ``CHANGELOG.md``, never to make a failing refactor pass.
"""

from __future__ import annotations

EXAMPLE = ["examples/annual_export.csv", "--map", "examples/mapping.yaml"]

CASES: dict[str, list[str]] = {
    # the README's main job
    "default": [*EXAMPLE, "--profile", "default"],
    "school": [*EXAMPLE, "--profile", "school"],
    "institution": [*EXAMPLE, "--profile", "institution"],
    "instruments": [*EXAMPLE, "--instruments", "phq9,gad7,sdq_s,asq"],
    # a damaged copy of the first 300 rows: extra and missing fields, a duplicate id, an
    # unclosed quote, a blank line, implausible dates and a truncated last line
    "damaged": [
        "tests/regression/damaged_export.csv",
        *EXAMPLE[1:],
        "--profile",
        "default",
    ],
    "wjx": [
        "examples/wjx_export.csv",
        "--map",
        "examples/wjx_mapping.yaml",
        "--instruments",
        "phq9,gad7",
    ],
}

# the outputs compared byte for byte (the manifest and report carry times and are not)
OUTPUTS = ("results.csv", "results.problems.csv")
