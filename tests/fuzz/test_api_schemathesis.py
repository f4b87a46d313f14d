"""Fuzz the HTTP API from its own OpenAPI schema (schemathesis), in process (issue 7, part 4).

Every operation gets schema-conforming and schema-violating requests. The contract: no 5xx ever,
and every 4xx is ``application/problem+json`` carrying a ``code`` (RFC 9457 + our extension).
The live streams (SSE; the WebSocket is not in the schema) never end and are left out. Nothing
leaves the process: webhook/callback URL checks skip DNS and the webhook sender is not started.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

pytestmark = [
    pytest.mark.slow,
    # schemathesis' requests-based ASGI client may leave its in-memory streams to the GC.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

_STREAMS = r"^/v1/alerts/(stream|ws)$"


@pytest.fixture
def api_schema(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from nlp_service import main, urls
    from nlp_service.main import create_app
    from nlp_service.outbox import Deliverer
    from nlp_service.settings import JobSettings, Settings, StoreSettings

    def no_dns(url: str, *, allow_private: bool = False) -> None:
        # Scheme and host checks only: a fuzzed host name must not become a DNS query.
        urls.check_outbound_url(url, allow_private=True)

    monkeypatch.setattr(main, "check_outbound_url", no_dns)
    monkeypatch.setattr(Deliverer, "start", lambda self: None)  # no webhook is ever sent
    settings_ = Settings(_env_file=None, data_dir=tmp_path / "data", log_json=False,
                         store=StoreSettings(url=db_url), jobs=JobSettings(workers=0))
    app = create_app(settings_, configure_logs=False, preload=False)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # starts the app's lifespan
    # Load the text pipeline now: its first use takes seconds, which a slow machine can stretch
    # past a per-request timeout (a flaky "failure" of the first POST otherwise).
    app.state.models.pipeline.get()
    try:
        yield schema
    finally:
        # schemathesis keeps the app's lifespan running for the process; end it with the test.
        from schemathesis.python import asgi

        asgi.shutdown_lifespans()


def _check_problem(response: Any, label: str) -> None:
    status = response.status_code
    assert status < 500, f"{label}: {status} {response.text[:500]}"
    if 400 <= status < 500:
        ctype = response.headers.get("content-type", [""])  # schemathesis: header -> list of values
        ctype = ctype[0] if isinstance(ctype, list) else ctype
        assert ctype.startswith("application/problem+json"), f"{label}: {status} with {ctype!r}"
        body = json.loads(response.content)
        assert isinstance(body.get("code"), str) and body["code"], f"{label}: no code in {body}"
        assert body.get("status") == status, f"{label}: status {body.get('status')} in a {status} body"


# One property test per operation, driven here rather than by schemathesis' pytest plugin (its
# lazy fixture schema does not run on pytest 9). Examples are derandomized: CI sees the same
# requests every run. FUZZ_MAX_EXAMPLES=300 FUZZ_RANDOM=1 makes a longer, random hunt;
# FUZZ_ONLY=<regex> restricts it to matching operations ("POST /v1/interactions$").
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "60"))


def _property(operation: Any, mode: str, label: str) -> Any:
    from schemathesis import GenerationMode

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=not os.environ.get("FUZZ_RANDOM"), database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(GenerationMode(mode)))
    def check(case: Any) -> None:
        _check_problem(case.call(timeout=60), label)

    return check


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    for sub in getattr(exc, "exceptions", ()):  # hypothesis groups distinct and flaky failures
        text += "\n  - " + _describe(sub).replace("\n", "\n    ")
    return text


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_api_fuzz_no_server_errors_and_problem_json(api_schema: Any, mode: str) -> None:
    failures: list[str] = []
    operations = 0
    for result in api_schema.exclude(path_regex=_STREAMS).get_all_operations():
        operation = result.ok()
        if not re.search(os.environ.get("FUZZ_ONLY", ""), operation.label):
            continue
        operations += 1
        label = f"{operation.label} [{mode}]"
        started = time.perf_counter()
        try:
            _property(operation, mode, label)()
            print(f"{label}: ok in {time.perf_counter() - started:.1f} s")
        except Unsatisfiable:
            # Only string path parameters and no body: nothing can violate the schema.
            assert mode == "negative", label
            print(f"{label}: no schema-violating input exists")
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then fail once
            failures.append(f"{label}: {_describe(exc)}"[:4000])
    assert operations >= (1 if os.environ.get("FUZZ_ONLY") else 10)  # the schema was read, streams aside
    assert not failures, "\n\n".join(failures)
