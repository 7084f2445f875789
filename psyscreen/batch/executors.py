"""How chunks run: one process, with a reading and a writing thread around the scoring.

Chunks are scored, counted and written in input order. Worker processes were
removed: on 2 cores they were slower than these threads and took ~60% more memory
(see ``docs/performance.md``); for more scale, run on Dask (:mod:`psyscreen.batch.dask`).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from ..pipeline import StageCache
from .arrow import _as_frame, _finish, to_arrow
from .chunk import ChunkResult, process_chunk
from .ids import IdTracker
from .plan import Plan
from .sinks import _TableSink

#: records carry counts, positions and timings only, never file names or cell contents
log = logging.getLogger(__name__)


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
        res_sink.write(_finish(cr.results, pseudo, pseudo_cols, drop_cols, res_sink.dictionaries))
        prob_sink.write(to_arrow(cr.problems))
        if bar is not None:
            bar.update(rows)

    n_rows, t_start = 0, time.perf_counter()
    cache = StageCache()  # the stages' memos, shared by the chunks of this run
    pending: deque = deque()
    # the reading thread also turns Arrow chunks into DataFrames (Arrow work, off this thread)
    reader = _ReadAhead(_as_frame(c, plan) for c in chunks)
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="psyscreen-write")
    try:
        for chunk in reader:
            t_chunk = time.perf_counter()
            cr = process_chunk(chunk, plan, n_rows, tracker, cache)
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
