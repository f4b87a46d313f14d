"""One error tree for the whole service, rendered as RFC 9457 ``application/problem+json``.

Every failure a client can cause has a stable ``code`` and a ``detail`` that says what to do::

    NlpServiceError (code, status, detail)
    ├── InvalidInput              422  invalid-input, invalid-timestamp, unknown-channel
    ├── MalformedJson             400  malformed-json
    ├── UnparseableContent        422  unparseable-content (names the line / MIME part)
    ├── EmptyContent              422  empty-content
    ├── UnsupportedFormat         422  unsupported-format
    ├── UnsupportedCharset        415  unsupported-charset
    ├── UnsupportedMediaType      415  unsupported-media-type
    ├── PayloadTooLarge           413  payload-too-large
    ├── AudioProblem              4xx  empty-audio (422), undecodable-audio (415), audio-too-long (413), no-speech (422)
    ├── NotFound                  404  not-found
    ├── Conflict                  409  conflict (same id, different content)
    ├── Unauthorized              401  unauthorized
    ├── InvalidRules              422  invalid-rules
    ├── UnsafeUrl                 422  unsafe-url
    ├── ModelUnavailable          503  model-unavailable (with Retry-After)
    └── InternalError             500  internal-error (generic detail; the log has the traceback)

Only ``nlp_service.api`` turns these into HTTP responses; the CLI prints the same
``{"code", "detail"}`` objects. Parser errors from ``pipelines`` are mapped by ``from_ingest``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Literal

from pipelines.ingest.errors import IngestError

__all__ = [
    "ErrorCode",
    "ERROR_STATUS",
    "NlpServiceError",
    "from_ingest",
    "problem_body",
]

ErrorCode = Literal[
    "invalid-input",
    "invalid-timestamp",
    "unknown-channel",
    "malformed-json",
    "unparseable-content",
    "empty-content",
    "unsupported-format",
    "unsupported-charset",
    "unsupported-media-type",
    "payload-too-large",
    "empty-audio",
    "undecodable-audio",
    "audio-too-long",
    "no-speech",
    "not-found",
    "method-not-allowed",
    "conflict",
    "unauthorized",
    "forbidden",
    "invalid-rules",
    "unsafe-url",
    "model-unavailable",
    "internal-error",
]

ERROR_STATUS: dict[str, int] = {
    "invalid-input": 422,
    "invalid-timestamp": 422,
    "unknown-channel": 422,
    "malformed-json": 400,
    "unparseable-content": 422,
    "empty-content": 422,
    "unsupported-format": 422,
    "unsupported-charset": 415,
    "unsupported-media-type": 415,
    "payload-too-large": 413,
    "empty-audio": 422,
    "undecodable-audio": 415,
    "audio-too-long": 413,
    "no-speech": 422,
    "not-found": 404,
    "method-not-allowed": 405,
    "conflict": 409,
    "unauthorized": 401,
    "forbidden": 403,
    "invalid-rules": 422,
    "unsafe-url": 422,
    "model-unavailable": 503,
    "internal-error": 500,
}


class NlpServiceError(Exception):
    """Base of every error a request can end in."""

    def __init__(self, code: ErrorCode, detail: str, *, status: int | None = None,
                 extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.code: ErrorCode = code
        self.detail = detail
        self.status = status or ERROR_STATUS[code]
        self.extra = extra or {}
        self.headers = headers or {}

    def to_dict(self) -> dict[str, Any]:
        """The CLI's error object: ``{"code", "detail", ...extra}``."""
        return {"code": self.code, "detail": self.detail, **self.extra}


def from_ingest(exc: IngestError) -> NlpServiceError:
    extra: dict[str, Any] = {}
    if exc.line is not None:
        extra["line"] = exc.line
    if exc.part:
        extra["part"] = exc.part
    return NlpServiceError(exc.code, exc.detail, extra=extra)


def problem_body(code: str, status: int, detail: str, *, instance: str | None = None,
                 request_id: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """An RFC 9457 problem object with our ``code`` and ``request_id`` extensions."""
    body: dict[str, Any] = {
        "type": f"urn:nlp-service:problem:{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return body
