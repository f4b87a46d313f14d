"""Segmentation: words (a jieba tokenizer the service owns), sentences, clauses, a spaCy view.

jieba's module-level tokenizer is global state configured at import time; we build our own
``jieba.Tokenizer`` with the domain dictionary from ``lexicons/`` and a private cache
directory, so two services (or tests) in one process never share word lists. The spaCy ``Doc``
is built from our own words and sentence boundaries on a blank ``zh`` pipeline, so spaCy's
Chinese tokenizer (which would call global jieba or download pkuseg models) is never used.
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import spacy.tokens

__all__ = ["Span", "Segmenter", "split_sentences", "split_clauses", "DEFAULT_USER_DICT"]

logger = logging.getLogger(__name__)

DEFAULT_USER_DICT = Path(__file__).resolve().parent.parent / "lexicons" / "jieba_user_dict.txt"

_SENT_END = re.compile(r"[^。！？!?；;\n…]*(?:[。！？!?；;…]+[”’」』）)]*|\n|$)")


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of a text: ``text == source[start:end]``."""

    text: str
    start: int
    end: int


def _trimmed(text: str, start: int, end: int) -> Iterator[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield Span(text[start:end], start, end)


def split_sentences(text: str) -> list[Span]:
    """Sentences, ending punctuation included. ASR text without punctuation splits on wide gaps."""
    out: list[Span] = []
    for m in _SENT_END.finditer(text):
        if m.end() == m.start():
            continue
        for piece in _trimmed(text, m.start(), m.end()):
            out.extend(_split_long_unpunctuated(text, piece))
    return out


def _split_long_unpunctuated(text: str, span: Span) -> list[Span]:
    # ASR output often has spaces where a speaker paused instead of punctuation.
    if len(span.text) < 24 or " " not in span.text:
        return [span]
    pieces: list[Span] = []
    start = span.start
    for m in re.finditer(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", span.text):
        end = span.start + m.start()
        pieces.extend(_trimmed(text, start, end))
        start = span.start + m.end()
    pieces.extend(_trimmed(text, start, span.end))
    return pieces


def split_clauses(text: str) -> list[Span]:
    """Clauses: sentences further cut at commas, colons and pauses (spaces between hanzi)."""
    out: list[Span] = []
    # A colon between digits is a clock time (17:00), not a clause break.
    pattern = re.compile(r"[，,、：。！？!?；;\n…~～]+|(?<!\d):|:(?!\d)|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
    pos = 0
    for m in pattern.finditer(text):
        out.extend(_trimmed(text, pos, m.start()))
        pos = m.end()
    out.extend(_trimmed(text, pos, len(text)))
    return out


class Segmenter:
    """Word segmentation with a private jieba tokenizer and the domain dictionary.

    The tokenizer loads lazily on first use (about 0.5 s with jieba's cache warm) and is
    thread-safe to initialise.
    """

    def __init__(self, user_dict: Path | None = DEFAULT_USER_DICT, extra_words: Iterable[str] = (),
                 cache_dir: Path | None = None) -> None:
        self._user_dict = user_dict
        self._extra = tuple(extra_words)
        self._cache_dir = cache_dir
        self._tokenizer: Any = None
        self._nlp: Any = None
        self._lock = threading.Lock()

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    self._tokenizer = self._load()
        return self._tokenizer

    def _load(self) -> Any:
        import jieba

        logging.getLogger("jieba").setLevel(logging.WARNING)
        tk = jieba.Tokenizer()
        cache_dir = Path(self._cache_dir or tempfile.gettempdir())
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError:
            cache_dir = Path(tempfile.gettempdir())
        tk.tmp_dir = str(cache_dir)
        tk.initialize()
        if self._user_dict is not None and Path(self._user_dict).exists():
            tk.load_userdict(str(self._user_dict))
        for word in self._extra:
            tk.add_word(word)
        return tk

    def cut(self, text: str, *, hmm: bool = True) -> list[str]:
        """Words of ``text`` (whitespace tokens dropped)."""
        return [w for w in self.tokenizer.cut(text, HMM=hmm) if w.strip()]

    def tokens(self, text: str, *, hmm: bool = True) -> list[Span]:
        """Words with offsets into ``text``."""
        return [Span(w, s, e) for w, s, e in self.tokenizer.tokenize(text, HMM=hmm) if w.strip()]

    def add_words(self, words: Iterable[str]) -> None:
        tk = self.tokenizer
        for w in words:
            tk.add_word(w)

    def doc(self, text: str) -> spacy.tokens.Doc:
        """A spaCy ``Doc`` over our words, with our sentence boundaries."""
        if self._nlp is None:
            import spacy

            self._nlp = spacy.blank("zh")  # default char segmenter: never calls jieba/pkuseg
        from spacy.tokens import Doc

        starts = {s.start for s in split_sentences(text)}
        words: list[str] = []
        spaces: list[bool] = []
        sent_starts: list[bool] = []
        for w, s, _e in self.tokenizer.tokenize(text):
            if not w.strip():
                if spaces:
                    spaces[-1] = True
                continue
            words.append(w)
            spaces.append(False)
            sent_starts.append(s in starts or not sent_starts)
        return Doc(self._nlp.vocab, words=words, spaces=spaces, sent_starts=sent_starts)
