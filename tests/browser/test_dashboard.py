"""The 「今日必看」 page in a real headless browser: load it, post a risky message, see the alert arrive.

Runs Debian's chromium through Playwright against a real service process on loopback. CI installs
chromium in ``.ci/services.sh``; without it the test skips. Never ``playwright install``: that
downloads a browser.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.helpers import ServiceProcess

CHROMIUM = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else (shutil.which("chromium") or "")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOT = Path(os.environ.get("NLP_TEST_SCREENSHOT", "/tmp/nlp-dashboard.png"))
CST = ZoneInfo("Asia/Shanghai")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM, reason="/usr/bin/chromium is missing (CI installs Debian's chromium in "
                                            ".ci/services.sh; here: apt-get install -y chromium)"),
]


def _chat(lines: list[tuple[str, str, str]], day: datetime) -> str:
    return "\n".join(f"{day:%Y-%m-%d} {hhmmss} {who}: {text}" for hhmmss, who, text in lines)


def _post(url: str, ident: str, customer_id: str, occurred: datetime, lines: list[tuple[str, str, str]],
          region: str = "华东区") -> dict[str, Any]:
    resp = httpx.post(url + "/v1/interactions", timeout=60, json={
        "id": ident, "channel": "wechat", "format": "wechat_text", "customer_id": customer_id,
        "occurred_at": occurred.isoformat(timespec="seconds"), "content": _chat(lines, occurred),
        "team": region + "一组", "region": region})
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    data = tmp_path_factory.mktemp("dashboard")
    svc = ServiceProcess({"NLP_DATA_DIR": str(data), "NLP_LOG_LEVEL": "WARNING"}).start()
    try:
        yield svc
    finally:
        svc.stop()


def test_dashboard_shows_a_posted_risk_live(service: ServiceProcess) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    now = datetime.now(CST).replace(microsecond=0)
    # Some history so every section has something to show: a follow-up promised for a day now past,
    # and customers asking about invoices and lead times.
    past = now - timedelta(days=3)
    _post(service.url, "hist-1", "C-HIST-1", past, [
        ("09:00:00", "王经理(客户)", "你们能开增值税专票吗？"),
        ("09:05:00", "小李(销售)", "可以的，我明天下班前把报价单发您"),
    ])
    _post(service.url, "hist-2", "C-HIST-2", past + timedelta(hours=2), [
        ("11:00:00", "赵总(客户)", "发票是专票还是普票？交货期大概多久"),
    ], region="华南区")

    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400}, locale="zh-CN")
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
            page.goto(service.url + "/dashboard", wait_until="domcontentloaded")
            page.wait_for_selector('body[data-stream="open"]', timeout=15_000)
            page.wait_for_selector("#questions li.question", timeout=15_000)
            assert page.locator("#summary .stat").count() == 3
            assert "报价超期客户" in page.inner_text("#red-alerts")  # the promise of three days ago

            # A risky customer message through the API, after the page is up: it must arrive live.
            _post(service.url, "risky-1", "C-LIVE-9", now, [
                ("10:00:05", "李总(客户)", "今年预算冻结了，合同先不签了"),
            ])
            card = page.wait_for_selector('#live-feed .alert-card[data-customer-id="C-LIVE-9"]', timeout=10_000)
            assert card is not None
            text = card.inner_text()
            assert "C-LIVE-9" in text and ("预算冻结" in text or "不签" in text)
            assert "这意味着" in text and "建议" in text
            # The counts refresh from the stream too: the customer shows up in the red cards and the call list.
            page.wait_for_function(
                "document.querySelector('#red-alerts').innerText.includes('C-LIVE-9')"
                " && document.querySelector('#call-today').innerText.includes('C-LIVE-9')", timeout=10_000)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert errors == []
