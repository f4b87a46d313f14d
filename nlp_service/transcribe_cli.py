"""``nlp-service transcribe FILE…``: one JSON line per recording (issue 5).

Each line is ``{"path", "text", "segments": [{start_s, end_s, text, speaker}], "language",
"duration_s", "layout", "model", "rtf"}``; a file that fails prints ``{"path", "error": {"code",
"detail"}}`` and the command exits 1 after the last file. Tracebacks never reach stdout: the
evaluation (``shared/tools/evaluate.py asr``) and scripts parse every line.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace
from typing import Any, Literal, TextIO

from nlp_service.settings import Settings
from pipelines.asr import AsrOptions, ModelUnavailable, Transcriber, Transcript
from pipelines.audio import AudioError

__all__ = ["add_parser", "run", "build_options", "transcript_to_json"]

logger = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> None:  # argparse's _SubParsersAction is private
    """Register the ``transcribe`` sub-command."""
    parser = subparsers.add_parser(
        "transcribe",
        help="transcribe call recordings, one JSON line per file",
        description=(
            "Transcribe recordings (WAV, MP3, M4A/AAC, AMR, OGG/Opus, FLAC, …) to Simplified Chinese. "
            "Defaults come from NLP_ASR__* settings; the flags override them."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="audio files")
    parser.add_argument(
        "--model", help="base (offline default), a faster-whisper name, or a CTranslate2 directory"
    )
    parser.add_argument("--beam-size", type=int, help="beam width (1 = greedy)")
    parser.add_argument(
        "--layout", choices=("auto", "mono", "stereo"), default="auto", help="channel handling"
    )
    parser.add_argument(
        "--rep-channel", choices=("left", "right"), help="stereo: the channel that carries the rep"
    )
    parser.add_argument("--word-timestamps", action="store_true", help="include per-word timing")
    parser.add_argument(
        "--hotwords",
        help="comma-separated terms to bias decoding towards (off by default: measured to raise CER)",
    )


def build_options(settings: Settings, args: argparse.Namespace | None = None) -> AsrOptions:
    """AsrOptions from ``settings.asr``, with command-line overrides."""
    from nlp_service.stages import asr_options

    options: AsrOptions = asr_options(settings)
    if args is None:
        return options
    overrides: dict[str, Any] = {}
    if getattr(args, "model", None):
        overrides["model"] = args.model
    if getattr(args, "beam_size", None):
        overrides["beam_size"] = args.beam_size
    if getattr(args, "rep_channel", None):
        overrides["rep_channel"] = args.rep_channel
    if getattr(args, "word_timestamps", False):
        overrides["word_timestamps"] = True
    if getattr(args, "hotwords", None):
        overrides["hotwords"] = tuple(t.strip() for t in args.hotwords.split(",") if t.strip())
    return replace(options, **overrides)


def transcript_to_json(path: str, transcript: Transcript, elapsed_s: float) -> dict[str, Any]:
    segments = []
    for segment in transcript.segments:
        item: dict[str, Any] = {
            "start_s": segment.start_s,
            "end_s": segment.end_s,
            "text": segment.text,
            "speaker": segment.speaker,
        }
        if segment.words:
            item["words"] = [
                {"start_s": w.start_s, "end_s": w.end_s, "text": w.text, "probability": w.probability}
                for w in segment.words
            ]
        segments.append(item)
    return {
        "path": path,
        "text": transcript.text,
        "segments": segments,
        "language": transcript.language,
        "duration_s": transcript.duration_s,
        "layout": transcript.layout,
        "model": transcript.model_id,
        "rtf": round(elapsed_s / transcript.duration_s, 4) if transcript.duration_s > 0 else None,
    }


def run(args: argparse.Namespace, settings: Settings, *, out: TextIO | None = None) -> int:
    """Transcribe ``args.files``; returns the exit code (1 if any file failed)."""
    out = out or sys.stdout
    transcriber = Transcriber(build_options(settings, args))
    layout: Literal["auto", "mono", "stereo"] = getattr(args, "layout", None) or "auto"
    failed = False
    for path in args.files:
        started = time.perf_counter()
        try:
            transcript = transcriber.transcribe(path, layout=layout)
            line = transcript_to_json(path, transcript, time.perf_counter() - started)
        except AudioError as exc:
            line = _error(path, exc.code, exc.detail)
        except FileNotFoundError:
            line = _error(path, "file-not-found", "No such file; check the path.")
        except IsADirectoryError:
            line = _error(path, "unreadable-file", "This is a directory; pass audio files.")
        except PermissionError:
            line = _error(path, "unreadable-file", "Permission denied; check the file's permissions.")
        except ModelUnavailable as exc:
            line = _error(path, exc.code, exc.detail)
        except Exception as exc:  # never a traceback on stdout; the detail stays generic
            logger.debug("transcription of %s failed", path, exc_info=True)
            line = _error(path, "internal-error", f"Transcription failed ({type(exc).__name__}).")
        failed = failed or "error" in line
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.flush()
    return 1 if failed else 0


def _error(path: str, code: str, detail: str) -> dict[str, Any]:
    return {"path": path, "error": {"code": code, "detail": detail}}
