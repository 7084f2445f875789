"""Batch runs: score annual screening exports in chunks, lose nothing.

Public API:

* :func:`run` (also ``psyscreen.run_batch``) - file in, results + problems +
  manifest + HTML report out; the ``psyscreen score`` command calls it;
* :class:`MappingSpec`, :func:`load_mapping` - the mapping file model;
* :func:`propose_mapping` (``psyscreen map init``), :func:`check_mapping`
  (``psyscreen map check``) - start a mapping from an export, and try it without scoring;
* :func:`process_chunk`, :class:`Plan`, :func:`plan_for` - the per-chunk function
  (the same one runs per partition on Dask, see :mod:`psyscreen.batch.dask`);
* :class:`BatchError`, :class:`InputFileError`, :class:`OutputPathError` - a file
  that cannot be used (read, or written: :mod:`psyscreen.batch.outputs`);
* :func:`warning_list` - the confidential warning list (预警名单) of a results
  DataFrame (see :mod:`psyscreen.report.warning_list`).

Example:
    >>> import psyscreen
    >>> psyscreen.run_batch is run
    True
"""

from ..report.warning_list import warning_list
from .chunk import process_chunk
from .io import InputFileError
from .mapcheck import CheckReport, check_mapping
from .mapinit import Proposal, propose_mapping
from .mapping import MappingSpec, load_mapping, parse_mapping
from .outputs import OutputPathError
from .plan import Plan, make_plan, plan_for
from .run import BatchError, BatchResult, run

__all__ = [
    "BatchError",
    "BatchResult",
    "CheckReport",
    "InputFileError",
    "MappingSpec",
    "OutputPathError",
    "Plan",
    "Proposal",
    "check_mapping",
    "load_mapping",
    "make_plan",
    "parse_mapping",
    "plan_for",
    "process_chunk",
    "propose_mapping",
    "run",
    "warning_list",
]
