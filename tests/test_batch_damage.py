"""Damaged exports: every record one row at its own position, with its line; no abort,
no hang, no child graded from a damaged line; messages that say what the file is."""

from __future__ import annotations

import codecs
import os
import random
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import psyscreen
from psyscreen.batch import InputFileError, run
from psyscreen.batch.csvread import careful_records
from psyscreen.batch.csvscan import RecordScan, quotes_conform
from psyscreen.cli import main

BATTERY = psyscreen.load_profile("default").instruments


@pytest.fixture(scope="module")
def base(tmp_path_factory, example):
    """(DataFrame, mapping path) of a clean synthetic export with an unread notes column."""
    d = tmp_path_factory.mktemp("damage")
    df = example.make_export(40, BATTERY, seed=11, slips=False)
    df["备注"] = "无"  # a column the mapping does not read
    mapping = d / "mapping.yaml"
    mapping.write_text(example.mapping_yaml(BATTERY), encoding="utf-8")
    return df, mapping


def _lines(df: pd.DataFrame) -> list[bytes]:
    """The export as UTF-8 lines (header first), each ending in LF."""
    text = df.to_csv(index=False, lineterminator="\n")
    return [ln.encode("utf-8") + b"\n" for ln in text.split("\n")[:-1]]


def _run(tmp: Path, data: bytes, mapping: Path, name: str = "e.csv", **kw):
    src = tmp / name
    src.write_bytes(data)
    res = run(src, tmp / "out" / "r.csv", mapping=mapping, report=False, progress=False, **kw)
    out = pacsv.read_csv(res.results).to_pandas()
    probs = pacsv.read_csv(res.problems).to_pandas()
    return res, out, probs


def _check_in_place(out: pd.DataFrame, n: int) -> None:
    assert out["row"].tolist() == list(range(n))
    assert out["line"].is_monotonic_increasing


def _blank(v) -> bool:
    return pd.isna(v) or v == ""


def _unreadable(out: pd.DataFrame) -> dict[int, str]:
    bad = out[out["row.status"] == "unreadable"]
    return dict(zip(bad["line"].astype(int), bad["row.problems"]))


# --- records in place ------------------------------------------------------------


def test_an_unclosed_quote_is_one_unreadable_row_at_its_line(base, tmp_path):
    df, mapping = base
    lines = _lines(df.iloc[:21])
    lines[6] = lines[6].replace(b",", b',"', 1)  # data line 7: a quote opens, never closes
    res, out, probs = _run(tmp_path, b"".join(lines), mapping)
    assert res.manifest["rows"]["in"] == res.manifest["rows"]["out"] == 21
    _check_in_place(out, 21)
    assert _unreadable(out) == {7: "line:unclosed_quote"}
    assert out["line"].tolist() == list(range(2, 23))
    row = out.loc[out["line"] == 7].iloc[0]
    assert _blank(row["id"]) and _blank(row["risk.level_code"])
    assert row["risk.status"] == "unreadable"
    p = probs[probs["field"] == "line"]
    assert p[["row", "line", "problem"]].values.tolist() == [[5, 7, "unclosed_quote"]]
    # the rows after it are read and graded as before
    assert (out.loc[out["line"] != 7, "row.status"] != "unreadable").all()


def test_an_unclosed_quote_in_20000_rows_neither_hangs_nor_swallows(example, base, tmp_path):
    df = example.make_export(20_000, BATTERY, seed=3, slips=False)
    lines = _lines(df)
    lines[3] = lines[3].replace(b",", b',"', 1)
    res, out, _ = _run(tmp_path, b"".join(lines), base[1])
    assert len(out) == res.manifest["rows"]["in"] == 20_000
    assert _unreadable(out) == {4: "line:unclosed_quote"}
    assert out["line"].iloc[-1] == 20_001


