"""Latency of ``Summarizer.summarize`` on a 20-turn WeChat chat and on a single message.

Budget (issue 4): the summary may take at most 40 ms p50 of the 150 ms enrichment of a 20-turn
chat, on one core, with the embedded defaults (extractive backend, no embedder).

    python benchmarks/summarize_latency.py [--runs 200] [--cpu 0] [--out benchmarks/results/x.json]

Prints one JSON object (p50/p95/min in ms per case, device, model id, git sha).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.conversation import Turn  # noqa: E402
from pipelines.summarize import SummarizeOptions, Summarizer  # noqa: E402

# Made-up chat (FMCG distribution), 20 turns, emoji and image markers included as in real exports.
_CHAT = (
    ("customer", "小周 在吗"),
    ("rep", "在的陈老板，您说"),
    ("customer", "你们这个月的饮料进价又涨了 一箱涨了三块"),
    ("customer", "下面的小超市都说卖不动 不想压货"),
    ("rep", "理解，这次是糖和包材都涨了，厂家全国统一调的"),
    ("customer", "隔壁那家给的价比你们低 还送陈列"),
    ("customer", "你们能不能给点返利？"),
    ("rep", "我这边最多给到两个点，再多要找我们经理批"),
    ("customer", "两个点太少了[捂脸]"),
    ("rep", "我下午去找经理申请一下，争取三个点"),
    ("customer", "还有上周那批货有几箱外箱压坏了"),
    ("rep", "不好意思😅 您拍个照片发我，我给您换"),
    ("customer", "[图片]"),
    ("rep", "收到，明天送货的时候一起给您换掉"),
    ("customer", "年前备货就这两周了 返利的事尽快给我答复"),
    ("rep", "好的，明天中午之前一定给您回复"),
    ("customer", "另外春节期间你们送货吗"),
    ("rep", "腊月二十八之前都正常送，初六开始恢复"),
    ("customer", "行 那就等你消息"),
    ("rep", "谢谢陈老板支持🙏"),
)
_MESSAGE = (("customer", "你们这个价格比别家贵了不少，预算批不下来，下个月再说吧"),)


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: str
    n_turns: int
    runs: int
    p50_ms: float
    p95_ms: float
    min_ms: float


@dataclass(frozen=True, slots=True)
class BenchmarkResult:
    benchmark: str
    device: str
    model_id: str
    git_sha: str | None
    cpu_affinity: list[int] | None
    cases: list[CaseResult]


def _turns(lines: tuple[tuple[str, str], ...]) -> tuple[Turn, ...]:
    return tuple(Turn(index=i, speaker=s, text=t) for i, (s, t) in enumerate(lines))  # type: ignore[arg-type]


def _measure(summarizer: Summarizer, case: str, turns: tuple[Turn, ...], runs: int) -> CaseResult:
    for _ in range(5):  # warm-up (regex caches, numpy)
        summarizer.summarize(turns)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        summarizer.summarize(turns)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return CaseResult(
        case=case,
        n_turns=len(turns),
        runs=runs,
        p50_ms=round(statistics.median(times), 3),
        p95_ms=round(times[min(len(times) - 1, int(0.95 * len(times)))], 3),
        min_ms=round(times[0], 3),
    )


def _git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--cpu", type=int, help="pin to this core (Linux)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    affinity = None
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
        affinity = sorted(os.sched_getaffinity(0))

    summarizer = Summarizer(SummarizeOptions())
    result = BenchmarkResult(
        benchmark="summarize_latency",
        device=f"cpu ({platform.processor() or platform.machine()})",
        model_id=summarizer.model_id,
        git_sha=_git_sha(),
        cpu_affinity=affinity,
        cases=[
            _measure(summarizer, "wechat_20_turns", _turns(_CHAT), args.runs),
            _measure(summarizer, "single_message", _turns(_MESSAGE), args.runs),
        ],
    )
    text = json.dumps(asdict(result), ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
