"""Scale-out: the batch's per-chunk function run per partition on Dask.

Needs the optional extra ``psyscreen[dask]`` (dask + distributed). Each
partition goes through :func:`psyscreen.batch.chunk.process_chunk`, the very
function the streaming run uses, with its global row offset and the
duplicate-id information of the rows before it; so the results are identical
to the in-memory path (same columns, same values, same row numbers).

Two entry points:

* :func:`score_dask` - the results only, as a Dask DataFrame;
* :func:`score_dask_outputs` - results, problems table and report counts
  (:class:`DaskOutputs`), from one scoring pass per partition; with
  :func:`dask_manifest` the counts render as the streaming run's HTML report.

Before scoring, one pass over the input gathers the partition lengths (for the
row offsets) and the id column (sent to the client, which finds repeated ids
in input order and keeps 16 bytes per distinct id). The input is therefore read
twice; ``ddf.persist()`` first if reading it is expensive and it fits in the
cluster's memory.

Example:
    >>> import dask.dataframe as dd  # doctest: +SKIP
    >>> from psyscreen.batch import plan_for  # doctest: +SKIP
    >>> ddf = dd.read_csv("export_*.csv", dtype=str, keep_default_na=False)  # doctest: +SKIP
    >>> plan = plan_for(list(ddf.columns), "mapping.yaml")  # doctest: +SKIP
    >>> results = score_dask(ddf, plan).compute()  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from .arrow import to_arrow
from .chunk import _empty_chunk, _text, empty_problems, process_chunk
from .ids import IdTracker, _id_values
from .plan import Plan
from .report import ReportStats


def _to_pandas(frame: pd.DataFrame) -> pd.DataFrame:
    """A results/problems frame with Arrow-backed dtypes that do not depend on the data.

    (The Dask meta is then the same for every partition.)
    """
    return to_arrow(frame).to_pandas(types_mapper=pd.ArrowDtype)


def _prepass(part: pd.DataFrame, id_header: str | None) -> tuple[int, np.ndarray | None]:
    """(rows, ids as process_chunk reads them or None) of one partition."""
    if id_header is None:
        return len(part), None
    col = part[id_header].reset_index(drop=True)
    return len(part), _id_values(pd.DataFrame({"id": _text(col)}))


def _score_partition(
    part: pd.DataFrame,
    plan: Plan,
    row0: int,
    dup_first: np.ndarray | None,
    full: bool,
) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, Any] | None]:
    """(results, problems, report counts) of one partition whose first row is ``row0``.

    The counts are those of :meth:`ReportStats.update` on the chunk (made from the
    scoring layer's frame, as in the streaming run), as a mergeable state.
    """
    part = part.reset_index(drop=True)
    cr = process_chunk(part[plan.read_columns()], plan, row0, dup_first)
    results = _to_pandas(cr.results)
    results.index = pd.RangeIndex(row0, row0 + len(results))
    if not full:  # results only
        return results, None, None
    stats = ReportStats(plan)
    stats.update(cr.results, cr.problems)
    return results, _to_pandas(cr.problems), stats.state()


def _merged_stats(plan: Plan, states: list[dict[str, Any]]) -> ReportStats:
    """One :class:`ReportStats` from the partitions' counts, merged in partition order."""
    stats = ReportStats(plan)
    for state in states:
        stats.merge(state)
    return stats


@dataclass
class DaskOutputs:
    """The lazy outputs of :func:`score_dask_outputs`.

    Attributes:
        results: Dask DataFrame, one row per input row, index = ``row``.
        problems: Dask DataFrame, one row per problem (``row``, ``column``, ``field``,
            ``problem``, ``detail``; never an id or cell text), in row order.
        stats: ``dask.delayed`` :class:`~psyscreen.batch.report.ReportStats` of the
            whole input (feed it to :func:`~psyscreen.batch.report.render_report`
            with :func:`dask_manifest`).

    The three share one scoring task per partition: get them with :meth:`compute`
    or :meth:`to_parquet`, which score the input once; computing them one by one
    scores it once each.
    """

    results: Any
    problems: Any
    stats: Any

    def compute(self, **kwargs: Any) -> tuple[pd.DataFrame, pd.DataFrame, ReportStats]:
        """(results, problems, stats) in memory, from one scoring pass.

        The problems get a fresh 0-based index. ``kwargs`` go to ``dask.compute``.
        """
        results, problems, stats = _compute(self.results, self.problems, self.stats, **kwargs)
        return results, problems.reset_index(drop=True), stats

    def to_parquet(self, results: Any, problems: Any, **kwargs: Any) -> ReportStats:
        """Write results and problems as Parquet datasets (directories); return the stats.

        One scoring pass; nothing but the counts comes back to the client. ``kwargs``
        go to both ``to_parquet`` calls (default ``write_index=False``: ``row`` is a column).
        """
        kwargs.setdefault("write_index", False)
        stats, _, _ = _compute(
            self.stats,
            self.results.to_parquet(results, compute=False, **kwargs),
            self.problems.to_parquet(problems, compute=False, **kwargs),
        )
        return stats


def _compute(*objs: Any, **kwargs: Any) -> tuple[Any, ...]:
    """``dask.compute`` of DataFrames with the stats (a ``dask.delayed``) in one graph.

    Dask warns that mixing the two kinds materialises the DataFrame expressions
    before computing; that is what we want here (one graph, shared scoring tasks).
    """
    import warnings

    import dask

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Computing mixed collections")
        return dask.compute(*objs, **kwargs)


def _plan_tasks(ddf: Any, plan: Plan) -> tuple[list[Any], list[int], list[int], list[Any]]:
    """(delayed input partitions, their lengths, row offsets, duplicate info per partition).

    Runs the pre-pass (lengths and ids) on the cluster, then finds repeated ids
    in input order on the client, as the streaming run's :class:`IdTracker` does.
    """
    import dask

    parts = list(ddf.to_delayed())
    id_header = plan.roles.get("id")
    pre = dask.compute(*[dask.delayed(_prepass)(p, id_header) for p in parts])
    lengths = [n for n, _ in pre]
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int).tolist()
    dups: list[Any] = [None] * len(parts)
    if id_header is not None:
        with IdTracker() as tracker:
            dups = [
                tracker.first_rows(ids, np.arange(row0, row0 + len(ids), dtype=np.int64))
                for (_, ids), row0 in zip(pre, offsets)
            ]
    return parts, lengths, offsets, dups


