"""How chunks run: one process with a reading and a writing thread, or worker processes.

Either way chunks are scored, counted and written in input order, so the outputs
do not depend on the choice.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .arrow import _as_frame, _finish, to_arrow
from .chunk import ChunkResult, _text, process_chunk
from .ids import IdTracker, _id_values
from .plan import Plan
from .sinks import _TableSink

#: records carry counts, positions and timings only, never file names or cell contents
log = logging.getLogger(__name__)


@dataclass
class _Setup:
    """What a worker process needs for every chunk (sent once, when it starts)."""

    plan: Plan
    pseudo: Any
    pseudo_cols: list[str]
    drop_cols: list[str]
    neutralise_results: bool
    neutralise_problems: bool
    csv_results: bool = False
    csv_problems: bool = False


@dataclass
class _ChunkOutput:
    """A chunk ready to write: Arrow tables (pseudonymised, dropped, neutralised) and counts.

    For a CSV output, ``results`` / ``problems`` are ``(schema, bytes, rows)``: the rows
    encoded by :func:`~psyscreen.batch.io.csv_rows`, so the main process only appends.
    """

    results: Any
    problems: Any
    stats: dict[str, Any]
    rows: int


_SETUP: _Setup | None = None


def _init_worker(setup: _Setup, parent: int | None = None) -> None:
    """Set up a worker process: the run's setup, Ctrl-C left to the parent, and a
    watchdog that ends the worker when the parent (pid ``parent``) is gone, even after
    ``kill -9`` (the worker would otherwise wait on its task queue for ever)."""
    import signal
    import threading

    global _SETUP
    _SETUP = setup
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the pool, then exits 130
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int, every: float = 0.5) -> None:
    while True:
        time.sleep(every)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # pragma: no cover - a pid reused by another user
            os._exit(1)


def _worker_chunk(chunk: Any, row0: int, dup_first: np.ndarray | None) -> _ChunkOutput:
    """The task of a worker process (module level, so that it pickles by name).

    ``chunk``: a DataFrame, or an Arrow table as read (converted here, not in the reader).
    """
    assert _SETUP is not None, "worker not initialised"
    return _chunk_output(_as_frame(chunk, _SETUP.plan), _SETUP, row0, dup_first, encode=True)


def _chunk_output(
    chunk: pd.DataFrame,
    setup: _Setup,
    row0: int,
    dup_first: np.ndarray | None,
    encode: bool = False,
) -> _ChunkOutput:
    """:func:`process_chunk` plus everything per chunk up to the bytes: the parallel path.

    ``dup_first``: per row the row of an earlier occurrence of its id (-1: none), as
    the :class:`IdTracker` of the main process found it; ``None`` without an id role.
    ``encode``: CSV outputs come back as ``(schema, bytes, rows)`` (see :class:`_ChunkOutput`).
    """
    from .io import csv_rows
    from .privacy import neutralise_table
    from .report import ReportStats

    cr = process_chunk(chunk, setup.plan, row0, dup_first)
    stats = ReportStats(setup.plan)
    stats.update(cr.results, cr.problems)
    results = _finish(cr.results, setup.pseudo, setup.pseudo_cols, setup.drop_cols)
    problems = to_arrow(cr.problems)
    if setup.neutralise_results:
        results = neutralise_table(results)
    if setup.neutralise_problems:
        problems = neutralise_table(problems)
    if encode and setup.csv_results:
        results = (results.schema, csv_rows(results), results.num_rows)
    if encode and setup.csv_problems:
        problems = (problems.schema, csv_rows(problems), problems.num_rows)
    return _ChunkOutput(results, problems, _stats_state(stats), len(chunk))


def _chunk_dups(chunk: Any, plan: Plan, tracker: IdTracker, row0: int):
    """Duplicate-id information of a chunk, in input order (main process), as in
    :func:`process_chunk` with an :class:`IdTracker`.

    ``chunk``: a DataFrame or an Arrow table (only its id column is converted).
    """
    if "id" not in plan.roles:
        return None
    col = chunk[plan.roles["id"]]
    if not isinstance(col, pd.Series):  # an Arrow column, converted as in the whole table
        col = col.to_pandas()
    ids = pd.DataFrame({"id": _text(col)}, index=pd.RangeIndex(len(chunk)))
    rows = np.arange(row0, row0 + len(chunk), dtype=np.int64)
    return tracker.first_rows(_id_values(ids), rows)


#: attributes of :class:`~psyscreen.batch.report.ReportStats` that configure, not count
_STATS_CONFIG = frozenset({"plan", "profile", "outcomes", "scales"})


def _stats_state(stats: Any) -> dict[str, Any]:
    """The counts of a :class:`~psyscreen.batch.report.ReportStats` (picklable, small)."""
    return {k: v for k, v in vars(stats).items() if k not in _STATS_CONFIG}


def _merge_stats(stats: Any, state: dict[str, Any]) -> None:
    """Add one chunk's counts to ``stats``, as ``stats.update`` on that chunk would.

    Counters are merged in chunk order, so even the order of their keys is the same
    as in a run in one process. An accumulator of another kind is an error (so a
    new one in the report cannot be dropped silently).
    """
    for name, part in state.items():
        mine = getattr(stats, name, None)
        if isinstance(mine, Counter):
            mine.update(part)
        elif isinstance(mine, dict) and all(isinstance(v, Counter) for v in mine.values()):
            for key, counts in part.items():
                mine.setdefault(key, Counter()).update(counts)
        elif isinstance(mine, set):
            mine.update(part)
        elif isinstance(mine, int) and not isinstance(mine, bool):
            setattr(stats, name, mine + part)
        else:
            raise TypeError(f"cannot merge the report statistic {name!r} from a worker")


def _mp_context():
    """``forkserver`` (a fresh single-threaded parent; no fork of our reader threads)."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(
            [__name__, f"{__package__}.report", f"{__package__}.privacy", "psyscreen.risk"]
        )
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


