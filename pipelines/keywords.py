"""Risk-signal detection and keyword extraction (issue 3).

Managers mute an alert channel that cries wolf, and a missed "今年的钱已经花完了" loses a deal
silently. A substring list fails on real sales talk in three ways, and this module answers each:

* **How customers really write and speak.** Text is folded before matching (width, case,
  Traditional → Simplified, symbols and repeats: ``太*贵`` / ``太太贵`` / ``太貴``; see
  ``pipelines.textnorm``), lexicon patterns have slots (``预算{0,4}(没了|不够|冻结)``) and named
  lists (``@brand``), and call transcripts get a pinyin pass that catches ASR homophones
  (招镖 / 遇算) at a lower confidence.
* **Negations and the rep's own words.** Context rules run only around a hit: a negation
  before it (不/没/别/无需/不用/哪里 …), a denial after it (倒不至于 …), a resolution
  (已经解冻 …), exclusions per entry and category, the rep's probing questions and
  reassurances (no signal) versus a rep restating the customer (signal with speaker ``rep``),
  a customer denying what the rep just asked, and quoted e-mail history, signatures and
  disclaimers (no signal). All cue lists are data in ``lexicons/risk/context.yaml``.
* **Speed.** One Aho-Corasick pass (pyahocorasick) over the folded text of a whole
  conversation; slot patterns are verified with an anchored regex only where their first
  segment hit; offsets are mapped back only for what is reported.

Lexicon format, pattern language and versioning: ``lexicons/README.md``.

Exceptions: ``LexiconError`` (a ``ValueError``) — a lexicon file is malformed; its message
starts with ``path:line:``.
"""

from __future__ import annotations

import bisect
import logging
import math
import re
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from itertools import product
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from pipelines.conversation import Speaker, Turn
from pipelines.textnorm import normalize, normalize_with_index, to_pinyin_codes

if TYPE_CHECKING:  # pragma: no cover
    from pipelines.semantic import Embedder, SemanticTracker

__all__ = [
    "RiskCategory",
    "CATEGORIES",
    "SpeakerScope",
    "RiskSignal",
    "DetectorOptions",
    "LexiconEntry",
    "ContextRules",
    "Lexicon",
    "LexiconError",
    "Pattern",
    "compile_pattern",
    "load_lexicon",
    "PhraseDetector",
    "extract_keywords",
    "load_idf",
    "load_stopwords",
    "DEFAULT_LEXICON_DIR",
]

logger = logging.getLogger(__name__)

RiskCategory = Literal["price", "budget", "procurement", "decision_delay", "competitor", "churn", "trust", "payment"]
CATEGORIES: tuple[RiskCategory, ...] = get_args(RiskCategory)
SpeakerScope = Literal["customer", "rep", "any"]
Method = Literal["lexicon", "pinyin", "semantic"]

DEFAULT_LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicons"

#: Break characters of the folded text (see ``pipelines.textnorm``); a slot never spans one.
_BREAKS = "，。！？；：、,.!?;:\n "
_SENTENCE_BREAKS = "。！？!?\n"
# A slot may span a pause (space between hanzi) but never punctuation or a line break.
_GAP_CLASS = r"(?:[^，。！？；：、,.!?;:\n]|(?<=[0-9])[.,](?=[0-9]))"
_MAX_EXPANSION = 20000
_PINYIN_MIN_CHARS = 3
_FREQUENT_IDF = 3.0  # what a word of ``ContextRules.frequent_words`` counts as when picking anchors
_MAX_QUOTE = 40
_NEAR = 24
_REACH = 80


# ============================================================================ public types


@dataclass(frozen=True, slots=True)
class RiskSignal:
    """One customer risk signal.

    Attributes:
        category: one of ``CATEGORIES``.
        quote: the shortest clause carrying the signal; ``turn_text[start:end] == quote``.
        speaker: who said it: ``customer`` (turns of unknown speaker count as customer) or
            ``rep`` when the rep restates or relays a customer's risk. Only ``customer``
            signals should raise alerts.
        turn: ``Turn.index`` of the turn it was found in.
        start: offset of ``quote`` in the turn's text (code points).
        end: end offset (exclusive).
        confidence: 0..1; exact lexicon hits score highest, pinyin and semantic lower.
        severity: 1 (minor) .. 3 (deal-threatening), from the lexicon entry.
        entry_id: the lexicon entry id, or ``semantic:<category>``.
        method: ``lexicon``, ``pinyin`` (ASR homophone) or ``semantic`` (paraphrase).
        tags: action tags of the lexicon entry (e.g. ``card:price-objection``).
    """

    category: RiskCategory
    quote: str
    speaker: Speaker
    turn: int
    start: int
    end: int
    confidence: float
    severity: int
    entry_id: str
    method: Method
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DetectorOptions:
    """Per-call knobs.

    Attributes:
        pinyin: run the homophone pass (the service turns it on for call/meeting transcripts).
        semantic: run the paraphrase trackers (needs an ``Embedder``).
        semantic_threshold: cosine threshold; ``None`` uses the calibrated default.
    """

    pinyin: bool = False
    semantic: bool = False
    semantic_threshold: float | None = None


class LexiconError(ValueError):
    """A lexicon file is malformed. The message starts with ``path:line:``."""


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """One risk cue: patterns that all mean the same thing.

    Attributes:
        id: unique id, ``<category>.<name>``.
        category: the risk category.
        severity: 1..3.
        patterns: source patterns (see ``compile_pattern``).
        exclude: patterns that cancel a hit when found in the same sentence.
        speaker: ``customer`` (default: customer turns; rep turns only when restating),
            ``any`` (rep turns too, unless a probe) or ``rep`` (rep turns only: relays).
        tags: action tags passed through to the signal.
        source: ``path:line`` where the entry is defined.
        point: which point of its category the entry makes; hits of one category in one
            sentence merge into one signal only when their points agree. Empty (the default)
            is the category's main point; e.g. ``cashflow`` keeps "资金比较紧张" apart from
            the delay it explains ("尾款延到3月底"), which is a point of its own.
    """

    id: str
    category: RiskCategory
    severity: int
    patterns: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    speaker: SpeakerScope = "customer"
    tags: tuple[str, ...] = ()
    source: str = ""
    point: str = ""


@dataclass(frozen=True, slots=True)
class ContextRules:
    """Cue lists for the context rules (``lexicons/risk/context.yaml``); all are patterns.

    Attributes:
        negators: a negation just before a hit cancels it (不/没/别/无需 …).
        long_negators: negations that reach further back (``long_window`` characters, same
            clause): 我们不会因为这点事换供应商.
        not_negators: words that contain a negator but do not negate (不得不, 不好意思 …).
        denials_after: a denial right after a hit cancels it (倒不至于, 谈不上 …).
        resolutions: later in the same turn, a resolution cancels it (已经解冻 …).
        restate_cues: in a rep turn, a hit after one of these is the rep restating the
            customer (signal with speaker ``rep``).
        probe_cues: in a rep turn, a hit after one of these is a probing or hypothetical
            question (no signal).
        relay_cues: a rep turn containing one of these relays the customer's situation
            throughout (internal e-mail, meeting summary).
        answer_denials: a customer turn that starts with one of these denies the rep's
            preceding question: hits of the probed categories are dropped.
        conditionals: between a negator and the hit, one of these makes the negation a
            condition, not a denial (你们不降我们就换: the 不 does not negate 换).
        pinyin_skip_lists: patterns using one of these named lists take no part in the pinyin
            pass (brand names sound like everyday words: 新宝/信保).
        pinyin_function_chars: a homophone hit whose only differences from the pattern are
            among these characters (在/再, 的/得 …) is ignored: such pairs are ordinary words,
            not ASR errors on a risk term.
        pinyin_words: two-character words the pinyin pass may match by sound alone (招标 →
            招镖); shorter-than-three-character homophones of anything else are ignored, since
            most two-character words have common homophones (解约/节约, 天价/添加).
        shared_spans: category pairs that may both hold one span (切回中通 is churn and
            competitor): a hit of one is never shadowed by a longer hit of the other.
        frequent_words: words that are common in sales talk though rare in the general corpus
            behind ``idf.txt`` (挺好, 系统, 物流 …); only steers which segment of a slot pattern
            keys the automaton, so a pattern is not woken by every 系统.
        rhetorical_cues: negators that ask rather than deny when their sentence ends in a
            question particle (你们不是被通报过吗？ affirms the report).
        misspellings: run the homophone pass on text outside speech too, keeping only anchors
            written as no dictionary word (招镖, 遇算, 拍版: slips of ASR or a pinyin input
            method, in phrases and chat alike).
        negation_window: how many characters before a hit are searched for a negator.
    """

    negators: tuple[str, ...] = ()
    long_negators: tuple[str, ...] = ()
    not_negators: tuple[str, ...] = ()
    denials_after: tuple[str, ...] = ()
    resolutions: tuple[str, ...] = ()
    restate_cues: tuple[str, ...] = ()
    probe_cues: tuple[str, ...] = ()
    relay_cues: tuple[str, ...] = ()
    answer_denials: tuple[str, ...] = ()
    conditionals: tuple[str, ...] = ()
    pinyin_words: tuple[str, ...] = ()
    pinyin_skip_lists: tuple[str, ...] = ()
    pinyin_function_chars: str = ""
    rhetorical_cues: tuple[str, ...] = ()
    frequent_words: tuple[str, ...] = ()
    shared_spans: tuple[tuple[str, str], ...] = ()
    misspellings: bool = False
    negation_window: int = 4
    long_window: int = 12