def _divisions(offsets: list[int], lengths: list[int]) -> tuple[int, ...] | None:
    """Known divisions of the results (index = row) when no partition is empty."""
    if not lengths or min(lengths) == 0:
        return None
    return (*offsets, offsets[-1] + lengths[-1] - 1)


def _shared(plan: Plan) -> Any:
    """The plan as one graph key: definitions and norms go once per worker, not per task."""
    import uuid

    import dask

    return dask.delayed(plan, name=f"psyscreen-plan-{uuid.uuid4().hex}", traverse=False)


def _score(ddf: Any, plan: Plan, full: bool) -> tuple[Any, list[Any], Any]:
    """(results Dask DataFrame, delayed per-partition outputs, the plan as a delayed key)."""
    import dask
    import dask.dataframe as dd

    parts, lengths, offsets, dups = _plan_tasks(ddf, plan)
    plan_d = _shared(plan)
    score = dask.delayed(_score_partition, nout=3)
    outs = [score(p, plan_d, row0, d, full) for p, row0, d in zip(parts, offsets, dups)]
    meta = _to_pandas(process_chunk(_empty_chunk(plan), plan, 0, None).results)
    divisions = _divisions(offsets, lengths)
    results = dd.from_delayed([o[0] for o in outs], meta=meta, divisions=divisions)
    return results, outs, plan_d


