"""problem+json rendering: one handler for the error tree, and overrides for framework errors."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from nlp_service.errors import ERROR_STATUS, NlpServiceError, problem_body
from nlp_service.logging_config import request_id_var

__all__ = ["ProblemResponse", "problem_response", "problem_responses", "install_problem_handlers",
           "validation_code"]

logger = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        import json

        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def problem_response(request: Request | None, code: str, status: int, detail: str, *,
                     extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> ProblemResponse:
    rid = request_id_var.get()
    instance = f"urn:request:{rid}" if rid else None
    return ProblemResponse(problem_body(code, status, detail, instance=instance, request_id=rid, extra=extra),
                           status_code=status, headers=headers)


def problem_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting problem+json errors of a route."""
    return {code: {"content": {"application/problem+json": {}}, "description": desc}
            for code, desc in descriptions.items()}


_FIELD_CODES = {"channel": "unknown-channel", "format": "unsupported-format", "occurred_at": "invalid-timestamp"}


def validation_code(errors: list[dict[str, Any]]) -> tuple[str, int]:
    """Pick a stable code for a pydantic/FastAPI validation failure."""
    for err in errors:
        if err.get("type") in ("json_invalid", "json_type") or "JSON" in str(err.get("msg", "")):
            return "malformed-json", 400
    for err in errors:
        loc = [str(x) for x in err.get("loc", ())]
        for key, code in _FIELD_CODES.items():
            if key in loc:
                return code, ERROR_STATUS[code]
    return "invalid-input", 422


def _validation_detail(errors: list[dict[str, Any]], code: str) -> str:
    if code == "malformed-json":
        err = errors[0]
        ctx = err.get("ctx") or {}
        where = f" ({ctx.get('error')})" if ctx.get("error") else ""
        return f"The request body is not valid JSON{where}. Send one JSON object with Content-Type: application/json."
    parts = []
    for err in errors[:6]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        msg = err.get("msg", "invalid")
        parts.append(f"{loc}: {msg}" if loc else msg)
    hint = {
        "unknown-channel": " Use channel wechat, email, call, meeting or other.",
        "unsupported-format": " Use format wechat_archive_jsonl, wechat_text, eml, call_transcript or plain.",
        "invalid-timestamp": " Send occurred_at as ISO 8601, e.g. 2026-01-12T09:41:40+08:00.",
    }.get(code, "")
    return "; ".join(parts) + "." + hint


def _jsonable_errors(errors: Any) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        e = {k: v for k, v in dict(err).items() if k in ("type", "loc", "msg")}
        e["loc"] = [x if isinstance(x, (str, int)) else str(x) for x in e.get("loc", ())]
        out.append(e)
    return out


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(NlpServiceError)
    async def _service_error(request: Request, exc: NlpServiceError) -> ProblemResponse:
        return problem_response(request, exc.code, exc.status, exc.detail, extra=exc.extra, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> ProblemResponse:
        errors = list(exc.errors())
        code, status = validation_code(errors)
        return problem_response(request, code, status, _validation_detail(errors, code),
                                extra={"errors": _jsonable_errors(errors)})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> ProblemResponse:
        code = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized", 403: "forbidden",
                413: "payload-too-large", 415: "unsupported-media-type"}.get(exc.status_code, "invalid-input")
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No route {request.method} {request.url.path}. See /docs for the API."
        status = exc.status_code if exc.status_code >= 400 else 400
        return problem_response(request, code, status, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
        logger.error("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, "internal-error", 500,
                                "An internal error occurred; nothing was stored. Quote the request_id when "
                                "reporting it.")
