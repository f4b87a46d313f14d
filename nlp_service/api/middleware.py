"""ASGI middleware: request ids and body size limits (pure ASGI, so streaming stays cheap)."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException

from nlp_service.errors import problem_body
from nlp_service.logging_config import request_id_var

__all__ = ["RequestContextMiddleware", "BodyLimitMiddleware"]

logger = logging.getLogger("nlp_service.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RequestContextMiddleware:
    """Assigns a request id (or keeps a sane ``X-Request-ID``), echoes it, logs one line per request."""

    def __init__(self, app: ASGIApp, *, on_request: Callable[[str, str, int, float], None] | None = None) -> None:
        self.app = app
        self.on_request = on_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = None
        for k, v in scope.get("headers", ()):
            if k == b"x-request-id":
                candidate = v.decode("latin-1")
                if 0 < len(candidate) <= 64 and all(c.isalnum() or c in "-_." for c in candidate):
                    rid = candidate
                break
        rid = rid or f"{random.getrandbits(64):016x}"  # cheaper than uuid4 (a syscall per request)
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            ms = (time.perf_counter() - started) * 1000
            route = scope.get("route")
            path_template = getattr(route, "path", None) or "unmatched"
            if self.on_request is not None:
                self.on_request(scope["method"], path_template, status_holder["status"], ms)
            logger.info("%s %s %d %.1fms", scope["method"], path_template, status_holder["status"], ms,
                        extra={"method": scope["method"], "path": path_template, "status": status_holder["status"],
                               "duration_ms": round(ms, 2)})
            request_id_var.reset(token)


class BodyLimitMiddleware:
    """Rejects bodies over the limit with 413 problem+json, by header or while streaming."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int,
                 upload_paths: tuple[str, ...] = ("/v1/interactions/upload", "/v1/calls")) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes
        self.upload_paths = upload_paths

    async def _reject(self, send: Send, limit: int) -> None:
        rid = request_id_var.get()
        body = problem_body("payload-too-large", 413,
                            f"The request body is larger than {limit} bytes. Split the batch, compress audio, "
                            "or raise NLP_MAX_REQUEST_BYTES / NLP_MAX_UPLOAD_BYTES.",
                            instance=f"urn:request:{rid}" if rid else None, request_id=rid)
        data = json.dumps(body, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/problem+json"),
                                (b"content-length", str(len(data)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": data})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.max_upload_bytes if scope["path"] in self.upload_paths else self.max_bytes
        for k, v in scope.get("headers", ()):
            if k == b"content-length":
                try:
                    if int(v) > limit:
                        await self._reject(send, limit)
                        return
                except ValueError:
                    pass
        received = 0
        started = {"value": False}
        too_large = {"value": False}

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large["value"] = True
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started["value"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started["value"]:
                await self._reject(send, limit)
        except Exception:
            if too_large["value"] and not started["value"]:
                await self._reject(send, limit)
                return
            raise


class _TooLarge(StarletteHTTPException):
    """Raised from ``receive``; an HTTPException so FastAPI's body parsing re-raises it unchanged."""

    def __init__(self, limit: int = 0) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes. Split the batch, compress "
                              "audio, or raise NLP_MAX_REQUEST_BYTES / NLP_MAX_UPLOAD_BYTES.")
