"""Real-time factor of call transcription, and our overhead over bare faster-whisper (issue 5).

Builds a recording of several minutes by concatenating the real Mandarin clips in
``shared/eval/audio`` with short pauses, then for each beam size × CPU thread count transcribes it

* with our :class:`pipelines.asr.Transcriber` (decode, VAD, model, t2s, guard, punctuation), and
* with bare ``faster_whisper.WhisperModel.transcribe`` (generator materialised, same options),

on the same file in the same run, alternating which goes first so that load from other processes
hits both alike. RTF = processing seconds / audio seconds; the minimum over ``--repeats`` is
reported (other processes only ever add time). CPU-time RTF and our own non-model time (from
``Transcript.timings_ms``) are reported too: on a shared machine they are steadier than wall time. Prints one JSON object; ``--out`` also writes it to a file
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
    cpu_rtf: float
    bare_cpu_rtf: float
    cpu_overhead_pct: float
    own_s: float
    own_overhead_pct: float
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
    load_average_start: tuple[float, ...]
    load_average_end: tuple[float, ...]
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


def _load_average() -> tuple[float, ...]:
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except OSError:
        return ()


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

    load_start = _load_average()
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
                ours: list[tuple[float, float, float]] = []  # wall, cpu, own (non-model) seconds
                bare: list[tuple[float, float]] = []
                text = bare_text = ""
                for repeat in range(args.repeats):
                    # Alternate which goes first so a change in background load hits both alike.
                    for who in ("bare", "ours") if repeat % 2 == 0 else ("ours", "bare"):
                        wall0, cpu0 = time.perf_counter(), time.process_time()
                        if who == "bare":
                            bare_segments, _info = bare_models[n].transcribe(
                                str(wav),
                                language="zh",
                                beam_size=beam,
                                vad_filter=vad,
                                vad_parameters=dict(VAD_PARAMETERS) if vad else None,
                            )
                            bare_text = "".join(s.text for s in bare_segments)  # materialise
                            bare.append((time.perf_counter() - wall0, time.process_time() - cpu0))
                        else:
                            transcript = transcriber.transcribe(wav)
                            text = transcript.text
                            wall = time.perf_counter() - wall0
                            own = (
                                transcript.timings_ms["total_ms"] - transcript.timings_ms["transcribe_ms"]
                            ) / 1000
                            ours.append((wall, time.process_time() - cpu0, own))
                best, best_bare = min(ours), min(bare)
                run = RunResult(
                    beam_size=beam,
                    cpu_threads=n,
                    pipeline_s=round(best[0], 3),
                    bare_s=round(best_bare[0], 3),
                    rtf=round(best[0] / audio_s, 4),
                    bare_rtf=round(best_bare[0] / audio_s, 4),
                    overhead_pct=round(100.0 * (best[0] - best_bare[0]) / best_bare[0], 2),
                    cpu_rtf=round(min(o[1] for o in ours) / audio_s, 4),
                    bare_cpu_rtf=round(min(b[1] for b in bare) / audio_s, 4),
                    cpu_overhead_pct=round(
                        100.0 * (min(o[1] for o in ours) - min(b[1] for b in bare)) / min(b[1] for b in bare),
                        2,
                    ),
                    own_s=round(min(o[2] for o in ours), 3),
                    own_overhead_pct=round(100.0 * min(o[2] for o in ours) / best_bare[0], 2),
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
        load_average_start=load_start,
        load_average_end=_load_average(),
        results=tuple(results),
        note=(
            "rtf = wall seconds / audio seconds (min over repeats); cpu_rtf uses this process's CPU time, "
            "which background load inflates less; own_s = our pipeline's non-model time (decode, layout, "
            "postprocess) from its timings_ms; overhead_pct compares wall times and is as noisy as the "
            "machine. cer is against the concatenated references, two of which are model transcripts "
            "(a check for dropped stretches, not accuracy)."
        ),
    )
    text_out = json.dumps(asdict(result), ensure_ascii=False, indent=2)
    print(text_out)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text_out + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
