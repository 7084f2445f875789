"""Units of the batch pipeline: duplicate-id tracking, formula
neutralisation, answer mapping and the categorical fast path of ``responses``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from psyscreen import load_instrument
from psyscreen.batch.mapping import map_answers, parse_mapping
from psyscreen.batch.privacy import Pseudonymiser, neutralise_formulas
from psyscreen.responses import item_values


def test_formula_cells_are_neutralised_and_others_kept():
    arr = pa.array(["=SUM(A1)", "+1", "-2", "@x", "\tx", "\rx", "ok", "a=b", None])
    out = neutralise_formulas(arr).to_pylist()
    assert out[:6] == ["'=SUM(A1)", "'+1", "'-2", "'@x", "'\tx", "'\rx"]
    assert out[6:] == ["ok", "a=b", None]


def test_pseudonyms_are_keyed_and_stable():
    a, b = Pseudonymiser(b"k" * 16), Pseudonymiser(b"j" * 16)
    assert a.pseudonym("S1") == a.pseudonym("S1") != b.pseudonym("S1")
    assert "k" * 16 not in repr(a)
    assert a.array(pa.array(["S1", "", None])).to_pylist()[1:] == [None, None]


def test_answer_tables_item_beats_instrument_and_null_is_missing():
    spec = parse_mapping(
        {
            "missing_answers": ["未答"],
            "answers": [
                {"instruments": ["gad7"], "codes": {"从不": 0, "经常": 3, "不适用": None}},
                {"items": ["gad7_1"], "codes": {"经常": 2}},
            ],
        }
    )
    t1, t2 = spec.answer_table("gad7_1", "gad7"), spec.answer_table("gad7_2", "gad7")
    assert t1["经常"] == "2" and t2["经常"] == "3"
    assert t1["未答"] == "" and t1["不适用"] == ""
    col = map_answers(pd.Series([" 从不", "经常", "未答", "乱写", None]), t2)
    assert col.tolist()[:4] == ["0", "3", "", "乱写"] and pd.isna(col.iloc[4])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["0", "1", "3", " 2 ", "7", "x", "", "2.5", None]), max_size=30))
def test_categorical_answers_score_like_text_answers(cells):
    inst = load_instrument("gad7")
    obj = pd.DataFrame({f"gad7_{i}": pd.Series(cells, dtype=object) for i in range(1, 8)})
    cat = obj.astype("category")
    a = item_values(obj, inst)
    b = item_values(cat, inst)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.problem, b.problem)


@settings(max_examples=200, deadline=None)
@given(
    cells=st.lists(st.one_of(st.none(), st.text(max_size=6)), max_size=30),
    cut=st.integers(0, 5),
    large=st.booleans(),
)
def test_formula_test_on_bytes_matches_the_first_character_rule(cells, cut, large):
    """The buffer-level test equals "first character in = + - @ TAB CR", also on
    sliced, chunked and large-string arrays (slices have an offset into the buffers)."""
    arr = pa.array(cells, type=pa.large_string() if large else pa.string()).slice(cut)
    want = [
        None if c is None else ("'" + c if c[:1] in ("=", "+", "-", "@", "\t", "\r") else c)
        for c in cells[cut:]
    ]
    assert neutralise_formulas(arr).to_pylist() == want
    chunked = pa.chunked_array([arr, arr], type=arr.type)
    assert neutralise_formulas(chunked).to_pylist() == want + want


@settings(max_examples=100, deadline=None)
@given(
    cells=st.lists(
        st.one_of(st.none(), st.sampled_from(["从不", " 有时", "经常 ", "0", "1.0", "?", ""])),
        max_size=30,
    ),
    unused=st.lists(st.sampled_from(["总是", "x"]), max_size=2, unique=True),
)
def test_mapping_a_categorical_equals_mapping_its_texts(cells, unused):
    """Translating a categorical's categories in one pass gives, cell by cell, what
    mapping the same texts as plain objects gives (unused categories included)."""
    table = {"从不": "0", "有时": "1", "经常": "2"}
    plain = map_answers(pd.Series(cells, dtype=object), table)
    cat = pd.Series(pd.Categorical(cells)).cat.add_categories([u for u in unused if u not in cells])
    for _ in range(2):  # and again: nothing carried over between calls
        got = map_answers(cat, table)
        assert (
            got.astype(object).where(got.notna(), None).tolist()
            == plain.astype(object).where(plain.notna(), None).tolist()
        )


def test_class_role_is_read_under_its_yaml_name_and_kept_apart_from_keep():
    spec = parse_mapping({"columns": {"id": "学号", "class": "班级"}, "required": ["class"]})
    assert spec.role_headers() == {"id": "学号", "class": "班级"}
    try:
        parse_mapping({"columns": {"class": "班级"}, "keep": ["班级"]})
    except Exception as e:  # the same header as a role and as a kept column
        assert "mapped twice" in str(e)
    else:
        raise AssertionError("a header mapped as role and keep was accepted")


_CELLS = st.one_of(
    st.none(),
    st.sampled_from(
        ["=SUM(A1)", "-2", "+x", "@a", "\tt", "ok", "", 'say "hi"', "a,b", "两行\n文本"]
    ),
    st.text(max_size=6),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(_CELLS, _CELLS), min_size=0, max_size=25))
def test_results_written_from_dictionaries_are_the_bytes_of_plain_strings(tmp_path_factory, rows):
    """The CSV sink takes categoricals as dictionary arrays: the file (neutralised
    formula cells, quoting, blanks, a header-only chunk) is the one plain strings give."""
    from psyscreen.batch.arrow import to_arrow
    from psyscreen.batch.sinks import _TableSink

    frame = pd.DataFrame(
        {
            "c": pd.Categorical([a for a, _ in rows]),
            "=d": pd.Categorical([b for _, b in rows]),
            "n": np.arange(len(rows), dtype=float),
        }
    )
    d = tmp_path_factory.mktemp("dict")
    files = []
    for dictionaries in (False, True):
        path = d / f"out_{dictionaries}.csv"
        sink = _TableSink(path, neutralise=True)
        sink.dictionaries = dictionaries  # the plain-string path is the oracle
        for part in (frame.iloc[: len(rows) // 2], frame.iloc[len(rows) // 2 :]):
            sink.write(to_arrow(part.reset_index(drop=True), dictionaries=sink.dictionaries))
        sink.close()
        files.append(path.read_bytes())
    assert files[0] == files[1]


def test_neutralising_a_dictionary_neutralises_its_texts():
    arr = pa.array(["=1", "=1", None, "ok", "-x"]).dictionary_encode()
    out = neutralise_formulas(arr)
    assert pa.types.is_dictionary(out.type)
    assert out.to_pylist() == ["'=1", "'=1", None, "ok", "'-x"]
    clean = pa.array(["a", "b"]).dictionary_encode()
    assert neutralise_formulas(clean) is clean


def test_parquet_results_keep_plain_string_columns(tmp_path):
    import pyarrow.parquet as pq

    from psyscreen.batch.arrow import to_arrow
    from psyscreen.batch.sinks import _TableSink

    sink = _TableSink(tmp_path / "r.parquet", neutralise=False)
    assert not sink.dictionaries
    sink.write(to_arrow(pd.DataFrame({"c": pd.Categorical(["x", None])}), dictionaries=True))
    sink.close()
    assert pq.read_schema(tmp_path / "r.parquet").field("c").type == pa.string()
