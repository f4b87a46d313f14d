"""Decoding call recordings: formats, layouts, resampling and the typed errors."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest

from pipelines import audio as audio_mod
from pipelines.audio import (
    SAMPLE_RATE_HZ,
    AudioError,
    AudioTooLong,
    DecodedAudio,
    EmptyAudio,
    UndecodableAudio,
    channels_differ,
    is_silent,
    load_audio,
    rms_dbfs,
)

AUDIO = Path(__file__).resolve().parent.parent / "data" / "audio"
CLIP_A = AUDIO / "paddle_zh.wav"  # 5.00 s
CLIP_B = AUDIO / "funasr_asr_example.wav"  # 5.55 s


def write_audio(
    path: Path,
    channels: list[np.ndarray],
    *,
    rate: int = SAMPLE_RATE_HZ,
    codec: str = "pcm_s16le",
    container: str | None = None,
    out_rate: int | None = None,
    layout: str | None = None,
) -> Path:
    """Encode float32 channels with PyAV (test fixtures are built, never committed)."""
    planar = np.stack([np.asarray(c, dtype=np.float32) for c in channels])
    layout = layout or ("mono" if len(channels) == 1 else "stereo")
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=out_rate or rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """16 kHz → ``rate`` with PyAV (to build narrow-band telephone fixtures)."""
    resampler = av.AudioResampler(format="fltp", layout="mono", rate=rate)
    frame = av.AudioFrame.from_ndarray(samples[None, :].astype(np.float32), format="fltp", layout="mono")
    frame.sample_rate = SAMPLE_RATE_HZ
    out = [f.to_ndarray()[0] for f in resampler.resample(frame)] + [
        f.to_ndarray()[0] for f in resampler.resample(None)
    ]
    return np.concatenate(out)


@pytest.fixture(scope="module")
def clip_a() -> np.ndarray:
    return load_audio(CLIP_A).channels[0]


@pytest.fixture(scope="module")
def clip_b() -> np.ndarray:
    return load_audio(CLIP_B).channels[0]


# ---------------------------------------------------------------- decoding


def test_audio_decodes_wav_to_16k_float32() -> None:
    decoded = load_audio(CLIP_A)
    assert isinstance(decoded, DecodedAudio)
    assert len(decoded.channels) == 1
    samples = decoded.channels[0]
    assert samples.dtype == np.float32
    assert decoded.sample_rate_hz == SAMPLE_RATE_HZ
    assert decoded.duration_s == pytest.approx(79949 / 16000)
    assert -1.0 <= samples.min() < -0.05 and 0.05 < samples.max() <= 1.0
    assert decoded.codec == "pcm_s16le" and decoded.container == "wav"
    assert decoded.source_channels == 1 and decoded.source_sample_rate_hz == 16000


def test_audio_accepts_bytes_file_objects_and_unseekable_streams(clip_a: np.ndarray) -> None:
    data = CLIP_A.read_bytes()

    class Unseekable(io.RawIOBase):
        def __init__(self, payload: bytes) -> None:
            self._inner = io.BytesIO(payload)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer) -> int:  # noqa: ANN001
            chunk = self._inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    for source in (data, bytearray(data), io.BytesIO(data), Unseekable(data), str(CLIP_A)):
        samples = load_audio(source).channels[0]  # type: ignore[arg-type]
        np.testing.assert_array_equal(samples, clip_a)


# fmt: off
FORMATS = (
    # name, codec, container, encoder rate
    ("x.mp3", "libmp3lame", None, None),
    ("x.m4a", "aac", "ipod", None),
    ("x.ogg", "libopus", "ogg", 48000),
    ("x.flac", "flac", None, None),
    ("x.amr", "libopencore_amrnb", "amr", 8000),
    ("x.webm", "libopus", "webm", 48000),
)
# fmt: on


@pytest.mark.parametrize(("name", "codec", "container", "rate"), FORMATS, ids=[f[0] for f in FORMATS])
def test_audio_decodes_common_formats(
    tmp_path: Path, clip_a: np.ndarray, name: str, codec: str, container: str | None, rate: int | None
) -> None:
    path = write_audio(tmp_path / name, [clip_a], codec=codec, container=container, out_rate=rate)
    decoded = load_audio(path)
    assert decoded.sample_rate_hz == SAMPLE_RATE_HZ
    assert len(decoded.channels) == 1
    # Codec padding/priming adds at most a few frames.
    assert decoded.duration_s == pytest.approx(len(clip_a) / SAMPLE_RATE_HZ, abs=0.15)
    assert not is_silent(decoded.channels[0])
    assert load_audio(path.read_bytes()).duration_s == pytest.approx(decoded.duration_s, abs=1e-3)


def test_audio_upsamples_8k_telephone_audio(tmp_path: Path, clip_a: np.ndarray) -> None:
    narrow = resample(clip_a, 8000)
    path = write_audio(tmp_path / "call8k.wav", [narrow], rate=8000)
    decoded = load_audio(path)
    assert decoded.source_sample_rate_hz == 8000
    assert decoded.duration_s == pytest.approx(5.0, abs=0.02)
    assert len(decoded.channels[0]) == pytest.approx(len(clip_a), abs=200)


def test_audio_keeps_stereo_channels_apart(tmp_path: Path, clip_a: np.ndarray, clip_b: np.ndarray) -> None:
    n = min(len(clip_a), len(clip_b))
    path = write_audio(tmp_path / "call.wav", [clip_a[:n], clip_b[:n]])
    decoded = load_audio(path)
    assert decoded.source_channels == 2 and len(decoded.channels) == 2
    left, right = decoded.channels
    assert np.corrcoef(left, clip_a[:n])[0, 1] > 0.999
    assert np.corrcoef(right, clip_b[:n])[0, 1] > 0.999
    np.testing.assert_allclose(decoded.mono(), (left + right) / 2, atol=1e-6)
    mixed = load_audio(path, keep_stereo=False)
    assert len(mixed.channels) == 1
    assert np.corrcoef(mixed.channels[0], (clip_a[:n] + clip_b[:n]) / 2)[0, 1] > 0.999


def test_audio_mixes_down_more_than_two_channels(tmp_path: Path, clip_a: np.ndarray) -> None:
    six = [clip_a * 0.5] * 6
    path = write_audio(tmp_path / "surround.wav", six, layout="5.1")
    decoded = load_audio(path)
    assert decoded.source_channels == 6
    assert len(decoded.channels) == 1


# ---------------------------------------------------------------- errors


def test_audio_error_tree_and_codes() -> None:
    for cls, code in ((EmptyAudio, "empty-audio"), (UndecodableAudio, "undecodable-audio")):
        error = cls("detail")
        assert isinstance(error, AudioError) and isinstance(error, ValueError)
        assert error.code == code and error.detail == "detail"
    too_long = AudioTooLong("detail", duration_s=10.0, max_duration_s=5.0)
    assert isinstance(too_long, AudioError) and too_long.code == "audio-too-long"


def test_audio_empty_inputs(tmp_path: Path) -> None:
    empty_file = tmp_path / "empty.wav"
    empty_file.write_bytes(b"")
    for source in (b"", empty_file, io.BytesIO(b"")):
        with pytest.raises(EmptyAudio) as info:
            load_audio(source)  # type: ignore[arg-type]
        assert info.value.code == "empty-audio"
        assert "0 bytes" in str(info.value)


def test_audio_header_without_samples_is_empty() -> None:
    header_only = CLIP_A.read_bytes()[:44]
    with pytest.raises(EmptyAudio):
        load_audio(header_only)


@pytest.mark.parametrize(
    "payload",
    [
        b"this is not audio at all" * 40,
        bytes(range(256)) * 20,
        b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\xff" * 200,
        b"%PDF-1.7\n" + b"0" * 500,
    ],
    ids=["text", "binary", "broken-wav-header", "pdf"],
)
def test_audio_corrupt_input_is_undecodable(payload: bytes) -> None:
    with pytest.raises(UndecodableAudio) as info:
        load_audio(payload)
    message = str(info.value)
    assert info.value.code == "undecodable-audio"
    assert "WAV" in message and "MP3" in message and "AMR" in message  # says what works


@pytest.mark.parametrize(
    ("name", "codec", "container", "rate"),
    [("x.mp3", "libmp3lame", None, None), ("x.amr", "libopencore_amrnb", "amr", 8000)],
    ids=["mp3", "amr"],
)
def test_audio_damage_in_the_middle_keeps_what_decodes(
    tmp_path: Path, clip_a: np.ndarray, name: str, codec: str, container: str | None, rate: int | None
) -> None:
    data = bytearray(
        write_audio(tmp_path / name, [clip_a], codec=codec, container=container, out_rate=rate).read_bytes()
    )
    middle = len(data) // 2
    data[middle : middle + 400] = np.random.default_rng(0).integers(0, 256, 400, dtype=np.uint8).tobytes()
    decoded = load_audio(bytes(data))
    assert 2.0 <= decoded.duration_s <= 5.1
    truncated = load_audio(bytes(data[: len(data) // 3]))
    assert 1.0 <= truncated.duration_s <= 2.5


def test_audio_corrupt_file_message_does_not_leak_the_path(tmp_path: Path) -> None:
    path = tmp_path / "secret-customer-name.m4a"
    path.write_bytes(b"\x00\x01garbage" * 100)
    with pytest.raises(UndecodableAudio) as info:
        load_audio(path)
    assert "secret-customer-name" not in str(info.value)


def test_audio_wechat_silk_gets_a_specific_message() -> None:
    with pytest.raises(UndecodableAudio, match="SILK"):
        load_audio(b"\x02#!SILK_V3" + bytes(400))


def test_audio_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_audio(tmp_path / "nope.wav")
    with pytest.raises(IsADirectoryError):
        load_audio(tmp_path)


def test_audio_too_long_from_header() -> None:
    with pytest.raises(AudioTooLong) as info:
        load_audio(CLIP_A, max_duration_s=2.0)
    assert info.value.duration_s == pytest.approx(5.0, abs=0.01)
    assert info.value.max_duration_s == 2.0
    assert "NLP_ASR__MAX_DURATION_S" in str(info.value)
    assert load_audio(CLIP_A, max_duration_s=6.0).duration_s == pytest.approx(5.0, abs=0.01)


def test_audio_too_long_detected_while_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    # Streams without a duration in their header (raw ADTS, live exports) are checked as they decode.
    monkeypatch.setattr(audio_mod, "_header_duration_s", lambda container, stream: None)
    with pytest.raises(AudioTooLong):
        load_audio(CLIP_A, max_duration_s=2.0)


# ---------------------------------------------------------------- signal helpers


def test_audio_channels_differ(clip_a: np.ndarray, clip_b: np.ndarray) -> None:
    n = min(len(clip_a), len(clip_b))
    a, b = clip_a[:n], clip_b[:n]
    assert channels_differ(a, b)
    assert not channels_differ(a, a.copy())
    assert not channels_differ(a, 0.5 * a)  # gain-invariant
    assert not channels_differ(a, -a)  # phase-inverted copy
    assert not channels_differ(a, np.zeros_like(a))  # one side silent: a mono file on one side
    assert not channels_differ(np.zeros(0, np.float32), np.zeros(0, np.float32))
    # Long recordings are judged on evenly spaced blocks.
    assert channels_differ(a, b, max_samples=16000) and not channels_differ(a, a * 2, max_samples=16000)


def test_audio_silence_detection(clip_a: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    assert is_silent(np.zeros(16000, np.float32))
    assert is_silent(np.zeros(0, np.float32))
    assert is_silent((rng.standard_normal(16000) * 10 ** (-75 / 20)).astype(np.float32))
    assert not is_silent(clip_a)
    quiet_then_loud = np.concatenate([np.zeros(16000 * 70, np.float32), clip_a])  # loud after a minute
    assert not is_silent(quiet_then_loud)
    assert not is_silent((rng.standard_normal(16000) * 0.05).astype(np.float32))
    assert rms_dbfs(np.zeros(10, np.float32)) == float("-inf")
    assert rms_dbfs(np.full(100, 0.5, np.float32)) == pytest.approx(-6.02, abs=0.01)