def test_wrong_field_counts_and_a_truncated_last_line_keep_their_places(base, tmp_path):
    df, mapping = base
    lines = _lines(df.iloc[:12])
    lines[3] = lines[3].rstrip(b"\n") + b",extra\n"  # line 4: one field too many
    lines[8] = lines[8].rsplit(b",", 3)[0] + b"\n"  # line 9: three too few
    lines[-1] = lines[-1][: lines[-1].rindex(b",", 0, len(lines[-1]) // 2)]  # line 13: cut
    res, out, probs = _run(tmp_path, b"".join(lines), mapping)
    _check_in_place(out, 12)
    assert _unreadable(out) == {
        4: "line:wrong_number_of_fields",
        9: "line:wrong_number_of_fields",
        13: "line:truncated_last_line",
    }
    assert out["line"].tolist() == list(range(2, 14))
    # results and problems agree on rows and lines
    damaged = out.loc[out["row.status"] == "unreadable", ["row", "line"]].values.tolist()
    assert probs.loc[probs["field"] == "line", ["row", "line"]].values.tolist() == damaged
    assert res.manifest["rows"]["unreadable"] == 3
    assert res.manifest["rows"]["unreadable_by_kind"] == {
        "truncated_last_line": 1,
        "wrong_number_of_fields": 2,
    }
    assert res.exit_code == 1


def test_quoted_newlines_and_blank_lines_keep_line_numbers_true(base, tmp_path):
    df, mapping = base
    df = df.iloc[:6].copy()
    df.loc[1, "备注"] = "第一行\n第二行"  # a properly quoted newline: one record, two lines
    lines = _lines(df)  # (the quoted newline splits the second record in two "lines")
    lines.insert(4, b"\n")  # a blank line 5 (not a record)
    _, out, _ = _run(tmp_path, b"".join(lines), mapping)
    _check_in_place(out, 6)
    assert out["line"].tolist() == [2, 3, 6, 7, 8, 9]
    assert (out["row.status"] != "unreadable").all()


def test_large_cells_never_abort(base, tmp_path):
    df, mapping = base
    df = df.iloc[:5].copy()
    df.loc[1, "备注"] = "长" * (9 << 20 // 3)  # ~9 MB in a column the run does not read
    df.loc[3, "班级"] = "x" * (2 << 20)  # over the cell limit in a column it keeps
    _, out, _ = _run(tmp_path, b"".join(_lines(df)), mapping)
    _check_in_place(out, 5)
    assert _unreadable(out) == {5: "line:cell_too_large"}
    assert out.loc[1, "row.status"] != "unreadable"


def test_a_stray_quote_inside_a_field_is_unreadable_not_misread(base, tmp_path):
    df, mapping = base
    lines = _lines(df.iloc[:5])
    lines[2] = lines[2].replace("合成".encode(), '合"成'.encode(), 1)
    _, out, _ = _run(tmp_path, b"".join(lines), mapping)
    _check_in_place(out, 5)
    assert _unreadable(out) == {3: "line:stray_quote"}


@pytest.mark.parametrize("where", ["everywhere", "data only", "one line"])
def test_lone_cr_line_endings_are_refused_never_mis_split(base, tmp_path, where):
    df, mapping = base
    lines = _lines(df.iloc[:6])
    cr = [ln[:-1] + b"\r" for ln in lines]
    data = {
        "everywhere": b"".join(cr),  # an old Mac export
        "data only": lines[0] + b"".join(cr[1:]),
        "one line": b"".join(lines[:3]) + cr[3] + b"".join(lines[4:]),
    }[where]
    with pytest.raises(InputFileError, match=r"carriage return alone .*CRLF"):
        _run(tmp_path, data, mapping)


def test_crlf_and_a_last_line_ending_in_cr_are_read(base, tmp_path):
    df, mapping = base
    lines = [ln[:-1] + b"\r\n" for ln in _lines(df.iloc[:6])]
    lines[-1] = lines[-1][:-1]  # the last line ends in CR alone: nothing follows it
    _, out, _ = _run(tmp_path, b"".join(lines), mapping)
    _check_in_place(out, 6)
    assert (out["row.status"] != "unreadable").all()


# --- encodings, delimiters, headers -------------------------------------------------


def test_a_stray_gb18030_line_in_a_utf8_file_is_one_unreadable_row(base, tmp_path):
    df, mapping = base
    lines = _lines(df.iloc[:8])
    lines[5] = lines[5].decode("utf-8").encode("gb18030")
    _, out, _ = _run(tmp_path, b"".join(lines), mapping)
    _check_in_place(out, 8)
    assert _unreadable(out) == {6: "line:undecodable"}


def test_a_stray_utf8_line_in_a_gb18030_file_gets_no_big5_advice(base, tmp_path):
    df, mapping = base
    text = df.iloc[:8].to_csv(index=False, lineterminator="\n").split("\n")[:-1]
    raw = [ln.encode("gb18030") + b"\n" for ln in text]
    raw[4] = text[4].encode("utf-8") + b"\n"
    res, out, _ = _run(tmp_path, b"".join(raw), mapping)
    assert res.manifest["input"]["encoding"] == "gb18030"
    _check_in_place(out, 8)
    # the UTF-8 line either fails to decode (unreadable) or reads as nonsense (flagged)
    assert out.loc[3, "row.status"] in ("unreadable", "problems")
    assert (out.drop(index=3)["row.status"] != "unreadable").all()


def test_a_download_cut_inside_a_character(base, tmp_path):
    df, mapping = base
    data = b"".join(_lines(df.iloc[:6].drop(columns="备注")))
    res, out, _ = _run(tmp_path, data[:-3], mapping)  # the last answer loses two bytes
    assert res.manifest["input"]["encoding"] == "utf-8"
    _check_in_place(out, 6)
    assert list(_unreadable(out)) == [7]


def test_excel_unicode_text_is_utf16_tab_separated(base, tmp_path):
    df, mapping = base
    data = codecs.BOM_UTF16_LE + df.iloc[:7].to_csv(index=False, sep="\t").encode("utf-16-le")
    _, out, _ = _run(tmp_path, data, mapping, name="e.txt")
    assert len(out) == 7 and (out["row.status"] != "unreadable").all()
    assert out["line"].tolist() == list(range(2, 9))


@pytest.mark.parametrize("sep", [";", "\t"])
def test_the_delimiter_is_sniffed_from_the_header(base, tmp_path, sep):
    df, mapping = base
    data = df.iloc[:5].to_csv(index=False, sep=sep).encode("utf-8")
    _, out, _ = _run(tmp_path, data, mapping)
    assert len(out) == 5 and (out["row.status"] != "unreadable").all()


def test_the_delimiter_option_overrides_sniffing(base, tmp_path):
    df, mapping = base
    data = df.iloc[:5].to_csv(index=False, sep=";").encode("utf-8")
    with pytest.raises(Exception, match=r"not found|does not match"):
        _run(tmp_path, data, mapping, delimiter=",")
    _, out, _ = _run(tmp_path, data, mapping, delimiter=";")
    assert len(out) == 5


def test_a_mapped_header_with_a_trailing_space_is_found(base, tmp_path):
    df, mapping = base
    _, plain, _ = _run(tmp_path, b"".join(_lines(df.iloc[:4])), mapping)
    df = df.iloc[:4].rename(columns={"性别": "性别 ", "PHQ9_1 兴趣减退": " PHQ9_1 兴趣减退"})
    _, out, _ = _run(tmp_path, b"".join(_lines(df)), mapping)
    pd.testing.assert_frame_equal(out, plain)


def test_a_header_over_64_kib_is_not_called_empty(base, tmp_path):
    df, mapping = base
    df = df.iloc[:3].copy()
    df["x" * 70_000] = "1"
    _, out, _ = _run(tmp_path, b"".join(_lines(df)), mapping)
    assert len(out) == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x00" * 5000, "NUL"),
        (b"\n\r\n\n", "no header line"),
    ],
)
def test_file_messages_say_what_the_file_is(base, tmp_path, data, message):
    with pytest.raises(InputFileError, match=message) as e:
        _run(tmp_path, data, base[1])
    if data:
        assert "empty" not in str(e.value)


def test_a_directory_is_called_a_directory(base, tmp_path, capsys):
    code = main(["score", str(tmp_path), "--map", str(base[1]), "-o", str(tmp_path / "r.csv")])
    assert code == 2
    assert "is a directory" in capsys.readouterr().err


# --- the scan and the careful reader agree ---------------------------------------------


def test_the_scan_finds_records_and_the_first_damage(tmp_path):
    p = tmp_path / "s.csv"
    p.write_bytes(b'h\n"a\nb"\r\n\r\nc\n"d""e"\nf"g\n')
    s = RecordScan(p, 2, 2, ",")
    s.ensure(100)
    assert s.damage == 3  # the quote inside f"g
    assert s.take(4).tolist() == [2, 5, 6, 7]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab,"\n')), max_size=40))
def test_the_careful_reader_accounts_for_every_line(text):
    lines = [(i + 2, ln, "") for i, ln in enumerate(text.splitlines(keepends=True))]
    recs = list(careful_records(iter(lines), ",", 2, [0, 1]))
    starts = [r[0] for r in recs]
    assert starts == sorted(set(starts))  # one row per record, in order
    non_blank = {n for n, ln, _ in lines if ln.strip("\r\n")}
    assert set(starts) <= non_blank
    import csv

    for _start, text, reason in recs:
        assert (text is None) == bool(reason)
        if text is not None:  # a record that was read: two cells, no line break in them
            (fields,) = list(csv.reader([text.rstrip("\n")] if "\n" not in text.rstrip("\n")
                                        else text.splitlines(keepends=True)))  # fmt: skip
            assert len(fields) == 2
            assert not any("\n" in f for f in fields)
    assert quotes_conform('"a",b', ",")


# --- random damage ---------------------------------------------------------------------

_OPS = ("cut", "extra", "missing", "quote", "bytes")
#: raised for a long local soak: ``PSYSCREEN_DAMAGE_EXAMPLES=500 pytest -k random_damage``
DAMAGE_EXAMPLES = int(os.environ.get("PSYSCREEN_DAMAGE_EXAMPLES", "15"))


@settings(
    max_examples=DAMAGE_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    damage=st.dictionaries(
        st.integers(0, 14), st.tuples(st.sampled_from(_OPS), st.randoms()), max_size=4
    ),
    truncate_end=st.booleans(),
)
# the flake of a fresh clone: an extra field on the last line, then the truncation cut exactly
# that field off again, which gave back the line as written (read, rightly); the truncation
# now always leaves fewer fields than the header
@example(damage={14: ("extra", random.Random(0))}, truncate_end=True)
# random bytes that start with a delimiter, then the truncation: it cut the line to nothing
@example(damage={14: ("bytes", random.Random(7))}, truncate_end=True)
def test_random_damage_is_accounted_for_line_by_line(base, tmp_path, damage, truncate_end):
    df, mapping = base
    lines = _lines(df.iloc[:15])
    header, data = lines[0], lines[1:]
    n_fields = header.count(b",") + 1
    hurt = set()
    for i, (op, rnd) in damage.items():
        ln = data[i]
        commas = [k for k, b in enumerate(ln) if b == ord(",")]
        if op == "cut":  # cut before a delimiter: at least one field lost, line end kept
            ln = ln[: rnd.choice(commas)] + b"\n"
        elif op == "extra":
            ln = ln[:-1] + b",x\n"
        elif op == "missing":
            ln = ln[: commas[-1]] + b"\n"
        elif op == "quote":  # a quote where no field can have one, or opening one
            k = rnd.choice(commas)
            ln = ln[: k + 1] + b'"' + ln[k + 1 :] if rnd.random() < 0.5 else ln[:k] + b'"' + ln[k:]
        else:
            ln = bytes(rnd.choice(b"ab,;\xff\xfe\x80\xe4") for _ in range(rnd.randint(1, 60)))
            ln += b"\n"
        data[i] = ln
        hurt.add(i)
    if truncate_end:
        last = data[-1].rstrip(b"\n")
        commas = [k for k, b in enumerate(last) if b == ord(",")]
        # keep at most n_fields - 1 fields (cutting only the last field could undo "extra")
        cut = last[: commas[min(len(commas), n_fields - 1) - 1]] if commas else last[:1]
        # a cut at a leading delimiter would leave no line at all, not a damaged one
        data[-1] = cut or last[:1]
        hurt.add(len(data) - 1)
    raw = header + b"".join(data)
    src = tmp_path / "damaged.csv"
    src.write_bytes(raw)
    out_dir = tmp_path / "out"
    res = run(src, out_dir / "r.csv", mapping=mapping, report=False, progress=False)
    assert src.read_bytes() == raw  # input untouched
    out = pacsv.read_csv(res.results).to_pandas()
    assert res.manifest["rows"]["in"] == res.manifest["rows"]["out"] == len(out) == len(data)
    assert out["row"].tolist() == list(range(len(data)))
    assert out["line"].tolist() == list(range(2, len(data) + 2))
    bad = out["row.status"] == "unreadable"
    assert set(out.index[bad]) == hurt
    assert out.loc[bad, "risk.level_code"].map(_blank).all()
    assert (out.loc[bad, "risk.status"] == "unreadable").all()
    assert out.loc[bad, "id"].map(_blank).all()


_CELL = st.text(alphabet=st.sampled_from(list('ab,"\n 学')), max_size=6)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=12),
    block=st.integers(1, 64),
    crlf=st.booleans(),
)
def test_the_scan_splits_valid_csv_like_the_csv_module(tmp_path, rows, block, crlf):
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n" if crlf else "\n").writerows([["h1", "h2", "h3"], *rows])
    raw = buf.getvalue().encode("utf-8")
    p = tmp_path / "v.csv"
    p.write_bytes(raw)
    start = raw.index(b"\n") + 1
    s = RecordScan(p, start, 2, ",", block=block)
    s.ensure(10**6)
    text = raw[start:].decode("utf-8").splitlines(keepends=True)
    numbered = iter([(i + 2, t, "") for i, t in enumerate(text)])
    expect = [r[0] for r in careful_records(numbered, ",", 3, [])]
    assert s.damage is None
    assert s.take(s.known).tolist() == expect


