"""The batch pipeline: read in chunks, map, score, check rows, write, account for every row.

One call, :func:`run`, turns an export into

* the results file (one row per input row, in input order, with ``row``,
  ``row.status`` and ``row.problems`` and every scoring / risk column),
* the problems file (one row per problem: 0-based ``row``, export ``column``,
  ``field``, ``problem``, ``detail``; never a name, id or cell text),
* the run manifest (JSON: hashes, versions, counts in and out by status, options,
  times) and, if asked, the HTML summary report.

Memory is bounded by the chunk size: only aggregates (counts, and 8 bytes per
distinct id for duplicate detection, see :mod:`psyscreen.batch.ids`) grow with the file.

Every chunk goes through :func:`process_chunk`, a pure function of the chunk, the
:class:`Plan` and the row offset (plus the ids seen before); the Dask path runs
the same function per partition. A reading thread and a writing thread work on
the next and the previous chunk meanwhile (:mod:`psyscreen.batch.executors`);
chunks are written in input order.

Example:
    >>> from psyscreen.batch import run  # doctest: +SKIP
    >>> res = run("export.csv", "out/results.csv", profile="default",
    ...           mapping="mapping.yaml")  # doctest: +SKIP
    >>> res.exit_code, res.manifest["rows"]["in"]  # doctest: +SKIP
    (1, 2000)
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._version import __version__
from ..errors import BatchError
from .arrow import _as_frame, _finish, to_arrow
from .chunk import _empty_chunk, empty_problems, process_chunk
from .coding import CodingCheck
from .csvlayout import delimiter_option
from .executors import _run_threads
from .failures import check_plain_columns, guard_chunks, guard_reading, os_error_message
from .ids import IdTracker
from .io import FORMATS, _hash_in_thread, open_source
from .manifest import _now, _out_entry, _provenance
from .mapping import MappingSpec
from .outputs import MANIFEST, OutputPathError, RunFiles
from .plan import Plan, _mapping, _resolve_profile, make_plan
from .sinks import _TableSink


@dataclass
class BatchResult:
    """What a run produced: paths, the manifest (as written) and the exit code."""

    results: Path
    problems: Path
    manifest_path: Path
    report: Path | None
    manifest: dict[str, Any]
    #: the confidential warning lists written (``warning_lists`` of :func:`run`)
    warning_lists: list[Path] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 success, 1 success with row problems (see ``psyscreen.cli``)."""
        return int(self.manifest["exit_code"])


