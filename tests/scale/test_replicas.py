"""Scale-out: two service replicas and a Celery worker on real Redis (and PostgreSQL when
NLP_TEST_STORE_URL points at one; otherwise a shared SQLite file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import AUDIO, ROOT, ServiceProcess, wait_until

REDIS_URL = os.environ.get("NLP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


pytestmark = [pytest.mark.redis, pytest.mark.slow,
              pytest.mark.skipif(not _redis_up(), reason=f"no Redis at {REDIS_URL}")]


@pytest.fixture
def cluster_env(service_env: dict[str, str]) -> dict[str, str]:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    return {**service_env, "NLP_JOBS__BACKEND": "celery", "NLP_JOBS__REDIS_URL": REDIS_URL,
            "NLP_JOBS__LEASE_S": "10"}


def _sse_collect(url: str, out: list[dict[str, Any]], ready: threading.Event, stop: threading.Event) -> None:
    with httpx.stream("GET", url + "/v1/alerts/stream", timeout=httpx.Timeout(30, read=60)) as resp:
        for line in resp.iter_lines():
            ready.set()
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
            if stop.is_set() or out:
                return


def test_alert_raised_on_replica_b_reaches_an_sse_client_on_replica_a(cluster_env: dict[str, str]) -> None:
    a = ServiceProcess(cluster_env).start()
    b = ServiceProcess(cluster_env).start()
    try:
        got: list[dict[str, Any]] = []
        ready, stop = threading.Event(), threading.Event()
        t = threading.Thread(target=_sse_collect, args=(a.url, got, ready, stop), daemon=True)
        t.start()
        assert ready.wait(20)
        body = {"id": "r-1", "channel": "wechat", "format": "wechat_text", "customer_id": "C-R",
                "occurred_at": "2026-03-02T10:00:00+08:00",
                "content": "2026-03-02 10:00:00 李总(客户): 预算冻结了，今年不采购了"}
        assert httpx.post(b.url + "/v1/interactions", json=body, timeout=30).status_code == 201
        wait_until(lambda: got, 20)
        stop.set()
        assert got[0]["customer_id"] == "C-R" and got[0]["interaction_id"] == "r-1"
    finally:
        a.stop()
        b.stop()


@pytest.mark.model
def test_call_job_runs_on_a_celery_worker(cluster_env: dict[str, str], tmp_path: Path) -> None:
    api = ServiceProcess(cluster_env).start()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("NLP_")}, **cluster_env}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "nlp_service.celery_app", "worker", "-c", "1", "--pool", "solo",
         "-Q", "nlp-service", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        audio = (AUDIO / "paddle_zh.wav").read_bytes()
        resp = httpx.post(api.url + "/v1/calls", files={"file": ("c.wav", audio)},
                          data={"customer_id": "C-W", "id": "celery-call"}, timeout=30)
        assert resp.status_code == 202, resp.text
        job_url = api.url + resp.json()["status_url"]
        job = wait_until(lambda: (j := httpx.get(job_url).json())["status"] in ("done", "failed") and j, 180, 0.3)
        assert job["status"] == "done", job
        text = "".join(t["text"] for t in job["result"]["conversation"]["turns"])
        assert "跑步" in text and "健康" in text
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
        api.stop()
