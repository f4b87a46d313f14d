"""Application service: enrich, store once, raise alerts — shared by the HTTP API and the jobs."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from nlp_service.enrichment import InteractionInput
from nlp_service.errors import NlpServiceError, from_ingest
from nlp_service.interactions import to_input
from nlp_service.logging_config import interaction_id_var
from nlp_service.model_registry import ModelRegistry
from nlp_service.record import to_record_json
from nlp_service.schemas import InteractionIn
from nlp_service.settings import Settings
from nlp_service.store import Store, content_digest
from pipelines.conversation import Conversation
from pipelines.ingest import IngestError

__all__ = ["InteractionService", "InsertHook"]

logger = logging.getLogger(__name__)

# Called inside the insert transaction with (session, seq, input, result): alerts and outbox rows
# are written atomically with the interaction.
InsertHook = Callable[[Session, int, InteractionInput, dict[str, Any]], None]


def _storable(content: str | bytes) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(content).decode()


class InteractionService:
    def __init__(self, settings: Settings, store: Store, registry: ModelRegistry) -> None:
        self.settings = settings
        self.store = store
        self.registry = registry
        self.insert_hooks: list[InsertHook] = []  # set up once at start (alerts); per-call hooks go to submit
        self.redact_pii = settings.security.redact_pii
        self.after_commit: list[Callable[[dict[str, Any]], None]] = []

    def enrich_input(self, item: InteractionInput, conversation: Conversation | None = None) -> dict[str, Any]:
        try:
            enrichment = self.registry.pipeline.get().enrich(item, conversation=conversation)
        except IngestError as exc:
            raise from_ingest(exc) from None
        return to_record_json(enrichment)

    def submit(self, model: InteractionIn, *, tenant: str = "default", raw: str | bytes | None = None,
               conversation: Conversation | None = None, on_insert: InsertHook | None = None,
               result_extra: dict[str, Any] | None = None) -> tuple[dict[str, Any], bool]:
        """Enrich and store one interaction; idempotent on ``(tenant, id)``.

        Returns:
            ``(result, created)``: ``created`` is False when the id was already stored with the
            same content (the stored result is returned unchanged).

        Raises:
            NlpServiceError: ``conflict`` when the id exists with different content; parse errors.
        """
        item = to_input(model, tz_name=self.settings.timezone, raw=raw, tenant=tenant)
        token = interaction_id_var.set(item.id)
        try:
            return self.submit_input(item, conversation=conversation, on_insert=on_insert, result_extra=result_extra)
        finally:
            interaction_id_var.reset(token)

    def submit_input(self, item: InteractionInput, *, conversation: Conversation | None = None,
                     on_insert: InsertHook | None = None, result_extra: dict[str, Any] | None = None
                     ) -> tuple[dict[str, Any], bool]:
        digest = content_digest(item.content, [item.channel, item.format, item.customer_id,
                                               item.occurred_at.isoformat(), item.participants, item.speaker])
        # Optimistic: a replayed id is rare, so enrich first and let the insert find the stored row
        # (one database round trip per new interaction instead of two).
        result = self.enrich_input(item, conversation)
        if result_extra:
            result.update(result_extra)
        content = _storable(item.content)
        if self.redact_pii:
            from nlp_service.redact import redact_result, redact_text

            content = redact_text(content)
            result = redact_result(result)

        hooks = [*self.insert_hooks, *([on_insert] if on_insert else [])]

        def run_hooks(session: Session, seq: int) -> None:
            for hook in hooks:
                hook(session, seq, item, result)

        stored = self.store.put_interaction(
            item.tenant, ident=item.id, customer_id=item.customer_id, channel=item.channel, fmt=item.format,
            occurred_at=item.occurred_at, content=content, digest=digest, team=item.team, region=item.region,
            result=result, on_insert=run_hooks)
        if not stored.created:
            return self._replay(stored.result, stored.digest, digest, item.id), False
        for callback in self.after_commit:
            callback(stored.result)
        # DEBUG: the access log already has one INFO line per request; a second one per post
        # cost ~4% of a worker's CPU at 200 posts/s (formatting plus the handler lock).
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("stored interaction signals=%d turns=%d", len(result["record"]["risk_signals"]),
                         len(result["conversation"]["turns"]))
        return stored.result, True

    @staticmethod
    def _replay(result: dict[str, Any], stored_digest: str, digest: str, ident: str) -> dict[str, Any]:
        if stored_digest != digest:
            raise NlpServiceError(
                "conflict",
                f"Interaction {ident!r} was already stored with different content. Ids are idempotency keys: "
                "post a changed interaction under a new id.")
        return result
