"""Decode call recordings into the 16 kHz float32 arrays Whisper expects.

Anything FFmpeg (through PyAV's bundled libraries) decodes is accepted: WAV, MP3, M4A/AAC, AMR
(narrow-band telephone and older voice messages), OGG/Opus, FLAC, WebM, … . Two-channel input keeps
its channels apart because a stereo call recording usually carries the rep on one side and the
customer on the other (issue 5); every other layout is mixed down to mono.

Errors form a small tree so the service can map them to HTTP statuses without this module knowing
about HTTP::

    AudioError(ValueError)          .code
    ├── EmptyAudio                  "empty-audio"        no bytes, or no audio samples
    ├── UndecodableAudio            "undecodable-audio"  corrupt, truncated or unsupported input
    └── AudioTooLong                "audio-too-long"     longer than the configured maximum

Messages say what to do. A *silent* recording decodes fine (it is valid audio); whether silence is
an error is the caller's decision, helped by :func:`is_silent`.
"""

from __future__ import annotations

import gc
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

__all__ = [
    "SAMPLE_RATE_HZ",
    "SUPPORTED_FORMATS",
    "AudioSource",
    "AudioError",
    "EmptyAudio",
    "UndecodableAudio",
    "AudioTooLong",
    "DecodedAudio",
    "load_audio",
    "channels_differ",
    "is_silent",
    "rms_dbfs",
]

logger = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 16_000
SUPPORTED_FORMATS = "WAV, MP3, M4A/AAC, AMR, OGG/Opus, FLAC, WebM (anything FFmpeg decodes)"

AudioSource = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

# Resample in blocks of this many input samples: per-frame resampling is slow in PyAV, and a
# block bounds the memory of the FIFO (faster-whisper does the same).
_BLOCK_SAMPLES = 500_000
# WeChat voice messages are Tencent SILK v3, which FFmpeg cannot decode; recognise them so the
# error can say so instead of "corrupt".
_SILK_MAGIC = b"#!SILK_V3"


class AudioError(ValueError):
    """Base of the audio errors; ``code`` is a stable machine-readable identifier."""

    code: str = "audio-error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class EmptyAudio(AudioError):
    """The input has no bytes or no audio samples."""

    code = "empty-audio"


class UndecodableAudio(AudioError):
    """The input is corrupt, truncated, not audio, or in a codec FFmpeg cannot decode."""

    code = "undecodable-audio"


class AudioTooLong(AudioError):
    """The recording is longer than the configured maximum."""

    code = "audio-too-long"

    def __init__(self, detail: str, *, duration_s: float | None, max_duration_s: float) -> None:
        super().__init__(detail)
        self.duration_s = duration_s
        self.max_duration_s = max_duration_s

    @classmethod
    def for_duration(cls, duration_s: float | None, max_duration_s: float) -> AudioTooLong:
        """The error with its standard message (``duration_s`` None when only known to exceed)."""
        length = f"{duration_s / 60:.1f} minutes" if duration_s is not None else "longer than the limit"
        return cls(
            f"The recording is {length}; the maximum is {max_duration_s / 60:.1f} minutes. "
            "Split it into shorter parts or raise NLP_ASR__MAX_DURATION_S.",
            duration_s=duration_s,
            max_duration_s=max_duration_s,
        )


@dataclass(frozen=True, slots=True, eq=False)
class DecodedAudio:
    """Decoded audio, resampled to :data:`SAMPLE_RATE_HZ`.

    Attributes:
        channels: one float32 array in [-1, 1] per kept channel: two for a two-channel source
            (left, right), otherwise one (mixed down).
        source_channels: channel count of the input stream.
        source_sample_rate_hz: sample rate of the input stream.
        codec: FFmpeg codec name of the input stream (``pcm_s16le``, ``mp3``, ``amrnb`` …).
        container: FFmpeg container format name (``wav``, ``mov,mp4,m4a,3gp,3g2,mj2`` …).
        sample_rate_hz: sample rate of ``channels`` (always 16 kHz).
    """

    channels: tuple[np.ndarray, ...]
    source_channels: int
    source_sample_rate_hz: int
    codec: str
    container: str
    sample_rate_hz: int = SAMPLE_RATE_HZ

    @property
    def duration_s(self) -> float:
        return len(self.channels[0]) / self.sample_rate_hz if self.channels else 0.0

    def mono(self) -> np.ndarray:
        """The channels mixed down to one float32 array."""
        if len(self.channels) == 1:
            return self.channels[0]
        mixed: np.ndarray = np.stack(self.channels).mean(axis=0, dtype=np.float32)
        return mixed


