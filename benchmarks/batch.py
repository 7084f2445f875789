"""Batch benchmark: rows/s and peak memory of ``psyscreen score`` against two references.

Generates synthetic exports (examples/make_example.py; 4 instruments: the default
profile's battery PHQ-9, GAD-7, SDQ self-report, ASQ = 46 answer columns, Chinese
answer texts, UTF-8 with BOM) of 100,000 and 1,000,000 rows, then measures, each
in a fresh process (peak memory = the process's maximum resident set size):

* ``psyscreen``: ``psyscreen.run_batch`` (chunked: read, map, score, norms, risk,
  checks, write CSV + problems + manifest; the HTML report is included), once per
  ``--workers`` value (default 1 and 2 processes scoring chunks); with workers, peak
  memory also as the sum over all processes (RSS and PSS, sampled every 0.1 s from the
  benchmark's process);
* ``core only``: ``psyscreen.screen`` on ``--core-rows`` rows already in memory
  (scoring, norms, risk; no reading, checks or writing): the vectorised core's speed;
* ``floor``: pyarrow streaming the same CSV and writing a CSV of about the same
  size as psyscreen's results (input columns repeated until the size matches),
  nothing else;
* ``per-row screen``: ``psyscreen.screen`` called on one row at a time (what a user of
  the library who loops over rows gets), on ``--loop-rows / 25`` rows, extrapolated;
* ``per-row loop``: a straightforward pure-Python loop (csv module, dict lookups,
  sums, proration, bands, a simplified risk rule) over a subsample of
  ``--loop-rows`` rows, extrapolated linearly to the full file. It does less than
  psyscreen (no norms, no reasons, no problem report), so the ratio flatters it.

Usage::

    python benchmarks/batch.py                 # 100k and 1M rows
    python benchmarks/batch.py --rows 300000 1000000 --paired 5   # against the fair floor
    python benchmarks/batch.py --rows 10000000 --paired 1 --dir /work/tmp  # 10M: ~6 GB
    python benchmarks/batch.py --rows 100000   # one size
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PART = 100_000


def _example():
    spec = importlib.util.spec_from_file_location("make_example", ROOT / "examples/make_example.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def generate(rows: int, out: Path, mapping: Path) -> None:
    """Write a ``rows``-row export in parts of 100k rows (bounded memory)."""
    ex = _example()
    insts = ex.default_battery()
    with open(out, "w", encoding="utf-8-sig", newline="") as f:
        for k, start in enumerate(range(0, rows, PART)):
            n = min(PART, rows - start)
            df = ex.make_export(n, insts, seed=1000 + k, start=start, slips=True)
            df.to_csv(f, index=False, header=(k == 0), lineterminator="\r\n")
    mapping.write_text(ex.mapping_yaml(insts), encoding="utf-8")


# --- the three measured tasks (each run in a child process) -------------------------


def _tree_memory(root: int) -> tuple[float, float]:
    """(RSS, PSS) in MB summed over process ``root`` and its descendants (Linux /proc).

    RSS counts pages shared between the processes (libraries, forked pages) once per
    process, so the sum overstates; PSS shares them out and is the fairer total.
    """
    me = root
    parents: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                parents[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    tree, grew = {me}, True
    while grew:
        new = {p for p, pp in parents.items() if pp in tree and p not in tree}
        tree |= new
        grew = bool(new)
    rss = pss = 0.0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) / 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) / 1024
        except (OSError, ValueError):
            continue
    return rss, pss


class _MemorySampler:
    """Samples the memory of ``root``'s process tree every ``every`` seconds; keeps the peaks.

    Runs in the benchmark's own process, not in the measured one (a sampling thread
    there would take the measured process's GIL and CPU).
    """

    def __init__(self, root: int, every: float = 0.1):
        import threading

        self.root, self.every, self.rss, self.pss = root, every, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, pss = _tree_memory(self.root)
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def task_psyscreen(inp: str, mapping: str, out: str, workers: int = 1) -> dict:
    sys.path.insert(0, str(ROOT))
    import psyscreen

    t = time.perf_counter()
    res = psyscreen.run_batch(inp, out, mapping=mapping, progress=False, workers=workers)
    seconds = time.perf_counter() - t
    return {
        "seconds": seconds,
        "rows": res.manifest["rows"]["out"],
        "workers": res.manifest["options"]["workers"],
    }


def task_core(inp: str, mapping: str, limit: int) -> dict:
    """The vectorised core alone: ``psyscreen.screen`` on an in-memory DataFrame.

    The first ``limit`` rows are read and mapped to item codes beforehand (not timed);
    only scoring, norms and risk grading are timed: no reading, checks or writing.
    """
    sys.path.insert(0, str(ROOT))
    import psyscreen
    from psyscreen.batch.chunk import prepare
    from psyscreen.batch.io import open_source
    from psyscreen.batch.plan import plan_for

    src = open_source(inp)
    plan = plan_for(src.headers, mapping)
    chunk = next(src.chunks(plan.read_columns(), plan.categorical_columns(), limit))
    canon = prepare(chunk, plan)
    psyscreen.screen(canon.head(100), plan.profile, demographics=plan.demographics())  # warm
    t = time.perf_counter()
    psyscreen.screen(canon, plan.profile, demographics=plan.demographics())
    return {"seconds": time.perf_counter() - t, "rows": len(canon)}


def task_sha256(path: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from psyscreen.batch.io import sha256_file

    return {"sha256": sha256_file(path)}


def task_floor(inp: str, out: str, target_bytes: int) -> dict:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    t = time.perf_counter()
    in_bytes = os.path.getsize(inp)
    reader = pacsv.open_csv(inp, read_options=pacsv.ReadOptions(block_size=1 << 24))
    # the input's columns repeated until the output is about target_bytes
    n_cols = max(1, round(len(reader.schema.names) * target_bytes / in_bytes))
    writer = None
    rows = 0
    with open(out, "wb") as f:
        for batch in reader:
            k = batch.num_columns
            cols = [batch.column(j % k) for j in range(n_cols)]
            names = [f"{batch.schema.names[j % k]}_{j // k}" for j in range(n_cols)]
            table = pa.Table.from_arrays(cols, names=names)
            if writer is None:
                writer = pacsv.CSVWriter(f, table.schema)
            writer.write_table(table)
            rows += batch.num_rows
        writer.close()
    return {"seconds": time.perf_counter() - t, "rows": rows, "out_bytes": os.path.getsize(out)}


def task_loop(inp: str, mapping: str, limit: int) -> dict:
    """A straightforward per-row scorer written the way a one-off script would be."""
    sys.path.insert(0, str(ROOT))
    import psyscreen
    from psyscreen.batch import load_mapping

    spec, _ = load_mapping(mapping)
    insts = [psyscreen.load_instrument(i) for i in psyscreen.load_profile("default").instruments]
    tables = {i.id: spec.answer_table(i.id, inst.id) for inst in insts for i in inst.items}
    t = time.perf_counter()
    n = 0
    levels = {}
    with open(inp, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            abnormal = borderline = 0
            critical = False
            for inst in insts:
                values = {}
                for item in inst.items:
                    text = row[spec.header(item.id)].strip()
                    code = tables[item.id].get(text, text)
                    try:
                        v = float(code)
                    except ValueError:
                        continue
                    rs = inst.response_scales[item.response_scale]
                    if rs.min <= v <= rs.max:
                        values[item.id] = (rs.min + rs.max - v) if inst.is_reverse(item.id) else v
                for ci in inst.critical_items:
                    if any(values.get(i, -1) >= (ci.condition.ge or 1) for i in ci.items):
                        critical = True
                for s in inst.scales:
                    if s.is_composite:
                        continue
                    got = [values[i] for i in s.items if i in values]
                    if len(got) < s.missing.required(len(s.items)):
                        continue
                    raw = sum(got) * len(s.items) / len(got)
                    raw = float(int(raw + 0.5))
                    for bs in s.bands[:1]:
                        for b in bs.bands:
                            if b.contains(raw):
                                abnormal += b.classification == "abnormal"
                                borderline += b.classification == "borderline"
            level = (
                3 if critical else 2 if abnormal >= 2 else 1 if abnormal or borderline >= 2 else 0
            )
            levels[level] = levels.get(level, 0) + 1
            n += 1
            if n >= limit:
                break
    return {"seconds": time.perf_counter() - t, "rows": n}


def task_loop_library(inp: str, mapping: str, limit: int) -> dict:
    """The per-row loop a library user might write: ``psyscreen.screen`` on one row at a time."""
    sys.path.insert(0, str(ROOT))
    import pandas as pd

    import psyscreen
    from psyscreen.batch import load_mapping

    spec, _ = load_mapping(mapping)
    prof = psyscreen.load_profile("default")
    items = {
        spec.header(i): i
        for inst in prof.instruments
        for i in psyscreen.load_instrument(inst).item_ids
    }
    roles = {h: r for r, h in spec.role_headers().items()}
    demo = {r: r for r in ("sex", "birth_date", "assessment_date", "grade") if r in roles.values()}
    t = time.perf_counter()
    n = 0
    with open(inp, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            rec = {}
            for h, v in row.items():
                if h in items:
                    i = items[h]
                    inst = (
                        i.rsplit("_", 1)[0]
                        if i.split("_")[0] in ("phq9", "gad7", "asq")
                        else "sdq_s"
                    )
                    rec[i] = spec.answer_table(i, inst).get(v.strip(), v.strip())
                elif h in roles:
                    rec[roles[h]] = v
            psyscreen.screen(pd.DataFrame([rec]), prof, demographics=demo)
            n += 1
            if n >= limit:
                break
    return {"seconds": time.perf_counter() - t, "rows": n}


def _child(task: str, *args: object, sample: bool = False) -> dict:
    """Run a task in a fresh interpreter (``batch.py _task NAME ARGS``); add its peak RSS.

    ``sample``: also the peak memory of its whole process tree (``tree_rss_mb``,
    ``tree_pss_mb``), sampled from here every 0.1 s.
    """
    proc = subprocess.Popen(
        [sys.executable, __file__, "_task", task, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    if sample:
        with _MemorySampler(proc.pid) as mem:
            stdout, stderr = proc.communicate()
    else:
        stdout, stderr = proc.communicate()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, stdout, stderr)
    result = json.loads(stdout.strip().splitlines()[-1])
    if sample:
        result.update(tree_rss_mb=mem.rss, tree_pss_mb=mem.pss)
    return result


def _run_task(name: str, args: list[str]) -> None:
    fn = globals()["task_" + name]
    r = fn(*[int(x) if x.isdigit() else x for x in args])
    r["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(r))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GB RAM, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_task":
        _run_task(argv[1], argv[2:])
        return
    p = argparse.ArgumentParser(description="psyscreen batch benchmark")
    p.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--loop-rows", type=int, default=5_000)
    p.add_argument("--core-rows", type=int, default=100_000, help="rows for the core-only run")
    p.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="one psyscreen run per value (each compared with the floor)",
    )
    p.add_argument("--dir", default=None, help="work directory (default: a temporary one)")
    p.add_argument(
        "--paired",
        type=int,
        default=0,
        metavar="PAIRS",
        help="instead: time `psyscreen score` (whole process, default options) and the fair "
        "floor of benchmarks/fairfloor.py alternately, PAIRS pairs per size, with peak RSS",
    )
    a = p.parse_args(argv)
    print(f"machine: {machine()}")
    work = Path(a.dir or tempfile.mkdtemp(prefix="psyscreen-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    for rows in a.rows:
        inp, mapping = work / f"export_{rows}.csv", work / f"mapping_{rows}.yaml"
        if not inp.exists():
            t = time.perf_counter()
            generate(rows, inp, mapping)
            print(
                f"generated {rows:,} rows ({inp.stat().st_size / 2**20:.0f} MiB) "
                f"in {time.perf_counter() - t:.0f} s"
            )
        if a.paired:
            sys.path.insert(0, str(Path(__file__).parent))
            from fairfloor import paired

            print(f"\n== {rows:,} rows, paired with the fair floor")
            paired(inp, mapping, a.paired, work / f"paired_{rows}")
            continue
        runs = {
            # one process: its own peak RSS is the whole; sampling from outside costs CPU
            w: _child("psyscreen", inp, mapping, work / f"results_{rows}_w{w}.csv", w, sample=w > 1)
            for w in a.workers
        }
        # hashed in a child: reading the files here would raise the children's peak memory
        # (Linux carries the parent's maximum resident size over to a forked child)
        same = {_child("sha256", work / f"results_{rows}_w{w}.csv")["sha256"] for w in a.workers}
        out_bytes = (work / f"results_{rows}_w{a.workers[-1]}.csv").stat().st_size
        floor = _child("floor", inp, work / f"floor_{rows}.csv", out_bytes)
        loop = _child("loop", inp, mapping, min(a.loop_rows, rows))
        lib = _child("loop_library", inp, mapping, min(a.loop_rows // 25, rows))
        core = _child("core", inp, mapping, min(a.core_rows, rows))
        loop_rate = loop["rows"] / loop["seconds"]
        floor_rate = floor["rows"] / floor["seconds"]
        print(
            f"\n== {rows:,} rows; input {inp.stat().st_size / 2**20:.0f} MiB, "
            f"results {out_bytes / 2**20:.0f} MiB"
        )
        for w, r in runs.items():
            tree = (
                f"; all processes: RSS {r['tree_rss_mb']:.0f} MB, PSS {r['tree_pss_mb']:.0f} MB "
                "(sampled every 0.1 s)"
                if "tree_rss_mb" in r
                else " (one process: the whole run)"
            )
            print(
                f"psyscreen w={w}  {r['seconds']:8.1f} s  "
                f"{r['rows'] / r['seconds']:10,.0f} rows/s  "
                f"peak {r['peak_mb']:6.0f} MB main{tree}"
            )
        print(f"results byte-identical across worker counts: {len(same) == 1}")
        core_rate = core["rows"] / core["seconds"]
        print(
            f"core only      {rows / core_rate:8.1f} s  {core_rate:10,.0f} rows/s  "
            f"(psyscreen.screen on {core['rows']:,} in-memory rows: scoring, norms, risk; "
            f"no I/O, no checks)"
        )
        print(
            f"floor (pyarrow){floor['seconds']:8.1f} s  {floor_rate:10,.0f} rows/s  "
            f"peak {floor['peak_mb']:6.0f} MB  (wrote {floor['out_bytes'] / 2**20:.0f} MiB)"
        )
        print(
            f"per-row loop   {rows / loop_rate:8.1f} s  {loop_rate:10,.0f} rows/s  "
            f"peak {loop['peak_mb']:6.0f} MB  (measured on {loop['rows']:,} rows, extrapolated)"
        )
        lib_rate = lib["rows"] / lib["seconds"]
        print(
            f"per-row screen {rows / lib_rate:8.0f} s  {lib_rate:10,.1f} rows/s  "
            f"peak {lib['peak_mb']:6.0f} MB  (psyscreen.screen on one row at a time, "
            f"measured on {lib['rows']:,} rows, extrapolated)"
        )
        for w, r in runs.items():
            rate = r["rows"] / r["seconds"]
            print(
                f"psyscreen (w={w}) / floor time: {r['seconds'] / floor['seconds']:.2f}x "
                f"(target <= 2x); speed-up over the plain loop: {rate / loop_rate:.1f}x, over "
                f"the per-row screen loop: {rate / lib_rate:.0f}x (target >= 100x)"
            )
        print(
            f"core only over the plain loop: {core_rate / loop_rate:.1f}x, over the per-row "
            f"screen loop: {core_rate / lib_rate:.0f}x"
        )


if __name__ == "__main__":
    main()
