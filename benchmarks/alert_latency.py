"""Alert latency: from ``POST /v1/interactions`` returning to the alert at an SSE client and a webhook.

Issue 6, part 5. Starts ``nlp-service serve`` on loopback (real uvicorn, real SQLite file),
registers a webhook pointing at a local receiver, connects an SSE client to
``/v1/alerts/stream``, then:

1. **latency**: posts ``--posts`` risky customer messages one at a time (a new customer each, so
   de-duplication never merges them) and, for each, takes the time from the POST response
   returning to (a) the SSE event arriving and (b) the webhook receiver getting the POST. The next
   message is posted once both arrived (or after ``--timeout-s``), so this is the latency of an
   otherwise idle service. The service publishes right after its commit, so an SSE event can
   arrive *before* the response does: such latencies are negative and are reported as they are.
2. **burst**: posts ``--burst`` messages from ``--concurrency`` threads as fast as the service
   takes them and reports the alerts per second that reached the SSE client and the receiver.

Targets (issue 6): SSE p99 < 100 ms, webhook p99 < 250 ms on the 2-core build machine.

    python benchmarks/alert_latency.py [--posts 300] [--burst 200] [--concurrency 4] [--out FILE]

Prints one JSON object. Everything stays on 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import Receiver, ServiceProcess, wait_until  # noqa: E402

CST = timezone(timedelta(hours=8))
# Made-up single customer messages, each with one clear risk; the customer id changes per post.
_MESSAGES = (
    "今年预算冻结了，这个项目先放一放",
    "你们的价格比别家贵太多了，我们接受不了",
    "我们领导决定换供应商了，下个月不续了",
    "这批货款要延期三个月才能付",
    "另外一家给的方案更便宜，我们倾向他们",
    "采购说必须走招标流程，你们先报名",
)
TARGET_SSE_P99_MS = 100.0
TARGET_WEBHOOK_P99_MS = 250.0


@dataclass(frozen=True, slots=True)
class Latency:
    received: int
    missing: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    min_ms: float | None
    before_response: int  # arrived before the POST response did (negative latency)


@dataclass(frozen=True, slots=True)
class Burst:
    posts: int
    concurrency: int
    duration_s: float
    posts_per_s: float
    sse_alerts: int
    sse_missing: int  # customers whose alert never reached the SSE client
    sse_alerts_per_s: float
    webhook_alerts: int
    webhook_missing: int
    webhook_alerts_per_s: float


@dataclass(frozen=True, slots=True)
class BenchmarkResult:
    benchmark: str
    device: str
    cpu_count: int | None
    git_sha: str | None
    store: str
    posts: int
    post_p50_ms: float
    post_p99_ms: float
    sse: Latency
    webhook: Latency
    burst: Burst | None
    targets: dict[str, float]
    passed: bool


class SseClient:
    """Reads ``/v1/alerts/stream`` in a thread; keeps the first arrival time per customer id."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.arrivals: dict[str, float] = {}
        self.count = 0
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="sse-client", daemon=True)

    def start(self) -> SseClient:
        self._thread.start()
        if not self.connected.wait(10):
            raise RuntimeError("SSE stream did not open")
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        try:
            self._read()
        except httpx.HTTPError:
            if not self._stop.is_set():  # the service closing the stream at the end is expected
                raise

    def _read(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(5.0, read=None)) as client, \
                client.stream("GET", self.url + "/v1/alerts/stream") as resp:
            resp.raise_for_status()
            data: list[str] = []
            for line in resp.iter_lines():
                if not self.connected.is_set():
                    self.connected.set()
                if self._stop.is_set():
                    return
                if line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    at = time.monotonic()
                    alert = json.loads("\n".join(data))
                    data = []
                    with self._lock:
                        self.count += 1
                        self.arrivals.setdefault(alert["customer_id"], at)


class WebhookArrivals:
    """First arrival per customer id at the receiver (the receiver stamps ``at`` on receipt).

    Parses only the requests that came in since the last call, so polling it stays cheap (the
    benchmark shares two cores with the service).
    """

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self._seen = 0
        self._arrivals: dict[str, float] = {}

    def snapshot(self) -> dict[str, float]:
        with self.receiver.lock:
            new = self.receiver.requests[self._seen:]
            self._seen += len(new)
        for r in new:
            self._arrivals.setdefault(json.loads(r["body"])["alert"]["customer_id"], r["at"])
        return self._arrivals

    @property
    def count(self) -> int:
        with self.receiver.lock:
            return len(self.receiver.requests)


def _body(customer_id: str, i: int) -> dict[str, Any]:
    now = datetime.now(CST).replace(microsecond=0)
    text = _MESSAGES[i % len(_MESSAGES)]
    return {"id": f"bench-{customer_id}", "channel": "wechat", "format": "wechat_text", "customer_id": customer_id,
            "occurred_at": now.isoformat(), "team": "华东一组", "region": "华东区",
            "content": f"{now:%Y-%m-%d %H:%M:%S} 李总(客户): {text}"}


def _latency(post_done: dict[str, float], arrivals: dict[str, float]) -> Latency:
    lat = sorted((arrivals[c] - t) * 1000 for c, t in post_done.items() if c in arrivals)
    if not lat:
        return Latency(0, len(post_done), None, None, None, None, 0)

    def q(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))], 2)

    return Latency(received=len(lat), missing=len(post_done) - len(lat), p50_ms=round(statistics.median(lat), 2),
                   p99_ms=q(0.99), max_ms=round(lat[-1], 2), min_ms=round(lat[0], 2),
                   before_response=sum(1 for x in lat if x < 0))


