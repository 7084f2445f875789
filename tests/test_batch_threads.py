"""The one-process pipeline (read ahead and write behind in threads) is a plain loop.

Outputs are compared byte for byte with a sequential loop written here from the
public pieces (process_chunk, ReportStats, the sinks); errors raised in the
reading or the writing thread reach the caller and leave no thread behind.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from psyscreen.batch import InputFileError, OutputPathError, run
from psyscreen.batch.arrow import _finish, to_arrow
from psyscreen.batch.chunk import process_chunk
from psyscreen.batch.executors import _ReadAhead
from psyscreen.batch.ids import IdTracker
from psyscreen.batch.io import Source, open_source
from psyscreen.batch.plan import plan_for
from psyscreen.batch.sinks import _TableSink

ROOT = Path(__file__).resolve().parents[1]
N, CHUNK = 700, 150


@pytest.fixture(scope="module")
def export(tmp_path_factory, write_export):
    d = tmp_path_factory.mktemp("threads")
    csv, mapping = write_export(d, N, seed=5, repeat=(N - 1, 3))  # a repeat across chunks
    return d, csv, mapping


def _no_pipeline_threads() -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not any(t.name.startswith("psyscreen-") for t in threading.enumerate()):
            return True
        time.sleep(0.05)
    return False


def test_threaded_run_equals_a_sequential_loop(export):
    d, csv, mapping = export
    res = run(csv, d / "t" / "results.csv", mapping=mapping, chunk_rows=CHUNK, progress=False)
    src = open_source(csv)
    plan = plan_for(src.headers, mapping)
    out, probs = _TableSink(d / "s" / "results.csv", True), _TableSink(d / "s" / "p.csv", True)
    tracker, row0 = IdTracker(), 0
    for chunk in src.chunks(plan.read_columns(), plan.categorical_columns(), CHUNK):
        cr = process_chunk(chunk, plan, row0, tracker)
        row0 += len(chunk)
        out.write(_finish(cr.results, None, [], []))
        probs.write(to_arrow(cr.problems))
    out.close()
    probs.close()
    assert row0 == N
    assert res.results.read_bytes() == (d / "s" / "results.csv").read_bytes()
    assert res.problems.read_bytes() == (d / "s" / "p.csv").read_bytes()
    assert _no_pipeline_threads()


def test_an_error_while_reading_reaches_the_caller(export, tmp_path, monkeypatch):
    _, csv, mapping = export
    original = Source._csv_chunks

    def failing(self, *args, **kwargs):
        # a damaged line is a row, not an error: fail the reading thread itself
        for k, chunk in enumerate(original(self, *args, **kwargs)):
            if k == 2:
                raise InputFileError("the disk went away (simulated)")
            yield chunk

    monkeypatch.setattr(Source, "_csv_chunks", failing)
    with pytest.raises(InputFileError, match="disk went away"):
        run(
            csv,
            tmp_path / "o.csv",
            mapping=mapping,
            chunk_rows=CHUNK,
            progress=False,
            report=False,
        )
    assert _no_pipeline_threads()


def test_an_error_while_writing_reaches_the_caller(export, tmp_path, monkeypatch):
    _, csv, mapping = export
    calls = {"n": 0}
    original = _TableSink.write

    def failing(self, table):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full (simulated)")
        return original(self, table)

    monkeypatch.setattr(_TableSink, "write", failing)
    # a failed write is one message naming the output (psyscreen.batch.outputs)
    with pytest.raises(OutputPathError, match="disk full"):
        run(
            csv, tmp_path / "o.csv", mapping=mapping, chunk_rows=CHUNK, progress=False, report=False
        )
    assert _no_pipeline_threads()


def test_read_ahead_keeps_order_raises_in_place_and_stops():
    assert list(_ReadAhead(iter(range(50)), depth=2)) == list(range(50))

    def broken():
        yield 1
        yield 2
        raise ValueError("boom")

    got = []
    with pytest.raises(ValueError, match="boom"):
        for x in _ReadAhead(broken()):
            got.append(x)
    assert got == [1, 2]
    # a consumer that stops early: close() ends the thread blocked on a full queue
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    ra = _ReadAhead(endless(), depth=1)
    it = iter(ra)
    assert next(it) == 0
    ra.close()
    assert not ra._thread.is_alive()
    assert len(produced) <= 4  # read ahead by at most the queue's depth (+ one in hand)


@pytest.mark.parametrize("out_name", ["results.csv", "results.parquet"])
def test_manifest_hashes_made_on_the_fly_equal_the_files(export, tmp_path, out_name):
    """The input is hashed in a thread and the outputs while written: same digests."""
    from psyscreen.batch.io import sha256_file

    _, csv, mapping = export
    plain = tmp_path / "plain.csv"  # no BOM: hashed while the encoding is detected
    plain.write_bytes(csv.read_bytes()[3:])
    for inp in (csv, plain):
        res = run(inp, tmp_path / inp.stem / out_name, mapping=mapping, progress=False)
        man = res.manifest
        assert man["input"]["sha256"] == sha256_file(inp)
        for key in ("results", "problems", "report"):
            entry = man["outputs"][key]
            assert entry["sha256"] == sha256_file(entry["file"]), key


def test_an_export_without_an_id_column_is_scored(export, tmp_path):
    """The id role is optional: no duplicate check, every row still scored (found by the
    Dask work: the streaming path used to fail on such a mapping)."""
    import yaml

    _, csv, mapping = export
    spec = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    spec["columns"].pop("id")
    spec["required"] = [r for r in spec.get("required", []) if r != "id"]
    no_id = tmp_path / "no_id.yaml"
    no_id.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    res = run(
        csv,
        tmp_path / "o.csv",
        mapping=no_id,
        chunk_rows=CHUNK,
        progress=False,
        report=False,
    )
    assert res.manifest["rows"]["out"] == N
    assert "id:duplicate" not in res.problems.read_text(encoding="utf-8-sig")


def test_progress_bar_only_when_asked(export, tmp_path, capfd):
    """A bar on stderr with progress=True (a terminal); nothing with progress=False."""
    pytest.importorskip("tqdm")
    _, csv, mapping = export
    run(csv, tmp_path / "a.csv", mapping=mapping, chunk_rows=CHUNK, progress=True, report=False)
    err = capfd.readouterr().err
    assert "psyscreen score" in err and f"{N}" in err
    run(csv, tmp_path / "b.csv", mapping=mapping, chunk_rows=CHUNK, progress=False, report=False)
    assert capfd.readouterr().err == ""