def _run_pool(
    chunks: Iterator[pd.DataFrame],
    setup: _Setup,
    workers: int,
    tracker: IdTracker,
    stats: Any,
    res_sink: _TableSink,
    prob_sink: _TableSink,
    bar: Any,
) -> int:
    """Score chunks in ``workers`` processes; write them and add their counts in input order.

    The main process reads, finds repeated ids (in order), and writes; at most
    ``workers + 1`` chunks are in flight, so memory stays bounded. Returns rows read.
    """
    from concurrent.futures import ProcessPoolExecutor

    in_flight: deque = deque()
    n_rows, t_start = 0, time.perf_counter()

    def write_next() -> None:
        fut, chunk, row0, dups = in_flight.popleft()
        out = fut.result()
        _merge_stats(stats, out.stats)
        local = None  # the chunk's tables, made here only if a schema differs (rare)
        for sink, part, neutralised, which in (
            (res_sink, out.results, setup.neutralise_results, 0),
            (prob_sink, out.problems, setup.neutralise_problems, 1),
        ):
            if isinstance(part, tuple):
                if sink.write_rows(*part):
                    continue
                if local is None:
                    local = _chunk_output(_as_frame(chunk, setup.plan), setup, row0, dups)
                part = local.results if which == 0 else local.problems
            sink.write(part, neutralised=neutralised)
        if bar is not None:
            bar.update(out.rows)

    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_mp_context(),
        initializer=_init_worker,
        initargs=(setup, os.getpid()),
    )
    try:
        for chunk in chunks:
            dups = _chunk_dups(chunk, setup.plan, tracker, n_rows)
            fut = pool.submit(_worker_chunk, chunk, n_rows, dups)
            log.debug("chunk from row %d: %d rows sent to a worker", n_rows, len(chunk))
            in_flight.append((fut, chunk, n_rows, dups))
            n_rows += len(chunk)
            if len(in_flight) > workers:
                write_next()
        while in_flight:
            write_next()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    dt = time.perf_counter() - t_start
    log.info("scored %d rows in %d worker processes in %.2f s", n_rows, workers, dt)
    return n_rows


class _ReadAhead:
    """Iterates ``source`` in a background thread: ``depth`` items wait, one more is made.

    The reader's work (pyarrow parses CSV without holding the GIL) then overlaps
    the scoring in the calling thread. An exception in the reader is raised in
    the caller, at the item where it happened; :meth:`close` stops the thread.
    """

    _END = object()

    def __init__(self, source: Iterator[Any], depth: int = 1):
        import queue
        import threading

        self._q: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._source = source
        self._thread = threading.Thread(target=self._fill, name="psyscreen-read", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        import queue

        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _fill(self) -> None:
        try:
            for item in self._source:
                if not self._put((item, None)):
                    return
        except BaseException as e:  # handed to the consumer, raised there
            self._put((None, e))
            return
        self._put((self._END, None))

    def __iter__(self) -> Iterator[Any]:
        while True:
            item, err = self._q.get()
            if err is not None:
                raise err
            if item is self._END:
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def _run_threads(
    chunks: Iterator[Any],
    plan: Plan,
    tracker: IdTracker,
    stats: Any,
    res_sink: _TableSink,
    prob_sink: _TableSink,
    bar: Any,
    pseudo: Any,
    pseudo_cols: list[str],
    drop_cols: list[str],
) -> int:
    """Score chunks in this thread while one thread reads ahead and one writes behind.

    Chunks are scored, counted and written strictly in input order (one thread for
    each step), so the outputs are those of a plain loop. While one chunk is scored,
    the one before is written and at most two are read ahead (one waiting, one being
    parsed), so memory stays bounded by the chunk size. Returns rows read.
    """
    from concurrent.futures import ThreadPoolExecutor

    def write(cr: ChunkResult, rows: int) -> None:
        stats.update(cr.results, cr.problems)
        res_sink.write(_finish(cr.results, pseudo, pseudo_cols, drop_cols))
        prob_sink.write(to_arrow(cr.problems))
        if bar is not None:
            bar.update(rows)

    n_rows, t_start = 0, time.perf_counter()
    pending: deque = deque()
    # the reading thread also turns Arrow chunks into DataFrames (Arrow work, off this thread)
    reader = _ReadAhead(_as_frame(c, plan) for c in chunks)
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="psyscreen-write")
    try:
        for chunk in reader:
            t_chunk = time.perf_counter()
            cr = process_chunk(chunk, plan, n_rows, tracker)
            dt = time.perf_counter() - t_chunk
            log.debug("chunk from row %d: %d rows scored in %.3f s", n_rows, len(chunk), dt)
            n_rows += len(chunk)
            while pending:  # the chunk before has been written (a writer's error raises here)
                pending.popleft().result()
            pending.append(writer.submit(write, cr, len(chunk)))
        while pending:
            pending.popleft().result()
    finally:
        reader.close()
        for fut in pending:
            fut.cancel()
        writer.shutdown(wait=True)
    log.info("scored %d rows in one process in %.2f s", n_rows, time.perf_counter() - t_start)
    return n_rows