def _git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=ROOT)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def run(posts: int, burst: int, concurrency: int, timeout_s: float) -> BenchmarkResult:
    with tempfile.TemporaryDirectory(prefix="alert-bench-") as tmp, Receiver() as receiver:
        env = {"NLP_DATA_DIR": tmp, "NLP_ALERTS__ALLOW_PRIVATE_URLS": "true", "NLP_LOG_LEVEL": "WARNING"}
        svc = ServiceProcess(env).start()
        try:
            with httpx.Client(base_url=svc.url, timeout=30.0) as client:
                rules = {"max_per_customer_per_hour": 10000,
                         "webhooks": [{"id": "bench", "url": receiver.url, "format": "json"}],
                         "rules": [{"id": "all", "webhooks": ["bench"]}]}
                client.put("/v1/alert-rules", json=rules).raise_for_status()
                sse = SseClient(svc.url).start()
                hooks = WebhookArrivals(receiver)
                # Warm-up: first enrichment, first webhook connection, first SSE event.
                for i in range(5):
                    client.post("/v1/interactions", json=_body(f"W-{i}", i)).raise_for_status()
                wait_until(lambda: sse.count >= 5 and hooks.count >= 5, timeout_s * 5, 0.01)

                done: dict[str, float] = {}
                post_ms: list[float] = []
                for i in range(posts):
                    cid = f"L-{i}"
                    t0 = time.monotonic()
                    resp = client.post("/v1/interactions", json=_body(cid, i))
                    t1 = time.monotonic()
                    resp.raise_for_status()
                    post_ms.append((t1 - t0) * 1000)
                    done[cid] = t1
                    deadline = t1 + timeout_s
                    while time.monotonic() < deadline and not (cid in sse.arrivals and cid in hooks.snapshot()):
                        time.sleep(0.002)
                sse_lat = _latency(done, dict(sse.arrivals))
                hook_lat = _latency(done, dict(hooks.snapshot()))

                burst_result = None
                if burst > 0:
                    ids = [f"B-{i}" for i in range(burst)]
                    t0 = time.monotonic()
                    with ThreadPoolExecutor(concurrency) as pool, \
                            httpx.Client(base_url=svc.url, timeout=60.0) as bclient:
                        for r in pool.map(lambda j: bclient.post("/v1/interactions", json=_body(ids[j], j)),
                                          range(burst)):
                            r.raise_for_status()
                    t_posted = time.monotonic()
                    try:
                        wait_until(lambda: all(c in sse.arrivals for c in ids)
                                   and all(c in hooks.snapshot() for c in ids), timeout_s * 10, 0.01)
                    except TimeoutError:
                        pass
                    sse_arr = [sse.arrivals[c] for c in ids if c in sse.arrivals]
                    hook_snap = hooks.snapshot()
                    hook_arr = [hook_snap[c] for c in ids if c in hook_snap]
                    sse_span = (max(sse_arr) - t0) if sse_arr else 0.0
                    hook_span = (max(hook_arr) - t0) if hook_arr else 0.0
                    burst_result = Burst(
                        posts=burst, concurrency=concurrency, duration_s=round(t_posted - t0, 3),
                        posts_per_s=round(burst / (t_posted - t0), 1),
                        sse_alerts=len(sse_arr), sse_missing=burst - len(sse_arr),
                        sse_alerts_per_s=round(len(sse_arr) / sse_span, 1) if sse_span else 0.0,
                        webhook_alerts=len(hook_arr), webhook_missing=burst - len(hook_arr),
                        webhook_alerts_per_s=round(len(hook_arr) / hook_span, 1) if hook_span else 0.0)
                sse.stop()
        finally:
            svc.stop()
    post_ms.sort()
    passed = (sse_lat.p99_ms is not None and hook_lat.p99_ms is not None and sse_lat.missing == 0
              and hook_lat.missing == 0 and sse_lat.p99_ms < TARGET_SSE_P99_MS
              and hook_lat.p99_ms < TARGET_WEBHOOK_P99_MS)
    return BenchmarkResult(
        benchmark="alert_latency",
        device=f"cpu ({platform.processor() or platform.machine()})",
        cpu_count=os.cpu_count(),
        git_sha=_git_sha(),
        store="sqlite",
        posts=posts,
        post_p50_ms=round(statistics.median(post_ms), 2),
        post_p99_ms=round(post_ms[min(len(post_ms) - 1, int(0.99 * len(post_ms)))], 2),
        sse=sse_lat,
        webhook=hook_lat,
        burst=burst_result,
        targets={"sse_p99_ms": TARGET_SSE_P99_MS, "webhook_p99_ms": TARGET_WEBHOOK_P99_MS},
        passed=passed,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=300, help="sequential posts for the latency figures")
    parser.add_argument("--burst", type=int, default=200, help="posts in the throughput burst (0 = skip)")
    parser.add_argument("--concurrency", type=int, default=4, help="posting threads in the burst")
    parser.add_argument("--timeout-s", type=float, default=5.0, help="wait per alert before counting it missing")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    result = run(max(1, args.posts), max(0, args.burst), max(1, args.concurrency), args.timeout_s)
    text = json.dumps(asdict(result), ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
