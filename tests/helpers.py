"""Test helpers: a real service process on loopback, a local webhook receiver, audio fixtures."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
AUDIO = Path(__file__).resolve().parent / "data" / "audio"


def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run one SQL statement against a test database (SQLite file or PostgreSQL schema)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout_s: float = 60.0, interval_s: float = 0.05) -> Any:
    """Poll a condition (never a bare sleep); returns its first truthy value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise TimeoutError(f"condition not met within {timeout_s} s")


class ServiceProcess:
    """``nlp-service serve`` in a subprocess on 127.0.0.1 (real uvicorn, real SQLite file)."""

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("NLP_")}, **env}
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = b""

    def start(self, timeout_s: float = 90.0) -> ServiceProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nlp_service.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"service exited: {self.proc.stderr.read().decode(errors='replace')[-3000:]}")
            try:
                return httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout_s, 0.2)
        return self

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc is not None and self.proc.stderr is not None:
            self.log = self.proc.stderr.read()


@contextmanager
def running_service(env: dict[str, str]) -> Iterator[ServiceProcess]:
    svc = ServiceProcess(env).start()
    try:
        yield svc
    finally:
        svc.stop()


class Receiver:
    """A local HTTP receiver that records every POST (for webhooks and job callbacks)."""

    def __init__(self, fail_first: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()
        self.up = True
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    if not outer.up or outer.fail_first > 0:
                        outer.fail_first = max(0, outer.fail_first - 1)
                        self.send_response(503)
                        self.end_headers()
                        return
                    outer.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                           "body": body, "path": self.path, "at": time.monotonic()})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def json_bodies(self) -> list[Any]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return data, rate


def wav_bytes(samples: np.ndarray, rate: int = 16000, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype=np.int16).tobytes())
    return buf.getvalue()


def long_recording(repeats: int = 3, gap_s: float = 0.6) -> bytes:
    """A mono recording of several real clips in a row (long enough to kill a job mid-way)."""
    parts = []
    gap = np.zeros(int(16000 * gap_s), dtype=np.int16)
    for _ in range(repeats):
        for name in ("funasr_asr_example.wav", "paddle_zh.wav", "wenet_aishell-BAC009S0724W0121.wav",
                     "fireredasr_BAC009S0764W0121.wav"):
            data, _rate = read_wav(AUDIO / name)
            parts += [data, gap]
    return wav_bytes(np.concatenate(parts))
