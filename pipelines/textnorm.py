"""Text normalisation with an offset map back to the original string.

Risk phrases, segmentation and ASR post-processing all match against a *folded* form of the
text (full-width → half-width, upper → lower case, Traditional → Simplified, symbols dropped,
repeated characters collapsed) but must report spans in the text the customer actually wrote.
``normalize`` returns the folded text together with ``offsets`` so that any span of the folded
text maps back to an exact substring of the input (issue 3).

Why numpy: a per-character Python loop manages about 5 MB/s on Chinese text, too slow for the
detector's throughput target. Every step here is a table lookup or a mask over the text's code
points as a ``uint32`` array (UTF-32), so it runs at C speed and the offset map falls out of the
same masks for free.

Folding rules (applied in this order):

* NFKC per character when it yields a single letter, digit or CJK character (full-width
  ``Ａ１`` → ``a1``, compatibility ideographs → unified), then lower case. Punctuation is not
  folded here; it is classified instead (see below).
* Traditional → Simplified with OpenCC ``t2s``. The whole string goes through OpenCC (phrase
  level, e.g. 乾淨 → 干净) when that keeps its length, otherwise each character is converted
  alone, so the offset map stays one-to-one.
* ``drop_symbols``: whitespace, symbols, emoji and non-clause punctuation are removed, except
  that a run of spaces *between two CJK characters* is kept as one ASCII space (ASR transcripts
  and chat use it as a clause break). Clause punctuation (，。！？；：、 and ASCII ,.!?;:) and
  newlines are kept, so ``太*贵`` matches 太贵 but a phrase never silently spans two clauses.
* ``fold_repeats``: a run of three or more of the same character collapses to one
  (``太太太贵`` → ``太贵``, ``！！！`` → ``！``). Doubles are kept: they are ordinary Chinese
  reduplication (看看, 缓缓). Digits are never collapsed (``1000`` stays ``1000``).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = [
    "NormalizedText",
    "normalize",
    "normalize_with_index",
    "to_simplified",
    "to_pinyin_codes",
    "pinyin_syllable",
    "CLAUSE_BREAKS",
    "is_cjk",
]

#: Characters kept by ``drop_symbols`` as clause breaks (plus ASCII space between CJK chars).
CLAUSE_BREAKS = frozenset("，。！？；：、,.!?;:\n ")

_KEEP, _DROP, _BREAK, _SPACE = 0, 1, 2, 3
_MAX_CP = 0x110000
# Blocks treated as CJK for the space rule and the pinyin table.
_CJK_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00), (0x20000, 0x2FA20))
_PUA_BASE = 0xE000


def is_cjk(ch: str) -> bool:
    """True for a CJK ideograph (Unified, Extension A–F or compatibility block)."""
    cp = ord(ch)
    return any(lo <= cp < hi for lo, hi in _CJK_RANGES)


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """Folded text plus, for every folded character, its index in the original.

    Attributes:
        original: the input, unchanged.
        text: the folded text.
        offsets: ``len(text) + 1`` entries; ``offsets[i]`` is the index in ``original`` of
            ``text[i]``; the last entry is ``len(original)``.
    """

    original: str
    text: str
    offsets: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the span ``text[start:end]`` to a span of ``original``.

        The result covers every original character that folded into the span (a collapsed
        repeat or a dropped symbol *inside* the span is included; ones at its edges are not),
        so ``original[a:b]`` is the exact text the span came from.
        """
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span {start}:{end} outside 0:{len(self.text)}")
        if start == end:
            pos = self.offsets[start]
            return pos, pos
        return self.offsets[start], self.offsets[end - 1] + 1


# ----------------------------------------------------------------------------- tables

_opencc_lock = threading.Lock()


