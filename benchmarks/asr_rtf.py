"""Real-time factor of call transcription, and our overhead over bare faster-whisper (issue 5).

Builds a recording of several minutes by concatenating the real Mandarin clips in
``shared/eval/audio`` with short pauses, then for each beam size × CPU thread count transcribes it

* with our :class:`pipelines.asr.Transcriber` (decode, VAD, model, t2s, guard, punctuation), and
* with bare ``faster_whisper.WhisperModel.transcribe`` (generator materialised, same options),

on the same file in the same run, alternating the two so that load from other processes hits
both alike. RTF = processing seconds / audio seconds; the minimum over ``--repeats`` is reported
(other processes only ever add time). Prints one JSON object; ``--out`` also writes it to a file
(``benchmarks/results/`` is git-ignored).

    .venv/bin/python benchmarks/asr_rtf.py            # ~5 min of audio, beams 1/5 × threads 1/2
    .venv/bin/python benchmarks/asr_rtf.py --quick    # ~1 min of audio, beam 5, 1 thread
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import unicodedata
import wave
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.asr import VAD_PARAMETERS, AsrOptions, Transcriber, resolve_model_path  # noqa: E402
from pipelines.audio import SAMPLE_RATE_HZ, load_audio  # noqa: E402

DEFAULT_AUDIO_DIR = ROOT.parent / "shared" / "eval" / "audio"


@dataclass(frozen=True, slots=True)
class RunResult:
    beam_size: int
    cpu_threads: int
    pipeline_s: float
    bare_s: float
    rtf: float
    bare_rtf: float
    overhead_pct: float
    cer: float
    bare_cer: float


@dataclass(frozen=True, slots=True)
class BenchmarkResult:
    benchmark: str
    device: str
    model: str
    compute_type: str
    git_sha: str
    machine: str
    cpu_count: int
    audio_s: float
    clips: int
    repeats: int
    vad: bool
    model_load_s: float
    results: tuple[RunResult, ...]
    note: str


def build_recording(audio_dir: Path, target_s: float, gap_s: float, out: Path) -> tuple[float, str, int]:
    """Concatenate the clips (in name order, repeated) until ``target_s``; returns (seconds, reference, clips)."""
    refs: dict[str, str] = {}
    tsv = audio_dir / "transcripts.tsv"
    if tsv.is_file():
        for line in tsv.read_text(encoding="utf-8").splitlines()[1:]:
            name, _seconds, _kind, text = line.split("\t")
            refs[name] = text
    clips = sorted(audio_dir.glob("*.wav"))
    if not clips:
        raise SystemExit(f"no .wav clips in {audio_dir}")
    gap = np.zeros(int(gap_s * SAMPLE_RATE_HZ), dtype=np.float32)
    parts: list[np.ndarray] = []
    reference: list[str] = []
    total = 0
    used = 0
    while total < target_s * SAMPLE_RATE_HZ:
        for clip in clips:
            samples = load_audio(clip).mono()
            parts += [samples, gap]
            reference.append(refs.get(clip.name, ""))
            total += len(samples) + len(gap)
            used += 1
            if total >= target_s * SAMPLE_RATE_HZ:
                break
    audio = np.concatenate(parts)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE_HZ)
        w.writeframes(pcm.tobytes())
    return len(audio) / SAMPLE_RATE_HZ, "".join(reference), used


def cer(ref: str, hyp: str) -> float:
    """Character error rate after NFKC, lower-casing and dropping punctuation (as evaluate.py)."""

    def norm(s: str) -> str:
        s = unicodedata.normalize("NFKC", s).lower()
        return "".join(ch for ch in s if ch.isalnum())

    r, h = norm(ref), norm(hyp)
    if not r:
        return 0.0
    prev = list(range(len(h) + 1))
    for i, cr in enumerate(r, 1):
        cur = [i] + [0] * len(h)
        for j, ch in enumerate(h, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (cr != ch))
        prev = cur
    return prev[-1] / len(r)


def git_sha() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--audio-dir", type=Path, default=DEFAULT_AUDIO_DIR)
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the built recording")
    parser.add_argument("--gap-s", type=float, default=0.8, help="pause between clips")
    parser.add_argument("--beams", default="1,5")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--model", default="base")
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--cache-dir", type=Path, default=Path.home() / ".local" / "share" / "nlp-service" / "models"
    )
    parser.add_argument("--no-vad", action="store_true")
    parser.add_argument("--quick", action="store_true", help="about 1 minute of audio, beam 5, 1 thread")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.beams, args.threads = 60.0, "5", "1"
    beams = [int(b) for b in args.beams.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    vad = not args.no_vad

    from faster_whisper import WhisperModel

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "long.wav"
        audio_s, reference, clips = build_recording(args.audio_dir, args.seconds, args.gap_s, wav)
        print(f"built {audio_s:.1f} s from {clips} clips", file=sys.stderr)
        started = time.perf_counter()
        model_path = resolve_model_path(args.model, args.cache_dir)
        bare_models = {
            n: WhisperModel(model_path, device=args.device, compute_type=args.compute_type, cpu_threads=n)
            for n in threads
        }
        load_s = (time.perf_counter() - started) / len(threads)
        results: list[RunResult] = []
        for n in threads:
            for beam in beams:
                options = AsrOptions(
                    model=args.model,
                    device=args.device,
                    compute_type=args.compute_type,
                    beam_size=beam,
                    cpu_threads=n,
                    vad=vad,
                    cache_dir=args.cache_dir,
                )
                transcriber = Transcriber(options)
                transcriber.load()
                ours: list[float] = []
                bare: list[float] = []
                text = bare_text = ""
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    bare_segments, _info = bare_models[n].transcribe(
                        str(wav),
                        language="zh",
                        beam_size=beam,
                        vad_filter=vad,
                        vad_parameters=dict(VAD_PARAMETERS) if vad else None,
                    )
                    bare_text = "".join(s.text for s in bare_segments)  # materialise the generator
                    bare.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    text = transcriber.transcribe(wav).text
                    ours.append(time.perf_counter() - t0)
                run = RunResult(
                    beam_size=beam,
                    cpu_threads=n,
                    pipeline_s=round(min(ours), 3),
                    bare_s=round(min(bare), 3),
                    rtf=round(min(ours) / audio_s, 4),
                    bare_rtf=round(min(bare) / audio_s, 4),
                    overhead_pct=round(100.0 * (min(ours) - min(bare)) / min(bare), 2),
                    cer=round(cer(reference, text), 4),
                    bare_cer=round(cer(reference, bare_text), 4),  # bare output may be Traditional
                )
                print(json.dumps(asdict(run)), file=sys.stderr)
                results.append(run)

    result = BenchmarkResult(
        benchmark="asr_rtf",
        device=args.device,
        model=args.model,
        compute_type=args.compute_type,
        git_sha=git_sha(),
        machine=f"{platform.machine()} {platform.processor() or platform.system()}",
        cpu_count=os.cpu_count() or 0,
        audio_s=round(audio_s, 2),
        clips=clips,
        repeats=args.repeats,
        vad=vad,
        model_load_s=round(load_s, 2),
        results=tuple(results),
        note="cer is against the concatenated references, two of which are model transcripts (sanity check for dropped stretches, not accuracy)",
    )
    text_out = json.dumps(asdict(result), ensure_ascii=False, indent=2)
    print(text_out)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text_out + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
