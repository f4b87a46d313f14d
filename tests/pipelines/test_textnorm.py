"""Folding rules of pipelines.textnorm and the offset map back to the original text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.textnorm import (
    normalize,
    normalize_with_index,
    pinyin_syllable,
    to_pinyin_codes,
    to_simplified,
)

# fmt: off
FOLDS = (
    # (input, drop_symbols, fold_repeats, expected folded text)
    ("ＡＢＣ１２３", False, False, "abc123"),                 # full-width letters and digits
    ("PPAP和ERP", False, False, "ppap和erp"),                 # case
    ("預算凍結了", False, False, "预算冻结了"),                # Traditional → Simplified
    ("乾淨的頭髮", False, False, "干净的头发"),                # OpenCC phrase level (乾淨 → 干净)
    ("太*贵", True, False, "太贵"),                           # inserted symbol
    ("太~~贵了😂", True, False, "太贵了"),                     # symbols and emoji
    ("价格，太贵。", True, False, "价格，太贵。"),               # clause punctuation is kept
    ("款的事 再缓缓", True, False, "款的事 再缓缓"),             # a pause between hanzi stays a break
    ("V M I 模式", True, False, "vmi模式"),                   # spaces next to Latin letters go
    ("太太太贵", True, True, "太贵"),                          # a run of three collapses
    ("再缓缓", True, True, "再缓缓"),                          # reduplication is kept
    ("1000元", True, True, "1000元"),                         # digits never collapse
    ("！！！", True, True, "！"),
)
# fmt: on


@pytest.mark.parametrize(("text", "drop", "repeats", "expected"), FOLDS, ids=[f[0] for f in FOLDS])
def test_textnorm_folds(text: str, drop: bool, repeats: bool, expected: str) -> None:
    assert normalize(text, drop_symbols=drop, fold_repeats=repeats).text == expected


def test_textnorm_offsets_map_back_exactly() -> None:
    n = normalize("價格太*太太貴了😂，ＯＫ", drop_symbols=True, fold_repeats=True)
    assert n.text == "价格太贵了，ok"
    i = n.text.index("太贵")
    a, b = n.to_original(i, i + 2)
    assert n.original[a:b] == "太*太太貴"
    assert n.offsets[-1] == len(n.original)
    assert len(n.offsets) == len(n.text) + 1


def test_textnorm_to_original_empty_and_invalid_spans() -> None:
    n = normalize("预算冻结")
    assert n.to_original(2, 2) == (2, 2)
    with pytest.raises(ValueError):
        n.to_original(3, 9)


def test_textnorm_plain_text_is_identity() -> None:
    text, index = normalize_with_index("价格太贵了，预算冻结。", drop_symbols=True, fold_repeats=True)
    assert text == "价格太贵了，预算冻结。"
    assert index.tolist() == list(range(len(text)))


def test_textnorm_empty() -> None:
    n = normalize("", drop_symbols=True, fold_repeats=True)
    assert n.text == "" and n.offsets == (0,)


def test_textnorm_to_simplified() -> None:
    assert to_simplified("預算凍結，乾淨") == "预算冻结，干净"
    assert to_simplified("") == ""


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("价格太贵預算凍結 ，。!*😂Ａa1太太")), max_size=40),
       st.booleans(), st.booleans())
def test_textnorm_offsets_are_monotonic_and_cover_each_char(text: str, drop: bool, repeats: bool) -> None:
    n = normalize(text, drop_symbols=drop, fold_repeats=repeats)
    assert len(n.offsets) == len(n.text) + 1
    assert n.offsets[-1] == len(text)
    assert all(a < b for a, b in zip(n.offsets[:-1], n.offsets[1:], strict=True))
    # Every folded character comes from the original character at its offset.
    for i, ch in enumerate(n.text):
        src = text[n.offsets[i]]
        assert ch == src or ch == normalize(src).text or ch == " "
    if not drop and not repeats:
        assert len(n.text) == len(text)


# ----------------------------------------------------------------------------- pinyin


@pytest.mark.parametrize(("reading", "folded"), [
    ("zhang", "zan"), ("chi", "ci"), ("shang", "san"), ("ying", "yin"), ("feng", "fen"),
    ("jiang", "jian"), ("huang", "huan"), ("lü", "lv"), ("ma", "ma"),
])
def test_textnorm_pinyin_syllable_folds_nasals_and_retroflexes(reading: str, folded: str) -> None:
    assert pinyin_syllable(reading) == folded


@pytest.mark.parametrize(("heard", "meant"), [
    ("招镖", "招标"), ("遇算", "预算"), ("成对会票", "承兑汇票"), ("定经", "定金"), ("不需了", "不续了"),
])
def test_textnorm_homophones_share_codes(heard: str, meant: str) -> None:
    assert to_pinyin_codes(heard) == to_pinyin_codes(meant)


def test_textnorm_pinyin_codes_keep_length_numerals_and_latin() -> None:
    codes = to_pinyin_codes("三家ERP报价")
    assert len(codes) == len("三家ERP报价")
    assert codes[0] == "三" and codes[2:5] == "ERP"
    assert to_pinyin_codes("三家") != to_pinyin_codes("上家")  # numerals are not heard
    assert to_pinyin_codes("") == ""