def _progress(enabled: bool | None, total: int | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    try:
        from tqdm import tqdm  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - tqdm comes with the `io` extra
        return None
    return tqdm(total=total, unit="rows", unit_scale=True, desc="psyscreen score", file=sys.stderr)


def default_paths(output: Path) -> tuple[Path, Path, Path]:
    """(problems, manifest, report) paths next to ``output``.

    Example:
        >>> [p.name for p in default_paths(Path("out/results.csv"))]
        ['results.problems.csv', 'results.manifest.json', 'results.report.html']
    """
    stem = output.with_suffix("")
    return (
        stem.with_name(stem.name + ".problems.csv"),
        stem.with_name(stem.name + ".manifest.json"),
        stem.with_name(stem.name + ".report.html"),
    )


#: the role of a warning list among the run's files (then "warning_list 2", ...)
_WARNING_LIST = "warning_list"
#: ``warning_list_profile`` default: the run's own profile (``None`` means none)
_RUN_PROFILE: Any = object()
#: the answer to ``workers`` other than 1 (``--workers N``), one line
WORKERS_REFUSED = (
    "workers: only 1 (one process, reading and writing in threads) is supported; several "
    "processes were slower on 2 cores (docs/performance.md); for more scale use Dask "
    "(psyscreen.batch.dask)"
)


def run(
    input: str | Path,
    output: str | Path,
    *,
    profile: Any = "default",
    mapping: str | Path | MappingSpec | None = None,
    problems: str | Path | None = None,
    manifest: str | Path | None = None,
    report: str | Path | bool | None = True,
    encoding: str | None = None,
    sheet: str | None = None,
    chunk_rows: int = 50_000,
    pseudonymise: Iterable[str] = (),
    key: bytes | None = None,
    key_file: str | Path | None = None,
    drop: Iterable[str] = (),
    neutralise: bool = True,
    norms: Any = "auto",
    progress: bool | None = None,
    workers: int = 1,
    delimiter: str | None = None,
    assessment_date: str | _dt.date | None = None,
    instruments: Sequence[Any] | None = None,
    report_lang: str = "zh",
    warning_lists: Sequence[str | Path] = (),
    warning_list_profile: Any = _RUN_PROFILE,
) -> BatchResult:
    """Score an export file in chunks and write results, problems, manifest and report.

    Args:
        input: CSV/TXT/TSV, XLSX, SAV or Parquet file.
        output: results file; ``.csv`` (UTF-8 with BOM), ``.xlsx`` or ``.parquet``.
        profile: risk profile id, path or object (its battery names the instruments).
        instruments: instrument ids, paths or objects to score instead of a profile's
            battery: scores, bands and norms where a table applies, no risk levels.
        mapping: mapping file or :class:`MappingSpec`; ``None``: headers are item ids.
        problems, manifest: paths; default next to ``output`` (``<stem>.problems.csv``,
            ``<stem>.manifest.json``).
        report: HTML report path, ``True`` for ``<stem>.report.html``, ``False`` for none.
        encoding, sheet: override the mapping's CSV encoding / XLSX sheet.
        chunk_rows: rows per chunk (memory is proportional to it).
        pseudonymise: output columns (roles such as ``id`` or kept headers) to replace by
            keyed pseudonyms; the key is ``key``, else read from ``key_file``, else from
            the environment variable ``PSYSCREEN_PSEUDONYM_KEY``.
        drop: output columns to leave out (e.g. ``school`` or a kept name column).
        neutralise: neutralise formula-like text cells in CSV/XLSX outputs.
        norms: passed to the scoring layer (``"auto"``: the profile's norm tables).
        progress: show a progress bar; ``None``: only when stderr is a terminal.
        delimiter: of a CSV/TXT/TSV input (``","``, ``";"``, ``"tab"``; default: sniffed
            from the header line).
        assessment_date: one assessment date for every row (``YYYY-MM-DD``), instead of
            a column; wins over the mapping's ``constants: {assessment_date: ...}``.
        workers: only ``1`` (the default): one process, which reads ahead and writes
            behind in two threads. More processes were slower on 2 cores and are
            refused; for more scale, use :mod:`psyscreen.batch.dask`.
        report_lang: language of the HTML report, ``zh`` (default) or ``en``.
        warning_lists: ``.html`` / ``.xlsx`` paths of the confidential warning list
            (预警名单) of the results, in ``report_lang``; outputs of the run like the
            others (checked before anything is read, written whole or not at all).
        warning_list_profile: the profile whose names the warning list uses (default:
            the run's; ``None``: none).

    Returns:
        :class:`BatchResult`. Raises :class:`BatchError` (or ``InputFileError``,
        ``DefinitionError``) when the run cannot be done; row problems never raise.
    """
    from .privacy import Pseudonymiser, load_key

    started, t0 = _now(), time.perf_counter()
    output = Path(output)
    d_problems, d_manifest, d_report = default_paths(output)
    problems_path = Path(problems) if problems else d_problems
    manifest_path = Path(manifest) if manifest else d_manifest
    report_path = d_report if report is True else (Path(report) if report else None)
    if chunk_rows < 1:
        raise BatchError("chunk_rows must be at least 1")
    if workers != 1:
        raise BatchError(WORKERS_REFUSED)
    files = run_files(
        input, mapping, profile, key_file, output, problems_path, manifest_path, report_path,
        warning_lists,
    )  # fmt: skip
    files.check()  # before anything is read: no input is ever an output
    for path in warning_lists:
        if not str(path).lower().endswith((".html", ".htm", ".xlsx")):
            raise BatchError(f"--warning-list: give a .html or .xlsx file, not {str(path)!r}")

    spec, mapping_sha, mapping_name = _mapping(mapping)
    prof, insts = _resolve_profile(profile, instruments)
    pseudo_cols = list(pseudonymise)
    pseudo = None
    if pseudo_cols:
        pseudo = Pseudonymiser(key if key is not None else load_key(key_file))
    drop_cols = list(drop)

    src = guard_reading(
        lambda: open_source(
            input,
            encoding=encoding or spec.encoding,
            sheet=sheet or spec.sheet,
            value_labels=spec.value_labels,
            delimiter=delimiter_option(delimiter),
        ),
        input,
        FORMATS.get(Path(input).suffix.lower(), "csv"),
    )
    plan = make_plan(
        src.headers, spec, insts, profile=prof, norms=norms, assessment_date=assessment_date
    )
    check_plain_columns(src, plan.read_columns())
    out_names_known = ["row", *plan.roles, *spec.keep]
    for c in pseudo_cols + drop_cols:
        if c not in out_names_known:
            raise BatchError(
                f"cannot pseudonymise or drop {c!r}: not an output column "
                f"(choose from {', '.join(out_names_known[1:])})"
            )
    with files.open():
        try:
            man = _write_outputs(
                files, src, plan, prof, insts, norms, chunk_rows, pseudo, pseudo_cols,
                drop_cols, neutralise, progress, started, t0, mapping_name, mapping_sha, input,
                report_lang,
            )  # fmt: skip
            if warning_lists:
                wl_profile = warning_list_profile
                if wl_profile is _RUN_PROFILE:
                    wl_profile = None if instruments else profile
                _write_warning_lists(files, wl_profile, report_lang, "id" in pseudo_cols)
            files.commit()
        except OSError as e:  # reading errors are InputFileErrors by now: a write failed
            raise OutputPathError(os_error_message(e, files.describe(e.filename))) from e
    lists = [files.path(r) for r in files.outputs if r.startswith(_WARNING_LIST)]
    return BatchResult(output, problems_path, manifest_path, report_path, man, lists)


def run_files(
    input: str | Path,
    mapping: Any,
    profile: Any,
    key_file: Any,
    output: Path,
    problems: Path,
    manifest: Path,
    report: Path | None,
    warning_lists: Sequence[str | Path] = (),
) -> RunFiles:
    """The files a run reads and writes (see :mod:`psyscreen.batch.outputs`).

    A new output joins the same-file check, the lock and the atomic rename by one
    ``files.add_output(role, path)`` here.

    Example:
        >>> f = run_files("in.csv", None, "default", None, Path("r.csv"), Path("p.csv"),
        ...               Path("m.json"), None)
        >>> sorted(f.inputs), list(f.outputs)
        (['input'], ['results', 'problems', 'manifest'])
    """
    files = RunFiles()
    files.add_input("input", input)
    if isinstance(mapping, (str, Path)):
        files.add_input("mapping", mapping)
    if isinstance(profile, (str, Path)) and Path(profile).is_file():
        files.add_input("profile", profile)
    files.add_input("key", key_file)
    files.add_output("results", output)
    files.add_output("problems", problems)
    files.add_output("report", report)
    for i, path in enumerate(warning_lists):
        files.add_output(_WARNING_LIST if i == 0 else f"{_WARNING_LIST} {i + 1}", path)
    files.add_output(MANIFEST, manifest)  # registered last, renamed last
    return files


def _write_warning_lists(files: RunFiles, profile: Any, lang: str, pseudonymised: bool) -> None:
    """Write the warning lists of the results just written to their temporary files."""
    from ..report.warning_list import read_results, warning_list, write_warning_list

    wl = warning_list(
        read_results(files.temp("results")), profile=profile, lang=lang, pseudonymised=pseudonymised
    )
    for role in files.outputs:
        if role.startswith(_WARNING_LIST):
            write_warning_list(wl, files.temp(role))


def _write_outputs(
    files: RunFiles, src, plan: Plan, prof, insts, norms, chunk_rows: int,
    pseudo, pseudo_cols: list[str], drop_cols: list[str], neutralise: bool, progress,
    started: str, t0: float, mapping_name, mapping_sha, input, report_lang: str = "zh",
) -> dict[str, Any]:  # fmt: skip
    """Score and write every output to its temporary file; return the manifest written."""
    from .report import ReportStats

    output, problems_path = files.path("results"), files.path("problems")
    report_path = files.path("report") if "report" in files.outputs else None
    res_tmp, prob_tmp = files.temp("results"), files.temp("problems")
    stats = ReportStats(plan)
    tracker = IdTracker()
    res_sink = _TableSink(res_tmp, neutralise)
    prob_sink = _TableSink(prob_tmp, neutralise)
    bar = _progress(progress, None)
    n_rows = 0
    try:
        # CSV chunks are parsed as plain strings and dictionary-encoded afterwards
        # (arrow_frame: a third less reading work than encoding while parsing), by the
        # reading thread
        chunks = guard_chunks(
            src.chunks(plan.read_columns(), plan.categorical_columns(), chunk_rows, arrow=True),
            src.path,
            src.format,
        )
        # answer codes numbered from 1 instead of 0: refused before they are graded
        chunks = CodingCheck(plan).watch(chunks, lambda c, n: _as_frame(_head(c, n), plan))
        # read ahead and write behind in threads
        n_rows = _run_threads(
            chunks, plan, tracker, stats, res_sink, prob_sink, bar, pseudo, pseudo_cols, drop_cols
        )
        if res_sink.schema is None:  # an export with a header and no rows
            cr = process_chunk(_empty_chunk(plan), plan, 0, tracker)
            res_sink.write(_finish(cr.results, pseudo, pseudo_cols, drop_cols))
        if prob_sink.schema is None:
            prob_sink.write(to_arrow(empty_problems()))
    finally:
        tracker.close()
        res_sink.close()
        prob_sink.close()
        if bar is not None:
            bar.close()

    finished = _now()
    counts = stats.counts()
    unreadable = counts["by_row_status"].get("unreadable", 0)
    exit_code = 1 if (counts["rows_with_problems"] or unreadable) else 0
    man: dict[str, Any] = {
        "psyscreen_version": __version__,
        "started_at": started,
        "finished_at": finished,
        "duration_seconds": round(time.perf_counter() - t0, 3),
        "input": {
            "file": str(input),
            "format": src.format,
            "encoding": src.encoding,
            "sha256": src.sha256,
            "bytes": src.path.stat().st_size,
        },
        "mapping": {"file": mapping_name, "sha256": mapping_sha},
        "definitions": _provenance(prof, insts, norms),
        "options": {
            "chunk_rows": chunk_rows,
            "workers": 1,
            "pseudonymised_columns": pseudo_cols,
            "pseudonym_key_fingerprint": pseudo.fingerprint if pseudo else None,
            "dropped_columns": drop_cols,
            "formulas_neutralised": res_sink.neutralise,
            "norms": norms if isinstance(norms, str) or norms is None else "custom",
        },
        "rows": {
            "in": n_rows,
            "out": res_sink.writer.rows,
            "read": n_rows - unreadable,
            "unreadable": unreadable,
            "unreadable_by_kind": {
                k.split(":", 1)[1]: v
                for k, v in counts["problems_by_kind"].items()
                if k.startswith("line:")
            },
            **counts,
        },
        "outputs": {},
        "exit_code": exit_code,
    }
    # output files are hashed in threads (reading the page cache without the global
    # lock) while the report is drawn; Parquet was hashed while written
    hashes: dict[str, Any] = {
        key: sink.writer.sha256 or _hash_in_thread(path)
        for key, sink, path in (
            ("results", res_sink, res_tmp),
            ("problems", prob_sink, prob_tmp),
        )
    }
    if man["rows"]["in"] != man["rows"]["out"]:  # pragma: no cover - an internal error
        raise RuntimeError("rows in and out differ: this is a bug in psyscreen, please report it")
    if report_path is not None:
        from .report import render_report

        report_html = render_report(stats, man, lang=report_lang)
        files.temp("report").write_text(report_html, encoding="utf-8")
    for key, path in (("results", output), ("problems", problems_path)):
        digest = hashes[key] if isinstance(hashes[key], str) else hashes[key].result()
        man["outputs"][key] = _out_entry(path, files.temp(key), digest)
    if report_path is not None:
        man["outputs"]["report"] = _out_entry(report_path, files.temp("report"))
    files.temp(MANIFEST).write_text(
        json.dumps(man, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    return man


def _head(chunk: Any, n: int) -> Any:
    """The first ``n`` rows of a chunk (a DataFrame or an Arrow table)."""
    return chunk.iloc[:n] if isinstance(chunk, pd.DataFrame) else chunk.slice(0, n)
