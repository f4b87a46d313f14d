"""Orchestration: one interaction in, one ``Enrichment`` out.

Calls the stages in order (ingest → segmentation → risk signals → record fields → summary →
keywords), times each, and records model and lexicon versions. The stages are injected
(``Pipeline`` holds them), so this module has no I/O and no settings; the service builds one
``Pipeline`` per process through the model registry.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Protocol

from pipelines.conversation import Channel, Conversation, Format, Speaker, Turn
from pipelines.fields import FieldLexicons, RecordFields, extract_fields
from pipelines.ingest import parse_content
from pipelines.keywords import DetectorOptions, RiskSignal, extract_keywords
from pipelines.segment import Segmenter
from pipelines.summarize import Summary
from pipelines.timeexpr import find_times

__all__ = ["InteractionInput", "Enrichment", "Detector", "SummarizerStage", "Pipeline", "CST"]

CST = timezone(timedelta(hours=8))


@dataclass(frozen=True, slots=True)
class InteractionInput:
    """The service's internal view of a posted interaction."""

    id: str
    channel: Channel
    format: Format
    customer_id: str
    occurred_at: datetime
    content: str | bytes
    participants: Mapping[str, Mapping[str, Any]] | None = None
    speaker: Speaker = "customer"
    team: str | None = None
    region: str | None = None
    rep_id: str | None = None
    tenant: str = "default"


@dataclass(frozen=True, slots=True)
class Enrichment:
    interaction: InteractionInput
    conversation: Conversation
    signals: tuple[RiskSignal, ...]
    fields: RecordFields
    summary: Summary
    keywords: tuple[str, ...]
    timings_ms: Mapping[str, float]
    versions: Mapping[str, Any]


class Detector(Protocol):
    @property
    def version(self) -> str: ...

    def detect(self, turns: Sequence[Turn], options: DetectorOptions = ...) -> tuple[RiskSignal, ...]: ...


class SummarizerStage(Protocol):
    @property
    def model_id(self) -> str: ...

    def summarize(self, turns: Sequence[Turn], *, boosts: Mapping[int, float] | None = None) -> Summary: ...


PinyinMode = Literal["auto", "on", "off"]


@dataclass
class Pipeline:
    """The text stages of one process, and the knobs the service sets on them."""

    segmenter: Segmenter
    detector: Detector
    summarizer: SummarizerStage
    field_lexicons: FieldLexicons
    idf: Mapping[str, float]
    stopwords: frozenset[str]
    our_domains: tuple[str, ...] = ()
    pinyin: PinyinMode = "auto"
    semantic: bool = False
    extra_versions: dict[str, Any] = field(default_factory=dict)

    def detector_options(self, channel: str) -> DetectorOptions:
        asr = channel in ("call", "meeting")
        pinyin = self.pinyin == "on" or (self.pinyin == "auto" and asr)
        return DetectorOptions(pinyin=pinyin, semantic=self.semantic)

    def parse(self, item: InteractionInput) -> Conversation:
        return parse_content(item.format, item.content, channel=item.channel, started_at=item.occurred_at,
                             participants=item.participants, our_domains=self.our_domains, speaker=item.speaker)

    def enrich(self, item: InteractionInput, *, conversation: Conversation | None = None) -> Enrichment:
        """Run every stage on one interaction.

        Raises:
            IngestError: the content does not parse as its format.
        """
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        conv = conversation or self.parse(item)
        t1 = time.perf_counter()
        timings["ingest"] = (t1 - t0) * 1000
        turns = conv.text_turns
        signals = self.detector.detect(turns, self.detector_options(item.channel))
        t2 = time.perf_counter()
        timings["risk_signals"] = (t2 - t1) * 1000
        fields = extract_fields(conv, signals, reference=item.occurred_at, lexicons=self.field_lexicons,
                                find_times=find_times)
        t3 = time.perf_counter()
        timings["record_fields"] = (t3 - t2) * 1000
        boosts = _boosts(signals, fields)
        summary = self.summarizer.summarize(turns, boosts=boosts)
        t4 = time.perf_counter()
        timings["summary"] = (t4 - t3) * 1000
        tokens = [w for t in turns for w in self.segmenter.cut(t.text)]
        keywords = extract_keywords(tokens, self.idf, top_k=8, stopwords=self.stopwords)
        t5 = time.perf_counter()
        timings["keywords"] = (t5 - t4) * 1000
        timings["total"] = (t5 - t0) * 1000
        versions = {"lexicon": self.detector.version, "models": {"summary": self.summarizer.model_id},
                    **self.extra_versions}
        return Enrichment(item, conv, signals, fields, summary, tuple(keywords),
                          {k: round(v, 3) for k, v in timings.items()}, versions)

    def detect_texts(self, rows: Iterable[tuple[str, Speaker]], *, channel: str = "other") -> list[tuple[RiskSignal, ...]]:
        """Detect signals in independent single utterances (the ``detect`` verb)."""
        options = self.detector_options(channel)
        return [self.detector.detect((Turn(index=0, speaker=speaker, text=text),), options)
                for text, speaker in rows]


def _boosts(signals: Sequence[RiskSignal], fields: RecordFields) -> dict[int, float]:
    boosts: dict[int, float] = {}
    for s in signals:
        boosts[s.turn] = boosts.get(s.turn, 0.0) + 1.0
    if fields.next_action and fields.next_action.turn is not None:
        boosts[fields.next_action.turn] = boosts.get(fields.next_action.turn, 0.0) + 0.5
    return boosts
