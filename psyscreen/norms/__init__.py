"""Norm tables: z, T, percentile and norm bands by age x sex [x grade] stratum.

* :mod:`~psyscreen.norms.models` - the table format (pydantic models) and its checks;
* :mod:`~psyscreen.norms.loading` - :func:`list_norms`, :func:`load_norms`, :func:`save_norms`;
* :mod:`~psyscreen.norms.apply` - :func:`apply_norms` (used by ``psyscreen.score(norms=...)``);
* :mod:`~psyscreen.norms.build` - :func:`build_norms` from a scored sample.

See ``docs/norms.md`` for how a stratum is chosen and what each shipped table is.

Example:
    >>> import pandas as pd, psyscreen
    >>> df = pd.DataFrame({f"scared_c_{i}": [0] for i in range(1, 42)})
    >>> df["sex"], df["age"] = ["M"], [10]
    >>> out = psyscreen.score(df, "scared_c", norms="auto")
    >>> round(float(out["scared_c.total.t"].iloc[0]), 2)  # (0 - 14.4) / 10.5 * 10 + 50
    36.29
"""

from .apply import NORM_FIELDS, NORM_STATUSES, add_norm_columns, apply_norms, select_tables
from .build import NormBuildWarning, build_norms
from .loading import list_norms, load_norms, read_table, save_norms, table_yaml
from .models import NormRow, NormTable

__all__ = [
    "NORM_FIELDS",
    "NORM_STATUSES",
    "NormBuildWarning",
    "NormRow",
    "NormTable",
    "add_norm_columns",
    "apply_norms",
    "build_norms",
    "list_norms",
    "load_norms",
    "read_table",
    "save_norms",
    "select_tables",
    "table_yaml",
]