@dataclass(frozen=True, slots=True)
class Lexicon:
    """A loaded, validated risk lexicon.

    Attributes:
        version: e.g. ``risk-2026.11.1``; travels with every result.
        entries: the risk entries.
        lists: named alternations usable in patterns as ``@name``.
        allow: allowlist patterns: a risk hit overlapping one is dropped (中标公示 …).
        category_exclude: per category, exclusion patterns for all its entries.
        context: the context-rule cue lists.
        semantic_examples: example sentences per category for the semantic trackers.
        directory: where it was loaded from.
    """

    version: str
    entries: tuple[LexiconEntry, ...]
    lists: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    allow: tuple[str, ...] = ()
    category_exclude: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    context: ContextRules = ContextRules()
    semantic_examples: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    directory: Path | None = None

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def pattern_count(self) -> int:
        return sum(len(e.patterns) for e in self.entries)


# ============================================================================ pattern language


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled pattern: literal segments separated by gaps.

    ``segments[i]`` is the set of normalised literal strings segment ``i`` can be; ``gaps[i]``
    is the ``(min, max)`` number of arbitrary characters (never a clause break) between
    segment ``i`` and ``i + 1``.
    """

    source: str
    segments: tuple[tuple[str, ...], ...]
    gaps: tuple[tuple[int, int], ...]

    @property
    def is_literal(self) -> bool:
        return not self.gaps

    def regex(self) -> str:
        """The pattern as a Python regex over normalised text (lazy gaps)."""
        parts = [_alternation(self.segments[0])]
        for (lo, hi), seg in zip(self.gaps, self.segments[1:], strict=True):
            parts.append(f"({_GAP_CLASS}{{{lo},{hi}}}?)")
            parts.append(_alternation(seg))
        return "".join(parts)

    def anchor(self, word_idf: Mapping[str, float] | None = None) -> int:
        """Index of the segment the matcher keys on: the one expected to occur least.

        With a word IDF table, a segment's expected hit rate is the sum of ``exp(-idf)`` over
        its alternatives (unknown words of two or more characters count as rare, single
        characters as common); without one, the segment whose shortest alternative is longest
        wins. So ``@price{0,6}(太高|偏高)`` is found through 太高/偏高, not through every 价, and
        ``(系统|合同){0,4}(不稳定|宕机)`` through 不稳定/宕机, not through every 合同. Segments
        that can be empty are never anchors.
        """
        best, best_key = 0, None
        for i, seg in enumerate(self.segments):
            if "" in seg:
                continue
            shortest = min(len(x) for x in seg)
            if word_idf:
                rate = sum(math.exp(-word_idf.get(x, 11.5 if len(x) > 1 else 2.0)) for x in seg)
                key: tuple[float, ...] = (-rate, shortest)
            else:
                key = (shortest, -len(seg))
            if best_key is None or key > best_key:
                best, best_key = i, key
        return best

    def head_regex(self, k: int, encode: Any = None) -> str | None:
        """Regex for the segments before anchor ``k``, ending where it starts (``None`` if none)."""
        if k == 0:
            return None
        parts = []
        for i in range(k):
            parts.append(_alternation(self._encoded(self.segments[i], encode)))
            lo, hi = self.gaps[i]
            parts.append(f"({_GAP_CLASS}{{{lo},{hi}}}?)")
        return "".join(parts) + r"\Z"

    def tail_regex(self, k: int, encode: Any = None) -> str | None:
        """Regex for the segments after anchor ``k`` (``None`` if none)."""
        if k == len(self.segments) - 1:
            return None
        parts = []
        for i in range(k + 1, len(self.segments)):
            lo, hi = self.gaps[i - 1]
            parts.append(f"({_GAP_CLASS}{{{lo},{hi}}}?)")
            parts.append(_alternation(self._encoded(self.segments[i], encode)))
        return "".join(parts)

    def head_span(self, k: int) -> int:
        """The most characters the segments before anchor ``k`` can take (their search window)."""
        return sum(max(len(x) for x in self.segments[i]) + self.gaps[i][1] for i in range(k))

    @staticmethod
    def _encoded(seg: tuple[str, ...], encode: Any) -> tuple[str, ...]:
        if encode is None:
            return seg
        table = encode(seg)
        return tuple(table[x] for x in seg)


def _alternation(alternatives: Iterable[str]) -> str:
    alts = sorted(set(alternatives), key=lambda s: (-len(s), s))
    return "(?:" + "|".join(re.escape(a) for a in alts) + ")"


class _PatternSyntaxError(ValueError):
    pass


class _Parser:
    """Recursive descent over the pattern mini-language.

    pattern := seq (GAP seq)*          GAP := '{' m [',' n] '}'
    seq     := item*                   item := atom '?'?
    atom    := CHAR | '\\' CHAR | '[' CHAR+ ']' | '(' seq ('|' seq)* ')' | '@' NAME
    """

    def __init__(self, src: str, lists: Mapping[str, tuple[str, ...]]) -> None:
        self.src = src
        self.pos = 0
        self.lists = lists

    def error(self, msg: str) -> _PatternSyntaxError:
        return _PatternSyntaxError(f"pattern {self.src!r}: {msg} (at column {self.pos + 1})")

    def peek(self) -> str:
        return self.src[self.pos] if self.pos < len(self.src) else ""

    def parse(self) -> tuple[list[set[str]], list[tuple[int, int]]]:
        segments: list[set[str]] = []
        gaps: list[tuple[int, int]] = []
        current = self.seq(top=True)
        segments.append(current)
        while self.peek() == "{":
            gaps.append(self.gap())
            segments.append(self.seq(top=True))
        if self.pos != len(self.src):
            raise self.error(f"unexpected {self.peek()!r}")
        return segments, gaps

    def gap(self) -> tuple[int, int]:
        end = self.src.find("}", self.pos)
        if end < 0:
            raise self.error("unclosed '{'")
        body = self.src[self.pos + 1 : end]
        m = re.fullmatch(r"\s*(\d+)\s*(?:,\s*(\d+)\s*)?", body)
        if not m:
            raise self.error(f"bad gap {{{body}}}; write {{m,n}} or {{n}}")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo or hi > 20:
            raise self.error(f"bad gap {{{body}}}: need 0 <= m <= n <= 20")
        self.pos = end + 1
        return lo, hi

    def seq(self, top: bool = False) -> set[str]:
        out = {""}
        while True:
            ch = self.peek()
            if ch == "" or ch in "|)" or (top and ch == "{"):
                return out
            if ch == "{":
                raise self.error("a gap {m,n} is only allowed outside groups")
            alts = self.atom()
            if self.peek() == "?":
                self.pos += 1
                alts = alts | {""}
            out = {a + b for a, b in product(out, alts)}
            if len(out) > _MAX_EXPANSION:
                raise self.error(f"expands to more than {_MAX_EXPANSION} strings")

    def atom(self) -> set[str]:
        ch = self.peek()
        if ch == "(":
            self.pos += 1
            alts = self.seq()
            while self.peek() == "|":
                self.pos += 1
                alts = alts | self.seq()
            if self.peek() != ")":
                raise self.error("unclosed '('")
            self.pos += 1
            return alts
        if ch == "[":
            end = self.src.find("]", self.pos)
            if end < 0:
                raise self.error("unclosed '['")
            chars = self.src[self.pos + 1 : end]
            if not chars:
                raise self.error("empty []")
            self.pos = end + 1
            out: set[str] = set()
            i = 0
            while i < len(chars):
                # ASCII ranges (0-9, a-z); any other '-' is literal.
                if i + 2 < len(chars) and chars[i + 1] == "-" and chars[i].isascii() and chars[i + 2].isascii():
                    lo, hi = ord(chars[i]), ord(chars[i + 2])
                    if hi < lo:
                        raise self.error(f"bad range {chars[i:i + 3]!r}")
                    out.update(chr(c) for c in range(lo, hi + 1))
                    i += 3
                else:
                    out.add(chars[i])
                    i += 1
            return out
        if ch == "@":
            m = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)").match(self.src, self.pos)
            if not m:
                raise self.error("'@' must be followed by a list name")
            name = m.group(1)
            if name not in self.lists:
                raise self.error(f"unknown list @{name}")
            self.pos = m.end()
            return set(self.lists[name])
        if ch == "\\":
            if self.pos + 1 >= len(self.src):
                raise self.error("dangling '\\'")
            self.pos += 2
            return {self.src[self.pos - 1]}
        if ch in "?]}*+":
            raise self.error(f"unexpected {ch!r}")
        self.pos += 1
        return {ch}


def _norm_literals(literals: Iterable[str]) -> dict[str, str]:
    """Fold many literals in one call (newline-joined: a newline is a kept break)."""
    items = list(dict.fromkeys(literals))
    if not items:
        return {}
    folded = normalize("\n".join(items), drop_symbols=True, fold_repeats=True).text.split("\n")
    if len(folded) != len(items):  # a literal folded into a newline-like break: do them one by one
        folded = [normalize(x, drop_symbols=True, fold_repeats=True).text for x in items]
    return {a: b.strip(" ") for a, b in zip(items, folded, strict=True)}


def _encode_many(literals: Iterable[str]) -> dict[str, str]:
    items = list(dict.fromkeys(literals))
    if not items:
        return {}
    return dict(zip(items, to_pinyin_codes("\n".join(items)).split("\n"), strict=True))


def compile_pattern(src: str, lists: Mapping[str, tuple[str, ...]] | None = None) -> Pattern:
    """Compile one lexicon pattern.

    The language: literal text (folded like the input, so write Simplified Chinese; spaces
    and symbols are ignored), ``(a|b|c)`` alternatives, ``[abc]`` one of the characters
    (``[0-9]`` ranges for ASCII), ``x?`` optional, ``@name`` one of the words of a named
    list, ``\\x`` a literal special character, and ``{m,n}`` / ``{n}`` a gap of m..n
    arbitrary characters that never crosses a clause break. A pattern cannot start or end
    with a gap or be empty.

    Raises:
        ValueError: on a syntax error (the loader adds ``path:line``).
    """
    parser = _Parser(src.strip(), lists or {})
    raw_segments, gaps = parser.parse()
    table = _norm_literals(x for seg in raw_segments for x in seg)
    segments: list[tuple[str, ...]] = []
    for i, seg in enumerate(raw_segments):
        normed = {table[x] for x in seg}
        if i == 0 and "" in normed and normed != {""}:
            raise _PatternSyntaxError(f"pattern {src!r}: can match an empty first segment")
        if not normed or normed == {""}:
            raise _PatternSyntaxError(f"pattern {src!r}: segment {i + 1} is empty after folding "
                                      "(symbols such as % are dropped from text; write digits or words)")
        if i == len(raw_segments) - 1 and gaps and "" in normed:
            raise _PatternSyntaxError(f"pattern {src!r}: can end with a gap")
        segments.append(tuple(sorted(normed)))
    return Pattern(source=src, segments=tuple(segments), gaps=tuple(gaps))


def _compiled(rx: str | None) -> re.Pattern[str] | None:
    return re.compile(rx) if rx else None


class _LazyRegex:
    """A regex compiled on first use. The homophone index holds a few thousand verifiers and
    spellings, most of which no text ever reaches; compiling them all up front took 5–15 s per
    process (every CLI run, every server worker, every test process)."""

    __slots__ = ("source", "_rx")

    def __init__(self, source: str) -> None:
        self.source = source
        self._rx: re.Pattern[str] | None = None

    def _get(self) -> re.Pattern[str]:
        rx = self._rx
        if rx is None:
            rx = self._rx = re.compile(self.source)  # a race compiles twice: same result
        return rx

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self._get().search(text, pos, endpos)

    def match(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self._get().match(text, pos, endpos)

    def fullmatch(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self._get().fullmatch(text, pos, endpos)


def _lazy(rx: str | None) -> _LazyRegex | None:
    return _LazyRegex(rx) if rx else None


def _regex_of(patterns: Sequence[Pattern]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p.regex()})" for p in patterns))


# ============================================================================ loading


@dataclass(frozen=True, slots=True)
class _Node:
    value: Any
    line: int


def _to_nodes(node: Any, path: Path) -> _Node:
    import yaml

    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, _Node] = {}
        for k, v in node.value:
            key = _to_nodes(k, path)
            if not isinstance(key.value, str):
                raise LexiconError(f"{path}:{key.line}: keys must be strings")
            if key.value in out:
                raise LexiconError(f"{path}:{key.line}: duplicate key {key.value!r}")
            out[key.value] = _to_nodes(v, path)
        return _Node(out, line)
    if isinstance(node, yaml.SequenceNode):
        return _Node([_to_nodes(v, path) for v in node.value], line)
    loader = yaml.SafeLoader("")
    try:
        return _Node(loader.construct_object(node), line)
    finally:
        loader.dispose()


def _read_yaml(path: Path) -> _Node:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise LexiconError(f"{path}:1: not UTF-8 ({e.reason})") from e
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise LexiconError(f"{path}:{line}: invalid YAML: {getattr(e, 'problem', e)}") from e
    if root is None:
        raise LexiconError(f"{path}:1: empty file")
    return _to_nodes(root, path)


def _expect_map(node: _Node, path: Path, what: str, keys: Iterable[str] | None) -> dict[str, _Node]:
    if not isinstance(node.value, dict):
        raise LexiconError(f"{path}:{node.line}: {what} must be a mapping")
    if keys is None:
        return node.value
    allowed = set(keys)
    for k, v in node.value.items():
        if k not in allowed:
            raise LexiconError(f"{path}:{v.line}: unknown key {k!r} in {what} (allowed: {', '.join(sorted(allowed))})")
    return node.value


def _strings(node: _Node | None, path: Path, what: str) -> tuple[tuple[str, int], ...]:
    if node is None:
        return ()
    if isinstance(node.value, str):
        items = [node]
    elif isinstance(node.value, list):
        items = node.value
    else:
        raise LexiconError(f"{path}:{node.line}: {what} must be a list of strings")
    out = []
    for item in items:
        if isinstance(item.value, (int, float)) and not isinstance(item.value, bool):
            item = _Node(str(item.value), item.line)
        if not isinstance(item.value, str) or not item.value.strip():
            raise LexiconError(f"{path}:{item.line}: {what} must be non-empty strings")
        out.append((item.value.strip(), item.line))
    return tuple(out)


def _check_patterns(items: Sequence[tuple[str, int]], lists: Mapping[str, tuple[str, ...]], path: Path) -> tuple[str, ...]:
    for src, line in items:
        try:
            compile_pattern(src, lists)
        except ValueError as e:
            raise LexiconError(f"{path}:{line}: {e}") from e
    return tuple(s for s, _ in items)


_VERSION_RX = re.compile(r"^[a-z][a-z0-9-]*-\d{4}\.\d{1,2}\.\d+$")
_ID_RX = re.compile(r"^[a-z_]+\.[a-z0-9_.]+$")
_CONTEXT_KEYS = {f.name for f in fields(ContextRules)}


def load_lexicon(directory: Path | None = None) -> Lexicon:
    """Load and validate the risk lexicon.

    Reads ``<directory>/risk/lexicon.yaml`` (version, named lists, allowlist), every other
    ``<directory>/risk/*.yaml`` (one category each, or more named lists) and
    ``<directory>/semantic_examples.yaml`` when present.

    Args:
        directory: the ``lexicons/`` directory; default: the repository's.

    Raises:
        LexiconError: a file is malformed (message ``path:line: what is wrong``).
    """
    base = Path(directory) if directory is not None else DEFAULT_LEXICON_DIR
    risk = base / "risk"
    manifest = risk / "lexicon.yaml"
    if not manifest.is_file():
        raise LexiconError(f"{manifest}:1: missing lexicon manifest")
    root = _expect_map(_read_yaml(manifest), manifest, "lexicon.yaml",
                       ("version", "description", "lists", "allow", "context"))
    if "version" not in root:
        raise LexiconError(f"{manifest}:1: missing 'version'")
    version = str(root["version"].value)
    if not _VERSION_RX.match(version):
        raise LexiconError(f"{manifest}:{root['version'].line}: version {version!r} must look like risk-2026.11.1")

    other_files = sorted(p for p in risk.glob("*.yaml") if p.name != "lexicon.yaml")
    parsed = [(p, _read_yaml(p)) for p in other_files]

    # Lists first (from every file), so patterns can reference lists defined anywhere.
    lists: dict[str, tuple[str, ...]] = {}
    list_sources: list[tuple[Path, _Node]] = [(manifest, root["lists"])] if "lists" in root else []
    for p, node in parsed:
        if isinstance(node.value, dict) and "lists" in node.value:
            list_sources.append((p, node.value["lists"]))
    for p, node in list_sources:
        for name, words in _expect_map(node, p, "lists", None).items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise LexiconError(f"{p}:{words.line}: bad list name {name!r}")
            if name in lists:
                raise LexiconError(f"{p}:{words.line}: list @{name} defined twice")
            items = _strings(words, p, f"list {name}")
            if not items:
                raise LexiconError(f"{p}:{words.line}: list @{name} is empty")
            for w, line in items:
                if re.search(r"[(){}\[\]|?@\\]", w):
                    raise LexiconError(f"{p}:{line}: list words are literal; {w!r} has a special character")
            lists[name] = tuple(dict.fromkeys(w for w, _ in items))

    allow = _check_patterns(_strings(root.get("allow"), manifest, "allow"), lists, manifest)
    context = ContextRules()
    if "context" in root:
        cnode = _expect_map(root["context"], manifest, "context", _CONTEXT_KEYS)
        kwargs: dict[str, Any] = {}
        for key, node in cnode.items():
            if key == "pinyin_function_chars":
                if not isinstance(node.value, str):
                    raise LexiconError(f"{manifest}:{node.line}: {key} must be a string of characters")
                kwargs[key] = node.value.replace(" ", "")
            elif key == "shared_spans":
                pairs = []
                for w, line in _strings(node, manifest, key):
                    pair = tuple(w.split())
                    if len(pair) != 2 or any(c not in CATEGORIES for c in pair):
                        raise LexiconError(f"{manifest}:{line}: {key} entries are two categories, e.g. 'churn competitor'")
                    pairs.append(pair)
                kwargs[key] = tuple(pairs)
            elif key == "frequent_words":
                kwargs[key] = tuple(_norm_literals(w for w, _ in _strings(node, manifest, key)).values())
            elif key == "pinyin_skip_lists":
                kwargs[key] = tuple(w for w, _ in _strings(node, manifest, key))
                for w, line in _strings(node, manifest, key):
                    if w not in lists:
                        raise LexiconError(f"{manifest}:{line}: unknown list {w!r}")
            elif key == "misspellings":
                if not isinstance(node.value, bool):
                    raise LexiconError(f"{manifest}:{node.line}: {key} must be true or false")
                kwargs[key] = node.value
            elif key in ("negation_window", "long_window"):
                if isinstance(node.value, bool) or not isinstance(node.value, int) or not 0 <= node.value <= 30:
                    raise LexiconError(f"{manifest}:{node.line}: {key} must be an integer 0..30")
                kwargs[key] = node.value
            else:
                kwargs[key] = _check_patterns(_strings(node, manifest, key), lists, manifest)
        context = ContextRules(**kwargs)

    entries: list[LexiconEntry] = []
    seen_ids: dict[str, str] = {}
    category_exclude: dict[str, tuple[str, ...]] = {}
    for p, node in parsed:
        top = _expect_map(node, p, p.name, ("category", "description", "exclude", "entries", "lists"))
        if "category" not in top:
            if "entries" in top:
                raise LexiconError(f"{p}:{top['entries'].line}: entries need a top-level 'category'")
            continue
        cat = top["category"].value
        if cat not in CATEGORIES:
            raise LexiconError(f"{p}:{top['category'].line}: unknown category {cat!r} (one of {', '.join(CATEGORIES)})")
        if "exclude" in top:
            category_exclude[cat] = category_exclude.get(cat, ()) + _check_patterns(
                _strings(top["exclude"], p, "exclude"), lists, p)
        enode = top.get("entries")
        if enode is None or not isinstance(enode.value, list) or not enode.value:
            raise LexiconError(f"{p}:{(enode or top['category']).line}: 'entries' must be a non-empty list")
        for item in enode.value:
            entries.append(_load_entry(item, p, cat, lists, seen_ids))

    examples: dict[str, tuple[str, ...]] = {}
    sem = base / "semantic_examples.yaml"
    if sem.is_file():
        snode = _expect_map(_read_yaml(sem), sem, "semantic_examples.yaml", ("version", "description", "examples"))
        ex = _expect_map(snode.get("examples", _Node({}, 1)), sem, "examples", (*CATEGORIES, "neutral"))
        for cat, node in ex.items():
            examples[cat] = tuple(s for s, _ in _strings(node, sem, f"examples for {cat}"))

    if not entries:
        raise LexiconError(f"{risk}:1: no entries")
    return Lexicon(
        version=version,
        entries=tuple(entries),
        lists=MappingProxyType(lists),
        allow=allow,
        category_exclude=MappingProxyType(category_exclude),
        context=context,
        semantic_examples=MappingProxyType(examples),
        directory=base,
    )


def _load_entry(item: _Node, path: Path, category: str, lists: Mapping[str, tuple[str, ...]],
                seen: dict[str, str]) -> LexiconEntry:
    m = _expect_map(item, path, "entry", ("id", "severity", "patterns", "exclude", "speaker", "tags", "note", "point"))
    for key in ("id", "severity", "patterns"):
        if key not in m:
            raise LexiconError(f"{path}:{item.line}: entry is missing {key!r}")
    eid = m["id"].value
    if not isinstance(eid, str) or not _ID_RX.match(eid):
        raise LexiconError(f"{path}:{m['id'].line}: bad id {eid!r} (write <category>.<name>, lower case)")
    if not eid.startswith(category + "."):
        raise LexiconError(f"{path}:{m['id'].line}: id {eid!r} must start with {category + '.'!r}")
    if eid in seen:
        raise LexiconError(f"{path}:{m['id'].line}: duplicate id {eid!r} (first at {seen[eid]})")
    seen[eid] = f"{path}:{m['id'].line}"
    sev = m["severity"].value
    if isinstance(sev, bool) or not isinstance(sev, int) or not 1 <= sev <= 3:
        raise LexiconError(f"{path}:{m['severity'].line}: severity must be 1, 2 or 3, not {sev!r}")
    patterns = _check_patterns(_strings(m["patterns"], path, "patterns"), lists, path)
    if not patterns:
        raise LexiconError(f"{path}:{m['patterns'].line}: entry {eid} has no patterns")
    exclude = _check_patterns(_strings(m.get("exclude"), path, "exclude"), lists, path)
    speaker: SpeakerScope = m["speaker"].value if "speaker" in m else "customer"
    if speaker not in get_args(SpeakerScope):
        raise LexiconError(f"{path}:{m['speaker'].line}: speaker must be customer, rep or any, not {speaker!r}")
    tags = tuple(s for s, _ in _strings(m.get("tags"), path, "tags"))
    for t, line in _strings(m.get("tags"), path, "tags"):
        if not re.fullmatch(r"[a-z][a-z0-9_-]*(:[A-Za-z0-9_.-]+)?", t):
            raise LexiconError(f"{path}:{line}: bad tag {t!r} (write kind:value, e.g. card:price-objection)")
    point = m["point"].value if "point" in m else ""
    if not isinstance(point, str) or (point and not re.fullmatch(r"[a-z][a-z0-9_]*", point)):
        raise LexiconError(f"{path}:{m['point'].line}: point must be a lower-case name, not {point!r}")
    return LexiconEntry(id=eid, category=category, severity=sev, patterns=patterns, exclude=exclude,  # type: ignore[arg-type]
                        speaker=speaker, tags=tags, source=f"{path}:{item.line}", point=point)


# ============================================================================ the detector


@dataclass(frozen=True, slots=True)
class _CompiledPattern:
    entry: int  # index into entries; -1 for allowlist patterns
    head: re.Pattern[str] | None  # segments before the anchor, must end where it starts
    tail: re.Pattern[str] | None  # segments after the anchor, must start where it ends
    head_span: int
    literal: bool


@dataclass(frozen=True, slots=True)
class _PinyinIndex:
    automaton: Any  # ahocorasick.Automaton over pinyin codes
    spellings: tuple[_LazyRegex | None, ...]  # per pattern, function characters masked
    short: frozenset[str]  # codes of the two-character words allowed by sound
    mask: Mapping[int, str]
    words: frozenset[str]  # dictionary words (2-4 characters) for the misspelling pass


@dataclass(slots=True)
class _Hit:
    turn: int  # position in the turn list
    start: int  # compact offsets
    end: int
    entry: int
    method: Method
    literal_chars: int
    literal: bool


class _TurnInfo:
    """Per-call state of one turn (a plain slotted class: one is built per turn per call)."""

    __slots__ = ("turn", "speaker", "start", "end", "joined_start", "probed", "history_cut")

    def __init__(self, turn: Turn, speaker: Speaker, joined_start: int) -> None:
        self.turn = turn
        self.speaker = speaker
        self.start = 0  # compact offsets of the turn
        self.end = 0
        self.joined_start = joined_start  # offset of the turn text in the joined string
        self.probed: set[str] = set()
        self.history_cut: int | None = -1  # -1: not computed yet; None: no quoted history


def _combined(patterns: Iterable[str], lists: Mapping[str, tuple[str, ...]]) -> re.Pattern[str] | None:
    return _regex_of([compile_pattern(p, lists) for p in patterns])


class PhraseDetector:
    """Finds risk signals in a conversation.

    Args:
        lexicon: from ``load_lexicon``.
        embedder: sentence embedder for the semantic trackers (``pipelines.semantic``);
            needed only when ``DetectorOptions.semantic`` is on.
    """

    def __init__(self, lexicon: Lexicon, embedder: Embedder | None = None) -> None:
        import ahocorasick

        self._lexicon = lexicon
        self._embedder = embedder
        self._tracker: SemanticTracker | None = None
        self._entries = lexicon.entries
        lists = lexicon.lists
        self._patterns: list[_CompiledPattern] = []
        self._sources: list[tuple[Pattern, int, bool]] = []  # (pattern, anchor, takes part in pinyin)
        self._pinyin: _PinyinIndex | None = None
        self._pinyin_lock = threading.Lock()
        self._misspellings = lexicon.context.misspellings
        exact: dict[str, list[int]] = {}

        skip = tuple("@" + name for name in lexicon.context.pinyin_skip_lists)
        # Word frequencies only steer which segment of a slot pattern keys the automaton.
        word_idf: Mapping[str, float] | None = None
        if lexicon.directory is not None and (lexicon.directory / "idf.txt").is_file():
            word_idf = load_idf(lexicon.directory)
            if lexicon.context.frequent_words:
                word_idf = {**word_idf, **dict.fromkeys(lexicon.context.frequent_words, _FREQUENT_IDF)}

        def add(src: str, entry: int) -> None:
            pat = compile_pattern(src, lists)
            k = pat.anchor(word_idf)
            sounds = entry >= 0 and not any(re.search(re.escape(n) + r"(?![A-Za-z0-9_])", src) for n in skip)
            pid = len(self._patterns)
            self._patterns.append(_CompiledPattern(
                entry=entry, head=_compiled(pat.head_regex(k)), tail=_compiled(pat.tail_regex(k)),
                head_span=pat.head_span(k), literal=pat.is_literal))
            self._sources.append((pat, k, sounds))
            for lit in pat.segments[k]:
                exact.setdefault(lit, []).append(pid)

        for i, entry in enumerate(lexicon.entries):
            for src in entry.patterns:
                add(src, i)
        for src in lexicon.allow:
            add(src, -1)

        self._automaton = ahocorasick.Automaton()
        verifiers = [(p.head, p.tail) for p in self._patterns]
        for key, pids in exact.items():
            self._automaton.add_word(key, self._value(key, pids, verifiers))
        self._automaton.make_automaton()

        # Exclusions: plain word lists (@brand, @rival …) go into one Aho-Corasick automaton keyed
        # to the entry or category they belong to (a 600-word regex alternation is slow to scan);
        # exclusions with slots stay regexes.
        self._exclude_ac = ahocorasick.Automaton()
        excl_words: dict[str, set[int]] = {}

        def exclusions(group: int, patterns: Iterable[str]) -> re.Pattern[str] | None:
            slotted = []
            for src in patterns:
                pat = compile_pattern(src, lists)
                if pat.is_literal:
                    for w in pat.segments[0]:
                        excl_words.setdefault(w, set()).add(group)
                else:
                    slotted.append(pat)
            return _regex_of(slotted)

        self._entry_exclude = [exclusions(i, e.exclude) for i, e in enumerate(lexicon.entries)]
        self._category_group: dict[str, int] = {c: len(lexicon.entries) + n for n, c in enumerate(CATEGORIES)}
        self._category_exclude = {c: exclusions(self._category_group[c], p) for c, p in lexicon.category_exclude.items()}
        for w, groups in excl_words.items():
            self._exclude_ac.add_word(w, (len(w), frozenset(groups)))
        self._exclude_groups = frozenset(g for gs in excl_words.values() for g in gs)
        if excl_words:
            self._exclude_ac.make_automaton()
        ctx = lexicon.context
        self._window = ctx.negation_window
        self._negators = _combined(ctx.negators, lists)
        self._long_negators = _combined(ctx.long_negators, lists)
        self._long_window = ctx.long_window
        self._not_negators = _combined(ctx.not_negators, lists)
        self._denials_after = _combined(ctx.denials_after, lists)
        self._resolutions = _combined(ctx.resolutions, lists)
        self._restate = _combined(ctx.restate_cues, lists)
        self._probe = _combined(ctx.probe_cues, lists)
        self._relay = _combined(ctx.relay_cues, lists)
        self._answer_denials = _combined(ctx.answer_denials, lists)
        self._conditionals = _combined(ctx.conditionals, lists)
        self._rhetorical = _combined(ctx.rhetorical_cues, lists)
        self._shared = frozenset(frozenset(p) for p in ctx.shared_spans)

    @property
    def version(self) -> str:
        """The lexicon version, e.g. ``risk-2026.11.1``."""
        return self._lexicon.version

    @property
    def lexicon(self) -> Lexicon:
        return self._lexicon

    def _value(self, key: str, pids: list[int],
               verifiers: Sequence[tuple[re.Pattern[str] | _LazyRegex | None, re.Pattern[str] | _LazyRegex | None]],
               spelled: frozenset[str] = frozenset()) -> tuple[Any, ...]:
        """Automaton value: (key length, literal pattern ids, ((pid, head, tail, head span), …),
        spellings). Splitting the two kinds up front keeps the per-hit Python work minimal;
        ``spellings`` (pinyin keys only) are the exact texts the key stands for.
        """
        lits, checks = [], []
        for pid in dict.fromkeys(pids):
            head, tail = verifiers[pid]
            if head is None and tail is None:
                lits.append(pid)
            else:
                checks.append((pid, head, tail, self._patterns[pid].head_span))
        return len(key), tuple(lits), tuple(checks), spelled

    def _pinyin_index(self) -> _PinyinIndex:
        """Build the homophone automaton on first use (about a second; calls only)."""
        if self._pinyin is not None:
            return self._pinyin
        with self._pinyin_lock:
            if self._pinyin is None:
                self._pinyin = self._build_pinyin()
        return self._pinyin

    def _build_pinyin(self) -> _PinyinIndex:
        import ahocorasick

        ctx = self._lexicon.context
        mask = {ord(c): "\x01" for c in ctx.pinyin_function_chars}
        short = frozenset(_encode_many(_norm_literals(
            w for src in ctx.pinyin_words for seg in compile_pattern(src, self._lexicon.lists).segments
            for w in seg).values()).values())
        verifiers: list[tuple[_LazyRegex | None, _LazyRegex | None]] = []
        spellings: list[_LazyRegex | None] = []
        coded: dict[str, list[int]] = {}
        spelled: dict[str, set[str]] = {}
        for pid, (pat, k, sounds) in enumerate(self._sources):
            if not sounds:
                verifiers.append((None, None))
                spellings.append(None)
                continue
            verifiers.append((_lazy(pat.head_regex(k, _encode_many)), _lazy(pat.tail_regex(k, _encode_many))))
            masked = tuple(tuple(x.translate(mask) for x in seg) for seg in pat.segments)
            spellings.append(_LazyRegex(Pattern(pat.source, masked, pat.gaps).regex()) if mask else None)
            codes = _encode_many(pat.segments[k])
            for lit in pat.segments[k]:
                # Only keys that can yield a homophone hit: some hanzi to hear, and three
                # characters or a listed short word. The key itself must be long enough: a
                # two-character key has homophones everywhere (砍了/看了, 解约/节约), however
                # long the rest of the pattern is.
                if codes[lit] != lit and (len(lit) >= _PINYIN_MIN_CHARS or codes[lit] in short):
                    coded.setdefault(codes[lit], []).append(pid)
                    spelled.setdefault(codes[lit], set()).add(lit)
        automaton = ahocorasick.Automaton()
        for key, pids in coded.items():
            automaton.add_word(key, self._value(key, pids, verifiers, frozenset(spelled[key])))
        automaton.make_automaton()
        # The lexicon's own sound-alike words (招标, 续了 …) count as words for the misspelling pass.
        words = _dictionary_words()
        if words:
            words = words | frozenset(_norm_literals(
                w for src in ctx.pinyin_words for seg in compile_pattern(src, self._lexicon.lists).segments
                for w in seg).values())
        return _PinyinIndex(automaton=automaton, spellings=tuple(spellings), short=short, mask=mask, words=words)

    # ------------------------------------------------------------------ detect

    def detect(self, turns: Sequence[Turn], options: DetectorOptions = DetectorOptions()) -> tuple[RiskSignal, ...]:
        """Find the risk signals in a conversation.

        Args:
            turns: the conversation's turns in order (non-text turns are skipped). The
                whole sequence is seen so the rules can use the previous rep turn.
            options: pinyin / semantic passes.

        Returns:
            Signals ordered by turn and position; at most one per distinct point.

        Raises:
            ValueError: ``options.semantic`` is on but the detector has no embedder.
        """
        if options.semantic and self._embedder is None:
            raise ValueError("semantic detection needs an Embedder (PhraseDetector(lexicon, embedder=...))")
        infos, compact, index, soft = self._prepare(turns)
        if not infos:
            return ()
        signals = self._lexicon_signals(infos, compact, index, soft, options.pinyin)
        if options.semantic:
            signals = signals + self._semantic_signals(infos, signals, options.semantic_threshold)
            signals.sort(key=lambda s: (s.turn, s.start))
        return tuple(signals)

    def _prepare(self, turns: Sequence[Turn]) -> tuple[list[_TurnInfo], str, np.ndarray, list[int]]:
        texts: list[str] = []
        infos: list[_TurnInfo] = []
        pos = 0
        for t in turns:
            if t.kind != "text" or not t.text:
                continue
            infos.append(_TurnInfo(t, "rep" if t.speaker == "rep" else "customer", pos))
            texts.append(t.text)
            pos += len(t.text) + 1
        if not infos:
            return [], "", np.zeros(0, dtype=np.int64), []
        joined = "\n".join(texts)
        compact, index = normalize_with_index(joined, drop_symbols=True, fold_repeats=True)
        # Spaces between hanzi (pauses in ASR, a typed pause in chat) are clause breaks for the
        # context rules, but phrases match across them (太 贵), so they leave the matched text
        # and are remembered as "soft" breaks before the next character.
        soft: list[int] = []
        if " " in compact:
            arr = np.frombuffer(compact.encode("utf-32-le"), dtype=np.uint32)
            space = arr == 32
            keep = ~space
            before = np.cumsum(keep) - keep
            soft = sorted(set(before[space].tolist()))
            compact = arr[keep].tobytes().decode("utf-32-le")
            index = index[keep]
        if len(compact) == len(joined):  # nothing was folded away: offsets are the identity
            for info in infos:
                info.start, info.end = info.joined_start, info.joined_start + len(info.turn.text)
            return infos, compact, index, soft
        starts = np.searchsorted(index, [i.joined_start for i in infos]).tolist()
        ends = np.searchsorted(index, [i.joined_start + len(i.turn.text) for i in infos]).tolist()
        for info, s, e in zip(infos, starts, ends, strict=True):
            info.start, info.end = s, e
        return infos, compact, index, soft

    def _scan(self, text: str, pinyin: bool, plain: str | None = None,
              words: frozenset[str] | None = None) -> list[tuple[int, int, int, int]]:
        """All pattern matches: ``(start, end, pattern id, literal char count)``.

        ``text`` is the folded text, or its pinyin codes with ``plain`` the folded text (same
        length), where the gaps are checked for negations. With ``words`` (the misspelling
        pass) a homophone anchor counts only when what was written is no word (see ``_misspelt``).
        """
        automaton = self._pinyin_index().automaton if pinyin else self._automaton
        out: list[tuple[int, int, int, int]] = []
        append = out.append
        negators = self._negators
        plain = text if plain is None else plain
        for last, (keylen, lits, checks, spelled) in automaton.iter(text):
            end = last + 1
            start = end - keylen
            if spelled and plain[start:end] in spelled:
                # Heard exactly as written: the exact pass has already tried this anchor. The
                # homophone pass looks for misheard anchors (each pattern's rarest word).
                continue
            if words is not None and not _misspelt(plain[start:end], spelled, words,
                                                   plain[start - 1:start] if start else "", plain[end:end + 1]):
                continue
            for pid in lits:
                append((start, end, pid, keylen))
            for pid, head, tail, span in checks:
                s, e = start, end
                gaps: list[tuple[int, int]] = []
                if head is not None:
                    m = head.search(text, start - span if start > span else 0, start)
                    if m is None:
                        continue
                    s = m.start()
                    gaps.extend(m.span(g) for g in range(1, (m.lastindex or 0) + 1))
                if tail is not None:
                    m = tail.match(text, end)
                    if m is None:
                        continue
                    e = m.end()
                    gaps.extend(m.span(g) for g in range(1, (m.lastindex or 0) + 1))
                # A slot never swallows a negation (预算没有冻结 is not 预算…冻结), but it may hold a
                # word that only looks like one (尾款能不能缓一下, 价格是不是还能降).
                if negators is not None and any(b > a and negators.search(plain, a, b) and self._gap_negated(plain, a, b)
                                                for a, b in gaps):
                    continue
                append((s, e, pid, e - s - sum(b - a for a, b in gaps)))
        return out

    def _gap_negated(self, text: str, a: int, b: int) -> bool:
        """A real negator in ``text[a:b]`` once words like 能不能 / 不好意思 are masked."""
        if self._not_negators is None:
            return True
        lo, hi = max(0, a - 3), min(len(text), b + 3)
        masked = self._not_negators.sub(lambda m: "\x00" * len(m.group()), text[lo:hi])
        return self._negators is not None and self._negators.search(masked, a - lo, b - lo) is not None

    def _lexicon_signals(self, infos: list[_TurnInfo], compact: str, index: np.ndarray, soft: list[int],
                         pinyin: bool) -> list[RiskSignal]:
        turn_starts = [i.start for i in infos]
        raw = self._scan(compact, pinyin=False)
        allow_spans = [(s, e) for s, e, pid, _ in raw if self._patterns[pid].entry < 0]
        hits = [_Hit(0, s, e, self._patterns[pid].entry, "lexicon", n, self._patterns[pid].literal)
                for s, e, pid, n in raw if self._patterns[pid].entry >= 0]
        # The homophone pass: in full for speech (pinyin), and otherwise only for anchors
        # written as no word at all (招镖, 遇算, 拍版: an ASR or pinyin-IME slip in any text).
        pindex = self._pinyin_index() if pinyin or self._misspellings else None
        if pindex is not None and (pinyin or pindex.words):
            codes = to_pinyin_codes(compact)
            exact_spans = [(h.start, h.end, self._entries[h.entry].category) for h in hits]
            for s, e, pid, n in self._scan(codes, pinyin=True, plain=compact,
                                           words=None if pinyin else pindex.words):
                p = self._patterns[pid]
                if p.entry < 0 or (n < _PINYIN_MIN_CHARS and codes[s:e] not in pindex.short):
                    continue
                cat = self._entries[p.entry].category
                # A homophone hit adds something only where the exact pass found nothing.
                if any(a < e and s < b and c == cat for a, b, c in exact_spans):
                    continue
                if not self._content_differs(compact[s:e], pid, pindex):
                    continue
                hits.append(_Hit(0, s, e, p.entry, "pinyin", n, p.literal))
        if not hits:
            return []
        if len(hits) > 1:
            hits = _best_per_entry(hits)
        # Clause and sentence bounds (only computed when something hit).
        breaks = _Bounds(compact, _BREAK_RX, soft)
        sentence_breaks = _Bounds(compact, _SENTENCE_RX, [])
        accepted: list[_Hit] = []
        for h in hits:
            h.turn = bisect.bisect_right(turn_starts, h.start) - 1
            if allow_spans and any(s < h.end and h.start < e for s, e in allow_spans):
                continue
            if self._keep(h, infos, compact, index, breaks, sentence_breaks):
                accepted.append(h)
        accepted = self._answer_denied(accepted, infos, compact)
        return self._merge(accepted, infos, compact, index, breaks, sentence_breaks)

    @staticmethod
    def _content_differs(heard: str, pid: int, index: _PinyinIndex) -> bool:
        """True when the heard text differs from every spelling of the pattern somewhere
        outside the function characters (不在 vs 不再 is not an ASR error on a risk term)."""
        spelling = index.spellings[pid]
        return spelling is None or spelling.fullmatch(heard.translate(index.mask)) is None

    # ------------------------------------------------------------------ context rules

    def _keep(self, h: _Hit, infos: list[_TurnInfo], text: str, index: np.ndarray,
              breaks: _Bounds, sentence_breaks: _Bounds) -> bool:
        info = infos[h.turn]
        entry = self._entries[h.entry]
        s, e = h.start, h.end
        negators = self._negators
        # Negation just before the cue, inside its clause (the cheap regex test first).
        lo = s - self._long_window if s > self._long_window else 0
        if negators is not None and negators.search(text, max(lo, info.start), s) is not None:
            clause_start = breaks.start(s, info.start)
            # Three more characters are read so a word like 能不能 is seen whole, but only a
            # negator reaching into the window counts.
            left = text[max(clause_start, s - self._window - 3):s]
            if self._negated(left, text[s:e], window=self._window):
                if not self._rhetorical_question(text, clause_start, s, e, info, sentence_breaks):
                    return False
            elif (self._long_negators is not None
                    and self._long_negators.search(text, max(clause_start, lo), s)):
                return False
        # A denial right after it (太贵倒不至于); denial cues never span a sentence end.
        if self._denials_after is not None and self._denials_after.match(text, e, min(info.end, e + 10)):
            return False
        # Resolved later in the same turn (预算卡住了，上周已经批下来了).
        if self._resolutions is not None and self._resolutions.search(text, e, min(info.end, e + 24)):
            return False
        entry_rx = self._entry_exclude[h.entry]
        category_rx = self._category_exclude.get(entry.category)
        category_group = self._category_group[entry.category]
        groups = self._exclude_groups
        rep_turn = info.speaker != "customer"
        sent_start = info.start
        if (entry_rx is not None or category_rx is not None or rep_turn
                or h.entry in groups or category_group in groups):
            sent_start = sentence_breaks.start(s, info.start)
            sent_end = sentence_breaks.end(e - 1, info.end)
            window_start, window_end = max(sent_start, s - 30), min(sent_end, e + 30)
            if self._excluded(entry_rx, text, window_start, window_end, h.entry):
                return False
            if self._excluded(category_rx, text, window_start, window_end, category_group):
                return False
        if self._in_history(info, index, s):
            return False
        # Who said it.
        if not rep_turn:
            return entry.speaker != "rep"
        return self._rep_keeps(h, info, text, entry, sent_start, s)

    def _rhetorical_question(self, text: str, clause_start: int, s: int, e: int, info: _TurnInfo,
                             sentence_breaks: _Bounds) -> bool:
        """你们不是说好周三到吗？: the negator asks a question that affirms the hit."""
        if self._rhetorical is None or not self._rhetorical.search(text, max(clause_start, s - 12), s):
            return False
        end = sentence_breaks.end(e - 1, info.end)
        tail = text[e:min(end, e + 24)].rstrip("?？!！。 \n")
        return tail.endswith(("吗", "嘛", "么"))

    def _excluded(self, rx: re.Pattern[str] | None, text: str, lo: int, hi: int, group: int = -1) -> bool:
        """An exclusion found in the window, unless it is itself negated (不能接受 is not 能接受)."""
        if group in self._exclude_groups and hi > lo:
            for last, (n, groups) in self._exclude_ac.iter(text, lo, hi):
                start = last + 1 - n
                if group in groups and not self._negated(text[max(lo, start - 2):start]):
                    return True
        if rx is None:
            return False
        for m in rx.finditer(text, lo, hi):
            if not self._negated(text[max(lo, m.start() - 2):m.start()]):
                return True
        return False

    def _negated(self, left: str, cue: str = "", window: int | None = None) -> bool:
        if not left or self._negators is None:
            return False
        if self._not_negators is not None:
            left = self._not_negators.sub(lambda m: "\x00" * len(m.group()), left)
        last = None
        for m in self._negators.finditer(left):
            last = m
        if last is None or (window is not None and last.end() <= len(left) - window):
            return False
        # 不降我们就换: the negation belongs to a condition, not to the cue.
        return not (self._conditionals is not None and self._conditionals.search(left + cue, last.end()))

    def _rep_keeps(self, h: _Hit, info: _TurnInfo, text: str, entry: LexiconEntry,
                   sent_start: int, s: int) -> bool:
        before = text[max(sent_start, s - 40):s]
        cue_end = -1
        if self._restate is not None:
            for m in self._restate.finditer(before):
                cue_end = m.end()
        probe = self._probe is not None and self._probe.search(before, max(cue_end, 0)) is not None
        if probe:
            info.probed.add(entry.category)
            return False
        if entry.speaker in ("rep", "any"):
            return True
        if cue_end >= 0:
            return True
        # A relay (internal e-mail, meeting minutes) reports the customer's words throughout.
        return self._relay is not None and self._relay.search(text, info.start, info.end) is not None

    def _answer_denied(self, hits: list[_Hit], infos: list[_TurnInfo], text: str) -> list[_Hit]:
        """Drop hits of the categories the rep just probed when the customer's answer denies."""
        if self._answer_denials is None or not any(i.probed for i in infos):
            return hits
        out = []
        for h in hits:
            info = infos[h.turn]
            prev = infos[h.turn - 1] if h.turn > 0 else None
            if (info.speaker == "customer" and prev is not None and prev.speaker == "rep"
                    and self._entries[h.entry].category in prev.probed
                    and self._answer_denials.match(text, info.start, min(info.end, info.start + 8))):
                continue
            out.append(h)
        return out

    def _in_history(self, info: _TurnInfo, index: np.ndarray, pos: int) -> bool:
        """Quoted e-mail history, signatures and disclaimers never carry signals."""
        if info.history_cut == -1:
            raw = info.turn.text
            info.history_cut = _history_start(raw) if "\n" in raw else None
        cut = info.history_cut
        if cut is None:
            return False
        return int(index[pos]) - info.joined_start >= cut

    # ------------------------------------------------------------------ merge + quotes

    def _merge(self, hits: list[_Hit], infos: list[_TurnInfo], text: str, index: np.ndarray,
               breaks: _Bounds, sentence_breaks: _Bounds) -> list[RiskSignal]:
        entries = self._entries
        cats = [entries[h.entry].category for h in hits]
        # A hit strictly inside a longer hit of another category is shadowed by it: the longer
        # pattern read more of the sentence (货款先压一压 is payment, not the 先压一压 of an order).
        shadowed: set[int] = set()
        if len(hits) > 1:
            order = sorted(range(len(hits)), key=lambda i: (hits[i].turn, hits[i].start, -hits[i].end))
            for n, i in enumerate(order):
                o = hits[i]
                for j in order[n + 1:]:
                    h = hits[j]
                    if h.turn != o.turn or h.start >= o.end:
                        break
                    # The container must have read more of the words, not just spanned a gap.
                    if (h.end <= o.end and o.literal_chars > h.literal_chars and cats[i] != cats[j]
                            and (o.method == "lexicon" or h.method != "lexicon")
                            and frozenset((cats[i], cats[j])) not in self._shared):
                        shadowed.add(j)
        # One signal per (turn, category, sentence, point): a customer repeating a point in the
        # same breath is one point (太贵了，再便宜点吧). The quote spans the clauses involved.
        groups: dict[tuple[int, str, int, str], _Group] = {}
        for i, h in enumerate(hits):
            if i in shadowed:
                continue
            info = infos[h.turn]
            key = (h.turn, cats[i], sentence_breaks.start(h.start, info.start), entries[h.entry].point)
            g = groups.get(key)
            if g is None:
                groups[key] = _Group(h, entries[h.entry])
            else:
                g.add(h, entries[h.entry])
        # A minor cue (severity 1, e.g. a discount request) right next to a stronger one of the
        # same category in the same turn is part of that point (能不能再降点？这个价做不下来).
        strong = [(k, g) for k, g in groups.items() if g.severity >= 2]
        for minor in [k for k, g in groups.items() if g.severity == 1]:
            g = groups[minor]
            if any(k[0] == minor[0] and k[1] == minor[1] and sg.lo - _NEAR <= g.hi and g.lo <= sg.hi + _NEAR
                   for k, sg in strong):
                del groups[minor]
        # A minor cue whose point the customer's very next message makes in stronger words is
        # that point, said in two messages (又涨价了 / 这个涨幅我们接受不了).
        for minor in [k for k, g in groups.items() if g.severity == 1]:
            nxt = minor[0] + 1
            if (infos[minor[0]].speaker == "customer" and nxt < len(infos) and infos[nxt].speaker == "customer"
                    and any(k[0] == nxt and k[1] == minor[1] for k, _ in strong)):
                del groups[minor]
        # A minor cue in the same sentence as a stronger signal of another category belongs to
        # that point (先别发了 等通知), and a minor cue (a bare mention: 招标公告, 偏高) of a
        # category already raised earlier in the conversation is the same point again.
        ordered = sorted(groups.items(), key=lambda kv: kv[1].lo)
        sentence_best: dict[tuple[int, int], int] = {}
        for (turn, _, sent, _), g in ordered:
            sentence_best[(turn, sent)] = max(sentence_best.get((turn, sent), 0), g.severity)
        seen_categories: set[str] = set()
        for gkey, g in ordered:
            turn, cat, sent, _ = gkey
            if g.severity == 1 and (cat in seen_categories or sentence_best[(turn, sent)] > 1):
                del groups[gkey]
                continue
            if infos[turn].speaker == "customer":
                seen_categories.add(cat)
        out: list[RiskSignal] = []
        for g in groups.values():
            best = g.best
            entry = entries[best.entry]
            info = infos[best.turn]
            cs = breaks.start(g.lo, info.start)
            ce = breaks.end(g.hi - 1, info.end)
            if ce - cs > _MAX_QUOTE:
                cs = breaks.start(best.start, info.start)
                ce = breaks.end(best.end - 1, info.end)
                cs, ce = max(cs, best.start - 12), min(ce, best.end + 12)
            start, end = self._to_turn_span(info, text, index, cs, ce)
            confidence = 0.9 if best.literal else 0.8
            if best.method == "pinyin":
                confidence = 0.55 if best.literal_chars < 4 else 0.65
            out.append(RiskSignal(
                category=entry.category, quote=info.turn.text[start:end], speaker=info.speaker,
                turn=info.turn.index, start=start, end=end, confidence=confidence,
                severity=entry.severity, entry_id=entry.id, method=best.method, tags=entry.tags,
            ))
        out.sort(key=lambda x: (x.turn, x.start, x.category))
        return out

    @staticmethod
    def _to_turn_span(info: _TurnInfo, text: str, index: np.ndarray, cs: int, ce: int) -> tuple[int, int]:
        """Compact span → span of the turn's own text, trimmed of spaces."""
        while cs < ce and text[cs] == " ":
            cs += 1
        while ce > cs and text[ce - 1] == " ":
            ce -= 1
        start = int(index[cs]) - info.joined_start
        end = int(index[ce - 1]) + 1 - info.joined_start
        raw = info.turn.text
        while start < end and raw[start].isspace():
            start += 1
        while end > start and raw[end - 1].isspace():
            end -= 1
        return start, end

    # ------------------------------------------------------------------ semantic trackers

    def _semantic_signals(self, infos: list[_TurnInfo], found: list[RiskSignal],
                          threshold: float | None) -> list[RiskSignal]:
        from pipelines.semantic import SemanticTracker

        if self._tracker is None:
            assert self._embedder is not None
            self._tracker = SemanticTracker(self._embedder, self._lexicon.semantic_examples)
        return list(self._tracker.track([i.turn for i in infos if i.speaker == "customer"], found,
                                        threshold=threshold))


# ',' and '.' between digits are part of a number (3.2 / 1,000), not a clause break.
_BREAK_RX = re.compile(r"[，。！？；：、!?;:\n]|(?<![0-9])[.,]|[.,](?![0-9])")
_SENTENCE_RX = re.compile("[" + re.escape(_SENTENCE_BREAKS) + "]")
# "Everything up to the last break": one C-level match instead of a Python loop over breaks.
_LAST_OF = {rx: re.compile(r"(?s:.*)(?:" + rx.pattern + ")") for rx in (_BREAK_RX, _SENTENCE_RX)}
_HISTORY_RX = re.compile(
    r"^(?:[ \t]*>|[ \t]*-{2,}\s*(?:原始邮件|Original Message|转发的邮件|Forwarded message)"
    r"|[ \t]*(?:发件人|From)\s*[:：]|[ \t]*在.{0,80}写道\s*[:：]?\s*$|[ \t]*On .{0,120}wrote:\s*$"
    r"|--\s*$|[ \t]*_{5,}\s*$)",
    re.MULTILINE | re.IGNORECASE,
)
_DISCLAIMER_RX = re.compile(
    r"^.*(?:(?:本|此|该)邮件.{0,40}(?:保密|机密|仅限|授权|删除)|免责声明|保密声明|confidential|disclaimer).*$",
    re.MULTILINE | re.IGNORECASE,
)


def _history_start(raw: str) -> int | None:
    starts = []
    m = _HISTORY_RX.search(raw)
    if m:
        starts.append(m.start())
    m = _DISCLAIMER_RX.search(raw)
    if m:
        starts.append(m.start())
    return min(starts) if starts else None


def _dictionary_words() -> frozenset[str]:
    """Words of two to four characters from jieba's bundled dictionary (MIT), or none when
    jieba is not installed (the misspelling pass is then off)."""
    import importlib.util

    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        return frozenset()
    path = Path(spec.origin).parent / "dict.txt"
    if not path.is_file():
        return frozenset()
    with path.open(encoding="utf-8") as f:
        return frozenset(w for w in (line.split(" ", 1)[0] for line in f) if 2 <= len(w) <= 4)


def _misspelt(heard: str, spellings: Iterable[str], words: frozenset[str], before: str = "", after: str = "") -> bool:
    """True when ``heard`` sounds like one of ``spellings`` and reads as a slip of a word: at
    every differing character the intended spelling has a dictionary word (招标, 预算, 拍板)
    that the heard text breaks, and no two characters around it, counting the characters just
    ``before`` and ``after``, form a word of their own. 招镖 and 遇算 are slips; 汇款 is a word,
    not a misheard 回款; 比较规范 holds 规范, not a misheard 贵; 看采购 is no slip of 砍采购, as
    砍采 is no word."""
    if heard in words:
        return False
    text = before[-1:] + heard + after[:1]
    off = len(before[-1:])
    for lit in spellings:
        if len(lit) != len(heard):
            continue
        diff = [i for i, (a, b) in enumerate(zip(heard, lit, strict=True)) if a != b]
        if (diff
                and all(any(lit[j:j + 2] in words for j in (i - 1, i) if 0 <= j < len(lit) - 1) for i in diff)
                and not any(text[j:j + 2] in words for i in diff for j in (i + off - 1, i + off)
                            if 0 <= j < len(text) - 1)):
            return True
    return False


def _best_per_entry(hits: list[_Hit]) -> list[_Hit]:
    """Overlapping hits of one entry (several of its patterns on one phrase) → the one that
    read the most words; the context rules then run once per phrase."""
    hits.sort(key=lambda h: (h.entry, h.start))
    out: list[_Hit] = []
    for h in hits:
        last = out[-1] if out else None
        if last is not None and last.entry == h.entry and h.start < last.end and last.method == h.method:
            if (h.literal_chars, h.end - h.start) > (last.literal_chars, last.end - last.start):
                out[-1] = h
            continue
        out.append(h)
    out.sort(key=lambda h: h.start)
    return out


class _Bounds:
    """Clause (or sentence) bounds in the matched text, looked up around hits on demand.

    A hard break is a punctuation character at position ``b``: a clause ends at ``b`` and the
    next starts at ``b + 1``. A soft break (a removed pause) at ``q`` sits between ``q - 1``
    and ``q``: a clause ends and the next starts at ``q``. Clauses longer than ``_REACH``
    characters are cut there (quotes and context windows are short anyway).
    """

    __slots__ = ("text", "rx", "last", "soft", "cache")

    def __init__(self, text: str, rx: re.Pattern[str], soft: list[int]) -> None:
        self.text, self.rx, self.soft = text, rx, soft
        self.last = _LAST_OF[rx]
        self.cache: dict[tuple[int, int], int] = {}

    def start(self, pos: int, floor: int) -> int:
        """Start of the clause holding the character at ``pos`` (not before ``floor``)."""
        key = (pos, floor)
        found = self.cache.get(key)
        if found is not None:
            return found
        lo = max(floor, pos - _REACH)
        m = self.last.match(self.text, lo, pos)  # greedy: ends right after the last break
        found = m.end() if m else lo
        if self.soft:
            i = bisect.bisect_right(self.soft, pos) - 1
            if i >= 0 and self.soft[i] > found:
                found = self.soft[i]
        self.cache[key] = found
        return found

    def end(self, pos: int, ceiling: int) -> int:
        """End (exclusive) of the clause holding the character at ``pos`` (not after ``ceiling``)."""
        hi = min(ceiling, pos + 1 + _REACH)
        m = self.rx.search(self.text, pos + 1, hi)
        found = m.start() if m else hi
        if self.soft:
            i = bisect.bisect_right(self.soft, pos)
            if i < len(self.soft) and self.soft[i] < found:
                found = self.soft[i]
        return found


class _Group:
    """Hits of one category in one sentence of one turn."""

    __slots__ = ("best", "best_rank", "lo", "hi", "severity")

    def __init__(self, h: _Hit, entry: LexiconEntry) -> None:
        self.best, self.best_rank = h, _rank(h, entry)
        self.lo, self.hi, self.severity = h.start, h.end, entry.severity

    def add(self, h: _Hit, entry: LexiconEntry) -> None:
        rank = _rank(h, entry)
        if rank > self.best_rank:
            self.best, self.best_rank = h, rank
        self.lo, self.hi = min(self.lo, h.start), max(self.hi, h.end)
        self.severity = max(self.severity, entry.severity)


def _rank(h: _Hit, entry: LexiconEntry) -> tuple[int, int, int, int]:
    return (h.method == "lexicon", h.literal_chars, entry.severity, h.literal)


# ============================================================================ keywords


def load_stopwords(directory: Path | None = None) -> frozenset[str]:
    """Stop words for keyword extraction (``lexicons/stopwords.txt``, one per line, ``#`` comments)."""
    base = Path(directory) if directory is not None else DEFAULT_LEXICON_DIR
    path = base / "stopwords.txt"
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.add(line)
    return frozenset(words)


def load_idf(directory: Path | None = None) -> Mapping[str, float]:
    """The IDF table for keyword extraction (``lexicons/idf.txt``: ``word idf`` per line).

    The special key ``""`` holds the default IDF for words not in the table (the file's
    ``# default:`` header, else the median).

    Raises:
        LexiconError: a malformed line (``path:line: …``).
    """
    base = Path(directory) if directory is not None else DEFAULT_LEXICON_DIR
    path = base / "idf.txt"
    table: dict[str, float] = {}
    default: float | None = None
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                m = re.match(r"#\s*default:\s*([0-9.]+)", line)
                if m:
                    default = float(m.group(1))
                continue
            parts = line.split()
            if len(parts) != 2:
                raise LexiconError(f"{path}:{n}: expected 'word idf', got {line!r}")
            try:
                value = float(parts[1])
            except ValueError:
                raise LexiconError(f"{path}:{n}: idf {parts[1]!r} is not a number") from None
            if not math.isfinite(value) or value < 0:
                raise LexiconError(f"{path}:{n}: idf must be a finite number >= 0")
            table[parts[0]] = value
    if default is None:
        values = sorted(table.values())
        default = values[len(values) // 2] if values else 10.0
    table[""] = default
    return MappingProxyType(table)


_KEYWORD_OK = re.compile(r"^(?:[\u4e00-\u9fff]{2,}|[A-Za-z][A-Za-z0-9+#.-]{1,}|[\u4e00-\u9fff]+[A-Za-z0-9]+|[A-Za-z0-9]+[\u4e00-\u9fff]+)$")


def extract_keywords(tokens: Sequence[str], idf: Mapping[str, float], *, top_k: int = 8,
                     stopwords: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """TF-IDF keywords for the record.

    Tokens that are stop words, single characters, numbers or punctuation are skipped;
    the rest score ``count * idf`` (``idf[""]`` for unknown words, else 10) and ties keep
    first-occurrence order.

    Args:
        tokens: words of the conversation, in order (e.g. ``Segmenter.cut``).
        idf: from ``load_idf``.
        top_k: how many to return.
        stopwords: from ``load_stopwords``.

    Returns:
        Up to ``top_k`` keywords, best first.
    """
    if top_k <= 0:
        return ()
    default = idf.get("", 10.0)
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for i, tok in enumerate(tokens):
        word = tok.strip()
        if not word or word in stopwords or word.lower() in stopwords:
            continue
        if not _KEYWORD_OK.match(word) or word.isdigit():
            continue
        counts[word] += 1
        first.setdefault(word, i)
    scored = sorted(counts, key=lambda w: (-(counts[w] * idf.get(w, default)), first[w]))
    return tuple(scored[:top_k])
