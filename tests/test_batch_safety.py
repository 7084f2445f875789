"""Batch safety: inputs never written, atomic outputs (errors, Ctrl-C, kill -9, two runs),
exit codes without tracebacks, the header row neutralised, no child's text in any message.

Signals are sent to real ``psyscreen score`` processes; a full disk is a real 1 MiB tmpfs
(in a user namespace, skipped where that is not allowed) and, everywhere, an injected
``OSError(ENOSPC)`` from the real file object of a real write.
"""

from __future__ import annotations

import errno
import hashlib
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import psyscreen
from psyscreen.batch import OutputPathError, run
from psyscreen.batch.outputs import RunFiles
from psyscreen.cli import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_TERMINATED, main

BATTERY = psyscreen.load_profile("default").instruments


@pytest.fixture(scope="module")
def small(tmp_path_factory, write_export):
    csv, mapping = write_export(tmp_path_factory.mktemp("small"), 60, seed=3)
    df = pd.read_csv(csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return df, csv, mapping


@pytest.fixture(scope="module")
def big(tmp_path_factory, example, small):
    """An export that takes a few seconds to score in small chunks (for signals)."""
    d = tmp_path_factory.mktemp("big")
    df = example.make_export(20_000, BATTERY, seed=5, slips=False)
    csv = d / "big.csv"
    df.to_csv(csv, index=False, encoding="utf-8-sig")
    return csv, small[2]


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _snapshot(d: Path) -> dict[str, str]:
    return {p.name: _sha(p) for p in sorted(d.iterdir()) if p.is_file()}


def _manifest_vouches(out: Path) -> None:
    man = json.loads(out.with_name(out.stem + ".manifest.json").read_text("utf-8"))
    for key in ("results", "problems"):
        entry = man["outputs"][key]
        assert _sha(Path(entry["file"])) == entry["sha256"], key


def _cmd(inp: Path, mapping: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "psyscreen", "score", str(inp), "--map", str(mapping),
        "-o", str(out), "--quiet", "--chunk-rows", "500", *extra,
    ]  # fmt: skip


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_and_wait_for_temp(cmd: list[str], out_dir: Path) -> subprocess.Popen:
    """Start a run (in its own process group) and return once it is writing (a temporary
    output file exists)."""
    proc = subprocess.Popen(
        cmd,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # as from a terminal: a test run started in the background (``nohup ... &``)
        # ignores SIGINT, and a child would inherit that and never see the Ctrl-C
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(".psyscreen-tmp-" in p.name and p.stat().st_size for p in _files(out_dir)):
            return proc
        if proc.poll() is not None:
            pytest.fail(f"the run ended before writing: {proc.stderr.read()}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail("the run did not start writing")


def _files(d: Path) -> list[Path]:
    try:
        return list(d.iterdir())
    except FileNotFoundError:
        return []


# ---------------------------------------------------------------------------
# 1. inputs are never written


CASES = {
    "-o is the input": lambda i, m, d: ["-o", str(i)],
    "--problems is the input": lambda i, m, d: ["-o", str(d / "r.csv"), "--problems", str(i)],
    "--manifest is the input": lambda i, m, d: ["-o", str(d / "r.csv"), "--manifest", str(i)],
    "--report is the mapping": lambda i, m, d: ["-o", str(d / "r.csv"), "--report", str(m)],
    "--problems is -o": lambda i, m, d: ["-o", str(d / "r.csv"), "--problems", str(d / "r.csv")],
    "--manifest is --report": lambda i, m, d: [
        "-o",
        str(d / "r.csv"),
        "--manifest",
        str(d / "x.html"),
        "--report",
        str(d / "x.html"),
    ],
    "-o via another spelling": lambda i, m, d: [
        "-o",
        str(i.parent / "." / ".." / i.parent.name / i.name),
    ],
    "-o a hard link of the input": lambda i, m, d: ["-o", str(_link(i, d / "hard.csv", True))],
    "--warning-list is the input": lambda i, m, d: [
        "-o",
        str(d / "r.csv"),
        "--warning-list",
        str(i),
    ],
    "--warning-list is -o": lambda i, m, d: [
        "-o",
        str(d / "r.xlsx"),
        "--warning-list",
        str(d / "r.xlsx"),
    ],
    "two --warning-list one file": lambda i, m, d: [
        "-o",
        str(d / "r.csv"),
        "--warning-list",
        str(d / "w.html"),
        "--warning-list",
        str(d / "w.html"),
    ],
    "--report a symlink to the mapping": lambda i, m, d: [
        "-o",
        str(d / "r.csv"),
        "--report",
        str(_link(m, d / "rep.html", False)),
    ],
}


def _link(target: Path, link: Path, hard: bool) -> Path:
    if not link.exists():
        os.link(target, link) if hard else os.symlink(target, link)
    return link


@pytest.mark.parametrize("case", list(CASES))
def test_an_input_or_output_named_twice_is_refused_before_anything_is_read(
    case, small, tmp_path, capsys
):
    _, csv, _ = small
    inp = tmp_path / "in" / "export.csv"
    inp.parent.mkdir()
    shutil.copy(csv, inp)
    mapping = tmp_path / "in" / "mapping.yaml"
    mapping.write_text("not: [valid", encoding="utf-8")  # read first, it would be the error
    before = {inp: _sha(inp), mapping: _sha(mapping)}
    args = CASES[case](inp, mapping, tmp_path)
    code = main(["score", str(inp), "--map", str(mapping), "--quiet", *args])
    err = capsys.readouterr().err
    assert code == EXIT_FAILURE
    assert "same file" in err and "同一个文件" in err and "Traceback" not in err
    assert {p: _sha(p) for p in before} == before
    assert not (tmp_path / "r.csv").exists()


def test_a_new_output_joins_the_check_by_registering_a_path(tmp_path):
    files = RunFiles()
    files.add_input("input", tmp_path / "export.csv")
    files.add_output("results", tmp_path / "r.csv")
    files.add_output("warning_list", tmp_path / "export.csv")
    with pytest.raises(OutputPathError, match="the warning list and the input file"):
        files.check()


# ---------------------------------------------------------------------------
# 2. atomic outputs


def test_a_failed_run_leaves_the_previous_outputs_and_their_manifest(small, tmp_path, monkeypatch):
    run_module = importlib.import_module("psyscreen.batch.executors")

    _, csv, mapping = small
    out = tmp_path / "r.csv"
    run(csv, out, mapping=mapping, chunk_rows=10)
    before = _snapshot(tmp_path)
    calls = {"n": 0}
    real = run_module.process_chunk

    def failing(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated failure in the middle of the run")
        return real(*a, **k)

    monkeypatch.setattr(run_module, "process_chunk", failing)
    with pytest.raises(RuntimeError, match="simulated"):
        run(csv, out, mapping=mapping, chunk_rows=10)
    assert _snapshot(tmp_path) == before  # no temporary file, no lock, nothing replaced
    _manifest_vouches(out)


def test_a_failed_warning_list_leaves_no_output_at_all(small, tmp_path, monkeypatch):
    import psyscreen.report.warning_list as wl_module

    _, csv, mapping = small
    wl = tmp_path / "名单.html"

    def half_written(wl_obj, path):
        Path(path).write_text("<html>half", encoding="utf-8")
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(wl_module, "write_warning_list", half_written)
    before = _snapshot(tmp_path)
    with pytest.raises(OutputPathError, match=r"no space left on the device: .*名单\.html"):
        run(csv, tmp_path / "r.csv", mapping=mapping, warning_lists=[wl])
    assert _snapshot(tmp_path) == before  # no results, no list, no temporary file
    assert not wl.exists()


def test_warning_lists_are_written_with_the_run(small, tmp_path):
    _, csv, mapping = small
    wl = tmp_path / "w" / "名单.html"
    res = run(csv, tmp_path / "r.csv", mapping=mapping, warning_lists=[wl], report=False)
    assert res.warning_lists == [wl] and "机密" in wl.read_text(encoding="utf-8")
    assert [p.name for p in wl.parent.iterdir()] == [wl.name]


def test_ctrl_c_is_one_line_exit_130_and_leaves_nothing(big, tmp_path):
    csv, mapping = big
    out = tmp_path / "o" / "r.csv"
    proc = _start_and_wait_for_temp(_cmd(csv, mapping, out), out.parent)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_INTERRUPTED
    assert err.strip().splitlines() == [
        "psyscreen: 已中断，未写出任何文件 / interrupted: no output written"
    ]
    assert _files(out.parent) == []


def test_sigterm_unwinds_like_ctrl_c(big, tmp_path):
    csv, mapping = big
    out = tmp_path / "o" / "r.csv"
    proc = _start_and_wait_for_temp(_cmd(csv, mapping, out), out.parent)
    proc.terminate()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_TERMINATED and "Traceback" not in err
    assert _files(out.parent) == []


def test_kill_9_never_pairs_new_files_with_the_old_manifest(big, small, tmp_path):
    _, small_csv, mapping = small
    csv, _ = big
    out = tmp_path / "r.csv"
    run(small_csv, out, mapping=mapping)
    before = _snapshot(tmp_path)
    proc = _start_and_wait_for_temp(_cmd(csv, mapping, out), tmp_path)
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    finals = {n: h for n, h in _snapshot(tmp_path).items() if not n.startswith(".")}
    assert finals == before  # the old outputs, still vouched for by the old manifest
    _manifest_vouches(out)
    # the next run on the same outputs removes what the killed run left
    res = run(small_csv, out, mapping=mapping, chunk_rows=7)
    assert not [p for p in tmp_path.iterdir() if ".psyscreen-tmp-" in p.name]
    assert res.manifest["rows"]["in"] == 60
    _manifest_vouches(out)


def test_a_second_run_on_the_same_output_refuses_and_the_first_wins_whole(big, tmp_path, capsys):
    csv, mapping = big
    out = tmp_path / "r.csv"
    first = _start_and_wait_for_temp(_cmd(csv, mapping, out), tmp_path)
    code = main(["score", str(csv), "--map", str(mapping), "-o", str(out), "--quiet"])
    err = capsys.readouterr().err
    first.communicate(timeout=300)
    assert code == EXIT_FAILURE and "another psyscreen run" in err and "Traceback" not in err
    assert first.returncode in (0, 1)
    _manifest_vouches(out)
    assert len(pacsv.read_csv(out).to_pandas()) == 20_000


# ---------------------------------------------------------------------------
# 3. exit codes: one line, what to fix, no traceback


def _damaged(kind: str, d: Path, df: pd.DataFrame) -> Path:
    if kind == "csv named .xlsx":
        p = d / "export.xlsx"
        df.to_csv(p, index=False)
    elif kind == "corrupt xlsx":
        p = d / "export.xlsx"
        df.to_excel(p, index=False)
        p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    elif kind == "corrupt parquet":
        p = d / "export.parquet"
        df.to_parquet(p)
        p.write_bytes(p.read_bytes()[:-200])
    elif kind == "parquet list column":
        p = d / "export.parquet"
        t = pa.Table.from_pandas(df, preserve_index=False)
        i = t.column_names.index(next(c for c in df.columns if c.startswith("PHQ9_1")))
        t = t.set_column(i, t.column_names[i], pa.array([["1", "2"]] * len(df)))
        pq.write_table(t, p)
    elif kind == "corrupt sav":
        p = d / "export.sav"
        p.write_bytes(b"$FL2@(#) " + os.urandom(3000))
    else:  # pragma: no cover
        raise AssertionError(kind)
    return p


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("csv named .xlsx", "not a readable Excel workbook"),
        ("corrupt xlsx", "not a readable Excel workbook"),
        ("corrupt parquet", "not a readable Parquet file"),
        ("parquet list column", "holds lists or records"),
        ("corrupt sav", "not a readable SPSS data file"),
    ],
)
def test_damaged_inputs_are_exit_2_with_one_line(kind, says, small, tmp_path, capsys):
    df, _, mapping = small
    p = _damaged(kind, tmp_path, df)
    code = main(["score", str(p), "--map", str(mapping), "-o", str(tmp_path / "o/r.csv")])
    err = capsys.readouterr().err
    assert code == EXIT_FAILURE, err
    assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists() or _files(tmp_path / "o") == []


def test_output_under_a_regular_file_and_output_that_is_a_folder(small, tmp_path, capsys):
    _, csv, mapping = small
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder.csv").mkdir()
    for out, says in ((tmp_path / "file" / "r.csv", "under a regular file"),
                      (tmp_path / "folder.csv", "is a directory")):  # fmt: skip
        code = main(["score", str(csv), "--map", str(mapping), "-o", str(out), "--quiet"])
        err = capsys.readouterr().err
        assert code == EXIT_FAILURE and says in err and "Traceback" not in err


def _namespace_mount_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = "d=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs $d && umount $d"
    ok = subprocess.run(["unshare", "-rm", "sh", "-c", probe], capture_output=True)
    return ok.returncode == 0


needs_mount = pytest.mark.skipif(
    not _namespace_mount_works(), reason="no user namespaces to mount a small tmpfs"
)


def _in_namespace(script: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=300
    )


@needs_mount
def test_a_full_disk_is_exit_2_and_leaves_nothing(big, tmp_path):
    csv, mapping = big
    mnt = tmp_path / "full"
    mnt.mkdir()
    cmd = " ".join(f"'{c}'" for c in _cmd(csv, mapping, mnt / "r.csv"))
    done = _in_namespace(f"mount -t tmpfs -o size=1m tmpfs {mnt} && {cmd}; echo rc=$?; ls -A {mnt}")
    assert "rc=2" in done.stdout, done.stderr
    assert done.stdout.strip().endswith("rc=2")  # nothing listed after: no file left
    assert "no space left on the device" in done.stderr and "磁盘已满" in done.stderr
    assert "Traceback" not in done.stderr


@needs_mount
def test_a_read_only_folder_is_exit_2(small, tmp_path):
    _, csv, mapping = small
    mnt = tmp_path / "ro"
    mnt.mkdir()
    cmd = " ".join(f"'{c}'" for c in _cmd(csv, mapping, mnt / "r.csv"))
    done = _in_namespace(f"mount -t tmpfs -o ro tmpfs {mnt} && {cmd}; echo rc=$?")
    assert done.stdout.strip().endswith("rc=2"), done.stderr
    assert "read-only file system" in done.stderr and "Traceback" not in done.stderr


def test_an_injected_enospc_in_a_real_write_is_exit_2(small, tmp_path, monkeypatch, capsys):
    """The real OSFile of the results is written; its second write fails as a full disk would."""
    _, csv, mapping = small
    real_osfile = pa.OSFile

    class FullAfterFirstWrite:
        def __init__(self, path, mode="r"):
            self._f = real_osfile(path, mode)
            self.writes = 0

        def write(self, data):
            self.writes += 1
            if self.writes > 1:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self._f.write(data)

        def __getattr__(self, name):
            return getattr(self._f, name)

    monkeypatch.setattr(pa, "OSFile", FullAfterFirstWrite)
    out = tmp_path / "o" / "r.csv"
    code = main(["score", str(csv), "--map", str(mapping), "-o", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == EXIT_FAILURE and "磁盘已满" in err and "no space left" in err
    assert "Traceback" not in err and str(out.parent) in err
    assert _files(out.parent) == []


def test_internal_errors_say_so_and_debug_shows_the_traceback(small, tmp_path, monkeypatch, capsys):
    run_module = importlib.import_module("psyscreen.batch.chunk")

    _, csv, mapping = small

    def broken(*a, **k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(run_module, "score_frame", broken)
    args = ["score", str(csv), "--map", str(mapping), "-o", str(tmp_path / "r.csv"), "--quiet"]
    assert main(args) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert "internal error (ZeroDivisionError)" in err and "--debug" in err
    assert "Traceback" not in err and "a bug" not in err
    with pytest.raises(ZeroDivisionError):
        main(["--debug", *args])
    with pytest.raises(ZeroDivisionError):
        main([*args, "--debug"])
    assert _files(tmp_path) == []


# ---------------------------------------------------------------------------
# 4. the header row is neutralised too


def _kept_header(small, d: Path, header: str) -> tuple[Path, Path]:
    """The export with its kept column 班级 renamed ``header``, and the mapping keeping it."""
    df, _, mapping = small
    csv, m = d / "e.csv", d / "m.yaml"
    df.rename(columns={"班级": header}).to_csv(csv, index=False, encoding="utf-8-sig")
    keep = "keep: ['" + header.replace("'", "''") + "']"
    text = mapping.read_text("utf-8").replace("  class: 班级\n", "")
    assert "班级" not in text.replace("keep: [班级]", "")
    m.write_text(
        text.replace("keep: [班级]", keep) if "keep: [班级]" in text else text + keep + "\n",
        encoding="utf-8",
    )
    return csv, m


def test_a_formula_in_a_kept_header_is_neutralised_in_csv_and_xlsx(small, tmp_path):
    import openpyxl

    evil = '=HYPERLINK("http://example.invalid","click")'
    csv, m = _kept_header(small, tmp_path, evil)
    r_csv = run(csv, tmp_path / "r.csv", mapping=m, report=False)
    header = r_csv.results.read_bytes().decode("utf-8-sig").splitlines()[0]
    assert "'" + evil.replace('"', '""') in header
    assert "," + '"' + evil.replace('"', '""') not in header and not header.startswith('"=')
    r_xl = run(csv, tmp_path / "r.xlsx", mapping=m, report=False)
    ws = openpyxl.load_workbook(r_xl.results).active
    heads = [c.value for c in ws[1]]
    assert "'" + evil in heads and evil not in heads
    assert all(c.data_type != "f" for c in ws[1])
    r_pq = run(csv, tmp_path / "r.parquet", mapping=m, report=False)
    assert evil in pq.read_schema(r_pq.results).names  # Parquet keeps the exact text


def test_the_header_row_is_neutralised_whatever_the_chunks(small, tmp_path):
    csv, m = _kept_header(small, tmp_path, "=1+2")
    one = run(csv, tmp_path / "a.csv", mapping=m, report=False, chunk_rows=20)
    assert ',"\'=1+2",' in one.results.read_bytes().decode("utf-8-sig").splitlines()[0]


# ---------------------------------------------------------------------------
# 7. no cell text of a child anywhere but the results


def _damaged_with_token(df: pd.DataFrame, d: Path, token: str) -> Path:
    """The export with ``token`` in every column (some row) and damaged lines holding it."""
    bad = df.copy().astype(object)
    for j in range(len(bad.columns)):
        bad.iloc[j % len(bad), j] = f"{token}{j}"
    csv = d / "e.csv"
    bad.to_csv(csv, index=False, encoding="utf-8-sig")
    lines = csv.read_text("utf-8-sig").splitlines()
    lines.insert(5, f"{token},{token},{token}")  # too few fields
    lines.insert(9, ",".join([token] * (len(df.columns) + 3)))  # too many fields
    lines.append(f'{token},"{token}')  # a cut last line, inside a quoted field
    csv.write_text("\ufeff" + "\n".join(lines), encoding="utf-8")
    return csv


def _outputs_and_messages(small, tmp_path, capsys, caplog) -> dict[str, str]:
    df, _, mapping = small
    csv = _damaged_with_token(df, tmp_path, TOKEN)
    out = tmp_path / "o" / "r.csv"
    code = main(["score", str(csv), "--map", str(mapping), "-o", str(out)])
    texts = {"exit code": str(code), "stderr": capsys.readouterr().err, "log": caplog.text}
    for p in _files(out.parent):
        if p != out:  # the results carry kept columns by design
            texts[p.name] = p.read_bytes().decode("utf-8", "replace")
    return texts


TOKEN = "张三ZS4471"


def test_no_child_text_in_problems_manifest_or_messages(small, tmp_path, capsys, caplog):
    texts = _outputs_and_messages(small, tmp_path, capsys, caplog)
    assert texts.pop("exit code") in ("1", "2")
    texts.pop("r.report.html", None)  # see the next test
    assert {"stderr", "log"} <= set(texts)
    for name, text in texts.items():
        assert "张三" not in text and "ZS4471" not in text, name


def test_no_child_text_in_the_report(small, tmp_path, capsys, caplog):
    report = _outputs_and_messages(small, tmp_path, capsys, caplog)["r.report.html"]
    assert "张三" not in report and "ZS4471" not in report
