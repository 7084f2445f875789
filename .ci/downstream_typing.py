"""Type-checked, never run, by .ci/run against a NON-editable install, as a downstream
project would: psyscreen ships py.typed, so its annotations reach the caller (not ``Any``)."""

import psyscreen
from psyscreen.errors import PsyscreenError

reveal_type(psyscreen.screen_records)  # noqa: F821 - mypy's builtin
reveal_type(psyscreen.load_instrument("phq9"))  # noqa: F821
reveal_type(PsyscreenError)  # noqa: F821