def load_audio(
    source: AudioSource,
    *,
    max_duration_s: float | None = None,
    keep_stereo: bool = True,
) -> DecodedAudio:
    """Decode ``source`` to 16 kHz float32.

    Args:
        source: a file path, the file's bytes, or a readable binary file object.
        max_duration_s: refuse recordings longer than this (checked from the container header
            before decoding when it is known, and again while decoding).
        keep_stereo: keep the two channels of a stereo source apart; False mixes down to mono.

    Returns:
        The decoded audio.

    Raises:
        FileNotFoundError: ``source`` is a path that does not exist.
        IsADirectoryError: ``source`` is a directory.
        EmptyAudio: no bytes or no samples.
        UndecodableAudio: corrupt or unsupported input.
        AudioTooLong: longer than ``max_duration_s``.
    """
    stream_in = _open_source(source)
    try:
        container = av.open(stream_in, mode="r", metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise UndecodableAudio(
            _undecodable_detail(stream_in, f"the data is not a recognised audio file ({_short(exc)})")
        ) from exc
    try:
        return _decode(container, max_duration_s=max_duration_s, keep_stereo=keep_stereo)
    finally:
        container.close()
        # PyAV's resampler keeps native buffers alive until the cycle collector runs
        # (SYSTRAN/faster-whisper#390); long-running workers otherwise grow.
        gc.collect()


def channels_differ(
    left: np.ndarray,
    right: np.ndarray,
    *,
    max_abs_correlation: float = 0.8,
    max_samples: int = 10 * 60 * SAMPLE_RATE_HZ,
) -> bool:
    """Whether two channels carry different signals (a real two-sided call) or one copied signal.

    Gain-invariant: a channel that is a scaled or inverted copy of the other counts as the same.
    A channel that is silent while the other is not also counts as "not different": such files
    are mono recordings written to one side, not a call where one party never spoke. Long
    recordings are judged on up to ``max_samples`` samples taken in evenly spaced blocks.
    """
    n = min(len(left), len(right))
    if n == 0:
        return False
    a = _sample_blocks(left[:n], max_samples).astype(np.float64)
    b = _sample_blocks(right[:n], max_samples).astype(np.float64)
    if is_silent(a) or is_silent(b):
        return False
    a -= a.mean()
    b -= b.mean()
    denom = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    if denom == 0.0:
        return False
    return abs(float(np.dot(a, b)) / denom) < max_abs_correlation


def _sample_blocks(samples: np.ndarray, max_samples: int, *, blocks: int = 60) -> np.ndarray:
    if len(samples) <= max_samples:
        return samples
    size = max_samples // blocks
    starts = np.linspace(0, len(samples) - size, blocks).astype(np.int64)
    return np.concatenate([samples[s : s + size] for s in starts])


def rms_dbfs(samples: np.ndarray) -> float:
    """Root-mean-square level in dB relative to full scale (-inf for digital silence)."""
    if len(samples) == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


def is_silent(samples: np.ndarray, *, threshold_dbfs: float = -55.0) -> bool:
    """True when the signal never rises above ``threshold_dbfs`` (RMS over 100 ms windows)."""
    if len(samples) == 0:
        return True
    window = SAMPLE_RATE_HZ // 10
    usable = len(samples) - len(samples) % window
    if usable == 0:
        return rms_dbfs(samples) < threshold_dbfs
    # Sixty seconds at a time, so hours of audio need no full-length temporary arrays.
    threshold = (10.0 ** (threshold_dbfs / 20.0)) ** 2 * window
    step = 600 * window
    for start in range(0, usable, step):
        frames = np.asarray(samples[start : min(start + step, usable)]).reshape(-1, window)
        energy = np.einsum("ij,ij->i", frames, frames, dtype=np.float64)
        if float(energy.max()) >= threshold:
            return False
    return True


# ---------------------------------------------------------------- decoding internals


def _open_source(source: AudioSource) -> str | BinaryIO:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise EmptyAudio("The upload is empty (0 bytes). Send the recording file itself.")
        return io.BytesIO(data)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a directory, not an audio file")
        if not path.is_file():
            raise FileNotFoundError(f"No such audio file: {path}")
        if path.stat().st_size == 0:
            raise EmptyAudio(f"{path.name} is empty (0 bytes). Send the recording file itself.")
        return str(path)
    # A file object: PyAV needs to seek (MP4/M4A keep their index at the end).
    seekable = getattr(source, "seekable", None)
    if not (callable(seekable) and seekable()):
        data = source.read()
        if not data:
            raise EmptyAudio("The upload is empty (0 bytes). Send the recording file itself.")
        return io.BytesIO(data)
    position = source.tell()
    if not source.read(1):
        raise EmptyAudio("The upload is empty (0 bytes). Send the recording file itself.")
    source.seek(position)
    return source


def _decode(
    container: av.container.InputContainer, *, max_duration_s: float | None, keep_stereo: bool
) -> DecodedAudio:
    if not container.streams.audio:
        raise UndecodableAudio(
            f"The file has no audio stream (container {container.format.name!r}). "
            f"Send a recording in one of: {SUPPORTED_FORMATS}."
        )
    stream = container.streams.audio[0]
    source_channels = stream.codec_context.channels or 0
    source_rate = stream.codec_context.sample_rate or 0
    codec = stream.codec_context.name
    header_duration = _header_duration_s(container, stream)
    if max_duration_s is not None and header_duration is not None and header_duration > max_duration_s:
        raise _too_long(header_duration, max_duration_s)

    stereo = keep_stereo and source_channels == 2
    max_samples = None if max_duration_s is None else int(max_duration_s * SAMPLE_RATE_HZ) + 1
    blocks: list[np.ndarray] = []
    total = 0
    errors = 0
    fifo = av.AudioFifo()
    resampler = av.AudioResampler(format="fltp", layout="stereo" if stereo else "mono", rate=SAMPLE_RATE_HZ)

    def drain(final: bool) -> None:
        nonlocal total, resampler
        while fifo.samples >= _BLOCK_SAMPLES or (final and fifo.samples):
            chunk = fifo.read(min(fifo.samples, _BLOCK_SAMPLES))
            if chunk is None:
                break
            for out in resampler.resample(chunk):
                blocks.append(out.to_ndarray())
                total += out.samples
        if final:
            for out in resampler.resample(None):
                blocks.append(out.to_ndarray())
                total += out.samples

    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except (av.error.InvalidDataError, av.error.EOFError) as exc:
                # Damaged packets inside an otherwise good file (common in phone-system exports):
                # skip them like FFmpeg does, but fail if nothing decodes at all.
                errors += 1
                logger.debug("skipping undecodable packet: %s", exc)
                continue
            for frame in frames:
                frame.pts = None  # the FIFO checks timestamps; telephone exports often have gaps
                try:
                    fifo.write(frame)
                except ValueError:
                    # The stream changed format mid-way (sample rate/layout): flush and restart.
                    drain(final=True)
                    fifo = av.AudioFifo()
                    resampler = av.AudioResampler(
                        format="fltp", layout="stereo" if stereo else "mono", rate=SAMPLE_RATE_HZ
                    )
                    fifo.write(frame)
                drain(final=False)
                if (
                    max_samples is not None
                    and total + _resampled(fifo.samples, frame.sample_rate) > max_samples
                ):
                    raise _too_long(None, max_duration_s or 0.0)
        drain(final=True)
    except av.FFmpegError as exc:
        # A damaged stream: keep what decoded before the damage (a call cut short is still a call).
        logger.debug("stopping at a decoding error after %d samples: %s", total, exc)
        if fifo.samples:
            drain(final=True)
        if total == 0:
            raise UndecodableAudio(_undecodable_detail(None, f"decoding failed ({_short(exc)})")) from exc
    finally:
        del resampler

    if total == 0:
        if errors:
            raise UndecodableAudio(
                _undecodable_detail(None, f"no packet of the {codec} stream could be decoded")
            )
        raise EmptyAudio("The recording contains no audio samples. Check that the file is not truncated.")
    planar = np.concatenate(blocks, axis=1).astype(np.float32, copy=False)
    if max_duration_s is not None and max_samples is not None and planar.shape[1] > max_samples:
        raise _too_long(planar.shape[1] / SAMPLE_RATE_HZ, max_duration_s)
    channels = tuple(np.ascontiguousarray(planar[i]) for i in range(planar.shape[0]))
    return DecodedAudio(
        channels=channels,
        source_channels=source_channels,
        source_sample_rate_hz=source_rate,
        codec=codec,
        container=container.format.name,
    )


def _resampled(samples: int, rate: int | None) -> int:
    return int(samples * SAMPLE_RATE_HZ / rate) if rate else samples


def _header_duration_s(container: av.container.InputContainer, stream: av.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _too_long(duration_s: float | None, max_duration_s: float) -> AudioTooLong:
    return AudioTooLong.for_duration(duration_s, max_duration_s)


def _undecodable_detail(stream_in: str | BinaryIO | None, reason: str) -> str:
    head = b""
    try:
        if isinstance(stream_in, str):
            with open(stream_in, "rb") as f:
                head = f.read(16)
        elif stream_in is not None and stream_in.seekable():
            position = stream_in.tell()
            stream_in.seek(0)
            head = stream_in.read(16)
            stream_in.seek(position)
    except OSError:
        head = b""
    if _SILK_MAGIC in head[:10]:
        return (
            "This is a WeChat SILK v3 voice message, which cannot be decoded here. Convert it to "
            f"WAV or MP3 first (for example with silk-v3-decoder). Supported: {SUPPORTED_FORMATS}."
        )
    return f"Cannot decode the audio: {reason}. The file may be corrupt or truncated. Supported: {SUPPORTED_FORMATS}."


def _short(exc: BaseException) -> str:
    # FFmpegError.strerror leaves out the file name: details go to API clients.
    text = (getattr(exc, "strerror", None) or type(exc).__name__).strip()
    return text[:160]
