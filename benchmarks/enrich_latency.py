"""Whole-enrichment latency on one core: a 20-turn WeChat chat and a single message.

Targets (issue 4): 20-turn chat p50 < 150 ms; single message (the real-time alert path) p50 < 5 ms.
Also times, in the same run, a bare jieba pass over the same text as a baseline, so the ratio
holds on a noisy machine. Prints JSON.

    .venv/bin/python benchmarks/enrich_latency.py [--runs 200] [--cpu 0]
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
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CST = timezone(timedelta(hours=8))

# A made-up chat in the style of the service's users (not from any evaluation set).
_LINES = (
    ("周磊", "客户", "小陈，你们上次发的那版方案我们内部看过了"),
    ("陈晨", "销售", "周总好，大家看完有什么意见吗？"),
    ("周磊", "客户", "功能上没什么问题，就是价格比我们预期高了不少"),
    ("周磊", "客户", "另外一家给的报价便宜差不多一成，服务也包三年"),
    ("陈晨", "销售", "理解，我们的实施团队在本地，响应会快很多"),
    ("陈晨", "销售", "价格这块我去跟公司申请一下，看能不能再让一点"),
    ("周磊", "客户", "行，还有一个问题，你们能不能对接我们现在的ERP？"),
    ("陈晨", "销售", "可以的，我们做过好几家同样系统的对接"),
    ("周磊", "客户", "对接要额外收费吗"),
    ("陈晨", "销售", "标准接口不收费，定制开发要另外评估"),
    ("周磊", "客户", "那你把对接方案和报价一起发我"),
    ("陈晨", "销售", "好的，我周四下午三点前把对接方案和新报价发到您邮箱"),
    ("周磊", "客户", "今年预算是批了的，但是要走三家比价"),
    ("陈晨", "销售", "明白，需要我们提供哪些资质材料？"),
    ("周磊", "客户", "营业执照、案例清单，还有售后服务承诺书"),
    ("陈晨", "销售", "没问题，我让技术部王工一起准备案例"),
    ("周磊", "客户", "老板下周出差，决定可能要等他回来"),
    ("陈晨", "销售", "好的，那我们下周五前再约一次线上演示？"),
    ("周磊", "客户", "可以，到时候采购部的同事也一起参加"),
    ("陈晨", "销售", "收到，谢谢周总[抱拳]"),
)


def _chat() -> str:
    start = datetime(2026, 3, 2, 9, 30, tzinfo=CST)
    return "\n".join(f"{(start + timedelta(minutes=2 * i)):%Y-%m-%d %H:%M:%S} {name}({role}): {text}"
                     for i, (name, role, text) in enumerate(_LINES))


def _percentiles(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {"p50_ms": round(statistics.median(s), 3), "p95_ms": round(s[int(0.95 * (len(s) - 1))], 3),
            "min_ms": round(s[0], 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--cpu", type=int, default=0, help="pin to this core (single-core figure)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})

    from nlp_service.enrichment import InteractionInput
    from nlp_service.record import to_record_json
    from nlp_service.settings import Settings
    from nlp_service.stages import build_pipeline

    pipeline = build_pipeline(Settings(_env_file=None))
    chat = _chat()
    chat_item = InteractionInput(id="bench-chat", channel="wechat", format="wechat_text", customer_id="C",
                                 occurred_at=datetime(2026, 3, 2, 9, 30, tzinfo=CST), content=chat)
    msg_item = InteractionInput(id="bench-msg", channel="wechat", format="wechat_text", customer_id="C",
                                occurred_at=datetime(2026, 3, 2, 9, 30, tzinfo=CST),
                                content="2026-03-02 09:30:00 周磊(客户): 今年预算冻结了，项目先停一停")
    for _ in range(10):  # warm-up: jieba dictionary, regex caches
        to_record_json(pipeline.enrich(chat_item))
        to_record_json(pipeline.enrich(msg_item))

    def timed(fn, runs: int) -> list[float]:  # noqa: ANN001
        out = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t) * 1000)
        return out

    chat_ms = timed(lambda: to_record_json(pipeline.enrich(chat_item)), args.runs)
    msg_ms = timed(lambda: to_record_json(pipeline.enrich(msg_item)), args.runs * 5)
    seg = pipeline.segmenter
    texts = [t for _, _, t in _LINES]
    jieba_ms = timed(lambda: [seg.cut(t) for t in texts], args.runs)
    stages = pipeline.enrich(chat_item).timings_ms
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).parent, check=False).stdout.strip()
    except OSError:
        sha = ""
    result = {
        "benchmark": "enrich_latency", "git_sha": sha, "python": platform.python_version(),
        "cpu_pinned": args.cpu, "runs": args.runs,
        "chat_20_turns": {**_percentiles(chat_ms), "target_p50_ms": 150,
                          "meets_target": statistics.median(chat_ms) < 150},
        "single_message": {**_percentiles(msg_ms), "target_p50_ms": 5,
                           "meets_target": statistics.median(msg_ms) < 5},
        "baseline_jieba_cut_20_turns": _percentiles(jieba_ms),
        "chat_over_jieba_ratio": round(statistics.median(chat_ms) / statistics.median(jieba_ms), 2),
        "chat_stage_ms": stages,
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