def test_damaged_lines_in_small_chunks_keep_their_rows(base, tmp_path):
    df, mapping = base
    lines = _lines(df)
    lines[3] = lines[3].replace(b",", b',"', 1)
    lines[20] = lines[20].rstrip(b"\n") + b",extra\n"
    src = tmp_path / "d.csv"
    src.write_bytes(b"".join(lines))
    one = run(src, tmp_path / "1" / "r.csv", mapping=mapping, report=False, chunk_rows=8)
    out = pacsv.read_csv(one.results).to_pandas()
    assert _unreadable(out) == {4: "line:unclosed_quote", 21: "line:wrong_number_of_fields"}


def test_well_quoted_cells_stay_on_the_fast_path(base, tmp_path, monkeypatch):
    import psyscreen.batch.csvread as cr

    df, mapping = base
    df = df.iloc[:30].copy()
    df["备注"] = ['他说"好", 然后\n走了'] * 30  # commas, doubled quotes, a line break: all quoted
    calls = []
    original = cr._careful_tables
    monkeypatch.setattr(cr, "_careful_tables", lambda *a: calls.append(1) or original(*a))
    _, out, _ = _run(tmp_path, b"".join(_lines(df)), mapping)
    assert (out["row.status"] != "unreadable").all()
    assert out["line"].tolist() == list(range(2, 62, 2))
    assert calls == []
