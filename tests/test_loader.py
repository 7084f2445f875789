"""The one definition loader: a Library that owns its cache, one error translation."""

from __future__ import annotations

import pickle

import pytest
import yaml

import psyscreen
from psyscreen.batch.mapping import MAPPING, load_mapping
from psyscreen.errors import DefinitionError, UnknownIdError
from psyscreen.loader import DEFAULT_LIBRARY, Library, data_dir
from psyscreen.norms.loading import NORM_TABLE
from psyscreen.registry import INSTRUMENT
from psyscreen.risk.profile import PROFILE

from .conftest import TOY_YAML


def test_a_library_keeps_what_it_loaded_until_cleared():
    lib = Library()
    first = lib.load(INSTRUMENT, "phq9")
    assert lib.load(INSTRUMENT, "phq9") is first
    assert Library().load(INSTRUMENT, "phq9") is not first  # no cache shared between libraries
    lib.clear()
    assert lib.load(INSTRUMENT, "phq9") is not first


def test_an_edited_file_is_read_again(tmp_path):
    p = tmp_path / "toy.yaml"
    p.write_text(TOY_YAML, encoding="utf-8")
    lib = Library()
    assert lib.load(INSTRUMENT, p).version == "1"
    data = yaml.safe_load(TOY_YAML)
    data["version"] = "2"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    import os

    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a coarse clock could hide it
    assert lib.load(INSTRUMENT, p).version == "2"


def test_the_cache_is_bounded():
    lib = Library(cache_size=2)
    for i in ("phq9", "gad7", "asq"):
        lib.load(INSTRUMENT, i)
    assert len(lib._files) == 2


def test_the_public_loaders_go_through_the_default_library():
    DEFAULT_LIBRARY.clear()
    inst = psyscreen.load_instrument("gad7")
    assert DEFAULT_LIBRARY.load(INSTRUMENT, "gad7") is inst
    assert DEFAULT_LIBRARY.load(PROFILE, "default") is psyscreen.load_profile("default")
    table = psyscreen.norms.read_table("sdq_p_cn_du2008")
    assert DEFAULT_LIBRARY.load(NORM_TABLE, "sdq_p_cn_du2008") is table


@pytest.mark.parametrize(
    ("load", "asked", "close"),
    [
        (psyscreen.load_instrument, "phq8", "phq9"),
        (psyscreen.load_norms, "sdq_p_cn_du2009", "sdq_p_cn_du2008"),
        (psyscreen.load_profile, "defualt", "default"),
    ],
)
def test_unknown_ids_say_did_you_mean(load, asked, close):
    with pytest.raises(UnknownIdError) as e:
        load(asked)
    assert isinstance(e.value, KeyError) and e.value.id == asked
    hint = str(e.value).split("did you mean ", 1)[1].split("?)", 1)[0]
    assert repr(close) in hint
    back = pickle.loads(pickle.dumps(e.value))
    assert (str(back), back.kind, back.id) == (str(e.value), e.value.kind, asked)


def test_no_did_you_mean_when_nothing_is_close():
    with pytest.raises(UnknownIdError) as e:
        psyscreen.load_instrument("zzzzzzzz")
    assert "did you mean" not in str(e.value) and "phq9" in str(e.value)


def test_a_norm_table_reports_every_row_problem_with_its_path(tmp_path):
    src = data_dir("norms") / "scared_c_cn_12city2008.yaml"
    data = yaml.safe_load(src.read_text("utf-8"))
    data["rows"][0]["sd"] = 0
    data["rows"][2]["sd"] = -1
    p = tmp_path / "t.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError) as e:
        psyscreen.norms.read_table(p)
    paths = [q for q, _ in e.value.problems]
    assert "rows[0].sd" in paths and "rows[2].sd" in paths, paths


def test_a_mapping_file_is_read_through_the_same_loader(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text("instruments: [phq9]\nnot_a_field: 1\nalso_not: 2\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as e:
        load_mapping(p)
    assert e.value.file == str(p)
    assert MAPPING.cached is False  # an edited mapping is always read again


def test_threads_loading_at_once_share_one_object():
    from concurrent.futures import ThreadPoolExecutor

    lib = Library(cache_size=3)
    ids = ["phq9", "gad7", "asq", "phqa"] * 8
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda i: lib.load(INSTRUMENT, i), ids))
    assert [g.id for g in got] == ids
    assert len(lib._files) == 3
