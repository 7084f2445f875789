"""psyscreen: validated psychometric scoring for child and adolescent mental-health screening.

The public API is small:

* :func:`list_instruments`, :func:`load_instrument` - shipped or your own definitions;
* :func:`score` - vectorised scoring of a DataFrame (one row per child);
* :func:`list_norms`, :func:`load_norms`, :func:`build_norms` - norm tables (``score(norms=...)``);
* :func:`screen`, :func:`screen_records` - risk levels with reasons (:func:`load_profile`);

Example:
    >>> import pandas as pd, psyscreen
    >>> df = pd.DataFrame({f"phq9_{i}": [0] for i in range(1, 10)})
    >>> psyscreen.score(df, "phq9")["phq9.total.band"].iloc[0]
    'minimal'
"""

import logging

from ._version import __version__
from .batch import run as run_batch
from .definitions import Instrument
from .norms import NormTable, build_norms, list_norms, load_norms, save_norms
from .pipeline import ScoreResult, score, score_detailed, screen, screen_records
from .registry import list_instruments, load_instrument, validate_file
from .responses import MissingColumnsError
from .risk import (
    RiskProfile,
    ScreeningRecord,
    list_profiles,
    load_profile,
    provenance,
)
from .yamlio import DefinitionError

# a library logs, the application decides where to: silent unless a handler is configured
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "DefinitionError",
    "Instrument",
    "MissingColumnsError",
    "NormTable",
    "RiskProfile",
    "ScoreResult",
    "ScreeningRecord",
    "__version__",
    "build_norms",
    "list_instruments",
    "list_norms",
    "list_profiles",
    "load_instrument",
    "load_norms",
    "load_profile",
    "provenance",
    "run_batch",
    "save_norms",
    "score",
    "score_detailed",
    "screen",
    "screen_records",
    "validate_file",
]
