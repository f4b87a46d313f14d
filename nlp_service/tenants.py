"""Tenants and their API keys.

A key is ``nlp_<key_id>_<secret>``: ``key_id`` finds the row, and only a SHA-256 of the whole
key is stored (keys are 192-bit random, so a fast hash is enough; nothing reversible is kept).
Lookups are cached for a few seconds so authentication costs no database round trip per request;
a revoked key stops working within that time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from nlp_service.store import Base, Store, UtcDateTime, utcnow

__all__ = ["ApiKeyRow", "ApiKeyAuth", "create_key", "revoke_key", "list_keys"]

_CACHE_S = 5.0


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[object] = mapped_column(UtcDateTime(), default=utcnow)
    revoked_at: Mapped[object | None] = mapped_column(UtcDateTime(), nullable=True)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(store: Store, tenant: str, label: str | None = None) -> str:
    """Create a key for ``tenant`` and return it (the only time it is shown)."""
    if not tenant or len(tenant) > 100:
        raise ValueError("tenant must be 1–100 characters")
    key_id = secrets.token_hex(6)
    key = f"nlp_{key_id}_{secrets.token_urlsafe(24)}"
    with store.session() as s:
        s.add(ApiKeyRow(key_id=key_id, tenant=tenant, key_hash=_hash(key), label=label, created_at=utcnow()))
    return key


def revoke_key(store: Store, key_id: str) -> bool:
    with store.session() as s:
        row = s.get(ApiKeyRow, key_id)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        return True


def list_keys(store: Store, tenant: str | None = None) -> list[dict[str, object]]:
    with store.session() as s:
        q = select(ApiKeyRow)
        if tenant:
            q = q.where(ApiKeyRow.tenant == tenant)
        return [{"key_id": r.key_id, "tenant": r.tenant, "label": r.label, "revoked": r.revoked_at is not None}
                for r in s.scalars(q)]


class ApiKeyAuth:
    """Maps a presented key to its tenant."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def tenant_for_key(self, key: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit and now - hit[0] < _CACHE_S:
            return hit[1]
        tenant = self._lookup(key)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (now, tenant)
        return tenant

    def _lookup(self, key: str) -> str | None:
        parts = key.split("_")
        if len(parts) < 3 or parts[0] != "nlp":
            return None
        with self.store.session() as s:
            row = s.get(ApiKeyRow, parts[1])
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(row.key_hash, _hash(key)):
                return None
            return row.tenant
