"""Answer texts as people type them map to the instrument's own codes (label fallback)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from psyscreen.batch.mapping import MappingSpec, label_codes, map_answers
from psyscreen.registry import load_instrument

PHQ = load_instrument("phq9")
SCALE = PHQ.response_scales["freq4"]


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@settings(max_examples=60, deadline=None)
@given(
    code=st.integers(SCALE.min, SCALE.max),
    english=st.booleans(),
    traditional=st.booleans(),
    width=st.booleans(),
    upper=st.booleans(),
    pad=st.sampled_from(["", " ", "\u3000", "\t"]),
)
def test_a_label_however_typed_maps_to_its_code(code, english, traditional, width, upper, pad):
    from opencc import OpenCC

    label = SCALE.labels[code]
    text = label.en if english else label.zh
    if traditional and not english:
        text = OpenCC("s2t").convert(text)
    if width:
        text = _fullwidth(text)
    if upper:
        text = text.upper()
    cell = pad + text + pad
    table = MappingSpec().answer_table("phq9_1", "phq9", label_codes(PHQ, "phq9_1"))
    assert map_answers(pd.Series([cell]), table).tolist() == [str(code)]


def test_a_table_for_the_instrument_replaces_the_labels():
    spec = MappingSpec.model_validate(
        {"answers": [{"instruments": ["phq9"], "codes": {"从不": 0}}]}
    )
    table = spec.answer_table("phq9_1", "phq9", label_codes(PHQ, "phq9_1"))
    assert table == {"从不": "0"}  # 好几天 is not mapped silently by the labels
    assert map_answers(pd.Series(["好几天"]), table).tolist() == ["好几天"]