@lru_cache(maxsize=1)
def _opencc() -> Any:  # opencc has no type stubs
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → Simplified with OpenCC ``t2s`` (phrase level; may change the length)."""
    if not text:
        return text
    converter = _opencc()
    with _opencc_lock:  # the converter is not documented as thread-safe
        return str(converter.convert(text))


@dataclass(frozen=True, slots=True)
class _Tables:
    plain: re.Pattern[str]  # matches any character that folding would change or drop
    nfkc: np.ndarray  # uint32[0x110000]: NFKC + lower case (letters/digits/CJK only)
    t2s: np.ndarray  # uint32[0x110000]: char-level Traditional → Simplified
    has_t2s: np.ndarray  # bool[0x110000]
    klass: np.ndarray  # uint8[0x110000]: _KEEP / _DROP / _BREAK / _SPACE
    cjk: np.ndarray  # bool[0x110000]
    digit: np.ndarray  # bool[0x110000]: ASCII digits (never collapsed)


def _classify(ch: str) -> int:
    if ch == " " or ch == "\t" or unicodedata.category(ch) == "Zs":
        return _SPACE
    if ch in CLAUSE_BREAKS:
        return _BREAK
    if unicodedata.category(ch)[0] in "LN":
        return _KEEP
    return _DROP


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    """Build the folding tables once per process (about 0.1 s)."""
    nfkc = np.arange(_MAX_CP, dtype=np.uint32)
    klass = np.full(_MAX_CP, _DROP, dtype=np.uint8)
    cjk = np.zeros(_MAX_CP, dtype=bool)
    for lo, hi in _CJK_RANGES:
        cjk[lo:hi] = True
    ranges = [range(0, 0x10000), range(0x1D400, 0x1D800), range(0x2F800, 0x2FA20)]
    for rng in ranges:
        for cp in rng:
            ch = chr(cp)
            if 0xD800 <= cp < 0xE000:
                continue
            folded = unicodedata.normalize("NFKC", ch).lower()
            if len(folded) == 1 and folded != ch and (folded.isalnum() or is_cjk(folded)):
                nfkc[cp] = ord(folded)
            klass[cp] = _classify(chr(int(nfkc[cp])))
    # Astral CJK (Extension B and later) is text; everything else astral (emoji …) is dropped.
    klass[0x20000:0x40000] = _KEEP
    # Full-width clause punctuation is already in CLAUSE_BREAKS; ideographic space is Zs.
    t2s = np.arange(_MAX_CP, dtype=np.uint32)
    converter = _opencc()
    for lo, hi in ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00)):
        for cp in range(lo, hi):
            ch = chr(cp)
            out = converter.convert(ch)
            if len(out) == 1 and out != ch:
                t2s[cp] = ord(out)
    has_t2s = t2s != np.arange(_MAX_CP, dtype=np.uint32)
    digit = np.zeros(_MAX_CP, dtype=bool)
    digit[ord("0") : ord("9") + 1] = True
    for arr in (nfkc, t2s, has_t2s, klass, cjk, digit):
        arr.setflags(write=False)
    # Most chat text needs no folding at all: one regex over a character class tells, and
    # the numpy pipeline (about 0.2 ms of fixed cost) is skipped.
    ident = np.arange(_MAX_CP, dtype=np.uint32)
    plain = ((klass == _KEEP) | (klass == _BREAK)) & (nfkc == ident) & ~has_t2s
    plain[0xD800:0xE000] = False
    edges = np.flatnonzero(np.diff(np.r_[0, plain.astype(np.int8), 0]))
    class_body = "".join(
        re.escape(chr(a)) if b - a == 1 else f"{re.escape(chr(a))}-{re.escape(chr(b - 1))}"
        for a, b in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))
    return _Tables(plain=re.compile(f"[^{class_body}]"), nfkc=nfkc, t2s=t2s, has_t2s=has_t2s, klass=klass,
                   cjk=cjk, digit=digit)


def _to_array(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _from_array(arr: np.ndarray) -> str:
    return arr.astype(np.uint32, copy=False).tobytes().decode("utf-32-le", "surrogatepass")


def _fold_chars(text: str, arr: np.ndarray, tables: _Tables) -> np.ndarray:
    """NFKC/lower/t2s per character; same length as ``arr``."""
    folded = tables.nfkc[arr]
    if tables.has_t2s[folded].any():
        pre = _from_array(folded)
        phrase = to_simplified(pre)
        if len(phrase) == len(pre):
            folded = _to_array(phrase)
            # OpenCC leaves some characters alone that the char table converts; apply both.
            folded = tables.t2s[folded]
        else:
            folded = tables.t2s[folded]
    return np.asarray(folded)


def normalize_with_index(
    text: str, *, drop_symbols: bool = False, fold_repeats: bool = False
) -> tuple[str, np.ndarray]:
    """``normalize`` without building Python tuples: the folded text and an index array.

    Returns:
        ``(folded, index)`` where ``index`` is an ``int64`` array of ``len(folded)`` entries,
        ``index[i]`` the position in ``text`` of ``folded[i]``. Hot loops (the detector) use
        this and map only the spans they report.
    """
    tables = _tables()
    if not text:
        return "", np.zeros(0, dtype=np.int64)
    arr = _to_array(text)
    if tables.plain.search(text) is None and not (fold_repeats and _has_triple(arr, tables)):
        return text, np.arange(len(text), dtype=np.int64)
    folded = _fold_chars(text, arr, tables)
    keep: np.ndarray | None = None
    if drop_symbols:
        klass = tables.klass[folded]
        keep = klass != _DROP
        spaces = klass == _SPACE
        if spaces.any():
            keep &= ~spaces
            # A run of spaces between two CJK characters is a clause break: keep its first
            # space (as ' '). Find, for each space, the nearest non-space neighbours.
            idx = np.flatnonzero(spaces)
            run_start = idx[np.r_[True, np.diff(idx) > 1]]
            run_end = idx[np.r_[np.diff(idx) > 1, True]]
            left_ok = run_start > 0
            right_ok = run_end < len(folded) - 1
            both = left_ok & right_ok
            rs, re_ = run_start[both], run_end[both]
            cjk_break = tables.cjk[folded[rs - 1]] & tables.cjk[folded[re_ + 1]]
            keep[rs[cjk_break]] = True
            folded[rs[cjk_break]] = ord(" ")
    if fold_repeats:
        if keep is not None:
            positions = np.flatnonzero(keep)
            seq = folded[positions]
        else:
            positions = np.arange(len(folded))
            seq = folded
        if len(seq) > 2:
            # Runs of three or more collapse to one; doubles are Chinese reduplication
            # (看看, 缓缓, 考虑考虑) and are kept.
            same = (seq[1:] == seq[:-1]) & ~tables.digit[seq[1:]]
            triple = same[1:] & same[:-1]  # seq[i] == seq[i+1] == seq[i+2]
            rep = np.zeros(len(seq), dtype=bool)
            if triple.any():
                in_run = np.zeros(len(seq), dtype=bool)
                idx = np.flatnonzero(triple)
                in_run[idx] = True
                in_run[idx + 1] = True
                in_run[idx + 2] = True
                # drop every member of a 3+ run except its first character
                rep[1:] = in_run[1:] & same
            if rep.any():
                if keep is None:
                    keep = np.ones(len(folded), dtype=bool)
                keep[positions[rep]] = False
    if keep is None:
        return _from_array(folded), np.arange(len(folded), dtype=np.int64)
    index = np.flatnonzero(keep)
    return _from_array(folded[index]), index


def _has_triple(arr: np.ndarray, tables: _Tables) -> bool:
    if len(arr) < 3:
        return False
    triple = (arr[2:] == arr[1:-1]) & (arr[1:-1] == arr[:-2])
    return bool(triple.any()) and bool((triple & ~tables.digit[arr[2:]]).any())


def normalize(text: str, *, drop_symbols: bool = False, fold_repeats: bool = False) -> NormalizedText:
    """Fold ``text`` for matching and keep a map back to it.

    Args:
        text: any string.
        drop_symbols: remove whitespace, symbols, emoji and non-clause punctuation (see the
            module docstring for what is kept).
        fold_repeats: collapse runs of three or more of the same non-digit character.

    Returns:
        A ``NormalizedText`` whose ``to_original`` maps folded spans back to ``text``.
    """
    folded, index = normalize_with_index(text, drop_symbols=drop_symbols, fold_repeats=fold_repeats)
    offsets = tuple(index.tolist()) + (len(text),)
    return NormalizedText(original=text, text=folded, offsets=offsets)


# ----------------------------------------------------------------------------- pinyin codes

_NUMERALS = frozenset("〇零一二两三四五六七八九十百千万亿几半")
_INITIAL_FOLDS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_FINAL_FOLDS = (("ing", "in"), ("eng", "en"), ("ang", "an"))


def pinyin_syllable(reading: str) -> str:
    """Fold a toneless pinyin syllable for homophone matching.

    zh/ch/sh → z/c/s and ing/eng/ang → in/en/an (so iang → ian, uang → uan), the confusions
    Mandarin ASR and southern accents produce most.
    """
    s = reading.lower().replace("ü", "v").replace("u:", "v")
    for a, b in _INITIAL_FOLDS:
        if s.startswith(a):
            s = b + s[len(a) :]
            break
    for a, b in _FINAL_FOLDS:
        if s.endswith(a):
            s = s[: -len(a)] + b
            break
    return s


def _strip_tone(reading: str) -> str:
    decomposed = unicodedata.normalize("NFD", reading)
    out = "".join(c for c in decomposed if not unicodedata.combining(c) or c == "\u0308")
    return unicodedata.normalize("NFC", out).replace("ü", "v")


@dataclass(frozen=True, slots=True)
class _PinyinTable:
    codes: np.ndarray  # uint32[0x110000]: CJK → private-use code of its folded syllable
    syllables: tuple[str, ...]  # code - _PUA_BASE → syllable


@lru_cache(maxsize=1)
def _pinyin_table() -> _PinyinTable:
    from pypinyin.pinyin_dict import pinyin_dict

    codes = np.arange(_MAX_CP, dtype=np.uint32)
    ids: dict[str, int] = {}
    for cp, readings in pinyin_dict.items():
        if not (0x3400 <= cp < 0xA000 or 0xF900 <= cp < 0xFB00 or 0x20000 <= cp < 0x2FA20):
            continue
        if chr(cp) in _NUMERALS:  # ASR gets numerals right; 三家 must not sound like 上家
            continue
        first = readings.split(",")[0]
        syl = pinyin_syllable(_strip_tone(first))
        code = ids.setdefault(syl, len(ids))
        codes[cp] = _PUA_BASE + code
    if len(ids) > 0x1900:  # stay inside the BMP private-use area
        raise RuntimeError("too many pinyin syllables for the private-use area")
    codes.setflags(write=False)
    syllables = tuple(sorted(ids, key=ids.__getitem__))
    return _PinyinTable(codes=codes, syllables=syllables)


def to_pinyin_codes(text: str) -> str:
    """Replace every hanzi by one private-use code point per folded toneless syllable.

    The result has the same length as ``text`` (so offsets carry over unchanged); non-hanzi
    characters are kept. Two strings that sound alike (招标 / 招镖, 预算 / 遇算) give equal
    codes. Polyphonic characters use their most common reading on both sides. Numerals keep
    their own character (ASR transcribes them reliably, and 三家 must not sound like 上家).
    """
    if not text:
        return text
    return _from_array(_pinyin_table().codes[_to_array(text)])
