"""Load test: many concurrent CRM clients posting single WeChat messages through the HTTP API.

Issue 7, part 4. Starts ``nlp-service serve --workers 2`` itself on a free 127.0.0.1 port (a
fresh ``NLP_DATA_DIR`` in a temp dir, SQLite store, ``NLP_JOBS__WORKERS=0``), warms it up, then
drives ``POST /v1/interactions`` for ``--duration`` seconds with unique single-message
interactions (short made-up WeChat messages, about a third of them risky) and reports:

* requests, measured duration, throughput (req/s) overall and the slowest sampling interval;
* latency p50/p90/p99/max in ms;
* errors: non-2xx responses plus client-side exceptions (timeouts, resets);
* the server's RSS (uvicorn supervisor + worker processes, summed from ``/proc/<pid>/status``)
  sampled every ``--sample-s``: the first sample after warm-up vs the last and the max.

Two load shapes:

* ``--rate R`` (default 220): **open loop**. Requests are *scheduled* at R per second whatever
  the service does, and latency counts from the scheduled time, so a stall shows up as latency
  instead of quietly lowering the offered load (no coordinated omission).
* ``--rate 0``: **closed loop**. ``--concurrency`` clients each post back-to-back; the
  throughput is the service's capacity at that concurrency.

The load generator shares the machine's cores with the server, so it is a minimal HTTP/1.1
keep-alive client written on asyncio streams (uvloop when installed): one connection per
client, no per-request allocation beyond the body, about 40 µs of CPU per request. Its own CPU
time is reported next to the server's.

    python benchmarks/load_test.py [--duration 180] [--rate 220 | --rate 0 --concurrency 16]
                                   [--warmup 10] [--out FILE]

Prints one JSON object (and writes it to ``--out``, default ``benchmarks/results/``). Everything
stays on 127.0.0.1; the run stops by itself after ``--duration`` or ``--max-requests`` and kills
the server at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: Issue 7 targets on the 2-core build machine.
TARGET_RPS = 200.0
TARGET_P99_MS = 250.0
TARGET_RSS_GROWTH_PCT = 10.0

CST = timezone(timedelta(hours=8))
_HOST = "127.0.0.1"
_CLK_TCK = os.sysconf("SC_CLK_TCK")

# Made-up short customer/rep messages as they arrive one at a time from a WeChat CRM sync.
# fmt: off
_NEUTRAL = (
    "好的，收到", "明白了，我跟同事说一下", "方案我看了，整体可以", "下午三点方便通个电话吗",
    "麻烦把最新的产品手册发我一份", "发票抬头用我们集团的名字", "样品昨天到了，谢谢", "周四上午我们在工厂，可以过来",
    "参数表里的功率是额定值吗", "这个型号有现货吗", "我们这边先内部测一下", "合同模板我转给法务了",
    "安装需要我们准备什么条件", "你们售后在本地有网点吗", "上次的培训大家反馈挺好", "请问交期大概多久",
    "辛苦了，周末愉快", "我把技术负责人的微信推给你", "会议纪要我整理好了发群里", "我们下周一开会过一下",
)
_RISKY = (
    "你们报价比上次高了不少，太贵了", "今年预算已经用完了，明年再说吧", "领导说这个项目先暂停",
    "另一家给的价格便宜百分之二十", "采购那边要求必须走公开招标", "我们在考虑换一家供应商",
    "上次的质量问题还没解决，老板很不满意", "付款周期要延长到九十天", "这个事情我做不了主，要等总部批",
    "合同到期我们可能就不续了", "说实话对你们的交付有点担心", "财务说这个季度没钱了",
    "你们的竞品已经来演示过了，效果不错", "价格再降不下来就没法谈了",
)
_NAMES = ("李总", "王经理", "张工", "陈主任", "刘采购", "赵总监", "周经理", "吴科长")
# fmt: on


@dataclass(frozen=True, slots=True)
class Latency:
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    mean_ms: float


@dataclass(frozen=True, slots=True)
class Memory:
    """Server RSS in MiB (supervisor + workers), sampled every ``sample_s``."""

    processes: int
    first_mib: float
    last_mib: float
    max_mib: float
    growth_pct: float
    samples_mib: list[float]


@dataclass(frozen=True, slots=True)
class Targets:
    rps: float
    p99_ms: float
    rss_growth_pct: float
    met: bool


@dataclass(frozen=True, slots=True)
class LoadResult:
    benchmark: str
    mode: str
    offered_rps: float | None
    concurrency: int
    server_workers: int
    requests: int
    ok: int
    errors: int
    error_kinds: dict[str, int]
    duration_s: float
    throughput_rps: float
    min_interval_rps: float
    latency: Latency
    memory: Memory
    server_cpu_s: float
    server_cpu_s_by_process: list[float]
    server_cpu_ms_per_request: float
    client_cpu_s: float
    warmup_requests: int
    risky_share: float
    targets: Targets
    device: str
    cpu_count: int | None
    python: str
    git_sha: str | None
    started_at: str
    log_level: str
    #: 1-minute load average before and after: other work on the machine shares its cores.
    load_average: tuple[float, float]
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- server process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((_HOST, 0))
        return int(s.getsockname()[1])


def _descendants(pid: int) -> list[int]:
    """``pid`` and all its descendants, from ``/proc/<pid>/task/*/children``."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return out


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


class Server:
    """``nlp-service serve --workers N`` on loopback with a throw-away data dir."""

    def __init__(self, workers: int, port: int | None = None, log_level: str = "INFO") -> None:
        self.workers = workers
        self.log_level = log_level
        self.port = port or _free_port()
        self.data_dir = Path(tempfile.mkdtemp(prefix="nlp-load-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr_path = self.data_dir / "server.stderr"

    def start(self, timeout_s: float = 180.0) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NLP_")}
        env.update({"NLP_DATA_DIR": str(self.data_dir / "data"), "NLP_JOBS__WORKERS": "0",
                    "NLP_LOG_LEVEL": self.log_level, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
        self._stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nlp_service.cli", "serve", "--host", _HOST, "--port", str(self.port),
             "--workers", str(self.workers)],
            env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=self._stderr, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log()[-3000:]}")
            if self._healthy():
                return
            time.sleep(0.25)
        raise TimeoutError(f"server not healthy within {timeout_s} s")

    def _healthy(self) -> bool:
        try:
            with socket.create_connection((_HOST, self.port), timeout=1.0) as s:
                s.sendall(f"GET /healthz HTTP/1.1\r\nHost: {_HOST}\r\nConnection: close\r\n\r\n".encode())
                return s.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def pids(self) -> list[int]:
        return _descendants(self.proc.pid) if self.proc is not None else []

    def rss_kib(self) -> tuple[int, int]:
        pids = self.pids()
        return sum(_rss_kib(p) for p in pids), len(pids)

    def cpu_s(self) -> dict[int, float]:
        """CPU seconds of each server process so far."""
        return {p: _cpu_s(p) for p in self.pids()}

    def log(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # The whole process group: the supervisor and its spawned workers.
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if getattr(self, "_stderr", None) is not None:
            self._stderr.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


# ---------------------------------------------------------------------------- load generator


class _Bodies:
    """Unique single-message ``wechat_text`` interactions (ids never repeat within a run)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.run = uuid.uuid4().hex[:8]
        self.n = 0
        self.risky = 0
        self.start = datetime(2026, 3, 2, 9, 0, tzinfo=CST)

    def next(self) -> bytes:
        self.n += 1
        rng = self.rng
        risky = rng.random() < 0.35
        self.risky += risky
        text = rng.choice(_RISKY if risky else _NEUTRAL)
        at = self.start + timedelta(seconds=self.n * 7 % 3_000_000)
        name = rng.choice(_NAMES)
        role = "客户" if risky or rng.random() < 0.6 else "销售"
        body = {
            "id": f"lt-{self.run}-{self.n}",
            "channel": "wechat",
            "format": "wechat_text",
            "customer_id": f"cust-{rng.randrange(2000)}",
            "occurred_at": at.isoformat(),
            "content": f"{at:%Y-%m-%d %H:%M:%S} {name}({role}): {text}",
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class _Conn:
    """One HTTP/1.1 keep-alive connection (just enough of the protocol for uvicorn's replies)."""

    def __init__(self, port: int, requests_per_connection: int, seed: int) -> None:
        self.port = port
        self.mean_requests = requests_per_connection
        self.rng = random.Random(seed)
        self.requests_per_connection = requests_per_connection
        self.used = 0
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.head = (f"POST /v1/interactions HTTP/1.1\r\nHost: {_HOST}:{port}\r\n"
                     "Content-Type: application/json\r\n").encode()

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(_HOST, self.port)
            self.used = 0
            # A random budget, so that reconnections spread over time instead of coming in waves
            # (a worker's accept loop takes every pending connection at once).
            m = self.mean_requests
            self.requests_per_connection = self.rng.randint(max(1, m // 2), max(1, m + m // 2))
        assert self.reader is not None
        self.used += 1
        # Like many CRM clients coming and going, a connection is closed after some requests: the
        # workers share one listening socket, and connections that all arrive in the first
        # millisecond and live for the whole run would stay wherever they were first accepted.
        last = b"Connection: close\r\n" if self.used >= self.requests_per_connection else b""
        self.writer.write(self.head + last + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        chunked = close = False
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            k = k.strip().lower()
            if k == b"content-length":
                length = int(v)
            elif k == b"transfer-encoding" and b"chunked" in v.lower():
                chunked = True
            elif k == b"connection" and b"close" in v.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            data = b"".join(p[:-2] for p in parts)
        else:
            data = await self.reader.readexactly(length)
        if close or self.used >= self.requests_per_connection:
            await self.close()
        return status, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None


@dataclass
class _Tally:
    latencies_ms: list[float] = field(default_factory=list)
    done_at: list[float] = field(default_factory=list)
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    recording: bool = False

    def add(self, ok: bool, kind: str, started: float, done: float) -> None:
        if not self.recording:
            return
        self.latencies_ms.append((done - started) * 1000)
        self.done_at.append(done)
        if ok:
            self.ok += 1
        else:
            self.errors[kind] = self.errors.get(kind, 0) + 1


async def _one(conn: _Conn, body: bytes, timeout_s: float) -> tuple[bool, str]:
    try:
        status, data = await asyncio.wait_for(conn.post(body), timeout_s)
    except TimeoutError:
        await conn.close()
        return False, "timeout"
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        await conn.close()
        return False, type(exc).__name__
    if not 200 <= status < 300:
        return False, f"http_{status}"
    if b'"interaction_id"' not in data:
        return False, "bad_body"
    return True, "ok"


async def _drive(port: int, *, rate: float, concurrency: int, warmup_s: float, duration_s: float,
                 max_requests: int, timeout_s: float, sample_s: float, server: Server, per_connection: int,
                 seed: int) -> tuple[_Tally, list[tuple[float, int, int]], float, float, float, int, _Bodies]:
    loop = asyncio.get_running_loop()
    bodies = _Bodies(seed)
    tally = _Tally()
    conns = [_Conn(port, per_connection, seed * 1000 + i) for i in range(concurrency)]
    t0 = loop.time()
    measure_from = t0 + warmup_s
    stop_at = measure_from + duration_s
    sent = 0
    warmup_requests = 0
    samples: list[tuple[float, int, int]] = []
    queue: asyncio.Queue[float] = asyncio.Queue()

    def may_send() -> bool:
        return loop.time() < stop_at and sent < max_requests

    async def closed_client(conn: _Conn) -> None:
        nonlocal sent
        while may_send():
            sent += 1
            started = loop.time()
            ok, kind = await _one(conn, bodies.next(), timeout_s)
            tally.add(ok, kind, started, loop.time())

    async def open_client(conn: _Conn) -> None:
        while True:
            scheduled = await queue.get()
            if scheduled < 0:
                return
            ok, kind = await _one(conn, bodies.next(), timeout_s)
            # Latency from the *scheduled* time: queueing behind a slow service counts.
            tally.add(ok, kind, scheduled, loop.time())

    async def scheduler() -> None:
        nonlocal sent
        interval = 1.0 / rate
        i = 0
        while may_send():
            due = t0 + i * interval
            now = loop.time()
            if due > now:
                await asyncio.sleep(due - now)
                continue
            queue.put_nowait(due)
            sent += 1
            i += 1
        for _ in conns:
            queue.put_nowait(-1.0)

    async def sampler() -> None:
        nonlocal warmup_requests
        await asyncio.sleep(max(0.0, measure_from - loop.time()))
        warmup_requests = sent
        tally.recording = True
        while True:
            rss, nproc = server.rss_kib()
            samples.append((loop.time(), rss, nproc))
            if loop.time() >= stop_at or sent >= max_requests:
                return
            await asyncio.sleep(min(sample_s, max(0.05, stop_at - loop.time())))

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    sampler_task = asyncio.create_task(sampler())
    if rate > 0:
        clients = [asyncio.create_task(open_client(c)) for c in conns]
        await asyncio.gather(scheduler(), *clients)
    else:
        clients = [asyncio.create_task(closed_client(c)) for c in conns]
        await asyncio.gather(*clients)
    end = loop.time()
    await sampler_task
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    for c in conns:
        await c.close()
    client_cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    return tally, samples, measure_from, end, client_cpu, warmup_requests, bodies


def _pct(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return float("nan")
    k = min(len(sorted_ms) - 1, max(0, int(round(q * len(sorted_ms) + 0.5)) - 1))
    return round(sorted_ms[k], 2)


def _git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=ROOT)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def run(*, duration_s: float, rate: float, concurrency: int, warmup_s: float, workers: int, max_requests: int,
        timeout_s: float, sample_s: float, seed: int, per_connection: int = 100, log_level: str = "INFO"
        ) -> LoadResult:
    try:
        import uvloop  # the generator shares the cores with the server: keep it cheap
    except ImportError:  # pragma: no cover
        uvloop = None
    started_at = datetime.now().astimezone().isoformat(timespec="seconds")
    load_before = os.getloadavg()[0]
    server = Server(workers, log_level=log_level)
    server.start()
    try:
        cpu_before = server.cpu_s()

        async def main() -> Any:
            return await _drive(server.port, rate=rate, concurrency=concurrency, warmup_s=warmup_s,
                                duration_s=duration_s, max_requests=max_requests, timeout_s=timeout_s,
                                sample_s=sample_s, server=server, seed=seed, per_connection=per_connection)

        if uvloop is not None:
            tally, samples, measure_from, end, client_cpu, warm_n, bodies = uvloop.run(main())
        else:
            tally, samples, measure_from, end, client_cpu, warm_n, bodies = asyncio.run(main())
        cpu_after = server.cpu_s()
        per_process = sorted((round(v - cpu_before.get(p, 0.0), 1) for p, v in cpu_after.items()), reverse=True)
        server_cpu = sum(per_process)
        if server.proc is not None and server.proc.poll() is not None:
            raise RuntimeError(f"server died during the run: {server.log()[-3000:]}")
        log_tail = server.log()
        load_after = os.getloadavg()[0]
    finally:
        server.stop()

    lat = sorted(tally.latencies_ms)
    n = len(lat)
    measured = max(1e-9, end - measure_from)
    # The slowest sampling interval shows whether the rate was *sustained*, not only averaged.
    interval_rps = []
    done = sorted(tally.done_at)
    edges = [t for t, _, _ in samples]
    import bisect

    for a, b in zip(edges, edges[1:], strict=False):
        if b - a >= sample_s * 0.5:
            interval_rps.append((bisect.bisect_left(done, b) - bisect.bisect_left(done, a)) / (b - a))
    rss = [r / 1024 for _, r, _ in samples]
    first, last = (rss[0], rss[-1]) if rss else (0.0, 0.0)
    errors = sum(tally.errors.values())
    throughput = n / measured
    p99 = _pct(lat, 0.99)
    growth = (last - first) / first * 100 if first else float("nan")
    notes = []
    if "Traceback" in log_tail:
        notes.append("server stderr has a traceback: " + log_tail[log_tail.rfind("Traceback"):][:1500])
    return LoadResult(
        benchmark="load_test",
        mode="open-loop" if rate > 0 else "closed-loop",
        offered_rps=rate if rate > 0 else None,
        concurrency=concurrency,
        server_workers=workers,
        requests=n,
        ok=tally.ok,
        errors=errors,
        error_kinds=dict(sorted(tally.errors.items())),
        duration_s=round(measured, 2),
        throughput_rps=round(throughput, 1),
        min_interval_rps=round(min(interval_rps), 1) if interval_rps else round(throughput, 1),
        latency=Latency(p50_ms=_pct(lat, 0.50), p90_ms=_pct(lat, 0.90), p99_ms=p99, p999_ms=_pct(lat, 0.999),
                        max_ms=round(lat[-1], 2) if lat else float("nan"),
                        mean_ms=round(sum(lat) / n, 2) if n else float("nan")),
        memory=Memory(processes=samples[-1][2] if samples else 0, first_mib=round(first, 1), last_mib=round(last, 1),
                      max_mib=round(max(rss), 1) if rss else 0.0, growth_pct=round(growth, 2),
                      samples_mib=[round(x, 1) for x in rss]),
        server_cpu_s=round(server_cpu, 1),
        server_cpu_s_by_process=per_process,
        server_cpu_ms_per_request=round(1000 * server_cpu / max(1, warm_n + n), 2),
        client_cpu_s=round(client_cpu, 1),
        warmup_requests=warm_n,
        risky_share=round(bodies.risky / max(1, bodies.n), 3),
        targets=Targets(rps=TARGET_RPS, p99_ms=TARGET_P99_MS, rss_growth_pct=TARGET_RSS_GROWTH_PCT,
                        met=bool(throughput >= TARGET_RPS and errors == 0 and p99 < TARGET_P99_MS
                                 and growth < TARGET_RSS_GROWTH_PCT)),
        device=platform.processor() or platform.machine(),
        cpu_count=os.cpu_count(),
        python=platform.python_version(),
        git_sha=_git_sha(),
        started_at=started_at,
        log_level=log_level,
        load_average=(round(load_before, 2), round(load_after, 2)),
        notes=notes,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=180.0, help="measured seconds (after warm-up)")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of load before measuring")
    parser.add_argument("--rate", type=float, default=220.0,
                        help="open loop: requests scheduled per second; 0 = closed loop (--concurrency clients)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections (clients)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--max-requests", type=int, default=2_000_000, help="hard bound on requests sent")
    parser.add_argument("--timeout-s", type=float, default=10.0, help="per-request client timeout")
    parser.add_argument("--sample-s", type=float, default=5.0, help="RSS sampling period")
    parser.add_argument("--per-connection", type=int, default=100,
                        help="requests per keep-alive connection before the client reconnects")
    parser.add_argument("--log-level", default="INFO",
                        help="the service's NLP_LOG_LEVEL (INFO, its default, logs every request)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="write the JSON here (default benchmarks/results/load_test-*.json)")
    args = parser.parse_args()
    if not (0 < args.duration <= 3600 and 0 <= args.warmup <= 600 and 1 <= args.concurrency <= 512
            and 0 <= args.rate <= 20000 and 1 <= args.workers <= 16):
        parser.error("out of bounds: duration (0, 3600], warmup [0, 600], concurrency [1, 512], "
                     "rate [0, 20000], workers [1, 16]")
    result = run(duration_s=args.duration, rate=args.rate, concurrency=args.concurrency, warmup_s=args.warmup,
                 workers=args.workers, max_requests=args.max_requests, timeout_s=args.timeout_s,
                 sample_s=args.sample_s, seed=args.seed, per_connection=args.per_connection,
                 log_level=args.log_level)
    text = json.dumps(asdict(result), ensure_ascii=False, indent=2)
    print(text)
    out = args.out or ROOT / "benchmarks" / "results" / f"load_test-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")
    print(f"written to {out}", file=sys.stderr)
    sys.exit(0 if result.targets.met else 1)


if __name__ == "__main__":
    main()
