"""FastAPI dependencies: typed access to what the lifespan built."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from nlp_service.errors import NlpServiceError
from nlp_service.model_registry import ModelRegistry
from nlp_service.service import InteractionService
from nlp_service.settings import Settings
from nlp_service.store import Store

__all__ = ["SettingsDep", "StoreDep", "ServiceDep", "ModelsDep", "TenantDep", "get_tenant"]


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _store(request: Request) -> Store:
    return request.app.state.store


def _service(request: Request) -> InteractionService:
    return request.app.state.service


def _models(request: Request) -> ModelRegistry:
    return request.app.state.models


_BROWSER_STREAMS = frozenset({"/v1/alerts/stream", "/v1/alerts/ws"})


def get_tenant(request: Request) -> str:
    """The caller's tenant: from its API key when keys are required, else ``default``."""
    auth = request.app.state.auth
    if auth is None:
        return "default"
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
    if not key and request.url.path in _BROWSER_STREAMS:
        # EventSource and browser WebSockets cannot set headers: the streams alone take ?api_key=.
        key = request.query_params.get("api_key", "")
    if not key:
        raise NlpServiceError("unauthorized", "Send your tenant's API key as 'Authorization: Bearer <key>'.",
                              headers={"WWW-Authenticate": "Bearer"})
    tenant = auth.tenant_for_key(key)
    if tenant is None:
        raise NlpServiceError("unauthorized", "The API key is not valid (revoked or mistyped).",
                              headers={"WWW-Authenticate": "Bearer"})
    return tenant


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[Store, Depends(_store)]
ServiceDep = Annotated[InteractionService, Depends(_service)]
ModelsDep = Annotated[ModelRegistry, Depends(_models)]
TenantDep = Annotated[str, Depends(get_tenant)]
