"""Batch runs: score annual screening exports in chunks, lose nothing.

Public API:

* :func:`run` (also ``psyscreen.run_batch``) - file in, results + problems +
  manifest + HTML report out; the ``psyscreen score`` command calls it;
* :class:`MappingSpec`, :func:`load_mapping` - the mapping file model;
* :func:`process_chunk`, :class:`Plan`, :func:`plan_for` - the per-chunk function
  (the same one runs per partition on Dask, see :mod:`psyscreen.batch.dask`);
* :class:`BatchError`, :class:`InputFileError` - a file that cannot be used;
* :func:`warning_list` - the confidential warning list (预警名单) of a results
  DataFrame (see :mod:`psyscreen.report.warning_list`).

Example:
    >>> import psyscreen
    >>> psyscreen.run_batch is run
    True
"""

from ..report.warning_list import warning_list
from .io import InputFileError
from .mapping import MappingSpec, load_mapping, parse_mapping
from .run import BatchError, BatchResult, Plan, make_plan, plan_for, process_chunk, run

__all__ = [
    "BatchError",
    "BatchResult",
    "InputFileError",
    "MappingSpec",
    "Plan",
    "load_mapping",
    "make_plan",
    "parse_mapping",
    "plan_for",
    "process_chunk",
    "run",
    "warning_list",
]