def score_dask(ddf: Any, plan: Plan) -> Any:
    """Score a Dask DataFrame of an export (export headers as columns) partition by partition.

    Returns a Dask DataFrame of the result table (one row per input row, input order,
    ``row`` = 0-based position in the whole input, also the index). For the problems
    table and the report counts use :func:`score_dask_outputs`.
    """
    return _score(ddf, plan, full=False)[0]


def score_dask_outputs(ddf: Any, plan: Plan) -> DaskOutputs:
    """Results, problems table and report counts of a Dask DataFrame of an export.

    One task per partition runs :func:`~psyscreen.batch.chunk.process_chunk` once and
    yields its results, its problems (as in the streaming run's problems file) and
    its :class:`~psyscreen.batch.report.ReportStats` counts; the counts are merged in
    partition order on one worker, so :meth:`ReportStats.counts`, the tables of the
    report and its small-cell suppression are those of the streaming run.

    Trade-off: the three outputs are views of the same per-partition tasks
    (``dask.delayed`` + ``from_delayed``), so scoring happens once when they are
    computed together (:meth:`DaskOutputs.compute`, :meth:`DaskOutputs.to_parquet`),
    but computing one of them alone still runs the whole task (scoring, problems and
    counts) on every partition. For the results only, :func:`score_dask` skips the
    problems and counts. The alternative, two ``map_partitions`` (results, problems)
    plus a reduction, would be plain Dask DataFrames but score everything twice.

    Example:
        >>> out = score_dask_outputs(ddf, plan)  # doctest: +SKIP
        >>> results, problems, stats = out.compute()  # doctest: +SKIP
        >>> from psyscreen.batch.report import render_report  # doctest: +SKIP
        >>> html = render_report(stats, dask_manifest(stats, plan))  # doctest: +SKIP
    """
    import dask
    import dask.dataframe as dd

    results, outs, plan_d = _score(ddf, plan, full=True)
    pmeta = _to_pandas(empty_problems())
    problems = dd.from_delayed([o[1] for o in outs], meta=pmeta)
    stats = dask.delayed(_merged_stats)(plan_d, [o[2] for o in outs])
    return DaskOutputs(results=results, problems=problems, stats=stats)


def dask_manifest(
    stats: ReportStats,
    plan: Plan,
    *,
    input: str = "Dask DataFrame",
    sha256: str = "not computed",
) -> dict[str, Any]:
    """A manifest-like dict of a Dask run: what :func:`render_report` reads, plus the counts.

    Keys as in the streaming run's manifest: ``psyscreen_version``, ``input``
    (``file``, ``format`` = ``"dask"``, ``sha256``), ``definitions`` (versions and
    hashes of the profile, instruments and norm tables), ``rows`` (``in``, ``out`` and
    :meth:`ReportStats.counts`) and ``exit_code`` (1 if any row has problems). There
    are no times, options or output hashes: Dask writes the outputs. ``input`` and
    ``sha256`` describe the input (e.g. a glob and a hash you made of its files).

    Example:
        >>> man = dask_manifest(stats, plan, input="exports/*.csv")  # doctest: +SKIP
        >>> man["rows"]["in"] == stats.rows  # doctest: +SKIP
        True
    """
    from ..risk import provenance

    counts = stats.counts()
    if plan.profile is not None:
        definitions = provenance(plan.profile, plan.norms)
    else:
        definitions = {
            "library": "psyscreen",
            "library_version": __version__,
            "instruments": [
                {"id": i.id, "version": i.version, "sha256": getattr(i, "sha256", None)}
                for i in plan.instruments
            ],
        }
    return {
        "psyscreen_version": __version__,
        "input": {"file": input, "format": "dask", "encoding": None, "sha256": sha256},
        "definitions": definitions,
        "rows": {
            "in": stats.rows,
            "out": stats.rows,
            "read": stats.rows,
            "unreadable": 0,
            "unreadable_lines": [],
            **counts,
        },
        "exit_code": 1 if counts["rows_with_problems"] else 0,
    }
